//! Fixture tests of the replication step and its confirmation: recorded `SHOW REPLICA
//! STATUS` rows of MariaDB 10.11 go in through the fake SQL, the plan and the statements
//! it runs come out.

use crate::bootstrap::replication_confirm::{confirm_replication, SourceEndpoint};
use crate::bootstrap::steps_tests::{change_actions, cluster, step, PASSWORD};
use crate::engine::{Action, Cluster, Plan};
use crate::transport::fake::FakeSql;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

type Rows = Vec<Vec<(&'static str, Option<&'static str>)>>;

/// One replica as `SHOW REPLICA STATUS` shows it on MariaDB 10.11 (the `Slave_`/
/// `Master_` column names): source `host` as `user`, thread states, and how far it
/// executed; it read further (`Read_Master_Log_Pos` 9000) than it executed.
struct Replica {
    host: &'static str,
    user: &'static str,
    io: &'static str,
    sql: &'static str,
    exec: (&'static str, &'static str),
    using_gtid: &'static str,
    source_server_id: &'static str,
    sql_error: (&'static str, &'static str),
    io_error: (&'static str, &'static str),
}

const RUNNING: Replica = Replica {
    host: "10.0.0.12",
    user: "repl",
    io: "Yes",
    sql: "Yes",
    exec: ("mysql-bin.000002", "1094"),
    using_gtid: "No",
    source_server_id: "2",
    sql_error: ("0", ""),
    io_error: ("0", ""),
};

impl Replica {
    fn rows(&self) -> Rows {
        vec![vec![
            ("Slave_IO_State", Some("Waiting for master to send event")),
            ("Master_Host", Some(self.host)),
            ("Master_User", Some(self.user)),
            ("Master_Port", Some("3306")),
            ("Master_Log_File", Some("mysql-bin.000003")),
            ("Read_Master_Log_Pos", Some("9000")),
            ("Relay_Master_Log_File", Some(self.exec.0)),
            ("Exec_Master_Log_Pos", Some(self.exec.1)),
            ("Slave_IO_Running", Some(self.io)),
            ("Slave_SQL_Running", Some(self.sql)),
            ("Seconds_Behind_Master", Some("0")),
            ("Last_IO_Errno", Some(self.io_error.0)),
            ("Last_IO_Error", Some(self.io_error.1)),
            ("Last_SQL_Errno", Some(self.sql_error.0)),
            ("Last_SQL_Error", Some(self.sql_error.1)),
            ("Master_Server_Id", Some(self.source_server_id)),
            ("Using_Gtid", Some(self.using_gtid)),
        ]]
    }
}

/// node-a with `replica` (none: not configured); node-b, its peer, with server_id 2 at
/// mysql-bin.000003:4242. Returns node-a's fake SQL too, to read back or change later.
fn pair(replica: Option<Replica>) -> (Cluster, FakeSql) {
    pair_full(replica, "mhactl-probe: 0\n", PASSWORD)
}

/// [`pair`], node-a's TCP probe of node-b's port answering `probe`.
fn pair_probing(replica: Option<Replica>, probe: &'static str) -> (Cluster, FakeSql) {
    pair_full(replica, probe, PASSWORD)
}

/// [`pair`], the probe answering `probe` and node-a's master.info keeping `stored`.
fn pair_full(
    replica: Option<Replica>,
    probe: &'static str,
    stored: &'static str,
) -> (Cluster, FakeSql) {
    let seen = Arc::new(Mutex::new(None));
    let c = cluster(|i, t, sql| {
        if i == 0 {
            // No rows: not a replica of anyone yet.
            sql.on(
                "SHOW REPLICA STATUS",
                replica.as_ref().map(Replica::rows).unwrap_or_default(),
            );
            // Re-pointing the replica: each statement succeeds unless a test says not.
            for statement in [
                "STOP REPLICA",
                "CHANGE MASTER TO ",
                "START REPLICA",
                "SET GLOBAL gtid_slave_pos",
            ] {
                sql.on(statement, vec![]);
            }
            sql.on(
                "@@GLOBAL.gtid_binlog_pos AS value",
                vec![vec![("value", Some("1-1-3"))]],
            );
            t.on("mhactl-probe", 0, probe);
            t.on("/var/lib/mysql/master.info", 0, &master_info(stored));
            sql.on(
                "@@GLOBAL.datadir",
                vec![vec![("value", Some("/var/lib/mysql/"))]],
            );
            *seen.lock().unwrap() = Some(sql.clone());
        } else {
            let at = vec![vec![
                ("File", Some("mysql-bin.000003")),
                ("Position", Some("4242")),
            ]];
            sql.on("SHOW BINLOG STATUS", at);
            sql.on(
                "@@GLOBAL.gtid_binlog_pos",
                vec![vec![("gtid", Some("2-2-17"))]],
            );
            sql.on(
                "@@GLOBAL.server_id AS server_id",
                vec![vec![("server_id", Some("2")), ("server_uuid", Some(""))]],
            );
        }
    });
    let sql = seen.lock().unwrap().take().expect("node-a's SQL");
    (c, sql)
}

