//! The pair's shape: cluster name, the two nodes (names, addresses, SSH), and the VIP
//! in the nodes' subnet.

use super::{describe, Problems};
use crate::inventory::{Inventory, SshSettings};
use std::net::Ipv4Addr;

pub(super) fn check_cluster(inv: &Inventory, p: &mut Problems) {
    if let Some(problem) = cluster_name_problem(&inv.cluster) {
        p.add("cluster", problem);
    }
}

/// What is wrong with `c` as a cluster name (also `mhactl init`'s check of an answer).
pub fn cluster_name_problem(c: &str) -> Option<String> {
    if c.is_empty() {
        Some("must not be empty".into())
    } else if let Some(bad) = c
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || *ch == '_' || *ch == '-'))
    {
        Some(format!(
            "{c:?} contains {}; use only letters, digits, `_` and `-` \
             (it becomes part of keepalived's router id)",
            describe(bad)
        ))
    } else if c.len() > 64 {
        Some("is longer than 64 characters".into())
    } else {
        None
    }
}

/// What is wrong with `ifname` as `vip.interface` (also `mhactl init`'s check).
pub fn interface_name_problem(ifname: &str) -> Option<String> {
    if ifname.is_empty() {
        Some("must not be empty (e.g. `eth0`)".into())
    } else if ifname
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || "._-:".contains(c)))
    {
        // It is pasted into keepalived.conf, where `{`, `}`, `"`, `#` or a space would
        // end the value or the block.
        Some(format!(
            "{ifname:?} is not an interface name (letters, digits, `.`, `_`, `-` and `:` \
             only; no spaces or `/`)"
        ))
    } else if ifname.len() > 15 {
        Some(format!(
            "{ifname:?} is longer than 15 characters (Linux's limit)"
        ))
    } else {
        None
    }
}

/// Hostname-like: `[a-z0-9-]`, 1-63 characters, not starting or ending with `-`.
fn hostname_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("must not be empty".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "{name:?} contains {}; node names are like hostnames: lowercase letters, \
             digits and `-`",
            describe(bad)
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some(format!("{name:?} must not start or end with `-`"));
    }
    if name.len() > 63 {
        return Some(format!("{name:?} is longer than 63 characters"));
    }
    None
}

pub(super) fn check_nodes(inv: &Inventory, p: &mut Problems) {
    let n = inv.nodes.len();
    if n != 2 {
        p.add(
            "nodes",
            format!("exactly two nodes are required (a dual-master pair), found {n}"),
        );
    }
    for (i, node) in inv.nodes.iter().enumerate() {
        if let Some(msg) = hostname_problem(&node.name) {
            p.add(&format!("nodes[{i}].name"), msg);
        }
        let a = node.address;
        if a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_broadcast() {
            p.add(
                &format!("nodes[{i}].address"),
                format!("{a} is not a usable host address"),
            );
        }
        check_ssh(&format!("nodes[{i}].ssh"), &node.ssh, p);
        if node.server_id == Some(0) {
            p.add(
                &format!("nodes[{i}].server_id"),
                "must not be 0 (a server with server_id 0 refuses to replicate)",
            );
        }
        if let Some(pr) = node.priority {
            if !(1..=254).contains(&pr) {
                p.add(
                    &format!("nodes[{i}].priority"),
                    format!("{pr} is out of range; keepalived priorities are 1-254"),
                );
            }
        }
        for j in 0..i {
            let other = &inv.nodes[j];
            if other.name == node.name && !node.name.is_empty() {
                p.add(
                    &format!("nodes[{i}].name"),
                    format!("{:?} is also the name of nodes[{j}]", node.name),
                );
            }
            if other.address == node.address {
                p.add(
                    &format!("nodes[{i}].address"),
                    format!("{} is also the address of nodes[{j}]", node.address),
                );
            }
        }
    }
    if n == 2 {
        let (a, b) = (inv.server_id(0), inv.server_id(1));
        if a == b && a != 0 {
            p.add(
                "nodes[1].server_id",
                format!(
                    "{b} is also the server_id of nodes[0]{}; the two servers need distinct ids",
                    defaults_note([
                        (inv.nodes[0].server_id.is_none(), a.to_string()),
                        (inv.nodes[1].server_id.is_none(), b.to_string()),
                    ])
                ),
            );
        }
        let (a, b) = (inv.priority(0), inv.priority(1));
        if a == b {
            p.add(
                "nodes[1].priority",
                format!(
                    "{b} is also the priority of nodes[0]{}; distinct priorities decide \
                     which node holds the VIP",
                    defaults_note([
                        (inv.nodes[0].priority.is_none(), a.to_string()),
                        (inv.nodes[1].priority.is_none(), b.to_string()),
                    ])
                ),
            );
        }
    }
}

/// " (nodes[1] uses the default, 90)" for the nodes whose value is defaulted.
fn defaults_note(defaulted: [(bool, String); 2]) -> String {
    let notes: Vec<String> = defaulted
        .iter()
        .enumerate()
        .filter(|(_, (d, _))| *d)
        .map(|(i, (_, v))| format!("nodes[{i}] uses the default, {v}"))
        .collect();
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

pub(super) fn check_ssh(field: &str, s: &SshSettings, p: &mut Problems) {
    if let Some(u) = &s.user {
        if u.is_empty()
            || u.chars()
                .any(|c| c.is_whitespace() || c == '@' || c.is_control())
        {
            p.add(
                &format!("{field}.user"),
                format!("{u:?} is not a valid user name"),
            );
        }
    }
    if s.port == Some(0) {
        p.add(&format!("{field}.port"), "must not be 0");
    }
    if s.connect_timeout_s == Some(0) {
        p.add(&format!("{field}.connect_timeout_s"), "must be at least 1");
    }
    for (f, msg) in crate::inventory::limits::check_ssh_values(field, s) {
        p.add(&f, msg);
    }
    for (f, msg) in crate::inventory::ssh_access::check_ssh_access(field, s, field == "ssh") {
        p.add(&f, msg);
    }
    for (name, path) in [
        ("identity_file", &s.identity_file),
        ("known_hosts", &s.known_hosts),
    ] {
        if path.as_ref().is_some_and(|x| x.as_os_str().is_empty()) {
            p.add(&format!("{field}.{name}"), "must not be empty");
        }
    }
}

/// Netmask for `prefix` (1..=32); `None` outside that range.
fn netmask(prefix: u8) -> Option<u32> {
    if (1..=32).contains(&prefix) {
        Some(u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0))
    } else {
        None
    }
}

