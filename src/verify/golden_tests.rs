//! A golden test of verify's whole check list on a fake EL9 + MySQL 8.4 pair: every
//! check's name, node, status and detail, in order, for the full run (with
//! `--checksum`), the probe-leftovers checks and the run with one node unreachable.
//! Taken before the checks moved into the registry, so it proves the move changed
//! nothing. Regenerate (only for a deliberate change) with `UPDATE_GOLDEN=1`.

use super::Check;
use crate::engine::{Cluster, NodeHandle};
use crate::transport::fake::FakeSql;
use std::sync::Arc;

const GOLDEN: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/golden/verify-fake-pair.txt"
);

fn inventory() -> crate::inventory::Inventory {
    crate::inventory::parse(
        "cluster: t\nnodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db2\n    address: 10.0.0.12\n\
         vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
         mysql:\n  flavor: mysql\n  version: \"8.4\"\n\
         credentials:\n  replication_password_env: MHACTL_TEST_GOLDEN_PW\n  root_password_env: MHACTL_TEST_GOLDEN_PW\n",
        "inventory.yaml",
    )
    .unwrap()
}

/// Two nodes whose files are what the inventory renders, whose server answers every
/// query with no rows: each check runs its whole read path and reports what it found.
/// With `replicating`, db1 replicates from db2 and holds the VIP, and db2's IO thread
/// stopped on an error.
fn cluster(inv: &crate::inventory::Inventory, replicating: bool) -> Cluster {
    cluster_and_sql(inv, replicating).0
}

/// [`cluster`] with each node's fake server (their round trips: the budget below).
fn cluster_and_sql(
    inv: &crate::inventory::Inventory,
    replicating: bool,
) -> (Cluster, Vec<FakeSql>) {
    let mut servers = Vec::new();
    let nodes = ["db1", "db2"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let (t, sql) = super::fake_pair::el9_mysql84_node(
                inv,
                i,
                name,
                "[mysqld]\ndatadir=/var/lib/mysql\n!includedir /etc/my.cnf.d/\n",
            );
            if replicating {
                let (peer, io, errno, behind) = match i {
                    0 => ("10.0.0.12", "Yes", "0", Some("45")),
                    _ => ("10.0.0.11", "No", "1236", None),
                };
                sql.on(
                    "SHOW REPLICA STATUS",
                    vec![vec![
                        ("Replica_IO_Running", Some(io)),
                        ("Replica_SQL_Running", Some("Yes")),
                        ("Source_Host", Some(peer)),
                        ("Source_Port", Some("3306")),
                        ("Source_User", Some("repl")),
                        ("Source_Log_File", Some("binlog.000002")),
                        ("Read_Source_Log_Pos", Some("900")),
                        ("Relay_Source_Log_File", Some("binlog.000002")),
                        ("Exec_Source_Log_Pos", Some("800")),
                        ("Seconds_Behind_Source", behind),
                        ("Last_IO_Errno", Some(errno)),
                        ("Last_IO_Error", Some("binlog truncated")),
                        ("Last_SQL_Errno", Some("0")),
                        ("Last_SQL_Error", Some("")),
                    ]],
                );
            }
            for query in [
                "SELECT @@GLOBAL.",
                "SHOW GLOBAL VARIABLES WHERE",
                "SHOW GLOBAL STATUS",
                "SHOW REPLICA STATUS",
                "SHOW BINARY LOG STATUS",
                "FROM mysql.user WHERE",
                "FROM information_schema.SCHEMATA",
                "SHOW DATABASES LIKE",
                "FROM mysql.db",
                "information_schema.TABLES",
            ] {
                if !(replicating && query == "SHOW REPLICA STATUS") {
                    sql.on(query, vec![]);
                }
            }
            t.on("systemctl is-active --quiet keepalived", 0, "");
            let addresses = if replicating && i == 0 {
                "2: eth0    inet 10.0.0.100/32 scope global eth0\n"
            } else {
                ""
            };
            t.on("ip -4 -o addr show dev eth0", 0, addresses);
            if replicating && i == 1 {
                // db2 asks through the VIP with its own client: db1 answers.
                t.on("--protocol=TCP --connect-timeout=5 -N -B -e", 0, "1\n");
            }
            servers.push(sql.clone());
            NodeHandle::new(
                i,
                name,
                Arc::new(super::fake_pair::ReadingAhead::only_through_facts(
                    Arc::new(t),
                )),
                Some(sql.connector()),
            )
        })
        .collect();
    let cluster = Cluster {
        nodes,
        secrets: vec![],
    };
    (cluster, servers)
}

