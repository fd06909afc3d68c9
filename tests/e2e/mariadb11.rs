//! End-to-end on the MariaDB 11 lab (Debian sid's mariadb-server 11.x, run from its
//! packaged unit by a daemonless systemctl): bootstrap from bare nodes, a converged
//! re-run, `verify --checksum`, rows replicating both ways, and a `kill-mysqld`
//! failover without a lost write. MariaDB 11.x moved Debian's socket to
//! `/run/mariadbd/mysqld.sock`: mhactl's connection and the keepalived health check
//! must find it there.

use crate::support::{converged_rows, json, mhactl, Lab, Scenario};
use std::time::Instant;

fn bootstrap_json(lab: &Lab) -> serde_json::Value {
    let out = mhactl(&[
        "bootstrap",
        &lab.inventory(),
        "--no-progress",
        "--output",
        "json",
    ]);
    let report = json(&out, "bootstrap");
    assert!(out.status.success(), "bootstrap failed: {report}");
    report
}

fn mariadb11_lab_bootstrap_verify_failover(lab: Lab) {
    let t0 = Instant::now();
    let inv = std::fs::read_to_string(lab.inventory()).unwrap();
    assert!(inv.contains("flavor: mariadb\n"), "{inv}");
    assert!(!inv.contains("root_password_file"), "{inv}");
    // Bare nodes: no server yet; a systemctl that answers like a real host's.
    lab.ssh_ok(
        "node-a",
        "! command -v mariadbd && systemctl list-units >/dev/null",
    );

    let t1 = Instant::now();
    let report = bootstrap_json(&lab);
    eprintln!(
        "mariadb11: bootstrap from bare in {:.1} s",
        t1.elapsed().as_secs_f64()
    );
    assert_eq!(report["ok"], true, "{report}");
    let steps = report["steps"].as_array().unwrap();
    for node in ["node-a", "node-b"] {
        let detect = steps
            .iter()
            .find(|s| s["node"] == node && s["step"] == "detect-os")
            .unwrap();
        assert!(
            detect["detail"].as_str().unwrap().contains("Systemd"),
            "{detect}"
        );
        let admin = steps
            .iter()
            .find(|s| s["node"] == node && s["step"] == "admin-access")
            .unwrap();
        assert!(
            admin["detail"].as_str().unwrap().contains("MariaDB 11."),
            "{admin}"
        );
    }
    let version = lab.sql("node-a", "SELECT VERSION()");
    assert!(
        version.starts_with("11.") && version.contains("MariaDB"),
        "{version}"
    );
    eprintln!("mariadb11: server {}", version.trim());
    // The server's socket is MariaDB 11's, and the keepalived health check uses it (a
    // real query as root over the socket, not the TCP `ping` fallback).
    assert_eq!(
        lab.sql("node-a", "SELECT @@socket").trim(),
        "/run/mariadbd/mysqld.sock"
    );
    let check = lab.ssh(
        "node-a",
        "bash -x /etc/keepalived/mhactl-check-mysql.sh 2>&1",
    );
    let trace = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{trace}");
    assert!(
        trace.contains("--socket=/run/mariadbd/mysqld.sock") && !trace.contains(" ping"),
        "{trace}"
    );

    // Rows written on either node reach the other; auto-increment ids interleave.
    lab.sql("node-a", "CREATE DATABASE e2e; CREATE TABLE e2e.t (id INT AUTO_INCREMENT PRIMARY KEY, origin VARCHAR(10))");
    lab.sql("node-a", "INSERT INTO e2e.t (origin) VALUES ('a')");
    converged_rows(
        &lab,
        "SELECT id, origin FROM e2e.t ORDER BY id",
        1,
        Lab::sql,
    );
    lab.sql("node-b", "INSERT INTO e2e.t (origin) VALUES ('b')");
    assert_eq!(
        converged_rows(
            &lab,
            "SELECT id, origin FROM e2e.t ORDER BY id",
            2,
            Lab::sql
        ),
        "1\ta\n2\tb\n"
    );

    // A re-run on the converged pair changes nothing.
    let t2 = Instant::now();
    let report = bootstrap_json(&lab);
    eprintln!(
        "mariadb11: converged re-run in {:.1} s",
        t2.elapsed().as_secs_f64()
    );
    assert_eq!(report["changed"], 0, "{report}");

    let inv = lab.inventory();
    let out = mhactl(&["-i", &inv, "verify", "--checksum", "--output", "json"]);
    let verify = json(&out, "verify");
    assert_eq!(verify["ok"], true, "{verify}");
    assert!(out.status.success(), "{verify}");

    // Crash mysqld on the VIP holder: the VIP moves, no acknowledged write is lost, and
    // the old holder comes back as a replica.
    let out = mhactl(&[
        "-i",
        &inv,
        "failover-test",
        "--mode",
        "kill-mysqld",
        "--output",
        "json",
    ]);
    let failover = json(&out, "failover-test");
    assert_eq!(failover["ok"], true, "{failover}");
    assert_eq!(failover["writes_lost"], 0, "{failover}");
    assert!(out.status.success(), "{failover}");
    eprintln!("mariadb11: total {:.1} s", t0.elapsed().as_secs_f64());
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(mariadb11_lab_bootstrap_verify_failover).flavor("mariadb11")]
}
