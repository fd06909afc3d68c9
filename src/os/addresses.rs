//! Parsing what `ip` says about a node's addresses (the VIP check on a node, the lab's
//! status): a pure function, shared by facts and the lab.

use std::net::Ipv4Addr;

/// Parse `ip -4 -o addr show` lines into addresses.
pub fn parse_addresses(out: &str) -> Vec<Ipv4Addr> {
    out.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            words.find(|w| *w == "inet")?;
            words.next()?.split('/').next()?.parse().ok()
        })
        .collect()
}

/// Prints every IPv4 address of every interface, one `ip -o` line each.
pub const ALL_ADDRESSES_COMMAND: &str = "ip -4 -o addr show";

/// One address of an interface, as `ip -4 -o addr show` prints it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InterfaceAddress {
    /// The interface (`eth0`).
    pub interface: String,
    /// The address.
    pub address: Ipv4Addr,
    /// Its prefix length.
    pub prefix: u8,
}

/// Parse `ip -4 -o addr show` lines (every interface) into addresses with their
/// interface and prefix.
pub fn parse_interface_addresses(out: &str) -> Vec<InterfaceAddress> {
    out.lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            words.next()?;
            let interface = words.next()?.split('@').next()?.to_string();
            words.find(|w| *w == "inet")?;
            let (address, prefix) = words.next()?.split_once('/')?;
            Some(InterfaceAddress {
                interface,
                address: address.parse().ok()?,
                prefix: prefix.parse().ok()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_ip_addr_output() {
        let out = "2: eth0    inet 10.213.0.11/24 brd 10.213.0.255 scope global eth0\\       valid_lft forever preferred_lft forever\n\
                   2: eth0    inet 10.213.0.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever\n";
        assert_eq!(
            parse_addresses(out),
            vec![
                Ipv4Addr::new(10, 213, 0, 11),
                Ipv4Addr::new(10, 213, 0, 100)
            ]
        );
    }

    #[test]
    fn parses_every_interface_with_its_prefix() {
        let out = "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever\n\
                   2: eth0    inet 10.213.0.11/24 brd 10.213.0.255 scope global eth0\\ x\n\
                   3: ens33@if7    inet 10.213.0.100/24 scope global secondary ens33\n\
                   garbage\n";
        let found = parse_interface_addresses(out);
        assert_eq!(found.len(), 3);
        assert_eq!(found[1].interface, "eth0");
        assert_eq!(found[1].address, Ipv4Addr::new(10, 213, 0, 11));
        assert_eq!(found[2].interface, "ens33");
        assert_eq!(found[2].prefix, 24);
    }
}
