//! Golden transcripts of a whole bootstrap on hosts that cannot run here: EL7 + MySQL
//! 5.7, EL8 + MySQL 8.0, EL9 + MySQL 8.4 LTS (also with runbook 1.4's paths under /data,
//! labelled for SELinux), EL9 + MariaDB 10.11 from AppStream.
//!
//! Each scenario replays recorded facts of such a host (its `/etc/os-release`, `rpm -q`,
//! the MySQL repository's `.repo` file, `SELECT VERSION()`, the temporary password line
//! `mysqld --initialize` leaves in `/var/log/mysqld.log`, error 1045 before root has its
//! password, `SHOW SLAVE STATUS` or `SHOW REPLICA STATUS` ...) through [`FakeTransport`]
//! and [`FakeSql`], runs every bootstrap step on both nodes (plan, then apply each
//! action), and writes down everything the steps asked of the nodes, in order: each
//! shell command (with what it sends on stdin: the files it writes), each SQL statement,
//! each separate login. The result, redacted the way the engine redacts every report,
//! is compared with `tests/golden/transcripts/*.txt`; `UPDATE_GOLDEN=1` rewrites them
//! (review the diff). Between planning and applying a step, the scenario records what
//! the host looks like once the step's actions ran (the service is active, replication
//! runs ...), as the node would answer the actions' own checks; files written are kept
//! by the fake. After applying, each step is planned again, as the engine does, and
//! must now be `Noop`: the transcripts prove that every step converges on these hosts.

use super::steps::{all, Ctx};
use crate::engine::{Cluster, NodeHandle, Plan};
use crate::transport::fake::{FakeSql, FakeTransport, Journal, JournalEntry};
use std::path::PathBuf;
use std::sync::Arc;

const ROOT_PASSWORD: &str = "Root-pw-4-inventory!";
const REPL_PASSWORD: &str = "Repl-pw-4-inventory!";
/// The temporary passwords `mysqld --initialize` wrote to each node's error log.
const TEMP_PASSWORDS: [&str; 2] = ["k#8Lr;Jw2q%T", "Xv_3o9!pQe,m"];

/// The temporary passwords `mysqld --initialize` wrote for the custom data directory
/// (data-directory step), in the custom error log.
const FRESH_TEMP_PASSWORDS: [&str; 2] = ["rT.6w;Gq>9Lk", "h2%Vb_0sN+aE"];

/// The path probe of `path_safety` (detect-os, server-paths, data-directory).
const PROBE: &str = super::path_safety::PROBE_MARKER;

/// The probe's answer: each of /data/mysql, /data/run, /data/log as `STATE OWNER`.
fn probed(states: [&str; 3]) -> String {
    ["/data/mysql", "/data/run", "/data/log"]
        .iter()
        .zip(states)
        .map(|(p, s)| {
            let (state, owner) = s.split_once(' ').unwrap_or((s, "-"));
            format!("{p}\t{state}\t{owner}\t{p}\n")
        })
        .collect()
}

/// Runbook 1.4's paths on their own partition (`el9-mysql84-custom-paths`).
const CUSTOM_PATHS: &str = "  datadir: /data/mysql\n  socket: /data/run/mysql.sock\n  \
     log_error: /data/log/mysqld.log\n  pid_file: /data/run/mysqld.pid\n";

type Rows = Vec<Vec<(&'static str, Option<&'static str>)>>;

