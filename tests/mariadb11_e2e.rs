//! End-to-end on the MariaDB 11 lab (Debian sid's mariadb-server 11.x, run from its
//! packaged unit by a daemonless systemctl): bootstrap from bare nodes, a converged
//! re-run, `verify --checksum`, rows replicating both ways, and a `kill-mysqld`
//! failover without a lost write. MariaDB 11.x moved Debian's socket to
//! `/run/mariadbd/mysqld.sock`: mhactl's connection and the keepalived health check
//! must find it there.

mod common;

use common::{converged_rows, lab_available, mhactl, TestLab};
use std::time::Instant;

const SUBNET: u8 = 235;

fn json(out: &std::process::Output, what: &str) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: not JSON ({e}):\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn bootstrap_json(lab: &TestLab) -> serde_json::Value {
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

/// SQL as root through the server's socket (socket authentication, no password).
fn sql(lab: &TestLab, node: &str, statement: &str) -> String {
    lab.ssh_ok(node, &format!("mariadb -N -B -e \"{statement}\""))
}

#[test]
fn mariadb11_lab_bootstrap_verify_failover() {
    if !lab_available("mariadb11_e2e") {
        return;
    }
    let t0 = Instant::now();
    let lab = TestLab::up_flavor(SUBNET, "mariadb11");
    eprintln!(
        "mariadb11_e2e: lab up in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
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
        "mariadb11_e2e: bootstrap from bare in {:.1} s",
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
    let version = sql(&lab, "node-a", "SELECT VERSION()");
    assert!(
        version.starts_with("11.") && version.contains("MariaDB"),
        "{version}"
    );
    eprintln!("mariadb11_e2e: server {}", version.trim());
    // The server's socket is MariaDB 11's, and the keepalived health check uses it (a
    // real query as root over the socket, not the TCP `ping` fallback).
    assert_eq!(
        sql(&lab, "node-a", "SELECT @@socket").trim(),
        "/run/mariadbd/mysqld.sock"
    );
    let check = lab.ssh("node-a", "sh -x /etc/keepalived/mhactl-check-mysql.sh 2>&1");
    let trace = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{trace}");
    assert!(
        trace.contains("--socket=/run/mariadbd/mysqld.sock") && !trace.contains(" ping"),
        "{trace}"
    );

    // Rows written on either node reach the other; auto-increment ids interleave.
    sql(&lab, "node-a", "CREATE DATABASE e2e; CREATE TABLE e2e.t (id INT AUTO_INCREMENT PRIMARY KEY, origin VARCHAR(10))");
    sql(&lab, "node-a", "INSERT INTO e2e.t (origin) VALUES ('a')");
    converged_rows(&lab, "SELECT id, origin FROM e2e.t ORDER BY id", 1, sql);
    sql(&lab, "node-b", "INSERT INTO e2e.t (origin) VALUES ('b')");
    assert_eq!(
        converged_rows(&lab, "SELECT id, origin FROM e2e.t ORDER BY id", 2, sql),
        "1\ta\n2\tb\n"
    );

    // A re-run on the converged pair changes nothing.
    let t2 = Instant::now();
    let report = bootstrap_json(&lab);
    eprintln!(
        "mariadb11_e2e: converged re-run in {:.1} s",
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
    eprintln!("mariadb11_e2e: total {:.1} s", t0.elapsed().as_secs_f64());
}