/// MariaDB's master.info of a replica of node-b keeping `password`.
fn master_info(password: &str) -> String {
    format!("33\nmysql-bin.000002\n1094\n10.0.0.12\nrepl\n{password}\n3306\n2\n")
}

fn source() -> SourceEndpoint {
    SourceEndpoint {
        peer: "node-b".into(),
        peer_addr: "10.0.0.12".into(),
        port: 3306,
        node_addr: "10.0.0.11".into(),
    }
}

fn run_action(c: &Cluster, action: &Action) -> anyhow::Result<()> {
    let Action::Custom(_, f) = action else {
        panic!("expected custom code, got {}", action.describe());
    };
    f(c, 0)
}

#[test]
fn replicating_from_the_peer_is_a_noop() {
    let (c, _) = pair(Some(RUNNING));
    match step("replication").plan(&c, 0).unwrap() {
        Plan::Noop(why) => assert!(why.contains("replicating from node-b (10.0.0.12)"), "{why}"),
        Plan::Change(c) => panic!("expected noop, got {}", c.summary),
    }
}

/// The inventory's replication password changed (the replication-user step set it on the
/// peer): the replica, still connected with the old one, would fail at its next reconnect.
/// It is re-pointed with the new password at the position it executed, never shown.
#[test]
fn a_replica_keeping_an_old_password_is_repointed_at_its_executed_position() {
    let (c, sql) = pair_full(Some(RUNNING), "mhactl-probe: 0\n", "old-password");
    let Plan::Change(change) = step("replication").plan(&c, 0).unwrap() else {
        panic!("expected a change");
    };
    assert_eq!(
        change.summary,
        "re-point replication from node-b (10.0.0.12) as repl (was repl@10.0.0.12:3306 with \
         another password), keeping the position it executed up to (now mysql-bin.000002:1094)"
    );
    assert!(!change.summary.contains("old-password"));
    run_action(&c, &change.actions[0]).unwrap();
    let statements = sql.statements();
    let change_sql = statements
        .iter()
        .find(|s| s.starts_with("CHANGE MASTER"))
        .expect("a CHANGE MASTER");
    assert_eq!(
        c.redact(change_sql),
        "CHANGE MASTER TO MASTER_HOST='10.0.0.12', MASTER_PORT=3306, MASTER_USER='repl', \
         MASTER_PASSWORD='***', MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=1094, \
         MASTER_CONNECT_RETRY=2"
    );
}

/// The replication step of an inventory with `replication.positioning: file`.
fn file_positioning_step() -> Box<dyn crate::engine::Operation> {
    let ctx = crate::bootstrap::steps_tests::ctx_with("replication:\n  positioning: file\n", "");
    crate::bootstrap::steps::all(ctx)
        .into_iter()
        .find(|op| op.name() == "replication")
        .expect("the replication step")
}