/// One recorded EL host type.
struct Scenario {
    /// Golden file name (without `.txt`).
    name: &'static str,
    /// `mysql.flavor` in the inventory (`mysql`, `mariadb`).
    flavor: &'static str,
    /// `mysql.version` in the inventory.
    version: &'static str,
    /// `/etc/os-release`.
    os_release: &'static str,
    /// `SELECT VERSION()`.
    server_version: &'static str,
    /// The `.repo` file the MySQL repository setup RPM installs.
    mysql_repo_file: &'static str,
    /// The RPMs' dist tag (`el7`, `el8`, `el9`) and keepalived's version-release.
    rpm_dist: &'static str,
    keepalived_rpm: &'static str,
    /// The RPM's `/etc/my.cnf`.
    my_cnf: &'static str,
    /// Output of the dnf module state probe (`None` on yum).
    modules: Option<&'static str>,
    /// The temporary password line of mysqld.log, before the password.
    temp_password_prefix: &'static str,
    /// `SHOW SLAVE STATUS` / `SHOW REPLICA STATUS` once replication runs.
    replica_status: fn(peer: &'static str) -> Rows,
    /// `SHOW MASTER STATUS` / `SHOW BINARY LOG STATUS` statement of this version.
    binlog_status_sql: &'static str,
    /// More `mysql:` lines of the inventory (custom paths), indented by two spaces.
    mysql_extra: &'static str,
}

fn slave_status_57(peer: &'static str) -> Rows {
    vec![vec![
        ("Slave_IO_State", Some("Waiting for master to send event")),
        ("Master_Host", Some(peer)),
        ("Master_User", Some("repl")),
        ("Master_Port", Some("3306")),
        ("Connect_Retry", Some("2")),
        ("Master_Log_File", Some("mysql-bin.000002")),
        ("Read_Master_Log_Pos", Some("154")),
        ("Relay_Log_File", Some("db1-relay-bin.000002")),
        ("Relay_Log_Pos", Some("320")),
        ("Relay_Master_Log_File", Some("mysql-bin.000002")),
        ("Slave_IO_Running", Some("Yes")),
        ("Slave_SQL_Running", Some("Yes")),
        ("Last_Errno", Some("0")),
        ("Exec_Master_Log_Pos", Some("154")),
        ("Seconds_Behind_Master", Some("0")),
        ("Last_IO_Errno", Some("0")),
        ("Last_IO_Error", Some("")),
        ("Last_SQL_Errno", Some("0")),
        ("Last_SQL_Error", Some("")),
        ("Master_Server_Id", Some("2")),
    ]]
}

fn replica_status_8(peer: &'static str) -> Rows {
    vec![vec![
        ("Replica_IO_State", Some("Waiting for source to send event")),
        ("Source_Host", Some(peer)),
        ("Source_User", Some("repl")),
        ("Source_Port", Some("3306")),
        ("Connect_Retry", Some("2")),
        ("Source_Log_File", Some("mysql-bin.000002")),
        ("Read_Source_Log_Pos", Some("158")),
        ("Relay_Log_File", Some("db1-relay-bin.000002")),
        ("Relay_Log_Pos", Some("328")),
        ("Relay_Source_Log_File", Some("mysql-bin.000002")),
        ("Replica_IO_Running", Some("Yes")),
        ("Replica_SQL_Running", Some("Yes")),
        ("Last_Errno", Some("0")),
        ("Exec_Source_Log_Pos", Some("158")),
        ("Seconds_Behind_Source", Some("0")),
        ("Last_IO_Errno", Some("0")),
        ("Last_IO_Error", Some("")),
        ("Last_SQL_Errno", Some("0")),
        ("Last_SQL_Error", Some("")),
        ("Source_Server_Id", Some("2")),
    ]]
}

/// MariaDB 10.11's `SHOW REPLICA STATUS`: the statement is new (10.5.1), the columns
/// keep their old names.
fn replica_status_mariadb(peer: &'static str) -> Rows {
    vec![vec![
        ("Slave_IO_State", Some("Waiting for master to send event")),
        ("Master_Host", Some(peer)),
        ("Master_User", Some("repl")),
        ("Master_Port", Some("3306")),
        ("Connect_Retry", Some("2")),
        ("Master_Log_File", Some("mysql-bin.000001")),
        ("Read_Master_Log_Pos", Some("328")),
        ("Relay_Log_File", Some("relay-bin.000002")),
        ("Relay_Log_Pos", Some("555")),
        ("Relay_Master_Log_File", Some("mysql-bin.000001")),
        ("Slave_IO_Running", Some("Yes")),
        ("Slave_SQL_Running", Some("Yes")),
        ("Last_Errno", Some("0")),
        ("Exec_Master_Log_Pos", Some("328")),
        ("Seconds_Behind_Master", Some("0")),
        ("Last_IO_Errno", Some("0")),
        ("Last_IO_Error", Some("")),
        ("Last_SQL_Errno", Some("0")),
        ("Last_SQL_Error", Some("")),
        ("Master_Server_Id", Some("2")),
        ("Using_Gtid", Some("No")),
    ]]
}

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            flavor: "mysql",
            name: "el7-mysql57",
            version: "5.7",
            os_release: include_str!("../../tests/fixtures/os/centos-7"),
            server_version: "5.7.44-log",
            mysql_repo_file: include_str!("../../tests/fixtures/el/mysql57-community-release-el7-11.repo"),
            rpm_dist: "el7",
            keepalived_rpm: "1.3.5-19.el7",
            my_cnf: include_str!("../../tests/fixtures/el/my.cnf-rpm57"),
            modules: None,
            temp_password_prefix: "2024-01-15T09:12:03.418201Z 1 [Note] A temporary password is generated for root@localhost: ",
            replica_status: slave_status_57,
            binlog_status_sql: "SHOW MASTER STATUS",
            mysql_extra: "",
        },
        Scenario {
            flavor: "mysql",
            name: "el8-mysql80",
            version: "8.0",
            os_release: include_str!("../../tests/fixtures/os/rocky-8"),
            server_version: "8.0.40",
            mysql_repo_file: include_str!("../../tests/fixtures/el/mysql84-community-release-el8-1.repo"),
            rpm_dist: "el8",
            keepalived_rpm: "2.1.5-9.el8",
            my_cnf: include_str!("../../tests/fixtures/el/my.cnf-rpm8"),
            // Rocky 8's AppStream offers both modules; neither was touched yet.
            modules: Some("mysql available\nmariadb available\n"),
            temp_password_prefix: "2024-11-04T10:21:44.517862Z 6 [Note] [MY-010454] [Server] A temporary password is generated for root@localhost: ",
            replica_status: replica_status_8,
            binlog_status_sql: "SHOW MASTER STATUS",
            mysql_extra: "",
        },
        Scenario {
            flavor: "mysql",
            name: "el9-mysql84",
            version: "8.4",
            os_release: include_str!("../../tests/fixtures/os/rocky-9"),
            server_version: "8.4.3",
            mysql_repo_file: include_str!("../../tests/fixtures/el/mysql84-community-release-el9-1.repo"),
            rpm_dist: "el9",
            keepalived_rpm: "2.2.8-3.el9",
            my_cnf: include_str!("../../tests/fixtures/el/my.cnf-rpm8"),
            // Rocky 9.4's AppStream: MySQL 8.0 and MariaDB 10.5 as plain packages, and
            // the mariadb:10.11 module stream (new in 9.4; no mysql module before 9.6).
            modules: Some("mysql none\nmariadb available\n"),
            temp_password_prefix: "2024-11-04T10:25:10.113057Z 6 [Note] [MY-010454] [Server] A temporary password is generated for root@localhost: ",
            replica_status: replica_status_8,
            binlog_status_sql: "SHOW BINARY LOG STATUS",
            mysql_extra: "",
        },
        // The same host, with runbook 1.4's "data on another partition": the datadir,
        // socket, pid file and error log under /data, which SELinux's policy does not
        // know (default_t until labelled).
        Scenario {
            flavor: "mysql",
            name: "el9-mysql84-custom-paths",
            version: "8.4",
            os_release: include_str!("../../tests/fixtures/os/rocky-9"),
            server_version: "8.4.3",
            mysql_repo_file: include_str!("../../tests/fixtures/el/mysql84-community-release-el9-1.repo"),
            rpm_dist: "el9",
            keepalived_rpm: "2.2.8-3.el9",
            my_cnf: include_str!("../../tests/fixtures/el/my.cnf-rpm8"),
            modules: Some("mysql none\nmariadb available\n"),
            temp_password_prefix: "2024-11-04T10:25:10.113057Z 6 [Note] [MY-010454] [Server] A temporary password is generated for root@localhost: ",
            replica_status: replica_status_8,
            binlog_status_sql: "SHOW BINARY LOG STATUS",
            mysql_extra: CUSTOM_PATHS,
        },
        // RHEL 9's own MariaDB: AppStream's mariadb:10.11 module stream (RHEL 9.4+; the
        // plain mariadb-server package is 10.5), service `mariadb`, /etc/my.cnf reading
        // /etc/my.cnf.d, root by unix_socket authentication.
        Scenario {
            flavor: "mariadb",
            name: "el9-mariadb1011",
            version: "10.11",
            os_release: include_str!("../../tests/fixtures/os/rocky-9"),
            server_version: "10.11.6-MariaDB",
            mysql_repo_file: "",
            rpm_dist: "module+el9.4.0+20012+a68bdc9b",
            keepalived_rpm: "2.2.8-3.el9",
            my_cnf: "",
            modules: None,
            temp_password_prefix: "",
            replica_status: replica_status_mariadb,
            binlog_status_sql: "SHOW BINLOG STATUS",
            mysql_extra: "",
        },
    ]
}

