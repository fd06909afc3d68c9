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
use super::Dialect;
use crate::inventory::ServerFamily;

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