/// Issue 21's budget: verify's remote commands per node (the target is 4 round trips per
/// node). Today three batches: the OS and the server's version; the variables, the
/// files, the option-file chain in one read (`facts::option_chain`) and the clocks
/// (`clock-skew` bounds its error by the batch's round trip); what those decide (the
/// pid file with the server's command line, the interface's addresses). Asserted
/// exactly, so that a change that adds a command to verify's read path fails here
/// (batch the new read, facts::prefetch) and one that saves a command lowers it, with
/// docs/benchmarks.md's numbers.
const VERIFY_COMMANDS_PER_NODE: u64 = 3;

/// Issue 21's budget: verify's SQL round trips per node on its admin connection (a batch
/// of queries is one, [`FakeSql::round_trips`]): one batch per prefetch pass that wants
/// SQL, and nothing after them (`probe-leftovers` reads in the round's batches). Asserted
/// exactly, like the commands.
const VERIFY_SQL_ROUND_TRIPS_PER_NODE: u64 = 4;

#[test]
fn verify_stays_within_its_round_trip_budget() {
    let inv = inventory();
    std::env::set_var("MHACTL_TEST_GOLDEN_PW", "Golden-pw-4-verify!");
    let secrets = crate::inventory::Secrets::resolve(&inv, false).unwrap();
    let (c, servers) = cluster_and_sql(&inv, true);
    // What `verify` runs: the round with `probe-leftovers`.
    let _ = super::check_round(&c, &inv, &secrets, false, true);
    for (node, sql) in c.nodes.iter().zip(&servers) {
        let ran = node.transport.stats().unwrap().remote_commands();
        assert_eq!(
            ran, VERIFY_COMMANDS_PER_NODE,
            "{}: verify ran {ran} remote commands; its budget is exactly {VERIFY_COMMANDS_PER_NODE}",
            node.name
        );
        let round_trips = sql.round_trips();
        assert_eq!(
            round_trips,
            VERIFY_SQL_ROUND_TRIPS_PER_NODE,
            "{}: verify made {round_trips} SQL round trips; its budget is exactly \
             {VERIFY_SQL_ROUND_TRIPS_PER_NODE}: {:#?}",
            node.name,
            sql.statements()
        );
    }
}

fn render(section: &str, checks: &[Check], out: &mut String) {
    out.push_str(&format!("== {section}\n"));
    for c in checks {
        out.push_str(&serde_json::to_string(c).unwrap());
        out.push('\n');
    }
}

#[test]
fn the_whole_check_list_of_a_fake_pair_is_unchanged() {
    let inv = inventory();
    std::env::set_var("MHACTL_TEST_GOLDEN_PW", "Golden-pw-4-verify!");
    let secrets = crate::inventory::Secrets::resolve(&inv, false).unwrap();
    let mut out = String::new();
    let c = cluster(&inv, false);
    render(
        "check_cluster --checksum",
        &super::check_cluster(&c, &inv, &secrets, true),
        &mut out,
    );
    render("probe-leftovers", &super::leftovers::check(&c), &mut out);
    let mut partial = super::partial::run(&c, &inv, &secrets, true, &[1]);
    for check in &mut partial {
        check.detail = c.redact(&check.detail);
    }
    render("db2 unreachable --checksum", &partial, &mut out);
    render(
        "db1 without SQL",
        &super::registry::sql_not_run("db1", &inv),
        &mut out,
    );
    let c = cluster(&inv, true);
    render(
        "replicating, db1 holds the VIP",
        &super::check_cluster(&c, &inv, &secrets, false),
        &mut out,
    );
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN, &out).unwrap();
    }
    let want =
        std::fs::read_to_string(GOLDEN).expect("the golden file (UPDATE_GOLDEN=1 writes it)");
    assert_eq!(out, want, "verify's check list changed");
}
