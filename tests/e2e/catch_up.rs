//! End-to-end on the lab (MariaDB and MySQL): the catch-up rule on takeover (issue 17).
//! The passive node replicates with a delay (`MASTER_DELAY`/`SOURCE_DELAY`), so when
//! failover-test stops the VIP holder the new holder has seconds of the old holder's
//! writes received but not executed. It must stay read-only until it executed them, then
//! become writable; failover-test reports the catch-up (`catch_up_s`, its backlog) and no
//! acknowledged write is lost.

use crate::support::{mhactl_json, text, Lab, Scenario};

/// The passive node's replication delay: the backlog it has when the VIP moves.
const DELAY_S: u64 = 6;

/// Sets the replication delay of `node`'s channel (0: none).
fn set_delay(lab: &Lab, node: &str, seconds: u64) {
    let sql = if lab.flavor() == "mysql" {
        format!(
            "STOP REPLICA; CHANGE REPLICATION SOURCE TO SOURCE_DELAY = {seconds}; START REPLICA"
        )
    } else {
        format!("STOP SLAVE; CHANGE MASTER TO MASTER_DELAY = {seconds}; START SLAVE")
    };
    lab.root_sql(node, &sql);
}

fn a_new_holder_with_a_backlog_stays_read_only_until_it_caught_up(lab: Lab) {
    lab.bootstrap_ok();
    let (holder, passive) = lab.vip_holder();
    set_delay(&lab, passive, DELAY_S);
    let inv = lab.inventory();
    let (out, r) = mhactl_json(&[
        "-i",
        &inv,
        "failover-test",
        "--mode",
        "stop-mysqld",
        "--duration",
        "15",
        "--output",
        "json",
    ]);
    let all = text(&out);
    eprintln!("{r}");
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(r["old_holder"], holder, "{r}");
    assert_eq!(r["new_holder"], passive, "{r}");
    assert_eq!(r["writes_lost"], 0, "{r}");
    assert_eq!(r["writes_missing_after_rejoin"], 0, "{r}");
    let vip_moved = r["vip_moved_s"].as_f64().expect("vip_moved_s");
    let catch_up = r["catch_up_s"].as_f64().expect("catch_up_s reported");
    let backlog = r["catch_up_backlog_bytes"].as_u64().expect("a backlog");
    assert!(backlog > 0, "no backlog when the VIP moved: {r}");
    // The old holder's last acknowledged writes become executable on the new holder only
    // DELAY_S after they were written (the delay counts from the event's timestamp,
    // whole seconds: up to 1 s less). Writable at the VIP's arrival would be ~0.3 s.
    assert!(
        catch_up >= DELAY_S as f64 - 1.0 - vip_moved - 0.5,
        "became writable {catch_up:.2} s after taking the VIP, the VIP moving after {vip_moved:.2} s: {r}"
    );
    // The independent witness: failover-test's writer through the VIP. No write was
    // accepted before the new holder could have executed the old holder's last write.
    let gap = r["write_gap_s"].as_f64().unwrap();
    assert!(
        gap >= DELAY_S as f64 - 1.0,
        "a write through the VIP was accepted {gap:.2} s after the fault, before the new holder caught up: {r}"
    );
    // The agent's record agrees with the report (the node's clock, both ends).
    let record = lab.ssh_ok(passive, "cat /run/mhactl/fence-takeover");
    let field = |k: &str| -> f64 {
        record
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{k} ")))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {k} in the takeover record: {record}"))
    };
    let recorded = field("writable") - field("vip");
    assert!((recorded - catch_up).abs() < 0.01, "{record} vs {r}");
    assert_eq!(field("behind_bytes") as u64, backlog, "{record}");
    // The new holder is writable and the old one fenced again.
    assert_eq!(
        lab.root_sql(passive, "SELECT @@GLOBAL.read_only").trim(),
        "0"
    );
    assert_eq!(
        lab.root_sql(holder, "SELECT @@GLOBAL.read_only").trim(),
        "1"
    );
    set_delay(&lab, passive, 0);

    // Without a backlog the catch-up is the agent's reaction alone: the VIP moves back
    // and the new holder (the first one, no delay) is writable within a second. The
    // text report says so.
    let out = crate::support::mhactl(&[
        "-i",
        &inv,
        "failover-test",
        "--mode",
        "stop-keepalived",
        "--duration",
        "6",
    ]);
    let all = text(&out);
    eprintln!("{all}");
    assert_eq!(out.status.code(), Some(0), "{all}");
    assert!(all.contains(&format!("{passive} -> {holder}")), "{all}");
    let line = all
        .lines()
        .find(|l| l.starts_with("caught up after"))
        .unwrap_or_else(|| {
            // Seen once in CI (MariaDB, 2026-11-27), not reproduced alone or under load:
            // say what the new holder's agent recorded, for the next look.
            let agent = lab.ssh_ok(
                holder,
                "cat /run/mhactl/fence-takeover; echo ---; tail -n 8 /run/mhactl/fence-events; \
                 echo ---; date +%s.%N",
            );
            panic!("no catch-up line in the text report:\n{all}\n{holder}'s agent:\n{agent}")
        });
    let catch_up: f64 = line
        .split_whitespace()
        .nth(3)
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{line}"));
    assert!(catch_up < 1.0, "no backlog, yet {catch_up:.2} s: {line}");
    assert!(line.contains("bytes behind"), "{line}");
}

fn mysql_a_new_holder_with_a_backlog_stays_read_only_until_it_caught_up(lab: Lab) {
    a_new_holder_with_a_backlog_stays_read_only_until_it_caught_up(lab);
}

pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(a_new_holder_with_a_backlog_stays_read_only_until_it_caught_up),
        scenario!(mysql_a_new_holder_with_a_backlog_stays_read_only_until_it_caught_up)
            .flavor("mysql"),
    ]
}
