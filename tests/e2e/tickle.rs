//! Issue 17's tickle ACKs, as the partition and isolate scenarios check them: after a
//! takeover from a holder that was cut off, the new holder's fence agent tickled the old
//! holder's clients (failover-test's writer among them) as it took the VIP over, and the
//! write gap is the VIP move plus the new holder's own work, not TCP's retransmission.

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
/// The tickle record is the regression check (the agent before issue 17 wrote none):
/// written by this run, the writer's connection in the list, started within 0.5 s of the
/// agent's record of keepalived's MASTER line on the new holder (it forks the tickle just
/// before it writes that record: under 1 ms apart at a load average of 20; 0.5 s leaves
/// room for a loaded CI machine).
///
/// The gap bound, with asynchronous replication: without tickles the writer's request in
/// flight waits for TCP's third retransmission, 1.68 s after it was sent, while the VIP
/// moves after 1.0-1.3 s (gap − VIP move 0.3-0.7 s); with them gap − VIP move − the
/// unfence (`catch_up_s`) was 0.07-0.17 s on the lab; 0.5 s. With semi-sync (the lab's
/// default) the new holder's first commit may also wait up to `semi_sync_timeout_ms` (1 s)
/// for the cut-off old holder, and a loaded machine stretches the rest (1.45 s seen on
/// MySQL at a load average of 20): 2 s there, a bound that only catches gross regressions.
pub fn assert_tickled(lab: &Lab, mode: &str, r: &Value, since: f64) {
    let new = r["new_holder"].as_str().unwrap();
    let out = lab.ssh_ok(new, &mhactl::os::client_list::read_tickle_command());
    let mut lines = out.lines();
    let record: Vec<&str> = lines.next().unwrap_or_default().splitn(3, ' ').collect();
    assert_eq!(
        record.len(),
        3,
        "{mode}: {new} recorded no tickle after the takeover:\n{out}\n{r}"
    );
    let start: f64 = record[0].parse().unwrap();
    assert!(
        start >= since,
        "{mode}: {new}'s last tickle is older than this run:\n{out}"
    );
    let connections: u64 = record[2]
        .split_once(" connections")
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("{mode}: the tickle failed on {new}: {}", record[2]));
    assert!(connections >= 1, "{mode}: tickled nobody: {}", record[2]);
    // failover-test's writer runs on the lab host (the bridge's address).
    let writer = format!("{} ", lab.addr(1));
    assert!(
        lines.any(|l| l.starts_with(&writer)),
        "{mode}: the writer's connection was not tickled:\n{out}"
    );
    let events = lab.ssh_ok(new, "cat /run/mhactl/fence-events");
    let master: f64 = events
        .lines()
        .rev()
        .find_map(|l| l.strip_suffix(" MASTER"))
        .and_then(|t| t.parse().ok())
        .unwrap_or_else(|| panic!("{mode}: no MASTER line on {new}:\n{events}"));
    // The agent starts the tickle just before it records the MASTER line itself.
    assert!(
        (start - master).abs() < 0.5,
        "{mode}: the tickle started {:.3} s after MASTER on {new}",
        start - master
    );
    let vip = r["vip_moved_s"].as_f64().unwrap();
    let gap = r["write_gap_s"].as_f64().unwrap();
    let catch_up = r["catch_up_s"].as_f64().unwrap_or(0.0);
    let bound = if r["replication"] == "semi-sync" {
        2.0
    } else {
        0.5
    };
    assert!(
        gap - vip - catch_up < bound,
        "{mode}: write gap {gap} s for a VIP move of {vip} s (catch-up {catch_up} s): {r}"
    );
}