fn ctx(s: &Scenario) -> Arc<Ctx> {
    let text = format!(
        "cluster: shop\nnodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db2\n    address: 10.0.0.12\n\
         vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
         mysql:\n  flavor: {}\n  version: \"{}\"\n{}\
         credentials:\n  replication_password_env: MHACTL_TEST_TRANSCRIPT_REPL\n{}",
        s.flavor,
        s.version,
        s.mysql_extra,
        // MariaDB: root by unix_socket, no root password anywhere.
        if s.mariadb() {
            ""
        } else {
            "  root_password_env: MHACTL_TEST_TRANSCRIPT_ROOT\n"
        }
    );
    let inv = crate::inventory::parse(&text, "inventory.yaml").expect("valid inventory");
    std::env::set_var("MHACTL_TEST_TRANSCRIPT_REPL", REPL_PASSWORD);
    std::env::set_var("MHACTL_TEST_TRANSCRIPT_ROOT", ROOT_PASSWORD);
    let secrets = crate::inventory::Secrets::resolve(&inv, false).expect("secrets");
    Arc::new(Ctx { inv, secrets })
}

const ADDRESSES: [&str; 2] = ["10.0.0.11", "10.0.0.12"];

/// The commands and queries whose recorded answer is "exit 0, no output" or "no rows":
/// every action a step runs succeeds, and the probes below find nothing. Set first, so
/// any rule a scenario or a later step sets for the same command takes precedence.
fn actions_succeed(t: &FakeTransport, sql: &FakeSql) {
    for action in [
        // firewall
        "--add-rich-rule=",
        // packages
        "yum -y install ",
        "yum -y -q makecache",
        "dnf -y install ",
        "dnf -y -q makecache",
        "dnf -y module disable ",
        "dnf -y module enable ",
        "dnf config-manager --help",
        "dnf config-manager --set-",
        // services
        "systemctl enable --quiet ",
        "systemctl start ",
        "systemctl restart ",
        "[ -d /run/systemd/system ] && exit 0;",
        // server files and the first start
        "grep -Eq '^!includedir /etc/my",
        "--validate-config",
        "mysqld --initialize ",
        "setsid mysqld ",
        "mhactl-init.pid ] || exit 0;",
        "set -e; mkdir -p -- ",
        "mkdir -p /data/mysql && restorecon -R ",
        "] || restorecon -R ",
        "semanage fcontext -a -t ",
        // keepalived
        "keepalived -t -f ",
        // The error log's size and the clock before a start (no output: nothing to quote).
        "2>/dev/null || echo 0; date +%s",
        "[ -d /var/log/mariadb ] || exit 100",
    ] {
        t.on(action, 0, "");
    }
    // Every statement a step runs succeeds.
    for statement in [
        "ALTER USER USER() IDENTIFIED BY ",
        "SET SESSION sql_log_bin = ",
        "CREATE USER IF NOT EXISTS ",
        "GRANT REPLICATION SLAVE",
        "STOP REPLICA",
        "START REPLICA",
        "STOP SLAVE",
        "START SLAVE",
        "CHANGE REPLICATION SOURCE TO ",
        "CHANGE MASTER TO ",
    ] {
        sql.on(statement, vec![]);
    }
    // Not a replica yet, nothing stored for one; the ping answers.
    for empty in [
        "SHOW REPLICA STATUS",
        "SHOW SLAVE STATUS",
        "FROM mysql.slave_master_info",
        "SELECT 1",
        "@@GLOBAL.datadir AS datadir",
    ] {
        sql.on(empty, vec![]);
    }
}

