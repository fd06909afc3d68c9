//! Write fencing (issue 16 item 1, `writes: vip-holder`): the statements that make a
//! server refuse or accept application writes, and the my.cnf options that make it
//! start fenced. This is the contract the fence agent and switchover build on.
//!
//! Sources: MySQL reference manual, "super_read_only" (5.7.8+): with it ON even
//! accounts with SUPER / CONNECTION_ADMIN cannot write; setting it ON also sets
//! `read_only`, but setting it OFF leaves `read_only` ON, so unfencing clears both.
//! MariaDB KB, "read_only": accounts with READ_ONLY ADMIN (included in SUPER before
//! 10.11) bypass it; MariaDB has no `super_read_only`, so mhactl's application users
//! never get those privileges (`inventory::admin_reason`). Replication's SQL thread is
//! not affected by either variable, in both flavors.

use super::durability::ServerOption;
use super::{quote_account, quote_string, Dialect};
use crate::inventory::ServerFamily;

/// The fence agent's account, `mhactl_fence@localhost` on each node.
pub const FENCE_USER: &str = "mhactl_fence";

impl Dialect {
    /// Statements that fence this server (no application write accepted), in order.
    pub fn fence_sql(&self) -> Vec<String> {
        match self.family() {
            // super_read_only = ON implies read_only = ON.
            ServerFamily::Mysql => vec!["SET GLOBAL super_read_only = ON".into()],
            ServerFamily::Mariadb => vec!["SET GLOBAL read_only = ON".into()],
        }
    }

    /// Statements that make this server writable again, in order.
    pub fn unfence_sql(&self) -> Vec<String> {
        match self.family() {
            // super_read_only = OFF leaves read_only = ON: clear both, super first.
            ServerFamily::Mysql => vec![
                "SET GLOBAL super_read_only = OFF".into(),
                "SET GLOBAL read_only = OFF".into(),
            ],
            ServerFamily::Mariadb => vec!["SET GLOBAL read_only = OFF".into()],
        }
    }

    /// The query whose single value is `1` when the server refuses application writes
    /// and `0` when it accepts them (on MySQL super_read_only = ON forces read_only).
    pub fn read_only_sql(&self) -> String {
        "SELECT @@GLOBAL.read_only".into()
    }

    /// Statements that let mhactl's own admin session write on a fenced server, run
    /// before its writes on the same connection. MySQL: `super_read_only` stops even
    /// root, so it is lifted, but `read_only` stays ON, so application users (never
    /// given SUPER or CONNECTION_ADMIN) stay fenced meanwhile. MariaDB: nothing, root
    /// holds READ_ONLY ADMIN (through ALL PRIVILEGES) and bypasses `read_only`.
    pub fn admin_write_lift_sql(&self) -> Vec<String> {
        match self.family() {
            ServerFamily::Mysql => vec!["SET GLOBAL super_read_only = OFF".into()],
            ServerFamily::Mariadb => Vec::new(),
        }
    }

    /// Statements run after mhactl's admin writes (also when they failed): the server is
    /// fenced again exactly when it is read-only *now*, so a node that the fence agent
    /// made writable meanwhile (it became the VIP holder) is not fenced by mistake, and
    /// one it fenced stays fenced.
    pub fn admin_write_restore_sql(&self) -> Vec<String> {
        match self.family() {
            ServerFamily::Mysql => {
                vec!["SET GLOBAL super_read_only = @@GLOBAL.read_only".into()]
            }
            ServerFamily::Mariadb => Vec::new(),
        }
    }

    /// The fence agent's local account (`mhactl_fence@localhost`): created with the
    /// binary log off (each node has its own) and the password set, in order.
    pub fn fence_account_sql(&self, password: &str, exists: bool) -> Vec<String> {
        let account = quote_account(FENCE_USER, "localhost");
        let pw = quote_string(password);
        let mut out = vec![self.session_no_binlog_sql()];
        let grant = self.fence_grant_sql();
        if exists {
            out.push(format!("ALTER USER {account} IDENTIFIED BY {pw}"));
        } else {
            out.push(format!("CREATE USER {account} IDENTIFIED BY {pw}"));
        }
        out.extend(grant.into_iter().skip(1));
        out
    }

    /// Only the grant of the agent's privileges (its password works), binary log off.
    pub fn fence_grant_sql(&self) -> Vec<String> {
        vec![
            self.session_no_binlog_sql(),
            format!(
                "GRANT {} ON *.* TO {}",
                self.fence_privileges().join(", "),
                quote_account(FENCE_USER, "localhost")
            ),
            self.session_binlog_sql(),
        ]
    }

