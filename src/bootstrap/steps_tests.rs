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
pub(super) fn cluster(setup: impl Fn(usize, &FakeTransport, &FakeSql)) -> Cluster {
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

/// A server as packaged, before mhactl configured it: server_id 1, offset 1, utf8mb4.
fn as_installed(sql: &FakeSql) {
    sql.on("@@GLOBAL.server_id", vec![vec![("value", Some("1"))]]);
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

#[test]
fn a_mirror_gets_its_list_file_and_is_the_only_source() {
    let ctx = ctx_with("packages:\n  repository: file:/srv/mhactl-repo\n", "");
    let c = cluster(|_, t, _| {
        t.on("dpkg-query", 0, "");
        t.on("if [ -e /etc/apt/sources.list.d/mhactl.list ]", 3, "");
    });
    match step_of(ctx.clone(), "install-packages")
        .plan(&c, 0)
        .unwrap()
    {
        Plan::Change(ch) => {
            assert!(
                ch.summary
                    .contains("write /etc/apt/sources.list.d/mhactl.list (file:/srv/mhactl-repo)")
                    && ch.summary.contains("from file:/srv/mhactl-repo only"),
                "{}",
                ch.summary
            );
            let actions: Vec<String> = ch.actions.iter().map(|a| a.describe()).collect();
            assert_eq!(
                actions[0],
                "write /etc/apt/sources.list.d/mhactl.list (mode 644)"
            );
            assert!(
                actions[1].contains("Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 update")
            );
            assert!(actions[2].contains("Dir::Etc::SourceList=/etc/apt/sources.list.d/mhactl.list"));
            assert!(ch
                .diff
                .unwrap()
                .contains("+deb [trusted=yes] file:/srv/mhactl-repo ./"));
        }
        Plan::Noop(why) => panic!("expected a change: {why}"),
    }
    // Installed, and the list file as wanted: nothing to do.
    let list = crate::os::mirror_repo_file(
        crate::os::PackageManager::Apt,
        "file:/srv/mhactl-repo",
        None,
    );
    let c = cluster(|_, t, _| {
        t.on(
            "dpkg-query",
            0,
            "mariadb-server installed\nmariadb-client installed\nkeepalived installed\n",
        );
        t.on("if [ -e /etc/apt/sources.list.d/mhactl.list ]", 0, &list);
    });
    assert!(matches!(
        step_of(ctx, "install-packages").plan(&c, 0).unwrap(),
        Plan::Noop(_)
    ));
}

const ROCKY_8: &str = include_str!("../../tests/fixtures/os/rocky-8");

#[test]
fn el_mysql_with_the_repository_already_right_only_installs() {
    let ctx = ctx_with("mysql:\n  flavor: mysql\n  version: \"8.0\"\n", "");
    let repo = include_str!("../../tests/fixtures/el/mysql84-community-release-el8-1.repo")
        .replace("enabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-mysql-2023\n\n[mysql-tools-8.4", "enabled=0\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-mysql-2023\n\n[mysql-tools-8.4")
        .replace("[mysql80-community]\nname=MySQL 8.0 Community Server\nbaseurl=http://repo.mysql.com/yum/mysql-8.0-community/el/8/$basearch/\nenabled=0", "[mysql80-community]\nname=MySQL 8.0 Community Server\nbaseurl=http://repo.mysql.com/yum/mysql-8.0-community/el/8/$basearch/\nenabled=1");
    let c = cluster(|_, t, _| {
        t.on("/etc/os-release", 0, ROCKY_8);
        t.on("rpm -q mysql-community-server", 0, "package mysql-community-server is not installed\nmysql-community-client-8.0.40-1.el8.x86_64\nkeepalived-2.1.5-9.el8.x86_64\n");
        t.on(
            crate::os::MYSQL_RELEASE_RPM_QUERY,
            0,
            "mysql84-community-release-el8-1.noarch\n",
        );
        t.on(crate::os::YUM_REPOS_QUERY, 0, &repo);
        t.on(
            "/etc/dnf/modules.d/",
            0,
            "mysql disabled\nmariadb disabled\n",
        );
    });
    let actions = change_actions(
        step_of(ctx.clone(), "install-packages")
            .plan(&c, 0)
            .unwrap(),
    );
    assert_eq!(
        actions,
        [
            "run: dnf -y -q makecache",
            "run: dnf -y install mysql-community-server"
        ]
    );
    // Everything installed: the repositories are not even looked at.
    let c = cluster(|_, t, _| {
        t.on("/etc/os-release", 0, ROCKY_8);
        t.on("rpm -q mysql-community-server", 0, "mysql-community-server-8.0.40-1.el8.x86_64\nmysql-community-client-8.0.40-1.el8.x86_64\nkeepalived-2.1.5-9.el8.x86_64\n");
        t.on(crate::os::MYSQL_RELEASE_RPM_QUERY, 99, "");
    });
    assert!(matches!(
        step_of(ctx, "install-packages").plan(&c, 0).unwrap(),
        Plan::Noop(_)
    ));
}

#[test]
fn mysql_57_on_el8_is_refused_with_the_field_named() {
    let ctx = ctx_with("mysql:\n  flavor: mysql\n  version: \"5.7\"\n", "");
    let c = cluster(|_, t, _| {
        t.on("/etc/os-release", 0, ROCKY_8);
        t.on(
            "rpm -q mysql",
            0,
            "package mysql-community-server is not installed\n",
        );
        t.on(crate::os::MYSQL_RELEASE_RPM_QUERY, 0, "");
    });
    let err = step_of(ctx, "install-packages").plan(&c, 0).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("MySQL 5.7 has no EL8 packages") && msg.contains("packages.repository"),
        "{msg}"
    );
}

#[test]
fn mariadb_on_el7_without_a_mirror_is_refused_before_installing_5_5() {
    let c = cluster(|_, t, _| {
        t.on(
            "/etc/os-release",
            0,
            include_str!("../../tests/fixtures/os/centos-7"),
        );
        t.on(
            "rpm -q mariadb",
            0,
            "package mariadb-server is not installed\n",
        );
        t.on("if [ -e /etc/yum.repos.d/mhactl.repo ]", 3, ""); // no mirror configured yet
    });
    let err = step_of(ctx_with("", ""), "install-packages")
        .plan(&c, 0)
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("only MariaDB 5.5") && msg.contains("packages.repository"),
        "{msg}"
    );
    // With a mirror, it installs from there.
    let ctx = ctx_with(
        "packages:\n  repository: http://mirror.example/mariadb-10.11/el7\n",
        "",
    );
    assert!(step_of(ctx, "install-packages").plan(&c, 0).is_ok());
}