/// A bare EL host as the scenario recorded it: nothing installed, firewalld running,
/// SELinux enforcing, systemd.
fn bare_host(s: &Scenario, i: usize, t: &FakeTransport, sql: &FakeSql) {
    actions_succeed(t, sql);
    t.on("/etc/os-release", 0, s.os_release);
    t.on("echo systemd; else echo sysv", 0, "systemd\n");
    // firewalld in its default zone, without mhactl's rules yet.
    t.on(super::firewall::FIREWALLD_STATE, 0, "running\n");
    t.on("firewall-cmd --get-zone-of-interface=", 0, "public\n");
    t.on(
        "--list-all",
        0,
        "public (active)\n  target: default\n  interfaces: eth0\n  services: cockpit dhcpv6-client ssh\n",
    );
    t.on("--query-rich-rule=", 1, "no\n");
    t.on(super::firewall::GETENFORCE, 0, "Enforcing\n");
    let [server, client] = s.packages();
    t.on(
        &format!("rpm -q {server}"),
        0,
        &format!("package {server} is not installed\npackage {client} is not installed\npackage keepalived is not installed\n"),
    );
    t.on(crate::os::MYSQL_RELEASE_RPM_QUERY, 0, "");
    t.on(crate::os::YUM_REPOS_QUERY, 0, "");
    // No MySQL signing key imported yet (rpm -q exits 1).
    t.on("rpm -q gpg-pubkey-", 1, "");
    if let Some(m) = s.modules {
        t.on("/etc/dnf/modules.d/", 0, m);
    }
    t.on(&format!("is-active --quiet {}", s.service()), 3, "");
    if s.mariadb() {
        // AppStream offers the mariadb:10.11 stream; nothing enabled yet.
        t.on("dnf -q module list mariadb:", 0, "10.11 available\n");
    }
    t.on("is-active --quiet keepalived", 3, "");
    // SELinux enforcing, the health-check script not written yet.
    t.on(
        "echo enforcing;",
        0,
        &format!("enforcing\n- {}\n", crate::os::CHECK_SCRIPT_PATH),
    );
    // EL has no AppArmor and no Debian maintenance file (both probes exit 100 there).
    t.on("/sys/module/apparmor/parameters/enabled", 100, "");
    t.on("/etc/mysql/debian.cnf", 100, "");
    for missing in [
        "/etc/my.cnf.d/zz-mhactl.cnf",
        "/etc/keepalived/keepalived.conf",
        "/etc/keepalived/mhactl-check-mysql.sh",
        crate::bootstrap::paths::TMPFILES_PATH,
    ] {
        t.on(&format!("if [ -e {missing} ]"), 3, "");
    }
    // The RPM's /etc/my.cnf sets log-error and socket.
    t.on(
        "my_print_defaults mysqld 2>/dev/null | sed -n 's/^--log[-_]error=//p'",
        0,
        "/var/log/mysqld.log\n",
    );
    t.on(
        "my_print_defaults mysqld 2>/dev/null | sed -n 's/^--socket=//p'",
        0,
        "/var/lib/mysql/mysql.sock\n",
    );
    t.on(
        "grep -F 'A temporary password is generated for root@localhost: ' /var/log/mysqld.log",
        0,
        &format!("{}{}\n", s.temp_password_prefix, TEMP_PASSWORDS[i]),
    );
    t.on(
        "ip -4 -o addr show dev eth0",
        0,
        &format!(
            "2: eth0    inet {}/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever preferred_lft forever\n",
            ADDRESSES[i]
        ),
    );
    // MariaDB: root by unix_socket from the start. MySQL: root has only the temporary,
    // expired password: the inventory's is refused.
    if !s.mariadb() {
        sql.refuse(Some((
            1045,
            "Access denied for user 'root'@'localhost' (using password: YES)",
        )));
    }
    sql.on(
        "SELECT VERSION()",
        vec![vec![("version", Some(s.server_version))]],
    );
    sql.on("@@GLOBAL.server_id", vec![vec![("value", Some("1"))]]);
    // The packaged default: no GTIDs (so the first password change needs no reset).
    sql.on(
        "@@GLOBAL.gtid_mode",
        vec![vec![
            ("mode", Some("OFF")),
            ("executed", Some("")),
            ("uuid", Some("5a7c0f5e-3b1d-11ef-9a2b-525400c0ffee")),
        ]],
    );
    sql.on(
        "@@GLOBAL.auto_increment_offset",
        vec![vec![("value", Some("1"))]],
    );
    sql.on(
        "@@GLOBAL.character_set_server",
        vec![vec![(
            "value",
            Some(if s.version == "5.7" || s.mariadb() {
                "latin1"
            } else {
                "utf8mb4"
            }),
        )]],
    );
    sql.on("FROM mysql.user", vec![vec![("n", Some("0"))]]);
    sql.on(
        s.binlog_status_sql,
        vec![vec![
            (
                "File",
                Some(if s.mariadb() {
                    "mysql-bin.000001"
                } else {
                    "mysql-bin.000002"
                }),
            ),
            (
                "Position",
                Some(match s.version {
                    "5.7" => "154",
                    "10.11" => "328",
                    _ => "158",
                }),
            ),
            ("Binlog_Do_DB", Some("")),
            ("Binlog_Ignore_DB", Some("mysql")),
            ("Executed_Gtid_Set", Some("")),
        ]],
    );
    sql.on("@@server_id", vec![vec![("id", Some("1"))]]);
    if s.custom_paths() {
        // No local file-context rules yet; /data holds nothing of mysqld's.
        t.on(super::firewall::SEMANAGE_FCONTEXT_LOCAL, 0, "");
        t.on("stat -c %C", 0, "- /data/mysql\n- /data/run\n- /data/log\n");
        t.on(PROBE, 0, &probed(["missing", "missing", "missing"]));
        sql.on(
            "@@GLOBAL.datadir",
            vec![vec![("value", Some("/var/lib/mysql/"))]],
        );
        sql.on(
            "SHOW DATABASES",
            ["information_schema", "mysql", "performance_schema", "sys"]
                .iter()
                .map(|d| vec![("Database", Some(*d))])
                .collect(),
        );
    }
}

