//! How the pair's replicas position (issue 19 item 2), decided once per run before any
//! step plans: the inventory's `replication.positioning`, or, when it is unset, GTIDs for
//! a new pair and binary log file and position for a pair that already replicates that
//! way. An existing file/position pair is never converted behind the user's back: a
//! MySQL node restarted with `gtid_mode = ON` next to a peer without it stops
//! replicating, and a MariaDB pair's binary logs hold both nodes' transactions in one
//! GTID domain, which strict mode refuses. An explicit `gtid` on such a pair is converted
//! online by bootstrap's `gtid-conversion` step, in the order that avoids both
//! (src/dialect/gtid_conversion.rs, src/dialect/gtid_conversion_mysql.rs).

use crate::dialect::Dialect;
use crate::engine::{Cluster, NodeHandle};
use crate::error::UsageError;
use crate::facts;
use crate::inventory::{Inventory, Positioning};
use anyhow::Result;

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
/// file and position, `None` when it has none; with its threads' state. `None` overall
/// when the server does not answer (a bare host, a stopped server).
fn replica_uses_gtid(
    node: &NodeHandle,
) -> Option<(Dialect, Option<bool>, Option<crate::dialect::ReplicaStatus>)> {
    let d = facts::dialect(node).ok()?;
    let state = facts::get::<facts::server::ReplicaStatusFact>(node, &()).ok()?;
    let history = d.replica_history(&state.rows).ok()?;
    let status = state.status.clone().ok().flatten();
    Some((d, history.map(|h| h.gtid.is_some()), status))
}

/// What [`resolve`] does with an explicit `gtid` it cannot simply apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolve {
    /// verify: keep it, the checks report how the pair differs.
    Report,
    /// A command that changes the pair but converts nothing (reinit): refuse a
    /// file/position pair, naming `mhactl bootstrap` where it would convert.
    Refuse,
    /// bootstrap: a file/position pair is converted online where the flavor allows it
    /// (its `gtid-conversion` step); refused where it does not, or where a replica is
    /// broken.
    Convert,
}

/// Replaces an unset `replication.positioning` by `file` when a node already replicates
/// by file and position (so the rest of the run keeps the pair as it is). Unless `mode`
/// is [`Resolve::Report`], refuses (exit 2) an explicit `gtid` the pair cannot have: a
/// server without GTID positioning; a running file/position replica that this command
/// does not convert (any command but bootstrap); a MariaDB pair with `writes: both`
/// (see below); a file/position replica whose thread stopped on an error (converting it
/// needs the position it executed).
/// Nodes that do not answer SQL are skipped.
pub fn resolve(inv: &mut Inventory, cluster: &Cluster, mode: Resolve) -> Result<()> {
    let strict = mode != Resolve::Report;
    let explicit_gtid = inv.replication.positioning == Some(Positioning::Gtid);
    let refuse = |why: String| -> anyhow::Error { UsageError(why).into() };
    let mut file_replica = None;
    for node in &cluster.nodes {
        let Some((d, uses_gtid, status)) = replica_uses_gtid(node) else {
            continue;
        };
        if strict && explicit_gtid && !d.gtid_positioning_supported() {
            return Err(refuse(format!(
                "replication.positioning: gtid: {} runs {}, which mhactl does not position by \
                 GTID (MariaDB 10.0.9+, MySQL 8.0+); set replication.positioning: file",
                node.name,
                d.version()
            )));
        }
        if uses_gtid != Some(false) {
            continue;
        }
        file_replica.get_or_insert(node.name.clone());
        if !(strict && explicit_gtid) {
            continue;
        }
        let n = &node.name;
        if !d.converts_to_gtid_online() {
            return Err(refuse(format!(
                "replication.positioning: gtid: {n} replicates by binary log file and position, \
                 and mhactl does not convert a running {} pair to GTIDs online: leave \
                 replication.positioning unset (the pair keeps file and position) or set it to \
                 file",
                d.version()
            )));
        }
        if mode == Resolve::Refuse {
            return Err(refuse(format!(
                "replication.positioning: gtid: {n} replicates by binary log file and position; \
                 run `mhactl bootstrap` first, which converts the pair to GTIDs online, or set \
                 replication.positioning: file"
            )));
        }
        // Sessions opened before the conversion keep writing in domain 0 until they
        // reconnect: with both nodes writable, two of them can log the same sequence
        // number there, which strict mode then stops replication on.
        if inv.writes == crate::inventory::WriteMode::Both
            && d.family() == crate::inventory::ServerFamily::Mariadb
        {
            return Err(refuse(format!(
                "replication.positioning: gtid: {n} replicates by binary log file and position \
                 and the pair takes writes on both nodes (writes: both): sessions opened before \
                 a conversion keep writing in GTID domain 0 on both nodes, which \
                 gtid_strict_mode stops replication on; convert with writes: vip-holder"
            )));
        }
        // The conversion positions the replica at what it executed: a replica stopped on
        // an error is not at a point mhactl may vouch for.
        if let Some(s) = status.filter(|s| !s.last_errors().is_empty() && !s.healthy()) {
            return Err(refuse(format!(
                "replication.positioning: gtid: {n}'s replica is broken ({}), so mhactl does \
                 not convert it to GTIDs; repair replication first (`mhactl verify` says how) \
                 and run bootstrap again",
                s.last_errors().join("; ")
            )));
        }
    }
    if file_replica.is_some() && inv.replication.positioning.is_none() {
        inv.replication.positioning = Some(Positioning::File);
    }
    Ok(())
}

#[cfg(test)]
#[path = "positioning_tests.rs"]
mod tests;