/// Only a node with no replica configured starts at the peer's current position (by
/// file and position when the inventory says so).
#[test]
fn a_new_replica_starts_at_the_peers_position_and_the_password_is_masked() {
    let (c, _) = pair(None);
    let actions = change_actions(file_positioning_step().plan(&c, 0).unwrap());
    let sql = &actions[0];
    assert!(
        sql.contains("MASTER_HOST='10.0.0.12'")
            && sql.contains("MASTER_LOG_FILE='mysql-bin.000003'")
            && sql.contains("MASTER_LOG_POS=4242"),
        "{sql}"
    );
    // The engine redacts every report; the plan's own text carries the secret only into SQL.
    assert!(!c.redact(sql).contains(PASSWORD), "{}", c.redact(sql));
    assert!(
        actions[1].starts_with("confirm within 60 s that the IO and SQL threads run"),
        "{actions:?}"
    );
}

/// Issue 19: a new pair replicates by GTID by default: the replica starts at the peer's
/// GTID state read when the action runs (MariaDB: `gtid_slave_pos` = the peer's
/// `gtid_binlog_pos`), then `MASTER_USE_GTID=slave_pos`, no coordinates.
#[test]
fn a_new_replica_positions_by_gtid_from_the_peers_current_state() {
    let (c, sql) = pair(None);
    let Plan::Change(change) = step("replication").plan(&c, 0).unwrap() else {
        panic!("expected a change");
    };
    assert_eq!(
        change.summary,
        "replicate from node-b (10.0.0.12) by GTID, starting at its current GTID state"
    );
    run_action(&c, &change.actions[0]).unwrap();
    let statements: Vec<String> = sql.statements().iter().map(|s| c.redact(s)).collect();
    let at = |prefix: &str| {
        statements
            .iter()
            .position(|s| s.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {statements:?}"))
    };
    assert!(at("STOP REPLICA") < at("SET GLOBAL gtid_slave_pos"));
    assert!(at("SET GLOBAL gtid_slave_pos") < at("CHANGE MASTER"));
    assert!(at("CHANGE MASTER") < at("START REPLICA"));
    // The peer's domain from the peer, node-a's own domain from its own binary log.
    assert_eq!(
        statements[at("SET GLOBAL")],
        "SET GLOBAL gtid_slave_pos = '1-1-3,2-2-17'"
    );
    assert_eq!(
        statements[at("CHANGE MASTER")],
        "CHANGE MASTER TO MASTER_HOST='10.0.0.12', MASTER_PORT=3306, MASTER_USER='repl', \
         MASTER_PASSWORD='***', MASTER_CONNECT_RETRY=2, MASTER_USE_GTID=slave_pos"
    );
}

/// Issue 14, class 12: a pair built by hand (account `hadoop`) is re-pointed at the
/// position each replica *executed* up to, read after stopping it, never at the peer's
/// current position (mysql-bin.000003:4242) nor where its IO thread read to (9000).
#[test]
fn a_replica_of_the_peer_with_another_account_keeps_its_executed_position() {
    let (c, sql) = pair(Some(Replica {
        user: "hadoop",
        ..RUNNING
    }));
    let Plan::Change(change) = step("replication").plan(&c, 0).unwrap() else {
        panic!("expected a change");
    };
    assert_eq!(
        change.summary,
        "re-point replication from node-b (10.0.0.12) as repl (was hadoop@10.0.0.12:3306), \
         keeping the position it executed up to (now mysql-bin.000002:1094)"
    );
    let before = sql.statements().len();
    run_action(&c, &change.actions[0]).unwrap();
    let ran: Vec<String> = sql.statements()[before..]
        .iter()
        .filter(|s| !s.starts_with("SELECT VERSION"))
        .cloned()
        .collect();
    assert_eq!(ran[0], "STOP REPLICA", "{ran:?}");
    assert_eq!(ran[1], "SHOW REPLICA STATUS", "{ran:?}");
    assert_eq!(
        c.redact(&ran[2]),
        "CHANGE MASTER TO MASTER_HOST='10.0.0.12', MASTER_PORT=3306, MASTER_USER='repl', \
         MASTER_PASSWORD='***', MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=1094, \
         MASTER_CONNECT_RETRY=2"
    );
    // TLS on (the default): the re-pointed replica verifies its source (issue 19).
    assert_eq!(
        ran[3],
        "CHANGE MASTER TO MASTER_SSL=1, MASTER_SSL_CA='/etc/mysql/mhactl-tls/ca.pem', \
         MASTER_SSL_VERIFY_SERVER_CERT=1",
        "{ran:?}"
    );
    assert_eq!(ran[4], "START REPLICA", "{ran:?}");
    // Then the confirmation: the replica reached node-b's position.
    sql.on(
        "SHOW REPLICA STATUS",
        Replica {
            exec: ("mysql-bin.000003", "4242"),
            ..RUNNING
        }
        .rows(),
    );
    run_action(&c, &change.actions[1]).unwrap();
}

/// A replica positioning by GTID keeps doing so: no coordinates in the statement.
#[test]
fn a_gtid_replica_is_repointed_by_its_gtid_state() {
    let (c, sql) = pair(Some(Replica {
        user: "hadoop",
        using_gtid: "Slave_Pos",
        ..RUNNING
    }));
    let Plan::Change(change) = step("replication").plan(&c, 0).unwrap() else {
        panic!("expected a change");
    };
    assert!(
        change.summary.contains("keeping its GTID position"),
        "{}",
        change.summary
    );
    run_action(&c, &change.actions[0]).unwrap();
    let statements = sql.statements();
    let change_sql = statements
        .iter()
        .find(|s| s.starts_with("CHANGE MASTER"))
        .expect("a CHANGE MASTER");
    assert!(
        change_sql.contains("MASTER_USER='repl'") && !change_sql.contains("MASTER_LOG_"),
        "{change_sql}"
    );
}

/// The peer under another name (a host name): recognised by the server_id it reported.
/// A replica of some other server is refused before anything changes.
#[test]
fn a_replica_of_another_server_is_refused_the_peer_under_another_name_is_not() {
    let (c, _) = pair(Some(Replica {
        host: "db-b.example",
        user: "hadoop",
        ..RUNNING
    }));
    let Plan::Change(change) = step("replication").plan(&c, 0).unwrap() else {
        panic!("expected a change");
    };
    assert!(
        change.summary.contains("was hadoop@db-b.example:3306"),
        "{}",
        change.summary
    );

    let (c, sql) = pair(Some(Replica {
        host: "10.9.9.9",
        source_server_id: "7",
        ..RUNNING
    }));
    let err = format!("{:#}", step("replication").plan(&c, 0).unwrap_err());
    assert!(
        err.starts_with(
            "node-a: replication: it replicates from repl@10.9.9.9:3306, which mhactl cannot \
             tell is node-b (10.0.0.12:3306)"
        ),
        "{err}"
    );
    assert!(
        err.contains("RESET REPLICA ALL on node-a") && err.contains("mhactl reinit node-a"),
        "{err}"
    );
    assert!(
        !sql.statements().iter().any(|s| s.starts_with("STOP")),
        "{:?}",
        sql.statements()
    );
}

/// Issue 14, class 5: the SQL thread stops on an event after START REPLICA returned;
/// the confirmation fails at once with the server's error, the node and the step.
#[test]
fn confirmation_fails_at_once_when_the_sql_thread_stops() {
    let (c, _) = pair(Some(Replica {
        sql: "No",
        sql_error: (
            "1050",
            "Error 'Table 'c' already exists' on query. Default database: 'app'. Query: 'CREATE TABLE c (id INT)'",
        ),
        ..RUNNING
    }));
    let started = Instant::now();
    let err = format!(
        "{:#}",
        confirm_replication(&c, 0, &source(), "replication", Duration::from_secs(20)).unwrap_err()
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(
        err,
        "node-a: replication: replication from node-b broke after it started: its SQL thread \
         stopped with error 1050: Error 'Table 'c' already exists' on query. Default database: \
         'app'. Query: 'CREATE TABLE c (id INT)'; executed up to mysql-bin.000002:1094 of \
         node-b's mysql-bin.000003:4242 (its position when replication started). Fix the cause \
         (the error names the statement and object), then run mhactl again"
    );
}

/// Both threads running is not enough: the replica must execute up to the source's
/// position; within the bound it passes, behind it after the bound it fails.
#[test]
fn confirmation_waits_until_the_replica_executed_up_to_the_source_position() {
    let (c, _) = pair(Some(RUNNING));
    let err = format!(
        "{:#}",
        confirm_replication(&c, 0, &source(), "replication", Duration::from_secs(1)).unwrap_err()
    );
    assert!(
        err.starts_with(
            "node-a: replication: replication from node-b not confirmed within 1 s: IO thread \
             running, SQL thread running; executed up to mysql-bin.000002:1094 of node-b's \
             mysql-bin.000003:4242"
        ),
        "{err}"
    );
    let (c, sql) = pair(Some(RUNNING));
    let catch_up = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(600));
        sql.on(
            "SHOW REPLICA STATUS",
            Replica {
                exec: ("mysql-bin.000003", "5000"),
                ..RUNNING
            }
            .rows(),
        );
    });
    let confirmed =
        confirm_replication(&c, 0, &source(), "replication", Duration::from_secs(10)).unwrap();
    catch_up.join().unwrap();
    assert_eq!(confirmed.executed.to_string(), "mysql-bin.000003:5000");
    assert_eq!(confirmed.target.to_string(), "mysql-bin.000003:4242");
}