/// `mysqld --validate-config` rejects the new file: the previous one goes back, the
/// server is not restarted, and the error names node, step, file and the server's words.
#[test]
fn validate_config_failure_restores_the_previous_file_without_a_restart() {
    let ctx = ctx_with("mysql:\n  flavor: mysql\n", "");
    let c = cluster(|_, t, sql| {
        sql.on("SELECT VERSION()", vec![vec![("version", Some("8.4.3"))]]);
        as_installed(sql);
        sql.on("@@GLOBAL.server_id", vec![vec![("value", Some("7"))]]);
        t.on("[ -f /etc/mysql/debian.cnf ] || exit 100", 100, ""); // MySQL has none
        let my_cnf = "/etc/mysql/mysql.conf.d/zz-mhactl.cnf";
        t.on(&crate::transport::write_file_script(my_cnf, 0o644), 0, "");
        t.on(
            "if [ -e /etc/mysql/mysql.conf.d/zz-mhactl.cnf ]",
            0,
            "[mysqld]\nserver_id = 7\n",
        );
        t.on_full(
            "--validate-config",
            1,
            "",
            "2024-11-04T10:25:10.113057Z 0 [ERROR] [MY-000067] [Server] unknown variable 'expire_logs_days=7'.\n\
             2024-11-04T10:25:10.113093Z 0 [ERROR] [MY-010119] [Server] Aborting\n",
        );
    });
    let plan = step_of(ctx, "server-config").plan(&c, 0).unwrap();
    let Plan::Change(change) = plan else {
        panic!("expected a change")
    };
    let action = change.actions.last().expect("an action");
    assert!(
        action.describe().contains("--validate-config"),
        "{}",
        action.describe()
    );
    let err = crate::engine::execute(&c, &c.nodes[0], action).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.starts_with("node-a: server-config: mysqld --validate-config rejects the new /etc/mysql/mysql.conf.d/zz-mhactl.cnf (exit 1): [MY-000067] unknown variable 'expire_logs_days=7'.; the previous version was restored and mysql was not restarted"),
        "{msg}"
    );
}