/// What the host looks like once a step's actions ran (answers to the actions' own
/// checks, and the facts later steps read).
fn after_planning(s: &Scenario, step: &str, i: usize, t: &FakeTransport, sql: &FakeSql) {
    match step {
        "firewall" => {
            t.on("--query-rich-rule=", 0, "yes\n");
        }
        // The rules are in the local policy, the directories exist (root's) and carry
        // their types.
        "selinux" => {
            t.on(
                super::firewall::SEMANAGE_FCONTEXT_LOCAL,
                0,
                "SELinux fcontext                                   type               Context\n\n\
                 /data/log(/.*)?                                    all files          system_u:object_r:mysqld_log_t:s0\n\
                 /data/mysql(/.*)?                                  all files          system_u:object_r:mysqld_db_t:s0\n\
                 /data/run(/.*)?                                    all files          system_u:object_r:mysqld_var_run_t:s0\n",
            );
            t.on(
                "stat -c %C",
                0,
                "unconfined_u:object_r:mysqld_db_t:s0 /data/mysql\n\
                 unconfined_u:object_r:mysqld_var_run_t:s0 /data/run\n\
                 unconfined_u:object_r:mysqld_log_t:s0 /data/log\n",
            );
            t.on("elif [ -z \"$(ls -A", 0, "empty\n");
            // Only the data directory is created here (root's, empty).
            t.on(PROBE, 0, &probed(["dir-empty root", "missing", "missing"]));
        }
        "server-paths" => {
            t.on(
                PROBE,
                0,
                &probed(["dir-empty root", "dir mysql", "dir mysql"]),
            );
        }
        "data-directory" => {
            t.on("elif [ -z \"$(ls -A", 0, "initialised mysql\n");
            t.on(PROBE, 0, &probed(["dir mysql", "dir mysql", "dir mysql"]));
            t.on(
                "grep -F 'A temporary password is generated for root@localhost: ' /data/log/mysqld.log",
                0,
                &format!("{}{}\n", s.temp_password_prefix, FRESH_TEMP_PASSWORDS[i]),
            );
        }
        "install-packages" => {
            t.on(crate::os::YUM_REPOS_QUERY, 0, s.mysql_repo_file);
            t.on("rpm -q gpg-pubkey-", 0, "");
            t.on("if [ -e /etc/my.cnf ]", 0, s.my_cnf);
            let [server, client] = s.packages();
            t.on(
                &format!("rpm -q {server}"),
                0,
                &format!(
                    "{server}-{v}-1.{el}.x86_64\n{client}-{v}-1.{el}.x86_64\nkeepalived-{k}.x86_64\n",
                    v = s
                        .server_version
                        .trim_end_matches("-log")
                        .trim_end_matches("-MariaDB"),
                    el = s.rpm_dist,
                    k = s.keepalived_rpm,
                ),
            );
            if s.mariadb() {
                t.on("dnf -q module list mariadb:", 0, "10.11 enabled\n");
            }
        }
        "start-server" => {
            t.on(&format!("is-active --quiet {}", s.service()), 0, "");
        }
        "admin-access" => {
            sql.refuse(None);
        }
        "server-config" => {
            let id = (i + 1).to_string();
            sql.on("@@GLOBAL.server_id", vec![vec![("value", Some(leak(&id)))]]);
            sql.on(
                "@@GLOBAL.auto_increment_offset",
                vec![vec![("value", Some(leak(&id)))]],
            );
            sql.on(
                "@@GLOBAL.character_set_server",
                vec![vec![("value", Some("utf8mb4"))]],
            );
            let with = crate::os::with_include_line(s.my_cnf, "!includedir /etc/my.cnf.d");
            t.on("if [ -e /etc/my.cnf ]", 0, &with);
            if s.custom_paths() {
                // The server now runs with zz-mhactl.cnf's paths.
                sql.on(
                    "@@GLOBAL.datadir",
                    vec![vec![("value", Some("/data/mysql/"))]],
                );
                t.on(
                    "my_print_defaults mysqld 2>/dev/null | sed -n 's/^--log[-_]error=//p'",
                    0,
                    "/var/log/mysqld.log\n/data/log/mysqld.log\n",
                );
                t.on(
                    "my_print_defaults mysqld 2>/dev/null | sed -n 's/^--socket=//p'",
                    0,
                    "/var/lib/mysql/mysql.sock\n/data/run/mysql.sock\n",
                );
            }
        }
        "replication-user" => {
            let peer = ADDRESSES[1 - i];
            sql.on("FROM mysql.user", vec![vec![("n", Some("1"))]]);
            sql.on(
                "SHOW GRANTS FOR",
                vec![vec![(
                    "Grants",
                    Some(leak(&if s.mariadb() {
                        // 10.5.2+ prints REPLICATION CLIENT as BINLOG MONITOR, and the
                        // hash (not the password's: a recorded one).
                        format!(
                            "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`{peer}` \
                             IDENTIFIED BY PASSWORD '*0F4A6D3B0E9C7C0B3D0B61C1D5E3D6E1A3D3E6B2'"
                        )
                    } else {
                        format!(
                            "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl`@`{peer}`"
                        )
                    })),
                )]],
            );
        }
        "replication" => {
            let rows = (s.replica_status)(ADDRESSES[1 - i]);
            sql.on(s.replica_status_sql(), rows);
        }
        "keepalived" => {
            t.on("is-active --quiet keepalived", 0, "");
            if i == 0 {
                t.on(
                    "ip -4 -o addr show dev eth0",
                    0,
                    "2: eth0    inet 10.0.0.11/24 brd 10.0.0.255 scope global eth0\\       valid_lft forever preferred_lft forever\n\
                     2: eth0    inet 10.0.0.100/24 scope global secondary eth0\\       valid_lft forever preferred_lft forever\n",
                );
            }
        }
        _ => {}
    }
}

/// What the commands the fake does not interpret left behind (`keepalived -t` passed,
/// so the candidate was renamed over the live file).
fn after_applying(step: &str, t: &FakeTransport) {
    if step == "keepalived" {
        // restorecon/chcon gave the new script the health check's type.
        t.on(
            "echo enforcing;",
            0,
            &format!(
                "enforcing\nsystem_u:object_r:{}:s0 {}\n",
                crate::bootstrap::steps::CHECK_SCRIPT_SELINUX_TYPE,
                crate::os::CHECK_SCRIPT_PATH
            ),
        );
        let conf = crate::os::KEEPALIVED_CONF_PATH;
        if let Some(c) = t.kept_file(&format!("{conf}.mhactl-new")) {
            t.put_file(conf, &c);
        }
    }
}

impl Scenario {
    fn mariadb(&self) -> bool {
        self.flavor == "mariadb"
    }
    /// The server's packages and service.
    fn packages(&self) -> [&'static str; 2] {
        if self.mariadb() {
            ["mariadb-server", "mariadb"]
        } else {
            ["mysql-community-server", "mysql-community-client"]
        }
    }
    fn service(&self) -> &'static str {
        if self.mariadb() {
            "mariadb"
        } else {
            "mysqld"
        }
    }
    fn custom_paths(&self) -> bool {
        !self.mysql_extra.is_empty()
    }
    fn replica_status_sql(&self) -> &'static str {
        if self.version == "5.7" {
            "SHOW SLAVE STATUS"
        } else {
            "SHOW REPLICA STATUS"
        }
    }
}

