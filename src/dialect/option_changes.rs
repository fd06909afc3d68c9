//! How a changed line of mhactl's option file reaches the running server: `SET GLOBAL`
//! (no restart), the file alone, or a restart. bootstrap's `server-config` step asks this
//! for every option whose line changes, and restarts a server only when one of them says
//! [`OptionPath::Restart`].
//!
//! Conservative on purpose: an option is dynamic here only when the reference manuals
//! (MySQL "Server System Variables", "Replication and Binary Logging Options"; MariaDB KB
//! "Server System Variables", "Semisynchronous Replication") list it as dynamic on every
//! version mhactl supports that renders it, setting it needs nothing but the privilege
//! root has (no stopped replica, no plugin to load, no session that keeps an old value
//! that matters), and its value is a plain integer, compared with what
//! `SHOW GLOBAL VARIABLES` reports without any unit conversion. Everything else restarts.
//! `SET GLOBAL`, not `SET PERSIST`: mhactl's option file is the one place the setting
//! lives, so a restart keeps it and no `mysqld-auto.cnf` overrides the file later.

use super::Dialect;

/// How one changed option reaches the running server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionPath {
    /// `SET GLOBAL` on the running server, then the file; no restart.
    SetGlobal,
    /// Written to the file only: no running server needs it (why).
    FileOnly(&'static str),
    /// Only a restart puts it in force.
    Restart,
}

impl OptionPath {
    /// How the plan names the path ("SET GLOBAL (no restart)", "restart", ...).
    pub fn label(&self) -> &'static str {
        match self {
            OptionPath::SetGlobal => "SET GLOBAL (no restart)",
            OptionPath::FileOnly(_) => "file only (no restart)",
            OptionPath::Restart => "restart",
        }
    }
}

/// Options the write fence owns at runtime (the fence agent sets them on every VIP
/// transition): the file only matters at the next start, and a `SET GLOBAL` from
/// bootstrap would fence the VIP holder or unfence the passive node.
const FENCE_OPTIONS: &[&str] = &["read_only", "super_read_only"];

/// Semi-sync's options (both spellings; `loose-` is gone once normalised): bootstrap's
/// `semi-sync` step sets their running values with `SET GLOBAL` (and installs MySQL's
/// plugins) right after `server-config`, so turning semi-sync on or off, or changing its
/// timeout, never restarts a server (issue 19: no outage on a running pair).
const SEMI_SYNC_OPTIONS: &[&str] = &[
    "rpl_semi_sync_master_enabled",
    "rpl_semi_sync_slave_enabled",
    "rpl_semi_sync_master_timeout",
    "rpl_semi_sync_master_wait_point",
    "rpl_semi_sync_master_wait_no_slave",
    "rpl_semi_sync_source_enabled",
    "rpl_semi_sync_replica_enabled",
    "rpl_semi_sync_source_timeout",
    "rpl_semi_sync_source_wait_point",
    "rpl_semi_sync_source_wait_no_replica",
];

