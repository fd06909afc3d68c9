//! The hand-over of a VIP holder during a rolling restart (issue 18): the passive node
//! restarted first with mhactl's durability (`sync_binlog = 1`,
//! `innodb_flush_log_at_trx_commit = 1`) while the holder still runs the hand-built
//! pair's (`sync_binlog = 0`), so under a write load its single applier commits more
//! slowly than the holder takes writes and its backlog grows. The switchover fences the
//! holder until the peer executed everything: clients wait for the whole backlog (13 s
//! median on the lab, docs/adopt.md).
//!
//! So while the peer catches up before the hand-over, its durability is relaxed
//! (`sync_binlog = 0`, `innodb_flush_log_at_trx_commit = 2`: no fsync per commit), which
//! lets it apply faster than the holder writes; the hand-over waits until it lags at
//! most [`HAND_OVER_LAG_S`]; the switchover puts the values back on it after it executed
//! the last write and before the VIP moves to it, so it takes writes only with its own
//! durability. What this risks: only an operating-system crash or power loss of the
//! passive node during the catch-up can lose transactions it applied (a server crash
//! loses nothing with `innodb_flush_log_at_trx_commit = 2`); they are copies of the
//! holder's, which still has them, and the hand-over does not happen then.

use crate::engine::Cluster;
use crate::facts;
use anyhow::{Context, Result};
use std::time::Duration;

/// The lag (seconds) at which the peer is handed the VIP: what it applies in about a
/// second once the holder is fenced, instead of the switchover's 5 s limit.
pub(crate) const HAND_OVER_LAG_S: u64 = 1;

/// A peer whose durability was relaxed for its catch-up: the values to put back.
pub(crate) struct CatchUp {
    /// `SET GLOBAL` of the values it had (empty: nothing was relaxed).
    pub restore: Vec<String>,
}

/// Relaxes node `i`'s durability when its replica lags more than [`HAND_OVER_LAG_S`]
/// (read twice, a second apart: right after its restart the first reading may be
/// stale) and its values are stricter than the relaxed ones.
pub(crate) fn relax_if_behind(cluster: &Cluster, i: usize) -> Result<CatchUp> {
    let node = &cluster.nodes[i];
    let none = CatchUp {
        restore: Vec::new(),
    };
    let lag = || -> Result<Option<u64>> {
        Ok(facts::replica_status_fresh(node)?.and_then(|s| s.seconds_behind))
    };
    if lag()?.is_some_and(|l| l <= HAND_OVER_LAG_S) {
        std::thread::sleep(Duration::from_secs(1));
        if lag()?.is_some_and(|l| l <= HAND_OVER_LAG_S) {
            return Ok(none);
        }
    }
    let d = facts::dialect(node)?;
    let [sync, flush] = d.durability_variables();
    let read = |name: &str| -> Result<String> {
        let sql = crate::dialect::global_variable_sql(name);
        let rows = node.with_sql(|s| s.query(&sql))?;
        Ok(rows
            .first()
            .and_then(|r| crate::sql::get(r, "value"))
            .unwrap_or("")
            .to_string())
    };
    let (sync_now, flush_now) = (read(sync)?, read(flush)?);
    if sync_now == "0" && flush_now != "1" {
        return Ok(none);
    }
    let (Some(restore), Some(relax)) = (
        d.set_durability_sql([&sync_now, &flush_now]),
        d.set_durability_sql(["0", "2"]),
    ) else {
        return Ok(none);
    };
    node.with_sql(|s| relax.iter().try_for_each(|stmt| s.exec(stmt)))
        .with_context(|| format!("{}: relaxing durability for its catch-up", node.name))?;
    Ok(CatchUp { restore })
}

impl CatchUp {
    /// Puts the values back on node `i` (idempotent: also after the switchover did).
    pub(crate) fn restore(&self, cluster: &Cluster, i: usize) -> Result<()> {
        if self.restore.is_empty() {
            return Ok(());
        }
        let node = &cluster.nodes[i];
        node.with_sql(|s| self.restore.iter().try_for_each(|stmt| s.exec(stmt)))
            .with_context(|| format!("{}: restoring its durability after its catch-up", node.name))
    }
}
