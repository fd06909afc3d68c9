//! End-to-end on the lab (runbook 1.4, "data on another partition", and its ERROR 2002
//! fix), on both flavors, one lab bring-up each (the two tests run in parallel):
//!
//! - `mysql.datadir`, `socket`, `log_error` and `pid_file` from the inventory: the data
//!   directory is created and initialised, the paths' directories belong to mysql, the
//!   server runs with all four, a local client connects without `-S`, Debian's SysV
//!   script still sees the server (debian.cnf), the error log is the file (not syslog);
//!   replication works both ways, `verify` is healthy and a re-run changes nothing;
//! - `reinit NODE --yes-destroy-data` rebuilds a node on those paths;
//! - MariaDB: a non-empty directory that holds no database is refused and left untouched;
//! - MySQL: the fresh data directory's temporary root password (`mysqld --initialize`,
//!   in the inventory's error log) is replaced by the inventory's.

use crate::support::{mhactl, Lab, Scenario};
use std::time::{Duration, Instant};

const PATHS: &str = "  datadir: /data/mysql\n  socket: /var/run/custom/mysql.sock\n  \
                     log_error: /var/log/custom/mysql.err\n  pid_file: /var/run/custom/mysqld.pid\n";

/// Add the custom paths to the lab's inventory.
fn with_paths(lab: &Lab, flavor: &str) -> String {
    let inv = lab.inventory();
    let text = std::fs::read_to_string(&inv).unwrap();
    let flavor_line = format!("  flavor: {flavor}\n");
    assert!(text.contains(&flavor_line), "{text}");
    let text = text.replace(&flavor_line, &format!("{flavor_line}{PATHS}"));
    std::fs::write(&inv, &text).unwrap();
    text
}

fn json(args: &[&str]) -> (serde_json::Value, String) {
    let out = mhactl(args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{stderr}"));
    (v, stderr)
}

fn bootstrap(inv: &str) -> serde_json::Value {
    let (report, stderr) = json(&["bootstrap", inv, "--no-progress", "--output", "json"]);
    assert_eq!(report["ok"], true, "{report}\n{stderr}");
    report
}

fn step_changed(report: &serde_json::Value, step: &str) -> bool {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["step"] == step && s["status"] == "changed")
}

fn verify_healthy(inv: &str) {
    let (v, stderr) = json(&["-i", inv, "verify", "--output", "json"]);
    assert_eq!(v["ok"], true, "verify not healthy: {v}\n{stderr}");
}

