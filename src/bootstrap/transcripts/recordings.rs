//! What the fake nodes answer: a bare EL host as recorded ([`bare_host`], its own file), and how it
//! looks once a step's actions ran ([`after_planning`], [`after_applying`]), so every
//! step's own checks and re-plan see the host the real actions would leave behind.

use super::scenarios::Scenario;
use crate::transport::fake::{FakeSql, FakeTransport};

pub(super) use super::bare_host::bare_host;

pub(super) const ROOT_PASSWORD: &str = "Root-pw-4-inventory!";
pub(super) const REPL_PASSWORD: &str = "Repl-pw-4-inventory!";
/// The temporary passwords `mysqld --initialize` wrote to each node's error log.
pub(super) const TEMP_PASSWORDS: [&str; 2] = ["k#8Lr;Jw2q%T", "Xv_3o9!pQe,m"];

/// The temporary passwords `mysqld --initialize` wrote for the custom data directory
/// (data-directory step), in the custom error log.
pub(super) const FRESH_TEMP_PASSWORDS: [&str; 2] = ["rT.6w;Gq>9Lk", "h2%Vb_0sN+aE"];

/// The path probe of `path_safety` (detect-os, server-paths, data-directory).
pub(super) const PROBE: &str = crate::bootstrap::path_safety::PROBE_MARKER;

/// The probe's answer: each of /data/mysql, /data/run, /data/log as `STATE OWNER`.
pub(super) fn probed(states: [&str; 3]) -> String {
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
pub(super) const ADDRESSES: [&str; 2] = ["10.0.0.11", "10.0.0.12"];

/// The commands and queries whose recorded answer is "exit 0, no output" or "no rows":
/// every action a step runs succeeds, and the probes below find nothing. Set first, so
/// any rule a scenario or a later step sets for the same command takes precedence.
pub(super) fn actions_succeed(t: &FakeTransport, sql: &FakeSql) {
    for action in [
        // firewall, the VIP refusal
        "--add-rich-rule=",
        "nft -f /etc/keepalived/mhactl-vip-refuse.nft",
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
        // the fence agent's directory
        "install -d -o root -g root -m 0755 /usr/local/libexec/mhactl",
        // switchover's tracked files
        "mkdir -p -m 0755 /run/mhactl && ",
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
        // A new GTID replica's start (issue 19).
        "SET GLOBAL gtid_slave_pos = ",
        "SET @@GLOBAL.gtid_purged = ",
        // mhactl's own writes on a fenced node (MySQL), the fence agent's account
        "SET GLOBAL super_read_only = ",
        "CREATE USER 'mhactl_fence'@'localhost'",
        "GRANT SYSTEM_VARIABLES_ADMIN, REPLICATION CLIENT, PROCESS, CONNECTION_ADMIN ON *.* TO 'mhactl_fence'",
        "GRANT SUPER, REPLICATION CLIENT, PROCESS ON *.* TO 'mhactl_fence'",
        "GRANT READ_ONLY ADMIN, REPLICA MONITOR, PROCESS, CONNECTION ADMIN, REPLICATION MASTER ADMIN ON *.* TO 'mhactl_fence'",
        "CREATE USER 'mhactl_clients'@",
        "GRANT PROCESS ON *.* TO 'mhactl_clients'@",
        // semi-sync (on by default): MySQL's plugins, the variables
        "INSTALL PLUGIN rpl_semi_sync_",
        "SET GLOBAL rpl_semi_sync_",
    ] {
        sql.on(statement, vec![]);
    }
    // No fence agent yet: no option file, no process.
    t.on(FENCE_LOGIN, 3, "");
    t.on(FENCE_AGENT_RUNNING, 0, "");
    // Not a replica yet, nothing stored for one; the ping answers.
    for empty in [
        "SHOW REPLICA STATUS",
        "SHOW SLAVE STATUS",
        "FROM mysql.slave_master_info",
        "SELECT 1",
        "@@GLOBAL.datadir AS value",
    ] {
        sql.on(empty, vec![]);
    }
    // Semi-sync (on by default) already as the `semi-sync` step wants it, so that step
    // is a no-op here: the fake's answers do not change after a statement, and its
    // install / SET GLOBAL / IO-thread path is proven on the lab (e2e `semisync`).
    let names = |prefix: &str, pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        let rename = |n: &str| n.replace("master", "source").replace("slave", "replica");
        (pairs.iter())
            .flat_map(|(n, v)| [(n.to_string(), v), (rename(n), v)])
            .map(|(n, v)| (format!("{prefix}{n}"), v.to_string()))
            .collect()
    };
    let variables = names(
        "rpl_semi_sync_",
        &[
            ("master_enabled", "ON"),
            ("slave_enabled", "ON"),
            ("master_timeout", "1000"),
            ("master_wait_point", "AFTER_SYNC"),
            ("master_wait_no_slave", "OFF"),
        ],
    );
    let status = names(
        "Rpl_semi_sync_",
        &[("master_status", "ON"), ("slave_status", "ON")],
    );
    for (pattern, pairs) in [
        ("('rpl_semi_sync_", &variables),
        ("('Rpl_semi_sync_", &status),
    ] {
        let rows = pairs.iter().map(|(n, v)| {
            vec![
                ("Variable_name", Some(n.as_str())),
                ("Value", Some(v.as_str())),
            ]
        });
        sql.on(&format!("WHERE Variable_name IN {pattern}"), rows.collect());
    }
    // The replication account requires no TLS (these hosts' inventories turn TLS off:
    // its own flow is proven by unit tests and the lab's e2e `tls` scenarios).
    sql.on(
        "SELECT ssl_type FROM mysql.user",
        vec![vec![("ssl_type", Some(""))]],
    );
}

