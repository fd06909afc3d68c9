//! Durability and crash-safe replication settings per flavor and version: which my.cnf
//! options `mysql.durability` renders, and the value `SELECT @@GLOBAL.<variable>` must
//! then return (verify compares the running server with these).
//!
//! Sources (MySQL reference manual and worklogs, MariaDB KB):
//! - `sync_binlog`, `innodb_flush_log_at_trx_commit`: both flavors, all supported
//!   versions. MySQL 5.7.7+ and 8.x default to 1/1, MariaDB (all versions) to 0/1.
//! - `relay_log_recovery`: both flavors (MariaDB: "Enables automatic relay log recovery
//!   right after the database startup", default OFF; MySQL default OFF).
//! - MySQL 5.7 keeps the applier position in `relay-log.info` unless
//!   `relay_log_info_repository = TABLE` ("replication solutions: unexpected replica
//!   halt", refman 5.7): without it relay_log_recovery can re-apply or skip events.
//!   MySQL 8.0.2 made TABLE the default (WL#10474), 8.0.23 deprecated both repository
//!   variables (WL#13958: "must be omitted"), so they are rendered for 5.7 only.
//! - MariaDB has no repository variables: its file/position applier state is
//!   `relay-log.info`, which is not transactional (only GTID replication with
//!   `mysql.gtid_slave_pos` is); docs/inventory.md says so.

use super::Dialect;
use crate::inventory::{Durability, ServerFamily};

/// One my.cnf option and what the running server reports for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServerOption {
    /// Option name as written in my.cnf (and the global variable's name).
    pub name: &'static str,
    /// Value written to my.cnf.
    pub value: &'static str,
    /// What `SELECT @@GLOBAL.<name>` returns when the option is in force.
    pub running: &'static str,
}

const fn opt(name: &'static str, value: &'static str, running: &'static str) -> ServerOption {
    ServerOption {
        name,
        value,
        running,
    }
}

impl Dialect {
    /// The options making commits durable (`mysql.durability`) and replication
    /// crash-safe (always), in the order they are rendered.
    pub fn durability_options(&self, durability: Durability) -> Vec<ServerOption> {
        let mut out = match durability {
            Durability::Full => vec![
                opt("sync_binlog", "1", "1"),
                opt("innodb_flush_log_at_trx_commit", "1", "1"),
            ],
            Durability::Relaxed => vec![
                opt("sync_binlog", "0", "0"),
                opt("innodb_flush_log_at_trx_commit", "2", "2"),
            ],
        };
        out.push(opt("relay_log_recovery", "ON", "1"));
        out.extend(self.applier_repository_options());
        out
    }

    /// The two durability variables a replica's catch-up relaxes (both flavors, dynamic).
    pub fn durability_variables(&self) -> [&'static str; 2] {
        ["sync_binlog", "innodb_flush_log_at_trx_commit"]
    }

    /// `SET GLOBAL` of [`Self::durability_variables`] to `values` (as the server
    /// reported them: digits only, anything else is refused).
    pub fn set_durability_sql(&self, values: [&str; 2]) -> Option<Vec<String>> {
        if values
            .iter()
            .any(|v| v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()))
        {
            return None;
        }
        Some(
            self.durability_variables()
                .iter()
                .zip(values)
                .map(|(name, value)| format!("SET GLOBAL {name} = {value}"))
                .collect(),
        )
    }

    /// MySQL before 8.0.2 keeps replication positions in files unless told otherwise.
    fn applier_repository_options(&self) -> Vec<ServerOption> {
        let v = self.v();
        match v.flavor.family() {
            ServerFamily::Mysql if !v.at_least(8, 0, 2) => vec![
                opt("relay_log_info_repository", "TABLE", "TABLE"),
                opt("master_info_repository", "TABLE", "TABLE"),
            ],
            ServerFamily::Mysql | ServerFamily::Mariadb => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dialect::Version;
    use crate::inventory::Flavor;

    /// The catch-up before a hand-over sets the two variables and puts back exactly
    /// what the server reported; a value that is not a number is never sent.
    #[test]
    fn durability_is_set_only_to_numbers() {
        let d = Dialect::new(Version::new(Flavor::Mariadb, 10, 11, 18));
        assert_eq!(
            d.set_durability_sql(["0", "2"]).unwrap(),
            [
                "SET GLOBAL sync_binlog = 0",
                "SET GLOBAL innodb_flush_log_at_trx_commit = 2"
            ]
        );
        assert!(d.set_durability_sql(["1; DROP", "1"]).is_none());
        assert!(d.set_durability_sql(["", "1"]).is_none());
    }

    fn names(d: &Dialect, dur: Durability) -> Vec<String> {
        d.durability_options(dur)
            .iter()
            .map(|o| format!("{}={}", o.name, o.value))
            .collect()
    }

    #[test]
    fn full_durability_on_every_flavor_with_relay_log_recovery() {
        for v in [
            Version::new(Flavor::Mariadb, 10, 11, 18),
            Version::new(Flavor::Mysql, 8, 0, 36),
            Version::new(Flavor::Mysql, 8, 4, 2),
            Version::new(Flavor::Mysql, 9, 7, 0),
        ] {
            assert_eq!(
                names(&Dialect::new(v), Durability::Full),
                [
                    "sync_binlog=1",
                    "innodb_flush_log_at_trx_commit=1",
                    "relay_log_recovery=ON"
                ],
                "{v}"
            );
        }
    }

    #[test]
    fn mysql_57_keeps_replication_positions_in_tables() {
        let d = Dialect::new(Version::new(Flavor::Mysql, 5, 7, 44));
        assert_eq!(
            names(&d, Durability::Relaxed),
            [
                "sync_binlog=0",
                "innodb_flush_log_at_trx_commit=2",
                "relay_log_recovery=ON",
                "relay_log_info_repository=TABLE",
                "master_info_repository=TABLE"
            ]
        );
        // The server reports ON as 1; the repositories by name.
        let running: Vec<_> = d
            .durability_options(Durability::Full)
            .iter()
            .map(|o| o.running)
            .collect();
        assert_eq!(running, ["1", "1", "1", "TABLE", "TABLE"]);
    }
}
