//! End-to-end on the lab: failover-test in every mode moves the VIP, measures the write
//! gap, counts lost writes exactly, and leaves a healthy pair with no probe leftovers.

mod common;

use common::{lab_available, mhactl, mhactl_ok, TestLab};
use serde_json::Value;

const SUBNET: u8 = 248;

fn failover(lab: &TestLab, mode: &str) -> (i32, Value, String) {
    let inv = lab.inventory();
    let out = mhactl(&[
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
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report: Value = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("{mode}: not JSON ({e}): {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), report, stdout + &stderr)
}

#[test]
fn failover_test_moves_the_vip_in_every_mode_and_loses_nothing_on_a_clean_stop() {
    if !lab_available("failover_e2e") {
        return;
    }
    let lab = TestLab::up(SUBNET);
    mhactl_ok(&["bootstrap", &lab.inventory(), "--no-progress"]);
    let secrets = std::fs::read_to_string(lab.dir.join("secrets.yaml")).unwrap();
    let secret_values: Vec<&str> = secrets
        .lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(_, v)| v.trim_matches('"'))
        .collect();

    for mode in ["stop-mysqld", "kill-mysqld", "stop-keepalived", "partition"] {
        let (code, r, all_output) = failover(&lab, mode);
        for s in &secret_values {
            assert!(
                !all_output.contains(s),
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
