//! What differs between server flavors and versions (MySQL 5.7/8.0/8.4/9.x, MariaDB).
//!
//! This module is the one place that knows which SQL statement, result column or
//! my.cnf option name a given server accepts. Everything here is pure: it builds SQL
//! strings and parses result rows, it never talks to a server.
//!
//! Version boundaries used (from the MySQL reference manual and the MariaDB KB):
//! - MySQL 8.0.22: `SHOW REPLICA STATUS`, `START/STOP/RESET REPLICA`, `Replica_*`/`Source_*`
//!   columns; 8.0.23: `CHANGE REPLICATION SOURCE TO`; 8.0.26: `log_replica_updates`,
//!   `replica_skip_errors`; 8.2.0: `SHOW BINARY LOG STATUS` (`SHOW MASTER STATUS` removed in
//!   8.4); 8.0.1: `binlog_expire_logs_seconds`; 8.0.16: `mysqld --validate-config`;
//!   8.0.4: `GET_MASTER_PUBLIC_KEY` (caching_sha2_password is the 8.0 default).
//! - MariaDB 10.5.1: `SHOW REPLICA STATUS`, `START/STOP/RESET REPLICA` (columns keep the
//!   `Slave_*`/`Master_*` names); 10.5.2: `SHOW BINLOG STATUS`, `REPLICATION CLIENT` becomes
//!   an alias of `BINLOG MONITOR` (and `SHOW GRANTS` prints `BINLOG MONITOR`);
//!   10.6.1: `binlog_expire_logs_seconds`.
//!
//! String literals are escaped for the default `sql_mode` (backslash escapes enabled):
//! do not run these statements in a session with `NO_BACKSLASH_ESCAPES`.
//!
//! Submodules by topic: `version` (parsing `SELECT VERSION()`, the only flavor detection),
//! `flavor` (version-independent capabilities of each flavor, one exhaustive `match` each),
//! `replica_control` (binary log and replica thread statements, status parsing),
//! `replication` (re-pointing a replica), `accounts` (users, grants, `sql_log_bin` off/on,
//! the temporary root password), `server_options` (my.cnf option names), `dumps` (the dump
//! tool's binary log position), `gtid`, `gtid_conversion` (a running file/position pair
//! converted to GTIDs online), `durability`, `fencing` (read_only fence and unfence), `option_changes` (which changed option needs a restart and which is set with
//! `SET GLOBAL`), `switchover` (position wait, long transactions, sessions to end, the
//! canary row), `isolate` (failover-test's local writers), `insecure_defaults`, `queries` (text
//! that is the same everywhere) and `probe` (failover's write probe). Callers outside
//! `dialect/` write no SQL and compare no flavors: they call these.

use crate::inventory::Flavor;
use anyhow::{bail, Result};

mod accounts;
pub mod adopt;
mod client_list;
mod dumps;
mod durability;
mod fencing;
mod flavor;
mod grants;
mod gtid;
mod gtid_conversion;
mod gtid_conversion_mysql;
mod health;
mod insecure_defaults;
mod isolate;
mod option_changes;
mod probe;
mod queries;
mod replica_control;
mod replication;
mod semi_sync;
mod server_options;
mod stored_password;
#[cfg(test)]
pub(crate) use stored_password::native_hash;
mod switchover;
mod tls;
mod version;
pub use accounts::{
    account_hosts_sql, alter_own_password_sql, parse_temporary_password, TEMPORARY_PASSWORD_MARKER,
};
pub use client_list::CLIENT_LIST_USER;
pub use dumps::dump_coordinates;
pub use durability::ServerOption;
pub use fencing::FENCE_USER;
pub use flavor::GtidModel;
pub use grants::grant_changes;
pub use gtid::{
    add_gtid_purged_sql, errant_gtids_sql, first_gtid_sequence, gtid_subset_of_executed_sql,
    mariadb_errant, parse_mariadb_gtid_position, pre_replication_gtids_sql, set_gtid_purged_sql,
    MariadbGtid, MariadbPair,
};
pub use gtid_conversion_mysql::{binlog_files_from, GtidConsistency, GtidMode, LoggedAfter};
pub use health::health_check_sql;
pub use isolate::{local_write_sql, local_writes_per_node_sql, local_writes_table_sql};
pub use option_changes::{same_running_value, OptionPath};
pub use probe::{
    drop_accounts_advice_sql, drop_database_advice_sql, drop_probe_account_sql,
    drop_probe_database_sql, probe_account_sql, probe_accounts_sql, probe_database_exists_sql,
    probe_rows_sql, probe_table_sql, probe_write_sql,
};
pub use queries::{
    base_tables_sql, checksum_table_sql, databases_size_kib_sql, datadir_sql, global_variable_sql,
    known_global_variables_sql, pid_file_sql, ping_sql, server_id_sql, server_socket_sql,
    show_databases_sql, show_global_status_sql, version_sql,
};
pub use replica_control::{BinlogCoordinates, ChangeSource, ReplicaStatus};
pub use replication::{
    parse_info_file_password, ReplicaHistory, Repoint, RepointStart, ServerIdentity, StoredPassword,
};
pub use semi_sync::SemiSyncNames;
pub use switchover::{
    canary_read_sql, canary_table_sql, canary_write_sql, client_sessions_sql,
    drop_canary_table_sql, gtid_executed_without_sql, kill_connection_sql,
    long_write_transactions_sql, parse_gtid_wait, parse_pos_wait, probe_writes_by_server_since_sql,
    tables_in_sql, PosWait, CANARY_TABLE, SYSTEM_USERS,
};
pub use tls::ReplicaTls;
pub use version::Version;