/// Run the whole bootstrap of `s` and return the transcript, unredacted (the caller
/// checks where secrets went, then redacts).
fn run_scenario(s: &Scenario) -> (String, Vec<String>, Vec<Vec<JournalEntry>>) {
    let ctx = ctx(s);
    let journal = Journal::default();
    let fakes: Vec<(Arc<FakeTransport>, FakeSql)> = ["db1", "db2"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let t = Arc::new(FakeTransport::new(name));
            t.keep_files();
            let sql = FakeSql::new();
            t.journal(&journal);
            sql.journal(&journal, name);
            bare_host(s, i, &t, &sql);
            (t, sql)
        })
        .collect();
    let nodes = fakes
        .iter()
        .enumerate()
        .map(|(i, (t, sql))| {
            NodeHandle::new(
                i,
                ["db1", "db2"][i],
                t.clone() as Arc<dyn crate::transport::Transport>,
                Some(sql.connector()),
            )
            .with_login_connector(sql.login_connector())
        })
        .collect();
    let mut secrets = vec![
        REPL_PASSWORD.to_string(),
        ROOT_PASSWORD.to_string(),
        secrecy::ExposeSecret::expose_secret(&ctx.secrets.vrrp_password).to_string(),
    ];
    secrets.extend(TEMP_PASSWORDS.iter().map(|p| p.to_string()));
    secrets.extend(FRESH_TEMP_PASSWORDS.iter().map(|p| p.to_string()));
    let cluster = Cluster { nodes, secrets };
    let mut out = String::new();
    let mut all_entries = vec![Vec::new(), Vec::new()];
    for op in all(ctx.clone()) {
        let targets: Vec<usize> = if op.cluster_wide() {
            vec![0]
        } else {
            vec![0, 1]
        };
        for i in targets {
            let (t, sql) = &fakes[i];
            let who = if op.cluster_wide() {
                "cluster".to_string()
            } else {
                cluster.nodes[i].name.clone()
            };
            let plan = op
                .plan(&cluster, i)
                .unwrap_or_else(|e| panic!("{}: {who}: {}: {e:#}", s.name, op.name()));
            let head = match &plan {
                Plan::Noop(why) => format!("unchanged: {why}"),
                Plan::Change(c) => format!("change: {}", c.summary),
            };
            let me = cluster.nodes[i].name.clone();
            let mut planned_entries = take(&journal);
            let mut applied_entries = Vec::new();
            let mut replanned = None;
            if let Plan::Change(change) = &plan {
                after_planning(s, op.name(), i, t, sql);
                for action in &change.actions {
                    crate::engine::execute(&cluster, &cluster.nodes[i], action).unwrap_or_else(
                        |e| {
                            panic!(
                                "{}: {who}: {}: {}: {e:#}",
                                s.name,
                                op.name(),
                                action.describe()
                            )
                        },
                    );
                }
                applied_entries = take(&journal);
                after_applying(op.name(), t);
                // As the engine does: plan again; a correct step has nothing left to do.
                match op.plan(&cluster, i) {
                    Ok(Plan::Noop(why)) => replanned = Some((why, take(&journal))),
                    Ok(Plan::Change(again)) => panic!(
                        "{}: {who}: {}: not converged after applying: would now {}",
                        s.name,
                        op.name(),
                        again.summary
                    ),
                    Err(e) => panic!("{}: {who}: {}: re-plan: {e:#}", s.name, op.name()),
                }
            }
            out.push_str(&format!("\n== {who} {}: {head}\n", op.name()));
            out.push_str(&render_entries(&planned_entries, &me));
            if !applied_entries.is_empty() {
                out.push_str("-- apply\n");
                out.push_str(&render_entries(&applied_entries, &me));
            }
            if let Some((why, entries)) = replanned {
                out.push_str(&format!("-- re-plan: unchanged: {why}\n"));
                out.push_str(&render_entries(&entries, &me));
                applied_entries.extend(entries);
            }
            for (node, e) in planned_entries.drain(..).chain(applied_entries.drain(..)) {
                let n = if node == "db1" { 0 } else { 1 };
                all_entries[n].push(e);
            }
        }
    }
    (out, cluster.secrets.clone(), all_entries)
}

fn take(j: &Journal) -> Vec<(String, JournalEntry)> {
    std::mem::take(&mut *j.lock().expect("journal"))
}

/// One line per entry; entries that happened on another node than `me` (the peer's
/// binlog position, a login from the peer) start with `[that node]`.
/// A `&'static str` for recorded rows built at run time (tests only; a few bytes).
fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

fn render_entries(entries: &[(String, JournalEntry)], me: &str) -> String {
    let mut out = String::new();
    for (node, e) in entries {
        if node != me {
            out.push_str(&format!("[{node}] "));
        }
        match e {
            JournalEntry::Command { script, stdin } => {
                out.push_str(&format!("$ {script}\n"));
                if let Some(input) = stdin {
                    for line in input.lines() {
                        out.push_str(&format!("  | {line}\n"));
                    }
                }
            }
            JournalEntry::Sql(sql) => out.push_str(&format!("sql> {sql}\n")),
            JournalEntry::Login {
                user,
                target,
                expired,
            } => out.push_str(&format!(
                "login {user} @ {target}{}\n",
                if *expired {
                    " (expired-password mode: CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS)"
                } else {
                    ""
                }
            )),
        }
    }
    out
}

fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/transcripts")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .header("golden", "actual")
            .to_string();
        panic!(
            "{} differs from this run's transcript; run with UPDATE_GOLDEN=1 if intended:\n{diff}",
            path.display()
        );
    }
}

fn transcript(s: &Scenario) -> (String, Vec<Vec<JournalEntry>>) {
    let (raw, secrets, entries) = run_scenario(s);
    // Secrets go only on stdin or into SQL, never into a command line.
    for node in &entries {
        for e in node {
            if let JournalEntry::Command { script, .. } = e {
                for secret in &secrets {
                    assert!(
                        !script.contains(secret.as_str()),
                        "{}: a secret in a command line: {script}",
                        s.name
                    );
                }
            }
        }
    }
    // Temporary passwords travel nowhere but the SSH channel of the login itself.
    for pw in TEMP_PASSWORDS.iter().chain(&FRESH_TEMP_PASSWORDS) {
        assert!(!raw.contains(pw), "{}: a temporary password shows", s.name);
    }
    let header = format!(
        "# mhactl bootstrap transcript: {} (golden; UPDATE_GOLDEN=1 rewrites it)\n\
         # Recorded host: {}, {}, systemd, firewalld, SELinux enforcing.\n\
         # Every command ($), SQL statement (sql>) and login each step runs on each node, in order;\n\
         # `-- apply` starts what the step's change ran, `-- re-plan` the engine's check that the step\n\
         # is now satisfied; `[db2]` marks what a step of db1 ran on its peer. Secrets are shown as ***.\n",
        s.name,
        crate::os::OsRelease::parse(s.os_release).pretty_name,
        if s.mariadb() {
            format!(
                "MariaDB {} from AppStream (module stream mariadb:{})",
                s.server_version.trim_end_matches("-MariaDB"),
                s.version
            )
        } else {
            format!("MySQL {} from the MySQL Yum repository", s.server_version)
        },
    );
    let text = crate::engine::redact(&format!("{header}{raw}"), &secrets);
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{}: a secret shows",
            s.name
        );
    }
    (text, entries)
}

fn scenario(name: &str) -> Scenario {
    scenarios()
        .into_iter()
        .find(|s| s.name == name)
        .expect("a scenario of that name")
}