#[test]
fn validate_config_messages_keep_the_servers_words() {
    use super::steps::validate_config_errors;
    let stderr = "2026-11-25T06:37:08.359642Z 0 [ERROR] [MY-000058] [Server] Unknown suffix 'a' used for variable 'server_id' (value 'abc').\n\
                  2026-11-25T06:37:08.359646Z 0 [ERROR] [MY-000077] [Server] /usr/sbin/mysqld: Error while setting value 'abc' to 'server_id'.\n\
                  2026-11-25T06:37:08.359675Z 0 [ERROR] [MY-010119] [Server] Aborting\n";
    assert_eq!(
        validate_config_errors(stderr, ""),
        "[MY-000058] Unknown suffix 'a' used for variable 'server_id' (value 'abc').; \
         [MY-000077] /usr/sbin/mysqld: Error while setting value 'abc' to 'server_id'."
    );
    assert_eq!(
        validate_config_errors(
            "mysqld: Error on realpath() on '/var/lib/mysql-files'\n",
            ""
        ),
        "mysqld: Error on realpath() on '/var/lib/mysql-files'"
    );
    assert_eq!(validate_config_errors("", ""), "no message");
}

#[test]
fn an_installed_mysql_repository_without_the_wanted_series_is_an_error() {
    let ctx = ctx_with("mysql:\n  flavor: mysql\n  version: \"9.1\"\n", "");
    let c = cluster(|_, t, _| {
        t.on("/etc/os-release", 0, ROCKY_8);
        t.on(
            "rpm -q mysql",
            0,
            "package mysql-community-server is not installed\n",
        );
        t.on(
            crate::os::MYSQL_RELEASE_RPM_QUERY,
            0,
            "mysql80-community-release-el8-3.noarch\n",
        );
        t.on(
            crate::os::YUM_REPOS_QUERY,
            0,
            "[mysql80-community]\nenabled=1\n[mysql57-community]\nenabled=0\n",
        );
    });
    let msg = format!(
        "{:#}",
        step_of(ctx, "install-packages").plan(&c, 0).unwrap_err()
    );
    assert!(
        msg.contains("the installed MySQL repository (mysql80-community-release-el8-3.noarch) has no mysql-innovation-community repository for mysql.version 9.1"),
        "{msg}"
    );
}