/// One result row as (column name, value) pairs.
struct Row<'a>(&'a [(String, Option<String>)]);

impl Row<'_> {
    fn find(&self, names: &[&str]) -> Result<Option<&str>> {
        for name in names {
            if let Some((_, v)) = self.0.iter().find(|(c, _)| c.eq_ignore_ascii_case(name)) {
                return Ok(v.as_deref());
            }
        }
        bail!("result has no column {}", names.join(" or "))
    }

    fn string(&self, names: &[&str]) -> Result<String> {
        Ok(self.find(names)?.unwrap_or("").to_string())
    }

    fn yes(&self, names: &[&str]) -> Result<bool> {
        Ok(self
            .find(names)?
            .is_some_and(|v| v.eq_ignore_ascii_case("yes")))
    }

    fn optional_number<T: std::str::FromStr>(&self, names: &[&str]) -> Result<Option<T>> {
        match self.find(names)?.map(str::trim) {
            None | Some("") => Ok(None),
            Some(v) => v
                .parse::<T>()
                .map(Some)
                .map_err(|_| anyhow::anyhow!("column {} is not a number: {v:?}", names[0])),
        }
    }

    fn number<T: std::str::FromStr + Default>(&self, names: &[&str]) -> Result<T> {
        Ok(self.optional_number(names)?.unwrap_or_default())
    }
}
/// Quotes a string literal: `'...'` with `\` and `'` escaped (and NUL as `\0`).
pub fn quote_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('\'');
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '\0' => out.push_str("\\0"),
            c => out.push(c),
        }
    }
    out.push('\'');
    out
}

/// The global values of `names` in one query (rows `Variable_name`, `Value`; a name the
/// server does not know has no row). Same text on every flavor and version.
pub fn show_global_variables_sql(names: &[&str]) -> String {
    let list: Vec<String> = names.iter().map(|n| quote_string(n)).collect();
    format!(
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ({})",
        list.join(", ")
    )
}

/// Quotes an account name as `'user'@'host'`.
pub fn quote_account(user: &str, host: &str) -> String {
    format!("{}@{}", quote_string(user), quote_string(host))
}

/// Everything that depends on the server flavor and version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Dialect {
    version: Version,
}

impl Dialect {
    /// A dialect for a known version.
    pub fn new(version: Version) -> Self {
        Dialect { version }
    }

    /// A dialect from `SELECT VERSION()` output (see [`Version::parse`]).
    pub fn from_version_string(s: &str) -> Result<Self> {
        Version::parse(s).map(Dialect::new)
    }

    /// The server version this dialect speaks to.
    pub fn version(&self) -> Version {
        self.version
    }

    /// The server flavor.
    pub fn flavor(&self) -> Flavor {
        self.version.flavor
    }

    /// The server's family: what per-statement code matches on (see `dialect/flavor.rs`).
    pub fn family(&self) -> crate::inventory::ServerFamily {
        self.version.flavor.family()
    }

    fn v(&self) -> &Version {
        &self.version
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dialect {
        Dialect::from_version_string(s).unwrap()
    }

    #[test]
    fn quoting() {
        assert_eq!(quote_string("a'b\\c"), "'a\\'b\\\\c'");
        assert_eq!(quote_string("nul\0"), "'nul\\0'");
        assert_eq!(quote_account("repl", "10.0.0.1"), "'repl'@'10.0.0.1'");
        assert_eq!(
            d("8.4.2").create_replication_user_sql("repl", "10.0.0.1", "p'w"),
            "CREATE USER IF NOT EXISTS 'repl'@'10.0.0.1' IDENTIFIED BY 'p\\'w'"
        );
        assert_eq!(
            d("5.7.44").alter_user_password_sql("repl", "%", "x"),
            "ALTER USER 'repl'@'%' IDENTIFIED BY 'x'"
        );
        assert_eq!(
            d("8.4.2").show_grants_sql("repl", "h"),
            "SHOW GRANTS FOR 'repl'@'h'"
        );
    }
}
