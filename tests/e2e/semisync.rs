//! End-to-end on the lab (issue 19, item 3): semi-synchronous replication is on by default
//! (no inventory setting), so failover-test's crash (`kill-mysqld`) and cut (`partition`)
//! of the VIP holder lose no acknowledged write; `mysql.semi_sync: false` turns it off on
//! a running pair, and back on, without restarting a server or moving the VIP; verify
//! warns, naming the node, when the pair fell back to asynchronous replication.

use crate::support::{changed_steps, failover_test_json, mhactl, mhactl_json, Lab, Scenario};

/// The `semi-sync` rows of `mhactl verify --output json` (exit status ignored).
fn semi_sync_rows(lab: &Lab) -> Vec<serde_json::Value> {
    let inv = lab.inventory();
    let (_, report) = mhactl_json(&["-i", &inv, "verify", "--output", "json"]);
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "semi-sync")
        .cloned()
        .collect()
}

/// Both nodes' semi-sync rows pass: the VIP holder's says its commits wait for the peer
/// (`..._status ON`); the passive node's that its replica acknowledges and that the
/// source side follows the VIP (the fence agent keeps it off there).
fn assert_semi_sync_on(lab: &Lab) {
    let rows = semi_sync_rows(lab);
    assert_eq!(rows.len(), 2, "{rows:?}");
    let (holder, _) = lab.vip_holder();
    for c in &rows {
        let detail = c["detail"].as_str().unwrap();
        assert_eq!(c["ok"], true, "{rows:?}");
        if c["node"] == holder {
            assert!(
                detail.contains("_status ON") && !detail.contains("OFF"),
                "{rows:?}"
            );
        } else {
            assert!(
                detail.contains("_status ON") && detail.contains("follows the VIP"),
                "{rows:?}"
            );
        }
    }
}

fn defaults_lose_no_acknowledged_write_on_kill_and_partition(lab: Lab) {
    lab.bootstrap_ok();
    assert_semi_sync_on(&lab);
    for mode in ["kill-mysqld", "partition"] {
        let (out, r) = failover_test_json(&lab, mode);
        eprintln!("{mode}: {r}");
        assert_eq!(r["replication"], "semi-sync", "{mode}: {r}");
        assert_eq!(r["writes_lost"], 0, "{mode}: {r}");
        assert_eq!(r["writes_missing_after_rejoin"], 0, "{mode}: {r}");
        assert_eq!(r["ok"], true, "{mode}: {r}");
        assert_eq!(out.status.code(), Some(0), "{mode}: {r}");
        // Back to semi-sync both ways once the old holder rejoined.
        assert_semi_sync_on(&lab);
    }
}

