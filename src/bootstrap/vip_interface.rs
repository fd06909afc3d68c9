//! Before any step runs: `vip.interface` exists on each node. Otherwise keepalived's
//! own configuration test would refuse the file only at the `keepalived` step, after
//! the servers were set up, with its messages as the only hint (and a dry run, which
//! does not run that test, would show nothing wrong).

use crate::engine::Cluster;
use crate::error::UsageError;
use crate::facts;
use crate::inventory::Inventory;
use anyhow::Result;

/// An error (exit 2, nothing changed) naming each node without `vip.interface`.
pub fn check(cluster: &Cluster, inv: &Inventory) -> Result<()> {
    let wanted = &inv.vip.interface;
    let mut missing = Vec::new();
    // Every node's read first: planned ahead (facts::prefetch), both nodes' come in one
    // batch instead of the second node's after the first's.
    let all: Vec<Result<Vec<String>>> = cluster
        .nodes
        .iter()
        .map(|node| facts::get::<facts::host::LinkNames>(node, &()))
        .collect();
    for (node, links) in cluster.nodes.iter().zip(all) {
        let links = links?;
        if !links.iter().any(|l| l == wanted) {
            missing.push(format!(
                "{}: vip.interface {wanted} does not exist there (its interfaces: {})",
                node.name,
                links.join(", ")
            ));
        }
    }
    if missing.is_empty() {
        return Ok(());
    }
    Err(UsageError(format!(
        "nothing was changed: {}; set vip.interface in the inventory to the interface \
         that carries the nodes' addresses",
        missing.join("; ")
    ))
    .into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::NodeHandle;
    use crate::transport::fake::FakeTransport;
    use std::sync::Arc;

    fn cluster(links: [&str; 2]) -> Cluster {
        let nodes = ["node-a", "node-b"]
            .iter()
            .zip(links)
            .enumerate()
            .map(|(i, (name, out))| {
                let t = FakeTransport::new(name);
                t.on(crate::os::host::LINKS_COMMAND, 0, out);
                NodeHandle::new(i, name, Arc::new(t), None)
            })
            .collect();
        Cluster {
            nodes,
            secrets: Vec::new(),
        }
    }

    const LAB: &str = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN\n\
                       2: eth0@if12: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP\n";
    const OTHER: &str = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n\
                         2: ens18: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n";

    #[test]
    fn a_missing_interface_is_refused_naming_the_node_and_its_interfaces() {
        let inv = crate::inventory::parse(
            "cluster: t\nnodes:\n  - name: node-a\n    address: 10.0.0.11\n  - name: node-b\n    \
             address: 10.0.0.12\nvip:\n  address: 10.0.0.100\n  interface: eth0\n  \
             virtual_router_id: 51\ncredentials:\n  replication_password_env: X\n",
            "inventory.yaml",
        )
        .unwrap();
        check(&cluster([LAB, LAB]), &inv).unwrap();
        let err = check(&cluster([LAB, OTHER]), &inv).unwrap_err();
        assert!(err.downcast_ref::<UsageError>().is_some(), "{err:#}");
        let text = format!("{err:#}");
        assert!(
            text.contains(
                "node-b: vip.interface eth0 does not exist there (its interfaces: lo, ens18)"
            ) && !text.contains("node-a:")
                && text.contains("set vip.interface in the inventory"),
            "{text}"
        );
    }
}