impl Dialect {
    /// How a change of option `key` (normalised: lower case, `_`) in group `group` to
    /// `value` (`None`: the line is removed, or a bare option) takes effect.
    /// `server_group`: the server reads `group` (`[mysqld]`, `[mariadb]`, ...).
    pub fn option_change_path(
        &self,
        server_group: bool,
        group: &str,
        key: &str,
        value: Option<&str>,
    ) -> OptionPath {
        if !server_group {
            return match group {
                // Read by client programs when they start, never by the server.
                "client" | "mysql" | "mariadb-client" => {
                    OptionPath::FileOnly("client programs read it when they start")
                }
                // mysqld_safe and anything else: read at the server's start; restart.
                _ => OptionPath::Restart,
            };
        }
        if FENCE_OPTIONS.contains(&key) {
            return OptionPath::FileOnly(
                "the write fence sets the running value on every VIP transition",
            );
        }
        if SEMI_SYNC_OPTIONS.contains(&key) {
            return OptionPath::FileOnly(
                "the semi-sync step sets the running value (SET GLOBAL, no restart)",
            );
        }
        // A removed line falls back to the compiled-in default, which only a restart
        // restores exactly; a value with a unit or a word is not compared safely.
        let Some(value) = value else {
            return OptionPath::Restart;
        };
        if self.gtid_conversion_option(key) {
            return OptionPath::FileOnly(
                "the gtid-conversion step sets the running value (SET GLOBAL, no restart)",
            );
        }
        if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
            return OptionPath::Restart;
        }
        if self.dynamic_integer_variable(key) {
            OptionPath::SetGlobal
        } else {
            OptionPath::Restart
        }
    }

    /// MariaDB's GTID options, which bootstrap's `gtid-conversion` step sets on the running
    /// server in the order an online conversion needs (the domain before the replica
    /// switches, strict mode last: src/dialect/gtid_conversion.rs); a restart would apply
    /// strict mode before the replica positions by GTID. MySQL's `gtid_mode` moves one
    /// step at a time on both servers together, which the same step does online (a
    /// restart would jump one node to ON next to a peer at OFF: replication stops).
    fn gtid_conversion_option(&self, key: &str) -> bool {
        match self.family() {
            crate::inventory::ServerFamily::Mariadb => {
                matches!(key, "gtid_domain_id" | "gtid_strict_mode")
            }
            crate::inventory::ServerFamily::Mysql => {
                matches!(key, "gtid_mode" | "enforce_gtid_consistency")
            }
        }
    }

    /// Integer variables mhactl renders that are dynamic on this server.
    fn dynamic_integer_variable(&self, key: &str) -> bool {
        let v = self.v();
        match key {
            // Both flavors, every supported version (global, dynamic).
            "sync_binlog" | "innodb_flush_log_at_trx_commit" | "expire_logs_days" => true,
            "binlog_expire_logs_seconds" => {
                v.mysql_at_least(8, 0, 1) || v.mariadb_at_least(10, 6, 1)
            }
            // A boolean, written 1 (`require_secure_transport_option`).
            "require_secure_transport" => self.has_require_secure_transport(),
            _ => false,
        }
    }

    /// Options whose running value (`SHOW GLOBAL VARIABLES`, same name) reads like the
    /// option file's value, so that [`same_running_value`] tells whether the running
    /// server already has a wanted value. Not paths (`datadir`, `log_bin`: basenames,
    /// trailing slashes), lists (filters, plugins) or skipped errors (`OFF` vs a list).
    pub fn running_value_reads_as_written(&self, key: &str) -> bool {
        SEMI_SYNC_OPTIONS.contains(&key)
            || matches!(
                key,
                "server_id"
                    | "report_host"
                    | "bind_address"
                    | "port"
                    | "skip_name_resolve"
                    | "log_slave_updates"
                    | "log_replica_updates"
                    | "binlog_format"
                    | "auto_increment_increment"
                    | "auto_increment_offset"
                    | "character_set_server"
                    | "collation_server"
                    | "relay_log_recovery"
                    | "relay_log_info_repository"
                    | "master_info_repository"
            )
            || self.dynamic_integer_variable(key)
    }

    /// `SET GLOBAL variable = value` for an option [`Self::option_change_path`] called
    /// [`OptionPath::SetGlobal`] (the caller passes its integer value).
    pub fn set_global_integer_sql(&self, variable: &str, value: u64) -> anyhow::Result<String> {
        if !self.dynamic_integer_variable(variable) {
            anyhow::bail!("{variable} is not a dynamic variable mhactl sets with SET GLOBAL");
        }
        Ok(format!("SET GLOBAL {variable} = {value}"))
    }
}

