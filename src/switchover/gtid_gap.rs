//! The wait of a MySQL pair that logs GTIDs (`gtid_mode = ON`, 9.x's default) but
//! replicates by file and position (a pair built by hand from the runbook): by GTID,
//! with the holder's transactions the peer never receives left out.
//!
//! Why not by position: MySQL's multi-threaded applier (the default since 8.0.27)
//! publishes its executed position (`Exec_Source_Log_Pos`, what `SOURCE_POS_WAIT` waits
//! on) only at its checkpoints (`replica_checkpoint_period`, 300 ms), while
//! `gtid_executed` grows at each commit: the position wait took 0.23-0.30 s of the
//! fenced hand-over on the lab where the peer had long executed everything.
//!
//! Why not the holder's whole GTID set: it holds the transactions the holder ran before
//! the peer's replica started (the runbook's `ALTER USER`, `CREATE USER`, `GRANT`), which
//! the peer never receives; a wait for them never ends. Those are the holder's own
//! transactions *older than the first of them the peer executed through replication*
//! (the rule of bootstrap's replication step, `gtid_history.rs`, which later records
//! them on the peer as applied): left out of the wait. Every later transaction of the
//! holder, so its last acknowledged write, is waited for. Only when the holder's set
//! has no other source than the two nodes (a third source's transactions the peer may
//! lack could make the wait time out): otherwise, and when the peer has received
//! nothing of the holder's yet, the wait is by position as before.

use super::preflight::one_value;
use super::steps::Ctx;
use anyhow::Result;

/// The two nodes' `gtid_state_sql` row: mode, executed set, server_uuid.
fn gtid_state(ctx: &Ctx, i: usize) -> Result<Option<(String, String)>> {
    let d = &ctx.state.nodes[i].dialect;
    let Some(sql) = d.gtid_state_sql() else {
        return Ok(None);
    };
    let rows = ctx.node(i).with_sql(|s| s.query(&sql))?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let get = |k: &str| crate::sql::get(row, k).unwrap_or("").to_string();
    Ok((get("mode") == "ON").then(|| (get("executed"), get("uuid"))))
}

/// The source UUIDs of a MySQL GTID set (`uuid:1-5,\nother:1-3` -> both).
fn sources(set: &str) -> Vec<String> {
    set.split(',')
        .filter_map(|part| part.split(':').next())
        .map(|u| u.trim().to_ascii_lowercase())
        .filter(|u| !u.is_empty())
        .collect()
}

/// The holder's transactions the peer never receives (a GTID set, possibly empty) when
/// the wait can be by GTID with them left out; `None`: wait by position.
pub(super) fn file_replica_gap(ctx: &Ctx) -> Result<Option<String>> {
    let (old, new) = (ctx.old, ctx.new);
    let mysql =
        |i: usize| ctx.state.nodes[i].dialect.family() == crate::inventory::ServerFamily::Mysql;
    if !mysql(old) || !mysql(new) || !ctx.state.nodes[new].dialect.gtid_positioning_supported() {
        return Ok(None);
    }
    let (Some((holder_set, holder_uuid)), Some((peer_set, peer_uuid))) =
        (gtid_state(ctx, old)?, gtid_state(ctx, new)?)
    else {
        return Ok(None);
    };
    let known = [
        holder_uuid.to_ascii_lowercase(),
        peer_uuid.to_ascii_lowercase(),
    ];
    if sources(&holder_set).iter().any(|u| !known.contains(u)) {
        return Ok(None);
    }
    let Some(first) = crate::dialect::first_gtid_sequence(&peer_set, &holder_uuid) else {
        return Ok(None);
    };
    if first <= 1 {
        return Ok(Some(String::new()));
    }
    let sql = crate::dialect::pre_replication_gtids_sql(&holder_set, &holder_uuid, first);
    let gap = one_value(ctx.node(new), &sql)?.unwrap_or_default();
    Ok(Some(gap.split_whitespace().collect()))
}

/// The holder's `gtid_executed` without `gap` (read on the holder after its fence).
pub(super) fn holder_set_without(ctx: &Ctx, gap: &str) -> Result<String> {
    let sql = crate::dialect::gtid_executed_without_sql(gap);
    Ok(one_value(ctx.node(ctx.old), &sql)?
        .unwrap_or_default()
        .split_whitespace()
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn sources_of_a_set() {
        assert_eq!(
            super::sources("3E11fa47-71ca:1-5:7,\n4f22fb58-82db:1-3"),
            ["3e11fa47-71ca", "4f22fb58-82db"]
        );
        assert!(super::sources("").is_empty());
    }
}
