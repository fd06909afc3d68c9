//! Steps `firewall` and `selinux` (the runbook turns both off; mhactl leaves them on).
//!
//! `firewall` detects firewalld (`firewall-cmd --state`), ufw (`ufw status verbose`) or a
//! plain nftables/iptables ruleset whose input policy drops. With firewalld or ufw it
//! opens exactly what the pair needs, querying before adding: the MySQL port over TCP
//! from the peer and from the `access.users` networks, and VRRP (IP protocol 112) from
//! the peer. A raw default-drop ruleset is not edited: the step stops with the list of
//! what to open. Without a firewall it is a Noop. `firewall: manual` skips all of it.
//!
//! `selinux` detects `getenforce`; in enforcing mode the packaged contexts cover the
//! default datadir and port 3306, a non-default port is labelled `mysqld_port_t`, and
//! the inventory's datadir, socket, pid file and error log get `semanage fcontext`
//! rules and are relabelled ([`selinux_labels`]).
//!
//! The two steps are in `steps/{firewall,selinux}.rs`; this file keeps the openings the pair
//! needs and the old paths (re-exports of the steps and of their `os` items).

use crate::inventory::{Inventory, Network};

pub use crate::os::firewall::{
    iptables_default_drop, nft_default_drop, ufw_allows, ufw_before_rules_with_vrrp, ufw_state,
    ufw_vrrp_line, Opening, FIREWALLD_STATE, IPTABLES_INPUT, NFT_RULESET, NOT_INSTALLED,
    UFW_BEFORE_RULES, UFW_STATUS,
};
pub use crate::os::selinux::{
    context_type, contexts_command, datadir_context_spec, fcontext_listed, fcontext_rule_command,
    semanage_port_labelled, GETENFORCE, SEMANAGE_FCONTEXT_LOCAL, SEMANAGE_PORTS,
};

/// The packaged datadir, whose SELinux context (mysqld_db_t) the policy already sets.
pub const DEFAULT_DATADIR: &str = "/var/lib/mysql";

/// What node `i` needs open: the MySQL port and VRRP from the peer, and the MySQL port
/// from every `access.users` network (clients reach either node through the VIP).
pub fn openings(inv: &Inventory, i: usize) -> Vec<Opening> {
    let peer = inv.peer(i);
    let port = inv.mysql.port;
    let mut v = vec![
        Opening {
            tcp_port: Some(port),
            source: Some(peer.address.to_string()),
            why: format!("replication from {}", peer.name),
        },
        Opening {
            tcp_port: None,
            source: Some(peer.address.to_string()),
            why: format!("keepalived on {}", peer.name),
        },
    ];
    for u in &inv.access.users {
        for n in &u.networks {
            let Ok(net) = crate::inventory::parse_network(n) else {
                continue;
            };
            let source = net.firewall_source();
            if matches!(net, Network::Host(a) if a == peer.address) {
                continue;
            }
            if let Some(o) = v
                .iter_mut()
                .find(|o| o.tcp_port == Some(port) && o.source == source)
            {
                if !o.why.contains(&u.name) && o.why.starts_with("clients") {
                    o.why.push_str(&format!(", {}", u.name));
                }
                continue;
            }
            v.push(Opening {
                tcp_port: Some(port),
                source,
                why: format!("clients of access.users {}", u.name),
            });
        }
    }
    v
}

pub use super::steps::firewall::{plan_firewall, Firewall};
pub use super::steps::selinux::{plan_selinux, selinux_labels, FileLabel, Selinux};
