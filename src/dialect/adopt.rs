//! The SQL `mhactl adopt` reads a hand-built pair with (all read-only): every account,
//! the replicas connected to this server, every replication source (MariaDB's named
//! connections, MySQL's channels), the size of the data, and the variables whose values
//! the adoption report judges.

use super::Dialect;
use crate::inventory::ServerFamily;

/// Databases that are the server's own (never compared, never counted as data).
pub const SYSTEM_SCHEMAS: &[&str] = &["mysql", "information_schema", "performance_schema", "sys"];

/// Every account: rows `user`, `host`, in order.
pub fn all_accounts_sql() -> &'static str {
    "SELECT User AS user, Host AS host FROM mysql.user ORDER BY User, Host"
}

/// The replicas reading this server's binary log now: rows `user`, `host` (`host:port`
/// or a name, as the server resolved it).
pub fn replica_connections_sql() -> &'static str {
    "SELECT USER AS user, HOST AS host FROM information_schema.PROCESSLIST \
     WHERE COMMAND LIKE 'Binlog Dump%'"
}

/// Data and index size of every database but the system schemas, in KiB: row `kib`.
pub fn user_data_size_kib_sql() -> String {
    let list: Vec<String> = SYSTEM_SCHEMAS
        .iter()
        .map(|d| super::quote_string(d))
        .collect();
    format!(
        "SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) DIV 1024 AS kib \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA NOT IN ({})",
        list.join(", ")
    )
}

/// Variables adopt reads (missing ones, e.g. another flavor's, read as absent).
pub const ADOPT_VARIABLES: &[&str] = &[
    "server_id",
    "auto_increment_increment",
    "auto_increment_offset",
    "log_bin",
    "binlog_format",
    "log_slave_updates",
    "log_replica_updates",
    "slave_skip_errors",
    "replica_skip_errors",
    "expire_logs_days",
    "binlog_expire_logs_seconds",
    "gtid_mode",
    "gtid_strict_mode",
    // MySQL: which of the peer's transactions never reach a replica that positions by
    // file (adopt's `gtid-pre-replication` risk).
    "server_uuid",
    "gtid_executed",
    "read_only",
    "super_read_only",
    "wsrep_on",
    "datadir",
    "socket",
    "port",
    "bind_address",
    "character_set_server",
    "collation_server",
    "sync_binlog",
    "innodb_flush_log_at_trx_commit",
    "binlog_do_db",
    "binlog_ignore_db",
    "validate_password_policy",
    "validate_password.policy",
];

impl Dialect {
    /// Every replication source this server has: MariaDB's `SHOW ALL SLAVES STATUS`
    /// (one row per named connection), MySQL's replica status (one row per channel).
    pub fn all_sources_sql(&self) -> String {
        match self.family() {
            ServerFamily::Mariadb => "SHOW ALL SLAVES STATUS".to_string(),
            ServerFamily::Mysql => self.replica_status_sql(),
        }
    }

    /// The name of one source's connection or channel in an [`Self::all_sources_sql`]
    /// row's columns.
    pub fn source_name_column(&self) -> &'static str {
        match self.family() {
            ServerFamily::Mariadb => "Connection_name",
            ServerFamily::Mysql => "Channel_Name",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dialect {
        Dialect::from_version_string(s).unwrap()
    }

    #[test]
    fn sources_per_flavor() {
        assert_eq!(
            d("10.11.6-MariaDB").all_sources_sql(),
            "SHOW ALL SLAVES STATUS"
        );
        assert_eq!(d("8.4.3").all_sources_sql(), "SHOW REPLICA STATUS");
        assert_eq!(d("5.7.44").all_sources_sql(), "SHOW SLAVE STATUS");
        assert_eq!(d("10.11.6-MariaDB").source_name_column(), "Connection_name");
    }

    #[test]
    fn data_size_leaves_out_system_schemas() {
        let sql = user_data_size_kib_sql();
        assert!(sql.contains("NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"));
    }
}