/// Do a running value (as `SHOW GLOBAL VARIABLES` shows it) and an option file's value
/// mean the same? `ON`/`OFF` and `1`/`0` alike; MariaDB shows some numbers as decimals
/// (`expire_logs_days` 7.000000).
pub fn same_running_value(running: &str, wanted: &str) -> bool {
    fn norm(v: &str) -> String {
        let l = v.trim().to_ascii_lowercase();
        match l.as_str() {
            "on" | "true" | "yes" => "1".into(),
            "off" | "false" | "no" => "0".into(),
            _ => l.parse::<i128>().map(|n| n.to_string()).unwrap_or(l),
        }
    }
    let float = |v: &str| v.trim().parse::<f64>().ok();
    norm(running) == norm(wanted)
        || matches!((float(running), float(wanted)), (Some(a), Some(b)) if a == b)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dialect {
        Dialect::from_version_string(s).unwrap()
    }

    /// Every option mhactl renders, on the servers it supports, takes the path the
    /// module doc promises: only the plain-integer dynamic ones avoid a restart.
    #[test]
    fn every_rendered_option_is_classified() {
        let restart = [
            ("server_id", "2"),
            ("report_host", "node-b"),
            ("bind_address", "0.0.0.0"),
            ("port", "3307"),
            ("skip_name_resolve", "ON"),
            ("datadir", "/data/mysql"),
            ("socket", "/run/x.sock"),
            ("pid_file", "/run/x.pid"),
            ("log_error", "/var/log/x.log"),
            ("log_bin", "mysql-bin"),
            ("relay_log", "relay-bin"),
            ("log_slave_updates", "ON"),
            ("log_replica_updates", "ON"),
            ("binlog_format", "ROW"),
            ("relay_log_recovery", "ON"),
            ("relay_log_info_repository", "TABLE"),
            ("master_info_repository", "TABLE"),
            ("auto_increment_increment", "2"),
            ("auto_increment_offset", "1"),
            ("binlog_do_db", "app"),
            ("replicate_do_db", "app"),
            ("replicate_ignore_db", "mysql"),
            ("slave_skip_errors", "1062"),
            ("replica_skip_errors", "1062"),
            ("plugin_load_add", "semisync_source.so"),
            ("character_set_server", "utf8mb4"),
            ("collation_server", "utf8mb4_general_ci"),
        ];
        for v in [
            "10.11.18-MariaDB",
            "11.8.3-MariaDB",
            "8.4.2",
            "9.7.4",
            "5.7.44",
        ] {
            let d = d(v);
            for (key, value) in restart {
                assert_eq!(
                    d.option_change_path(true, "mysqld", key, Some(value)),
                    OptionPath::Restart,
                    "{v}: {key}"
                );
            }
            for key in [
                "sync_binlog",
                "innodb_flush_log_at_trx_commit",
                "expire_logs_days",
            ] {
                assert_eq!(
                    d.option_change_path(true, "mysqld", key, Some("0")),
                    OptionPath::SetGlobal,
                    "{v}: {key}"
                );
                // Removed: the default comes back only with a restart.
                assert_eq!(
                    d.option_change_path(true, "mysqld", key, None),
                    OptionPath::Restart,
                    "{v}: {key} removed"
                );
            }
            // Sizes and words are never set at runtime by mhactl.
            assert_eq!(
                d.option_change_path(true, "mysqld", "sync_binlog", Some("1K")),
                OptionPath::Restart
            );
            for fence in ["read_only", "super_read_only"] {
                assert!(matches!(
                    d.option_change_path(true, "mysqld", fence, Some("ON")),
                    OptionPath::FileOnly(_)
                ));
            }
            // Semi-sync: set at runtime by the semi-sync step, whatever the change.
            for (key, value) in [
                ("rpl_semi_sync_master_enabled", Some("ON")),
                ("rpl_semi_sync_replica_enabled", None),
                ("rpl_semi_sync_source_timeout", Some("500")),
                ("rpl_semi_sync_source_wait_point", Some("AFTER_SYNC")),
                ("rpl_semi_sync_master_wait_no_slave", Some("OFF")),
            ] {
                assert!(
                    matches!(
                        d.option_change_path(true, "mysqld", key, value),
                        OptionPath::FileOnly(_)
                    ),
                    "{v}: {key}"
                );
            }
            assert!(matches!(
                d.option_change_path(false, "client", "default_character_set", Some("utf8")),
                OptionPath::FileOnly(_)
            ));
            assert_eq!(
                d.option_change_path(false, "mysqld_safe", "log_error", Some("/x")),
                OptionPath::Restart
            );
        }
    }

    /// The GTID lines are written without a restart (the `gtid-conversion` step sets them
    /// in order, on MySQL both servers a step at a time); a removed line restarts (the
    /// compiled-in default).
    #[test]
    fn gtid_options_are_the_conversion_steps() {
        let maria = d("10.11.18-MariaDB");
        for (key, value) in [("gtid_domain_id", "2"), ("gtid_strict_mode", "ON")] {
            assert!(
                matches!(
                    maria.option_change_path(true, "mysqld", key, Some(value)),
                    OptionPath::FileOnly(_)
                ),
                "{key}"
            );
            assert_eq!(
                maria.option_change_path(true, "mysqld", key, None),
                OptionPath::Restart
            );
        }
        let mysql = d("8.4.3");
        for (key, value) in [("gtid_mode", "ON"), ("enforce_gtid_consistency", "ON")] {
            assert!(
                matches!(
                    mysql.option_change_path(true, "mysqld", key, Some(value)),
                    OptionPath::FileOnly(_)
                ),
                "{key}"
            );
            assert_eq!(
                mysql.option_change_path(true, "mysqld", key, None),
                OptionPath::Restart
            );
        }
    }

    #[test]
    fn binlog_expiry_in_seconds_is_dynamic_where_it_exists() {
        let path = |v: &str| {
            d(v).option_change_path(true, "mysqld", "binlog_expire_logs_seconds", Some("86400"))
        };
        assert_eq!(path("10.11.18-MariaDB"), OptionPath::SetGlobal);
        assert_eq!(path("8.0.36"), OptionPath::SetGlobal);
        assert_eq!(path("10.5.2-MariaDB"), OptionPath::Restart);
        assert_eq!(path("5.7.44"), OptionPath::Restart);
    }

    #[test]
    fn set_global_only_for_dynamic_integers() {
        let d = d("10.11.18-MariaDB");
        assert_eq!(
            d.set_global_integer_sql("binlog_expire_logs_seconds", 259_200)
                .unwrap(),
            "SET GLOBAL binlog_expire_logs_seconds = 259200"
        );
        assert!(d.set_global_integer_sql("server_id", 3).is_err());
        assert!(d.set_global_integer_sql("sync_binlog; DROP", 1).is_err());
    }

    #[test]
    fn running_values_compare_as_the_server_means_them() {
        assert!(same_running_value("ON", "1"));
        assert!(same_running_value("7.000000", "7"));
        assert!(same_running_value("0604800", "604800"));
        assert!(!same_running_value("604800", "259200"));
        assert!(!same_running_value("1", "2"));
    }
}
