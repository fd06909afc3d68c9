//! The refusal and risk rules, data-driven: a runbook node (as adopt reads the lab's
//! runbook pair) changed one way per case, and what adopt must conclude.

use super::*;
use crate::adopt::discover::{
    AccountView, KeepalivedView, NotifyScript, OptionSource, ReplicaView,
};
use crate::os::addresses::InterfaceAddress;
use crate::os::keepalived_conf;

const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

/// A node of the runbook's pair: replicating from its peer, slave_skip_errors=1062,
/// MIXED, root@'%', keepalived with an IPVS block and a pkill notify script.
pub(crate) fn runbook_node(name: &str, me: u8, peer: u8, holds_vip: bool) -> NodeFindings {
    let mut addresses = vec![InterfaceAddress {
        interface: "eth0".into(),
        address: Ipv4Addr::new(10, 0, 0, me),
        prefix: 24,
    }];
    if holds_vip {
        addresses.push(InterfaceAddress {
            interface: "eth0".into(),
            address: VIP,
            prefix: 24,
        });
    }
    let conf = keepalived_conf::parse(
        "vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 51\n \
         priority 100\n nopreempt\n authentication {\n auth_type PASS\n auth_pass x\n }\n \
         virtual_ipaddress {\n 10.0.0.100\n }\n}\nvirtual_server 10.0.0.100 3306 {\n \
         real_server 10.0.0.11 3306 {\n notify_down /opt/k.sh\n TCP_CHECK {\n nb_get_retry 3\n }\n }\n}\n",
    );
    let vars = [
        ("server_id", if me == 11 { "1" } else { "2" }),
        ("auto_increment_increment", "2"),
        ("auto_increment_offset", if me == 11 { "1" } else { "2" }),
        ("binlog_format", "MIXED"),
        ("slave_skip_errors", "1062"),
        ("read_only", "OFF"),
        ("wsrep_on", "OFF"),
        ("sync_binlog", "1"),
        ("innodb_flush_log_at_trx_commit", "1"),
    ];
    NodeFindings {
        name: name.into(),
        address: Some(Ipv4Addr::new(10, 0, 0, me)),
        version: "10.11.6-MariaDB".into(),
        dialect: crate::dialect::Dialect::from_version_string("10.11.6-MariaDB").ok(),
        variables: vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        options: vec![OptionSource {
            key: "slave_skip_errors".into(),
            value: "1062".into(),
            file: "/etc/mysql/mariadb.conf.d/60-runbook.cnf".into(),
            overridden: vec![],
        }],
        replica: Some(ReplicaView {
            source_host: format!("10.0.0.{peer}"),
            source_port: 3306,
            user: "hadoop".into(),
            io_running: true,
            sql_running: true,
            positioning: "file/position".into(),
            seconds_behind: Some(0),
            ..ReplicaView::default()
        }),
        sources: vec![crate::facts::adopt::SourceEntry {
            name: String::new(),
            host: format!("10.0.0.{peer}"),
        }],
        replica_clients: vec![format!("10.0.0.{peer}")],
        accounts: vec![
            AccountView {
                user: "root".into(),
                host: "%".into(),
                grants: vec!["GRANT ALL PRIVILEGES ON *.* TO `root`@`%`".into()],
            },
            AccountView {
                user: "root".into(),
                host: "localhost".into(),
                grants: vec![],
            },
        ],
        keepalived: KeepalivedView {
            conf: Some(conf),
            running: Some(true),
            version: Some("2.2.7".into()),
            notify_scripts: vec![NotifyScript {
                keyword: "notify_down".into(),
                path: "/opt/k.sh".into(),
                stops_keepalived: Some(true),
            }],
        },
        addresses,
        firewall: "none (no firewalld)".into(),
        selinux: Some("Disabled".into()),
        data_kib: Some(10),
        ..NodeFindings::default()
    }
}

fn pair() -> Vec<NodeFindings> {
    vec![
        runbook_node("db1", 11, 12, true),
        runbook_node("db2", 12, 11, false),
    ]
}

