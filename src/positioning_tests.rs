//! `positioning::resolve` on fake nodes: an unset positioning becomes `file` exactly when
//! a node already replicates by file and position; an explicit `gtid` on such a pair is
//! converted by bootstrap (a healthy replica) and refused otherwise (exit 2),
//! as on a server without GTID positioning; nodes that do not answer are skipped.

use super::{resolve, Resolve};
use crate::engine::{Cluster, NodeHandle};
use crate::inventory::{Inventory, Positioning};
use crate::transport::fake::{FakeSql, FakeTransport};
use std::sync::Arc;

fn inventory(positioning: &str) -> Inventory {
    let text = format!(
        "cluster: t\nnodes:\n  - name: node-a\n    address: 10.0.0.11\n  - name: node-b\n    \
         address: 10.0.0.12\nvip:\n  address: 10.0.0.100\n  interface: eth0\n  \
         virtual_router_id: 51\n{positioning}credentials:\n  replication_password_env: X\n"
    );
    crate::inventory::parse(&text, "inventory.yaml").expect("valid inventory")
}

/// A MariaDB 10.11 replica row of the peer, `Using_Gtid` as given.
fn replica(using_gtid: &'static str) -> Vec<Vec<(&'static str, Option<&'static str>)>> {
    vec![vec![
        ("Master_Host", Some("10.0.0.12")),
        ("Master_User", Some("repl")),
        ("Master_Port", Some("3306")),
        ("Master_Log_File", Some("mysql-bin.000003")),
        ("Read_Master_Log_Pos", Some("9000")),
        ("Relay_Master_Log_File", Some("mysql-bin.000003")),
        ("Exec_Master_Log_Pos", Some("9000")),
        ("Slave_IO_Running", Some("Yes")),
        ("Slave_SQL_Running", Some("Yes")),
        ("Seconds_Behind_Master", Some("0")),
        ("Last_IO_Errno", Some("0")),
        ("Last_IO_Error", Some("")),
        ("Last_SQL_Errno", Some("0")),
        ("Last_SQL_Error", Some("")),
        ("Using_Gtid", Some(using_gtid)),
    ]]
}

/// Two nodes answering `version`, node-a with `replica_a` (`None`: no replica), node-b
/// with none; `answers: false`: no server answers (a bare host).
fn pair(version: &'static str, replica_a: Option<&'static str>, answers: bool) -> Cluster {
    let nodes = ["node-a", "node-b"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let t = FakeTransport::new(name);
            let sql = FakeSql::new();
            sql.on("SELECT VERSION()", vec![vec![("version", Some(version))]]);
            let rows = match (i, replica_a) {
                (0, Some(using)) => replica(using),
                _ => vec![],
            };
            sql.on("SHOW REPLICA STATUS", rows.clone());
            sql.on("SHOW SLAVE STATUS", rows);
            NodeHandle::new(i, name, Arc::new(t), answers.then(|| sql.connector()))
        })
        .collect();
    Cluster {
        nodes,
        secrets: vec![],
    }
}

/// A MariaDB pair whose node-a replica (by file and position) stopped on error 1062.
fn broken_pair() -> Cluster {
    let c = pair(MARIADB, None, true);
    let sql = FakeSql::new();
    sql.on("SELECT VERSION()", vec![vec![("version", Some(MARIADB))]]);
    let mut rows = replica("No");
    for (k, v) in rows[0].iter_mut() {
        match *k {
            "Slave_SQL_Running" => *v = Some("No"),
            "Last_SQL_Errno" => *v = Some("1062"),
            "Last_SQL_Error" => *v = Some("Duplicate entry '7' for key 'PRIMARY'"),
            _ => {}
        }
    }
    sql.on("SHOW REPLICA STATUS", rows.clone());
    sql.on("SHOW SLAVE STATUS", rows);
    let a = NodeHandle::new(
        0,
        "node-a",
        Arc::new(FakeTransport::new("node-a")),
        Some(sql.connector()),
    );
    let mut nodes = c.nodes;
    nodes[0] = a;
    Cluster {
        nodes,
        secrets: vec![],
    }
}

const MARIADB: &str = "10.11.18-MariaDB-0+deb12u1";

