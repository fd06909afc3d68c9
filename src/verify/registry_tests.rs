//! The registry against docs/verify.md, and the pure checks on values.

use super::{Scope, CHECKS};
use crate::dialect::ReplicaStatus;
use crate::verify::checks::{access, checksum, host, mysqld, pair, replication};
use crate::verify::{Check, Severity};

/// docs/verify.md's rows (check name, severity cell) under the heading `heading`.
fn doc_rows(heading: &str) -> Vec<(String, String)> {
    let doc = include_str!("../../docs/verify.md");
    let section = doc.split(heading).nth(1).expect("the heading");
    section
        .lines()
        .skip_while(|l| !l.starts_with('|'))
        .take_while(|l| l.starts_with('|'))
        .skip(2)
        .map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let name = cells[1].split('`').nth(1).expect("a `name`").to_string();
            (name, cells[2].to_string())
        })
        .collect()
}

#[test]
fn docs_list_exactly_the_registry_checks_in_order_with_their_severity() {
    for (heading, scope) in [
        ("## Per node", Scope::Node),
        ("## About the pair", Scope::Pair),
    ] {
        let docs = doc_rows(heading);
        let names: Vec<&str> = docs.iter().map(|(n, _)| n.as_str()).collect();
        let registry: Vec<&str> = CHECKS
            .iter()
            .filter(|k| k.scope == scope)
            .map(|k| k.name)
            .collect();
        assert_eq!(names, registry, "docs/verify.md {heading} vs the registry");
        for ((name, severity), kind) in docs.iter().zip(CHECKS.iter().filter(|k| k.scope == scope))
        {
            let declared = match kind.severity {
                Severity::Error => "error",
                Severity::Warning => "warning",
            };
            assert!(
                severity.starts_with(declared),
                "{name}: docs say {severity:?}, the registry {declared}"
            );
        }
    }
}

#[test]
fn names_are_unique_and_sql_checks_declare_sql_reads() {
    for (i, k) in CHECKS.iter().enumerate() {
        assert!(
            CHECKS[..i].iter().all(|o| o.name != k.name),
            "{} twice",
            k.name
        );
        if let super::Run::Sql { .. } = k.run {
            assert!(
                k.needs_sql(),
                "{} runs on SQL but declares no SQL read",
                k.name
            );
        }
        if let super::Run::Host(_) = k.run {
            assert!(!k.needs_sql(), "{} declares SQL but runs without", k.name);
        }
    }
}

fn status(ok: (bool, bool)) -> ReplicaStatus {
    ReplicaStatus {
        io_running: ok.0,
        sql_running: ok.1,
        source_host: "10.0.0.12".into(),
        source_port: 3306,
        source_user: "repl".into(),
        source_log_file: "bin.000003".into(),
        read_source_log_pos: 900,
        relay_source_log_file: "bin.000003".into(),
        exec_source_log_pos: 800,
        seconds_behind: Some(3),
        last_io_errno: 0,
        last_io_error: String::new(),
        last_sql_errno: 0,
        last_sql_error: String::new(),
    }
}

fn verdict(c: &Check) -> (&str, bool, Severity) {
    (c.name.as_str(), c.ok, c.severity)
}

