//! End-to-end on the lab: failover-test in every mode moves the VIP, measures the write
//! gap, counts lost writes exactly, and leaves a healthy pair with no probe leftovers.

use crate::support::{mhactl, mhactl_json, text, Lab, Scenario};
use serde_json::Value;

fn failover(lab: &Lab, mode: &str) -> (i32, Value, String) {
    let inv = lab.inventory();
    let (out, report) = mhactl_json(&[
        "-q",
        "-i",
        &inv,
        "failover-test",
        "--mode",
        mode,
        "--duration",
        "6",
        "--output",
        "json",
    ]);
    (out.status.code().unwrap_or(-1), report, text(&out))
}

fn failover_test_moves_the_vip_in_every_mode_and_loses_nothing_on_a_clean_stop(lab: Lab) {
    lab.bootstrap_ok();
    let secret_values = lab.secret_values();

    for mode in ["stop-mysqld", "kill-mysqld", "stop-keepalived", "partition"] {
        let (code, r, all_output) = failover(&lab, mode);
        for s in &secret_values {
            assert!(
                !all_output.contains(s.as_str()),
                "{mode}: a secret leaked into the output"
            );
        }
        eprintln!("{mode}: {r}");
        assert_eq!(r["mode"], mode);
        assert_ne!(r["old_holder"], r["new_holder"], "{mode}: {r}");
        let moved = r["vip_moved_s"]
            .as_f64()
            .unwrap_or_else(|| panic!("{mode}: the VIP did not move: {r}"));
        assert!(
            moved > 0.0 && moved < 15.0,
            "{mode}: implausible VIP move time {moved}"
        );
        let gap = r["write_gap_s"].as_f64().unwrap();
        assert!(
            (0.0..20.0).contains(&gap),
            "{mode}: implausible write gap {gap}"
        );
        assert!(r["writes_acked"].as_u64().unwrap() > 50, "{mode}: {r}");
        assert_eq!(r["rejoined"], true, "{mode}: {r}");
        assert_eq!(r["healthy_after"], true, "{mode}: {r}");
        // ok is exactly "nothing lost" once the rest passed; the exit code follows ok.
        let lost = r["writes_lost"].as_u64().unwrap();
        assert_eq!(r["ok"], lost == 0, "{mode}: {r}");
        assert_eq!(code, if lost == 0 { 0 } else { 1 }, "{mode}");
        if mode == "stop-mysqld" {
            assert_eq!(lost, 0, "a clean stop must lose no acknowledged write: {r}");
        }
    }

    // No probe leftovers: the table and the account are gone on both nodes.
    for node in ["node-a", "node-b"] {
        let left = lab.ssh_ok(node, "mysql -N -B -e \"SELECT COUNT(*) FROM mysql.user WHERE User='mhactl_probe'; SHOW DATABASES LIKE 'mhactl_probe'\"");
        assert_eq!(left.trim(), "0", "{node}: {left}");
    }

    // An unhealthy pair is refused unless --force.
    lab.ssh_ok("node-b", "mysql -e 'STOP SLAVE'");
    let out = mhactl(&["-i", &lab.inventory(), "failover-test"]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not healthy")
            && err.contains("--force")
            && err.contains("replication-threads"),
        "{err}"
    );
    lab.ssh_ok("node-b", "mysql -e 'START SLAVE'");
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    // Exclusive: it asserts timings (VIP moved within 15 s, write gap under 20 s) and a
    // throughput (more than 50 acknowledged writes in 6 s), which other labs sharing
    // the two cores would make flaky.
    vec![
        scenario!(failover_test_moves_the_vip_in_every_mode_and_loses_nothing_on_a_clean_stop)
            .exclusive(),
    ]
}
