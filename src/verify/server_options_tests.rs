//! The `server-options` check against a fake Debian MariaDB node: healthy, then with a
//! runbook drop-in's values in force, each named with its file.

use super::*;
use crate::engine::NodeHandle;
use crate::transport::fake::{FakeSql, FakeTransport};
use std::sync::Arc;

const DROP_INS: &str = "/etc/mysql/mariadb.conf.d";
const VERSION: &str = "10.11.18-MariaDB";

fn inventory() -> Inventory {
    crate::inventory::parse(
        "cluster: t\nnodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db2\n    address: 10.0.0.12\n\
         vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
         mysql:\n  flavor: mariadb\n\
         credentials:\n  replication_password_env: MHACTL_TEST_SERVER_OPTIONS_PW\n",
        "inventory.yaml",
    )
    .unwrap()
}

/// A node whose server runs with exactly what mhactl renders, plus `runbook` (a drop-in
/// read after mhactl's) and the running values in `overrides`.
fn node(
    inv: &Inventory,
    runbook: &str,
    overrides: &[(&str, &str)],
    replica_do_db: &str,
) -> (NodeHandle, Dialect, OsTarget) {
    let d = Dialect::from_version_string(VERSION).unwrap();
    let target = OsTarget::new(
        crate::os::OsFamily::Debian,
        crate::inventory::Flavor::Mariadb,
    )
    .unwrap();
    let rendered = crate::render::render_my_cnf(inv, 0, &d, &target).unwrap();
    let t = FakeTransport::new("db1");
    t.keep_files();
    t.on(
        "Default options are read from",
        0,
        "/etc/my.cnf /etc/mysql/my.cnf ~/.my.cnf\n",
    );
    t.on(
        &format!("ls -1 -- {DROP_INS}/"),
        0,
        "50-server.cnf\n60-mhactl.cnf\n90-runbook.cnf\n",
    );
    t.put_file(
        "/etc/mysql/my.cnf",
        &format!("[client-server]\nsocket = /run/mysqld/mysqld.sock\n!includedir {DROP_INS}/\n"),
    );
    t.put_file(
        &format!("{DROP_INS}/50-server.cnf"),
        "[mysqld]\nexpire_logs_days = 10\nserver_id = 1\n",
    );
    t.put_file(&format!("{DROP_INS}/60-mhactl.cnf"), &rendered);
    t.put_file(&format!("{DROP_INS}/90-runbook.cnf"), runbook);
    // Debian: no /etc/my.cnf, no root option file.
    t.on("if [ -e /etc/my.cnf ]", 3, "");
    t.on("if [ -e /root/.my.cnf ]", 3, "");
    let sql = FakeSql::new();
    // The replica status fact builds its query from the server's version (verify's
    // driver read it first on a real node).
    sql.on("SELECT VERSION()", vec![vec![("version", Some(VERSION))]]);
    // Unknown to this fixture (no rows): the server's command line is not read.
    sql.on("@@GLOBAL.datadir", vec![]);
    sql.on("@@GLOBAL.pid_file", vec![]);
    let mut running: Vec<(String, String)> = Vec::new();
    for line in option_files::parse(&rendered) {
        if let option_files::Line::Setting { group, key, value } = line {
            if group != "mysqld" {
                continue;
            }
            let value = value.unwrap_or_else(|| "ON".into());
            match key.as_str() {
                "log_bin" => {
                    running.push(("log_bin_basename".into(), format!("/var/lib/mysql/{value}")))
                }
                "relay_log" => running.push((
                    "relay_log_basename".into(),
                    format!("/var/lib/mysql/{value}"),
                )),
                _ => running.push((key, value)),
            }
        }
    }
    running.push(("slave_skip_errors".into(), "OFF".into()));
    for (k, v) in overrides {
        running.push((k.to_string(), v.to_string()));
    }
    // The overrides come last and replace what is rendered.
    let mut values: Vec<(String, String)> = Vec::new();
    for (k, v) in running {
        values.retain(|(name, _)| *name != k);
        values.push((k, v));
    }
    sql.on(
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN (",
        values
            .iter()
            .map(|(k, v)| {
                vec![
                    ("Variable_name", Some(k.as_str())),
                    ("Value", Some(v.as_str())),
                ]
            })
            .collect(),
    );
    let filters = |do_db: &str| {
        vec![vec![
            ("Replicate_Do_DB", Some(do_db.to_string())),
            ("Replicate_Ignore_DB", Some("mysql".to_string())),
            ("Replicate_Do_Table", Some(String::new())),
            ("Replicate_Ignore_Table", Some(String::new())),
            ("Replicate_Wild_Do_Table", Some(String::new())),
            ("Replicate_Wild_Ignore_Table", Some(String::new())),
        ]]
    };
    let rows = filters(replica_do_db);
    sql.on(
        &d.replica_status_sql(),
        rows.iter()
            .map(|r| r.iter().map(|(c, v)| (*c, v.as_deref())).collect())
            .collect(),
    );
    sql.on(
        &d.binlog_status_sql(),
        vec![vec![
            ("File", Some("mysql-bin.000001")),
            ("Binlog_Do_DB", Some("")),
            ("Binlog_Ignore_DB", Some("")),
        ]],
    );
    (
        NodeHandle::new(0, "db1", Arc::new(t), Some(sql.connector())),
        d,
        target,
    )
}

#[test]
fn a_server_running_what_mhactl_renders_passes() {
    let inv = inventory();
    let (n, d, target) = node(&inv, "[mysqld]\n", &[], "");
    let c = check(&n, &inv, &d, &target).unwrap();
    assert!(c.ok, "{c:?}");
    assert!(c.detail.contains("settings and filters"), "{c:?}");
}

#[test]
fn values_in_force_from_a_later_file_are_named_with_the_file() {
    let inv = inventory();
    let runbook =
        "[mysqld]\nreplicate-do-db = runbookdb\nslave_skip_errors = 1062\nlog-bin = runbook-bin\n";
    let (n, d, target) = node(
        &inv,
        runbook,
        &[
            ("slave_skip_errors", "1062"),
            ("log_bin_basename", "/var/lib/mysql/runbook-bin"),
            ("binlog_format", "MIXED"),
            ("server_id", "7"),
        ],
        "runbookdb",
    );
    let c = check(&n, &inv, &d, &target).unwrap();
    assert!(!c.ok, "{c:?}");
    let after =
        format!("by {DROP_INS}/90-runbook.cnf, read after mhactl's {DROP_INS}/60-mhactl.cnf");
    for needle in [
        format!("slave_skip_errors: the server runs with `1062`, the inventory wants `OFF`; set to `1062` {after}"),
        format!("replicate_do_db: the server runs with `runbookdb`, the inventory wants `(none)`; set `runbookdb` {after}"),
        format!("log_bin_basename: the server runs with `/var/lib/mysql/runbook-bin`, the inventory wants `<datadir>/mysql-bin`; set to `runbook-bin` {after}"),
        // Set by no file but mhactl's: the server was not restarted, or SET GLOBAL.
        "binlog_format: the server runs with `MIXED`, the inventory wants `ROW`; mhactl's".to_string(),
        // mhactl's file wins over 50-server.cnf, so 7 comes from elsewhere.
        "server_id: the server runs with `7`, the inventory wants `1`; mhactl's".to_string(),
    ] {
        assert!(c.detail.contains(&needle), "{needle}\nnot in:\n{}", c.detail);
    }
}

/// A later file that sets mhactl's options to the values in force today (the server
/// runs with mhactl's): a warning naming the file and its lines, since the next
/// inventory change or restart would not take effect (issue 18). The packaged
/// 50-server.cnf, read before mhactl's, is not named.
#[test]
fn a_later_file_with_the_same_values_is_a_warning_naming_it() {
    let inv = inventory();
    let (n, d, target) = node(
        &inv,
        "[mysqld]\nserver_id = 1\nbinlog_cache_size = 1M\n",
        &[],
        "",
    );
    let c = check(&n, &inv, &d, &target).unwrap();
    // Reported, at warning level: verify still passes.
    assert!(!c.ok, "{c:?}");
    assert_eq!(c.severity, Severity::Warning, "{c:?}");
    assert!(
        c.detail.contains(&format!(
            "other option files set them too and would win: {DROP_INS}/90-runbook.cnf (read \
             after mhactl's {DROP_INS}/60-mhactl.cnf): server_id=1;"
        )),
        "{}",
        c.detail
    );
    assert!(!c.detail.contains("50-server.cnf"), "{}", c.detail);
    assert!(!c.detail.contains("binlog_cache_size"), "{}", c.detail);
}

/// The command line (mysqld_safe passes `--log-error` and `--port` from mhactl's own
/// `[mysqld_safe]` group) with the values mhactl renders competes with nothing: no
/// option file to comment out, nothing that would win over the next change (CI: every
/// node that mysqld_safe started got the warning).
#[test]
fn the_command_line_with_the_rendered_values_is_not_a_competing_file() {
    let own = format!("{DROP_INS}/60-mhactl.cnf");
    let setting = |path: &str, key: &str, value: &str| crate::os::option_files::ServerSetting {
        path: path.to_string(),
        key: key.to_string(),
        value: Some(value.to_string()),
    };
    let sources = Sources {
        own: own.clone(),
        files: vec![own.clone(), COMMAND_LINE.to_string()],
        settings: vec![
            setting(&own, "port", "3306"),
            setting(&own, "log_error", "/var/log/mysql/error.log"),
            setting(COMMAND_LINE, "port", "3306"),
            setting(COMMAND_LINE, "log_error", "/var/log/mysql/error.log"),
        ],
        error: None,
    };
    let wanted = vec![
        ("port".to_string(), Some("3306".to_string())),
        (
            "log_error".to_string(),
            Some("/var/log/mysql/error.log".to_string()),
        ),
    ];
    assert_eq!(
        competing_lines(&sources, &wanted, &BTreeSet::new()),
        Vec::<String>::new()
    );
}