#[test]
fn node_checks_judge_values() {
    assert!(host::root_from_uid("db1", "0\n").ok);
    assert!(host::root_from_uid("db1", "1000\n")
        .detail
        .contains("uid 1000"));
    assert!(mysqld::server_id_from("db1", "1", "1").ok);
    assert_eq!(
        mysqld::server_id_from("db1", "0", "1").detail,
        "server_id is not set"
    );
    assert!(!mysqld::server_id_from("db1", "2", "1").ok);
    assert!(mysqld::auto_increment_from("db1", "2", "1", "1").ok);
    assert!(!mysqld::auto_increment_from("db1", "1", "1", "1").ok);
    assert!(mysqld::binlog_from("db1", "1", "log_slave_updates", "1").ok);
    assert!(!mysqld::binlog_from("db1", "1", "log_slave_updates", "0").ok);
    assert!(mysqld::read_only_from("db1", "0", || unreachable!("not asked when OFF")).ok);
    let ro = mysqld::read_only_from("db1", "1", || "set by x.cnf".into());
    assert_eq!(verdict(&ro), ("read-only", false, Severity::Warning));
    assert!(ro.detail.ends_with("; set by x.cnf"));
    assert!(mysqld::semi_sync_from("db1", "db2", None).ok);
    let d = crate::dialect::Dialect::from_version_string("10.11.18-MariaDB").unwrap();
    let read = |values: &[(&str, Option<&str>)]| {
        Some(mysqld::SemiSyncRead {
            io_running: true,
            source_side: mysqld::SourceSide::Both,
            names: d.semi_sync_names(),
            values: values
                .iter()
                .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
                .collect(),
        })
    };
    let healthy = [
        ("rpl_semi_sync_master_enabled", Some("ON")),
        ("rpl_semi_sync_slave_enabled", Some("ON")),
        ("Rpl_semi_sync_master_status", Some("ON")),
        ("Rpl_semi_sync_slave_status", Some("ON")),
        ("Rpl_semi_sync_master_clients", Some("1")),
        ("Rpl_semi_sync_master_no_tx", Some("0")),
    ];
    assert!(mysqld::semi_sync_from("db1", "db2", read(&healthy)).ok);
    // Fell back (the peer's replica went away): a warning naming the node and the peer.
    let mut fell_back = healthy;
    fell_back[2].1 = Some("OFF");
    fell_back[4].1 = Some("0");
    fell_back[5].1 = Some("41");
    let c = mysqld::semi_sync_from("db1", "db2", read(&fell_back));
    assert_eq!(verdict(&c), ("semi-sync", false, Severity::Warning));
    assert!(
        c.detail.contains("commits on db1 do not wait for db2"),
        "{}",
        c.detail
    );
    assert!(c.detail.contains("41 commits"), "{}", c.detail);
    // No semi-sync replica connected: the next commit does not wait, though the status
    // still reads ON (no commit switched it yet).
    let mut no_client = healthy;
    no_client[4].1 = Some("0");
    let c = mysqld::semi_sync_from("db1", "db2", read(&no_client));
    assert_eq!(verdict(&c), ("semi-sync", false, Severity::Warning));
    // MySQL: the peer's server stopped, the source still counts its replica until the
    // next commit; this node's IO thread no longer runs.
    let mut stopped = read(&healthy);
    if let Some(r) = stopped.as_mut() {
        r.io_running = false;
    }
    let c = mysqld::semi_sync_from("db1", "db2", stopped);
    assert_eq!(verdict(&c), ("semi-sync", false, Severity::Warning));
    assert!(
        c.detail.contains("db1's replica is not connected to db2")
            && c.detail
                .contains("db1's next commit waits up to the timeout"),
        "{}",
        c.detail
    );
    // Not enabled (a switch OFF, or MySQL without its plugins): an error.
    let mut disabled = healthy;
    disabled[0].1 = Some("OFF");
    let c = mysqld::semi_sync_from("db1", "db2", read(&disabled));
    assert_eq!(verdict(&c), ("semi-sync", false, Severity::Error));
    let mut no_plugin = healthy;
    no_plugin[0].1 = None;
    let c = mysqld::semi_sync_from("db1", "db2", read(&no_plugin));
    assert_eq!(verdict(&c), ("semi-sync", false, Severity::Error));
    assert!(c.detail.contains("plugins are not loaded"), "{}", c.detail);
    // The source side following the VIP (`writes: vip-holder`): off on the passive node
    // passes; off on the holder warns and says who turns it on.
    let side = |side, values: &[(&str, Option<&str>)]| {
        read(values).map(|mut r| {
            r.source_side = side;
            r
        })
    };
    let mut passive = healthy;
    passive[0].1 = Some("OFF");
    passive[2].1 = Some("OFF");
    let c = mysqld::semi_sync_from("db1", "db2", side(mysqld::SourceSide::Passive, &passive));
    assert!(c.ok, "{}", c.detail);
    assert!(c.detail.contains("follows the VIP"), "{}", c.detail);
    let c = mysqld::semi_sync_from("db1", "db2", side(mysqld::SourceSide::Holder, &passive));
    assert_eq!(verdict(&c), ("semi-sync", false, Severity::Warning));
    assert!(
        c.detail.contains("the fence agent turns it on"),
        "{}",
        c.detail
    );
    assert!(mysqld::semi_sync_from("db1", "db2", side(mysqld::SourceSide::Holder, &healthy)).ok);
    assert!(access::access_users_from("db1", &["'app'@'%'".into()], &[]).ok);
    assert!(!access::access_users_from("db1", &[], &["x".into()]).ok);
}

