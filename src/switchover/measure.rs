//! `switchover --measure`: the write probe failover-test uses ([`crate::write_probe`]),
//! writing through the VIP before, during and after the switch, and what it saw: the
//! longest gap between acknowledged writes, failed attempts, acknowledged writes lost,
//! and writes the old holder accepted after its fence (must be none).

use super::report::Measurement;
use crate::engine::Cluster;
use crate::interrupt::UndoStack;
use crate::inventory::Inventory;
use crate::write_probe::{self, writer, PROBE_DB, PROBE_USER};
use anyhow::Result;
use std::collections::BTreeSet;
use std::time::Duration;

/// A writer running through the VIP.
pub(super) struct MeasureRun {
    writer: writer::Writer,
    /// Writer time (s) when the old holder's fence was in place.
    pub fenced_at_s: Option<f64>,
}

impl MeasureRun {
    /// Seconds since the writer started.
    pub fn now_s(&self) -> f64 {
        self.writer.now_s()
    }

    /// Stop the writer (on the way out of a failed run), returning nothing.
    pub fn abandon(self) {
        self.writer.stop();
    }
}

/// Creates the probe account and table, registers their removal on `undo`, starts the
/// writer and checks it writes through the VIP.
pub(super) fn start<'a>(
    cluster: &'a Cluster,
    inv: &Inventory,
    holder: usize,
    interval_ms: u64,
    undo: &UndoStack<'a>,
    say: &dyn Fn(&str),
) -> Result<MeasureRun> {
    let client = write_probe::client_address(cluster, holder)?;
    let password = writer::random_password()?;
    let cleanup_client = client.clone();
    undo.push(
        "drop the probe account and database on both nodes",
        move || write_probe::cleanup(cluster, &cleanup_client, false),
    );
    write_probe::setup_probe(cluster, &client, &password)?;
    say(&format!(
        "measure: writer connects to {}:{} as {PROBE_USER}@{client} every {interval_ms} ms",
        inv.vip.address, inv.mysql.port
    ));
    let writer = write_probe::start_writing(
        inv,
        &password,
        Duration::from_millis(interval_ms),
        "the switch",
    )?;
    Ok(MeasureRun {
        writer,
        fenced_at_s: None,
    })
}

/// Let the writer run on for a moment after the switch, stop it, and count: lost
/// writes once both nodes hold the same rows, and rows the old holder took after its
/// fence (`old_server_id`).
pub(super) fn finish(
    run: MeasureRun,
    cluster: &Cluster,
    new: usize,
    old_server_id: u64,
) -> Result<Measurement> {
    let tail = crate::interrupt::sleep(Duration::from_millis(1500));
    let fenced_at = run.fenced_at_s.unwrap_or_else(|| run.writer.now_s());
    let log = run.writer.stop();
    tail?;
    let acked: BTreeSet<u64> = log.acked.iter().map(|(seq, _)| *seq).collect();
    let write_gap_s = writer::longest_gap(&log, fenced_at);
    // Both nodes replicate both ways: wait (bounded) until each has every row.
    let mut lost = acked.len();
    let _ = crate::poll::until(Duration::from_secs(20), || {
        let a = write_probe::probe_rows(cluster, new)?;
        let b = write_probe::probe_rows(cluster, 1 - new)?;
        lost = acked
            .iter()
            .filter(|s| !a.contains(s) || !b.contains(s))
            .count();
        Ok(lost == 0)
    });
    // The writer's clock is ms since it started; rows from the old server at or after
    // the fence (its end) were accepted behind the fence.
    let fence_ms = (fenced_at * 1000.0).ceil() as u64;
    let sql = crate::dialect::probe_writes_by_server_since_sql(PROBE_DB, old_server_id, fence_ms);
    let mut after_fence = 0;
    for node in &cluster.nodes {
        let rows = node.with_sql(|s| s.query(&sql))?;
        let n = rows
            .first()
            .and_then(|r| crate::sql::get(r, "n"))
            .and_then(|v| v.parse::<usize>().ok())
            .unwrap_or(0);
        after_fence = after_fence.max(n);
    }
    Ok(Measurement {
        write_gap_s,
        writes_acked: acked.len(),
        writes_failed: log.failed,
        writes_lost: lost,
        writes_on_old_after_fence: after_fence,
        last_error: log.last_error,
    })
}
