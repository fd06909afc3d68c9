//! Fixture tests of the bootstrap steps: recorded outputs of real nodes (dpkg-query,
//! SHOW SLAVE STATUS, SHOW GRANTS ...) go in through the fake transport and fake SQL, and
//! the exact plan comes out — the pyinfra way, without hosts.

use super::steps::{all, Ctx};
use crate::engine::{Cluster, NodeHandle, Operation, Plan};
use crate::transport::fake::{FakeSql, FakeTransport};
use std::sync::Arc;

const DEBIAN_12: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";
const PASSWORD: &str = "s3cret-repl";

fn ctx() -> Arc<Ctx> {
    let text = "cluster: t\nnodes:\n  - name: node-a\n    address: 10.0.0.11\n  - name: node-b\n    address: 10.0.0.12\n\
         vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
         credentials:\n  replication_password_env: MHACTL_TEST_STEPS_PW\n";
    let inv = crate::inventory::parse(text, "inventory.yaml").expect("valid inventory");
    std::env::set_var("MHACTL_TEST_STEPS_PW", PASSWORD);
    let secrets = crate::inventory::Secrets::resolve(&inv, false).expect("secrets");
    Arc::new(Ctx { inv, secrets })
}

/// Two Debian nodes running MariaDB 10.11 with SysV services; `setup` adds recordings.
fn cluster(setup: impl Fn(usize, &FakeTransport, &FakeSql)) -> Cluster {
    let nodes = ["node-a", "node-b"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let t = FakeTransport::new(name);
            t.on("/etc/os-release", 0, DEBIAN_12);
            t.on("/run/systemd/system", 0, "sysv\n");
            let sql = FakeSql::new();
            sql.on(
                "SELECT VERSION()",
                vec![vec![("version", Some("10.11.18-MariaDB-0+deb12u1"))]],
            );
            setup(i, &t, &sql);
            NodeHandle::new(i, name, Arc::new(t), Some(sql.connector()))
        })
        .collect();
    Cluster {
        nodes,
        secrets: vec![PASSWORD.into()],
    }
}

fn step(name: &str) -> Box<dyn Operation> {
    all(ctx())
        .into_iter()
        .find(|op| op.name() == name)
        .expect("a step of that name")
}

fn change_actions(plan: Plan) -> Vec<String> {
    match plan {
        Plan::Change(c) => c.actions.iter().map(|a| a.describe()).collect(),
        Plan::Noop(why) => panic!("expected a change, got noop: {why}"),
    }
}

#[test]
fn installs_only_missing_packages() {
    let c = cluster(|_, t, _| {
        t.on(
            "dpkg-query",
            0,
            "mariadb-server installed\nmariadb-client installed\n",
        );
    });
    let actions = change_actions(step("install-packages").plan(&c, 0).unwrap());
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(
        actions[0].contains("apt-get -o DPkg::Lock::Timeout=300 update"),
        "{actions:?}"
    );
    assert!(
        actions[1].ends_with("--no-install-recommends keepalived"),
        "{actions:?}"
    );
}

#[test]
fn installed_packages_are_a_noop() {
    let c = cluster(|_, t, _| {
        t.on(
            "dpkg-query",
            0,
            "mariadb-server installed\nmariadb-client installed\nkeepalived installed\n",
        );
    });
    assert!(matches!(
        step("install-packages").plan(&c, 0).unwrap(),
        Plan::Noop(_)
    ));
}

/// SHOW REPLICA STATUS as MariaDB 10.11 prints it (the columns the step reads; it keeps
/// the `Slave_`/`Master_` column names).
fn slave_status(
    host: &'static str,
    io: &'static str,
    sql: &'static str,
) -> Vec<Vec<(&'static str, Option<&'static str>)>> {
    vec![vec![
        ("Slave_IO_State", Some("Waiting for master to send event")),
        ("Master_Host", Some(host)),
        ("Master_User", Some("repl")),
        ("Master_Port", Some("3306")),
        ("Master_Log_File", Some("mysql-bin.000002")),
        ("Read_Master_Log_Pos", Some("1094")),
        ("Relay_Master_Log_File", Some("mysql-bin.000002")),
        ("Exec_Master_Log_Pos", Some("1094")),
        ("Slave_IO_Running", Some(io)),
        ("Slave_SQL_Running", Some(sql)),
        ("Seconds_Behind_Master", Some("0")),
        ("Last_IO_Errno", Some("0")),
        ("Last_IO_Error", Some("")),
        ("Last_SQL_Errno", Some("0")),
        ("Last_SQL_Error", Some("")),
    ]]
}

#[test]
fn replicating_from_the_peer_is_a_noop() {
    let c = cluster(|_, _, sql| {
        sql.on(
            "SHOW REPLICA STATUS",
            slave_status("10.0.0.12", "Yes", "Yes"),
        );
    });
    match step("replication").plan(&c, 0).unwrap() {
        Plan::Noop(why) => assert!(why.contains("replicating from node-b (10.0.0.12)"), "{why}"),
        Plan::Change(c) => panic!("expected noop, got {}", c.summary),
    }
}

