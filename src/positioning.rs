//! How the pair's replicas position (issue 19 item 2), decided once per run before any
//! step plans: the inventory's `replication.positioning`, or, when it is unset, GTIDs for
//! a new pair and binary log file and position for a pair that already replicates that
//! way. An existing file/position pair is never converted behind the user's back: a
//! MySQL node restarted with `gtid_mode = ON` next to a peer without it stops
//! replicating, and a MariaDB pair's binary logs hold both nodes' transactions in one
//! GTID domain, which strict mode refuses.

use crate::dialect::Dialect;
use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::inventory::{Inventory, Positioning};
use anyhow::{bail, Result};

/// True when node replicas of a server of dialect `d` position by GTID: the inventory
/// wants it (or leaves it to mhactl) and the server supports it
/// ([`Dialect::gtid_positioning_supported`]; [`resolve`] refused an explicit `gtid` on a
/// server without it).
pub fn by_gtid(inv: &Inventory, d: &Dialect) -> bool {
    inv.replication.gtid() && d.gtid_positioning_supported()
}

/// The my.cnf options of a node with server_id `server_id` for this positioning: none for
/// file and position; MariaDB's GTID domain is the node's server_id (distinct per node
/// by validation: each writer its own domain, docs/compatibility.md).
pub fn server_options(inv: &Inventory, d: &Dialect, server_id: u32) -> Vec<(String, String)> {
    match by_gtid(inv, d) {
        true => d.gtid_server_options(server_id),
        false => Vec::new(),
    }
}

/// How a configured replica on `node` positions: `Some(true)` by GTID, `Some(false)` by
/// file and position, `None` when it has none or the server does not answer (a bare
/// host, a stopped server).
fn replica_uses_gtid(node: &NodeHandle) -> Option<(Dialect, Option<bool>)> {
    let d = facts::dialect(node).ok()?;
    let state = facts::get::<facts::server::ReplicaStatusFact>(node, &()).ok()?;
    let history = d.replica_history(&state.rows).ok()?;
    Some((d, history.map(|h| h.gtid.is_some())))
}

/// Replaces an unset `replication.positioning` by `file` when a node already replicates
/// by file and position (so the rest of the run keeps the pair as it is), and, with
/// `strict` (commands that change the pair), refuses an explicit `gtid` that the pair
/// cannot have: a server without GTID positioning, or a running file/position replica
/// (converting it online is not implemented). Nodes that do not answer SQL are skipped.
pub fn resolve(inv: &mut Inventory, cluster: &Cluster, strict: bool) -> Result<()> {
    let mut file_replica = None;
    for node in &cluster.nodes {
        let Some((d, uses_gtid)) = replica_uses_gtid(node) else {
            continue;
        };
        if strict
            && inv.replication.positioning == Some(Positioning::Gtid)
            && !d.gtid_positioning_supported()
        {
            bail!(
                "replication.positioning: gtid: {} runs {}, which mhactl does not position by \
                 GTID (MariaDB 10.0.9+, MySQL 8.0+); set replication.positioning: file",
                node.name,
                d.version()
            );
        }
        if uses_gtid == Some(false) {
            file_replica.get_or_insert(node.name.clone());
        }
    }
    let Some(name) = file_replica else {
        return Ok(());
    };
    match inv.replication.positioning {
        None => inv.replication.positioning = Some(Positioning::File),
        Some(Positioning::File) => {}
        Some(Positioning::Gtid) if strict => bail!(
            "replication.positioning: gtid: {name} replicates by binary log file and position, \
             and mhactl does not yet convert a running pair to GTIDs; leave \
             replication.positioning unset (the pair keeps file and position) or set it to file"
        ),
        Some(Positioning::Gtid) => {}
    }
    Ok(())
}

#[cfg(test)]
#[path = "positioning_tests.rs"]
mod tests;