type Change = fn(&mut Vec<NodeFindings>);
/// A wanted refusal: exit code, node, words of the reason.
type Wanted = Option<(u8, &'static str, &'static str)>;

#[test]
fn refusals_name_the_node_the_reason_and_the_exit_code() {
    let cases: &[(&str, Change, Wanted)] = &[
        ("the runbook pair is adopted", |_| {}, None),
        (
            "galera",
            |p| {
                p[1].variables.insert("wsrep_on".into(), "ON".into());
            },
            Some((2, "db2", "Galera")),
        ),
        (
            "one-way replication",
            |p| p[0].replica = None,
            Some((2, "db1", "does not replicate from db2")),
        ),
        (
            "a replica of another host",
            |p| p[1].replica.as_mut().unwrap().source_host = "10.0.0.99".into(),
            Some((2, "db2", "replicates from 10.0.0.99, not from its peer db1")),
        ),
        (
            "a second source (multi-source)",
            |p| {
                p[0].sources.push(crate::facts::adopt::SourceEntry {
                    name: "third".into(),
                    host: "10.0.0.13".into(),
                })
            },
            Some((2, "db1", "2 replication sources")),
        ),
        (
            "a third node reads the binary log",
            |p| p[1].replica_clients.push("10.0.0.13".into()),
            Some((2, "db2", "more than two nodes replicate")),
        ),
        (
            "a peer known by name is the peer",
            |p| p[1].replica_clients = vec!["db1".into()],
            None,
        ),
        (
            "SQL thread stopped on an error",
            |p| {
                let r = p[1].replica.as_mut().unwrap();
                r.sql_running = false;
                r.last_sql_errno = 1146;
                r.last_sql_error = "Table 'shop.x' doesn't exist".into();
            },
            Some((1, "db2", "the SQL thread stopped with error 1146")),
        ),
        (
            "IO thread stopped, no error",
            |p| p[0].replica.as_mut().unwrap().io_running = false,
            Some((1, "db1", "the IO thread is stopped")),
        ),
    ];
    for (what, change, want) in cases {
        let mut p = pair();
        change(&mut p);
        let got = refusal(&p);
        match (want, got) {
            (None, None) => {}
            (Some((code, node, text)), Some(r)) => {
                assert_eq!(r.exit_code, *code, "{what}: {r:?}");
                assert_eq!(r.node, *node, "{what}: {r:?}");
                assert!(r.reason.contains(text), "{what}: {}", r.reason);
            }
            (want, got) => panic!("{what}: wanted {want:?}, got {got:?}"),
        }
    }
}

fn ids(risks: &[Risk]) -> Vec<String> {
    risks
        .iter()
        .map(|r| format!("{}:{}", r.node, r.id))
        .collect()
}

#[test]
fn the_runbook_pairs_risks() {
    let got = ids(&risks(&pair(), VIP, &TableComparison::default()));
    for want in [
        "db1:skip-errors",
        "db2:skip-errors",
        "db1:root-remote",
        "db1:binlog-format",
        "db1:ipvs-virtual-server",
        "db1:notify-pkill",
        "db1:auth-pass",
        "db1:backup-nopreempt",
        "db1:no-health-check",
        "db1:writable",
        "db1:file-position",
        "db1:selinux-off",
        "db1:firewall-off",
    ] {
        assert!(got.contains(&want.to_string()), "no {want} in {got:?}");
    }
    for absent in [
        "pair:vip-nowhere",
        "pair:auto-increment",
        "db1:durability",
        "pair:tables-differ",
    ] {
        assert!(!got.contains(&absent.to_string()), "{absent} in {got:?}");
    }
}