/// What the host looks like once a step's actions ran (answers to the actions' own
/// checks, and the facts later steps read).
pub(super) fn after_planning(s: &Scenario, step: &str, i: usize, t: &FakeTransport, sql: &FakeSql) {
    match step {
        "firewall" => {
            t.on("--query-rich-rule=", 0, "yes\n");
        }
        // The rules are in the local policy, the directories exist (root's) and carry
        // their types.
        "selinux" => {
            t.on(
                crate::bootstrap::firewall::SEMANAGE_FCONTEXT_LOCAL,
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
            // The installed keepalived's banner (the package's version, before `-`).
            let version = s.keepalived_rpm.split('-').next().unwrap_or("");
            t.on(
                "keepalived --version",
                0,
                leak(&format!("Keepalived v{version} (01/01,2020)\n")),
            );
            // EL hosts run in the initial network namespace: kernel process events, so
            // keepalived >= 2.0.11 tracks the server process itself.
            t.on(
                "proc-events",
                0,
                if s.mariadb() {
                    "proc-events: yes\nserver-process: mariadbd\n"
                } else {
                    "proc-events: yes\nserver-process: mysqld\n"
                },
            );
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
            sql.on("@@GLOBAL.log_bin", vec![vec![("value", Some("1"))]]);
            sql.on(
                "@@GLOBAL.auto_increment_offset",
                vec![vec![("value", Some(leak(&id)))]],
            );
            sql.on(
                "@@GLOBAL.character_set_server",
                vec![vec![("value", Some("utf8mb4"))]],
            );
            if s.mariadb() {
                // The restart applied the file's GTID lines (a new pair by GTID).
                sql.on(
                    "@@GLOBAL.gtid_domain_id",
                    vec![vec![("value", Some(leak(&id)))]],
                );
                sql.on(
                    "@@GLOBAL.gtid_strict_mode",
                    vec![vec![("value", Some("1"))]],
                );
            }
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
            // MariaDB's stored hash of the password just set (what PASSWORD() gives).
            sql.on(
                "HEX(authentication_string) AS auth FROM mysql.user",
                vec![vec![
                    ("plugin", Some("mysql_native_password")),
                    ("auth", Some(leak(&native_hash_hex(REPL_PASSWORD)))),
                ]],
            );
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
        "fence-agent" => {
            t.on(FENCE_LOGIN, 0, "");
            sql.on("User = 'mhactl_fence'", vec![vec![("n", Some("1"))]]);
            sql.on(
                "SHOW GRANTS FOR 'mhactl_fence'",
                vec![
                    vec![(
                        "Grants",
                        Some(leak(&format!(
                            "GRANT {} ON *.* TO `mhactl_fence`@`localhost`",
                            if s.mariadb() {
                                "PROCESS, READ_ONLY ADMIN, SLAVE MONITOR, CONNECTION ADMIN, REPLICATION MASTER ADMIN"
                            } else if s.server_version.starts_with("5.7") {
                                "PROCESS, SUPER, REPLICATION CLIENT"
                            } else {
                                "PROCESS, REPLICATION CLIENT"
                            }
                        ))),
                    )],
                    if s.mariadb() || s.server_version.starts_with("5.7") {
                        vec![]
                    } else {
                        vec![(
                            "Grants",
                            Some(
                                "GRANT CONNECTION_ADMIN,SYSTEM_VARIABLES_ADMIN ON *.* TO `mhactl_fence`@`localhost`",
                            ),
                        )]
                    },
                ]
                .into_iter()
                .filter(|r| !r.is_empty())
                .collect(),
            );
        }
        "client-list" => {
            // The account exists now, with PROCESS (the peer's file is kept by the fake).
            sql.on("User = 'mhactl_clients'", vec![vec![("n", Some("1"))]]);
            sql.on(
                "SHOW GRANTS FOR 'mhactl_clients'",
                vec![vec![(
                    "Grants",
                    Some(leak(&format!(
                        "GRANT PROCESS ON *.* TO `mhactl_clients`@`{}`",
                        ADDRESSES[1 - i]
                    ))),
                )]],
            );
        }
        "vip-refuse" => {
            // `nft -f` loaded the ruleset written a moment before.
            let vip = "10.0.0.100".parse().expect("the scenarios' VIP");
            t.on(
                crate::os::vip_refuse::TABLE_COMMAND,
                0,
                &format!(
                    "table ip mhactl {{\n\tchain {} {{\n\t\ttype filter hook prerouting priority mangle; policy accept;\n\t\t{}\n\t}}\n}}\n",
                    crate::os::vip_refuse::CHAIN,
                    crate::os::vip_refuse::listed_rules(vip, 3306).join("\n\t\t")
                ),
            );
        }
        "replication" => {
            // The fence agent's account is not there yet (the rule above answers for
            // the replication account).
            sql.on("User = 'mhactl_fence'", vec![vec![("n", Some("0"))]]);
            sql.on("User = 'mhactl_clients'", vec![vec![("n", Some("0"))]]);
            let rows = (s.replica_status)(ADDRESSES[1 - i]);
            sql.on(s.replica_status_sql(), rows);
        }
        "keepalived" => {
            t.on("is-active --quiet keepalived", 0, "");
            // keepalived started the fence agent: it keeps node 1 (not the VIP holder)
            // read-only and makes node 0 (the holder) writable.
            t.on(FENCE_AGENT_RUNNING, 0, "4242\n");
            let fenced = if i == 0 { "0" } else { "1" };
            for v in ["@@GLOBAL.read_only", "@@GLOBAL.super_read_only"] {
                sql.on(v, vec![vec![("value", Some(fenced))]]);
            }
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
pub(super) fn after_applying(step: &str, t: &FakeTransport) {
    if step == "fence-agent" {
        t.on(
            FENCE_AGENT_LABEL,
            0,
            &format!(
                "enforcing\nsystem_u:object_r:{}:s0 {}\n",
                crate::bootstrap::steps::CHECK_SCRIPT_SELINUX_TYPE,
                crate::os::fence::AGENT_PATH
            ),
        );
    }
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

/// The fence agent's login check and process probe (see `os::fence`).
const FENCE_LOGIN: &str =
    "|| exit 3; $(command -v mariadb || command -v mysql) --defaults-extra-file=";
pub(super) const FENCE_AGENT_LABEL: &str = "for p in /usr/local/libexec/mhactl/fence-agent;";
const FENCE_AGENT_RUNNING: &str = "pgrep -f '^/bin/bash /usr/local/libexec/mhactl/fence-agent";

pub(super) fn leak(s: &str) -> &'static str {
    Box::leak(s.to_string().into_boxed_str())
}

/// `HEX(authentication_string)` of a `mysql_native_password` account with `password`.
fn native_hash_hex(password: &str) -> String {
    crate::dialect::native_hash(password)
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect()
}
