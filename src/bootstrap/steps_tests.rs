//! Fixture tests of the bootstrap steps: recorded outputs of real nodes (dpkg-query,
//! SHOW SLAVE STATUS, SHOW GRANTS ...) go in through the fake transport and fake SQL, and
//! the exact plan comes out — the pyinfra way, without hosts.

use super::steps::{all, Ctx};
use crate::engine::{Cluster, NodeHandle, Operation, Plan};
use crate::transport::fake::{FakeSql, FakeTransport};
use std::sync::Arc;

const DEBIAN_12: &str = "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";
pub(super) const PASSWORD: &str = "s3cret-repl";

pub(super) fn ctx() -> Arc<Ctx> {
    ctx_with("", "")
}

/// The test inventory with `mysql` settings and extra `credentials` lines.
pub(super) fn ctx_with(mysql: &str, credentials: &str) -> Arc<Ctx> {
    let text = format!(
        "cluster: t\nnodes:\n  - name: node-a\n    address: 10.0.0.11\n  - name: node-b\n    address: 10.0.0.12\n\
         vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n{mysql}\
         credentials:\n  replication_password_env: MHACTL_TEST_STEPS_PW\n{credentials}"
    );
    std::env::set_var("MHACTL_TEST_STEPS_ROOT", "R00t-pass!");
    let inv = crate::inventory::parse(&text, "inventory.yaml").expect("valid inventory");
    std::env::set_var("MHACTL_TEST_STEPS_PW", PASSWORD);
    let secrets = crate::inventory::Secrets::resolve(&inv, false).expect("secrets");
    Arc::new(Ctx::new(inv, secrets))
}