#[test]
fn each_rule_fires_on_its_finding_alone() {
    let cases: &[(&str, Change, &str)] = &[
        (
            "vip on no node",
            |p| p[0].addresses.truncate(1),
            "pair:vip-nowhere",
        ),
        (
            "vip on both",
            |p| {
                let vip = p[0].addresses[1].clone();
                p[1].addresses.push(vip)
            },
            "pair:vip-twice",
        ),
        (
            "same offsets",
            |p| {
                p[1].variables
                    .insert("auto_increment_offset".into(), "1".into());
            },
            "pair:auto-increment",
        ),
        (
            "same server id",
            |p| {
                p[1].variables.insert("server_id".into(), "1".into());
            },
            "pair:same-server-id",
        ),
        (
            "relaxed durability",
            |p| {
                p[0].variables.insert("sync_binlog".into(), "0".into());
            },
            "db1:durability",
        ),
        (
            "keepalived stopped",
            |p| p[1].keepalived.running = Some(false),
            "db2:keepalived-stopped",
        ),
        (
            "no keepalived.conf",
            |p| p[1].keepalived.conf = None,
            "db2:no-keepalived",
        ),
        (
            "an application superuser",
            |p| {
                p[0].accounts.push(AccountView {
                    user: "app".into(),
                    host: "10.0.%".into(),
                    grants: vec!["GRANT ALL PRIVILEGES ON *.* TO `app`@`10.0.%`".into()],
                })
            },
            "db1:remote-superuser",
        ),
        (
            "a filter",
            |p| {
                p[0].options.push(OptionSource {
                    key: "replicate_do_db".into(),
                    value: "shop".into(),
                    file: "/etc/my.cnf".into(),
                    overridden: vec![],
                })
            },
            "db1:replication-filters",
        ),
        (
            "an option set twice",
            |p| p[0].options[0].overridden.push("/etc/my.cnf (OFF)".into()),
            "db1:option-set-twice",
        ),
        (
            "a file read after mhactl's drop-in",
            |p| p[0].drop_in = Some("/etc/mysql/mariadb.conf.d/60-mhactl.cnf".into()),
            "db1:overrides-mhactl",
        ),
        (
            "another series",
            |p| p[1].dialect = crate::dialect::Dialect::from_version_string("10.6.16-MariaDB").ok(),
            "pair:versions-differ",
        ),
    ];
    let base = ids(&risks(&pair(), VIP, &TableComparison::default()));
    for (what, change, want) in cases {
        assert!(
            !base.contains(&want.to_string()),
            "{what}: {want} already in the base case"
        );
        let mut p = pair();
        change(&mut p);
        let got = ids(&risks(&p, VIP, &TableComparison::default()));
        assert!(
            got.contains(&want.to_string()),
            "{what}: no {want} in {got:?}"
        );
    }
}

#[test]
fn differing_tables_are_a_blocker_that_names_them() {
    let tables = TableComparison {
        compared: 2,
        differing: vec!["shop.stock differs (1 on db1, 2 on db2)".into()],
        ..TableComparison::default()
    };
    let r = risks(&pair(), VIP, &tables);
    assert_eq!(r[0].id, "tables-differ", "blockers first: {:?}", ids(&r));
    assert_eq!(r[0].severity, Severity::Blocker);
    assert!(r[0].found.contains("shop.stock"), "{}", r[0].found);
    assert!(r[0].change.contains("pt-table-sync"), "{}", r[0].change);
    let skipped = TableComparison {
        skipped: Some("node-b has not caught up with its peer within 10 s".into()),
        ..TableComparison::default()
    };
    let got = ids(&risks(&pair(), VIP, &skipped));
    assert!(
        got.contains(&"pair:tables-not-compared".to_string()),
        "{got:?}"
    );
}

#[test]
fn files_read_after_the_drop_in() {
    let files = vec![
        "/etc/mysql/my.cnf".to_string(),
        "/etc/mysql/mariadb.conf.d/50-server.cnf".to_string(),
    ];
    let drop_in = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
    for (file, after) in [
        ("/etc/mysql/mariadb.conf.d/60-runbook.cnf", true),
        ("/etc/mysql/mariadb.conf.d/50-server.cnf", false),
        ("/etc/mysql/my.cnf", false),
        ("/etc/mysql/mariadb.conf.d/60-mhactl.cnf", false),
        ("the server's command line", false),
    ] {
        assert_eq!(read_after(file, drop_in, &files), after, "{file}");
    }
}
