//! The lab's network: one Linux bridge on the host, and per node a network namespace
//! joined to the bridge by a veth pair. Only private addresses of the lab's own /24 are
//! used, and the namespaces get no default route, so nodes reach nothing outside the lab.

use super::host;
use crate::os::addresses::parse_addresses;
use anyhow::{bail, Result};
use std::net::Ipv4Addr;

/// Names and addresses of one lab network, all derived from the subnet's third octet,
/// so two labs on different subnets never share a name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LabNetwork {
    /// Third octet N of 10.213.N.0/24.
    pub octet: u8,
}

/// Prefix length of the lab network.
pub const PREFIX: u8 = 24;

impl LabNetwork {
    /// Bridge interface on the host.
    pub fn bridge(&self) -> String {
        format!("mhactl{}br", self.octet)
    }
    /// The host's own address on the bridge (the control host, as the nodes see it).
    pub fn host_address(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.octet, 1)
    }
    /// Address of node `index` (0 → .11, 1 → .12).
    pub fn node_address(&self, index: usize) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.octet, 11 + index as u8)
    }
    /// The virtual IP keepalived will move between the nodes.
    pub fn vip(&self) -> Ipv4Addr {
        Ipv4Addr::new(10, 213, self.octet, 100)
    }
    /// Network namespace of a node.
    pub fn netns(&self, node: &str) -> String {
        format!("mhactl{}-{}", self.octet, node)
    }
    /// Host end of a node's veth pair (interface names are limited to 15 bytes).
    pub fn host_veth(&self, index: usize) -> String {
        format!("mha{}v{}", self.octet, index)
    }
    /// The subnet as text.
    pub fn subnet(&self) -> String {
        format!("10.213.{}.0/{PREFIX}", self.octet)
    }

    /// Refuse to start when the bridge or the subnet is already in use by something
    /// that is not this lab (another lab on the same subnet, or a real network).
    pub fn check_free(&self) -> Result<()> {
        if link_exists(&self.bridge()) {
            bail!(
                "the bridge {} already exists: another lab uses subnet {} \
                 (bring it down with `mhactl lab down --dir <its dir>`, or pick another with --subnet)",
                self.bridge(),
                self.subnet()
            );
        }
        let prefix = format!("10.213.{}.", self.octet);
        let addrs = host::run("ip", &["-4", "-o", "addr", "show"])?;
        if let Some(line) = addrs.lines().find(|l| l.contains(&prefix)) {
            let dev = line.split_whitespace().nth(1).unwrap_or("?");
            bail!(
                "addresses in {} are already in use on this host (interface {dev}); \
                 pick another subnet with --subnet",
                self.subnet()
            );
        }
        Ok(())
    }

    /// Create the bridge with the host's address on it.
    pub fn create_bridge(&self) -> Result<()> {
        let br = self.bridge();
        host::run("ip", &["link", "add", &br, "type", "bridge"])?;
        let addr = format!("{}/{PREFIX}", self.host_address());
        host::run("ip", &["addr", "add", &addr, "dev", &br])?;
        host::run("ip", &["link", "set", &br, "up"])?;
        Ok(())
    }

    /// Create a node's namespace and veth pair, with `eth0` inside at the node's address.
    pub fn create_node(&self, index: usize, node: &str) -> Result<()> {
        let ns = self.netns(node);
        let veth = self.host_veth(index);
        host::run("ip", &["netns", "add", &ns])?;
        host::run(
            "ip",
            &[
                "link", "add", &veth, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ],
        )?;
        host::run(
            "ip",
            &["link", "set", &veth, "master", &self.bridge(), "up"],
        )?;
        let addr = format!("{}/{PREFIX}", self.node_address(index));
        host::run("ip", &["-n", &ns, "addr", "add", &addr, "dev", "eth0"])?;
        host::run("ip", &["-n", &ns, "link", "set", "eth0", "up"])?;
        host::run("ip", &["-n", &ns, "link", "set", "lo", "up"])?;
        Ok(())
    }

    /// Remove a node's namespace (its veth pair goes with it). Missing pieces are fine.
    pub fn remove_node(&self, index: usize, node: &str) {
        let ns = self.netns(node);
        if netns_exists(&ns) {
            host::run_quiet("ip", &["netns", "del", &ns]);
        }
        let veth = self.host_veth(index);
        if link_exists(&veth) {
            host::run_quiet("ip", &["link", "del", &veth]);
        }
    }

    /// Remove the bridge if it exists.
    pub fn remove_bridge(&self) {
        if link_exists(&self.bridge()) {
            host::run_quiet("ip", &["link", "del", &self.bridge()]);
        }
    }

    /// Which IPv4 addresses the node's `eth0` holds (to find the VIP holder).
    pub fn node_addresses(&self, node: &str) -> Vec<Ipv4Addr> {
        let ns = self.netns(node);
        host::run(
            "ip",
            &["-n", &ns, "-4", "-o", "addr", "show", "dev", "eth0"],
        )
        .map(|out| parse_addresses(&out))
        .unwrap_or_default()
    }
}

/// Does a network interface with this name exist on the host?
pub fn link_exists(name: &str) -> bool {
    std::path::Path::new("/sys/class/net").join(name).exists()
}

/// Does a named network namespace exist?
pub fn netns_exists(name: &str) -> bool {
    std::path::Path::new("/run/netns").join(name).exists()
}

/// Process ids inside a named network namespace.
pub fn netns_pids(name: &str) -> Vec<u32> {
    host::run("ip", &["netns", "pids", name])
        .map(|out| {
            out.split_whitespace()
                .filter_map(|p| p.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fit_interface_limits() {
        let net = LabNetwork { octet: 255 };
        assert!(net.bridge().len() <= 15, "{}", net.bridge());
        assert!(net.host_veth(1).len() <= 15);
        assert_eq!(net.node_address(1), Ipv4Addr::new(10, 213, 255, 12));
    }
}
