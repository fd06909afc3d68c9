//! verify with a node unreachable: one broken thing must not hide the others. Every
//! check of the reachable node runs; the unreachable node's checks and the checks about
//! the pair are reported as not run, with the reason, so the report still lists them.

use super::Check;
use crate::engine::Cluster;
use crate::inventory::{Inventory, Secrets};

/// The checks about the pair as a whole (see `checks::cluster_checks`).
const PAIR_CHECKS: &[&str] = &[
    "server-id-distinct",
    "clock-skew",
    "keepalived-pair",
    "vip",
    "vip-sql",
];

/// Checks with the nodes in `unreachable` (indices) down.
pub fn run(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    checksum: bool,
    unreachable: &[usize],
) -> Vec<Check> {
    let reachable: Vec<usize> = (0..cluster.nodes.len())
        .filter(|i| !unreachable.contains(i))
        .collect();
    let mut out: Vec<Check> = std::thread::scope(|scope| {
        let handles: Vec<_> = reachable
            .iter()
            .map(|&i| scope.spawn(move || super::checks::node_checks(cluster, inv, secrets, i)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("check thread panicked"))
            .collect()
    });
    // The same checks for the unreachable node, not run.
    let mut names: Vec<String> = Vec::new();
    for c in &out {
        if !names.contains(&c.name) {
            names.push(c.name.clone());
        }
    }
    let down: Vec<&str> = unreachable
        .iter()
        .map(|&i| cluster.nodes[i].name.as_str())
        .collect();
    // The reason itself is in the node's failed `ssh` check, once.
    for &i in unreachable {
        let node = &cluster.nodes[i].name;
        out.extend(names.iter().map(|name| {
            Check::not_run(
                name,
                node,
                format!("not run: {node} is unreachable (see its ssh check)"),
            )
        }));
    }
    let mut pair: Vec<&str> = PAIR_CHECKS.to_vec();
    if checksum {
        pair.push("checksum");
    }
    let holders: Vec<&str> = reachable
        .iter()
        .filter(|&&i| {
            crate::facts::interface_addresses(&cluster.nodes[i], &inv.vip.interface)
                .is_ok_and(|a| a.contains(&inv.vip.address))
        })
        .map(|&i| cluster.nodes[i].name.as_str())
        .collect();
    for name in pair {
        let mut detail = format!(
            "not run: needs both nodes, and {} is unreachable",
            down.join(", ")
        );
        if name == "vip" {
            detail.push_str(&match holders.as_slice() {
                [] => format!(
                    "; no reachable node holds the VIP {} (clients may have no server)",
                    inv.vip.address
                ),
                h => format!("; {} holds the VIP {}", h.join(", "), inv.vip.address),
            });
        }
        out.push(Check::not_run(name, "cluster", detail));
    }
    out
}