/// An IO error that retrying does not cure (a purged binary log) fails after the grace.
#[test]
fn confirmation_names_a_lasting_io_error() {
    let (c, _) = pair(Some(Replica {
        io: "No",
        io_error: (
            "1236",
            "Got fatal error 1236 from master when reading data from binary log: 'Could not find first log file name in binary log index file'",
        ),
        ..RUNNING
    }));
    let err = format!(
        "{:#}",
        confirm_replication(&c, 0, &source(), "replication", Duration::from_secs(30)).unwrap_err()
    );
    assert!(
        err.starts_with(
            "node-a: replication: replication from node-b broke after it started: its IO thread \
             cannot replicate, error 1236: Got fatal error 1236"
        ),
        "{err}"
    );
}

/// A replica whose IO thread stays `Connecting` while the node cannot open a TCP
/// connection to its peer's port: the confirmation fails within seconds, naming both
/// nodes, the address and the cause, instead of a vague "IO thread stopped" after 60 s.
#[test]
fn an_unreachable_peer_port_fails_the_confirmation_quickly_and_clearly() {
    // The probe from node-a times out.
    let (c, _) = pair_probing(
        Some(Replica {
            io: "Connecting",
            ..RUNNING
        }),
        "mhactl-probe: 124\n",
    );
    let started = Instant::now();
    let err = format!(
        "{:#}",
        confirm_replication(&c, 0, &source(), "replication", Duration::from_secs(60)).unwrap_err()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
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
    let (stuck, _) = pair(Some(Replica {
        io: "Connecting",
        ..RUNNING
    }));
    let actions = change_actions(step("replication").plan(&stuck, 0).unwrap());
    assert_eq!(
        actions[0], "sql: STOP REPLICA IO_THREAD; START REPLICA",
        "{actions:?}"
    );
    let (sql_stopped, _) = pair(Some(Replica {
        sql: "No",
        ..RUNNING
    }));
    let actions = change_actions(step("replication").plan(&sql_stopped, 0).unwrap());
    assert_eq!(actions[0], "sql: START REPLICA", "{actions:?}");
}

/// The server refuses the re-point (MySQL 1802: a multi-threaded replica left gaps):
/// the replica is started again as it was, and the error says so.
#[test]
fn a_refused_repoint_leaves_the_replica_running_as_it_was() {
    let (c, sql) = pair(Some(Replica {
        user: "hadoop",
        ..RUNNING
    }));
    sql.fail_exec(
        "CHANGE MASTER",
        1802,
        "CHANGE MASTER cannot be executed when the slave was stopped with an error or killed in MTS mode",
    );
    let Plan::Change(change) = step("replication").plan(&c, 0).unwrap() else {
        panic!("expected a change");
    };
    let err = format!("{:#}", run_action(&c, &change.actions[0]).unwrap_err());
    assert!(
        err.starts_with(
            "node-a: replication: re-pointing at mysql-bin.000002:1094 failed; the replica was \
             started again with its previous settings: "
        ) && err.contains("CHANGE MASTER cannot be executed"),
        "{err}"
    );
    assert_eq!(
        sql.statements().last().map(String::as_str),
        Some("START REPLICA")
    );
}
