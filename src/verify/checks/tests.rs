//! Tests of the checks that read through fakes (the pure ones are tested beside them).

use crate::engine::{Cluster, NodeHandle};
use std::sync::Arc;

/// EL9 + MySQL 8.4 with mhactl's drop-in exactly as the inventory renders it, and
/// the RPM's /etc/my.cnf with or without the `!includedir` line.
fn cluster(inv: &crate::inventory::Inventory, my_cnf: &str) -> Cluster {
    let nodes = ["db1", "db2"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (t, sql) = crate::verify::fake_pair::el9_mysql84_node(inv, i, name, my_cnf);
            // The rest of what verify reads finds an empty node (this test looks at
            // my-cnf only): no variables, no replica, no accounts, no keepalived.
            for query in [
                "SELECT @@GLOBAL.",
                "SHOW GLOBAL VARIABLES WHERE",
                "SHOW REPLICA STATUS",
                "SHOW BINARY LOG STATUS",
                "FROM mysql.user WHERE",
                "FROM information_schema.SCHEMATA",
            ] {
                sql.on(query, vec![]);
            }
            t.on("systemctl is-active --quiet keepalived", 3, "");
            t.on("ip -4 -o addr show dev eth0", 0, "");
            NodeHandle::new(i, name, Arc::new(t), Some(sql.connector()))
        })
        .collect();
    Cluster {
        nodes,
        secrets: vec![],
    }
}

#[test]
fn a_drop_in_that_el_mysql_never_reads_fails_my_cnf() {
    let inv = crate::inventory::parse(
        "cluster: t\nnodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db2\n    address: 10.0.0.12\n\
         vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
         mysql:\n  flavor: mysql\n  version: \"8.4\"\n\
         credentials:\n  replication_password_env: MHACTL_TEST_VERIFY_PW\n  root_password_env: MHACTL_TEST_VERIFY_PW\n",
        "inventory.yaml",
    )
    .unwrap();
    std::env::set_var("MHACTL_TEST_VERIFY_PW", "Repl-pw-4-verify!");
    let secrets = crate::inventory::Secrets::resolve(&inv, false).unwrap();
    let rpm = "[mysqld]\ndatadir=/var/lib/mysql\nsocket=/var/lib/mysql/mysql.sock\n";
    for (my_cnf, ok) in [
        (rpm.to_string(), false),
        (format!("{rpm}!includedir /etc/my.cnf.d/\n"), true),
    ] {
        let checks = crate::verify::check_cluster(&cluster(&inv, &my_cnf), &inv, &secrets, false);
        let my = checks
            .iter()
            .find(|c| c.name == "my-cnf" && c.node == "db1")
            .expect("a my-cnf check");
        assert_eq!(my.ok, ok, "{my:?}");
        if !ok {
            assert!(
                my.detail
                    .contains("/etc/my.cnf lacks `!includedir /etc/my.cnf.d`"),
                "{my:?}"
            );
        }
    }
}
