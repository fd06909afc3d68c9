//! End-to-end on the lab, issue 14 class 11: durability and
//! diagnosability defaults on Debian's MariaDB, on nodes without a syslog daemon.
//!
//! - After bootstrap both servers run with `sync_binlog = 1`,
//!   `innodb_flush_log_at_trx_commit = 1` and `relay_log_recovery = ON`, their error log
//!   is the file `/var/log/mysql/error.log` (Debian's SysV start would send it to a
//!   syslog nobody listens to), and `verify`'s `durability` check passes; after a
//!   `SET GLOBAL sync_binlog = 0` on node-b it fails there (running values, not the file).
//! - A server that does not start (a drop-in with an option it does not know, loaded
//!   after mhactl's): bootstrap fails naming the node, the error log's path and the
//!   server's own words from it; once the drop-in is gone, a re-run converges.

use crate::support::{mhactl, mhactl_json, text, Lab, Scenario};
use serde_json::Value;
use std::process::Output;

const ERROR_LOG: &str = "/var/log/mysql/error.log";
const BAD_DROP_IN: &str = "/etc/mysql/mariadb.conf.d/70-e2e-bad.cnf";
const BAD_OPTION: &str = "mhactl_e2e_no_such_option";

fn bootstrap(lab: &Lab) -> Output {
    mhactl(&["bootstrap", &lab.inventory(), "--no-progress"])
}

fn sql(lab: &Lab, node: &str, query: &str) -> String {
    lab.ssh_ok(node, &format!("mysql -N -B -e \"{query}\""))
        .trim()
        .to_string()
}

fn durable_defaults_and_a_quoted_error_log_without_syslog(lab: Lab) {
    // The premise: nothing listens on syslog on the lab's nodes.
    for node in ["node-a", "node-b"] {
        let probe = lab.ssh(
            node,
            "[ -S /dev/log ] && echo has-dev-log; \
             for p in rsyslogd syslogd syslog-ng systemd-journald; do pgrep -x $p >/dev/null && echo has-$p; done; true",
        );
        assert_eq!(
            String::from_utf8_lossy(&probe.stdout).trim(),
            "",
            "{node} has a syslog daemon: this test needs a node without one"
        );
    }

    let out = bootstrap(&lab);
    assert!(out.status.success(), "bootstrap failed:\n{}", text(&out));
    for node in ["node-a", "node-b"] {
        assert_eq!(
            sql(
                &lab,
                node,
                "SELECT @@GLOBAL.sync_binlog, @@GLOBAL.innodb_flush_log_at_trx_commit, \
                 @@GLOBAL.relay_log_recovery, @@GLOBAL.log_error"
            ),
            format!("1\t1\t1\t{ERROR_LOG}"),
            "{node}: durability settings or error log not in force"
        );
        // The server's own start-up lines are in the file.
        let log = lab.ssh_ok(node, &format!("cat {ERROR_LOG}"));
        assert!(
            log.contains("ready for connections"),
            "{node}: {ERROR_LOG} lacks the server's start-up lines:\n{log}"
        );
    }
    let (_, report) = mhactl_json(&["-i", &lab.inventory(), "verify", "--output", "json"]);
    let checks: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap_or_else(|| panic!("no checks in {report:#}"))
        .iter()
        .filter(|c| c["name"] == "durability")
        .collect();
    assert_eq!(checks.len(), 2, "one durability check per node: {report:#}");
    for c in checks {
        assert_eq!(c["ok"], true, "{c:#}");
        assert!(
            c["detail"]
                .as_str()
                .unwrap()
                .contains("sync_binlog 1, innodb_flush_log_at_trx_commit 1, relay_log_recovery ON"),
            "{c:#}"
        );
    }

    // A running value that differs from the inventory's (as a later option file or a
    // SET GLOBAL leaves it): verify's durability check fails on that node only.
    sql(&lab, "node-b", "SET GLOBAL sync_binlog = 0");
    let (out, report) = mhactl_json(&["-i", &lab.inventory(), "verify", "--output", "json"]);
    assert!(!out.status.success(), "verify passed:\n{}", text(&out));
    let durability: Vec<&Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "durability")
        .collect();
    for c in durability {
        let drifted = c["node"] == "node-b";
        assert_eq!(c["ok"], !drifted, "{c:#}");
        if drifted {
            assert!(
                c["detail"]
                    .as_str()
                    .unwrap()
                    .contains("sync_binlog is 0, want 1"),
                "{c:#}"
            );
        }
    }
    sql(&lab, "node-b", "SET GLOBAL sync_binlog = 1");

    // A drop-in the server rejects, loaded after mhactl's, and a change that makes
    // bootstrap restart the server: a replication filter (binlog expiry alone is set with
    // `SET GLOBAL`, without a restart). keepalived is stopped on both nodes, a maintenance
    // window with no VIP holder, so the servers restart in place, node-a's too (with the
    // VIP held, bootstrap restarts only the passive node: tests/e2e/rolling.rs); the re-run
    // below starts keepalived again.
    for node in ["node-a", "node-b"] {
        lab.ssh_ok(node, "service keepalived stop");
    }
    lab.ssh_ok(
        "node-a",
        &format!("printf '[mysqld]\\n{BAD_OPTION} = 1\\n' > {BAD_DROP_IN}"),
    );
    let inv = lab.inventory();
    let yaml = std::fs::read_to_string(&inv).unwrap();
    assert!(yaml.contains("  flavor: mariadb\n"), "{yaml}");
    std::fs::write(
        &inv,
        yaml.replace(
            "  flavor: mariadb\n",
            "  flavor: mariadb\n  binlog_expire_days: 3\n  ignore_databases: [e2e_ignored]\n",
        ),
    )
    .unwrap();
    let out = bootstrap(&lab);
    let said = text(&out);
    eprintln!("bootstrap with a bad drop-in on node-a said:\n{said}");
    assert!(!out.status.success(), "bootstrap passed:\n{said}");
    assert!(said.contains("node-a"), "no node named:\n{said}");
    assert!(
        said.contains(&format!("server's error log {ERROR_LOG} on node-a")),
        "the error log's path is not quoted:\n{said}"
    );
    // MariaDB's own words: "unknown variable 'mhactl_e2e_no_such_option=1'".
    assert!(
        said.contains(&format!("unknown variable '{BAD_OPTION}=1'")),
        "the server's own error is not quoted:\n{said}"
    );

    // The cause removed, a re-run converges and the settings hold.
    lab.ssh_ok("node-a", &format!("rm -f {BAD_DROP_IN}"));
    let out = bootstrap(&lab);
    assert!(out.status.success(), "re-run failed:\n{}", text(&out));
    assert_eq!(
        sql(
            &lab,
            "node-a",
            "SELECT @@GLOBAL.sync_binlog, @@GLOBAL.binlog_expire_logs_seconds"
        ),
        "1\t259200"
    );
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        durable_defaults_and_a_quoted_error_log_without_syslog
    )]
}