#[test]
fn a_replica_pointing_elsewhere_is_repointed_at_the_peers_position_and_the_password_is_masked() {
    let c = cluster(|i, _, sql| {
        if i == 0 {
            sql.on(
                "SHOW REPLICA STATUS",
                slave_status("10.9.9.9", "Yes", "Yes"),
            );
        } else {
            sql.on(
                "SHOW BINLOG STATUS",
                vec![vec![
                    ("File", Some("mysql-bin.000003")),
                    ("Position", Some("4242")),
                ]],
            );
            sql.on(
                "SHOW MASTER STATUS",
                vec![vec![
                    ("File", Some("mysql-bin.000003")),
                    ("Position", Some("4242")),
                ]],
            );
        }
    });
    let actions = change_actions(step("replication").plan(&c, 0).unwrap());
    let sql = &actions[0];
    assert!(
        sql.contains("MASTER_HOST='10.0.0.12'")
            && sql.contains("MASTER_LOG_FILE='mysql-bin.000003'"),
        "{sql}"
    );
    assert!(sql.contains("MASTER_LOG_POS=4242"), "{sql}");
    // The engine redacts every report; the plan's own text carries the secret only into SQL.
    assert!(!c.redact(sql).contains(PASSWORD), "{}", c.redact(sql));
    assert!(
        actions[1].contains("wait until the IO and SQL threads run"),
        "{actions:?}"
    );
}

#[test]
fn the_replication_account_is_created_with_the_binary_log_off() {
    let c = cluster(|_, _, sql| {
        sql.on("FROM mysql.user", vec![vec![("n", Some("0"))]]);
    });
    match step("replication-user").plan(&c, 0).unwrap() {
        Plan::Change(ch) => {
            assert!(
                ch.summary.contains("create 'repl'@'10.0.0.12'"),
                "{}",
                ch.summary
            );
            let text = ch
                .actions
                .iter()
                .map(|a| a.describe())
                .collect::<Vec<_>>()
                .join("\n");
            assert!(
                text.starts_with("sql: SET SESSION sql_log_bin = 0"),
                "{text}"
            );
            assert!(text.contains("GRANT REPLICATION SLAVE"), "{text}");
            assert!(text.contains("sql_log_bin = 1"), "{text}");
        }
        Plan::Noop(why) => panic!("expected a change: {why}"),
    }
}

/// A replica whose IO thread stays `Connecting` while the node cannot open a TCP
/// connection to its peer's port: the wait fails within seconds, naming both nodes, the
/// address and the cause, instead of a vague "IO thread stopped" after 30 s.
#[test]
fn an_unreachable_peer_port_fails_the_wait_quickly_and_clearly() {
    let c = cluster(|i, t, sql| {
        if i == 0 {
            sql.on(
                "SHOW REPLICA STATUS",
                slave_status("10.9.9.9", "Connecting", "Yes"),
            );
            t.on("mhactl-probe", 0, "mhactl-probe: 124\n");
        } else {
            sql.on(
                "SHOW BINLOG STATUS",
                vec![vec![
                    ("File", Some("mysql-bin.000003")),
                    ("Position", Some("4242")),
                ]],
            );
        }
    });
    let Plan::Change(change) = step("replication").plan(&c, 0).unwrap() else {
        panic!("expected a change");
    };
    let crate::engine::Action::Custom(_, wait) = &change.actions[1] else {
        panic!("expected the wait");
    };
    let started = std::time::Instant::now();
    let err = format!("{:#}", wait(&c, 0).unwrap_err());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert!(
        err.starts_with(
            "node-a cannot reach node-b's database port 10.0.0.12:3306 (connect timed out after \
             5 s), so its replication IO thread cannot connect; allow TCP 3306 from node-a \
             (10.0.0.11) to node-b"
        ),
        "{err}"
    );
    assert!(
        err.ends_with("run mhactl again once the port is open"),
        "{err}"
    );
}

/// A configured replica whose IO thread stays `Connecting` gets it restarted (a thread
/// waiting out a connect timeout would keep the pair apart for a minute after the port
/// opened again); one with only its SQL thread stopped is just started. (The first plan
/// gives the IO thread a few connect retries, about 8 s, to reconnect by itself.)
#[test]
fn a_replica_stuck_connecting_gets_its_io_thread_restarted() {
    let stuck = cluster(|_, _, sql| {
        sql.on(
            "SHOW REPLICA STATUS",
            slave_status("10.0.0.12", "Connecting", "Yes"),
        );
    });
    let actions = change_actions(step("replication").plan(&stuck, 0).unwrap());
    assert_eq!(
        actions[0], "sql: STOP REPLICA IO_THREAD; START REPLICA",
        "{actions:?}"
    );
    let sql_stopped = cluster(|_, _, sql| {
        sql.on(
            "SHOW REPLICA STATUS",
            slave_status("10.0.0.12", "Yes", "No"),
        );
    });
    let actions = change_actions(step("replication").plan(&sql_stopped, 0).unwrap());
    assert_eq!(actions[0], "sql: START REPLICA", "{actions:?}");
}