fn sql_of(entries: &[JournalEntry]) -> Vec<&str> {
    entries
        .iter()
        .filter_map(|e| match e {
            JournalEntry::Sql(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

fn scripts_of(entries: &[JournalEntry]) -> Vec<&str> {
    entries
        .iter()
        .filter_map(|e| match e {
            JournalEntry::Command { script, .. } => Some(script.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn el7_mysql57_transcript() {
    let s = scenario("el7-mysql57");
    let (text, entries) = transcript(&s);
    golden(s.name, &text);
    let sql = sql_of(&entries[0]);
    let scripts = scripts_of(&entries[0]);
    assert!(scripts.contains(
        &"yum -y install https://repo.mysql.com/mysql57-community-release-el7-11.noarch.rpm"
    ));
    assert!(!scripts.iter().any(|c| c.contains("module disable")));
    assert!(
        !scripts.iter().any(|c| c.contains("--validate-config")),
        "5.7 has no --validate-config"
    );
    assert!(sql
        .iter()
        .any(|q| q.starts_with("CHANGE MASTER TO MASTER_HOST='10.0.0.12'")));
    assert!(!sql.iter().any(|q| q.contains("PUBLIC_KEY")));
    assert!(sql.contains(&"START SLAVE") && sql.contains(&"SHOW SLAVE STATUS"));
    assert!(
        text.contains("expire_logs_days = 7"),
        "5.7 keeps expire_logs_days"
    );
    assert!(text.contains("log_slave_updates"));
}

#[test]
fn el8_mysql80_transcript() {
    let s = scenario("el8-mysql80");
    let (text, entries) = transcript(&s);
    golden(s.name, &text);
    let sql = sql_of(&entries[0]);
    let scripts = scripts_of(&entries[0]);
    assert!(scripts.contains(&"dnf -y module disable mysql mariadb"));
    assert!(scripts.contains(&"dnf config-manager --set-disabled mysql-8.4-lts-community"));
    assert!(scripts.contains(&"dnf config-manager --set-enabled mysql80-community"));
    assert!(scripts.iter().any(|c| c.contains("--validate-config")));
    assert!(sql.iter().any(|q| q
        .starts_with("CHANGE REPLICATION SOURCE TO SOURCE_HOST='10.0.0.12'")
        && q.ends_with("GET_SOURCE_PUBLIC_KEY=1")));
    assert!(
        sql.contains(&"SHOW MASTER STATUS") || sql_of(&entries[1]).contains(&"SHOW MASTER STATUS")
    );
    assert!(text.contains("binlog_expire_logs_seconds = 604800"));
}

#[test]
fn el9_mysql84_transcript() {
    let s = scenario("el9-mysql84");
    let (text, entries) = transcript(&s);
    golden(s.name, &text);
    let sql: Vec<&str> = sql_of(&entries[0])
        .into_iter()
        .chain(sql_of(&entries[1]))
        .collect();
    let scripts = scripts_of(&entries[0]);
    assert!(scripts.contains(
        &"dnf -y install https://repo.mysql.com/mysql84-community-release-el9-1.noarch.rpm"
    ));
    // Rocky 9.4's AppStream has a mariadb module (the 10.11 stream), no mysql module.
    assert!(scripts.contains(&"dnf -y module disable mariadb"));
    assert!(
        !scripts.iter().any(|c| c.contains("config-manager --set")),
        "8.4 LTS is the RPM's default"
    );
    assert!(sql.contains(&"SHOW BINARY LOG STATUS"));
    assert!(!sql.iter().any(|q| q.contains("MASTER")), "{sql:?}");
    assert!(
        !text.contains("expire_logs_days"),
        "8.4 removed expire_logs_days"
    );
    assert!(text.contains("log_replica_updates"));
}

/// The RPM way of the first start (every MySQL scenario): the temporary password is read from the
/// log, root logs in with it in expired mode and gets the inventory's password; the
/// password policy is left alone.
#[test]
fn first_start_sets_root_password_from_the_temporary_one_without_weakening_the_policy() {
    for s in scenarios().into_iter().filter(|s| !s.mariadb()) {
        let (text, entries) = transcript(&s);
        for node in &entries {
            let logins: Vec<&JournalEntry> = node
                .iter()
                .filter(|e| matches!(e, JournalEntry::Login { expired: true, .. }))
                .collect();
            // With a custom datadir, data-directory sets root's password there too.
            let expected = if s.custom_paths() { 2 } else { 1 };
            assert_eq!(logins.len(), expected, "{}", s.name);
            let sql = sql_of(node);
            let alter = sql
                .iter()
                .position(|q| q.starts_with("ALTER USER USER() IDENTIFIED BY "))
                .expect("ALTER USER USER()");
            assert!(sql[alter].ends_with(&format!("'{ROOT_PASSWORD}'")));
            assert!(
                !sql.iter().any(|q| q.contains("validate_password")),
                "{}",
                s.name
            );
        }
        assert!(text.contains(
            "grep -F 'A temporary password is generated for root@localhost: ' /var/log/mysqld.log"
        ));
        assert!(!text.contains("validate_password"), "{}", s.name);
    }
}

/// The MySQL RPMs' /etc/my.cnf reads no drop-in directory: bootstrap adds the include
/// before it writes zz-mhactl.cnf, on every EL + MySQL scenario.
#[test]
fn rpm_my_cnf_is_made_to_read_the_drop_in_directory() {
    let include = crate::os::append_include_command("/etc/my.cnf", "!includedir /etc/my.cnf.d");
    for s in scenarios().into_iter().filter(|s| !s.mariadb()) {
        let (_, entries) = transcript(&s);
        for node in &entries {
            let scripts = scripts_of(node);
            let added = scripts
                .iter()
                .position(|c| *c == include)
                .expect("include added");
            let written = scripts
                .iter()
                .position(|c| c.contains("mv -f \"$tmp\" /etc/my.cnf.d/zz-mhactl.cnf"))
                .expect("drop-in written");
            assert!(added < written, "{}", s.name);
        }
    }
}

/// Runbook 1.4 on an enforcing EL9: the datadir, socket, pid file and error log under
/// /data get their SELinux types before anything is installed, their directories go to
/// mysql, /data/mysql is initialised with its own root password set on a private mysqld,
/// and the server moves there with the paths in [mysqld] and [client].
#[test]
fn el9_mysql84_custom_paths_transcript() {
    let s = scenario("el9-mysql84-custom-paths");
    let (text, entries) = transcript(&s);
    golden(s.name, &text);
    for node in &entries {
        let scripts = scripts_of(node);
        let at = |want: &str| {
            scripts
                .iter()
                .position(|c| *c == want)
                .unwrap_or_else(|| panic!("not run: {want}"))
        };
        let install = scripts
            .iter()
            .position(|c| c.starts_with("dnf -y install mysql-community-server"))
            .expect("install");
        // SELinux first (Red Hat's procedure: `semanage fcontext -a -t TYPE 'DIR(/.*)?'`,
        // then `restorecon -R`), the data directory created, before the packages arrive.
        for (dir, ty) in [
            ("/data/mysql", "mysqld_db_t"),
            ("/data/run", "mysqld_var_run_t"),
            ("/data/log", "mysqld_log_t"),
        ] {
            let rule = at(&format!(
                "semanage fcontext -a -t {ty} '{dir}(/.*)?' 2>/dev/null || semanage fcontext -m -t {ty} '{dir}(/.*)?'"
            ));
            assert!(rule < install, "{dir}");
        }
        let relabel = at("mkdir -p /data/mysql && restorecon -R /data/mysql");
        assert!(relabel < install);
        // server-paths: the socket/pid file and log directories are created for mysql
        // (create-only) and labelled before the first start.
        let start = at("systemctl start mysqld");
        for (dir, mode) in [("/data/run", "755"), ("/data/log", "750")] {
            let create = at(&super::path_safety::create_dir_command(dir, mode));
            assert!(install < create && create < start, "{dir}");
        }
        // data-directory: initialised into the custom log, password read from there.
        let init = at(&format!(
            "set -e; install -d -o mysql -g mysql -m 750 /data/mysql; {}",
            crate::bootstrap::paths::initialise_command(
                crate::inventory::Flavor::Mysql,
                "/data/mysql",
                "/data/log/mysqld.log"
            )
        ));
        let grep = at("grep -F 'A temporary password is generated for root@localhost: ' /data/log/mysqld.log 2>/dev/null || true");
        let restart = at("systemctl restart mysqld");
        assert!(start < init && init < grep && grep < restart);
        assert!(node.iter().any(
            |e| matches!(e, JournalEntry::Login { target, expired: true, .. }
            if target == "unix:/data/mysql/mhactl-init.sock")
        ));
    }
    // zz-mhactl.cnf: the paths in [mysqld], the socket in [client] too.
    for line in [
        "  | datadir = /data/mysql\n",
        "  | pid-file = /data/run/mysqld.pid\n",
    ] {
        assert_eq!(text.matches(line).count(), 2, "{line}");
    }
    assert_eq!(
        text.matches("  | log-error = /data/log/mysqld.log\n")
            .count(),
        4,
        "[mysqld] and [mysqld_safe], both nodes"
    );
    assert_eq!(
        text.matches("  | socket = /data/run/mysql.sock\n").count(),
        4,
        "[mysqld] and [client], both nodes"
    );
}

/// RHEL 9's own MariaDB 10.11 (AppStream's mariadb:10.11 stream, RHEL 9.4+): the stream
/// enabled before `dnf install mariadb-server mariadb`, service `mariadb`, root by
/// unix_socket (no root password anywhere), mhactl's drop-in in /etc/my.cnf.d (which
/// the packaged /etc/my.cnf includes), MariaDB's replication statements.
#[test]
fn el9_mariadb1011_transcript() {
    let s = scenario("el9-mariadb1011");
    let (text, entries) = transcript(&s);
    golden(s.name, &text);
    for (i, node) in entries.iter().enumerate() {
        let scripts = scripts_of(node);
        let at = |want: &str| {
            scripts
                .iter()
                .position(|c| *c == want)
                .unwrap_or_else(|| panic!("not run: {want}"))
        };
        // The 10.11 stream before the install (plain mariadb-server would be 10.5); no
        // MySQL repository, no module disabled.
        assert!(
            at("dnf -y module enable mariadb:10.11")
                < at("dnf -y install mariadb-server mariadb keepalived")
        );
        assert!(!scripts
            .iter()
            .any(|c| c.contains("repo.mysql.com") || c.contains("module disable")));
        assert!(scripts.contains(&"systemctl start mariadb"));
        assert!(scripts.contains(&"systemctl restart mariadb"));
        // /etc/my.cnf already reads /etc/my.cnf.d: it is left alone; MariaDB has no
        // --validate-config.
        assert!(!scripts
            .iter()
            .any(|c| c.contains(">> /etc/my.cnf") || c.contains("--validate-config")));
        // Root by unix_socket: no login with a password, no temporary password, no
        // ALTER USER for root.
        assert!(!node
            .iter()
            .any(|e| matches!(e, JournalEntry::Login { user, .. } if user == "root")));
        let sql = sql_of(node);
        assert!(!sql.iter().any(|q| q.contains("ALTER USER")));
        assert!(!scripts.iter().any(|c| c.contains("temporary password")));
        // MariaDB's statements: SHOW BINLOG STATUS (on the peer), CHANGE MASTER TO,
        // START/SHOW REPLICA, BINLOG MONITOR.
        let peer = ADDRESSES[1 - i];
        assert!(sql
            .iter()
            .any(|q| q.starts_with(&format!("CHANGE MASTER TO MASTER_HOST='{peer}'"))));
        assert!(sql.contains(&"START REPLICA") && sql.contains(&"SHOW REPLICA STATUS"));
        assert!(sql
            .iter()
            .any(|q| q.starts_with("GRANT REPLICATION SLAVE, BINLOG MONITOR")));
        assert!(!sql
            .iter()
            .any(|q| q.contains("PUBLIC_KEY") || q.contains("SOURCE")));
    }
    assert!(text.contains("sql> SHOW BINLOG STATUS"));
    assert!(text.contains("/etc/my.cnf.d/zz-mhactl.cnf"));
    assert!(text.contains("  | log_slave_updates = ON\n"));
    assert!(text.contains("  | binlog_expire_logs_seconds = 604800\n"));
    assert!(!text.contains("root_password"));
}
