//! The recorded EL host types the transcripts replay ([`Scenario`]), declared as their
//! differences from one base host (Rocky 9 + MySQL 8.4 LTS from the MySQL repository),
//! and the test inventory each scenario bootstraps.

use super::recordings::{REPL_PASSWORD, ROOT_PASSWORD};
use crate::bootstrap::steps::Ctx;
use std::sync::Arc;

pub(super) type Rows = Vec<Vec<(&'static str, Option<&'static str>)>>;

/// One recorded EL host type.
pub(super) struct Scenario {
    /// Golden file name (without `.txt`).
    pub(super) name: &'static str,
    /// `mysql.flavor` in the inventory (`mysql`, `mariadb`).
    pub(super) flavor: &'static str,
    /// `mysql.version` in the inventory.
    pub(super) version: &'static str,
    /// `/etc/os-release`.
    pub(super) os_release: &'static str,
    /// `SELECT VERSION()`.
    pub(super) server_version: &'static str,
    /// The `.repo` file the MySQL repository setup RPM installs.
    pub(super) mysql_repo_file: &'static str,
    /// The RPMs' dist tag (`el7`, `el8`, `el9`) and keepalived's version-release.
    pub(super) rpm_dist: &'static str,
    pub(super) keepalived_rpm: &'static str,
    /// The RPM's `/etc/my.cnf`.
    pub(super) my_cnf: &'static str,
    /// Output of the dnf module state probe (`None` on yum).
    pub(super) modules: Option<&'static str>,
    /// The temporary password line of mysqld.log, before the password.
    pub(super) temp_password_prefix: &'static str,
    /// `SHOW SLAVE STATUS` / `SHOW REPLICA STATUS` once replication runs.
    pub(super) replica_status: fn(peer: &'static str) -> Rows,
    /// `SHOW MASTER STATUS` / `SHOW BINARY LOG STATUS` statement of this version.
    pub(super) binlog_status_sql: &'static str,
    /// More `mysql:` lines of the inventory (custom paths), indented by two spaces.
    pub(super) mysql_extra: &'static str,
}

pub(super) fn slave_status_57(peer: &'static str) -> Rows {
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
        ("Master_SSL_Allowed", Some("No")),
        ("Master_SSL_CA_File", Some("")),
        ("Master_SSL_Verify_Server_Cert", Some("No")),
    ]]
}

pub(super) fn replica_status_8(peer: &'static str) -> Rows {
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
        ("Source_SSL_Allowed", Some("No")),
        ("Source_SSL_CA_File", Some("")),
        ("Source_SSL_Verify_Server_Cert", Some("No")),
        // A new pair's replica positions by GTID (SOURCE_AUTO_POSITION=1).
        ("Auto_Position", Some("1")),
    ]]
}

/// MariaDB 10.11's `SHOW REPLICA STATUS`: the statement is new (10.5.1), the columns
/// keep their old names. A new pair's replica positions by GTID (`Using_Gtid`).
pub(super) fn replica_status_mariadb(peer: &'static str) -> Rows {
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
        ("Master_SSL_Allowed", Some("No")),
        ("Master_SSL_CA_File", Some("")),
        ("Master_SSL_Verify_Server_Cert", Some("No")),
        ("Using_Gtid", Some("Slave_Pos")),
    ]]
}

/// The base host every scenario starts from: Rocky 9.4 with MySQL 8.4 LTS from the MySQL
/// Yum repository. Each scenario below declares only how its host differs.
fn el9_mysql84() -> Scenario {
    Scenario {
        flavor: "mysql",
        name: "el9-mysql84",
        version: "8.4",
        os_release: include_str!("../../../tests/fixtures/os/rocky-9"),
        server_version: "8.4.3",
        mysql_repo_file: include_str!("../../../tests/fixtures/el/mysql84-community-release-el9-1.repo"),
        rpm_dist: "el9",
        keepalived_rpm: "2.2.8-3.el9",
        my_cnf: include_str!("../../../tests/fixtures/el/my.cnf-rpm8"),
        // Rocky 9.4's AppStream: MySQL 8.0 and MariaDB 10.5 as plain packages, and
        // the mariadb:10.11 module stream (new in 9.4; no mysql module before 9.6).
        modules: Some("mysql none\nmariadb available\n"),
        temp_password_prefix: "2024-11-04T10:25:10.113057Z 6 [Note] [MY-010454] [Server] A temporary password is generated for root@localhost: ",
        replica_status: replica_status_8,
        binlog_status_sql: "SHOW BINARY LOG STATUS",
        mysql_extra: "",
    }
}

