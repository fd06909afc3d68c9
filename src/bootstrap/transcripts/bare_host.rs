//! The bare EL host each transcript scenario starts from, as recorded: nothing installed,
//! firewalld running, SELinux enforcing, systemd (what a node answers before bootstrap's
//! first step; [`super::recordings`] says how it changes as steps run).

use super::recordings::*;
use super::scenarios::Scenario;
use crate::transport::fake::{FakeSql, FakeTransport};

/// A bare EL host as the scenario recorded it: nothing installed, firewalld running,
/// SELinux enforcing, systemd.
pub(super) fn bare_host(s: &Scenario, i: usize, t: &FakeTransport, sql: &FakeSql) {
    actions_succeed(t, sql);
    // server-config's look for option files that override mhactl's drop-in: the server
    // names none (the fallback list: /etc/my.cnf, recorded below, and /etc/mysql/my.cnf,
    // absent on EL), its drop-in directory holds nothing else, no command line is read.
    t.on("Default options are read from", 0, "");
    t.on("if [ -e /etc/mysql/my.cnf ]", 3, "");
    t.on("ls -1 -- ", 0, "");
    sql.on("@@GLOBAL.pid_file", vec![]);
    t.on("/etc/os-release", 0, s.os_release);
    t.on("echo systemd; else echo sysv", 0, "systemd\n");
    // firewalld in its default zone, without mhactl's rules yet.
    t.on(crate::bootstrap::firewall::FIREWALLD_STATE, 0, "running\n");
    t.on("firewall-cmd --get-zone-of-interface=", 0, "public\n");
    t.on(
        "--list-all",
        0,
        "public (active)\n  target: default\n  interfaces: eth0\n  services: cockpit dhcpv6-client ssh\n",
    );
    t.on("--query-rich-rule=", 1, "no\n");
    t.on(crate::bootstrap::firewall::GETENFORCE, 0, "Enforcing\n");
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
    t.on(
        FENCE_AGENT_LABEL,
        0,
        &format!("enforcing\n- {}\n", crate::os::fence::AGENT_PATH),
    );
    // nftables installed (EL8/9 minimal has it), mhactl's table not loaded yet.
    t.on(crate::os::vip_refuse::TABLE_COMMAND, 0, "");
    // EL has no AppArmor and no Debian maintenance file (both probes exit 100 there).
    t.on("/sys/module/apparmor/parameters/enabled", 100, "");
    t.on("/etc/mysql/debian.cnf", 100, "");
    for missing in [
        "/etc/my.cnf.d/zz-mhactl.cnf",
        "/etc/keepalived/keepalived.conf",
        "/etc/keepalived/mhactl-check-mysql.sh",
        crate::bootstrap::paths::TMPFILES_PATH,
        crate::os::fence::AGENT_PATH,
        crate::os::vip_refuse::RULESET_PATH,
        crate::os::client_list::TICKLE_PATH,
        "/etc/mhactl-clients.cnf",
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
    // Skipped replication errors as packaged: none (the skip-errors guard's read).
    sql.on("_skip_errors AS value", vec![vec![("value", Some("OFF"))]]);
    sql.on("@@GLOBAL.server_id", vec![vec![("value", Some("1"))]]);
    // Binary logging as packaged: off in MariaDB, on in MySQL 8.0 and later.
    let packaged_binlog = if s.mariadb() || s.server_version.starts_with("5.") {
        "0"
    } else {
        "1"
    };
    sql.on(
        "@@GLOBAL.log_bin",
        vec![vec![("value", Some(packaged_binlog))]],
    );
    // The packaged default: no GTIDs (so the first password change needs no reset).
    sql.on(
        "@@GLOBAL.gtid_mode",
        vec![vec![
            ("mode", Some("OFF")),
            ("executed", Some("")),
            ("uuid", Some("5a7c0f5e-3b1d-11ef-9a2b-525400c0ffee")),
        ]],
    );
    // The peer's GTID state a new GTID replica starts at, and what of it this node lacks.
    sql.on(
        "@@GLOBAL.gtid_binlog_pos AS gtid",
        vec![vec![("gtid", Some("2-2-3"))]],
    );
    sql.on(
        "@@GLOBAL.gtid_executed AS gtid",
        vec![vec![(
            "gtid",
            Some("6b8d1a2f-3b1d-11ef-9a2b-525400c0ffee:1-3"),
        )]],
    );
    sql.on(
        "GTID_SUBTRACT(",
        vec![vec![(
            "value",
            Some("6b8d1a2f-3b1d-11ef-9a2b-525400c0ffee:1-3"),
        )]],
    );
    sql.on(
        "@@GLOBAL.gtid_binlog_pos AS value",
        vec![vec![("value", Some("1-1-2"))]],
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
    // The vip step asks through the VIP with the node's own client (its client-list login).
    t.on("--protocol=TCP --connect-timeout=5 -N -B -e", 0, "1\n");
    if s.custom_paths() {
        // No local file-context rules yet; /data holds nothing of mysqld's.
        t.on(crate::bootstrap::firewall::SEMANAGE_FCONTEXT_LOCAL, 0, "");
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
