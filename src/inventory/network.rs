//! Client networks of `access.users`: parsing `10.0.0.0/24`, `10.0.0.%`, a host or `%`,
//! and rendering each as a MySQL account host and a firewall source.

use std::net::Ipv4Addr;

/// A client network of an account, as written in `access.users[].networks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// One address (`10.0.0.5`, or a `/32`).
    Host(Ipv4Addr),
    /// A CIDR block (`10.0.0.0/24`), host bits zero, prefix 1-31.
    Cidr(Ipv4Addr, u8),
    /// A pattern whose trailing octets are `%` (`10.0.0.%`): the leading octets.
    Pattern(Vec<u8>, String),
    /// Every host: `%` (or `0.0.0.0/0`, `%.%.%.%`).
    Any,
}

impl Network {
    /// The host part of the MySQL account for this network: `10.0.0.5`,
    /// `10.0.0.0/255.255.255.0` (netmask notation: every MySQL and MariaDB version
    /// understands it, CIDR only MySQL 8.0.23+), `10.0.0.%` or `%`.
    pub fn mysql_host(&self) -> String {
        match self {
            Network::Host(a) => a.to_string(),
            Network::Cidr(a, p) => format!("{a}/{}", Ipv4Addr::from(mask(*p))),
            Network::Pattern(_, text) => text.clone(),
            Network::Any => "%".into(),
        }
    }

    /// The same network as an address and prefix length, for firewall rules
    /// (`None`: every host).
    pub fn cidr(&self) -> Option<(Ipv4Addr, u8)> {
        match self {
            Network::Host(a) => Some((*a, 32)),
            Network::Cidr(a, p) => Some((*a, *p)),
            Network::Pattern(octets, _) => {
                let mut b = [0u8; 4];
                b[..octets.len()].copy_from_slice(octets);
                Some((Ipv4Addr::from(b), 8 * octets.len() as u8))
            }
            Network::Any => None,
        }
    }

    /// The firewall's notation: `10.0.0.5`, `10.0.0.0/24`; `None` for every host.
    pub fn firewall_source(&self) -> Option<String> {
        self.cidr().map(|(a, p)| {
            if p == 32 {
                a.to_string()
            } else {
                format!("{a}/{p}")
            }
        })
    }

    /// Does this network contain `ip`?
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        match self.cidr() {
            None => true,
            Some((a, p)) => u32::from(ip) & mask(p) == u32::from(a),
        }
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

/// Parse one entry of `networks`. Host names are refused: the servers run with
/// `skip_name_resolve`, so an account for a name would never match.
pub fn parse_network(text: &str) -> Result<Network, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "{text:?} is not an IPv4 address (10.0.0.5), a CIDR block (10.0.0.0/24) or a \
             pattern with `%` for whole trailing octets (10.0.0.%); host names cannot work \
             (the servers run with skip_name_resolve)"
        )
    };
    if t == "%" {
        return Ok(Network::Any);
    }
    if let Some((addr, prefix)) = t.split_once('/') {
        let a: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let p: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("{text:?}: the prefix length must be 0-32"))?;
        if u32::from(a) & !mask(p) != 0 {
            let net = Ipv4Addr::from(u32::from(a) & mask(p));
            return Err(format!(
                "{text:?} has host bits set; the network is {net}/{p}"
            ));
        }
        return Ok(match p {
            0 => Network::Any,
            32 => Network::Host(a),
            _ => Network::Cidr(a, p),
        });
    }
    if t.contains('%') {
        let parts: Vec<&str> = t.split('.').collect();
        if parts.len() > 4 {
            return Err(bad());
        }
        let fixed: Vec<&str> = parts.iter().take_while(|p| **p != "%").copied().collect();
        if parts[fixed.len()..].iter().any(|p| *p != "%") {
            return Err(bad());
        }
        let octets: Option<Vec<u8>> = fixed.iter().map(|o| octet(o)).collect();
        let octets = octets.ok_or_else(bad)?;
        if octets.is_empty() {
            return Ok(Network::Any);
        }
        return Ok(Network::Pattern(octets, t.to_string()));
    }
    t.parse::<Ipv4Addr>().map(Network::Host).map_err(|_| bad())
}

fn octet(s: &str) -> Option<u8> {
    if s.is_empty() || s.len() > 3 || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        let n = parse_network("10.0.0.0/24").unwrap();
        assert_eq!(n.mysql_host(), "10.0.0.0/255.255.255.0");
        assert_eq!(n.firewall_source().as_deref(), Some("10.0.0.0/24"));
        assert!(n.contains("10.0.0.200".parse().unwrap()));
        assert!(!n.contains("10.0.1.1".parse().unwrap()));
        let n = parse_network("10.0.%").unwrap();
        assert_eq!(n.mysql_host(), "10.0.%");
        assert_eq!(n.firewall_source().as_deref(), Some("10.0.0.0/16"));
        assert_eq!(
            parse_network("10.1.2.%")
                .unwrap()
                .firewall_source()
                .as_deref(),
            Some("10.1.2.0/24")
        );
        assert_eq!(parse_network("10.0.%.%").unwrap().mysql_host(), "10.0.%.%");
        assert_eq!(
            parse_network("10.0.0.5").unwrap(),
            Network::Host("10.0.0.5".parse().unwrap())
        );
        assert_eq!(
            parse_network("10.0.0.5/32").unwrap().mysql_host(),
            "10.0.0.5"
        );
        assert_eq!(parse_network("%").unwrap(), Network::Any);
        assert_eq!(parse_network("0.0.0.0/0").unwrap(), Network::Any);
        assert_eq!(parse_network("%.%.%.%").unwrap(), Network::Any);
        assert!(parse_network("10.0.0.5/24")
            .unwrap_err()
            .contains("10.0.0.0/24"));
        assert!(parse_network("10.0.%.5").is_err());
        assert!(parse_network("10.0.0.1%").is_err());
        assert!(parse_network("app.example.com").is_err());
        assert!(parse_network("10.0.0.0/33").is_err());
    }
}