/// Two Debian nodes running MariaDB 10.11 with SysV services; `setup` adds recordings.
pub(super) fn cluster(setup: impl Fn(usize, &FakeTransport, &FakeSql)) -> Cluster {
    let nodes = ["node-a", "node-b"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let t = FakeTransport::new(name);
            t.on("/etc/os-release", 0, DEBIAN_12);
            t.on("/run/systemd/system", 0, "sysv\n");
            let sql = FakeSql::new();
            no_other_option_files(&t, &sql);
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

/// The option files server-config reads for settings that override mhactl's drop-in:
/// the server names none (the fallback list), neither exists, and no pid file is known
/// (so no command line). A test's own rules, added later, win.
pub(crate) fn no_other_option_files(t: &FakeTransport, sql: &FakeSql) {
    t.on("Default options are read from", 0, "");
    t.on("if [ -e /etc/my.cnf ]", 3, "");
    t.on("if [ -e /etc/mysql/my.cnf ]", 3, "");
    sql.on("@@GLOBAL.pid_file", vec![]);
}

/// A server as packaged, before mhactl configured it: server_id 1, offset 1, utf8mb4.
pub(super) fn as_installed(sql: &FakeSql) {
    // Skipped replication errors as packaged: none (the skip-errors guard's read).
    sql.on("_skip_errors AS value", vec![vec![("value", Some("OFF"))]]);
    sql.on("@@GLOBAL.server_id", vec![vec![("value", Some("1"))]]);
    sql.on("@@GLOBAL.log_bin", vec![vec![("value", Some("0"))]]);
    sql.on(
        "@@GLOBAL.auto_increment_offset",
        vec![vec![("value", Some("1"))]],
    );
    sql.on(
        "@@GLOBAL.character_set_server",
        vec![vec![("value", Some("utf8mb4"))]],
    );
}

pub(super) fn step(name: &str) -> Box<dyn Operation> {
    all(ctx())
        .into_iter()
        .find(|op| op.name() == name)
        .expect("a step of that name")
}

pub(super) fn change_actions(plan: Plan) -> Vec<String> {
    match plan {
        Plan::Change(c) => c.actions.iter().map(|a| a.describe()).collect(),
        Plan::Noop(why) => panic!("expected a change, got noop: {why}"),
    }
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

pub(super) fn step_of(ctx: Arc<Ctx>, name: &str) -> Box<dyn Operation> {
    all(ctx)
        .into_iter()
        .find(|op| op.name() == name)
        .expect("a step of that name")
}

/// A MySQL cluster (9.7 on Debian, systemd) for `ctx`.
pub(super) fn mysql_cluster(setup: impl Fn(usize, &FakeTransport, &FakeSql)) -> Cluster {
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
        t.on(
            super::path_safety::PROBE_MARKER,
            0,
            "/data/mysql\tmissing\t-\t/data/mysql\n/var/log/custom\tmissing\t-\t/var/log/custom\n",
        );
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
            "run: set -e; install -d -o mysql -g mysql -m 750 /data/mysql; out=$(mysqld --initialize --user=mysql \
             --datadir=/data/mysql --log-error=/var/log/custom/mysql.err 2>&1) || { printf '%s\\n' \"$out\" >&2; \
             echo \"the end of /var/log/custom/mysql.err:\" >&2; tail -n 20 /var/log/custom/mysql.err >&2; exit 1; }",
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
    // The top of a fresh file system (lost+found only): a subdirectory is suggested.
    let c = mysql_cluster(|_, t, _| {
        t.on("ls -A", 0, "filesystem-root\n");
    });
    let err = format!(
        "{:#}",
        step_of(
            ctx_with(mysql, "  root_password_env: MHACTL_TEST_STEPS_ROOT\n"),
            "data-directory"
        )
        .plan(&c, 0)
        .unwrap_err()
    );
    assert!(
        err.contains("top of a file system") && err.contains("e.g. /data/mysql/data"),
        "{err}"
    );
    // A database owned by someone else is refused, never `chown -R`'d (issue 14).
    let c = mysql_cluster(|_, t, _| {
        t.on("ls -A", 0, "initialised root\n");
    });
    let err = format!(
        "{:#}",
        step_of(
            ctx_with(mysql, "  root_password_env: MHACTL_TEST_STEPS_ROOT\n"),
            "data-directory"
        )
        .plan(&c, 0)
        .unwrap_err()
    );
    assert!(
        err.contains("mysql.datadir: node-a: /data/mysql holds a database owned by root")
            && err.contains("never changes the owner"),
        "{err}"
    );
}

/// SELinux and keepalived's health check: the probe says nothing where SELinux does not
/// enforce (here: a real shell on the build host, which has no getenforce or does not
/// enforce), and its output is read as the script's type.
#[test]
fn check_script_selinux_label_probe_and_parse() {
    use super::steps::{check_script_label_probe, parse_check_script_label, CheckScriptLabel};
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(check_script_label_probe(
            "/nonexistent/mhactl-check-mysql.sh",
        ))
        .output()
        .unwrap();
    assert!(out.status.success());
    let enforcing_here = std::process::Command::new("sh")
        .arg("-c")
        .arg("command -v getenforce >/dev/null && [ \"$(getenforce)\" = Enforcing ]")
        .status()
        .unwrap()
        .success();
    let path = "/etc/keepalived/mhactl-check-mysql.sh";
    if !enforcing_here {
        assert_eq!(
            parse_check_script_label(&String::from_utf8_lossy(&out.stdout), path),
            CheckScriptLabel::NotEnforcing
        );
    }
    assert_eq!(
        parse_check_script_label("", path),
        CheckScriptLabel::NotEnforcing
    );
    assert_eq!(
        parse_check_script_label(&format!("enforcing\n- {path}\n"), path),
        CheckScriptLabel::Enforcing("-".into())
    );
    assert_eq!(
        parse_check_script_label(
            &format!("enforcing\nsystem_u:object_r:keepalived_etc_t:s0 {path}\n"),
            path
        ),
        CheckScriptLabel::Enforcing("keepalived_etc_t".into())
    );
}

/// The inventory says which server it expects: another version (or flavor) on the node
/// stops bootstrap at admin-access, before anything is configured for the wrong server.
#[test]
fn a_server_other_than_the_inventorys_is_refused() {
    let c = cluster(|_, _, _| {});
    let err = step_of(
        ctx_with("mysql:\n  version: \"10.6\"\n", ""),
        "admin-access",
    )
    .plan(&c, 0)
    .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("the server is MariaDB 10.11.18, but mysql.version is \"10.6\""),
        "{msg}"
    );
    assert!(step_of(
        ctx_with("mysql:\n  version: \"10.11\"\n", ""),
        "admin-access"
    )
    .plan(&c, 0)
    .is_ok());
}