    /// The least privileges that let the agent set `read_only` (and `super_read_only`)
    /// and read the replica status: MySQL 8.0+ SYSTEM_VARIABLES_ADMIN (5.7: SUPER) and
    /// REPLICATION CLIENT; MariaDB READ_ONLY ADMIN (what `SET GLOBAL read_only` needs
    /// since 10.5.2) and REPLICA MONITOR (`SHOW SLAVE STATUS` since 10.5.9). Plus, for a
    /// new VIP holder whose peer died (the agent's `release_dead_replicas`), PROCESS to see
    /// the replication account's dump threads and CONNECTION_ADMIN (MariaDB `CONNECTION
    /// ADMIN`; SUPER before) to kill one, and what switches the source side of semi-sync
    /// with the VIP (MySQL SYSTEM_VARIABLES_ADMIN, MariaDB REPLICATION MASTER ADMIN).
    pub fn fence_privileges(&self) -> Vec<&'static str> {
        match self.family() {
            ServerFamily::Mysql if self.version().mysql_at_least(8, 0, 0) => vec![
                "SYSTEM_VARIABLES_ADMIN",
                "REPLICATION CLIENT",
                "PROCESS",
                "CONNECTION_ADMIN",
            ],
            ServerFamily::Mysql => vec!["SUPER", "REPLICATION CLIENT", "PROCESS"],
            ServerFamily::Mariadb if self.version().mariadb_at_least(10, 5, 9) => vec![
                "READ_ONLY ADMIN",
                "REPLICA MONITOR",
                "PROCESS",
                "CONNECTION ADMIN",
                "REPLICATION MASTER ADMIN",
            ],
            // Before 10.5.2 SUPER sets read_only and REPLICATION CLIENT reads the status.
            ServerFamily::Mariadb => vec!["SUPER", "REPLICATION CLIENT", "PROCESS"],
        }
    }

    /// Do these `SHOW GRANTS` lines give the agent its privileges on `*.*`? Servers print
    /// some under another name (MariaDB 10.5+: `SLAVE MONITOR`, `BINLOG MONITOR`).
    pub fn fence_grants_cover(&self, lines: &[String]) -> bool {
        let global: Vec<String> = lines
            .iter()
            .filter(|l| l.contains(" ON *.* TO "))
            .map(|l| l.to_ascii_uppercase())
            .collect();
        let has = |p: &str| {
            let names: &[&str] = match p {
                "REPLICA MONITOR" => &["REPLICA MONITOR", "SLAVE MONITOR"],
                "REPLICATION CLIENT" => &["REPLICATION CLIENT", "BINLOG MONITOR"],
                _ => &[],
            };
            global.iter().any(|l| {
                l.contains("ALL PRIVILEGES") || l.contains(p) || names.iter().any(|n| l.contains(n))
            })
        };
        self.fence_privileges().iter().all(|p| has(p))
    }

    /// Dropping the fence agent's account (`writes: both`), binary log off.
    pub fn drop_fence_account_sql(&self) -> Vec<String> {
        vec![
            self.session_no_binlog_sql(),
            self.drop_user_if_exists_sql(FENCE_USER, "localhost"),
            self.session_binlog_sql(),
        ]
    }

    /// my.cnf options that make a (re)starting server come up fenced.
    pub fn fence_options(&self) -> Vec<ServerOption> {
        let read_only = ServerOption {
            name: "read_only",
            value: "ON",
            running: "1",
        };
        match self.family() {
            ServerFamily::Mysql => vec![
                read_only,
                ServerOption {
                    name: "super_read_only",
                    value: "ON",
                    running: "1",
                },
            ],
            ServerFamily::Mariadb => vec![read_only],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: &str) -> Dialect {
        Dialect::from_version_string(v).unwrap()
    }

    #[test]
    fn mysql_fences_with_super_read_only_and_clears_both() {
        for v in ["5.7.44-log", "8.0.40", "8.4.3", "9.1.0"] {
            let m = d(v);
            assert_eq!(m.fence_sql(), ["SET GLOBAL super_read_only = ON"], "{v}");
            assert_eq!(
                m.unfence_sql(),
                [
                    "SET GLOBAL super_read_only = OFF",
                    "SET GLOBAL read_only = OFF"
                ],
                "{v}"
            );
            let names: Vec<_> = m.fence_options().iter().map(|o| o.name).collect();
            assert_eq!(names, ["read_only", "super_read_only"], "{v}");
        }
    }

    #[test]
    fn mariadb_fences_with_read_only_only() {
        for v in [
            "10.6.21-MariaDB",
            "10.11.18-MariaDB-0+deb12u1",
            "11.4.5-MariaDB",
        ] {
            let m = d(v);
            assert_eq!(m.fence_sql(), ["SET GLOBAL read_only = ON"], "{v}");
            assert_eq!(m.unfence_sql(), ["SET GLOBAL read_only = OFF"], "{v}");
            let names: Vec<_> = m.fence_options().iter().map(|o| o.name).collect();
            assert_eq!(names, ["read_only"], "{v}");
            assert_eq!(m.read_only_sql(), "SELECT @@GLOBAL.read_only");
        }
    }
}