pub(super) fn check_vip(inv: &Inventory, p: &mut Problems) {
    let vip = &inv.vip;
    let a = vip.address;
    if a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_broadcast() {
        p.add("vip.address", format!("{a} is not a usable address"));
    }
    for (i, node) in inv.nodes.iter().enumerate() {
        if node.address == a {
            p.add(
                "vip.address",
                format!(
                    "{a} is also the address of nodes[{i}] ({}); the VIP must be a separate, \
                     unused address that moves between the nodes",
                    node.name
                ),
            );
        }
    }
    match netmask(vip.prefix) {
        None => p.add(
            "vip.prefix",
            format!("{} is out of range; use 1-32 (e.g. 24)", vip.prefix),
        ),
        Some(mask) => {
            let net = u32::from(a) & mask;
            let network = Ipv4Addr::from(net);
            let cidr = format!("{network}/{}", vip.prefix);
            if let Some(problem) = network_or_broadcast(a, vip.address, vip.prefix) {
                p.add("vip.address", problem);
            }
            for (i, node) in inv.nodes.iter().enumerate() {
                if u32::from(node.address) & mask != net {
                    p.add(
                        &format!("nodes[{i}].address"),
                        format!(
                            "{} is outside the VIP's subnet {cidr} (vip.address {a}, \
                             vip.prefix {}); keepalived adds the VIP to vip.interface, so \
                             both nodes must be on the VIP's subnet",
                            node.address, vip.prefix
                        ),
                    );
                }
            }
        }
    }
    if let Some(problem) = interface_name_problem(&vip.interface) {
        p.add("vip.interface", problem);
    }
    if vip.virtual_router_id == 0 {
        p.add(
            "vip.virtual_router_id",
            "0 is not valid; use 1-255, unique on the network segment",
        );
    }
    if vip.advert_int_s == Some(0) {
        p.add("vip.advert_int_s", "must be at least 1 second");
    }
    if let (Some(_), Some(_)) = (vip.advert_int_s, vip.detection) {
        p.add(
            "vip.advert_int_s",
            "set either vip.detection or the older vip.advert_int_s, not both: remove \
             advert_int_s (vip.detection derives the advertisement interval; `relaxed` \
             advertises every second)",
        );
    }
    if let Some(arb) = vip.arbiter {
        check_arbiter(inv, arb, p);
    }
}

/// `vip.arbiter` must be a third party: a usable unicast address that is neither the VIP
/// nor a node (pinging a node from itself or the VIP from its holder proves nothing).
fn check_arbiter(inv: &Inventory, arb: Ipv4Addr, p: &mut Problems) {
    if arb.is_unspecified() || arb.is_loopback() || arb.is_multicast() || arb.is_broadcast() {
        p.add(
            "vip.arbiter",
            format!(
                "{arb} is not a usable address; use one both nodes and the clients reach \
                 (e.g. the clients' gateway)"
            ),
        );
        return;
    }
    if arb == inv.vip.address {
        p.add(
            "vip.arbiter",
            format!("{arb} is the VIP itself; the arbiter must be a third host both nodes reach (e.g. the clients' gateway)"),
        );
    }
    for (i, node) in inv.nodes.iter().enumerate() {
        if node.address == arb {
            p.add(
                "vip.arbiter",
                format!(
                    "{arb} is the address of nodes[{i}] ({}); the arbiter must be a third \
                     host both nodes reach (e.g. the clients' gateway)",
                    node.name
                ),
            );
        }
    }
    if let Some(problem) = network_or_broadcast(arb, inv.vip.address, inv.vip.prefix) {
        p.add("vip.arbiter", problem);
    }
}

/// `a` is the network or broadcast address of the VIP's subnet (`vip/prefix`), which no
/// host can use (a /31 or /32 has neither).
fn network_or_broadcast(a: Ipv4Addr, vip: Ipv4Addr, prefix: u8) -> Option<String> {
    let mask = netmask(prefix)?;
    let net = u32::from(vip) & mask;
    let cidr = format!("{}/{prefix}", Ipv4Addr::from(net));
    if prefix > 30 {
        None
    } else if u32::from(a) == net {
        Some(format!("{a} is the network address of {cidr}"))
    } else if u32::from(a) == net | !mask {
        Some(format!("{a} is the broadcast address of {cidr}"))
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks() {
        assert_eq!(netmask(0), None);
        assert_eq!(netmask(33), None);
        assert_eq!(netmask(32), Some(u32::MAX));
        assert_eq!(netmask(24), Some(0xffff_ff00));
        assert_eq!(netmask(1), Some(0x8000_0000));
    }

    #[test]
    fn hostnames() {
        assert!(hostname_problem("node-a").is_none());
        assert!(hostname_problem("Node_A").is_some());
        assert!(hostname_problem("-a").is_some());
    }
}