pub(super) fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "el7-mysql57",
            version: "5.7",
            os_release: include_str!("../../../tests/fixtures/os/centos-7"),
            server_version: "5.7.44-log",
            mysql_repo_file: include_str!("../../../tests/fixtures/el/mysql57-community-release-el7-11.repo"),
            rpm_dist: "el7",
            keepalived_rpm: "1.3.5-19.el7",
            my_cnf: include_str!("../../../tests/fixtures/el/my.cnf-rpm57"),
            modules: None,
            temp_password_prefix: "2024-01-15T09:12:03.418201Z 1 [Note] A temporary password is generated for root@localhost: ",
            replica_status: slave_status_57,
            binlog_status_sql: "SHOW MASTER STATUS",
            ..el9_mysql84()
        },
        Scenario {
            name: "el8-mysql80",
            version: "8.0",
            os_release: include_str!("../../../tests/fixtures/os/rocky-8"),
            server_version: "8.0.40",
            mysql_repo_file: include_str!("../../../tests/fixtures/el/mysql84-community-release-el8-1.repo"),
            rpm_dist: "el8",
            keepalived_rpm: "2.1.5-9.el8",
            // Rocky 8's AppStream offers both modules; neither was touched yet.
            modules: Some("mysql available\nmariadb available\n"),
            temp_password_prefix: "2024-11-04T10:21:44.517862Z 6 [Note] [MY-010454] [Server] A temporary password is generated for root@localhost: ",
            binlog_status_sql: "SHOW MASTER STATUS",
            ..el9_mysql84()
        },
        el9_mysql84(),
        // The same host, with runbook 1.4's "data on another partition": the datadir,
        // socket, pid file and error log under /data, which SELinux's policy does not
        // know (default_t until labelled).
        Scenario {
            name: "el9-mysql84-custom-paths",
            mysql_extra: CUSTOM_PATHS,
            ..el9_mysql84()
        },
        // RHEL 9's own MariaDB: AppStream's mariadb:10.11 module stream (RHEL 9.4+; the
        // plain mariadb-server package is 10.5), service `mariadb`, /etc/my.cnf reading
        // /etc/my.cnf.d, root by unix_socket authentication.
        Scenario {
            flavor: "mariadb",
            name: "el9-mariadb1011",
            version: "10.11",
            server_version: "10.11.6-MariaDB",
            mysql_repo_file: "",
            rpm_dist: "module+el9.4.0+20012+a68bdc9b",
            my_cnf: "",
            modules: None,
            temp_password_prefix: "",
            replica_status: replica_status_mariadb,
            binlog_status_sql: "SHOW BINLOG STATUS",
            ..el9_mysql84()
        },
    ]
}

pub(super) const CUSTOM_PATHS: &str = "  datadir: /data/mysql\n  socket: /data/run/mysql.sock\n  \
     log_error: /data/log/mysqld.log\n  pid_file: /data/run/mysqld.pid\n";

pub(super) fn ctx(s: &Scenario) -> Arc<Ctx> {
    let text = format!(
        "cluster: shop\nnodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db2\n    address: 10.0.0.12\n\
         vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
         mysql:\n  flavor: {}\n  version: \"{}\"\n{}\
         credentials:\n  replication_password_env: MHACTL_TEST_TRANSCRIPT_REPL\n{}\
         tls:\n  enabled: false\n",
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
    Arc::new(Ctx::new(inv, secrets))
}

impl Scenario {
    pub(super) fn mariadb(&self) -> bool {
        self.flavor == "mariadb"
    }
    /// The server's packages and service.
    pub(super) fn packages(&self) -> [&'static str; 2] {
        if self.mariadb() {
            ["mariadb-server", "mariadb"]
        } else {
            ["mysql-community-server", "mysql-community-client"]
        }
    }
    pub(super) fn service(&self) -> &'static str {
        if self.mariadb() {
            "mariadb"
        } else {
            "mysqld"
        }
    }
    pub(super) fn custom_paths(&self) -> bool {
        !self.mysql_extra.is_empty()
    }
    pub(super) fn replica_status_sql(&self) -> &'static str {
        if self.version == "5.7" {
            "SHOW SLAVE STATUS"
        } else {
            "SHOW REPLICA STATUS"
        }
    }
}

/// Run the whole bootstrap of `s` and return the transcript, unredacted (the caller
/// checks where secrets went, then redacts).
pub(super) fn scenario(name: &str) -> Scenario {
    scenarios()
        .into_iter()
        .find(|s| s.name == name)
        .expect("a scenario of that name")
}
