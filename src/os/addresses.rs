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
}