fn reinit(inv: &str, node: &str) {
    let out = mhactl(&[
        "-i",
        inv,
        "reinit",
        node,
        "--yes-destroy-data",
        "--no-progress",
    ]);
    assert!(
        out.status.success(),
        "reinit failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The server runs with the inventory's paths, which belong to mysql; the packaged
/// socket is gone, so `client` (a local client WITHOUT -S) proves the [client] socket.
fn check_paths(lab: &Lab, node: &str, client: &str) {
    let vars = lab.ssh_ok(
        node,
        &format!("{client} -N -B -e 'SELECT @@datadir, @@socket, @@log_error, @@pid_file'"),
    );
    assert_eq!(
        vars.trim(),
        "/data/mysql/\t/var/run/custom/mysql.sock\t/var/log/custom/mysql.err\t/var/run/custom/mysqld.pid",
        "on {node}"
    );
    assert_eq!(
        lab.ssh_ok(
            node,
            "stat -c '%U %a' /data/mysql /var/run/custom /var/log/custom"
        ),
        "mysql 750\nmysql 755\nmysql 750\n",
        "on {node}"
    );
    lab.ssh_ok(
        node,
        "test ! -e /run/mysqld/mysqld.sock && test -S /var/run/custom/mysql.sock && \
         test -s /var/log/custom/mysql.err && kill -0 $(cat /var/run/custom/mysqld.pid)",
    );
}

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn mariadb_datadir_socket_log_and_pid_file_from_the_inventory(lab: Lab) {
    let inv = lab.inventory();
    let text = with_paths(&lab, "mariadb");

    let report = bootstrap(&inv);
    for step in ["server-paths", "data-directory", "server-config"] {
        assert!(
            step_changed(&report, step),
            "{step} did not change: {report}"
        );
    }
    for node in ["node-a", "node-b"] {
        check_paths(&lab, node, "mysql");
        // Debian's SysV script pings through debian.cnf: it sees the server running.
        lab.ssh_ok(node, "service mariadb status");
        // The error log is the file, not syslog (mysqld_safe's --skip-log-error).
        lab.ssh_ok(
            node,
            "grep -q 'ready for connections' /var/log/custom/mysql.err",
        );
    }
    // Replication works on the new paths, both ways.
    lab.ssh_ok(
        "node-a",
        "mysql -e 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY); INSERT INTO d.t VALUES (1)'",
    );
    wait_for("d.t on node-b", || {
        lab.ssh("node-b", "mysql -e 'INSERT INTO d.t VALUES (2)'")
            .status
            .success()
    });
    wait_for("2 rows on node-a", || {
        lab.ssh_ok("node-a", "mysql -N -B -e 'SELECT COUNT(*) FROM d.t'")
            .trim()
            == "2"
    });
    let again = bootstrap(&inv);
    assert_eq!(again["changed"], 0, "{again}");
    verify_healthy(&inv);
    // status and failover-test reach the servers through the custom socket; stopping
    // mariadb (SysV script, debian.cnf) moves the VIP, and the node comes back.
    let status = mhactl(&["-i", &inv, "status"]);
    assert!(
        status.status.success(),
        "{}",
        String::from_utf8_lossy(&status.stdout)
    );
    let failover = mhactl(&["-i", &inv, "failover-test", "--mode", "stop-mysqld"]);
    assert!(
        failover.status.success(),
        "failover-test failed:\n{}\n{}",
        String::from_utf8_lossy(&failover.stdout),
        String::from_utf8_lossy(&failover.stderr)
    );
    // The service restarts cleanly with the custom socket and pid file.
    lab.ssh_ok("node-b", "service mariadb restart");

    // reinit rebuilds node-b on the same paths; the data comes back from node-a.
    reinit(&inv, "node-b");
    check_paths(&lab, "node-b", "mysql");
    assert_eq!(
        lab.ssh_ok("node-b", "mysql -N -B -e 'SELECT COUNT(*) FROM d.t'")
            .trim(),
        "2"
    );
    assert_eq!(
        lab.ssh_ok("node-b", "ls -d /data/mysql.mhactl-* | wc -l")
            .trim(),
        "1",
        "the old data directory is kept aside"
    );
    verify_healthy(&inv);
    let again = bootstrap(&inv);
    assert_eq!(again["changed"], 0, "{again}");

    // A directory with files but no database is never initialised over.
    lab.ssh_ok(
        "node-b",
        "mkdir -p /data/other && echo keep > /data/other/precious.txt",
    );
    std::fs::write(&inv, text.replace("/data/mysql", "/data/other")).unwrap();
    let out = mhactl(&["bootstrap", &inv, "--no-progress"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        // Refused before anything runs (issue 14's ownership rule: root's, not empty).
        all.contains("mysql.datadir: node-b: /data/other is a non-empty directory owned by root"),
        "{all}"
    );
    assert_eq!(
        lab.ssh_ok("node-b", "cat /data/other/precious.txt").trim(),
        "keep"
    );
    assert_eq!(
        lab.ssh_ok("node-b", "mysql -N -B -e 'SELECT @@datadir'")
            .trim(),
        "/data/mysql/"
    );
}

fn mysql_datadir_socket_log_and_pid_file_and_reinit(lab: Lab) {
    let inv = lab.inventory();
    with_paths(&lab, "mysql");

    let report = bootstrap(&inv);
    for step in [
        "admin-access",
        "server-paths",
        "data-directory",
        "server-config",
    ] {
        assert!(
            step_changed(&report, step),
            "{step} did not change: {report}"
        );
    }
    let client = "mysql --defaults-extra-file=/root/e2e.cnf";
    for node in ["node-a", "node-b"] {
        lab.root_option_file(node);
        // No -S: the [client] socket; the inventory's root password works on the new datadir.
        check_paths(&lab, node, client);
        // mysqld --initialize wrote its temporary password to the inventory's error log.
        lab.ssh_ok(
            node,
            "grep -q 'A temporary password is generated for root@localhost' /var/log/custom/mysql.err",
        );
    }
    lab.ssh_ok(
        "node-a",
        &admin_write(
            client,
            "CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY); INSERT INTO d.t VALUES (1)",
        ),
    );
    wait_for("d.t on node-b", || {
        lab.ssh("node-b", &admin_write(client, "INSERT INTO d.t VALUES (2)"))
            .status
            .success()
    });
    wait_for("2 rows on node-a", || {
        lab.ssh_ok(
            "node-a",
            &format!("{client} -N -B -e 'SELECT COUNT(*) FROM d.t'"),
        )
        .trim()
            == "2"
    });
    let again = bootstrap(&inv);
    assert_eq!(again["changed"], 0, "{again}");
    verify_healthy(&inv);

    // reinit on MySQL: a fresh datadir (new temporary password, replaced), the data
    // copied from node-a, replication both ways again.
    reinit(&inv, "node-b");
    check_paths(&lab, "node-b", client);
    assert_eq!(
        lab.ssh_ok(
            "node-b",
            &format!("{client} -N -B -e 'SELECT COUNT(*) FROM d.t'")
        )
        .trim(),
        "2"
    );
    lab.ssh_ok("node-b", &admin_write(client, "INSERT INTO d.t VALUES (3)"));
    wait_for("row 3 on node-a", || {
        lab.ssh_ok(
            "node-a",
            &format!("{client} -N -B -e 'SELECT COUNT(*) FROM d.t'"),
        )
        .trim()
            == "3"
    });
    verify_healthy(&inv);
    let again = bootstrap(&inv);
    assert_eq!(again["changed"], 0, "{again}");
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(mariadb_datadir_socket_log_and_pid_file_from_the_inventory),
        scenario!(mysql_datadir_socket_log_and_pid_file_and_reinit).flavor("mysql"),
    ]
}

/// `statement` as root on MySQL, on either node: the passive node is fenced
/// (`super_read_only`, `writes: vip-holder`), so an administrator lifts only
/// `super_read_only` for it and restores it to `read_only` after, as mhactl does for its
/// own writes. The test is about replication in both directions, not about fencing.
fn admin_write(client: &str, statement: &str) -> String {
    format!(
        "{client} -e 'SET GLOBAL super_read_only = OFF; {statement}; SET GLOBAL super_read_only = @@GLOBAL.read_only'"
    )
}
