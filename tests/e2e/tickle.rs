//! Issue 17's tickle ACKs, as the partition and isolate scenarios check them: after a
//! takeover from a holder that was cut off, the new holder's fence agent tickled the old
//! holder's clients (failover-test's writer among them), and the write gap is the VIP
//! move plus the new holder's own work, not TCP's retransmission timer.

use crate::support::Lab;
use serde_json::Value;
use std::time::{SystemTime, UNIX_EPOCH};

/// Seconds since the epoch (the lab's nodes share the host's clock).
pub fn now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs_f64()
}

/// `r`: failover-test's JSON for `mode`, started at `since` (epoch seconds).
///
/// The record is the regression check (the agent before issue 17's tickle wrote none).
/// The gap bound: without tickles the writer's request in flight waits for TCP's third
/// retransmission, 1.68 s after it was sent, while the VIP moves after 1.0-1.3 s: gap −
/// VIP move 0.3-0.7 s (measured, async). With them the writer is reset within about
/// 0.1 s of the takeover; what remains is the new holder's unfence (`catch_up_s`) and, with
/// semi-sync, up to one `semi_sync_timeout_ms` (1 s: its first commit waits for the cut-off
/// old holder). 0.5 s of slack over that keeps a loaded CI machine (perl's start, the
/// agent's scheduling) from failing it.
pub fn assert_tickled(lab: &Lab, mode: &str, r: &Value, since: f64) {
    let new = r["new_holder"].as_str().unwrap();
    let out = lab.ssh_ok(new, &mhactl::os::client_list::read_tickle_command());
    let mut lines = out.lines();
    let record = lines.next().unwrap_or_default();
    let (at, said) = record.split_once(' ').unwrap_or_else(|| {
        panic!("{mode}: {new} recorded no tickle after the takeover:\n{out}\n{r}")
    });
    let at: f64 = at.parse().unwrap();
    assert!(
        at >= since,
        "{mode}: {new}'s last tickle is older than this run:\n{out}"
    );
    let connections: u64 = said
        .split_once(" connections")
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("{mode}: the tickle failed on {new}: {said}"));
    assert!(connections >= 1, "{mode}: tickled nobody: {said}");
    // failover-test's writer runs on the lab host (the bridge's address).
    let writer = format!("{} ", lab.addr(1));
    assert!(
        lines.any(|l| l.starts_with(&writer)),
        "{mode}: the writer's connection was not tickled:\n{out}"
    );
    let vip = r["vip_moved_s"].as_f64().unwrap();
    let gap = r["write_gap_s"].as_f64().unwrap();
    let catch_up = r["catch_up_s"].as_f64().unwrap_or(0.0);
    let semi_sync = if r["replication"] == "semi-sync" {
        1.0
    } else {
        0.0
    };
    assert!(
        gap - vip - catch_up < 0.5 + semi_sync,
        "{mode}: write gap {gap} s for a VIP move of {vip} s (catch-up {catch_up} s): {r}"
    );
}