/// SysV (Debian's MariaDB) with a custom socket: debian.cnf, which the init script pings
/// the server through, changes while the server is stopped, between the old socket and
/// the new one; then the config is written and the server started.
#[test]
fn server_config_points_debian_cnf_at_a_custom_socket_with_the_server_stopped() {
    let ctx = ctx_with("mysql:\n  socket: /var/run/custom/mysql.sock\n", "");
    let c = cluster(|_, t, sql| {
        t.on("debian.cnf", 0, "[client]\n[mysql_upgrade]\n");
        t.on("if [ -e /etc/mysql/mariadb.conf.d/60-mhactl.cnf ]", 3, ""); // not written yet
        as_installed(sql);
    });
    let actions = change_actions(step_of(ctx.clone(), "server-config").plan(&c, 0).unwrap());
    assert_eq!(actions.len(), 4, "{actions:?}");
    assert!(actions[0].contains("service mariadb stop"), "{actions:?}");
    assert!(
        actions[1].contains("cp -p /etc/mysql/debian.cnf /etc/mysql/debian.cnf.mhactl-old"),
        "{actions:?}"
    );
    assert!(
        actions[2].contains("awk -v s=/var/run/custom/mysql.sock")
            && actions[2].contains("/etc/mysql/debian.cnf"),
        "{actions:?}"
    );
    assert!(
        actions[3].starts_with("write /etc/mysql/mariadb.conf.d/60-mhactl.cnf"),
        "{actions:?}"
    );
    // debian.cnf already names the socket: no stop, no edit.
    let c = cluster(|_, t, sql| {
        t.on(
            "debian.cnf",
            0,
            "[client]\nsocket   = /var/run/custom/mysql.sock\n[mysql_upgrade]\nsocket   = /var/run/custom/mysql.sock\n",
        );
        t.on("if [ -e /etc/mysql/mariadb.conf.d/60-mhactl.cnf ]", 3, ""); // not written yet
        as_installed(sql);
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

/// A new my.cnf with a custom socket that does not start: the rollback puts the previous
/// debian.cnf back along with the previous my.cnf (Debian's SysV script would otherwise
/// look for the server on the socket of the configuration that failed); when it starts,
/// the saved copy is dropped.
#[test]
fn a_rolled_back_my_cnf_takes_debian_cnf_back_with_it() {
    use super::paths::{DEBIAN_CNF_FORGET, DEBIAN_CNF_UNDO};
    let ctx = ctx_with("mysql:\n  socket: /var/run/custom/mysql.sock\n", "");
    for starts in [false, true] {
        let journal = crate::transport::fake::Journal::default();
        let c = cluster(|_, t, sql| {
            t.journal(&journal);
            t.on("debian.cnf", 0, "[client]\n[mysql_upgrade]\n");
            t.on("if [ -e /etc/mysql/mariadb.conf.d/60-mhactl.cnf ]", 3, ""); // not written yet
            let my_cnf = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
            t.on(&crate::transport::write_file_script(my_cnf, 0o644), 0, "");
            // The error log's size and the clock before the restart.
            t.on("stat -c %s /var/log/mysql/error.log", 0, "0\n1764165600\n");
            t.on("service mariadb restart", 0, "");
            t.on("tail -c +1", 0, ""); // the failed start wrote no new error-log lines
                                       // The rollback (the file was new) and debian.cnf's saved copy.
            t.on(&format!("rm -f {my_cnf}"), 0, "");
            t.on(DEBIAN_CNF_UNDO, 0, "");
            t.on(DEBIAN_CNF_FORGET, 0, "");
            sql.on("SELECT 1", vec![]); // the started server answers
            if !starts {
                t.on("service mariadb restart", 1, "");
            }
            as_installed(sql);
        });
        let Plan::Change(change) = step_of(ctx.clone(), "server-config").plan(&c, 0).unwrap()
        else {
            panic!("expected a change")
        };
        let write = change.actions.last().unwrap();
        let result = crate::engine::execute(&c, &c.nodes[0], write);
        assert_eq!(result.is_ok(), starts, "{result:?}");
        let scripts: Vec<String> = journal
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, e)| match e {
                crate::transport::fake::JournalEntry::Command { script, .. } => {
                    Some(script.clone())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            scripts.contains(&DEBIAN_CNF_UNDO.to_string()),
            !starts,
            "{scripts:?}"
        );
        assert_eq!(
            scripts.contains(&DEBIAN_CNF_FORGET.to_string()),
            starts,
            "{scripts:?}"
        );
    }
}

/// MariaDB from AppStream on EL8: `dnf install mariadb-server` alone installs the
/// module's default stream (10.3), so the inventory's version is enabled first; without
/// a version, or from a mirror, the stream is left alone.
#[test]
fn el8_mariadb_enables_the_inventorys_module_stream_first() {
    let rocky8 = |state: &'static str| {
        cluster(move |_, t, _| {
            t.on("/etc/os-release", 0, ROCKY_8);
            t.on("rpm -q mariadb-server", 0, "package mariadb-server is not installed\npackage mariadb is not installed\nkeepalived-2.1.5-9.el8.x86_64\n");
            t.on("dnf -q module list mariadb:", 0, state);
            t.on("if [ -e /etc/yum.repos.d/mhactl.repo ]", 3, ""); // no mirror configured yet
        })
    };
    let ctx = ctx_with("mysql:\n  flavor: mariadb\n  version: \"10.11\"\n", "");
    let actions = change_actions(
        step_of(ctx.clone(), "install-packages")
            .plan(&rocky8("10.3 enabled\n"), 0)
            .unwrap(),
    );
    assert_eq!(
        actions,
        [
            "run: dnf -y module reset mariadb",
            "run: dnf -y module enable mariadb:10.11",
            "run: dnf -y -q makecache",
            "run: dnf -y install mariadb-server mariadb"
        ]
    );
    // The stream is enabled already (an interrupted run): only the install is left.
    let actions = change_actions(
        step_of(ctx, "install-packages")
            .plan(&rocky8("10.11 enabled\n"), 0)
            .unwrap(),
    );
    assert_eq!(
        actions,
        [
            "run: dnf -y -q makecache",
            "run: dnf -y install mariadb-server mariadb"
        ]
    );
    for mysql in [
        "mysql:\n  flavor: mariadb\n",
        "mysql:\n  flavor: mariadb\n  version: \"10.11\"\npackages:\n  repository: http://mirror.local/el8\n",
    ] {
        let ctx = ctx_with(mysql, "");
        let c = rocky8("10.3 enabled\n");
        let Plan::Change(change) = step_of(ctx, "install-packages").plan(&c, 0).unwrap() else {
            panic!("expected a change");
        };
        let actions: Vec<String> = change.actions.iter().map(|a| a.describe()).collect();
        assert!(!actions.iter().any(|a| a.contains("module")), "{actions:?}");
    }
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
