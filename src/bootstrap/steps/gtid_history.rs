//! Part of the replication step, MySQL with `gtid_mode = ON` and a replica that
//! positions by file (a pair built by hand from the runbook on MySQL 9.x, where
//! `gtid_mode` is ON by default): the transactions each node ran before its peer's
//! replica started (the runbook's own `ALTER USER`, `CREATE USER`, `GRANT`, run on each
//! node by hand) are in its GTID set but never reach the peer, whose replica started at a
//! later file and position. verify's `gtid` check then fails on both nodes ("lacks
//! transactions"), and any later switch to GTID positioning would fetch and re-run them
//! (a `CREATE USER` of an account that exists: replication stops). The step records them
//! on the node that lacks them as applied (`gtid_purged += ...`), without running them.
//!
//! Only the peer's own transactions *older than the first of them this node executed
//! through replication* are recorded: those are behind where the replica started (the
//! person who built the pair chose that start, and so declared them present), and a
//! replica never goes back. Anything newer is in flight and left to replication.

use crate::dialect::Dialect;
use crate::engine::{Action, Cluster, NodeHandle};
use crate::facts;
use crate::inventory::{Inventory, ServerFamily};
use anyhow::Result;

/// The peer's pre-replication transactions `node` lacks (a GTID set; `None`: nothing
/// to record), for a MySQL node with GTIDs on whose replica positions by file from `peer`.
pub(super) fn missing_before_replication(
    node: &NodeHandle,
    peer: &NodeHandle,
    d: &Dialect,
    inv: &Inventory,
    replicates_from_peer_by_file: bool,
) -> Result<Option<String>> {
    // A pair that positions by GTID receives them (or they are its errant transactions,
    // verify's business); before 8.0 `gtid_purged` takes no `+`.
    if d.family() != ServerFamily::Mysql
        || !d.gtid_positioning_supported()
        || crate::positioning::by_gtid(inv, d)
        || !replicates_from_peer_by_file
    {
        return Ok(None);
    }
    if facts::variable(node, "gtid_mode")?.as_deref() != Some("ON")
        || facts::variable(peer, "gtid_mode")?.as_deref() != Some("ON")
    {
        return Ok(None);
    }
    let (Some(peer_uuid), Some(peer_set)) = (
        facts::variable(peer, "server_uuid")?,
        facts::variable(peer, "gtid_executed")?,
    ) else {
        return Ok(None);
    };
    let own = facts::variable(node, "gtid_executed")?.unwrap_or_default();
    // Nothing received yet: no proof of where replication started.
    let Some(first) = crate::dialect::first_gtid_sequence(&own, &peer_uuid) else {
        return Ok(None);
    };
    if first <= 1 {
        return Ok(None);
    }
    let sql = crate::dialect::pre_replication_gtids_sql(&peer_set, &peer_uuid, first);
    let rows = node.with_sql(|s| s.query(&sql))?;
    let gap = rows
        .first()
        .and_then(|r| crate::sql::get(r, "gap"))
        .map(|g| g.split_whitespace().collect::<String>())
        .unwrap_or_default();
    Ok((!gap.is_empty()).then_some(gap))
}

/// Records `gap` as applied on the node (fenced or not: mhactl's admin write).
pub(super) fn record_action(gap: String) -> Action {
    let statement = crate::dialect::add_gtid_purged_sql(&gap);
    Action::Custom(
        format!("sql: {statement}"),
        Box::new(move |cluster: &Cluster, i| {
            cluster.nodes[i].with_admin_write(|sql| sql.exec(&statement))
        }),
    )
}
