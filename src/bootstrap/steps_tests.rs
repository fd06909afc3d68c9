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
    ctx_with("", "")
}

/// The test inventory with `mysql` settings and extra `credentials` lines.
fn ctx_with(mysql: &str, credentials: &str) -> Arc<Ctx> {
    let text = format!(
        "cluster: t\nnodes:\n  - name: node-a\n    address: 10.0.0.11\n  - name: node-b\n    address: 10.0.0.12\n\
         vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n{mysql}\
         credentials:\n  replication_password_env: MHACTL_TEST_STEPS_PW\n{credentials}"
    );
    std::env::set_var("MHACTL_TEST_STEPS_ROOT", "R00t-pass!");
    let inv = crate::inventory::parse(&text, "inventory.yaml").expect("valid inventory");
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

fn step_of(ctx: Arc<Ctx>, name: &str) -> Box<dyn Operation> {
    all(ctx)
        .into_iter()
        .find(|op| op.name() == name)
        .expect("a step of that name")
}

/// SysV (Debian's MariaDB) with a custom socket: debian.cnf, which the init script pings
/// the server through, changes while the server is stopped, between the old socket and
/// the new one; then the config is written and the server started.
#[test]
fn server_config_points_debian_cnf_at_a_custom_socket_with_the_server_stopped() {
    let ctx = ctx_with("mysql:\n  socket: /var/run/custom/mysql.sock\n", "");
    let c = cluster(|_, t, sql| {
        t.on("debian.cnf", 0, "[client]\n[mysql_upgrade]\n");
        sql.on("@@GLOBAL.server_id", vec![vec![("value", Some("1"))]]);
    });
    let actions = change_actions(step_of(ctx.clone(), "server-config").plan(&c, 0).unwrap());
    assert_eq!(actions.len(), 3, "{actions:?}");
    assert!(actions[0].contains("service mariadb stop"), "{actions:?}");
    assert!(
        actions[1].contains("awk -v s=/var/run/custom/mysql.sock")
            && actions[1].contains("/etc/mysql/debian.cnf"),
        "{actions:?}"
    );
    assert!(
        actions[2].starts_with("write /etc/mysql/mariadb.conf.d/60-mhactl.cnf"),
        "{actions:?}"
    );
    // debian.cnf already names the socket: no stop, no edit.
    let c = cluster(|_, t, _| {
        t.on(
            "debian.cnf",
            0,
            "[client]\nsocket   = /var/run/custom/mysql.sock\n[mysql_upgrade]\nsocket   = /var/run/custom/mysql.sock\n",
        );
    });
    let actions = change_actions(step_of(ctx, "server-config").plan(&c, 0).unwrap());
    assert_eq!(actions.len(), 1, "{actions:?}");
}

/// A MySQL cluster (9.7 on Debian, systemd) for `ctx`.
fn mysql_cluster(setup: impl Fn(usize, &FakeTransport, &FakeSql)) -> Cluster {
    cluster(|i, t, sql| {
        t.on("/run/systemd/system", 0, "systemd\n");
        sql.on("SELECT VERSION()", vec![vec![("version", Some("9.7.4-2"))]]);
        setup(i, t, sql);
    })
}

#[test]
fn an_empty_mysql_datadir_is_initialised_and_root_gets_the_inventorys_password() {
    let mysql =
        "mysql:\n  flavor: mysql\n  datadir: /data/mysql\n  log_error: /var/log/custom/mysql.err\n";
    let with_root = ctx_with(mysql, "  root_password_env: MHACTL_TEST_STEPS_ROOT\n");
    let c = mysql_cluster(|_, t, sql| {
        t.on("ls -A", 0, "empty\n");
        sql.on(
            "SHOW DATABASES",
            vec![
                vec![("Database", Some("mysql"))],
                vec![("Database", Some("sys"))],
            ],
        );
    });
    let actions = change_actions(step_of(with_root, "data-directory").plan(&c, 0).unwrap());
    assert_eq!(
        actions,
        [
            "run: set -e; install -d -o mysql -g mysql -m 750 /data/mysql; mysqld --initialize --user=mysql \
             --datadir=/data/mysql --log-error=/var/log/custom/mysql.err",
            "set root's password on /data/mysql to the inventory's (the temporary one from \
             /var/log/custom/mysql.err, on a private mysqld without network)",
        ]
    );
    // Without a root password in the inventory: a clear refusal, nothing initialised.
    let without = ctx_with(mysql, "");
    let err = format!(
        "{:#}",
        step_of(without, "data-directory").plan(&c, 0).unwrap_err()
    );
    assert!(
        err.contains("mysql.datadir") && err.contains("root_password_env"),
        "{err}"
    );
    // An initialised directory is a Noop; one with files but no database is refused.
    let c = mysql_cluster(|_, t, _| {
        t.on("ls -A", 0, "initialised mysql\n");
    });
    let ctx = ctx_with(mysql, "  root_password_env: MHACTL_TEST_STEPS_ROOT\n");
    assert!(matches!(
        step_of(ctx.clone(), "data-directory").plan(&c, 0).unwrap(),
        Plan::Noop(_)
    ));
    let c = mysql_cluster(|_, t, _| {
        t.on("ls -A", 0, "not-a-database\n");
    });
    let err = format!(
        "{:#}",
        step_of(ctx, "data-directory").plan(&c, 0).unwrap_err()
    );
    assert!(
        err.contains("/data/mysql is not empty and holds no database"),
        "{err}"
    );
}