#[test]
fn unset_stays_gtid_for_a_new_pair_and_becomes_file_for_a_file_position_pair() {
    let mut inv = inventory("");
    resolve(&mut inv, &pair(MARIADB, None, true), Resolve::Convert).unwrap();
    assert_eq!(inv.replication.positioning, None, "a new pair: GTIDs");
    assert!(inv.replication.gtid());
    resolve(
        &mut inv,
        &pair(MARIADB, Some("Slave_Pos"), true),
        Resolve::Convert,
    )
    .unwrap();
    assert_eq!(inv.replication.positioning, None, "a GTID pair stays one");
    resolve(&mut inv, &pair(MARIADB, Some("No"), true), Resolve::Convert).unwrap();
    assert_eq!(inv.replication.positioning, Some(Positioning::File));
    assert!(!inv.replication.gtid());
    // A bare host (no server answers yet) is a new pair.
    let mut inv = inventory("");
    resolve(&mut inv, &pair(MARIADB, None, false), Resolve::Convert).unwrap();
    assert_eq!(inv.replication.positioning, None);
}

#[test]
fn an_explicit_gtid_is_refused_where_the_pair_cannot_have_it() {
    let gtid = "replication:\n  positioning: gtid\n";
    let exit = |e: &anyhow::Error| crate::error::exit_code_for(e);
    let mut inv = inventory(gtid);
    // MariaDB: bootstrap converts a healthy file/position pair ...
    resolve(&mut inv, &pair(MARIADB, Some("No"), true), Resolve::Convert).unwrap();
    assert_eq!(inv.replication.positioning, Some(Positioning::Gtid));
    // ... other commands refuse it and name bootstrap.
    let e = resolve(&mut inv, &pair(MARIADB, Some("No"), true), Resolve::Refuse).unwrap_err();
    assert!(
        e.to_string().contains(
            "node-a replicates by binary log file and position; run `mhactl bootstrap` first"
        ),
        "{e}"
    );
    assert_eq!(exit(&e), 2);
    // Not with both nodes writable (their old sessions share domain 0).
    let mut both = inventory(gtid);
    both.writes = crate::inventory::WriteMode::Both;
    let e = resolve(
        &mut both,
        &pair(MARIADB, Some("No"), true),
        Resolve::Convert,
    )
    .unwrap_err();
    assert!(
        e.to_string().contains("(writes: both)") && exit(&e) == 2,
        "{e}"
    );
    // A broken replica is not converted.
    let e = resolve(&mut inv, &broken_pair(), Resolve::Convert).unwrap_err();
    assert!(
        e.to_string()
            .contains("node-a's replica is broken (last SQL error 1062: Duplicate"),
        "{e}"
    );
    assert_eq!(exit(&e), 2);
    // MySQL: bootstrap converts it too (gtid_mode stepped online), with both nodes
    // writable as well (no domains); other commands refuse it.
    resolve(&mut inv, &pair("8.4.3", Some("No"), true), Resolve::Convert).unwrap();
    let mut both = inventory(gtid);
    both.writes = crate::inventory::WriteMode::Both;
    resolve(
        &mut both,
        &pair("9.7.0", Some("No"), true),
        Resolve::Convert,
    )
    .unwrap();
    let e = resolve(&mut inv, &pair("8.4.3", Some("No"), true), Resolve::Refuse).unwrap_err();
    assert_eq!(exit(&e), 2, "{e}");
    // verify reports instead of refusing.
    resolve(&mut inv, &pair("8.4.3", Some("No"), true), Resolve::Report).unwrap();
    assert_eq!(inv.replication.positioning, Some(Positioning::Gtid));
    let e = resolve(&mut inv, &pair("5.7.44-log", None, true), Resolve::Convert).unwrap_err();
    assert!(
        e.to_string()
            .contains("runs MySQL 5.7.44, which mhactl does not position by GTID"),
        "{e}"
    );
    assert_eq!(exit(&e), 2);
    // Unset on 5.7: file and position there, nothing refused.
    let mut inv = inventory("");
    resolve(&mut inv, &pair("5.7.44-log", None, true), Resolve::Convert).unwrap();
    let d = crate::dialect::Dialect::from_version_string("5.7.44-log").unwrap();
    assert!(!super::by_gtid(&inv, &d));
    // `file` is kept whatever the pair runs.
    let mut inv = inventory("replication:\n  positioning: file\n");
    resolve(
        &mut inv,
        &pair(MARIADB, Some("Slave_Pos"), true),
        Resolve::Convert,
    )
    .unwrap();
    assert_eq!(inv.replication.positioning, Some(Positioning::File));
}