#[test]
fn replication_checks_judge_a_replica_status() {
    assert_eq!(replication::threads_problem(&status((true, true))), None);
    let mut broken = status((false, true));
    broken.last_io_errno = 2003;
    broken.last_io_error = "cannot connect".into();
    assert_eq!(
        replication::threads_problem(&broken).unwrap(),
        "IO thread NOT running, SQL thread running\nlast IO error 2003: cannot connect"
    );
    let peer = ("db2", "10.0.0.12");
    assert!(replication::source_check("db1", &status((true, true)), peer, 3306, "repl").ok);
    assert!(!replication::source_check("db1", &status((true, true)), peer, 3307, "repl").ok);
    let mut s = status((true, true));
    assert!(replication::lag_from("db1", &s).ok);
    s.seconds_behind = Some(31);
    assert_eq!(
        verdict(&replication::lag_from("db1", &s)),
        ("replication-lag", false, Severity::Warning)
    );
    s.seconds_behind = None;
    assert_eq!(
        verdict(&replication::lag_from("db1", &s)),
        ("replication-lag", false, Severity::Error)
    );
    assert!(replication::skip_errors_from("db1", "slave_skip_errors", "OFF").ok);
    assert!(replication::skip_errors_from("db1", "slave_skip_errors", "").ok);
    assert_eq!(
        verdict(&replication::skip_errors_from(
            "db1",
            "slave_skip_errors",
            "1062"
        )),
        ("skip-errors", false, Severity::Warning)
    );
}

#[test]
fn pair_checks_judge_values() {
    assert!(pair::server_id_distinct_from(Some("1"), Some("2")).ok);
    assert!(!pair::server_id_distinct_from(Some("1"), Some("1")).ok);
    assert!(!pair::server_id_distinct_from(None, Some("1")).ok);
    let names = ["db1", "db2"];
    assert!(!pair::vip_from("10.0.0.100", &names, &[]).ok);
    assert_eq!(
        pair::vip_from("10.0.0.100", &names, &[1]).detail,
        "10.0.0.100 held by db2"
    );
    assert!(pair::vip_from("10.0.0.100", &names, &[0, 1])
        .detail
        .starts_with("split brain"));
    // Half the slower round trip is taken off: 1.4 s apart with a 1 s round trip is fine.
    assert!(pair::clock_skew_from((100.0, 1.0), (101.4, 0.1)).ok);
    assert_eq!(
        verdict(&pair::clock_skew_from((100.0, 0.0), (102.0, 0.0))),
        ("clock-skew", false, Severity::Warning)
    );
    let a = vec![("`d`.`t`".to_string(), Some("1".to_string()))];
    let b = vec![("`d`.`t`".to_string(), None)];
    let problems = crate::table_compare::differences(&a, &b, names);
    assert_eq!(problems, ["`d`.`t` differs (1 on db1, NULL on db2)"]);
    assert!(!checksum::checksum_from(1, &problems).ok);
    assert_eq!(
        checksum::checksum_from(1, &[]).detail,
        "1 tables identical on both nodes"
    );
}