/// The server's `Uptime` on `node`, in seconds.
fn uptime(lab: &Lab, node: &str) -> u64 {
    let out = lab.root_sql(node, "SHOW GLOBAL STATUS LIKE 'Uptime'");
    out.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Bootstrap `lab` with `mysql.semi_sync` set to `on` (the line removed: the default),
/// and assert that no server restarted and the VIP stayed where it was.
fn bootstrap_semi_sync(lab: &Lab, on: bool) {
    let inv = lab.inventory();
    let text = std::fs::read_to_string(&inv).unwrap();
    let flavor_line = format!("  flavor: {}\n", lab.flavor());
    assert!(text.contains(&flavor_line), "{text}");
    let base = text.replace("  semi_sync: false\n", "");
    let text = if on {
        base
    } else {
        base.replace(&flavor_line, &format!("{flavor_line}  semi_sync: false\n"))
    };
    std::fs::write(&inv, text).unwrap();
    let holder = lab.vip_holder();
    let before = [uptime(lab, "node-a"), uptime(lab, "node-b")];
    let (out, report) = mhactl_json(&["bootstrap", &inv, "--output", "json"]);
    assert_eq!(out.status.code(), Some(0), "{report}");
    let changed = changed_steps(&report);
    assert!(
        changed.iter().any(|s| s.contains("semi-sync")),
        "{changed:?}"
    );
    let text = report.to_string();
    assert!(
        !text.contains("and restart"),
        "a server restarted: {report}"
    );
    let after = [uptime(lab, "node-a"), uptime(lab, "node-b")];
    assert!(
        after[0] >= before[0] && after[1] >= before[1],
        "a server restarted: Uptime {before:?} -> {after:?}"
    );
    assert_eq!(lab.vip_holder(), holder, "the VIP moved");
}

fn turning_semi_sync_off_and_on_restarts_nothing_and_verify_reports_a_fallback(lab: Lab) {
    lab.bootstrap_ok();
    assert_semi_sync_on(&lab);

    bootstrap_semi_sync(&lab, false);
    let rows = semi_sync_rows(&lab);
    assert!(
        rows.iter().all(|c| c["ok"] == true
            && c["detail"]
                .as_str()
                .unwrap()
                .starts_with("off (mysql.semi_sync: false)")),
        "{rows:?}"
    );
    let source_status = if lab.flavor() == "mysql" {
        "Rpl_semi_sync_source_status"
    } else {
        "Rpl_semi_sync_master_status"
    };
    for node in ["node-a", "node-b"] {
        let status = lab.root_sql(node, &format!("SHOW GLOBAL STATUS LIKE '{source_status}'"));
        assert!(status.contains("OFF"), "{node}: {status}");
    }

    bootstrap_semi_sync(&lab, true);
    assert_semi_sync_on(&lab);

    // The passive node's server stops: the VIP holder falls back to asynchronous (MariaDB
    // at once, MySQL at its next commit) and verify warns on it, naming it and its peer.
    let (holder, passive) = lab.vip_holder();
    let stop = if lab.flavor() == "mysql" {
        ("systemctl stop mysql", "systemctl start mysql")
    } else {
        ("service mariadb stop", "service mariadb start")
    };
    lab.ssh_ok(passive, stop.0);
    let rows = semi_sync_rows(&lab);
    let row = rows
        .iter()
        .find(|c| c["node"] == holder)
        .unwrap_or_else(|| panic!("no semi-sync row for {holder}: {rows:?}"));
    assert_eq!(row["ok"], false, "{row}");
    assert_eq!(row["severity"], "warning", "{row}");
    let detail = row["detail"].as_str().unwrap();
    // MariaDB drops the replica when its connection closes: the holder's commits no
    // longer wait; MySQL's source notices at its next commit, so verify says the
    // holder's replica lost its peer and what the next commit does.
    let expected = [
        format!("commits on {holder} do not wait for {passive}"),
        format!("{holder}'s replica is not connected to {passive}"),
    ];
    assert!(
        detail.contains("asynchronous") && expected.iter().any(|e| detail.contains(e.as_str())),
        "{detail}"
    );
    lab.ssh_ok(passive, stop.1);
    let inv = lab.inventory();
    let out = mhactl(&["-i", &inv, "verify", "--wait", "60"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_semi_sync_on(&lab);
}

fn mysql_defaults_lose_no_acknowledged_write_on_kill_and_partition(lab: Lab) {
    defaults_lose_no_acknowledged_write_on_kill_and_partition(lab);
}

fn mysql_turning_semi_sync_off_and_on_restarts_nothing_and_verify_reports_a_fallback(lab: Lab) {
    turning_semi_sync_off_and_on_restarts_nothing_and_verify_reports_a_fallback(lab);
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    // Exclusive: semi-synchronous replication falls back to asynchronous when the
    // peer's acknowledgement takes longer than its timeout; on a loaded machine that
    // fallback, not mhactl, would lose the write the scenario asserts is never lost.
    vec![
        scenario!(defaults_lose_no_acknowledged_write_on_kill_and_partition).exclusive(),
        scenario!(mysql_defaults_lose_no_acknowledged_write_on_kill_and_partition)
            .flavor("mysql")
            .exclusive(),
        scenario!(turning_semi_sync_off_and_on_restarts_nothing_and_verify_reports_a_fallback),
        scenario!(
            mysql_turning_semi_sync_off_and_on_restarts_nothing_and_verify_reports_a_fallback
        )
        .flavor("mysql"),
    ]
}
