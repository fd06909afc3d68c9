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

use crate::inventory::Flavor;
use anyhow::{bail, Context, Result};
use std::fmt;

mod durability;
mod insecure_defaults;
pub use durability::ServerOption;
mod replication;
pub use replication::{
    parse_info_file_password, ReplicaHistory, Repoint, RepointStart, ServerIdentity, StoredPassword,
};

/// A server version as reported by `SELECT VERSION()`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Version {
    /// MariaDB or MySQL.
    pub flavor: Flavor,
    /// Major version (`10` in 10.11.18).
    pub major: u32,
    /// Minor version (`11` in 10.11.18).
    pub minor: u32,
    /// Patch level (`18` in 10.11.18; 0 when absent).
    pub patch: u32,
}

impl Version {
    /// Builds a version from its parts.
    pub fn new(flavor: Flavor, major: u32, minor: u32, patch: u32) -> Self {
        Version {
            flavor,
            major,
            minor,
            patch,
        }
    }

    /// Parses `SELECT VERSION()` output such as `10.11.18-MariaDB-0+deb12u1`, `8.4.2-log`
    /// or `9.7.4`. The flavor is MariaDB when the string contains `MariaDB`.
    pub fn parse(s: &str) -> Result<Self> {
        let s = s.trim();
        let flavor = if s.contains("MariaDB") {
            Flavor::Mariadb
        } else {
            Flavor::Mysql
        };
        // MariaDB before 11 may prefix the handshake version with "5.5.5-".
        let rest = match flavor {
            Flavor::Mariadb => s.strip_prefix("5.5.5-").unwrap_or(s),
            Flavor::Mysql => s,
        };
        let numeric: &str = rest
            .split(|c: char| !(c.is_ascii_digit() || c == '.'))
            .next()
            .unwrap_or("");
        let mut parts = numeric.split('.').filter(|p| !p.is_empty());
        let mut next = |what: &str, required: bool| -> Result<u32> {
            match parts.next() {
                Some(p) => p
                    .parse::<u32>()
                    .with_context(|| format!("bad {what} version number in {s:?}")),
                None if required => bail!("cannot parse server version {s:?}: no {what} number"),
                None => Ok(0),
            }
        };
        let major = next("major", true)?;
        let minor = next("minor", true)?;
        let patch = next("patch", false)?;
        Ok(Version::new(flavor, major, minor, patch))
    }

    /// True if this version is at least `major.minor.patch` (flavor not compared).
    pub fn at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        (self.major, self.minor, self.patch) >= (major, minor, patch)
    }

    fn mysql_at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        self.flavor == Flavor::Mysql && self.at_least(major, minor, patch)
    }

    fn mariadb_at_least(&self, major: u32, minor: u32, patch: u32) -> bool {
        self.flavor == Flavor::Mariadb && self.at_least(major, minor, patch)
    }
}

impl Version {
    /// Why this running server is not the one the inventory describes (`mysql.flavor`
    /// and, when set, `mysql.version` as `major.minor`), or `None` when it is.
    pub fn mismatch(&self, flavor: Flavor, version: Option<&str>) -> Option<String> {
        let name = |f: Flavor| match f {
            Flavor::Mariadb => "mariadb",
            Flavor::Mysql => "mysql",
        };
        if self.flavor != flavor {
            return Some(format!(
                "the server is {self}, but mysql.flavor is {}: fix mysql.flavor, or install {} on the node",
                name(flavor),
                name(flavor)
            ));
        }
        let want = version?.trim();
        let have = format!("{}.{}", self.major, self.minor);
        (want != have).then(|| {
            format!(
                "the server is {self}, but mysql.version is \"{want}\": set mysql.version to \"{have}\", \
                 or install {want} on the node (mhactl does not upgrade or downgrade servers)"
            )
        })
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self.flavor {
            Flavor::Mariadb => "MariaDB",
            Flavor::Mysql => "MySQL",
        };
        write!(f, "{name} {}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// Where a replica starts reading its source (the arguments of `CHANGE MASTER TO` /
/// `CHANGE REPLICATION SOURCE TO`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeSource {
    /// Address of the source (the peer node).
    pub host: String,
    /// Source port.
    pub port: u16,
    /// Replication account name.
    pub user: String,
    /// Replication account password.
    pub password: String,
    /// Binary log file from the source's binlog status (`File`).
    pub log_file: String,
    /// Position in that file (`Position`).
    pub log_pos: u64,
    /// Seconds between reconnection attempts.
    pub connect_retry: u32,
}

/// A position in a server's binary log, from `SHOW MASTER STATUS` and its successors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinlogCoordinates {
    /// Current binary log file (`File`).
    pub file: String,
    /// Position in that file (`Position`).
    pub position: u64,
}

impl BinlogCoordinates {
    /// Parses one row of binlog status (`File`, `Position`, ...).
    pub fn from_columns(cols: &[(String, Option<String>)]) -> Result<Self> {
        let row = Row(cols);
        Ok(BinlogCoordinates {
            file: row.string(&["File"])?,
            position: row.number(&["Position"])?,
        })
    }

    /// Parses a whole binlog status result: `None` when it is empty (binary log off).
    pub fn from_rows(rows: &[Vec<(String, Option<String>)>]) -> Result<Option<Self>> {
        rows.first().map(|r| Self::from_columns(r)).transpose()
    }
}

/// The replica threads' state, from `SHOW SLAVE STATUS` / `SHOW REPLICA STATUS`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaStatus {
    /// `Slave_IO_Running` / `Replica_IO_Running` is `Yes` (`Connecting` counts as not running).
    pub io_running: bool,
    /// `Slave_SQL_Running` / `Replica_SQL_Running` is `Yes`.
    pub sql_running: bool,
    /// `Master_Host` / `Source_Host`.
    pub source_host: String,
    /// `Master_Port` / `Source_Port`.
    pub source_port: u16,
    /// `Master_User` / `Source_User`.
    pub source_user: String,
    /// `Master_Log_File` / `Source_Log_File`: the source binlog the IO thread reads.
    pub source_log_file: String,
    /// `Read_Master_Log_Pos` / `Read_Source_Log_Pos`.
    pub read_source_log_pos: u64,
    /// `Relay_Master_Log_File` / `Relay_Source_Log_File`: the source binlog the SQL thread executes.
    pub relay_source_log_file: String,
    /// `Exec_Master_Log_Pos` / `Exec_Source_Log_Pos`.
    pub exec_source_log_pos: u64,
    /// `Seconds_Behind_Master` / `Seconds_Behind_Source`; `None` when NULL (a thread is stopped).
    pub seconds_behind: Option<u64>,
    /// `Last_IO_Errno` (0: none).
    pub last_io_errno: u32,
    /// `Last_IO_Error` (empty: none).
    pub last_io_error: String,
    /// `Last_SQL_Errno` (0: none).
    pub last_sql_errno: u32,
    /// `Last_SQL_Error` (empty: none).
    pub last_sql_error: String,
}

impl ReplicaStatus {
    /// Parses one row of replica status, accepting both the old (`Slave_IO_Running`,
    /// `Master_Host`, ...) and the MySQL 8.0.22+ (`Replica_IO_Running`, `Source_Host`, ...)
    /// column names.
    pub fn from_columns(cols: &[(String, Option<String>)]) -> Result<Self> {
        let row = Row(cols);
        Ok(ReplicaStatus {
            io_running: row.yes(&["Slave_IO_Running", "Replica_IO_Running"])?,
            sql_running: row.yes(&["Slave_SQL_Running", "Replica_SQL_Running"])?,
            source_host: row.string(&["Master_Host", "Source_Host"])?,
            source_port: row.number(&["Master_Port", "Source_Port"])?,
            source_user: row.string(&["Master_User", "Source_User"])?,
            source_log_file: row.string(&["Master_Log_File", "Source_Log_File"])?,
            read_source_log_pos: row.number(&["Read_Master_Log_Pos", "Read_Source_Log_Pos"])?,
            relay_source_log_file: row
                .string(&["Relay_Master_Log_File", "Relay_Source_Log_File"])?,
            exec_source_log_pos: row.number(&["Exec_Master_Log_Pos", "Exec_Source_Log_Pos"])?,
            seconds_behind: row
                .optional_number(&["Seconds_Behind_Master", "Seconds_Behind_Source"])?,
            last_io_errno: row.number(&["Last_IO_Errno"])?,
            last_io_error: row.string(&["Last_IO_Error"])?,
            last_sql_errno: row.number(&["Last_SQL_Errno"])?,
            last_sql_error: row.string(&["Last_SQL_Error"])?,
        })
    }

    /// Parses a whole replica status result: `None` when it is empty (no replica configured).
    pub fn from_rows(rows: &[Vec<(String, Option<String>)>]) -> Result<Option<Self>> {
        rows.first().map(|r| Self::from_columns(r)).transpose()
    }

    /// Both threads run and neither reports an error.
    pub fn healthy(&self) -> bool {
        self.io_running && self.sql_running && self.last_io_errno == 0 && self.last_sql_errno == 0
    }
}

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

    fn v(&self) -> &Version {
        &self.version
    }

    /// True when the server accepts the `REPLICA` forms of the replication statements.
    fn replica_keywords(&self) -> bool {
        self.v().mysql_at_least(8, 0, 22) || self.v().mariadb_at_least(10, 5, 1)
    }

    /// The statement showing the current binary log file and position.
    pub fn binlog_status_sql(&self) -> String {
        if self.v().mysql_at_least(8, 2, 0) {
            "SHOW BINARY LOG STATUS"
        } else if self.v().mariadb_at_least(10, 5, 2) {
            "SHOW BINLOG STATUS"
        } else {
            "SHOW MASTER STATUS"
        }
        .into()
    }

    /// The statement that empties the binary log and the executed GTID set
    /// (`RESET BINARY LOGS AND GTIDS` from MySQL 8.2, where `RESET MASTER` was deprecated;
    /// 8.4 removed it).
    pub fn reset_binary_logs_sql(&self) -> String {
        if self.v().mysql_at_least(8, 2, 0) {
            "RESET BINARY LOGS AND GTIDS"
        } else {
            "RESET MASTER"
        }
        .into()
    }

    /// The statement showing the replica threads' state.
    pub fn replica_status_sql(&self) -> String {
        if self.replica_keywords() {
            "SHOW REPLICA STATUS"
        } else {
            "SHOW SLAVE STATUS"
        }
        .into()
    }

    /// Starts both replica threads.
    pub fn start_replica_sql(&self) -> String {
        if self.replica_keywords() {
            "START REPLICA"
        } else {
            "START SLAVE"
        }
        .into()
    }

    /// Stops both replica threads.
    pub fn stop_replica_sql(&self) -> String {
        if self.replica_keywords() {
            "STOP REPLICA"
        } else {
            "STOP SLAVE"
        }
        .into()
    }

    /// Stops only the IO thread: a thread stuck `Connecting` (waiting out a connect
    /// timeout of `slave_net_timeout`) is restarted at once by a following start.
    pub fn stop_replica_io_sql(&self) -> String {
        if self.replica_keywords() {
            "STOP REPLICA IO_THREAD"
        } else {
            "STOP SLAVE IO_THREAD"
        }
        .into()
    }

    /// Forgets the replica configuration entirely (threads must be stopped first).
    pub fn reset_replica_all_sql(&self) -> String {
        if self.replica_keywords() {
            "RESET REPLICA ALL"
        } else {
            "RESET SLAVE ALL"
        }
        .into()
    }

    /// Points this server's replica at a source, by binary log file and position.
    pub fn change_source_sql(&self, cs: &ChangeSource) -> String {
        let at = BinlogCoordinates {
            file: cs.log_file.clone(),
            position: cs.log_pos,
        };
        self.source_statement(
            &cs.host,
            cs.port,
            &cs.user,
            &cs.password,
            Some(&at),
            cs.connect_retry,
        )
    }

    /// Creates the replication account unless it exists.
    pub fn create_replication_user_sql(&self, user: &str, host: &str, password: &str) -> String {
        format!(
            "CREATE USER IF NOT EXISTS {} IDENTIFIED BY {}",
            quote_account(user, host),
            quote_string(password)
        )
    }

    /// Sets the replication account's password.
    pub fn alter_user_password_sql(&self, user: &str, host: &str, password: &str) -> String {
        format!(
            "ALTER USER {} IDENTIFIED BY {}",
            quote_account(user, host),
            quote_string(password)
        )
    }

    /// Grants what the replication account needs.
    pub fn grant_replication_sql(&self, user: &str, host: &str) -> String {
        format!(
            "GRANT {} ON *.* TO {}",
            self.expected_replication_grants().join(", "),
            quote_account(user, host)
        )
    }

    /// `SHOW GRANTS` for an account.
    pub fn show_grants_sql(&self, user: &str, host: &str) -> String {
        format!("SHOW GRANTS FOR {}", quote_account(user, host))
    }

    /// Keeps this session's statements out of the binary log, so that account setup on
    /// one node is not replicated to its peer (run it before creating users).
    pub fn session_no_binlog_sql(&self) -> String {
        "SET SESSION sql_log_bin = 0".into()
    }

    /// The global privileges, as `SHOW GRANTS` prints them, that the replication account
    /// must hold. MariaDB 10.5.2+ prints `REPLICATION CLIENT` as `BINLOG MONITOR`.
    pub fn expected_replication_grants(&self) -> Vec<&'static str> {
        if self.v().mariadb_at_least(10, 5, 2) {
            vec!["REPLICATION SLAVE", "BINLOG MONITOR"]
        } else {
            vec!["REPLICATION SLAVE", "REPLICATION CLIENT"]
        }
    }

    /// True when `SHOW GRANTS` output (one line per row) grants every privilege of
    /// [`Self::expected_replication_grants`] on `*.*` (or `ALL PRIVILEGES`).
    pub fn grants_cover_replication(&self, show_grants: &[String]) -> bool {
        let held = global_privileges(show_grants);
        if held.iter().any(|p| p == "ALL PRIVILEGES" || p == "ALL") {
            return true;
        }
        self.expected_replication_grants()
            .iter()
            .all(|want| held.iter().any(|p| p == want))
    }

    /// Privileges in `SHOW GRANTS` output beyond what replication needs: anything on
    /// `*.*` other than the replication privileges and `USAGE`, and any grant on a
    /// database or table. Empty means least privilege.
    pub fn extra_privileges(&self, show_grants: &[String]) -> Vec<String> {
        let expected = self.expected_replication_grants();
        let mut extra: Vec<String> = global_privileges(show_grants)
            .into_iter()
            .filter(|p| p != "USAGE" && !expected.iter().any(|e| e == p))
            .collect();
        for line in show_grants {
            let upper = line.to_ascii_uppercase();
            if let Some(on) = upper.find(" ON ") {
                let object = upper[on + 4..].trim_start();
                if upper.starts_with("GRANT ")
                    && !object.starts_with("*.*")
                    && !upper.starts_with("GRANT PROXY")
                {
                    extra.push(line.trim().to_string());
                }
            }
        }
        extra
    }

    /// my.cnf option making a replica write replicated events to its own binary log.
    pub fn log_replica_updates_option(&self) -> &'static str {
        if self.v().mysql_at_least(8, 0, 26) {
            "log_replica_updates"
        } else {
            "log_slave_updates"
        }
    }

    /// my.cnf option listing error codes the replica skips.
    pub fn skip_errors_option(&self) -> &'static str {
        if self.v().mysql_at_least(8, 0, 26) {
            "replica_skip_errors"
        } else {
            "slave_skip_errors"
        }
    }

    /// my.cnf option and value for keeping `days` of binary logs
    /// (`binlog_expire_logs_seconds` where supported, else `expire_logs_days`).
    pub fn binlog_expiry_option(&self, days: u32) -> (&'static str, u64) {
        if self.v().mysql_at_least(8, 0, 1) || self.v().mariadb_at_least(10, 6, 1) {
            ("binlog_expire_logs_seconds", u64::from(days) * 86_400)
        } else {
            ("expire_logs_days", u64::from(days))
        }
    }

    /// my.cnf options for semi-synchronous replication in both directions (each node is
    /// a source and a replica), waiting for the peer for at most `timeout_ms`, with the
    /// lossless `AFTER_SYNC` wait point. MariaDB has it built in since 10.3.3; MySQL
    /// loads its plugins (renamed `source`/`replica` in 8.0.26).
    pub fn semi_sync_options(&self, timeout_ms: u32) -> anyhow::Result<Vec<(String, String)>> {
        let t = timeout_ms.to_string();
        let o = |k: &str, v: &str| (k.to_string(), v.to_string());
        let v = self.v();
        Ok(match v.flavor {
            Flavor::Mariadb if v.mariadb_at_least(10, 3, 3) => vec![
                o("rpl_semi_sync_master_enabled", "ON"),
                o("rpl_semi_sync_slave_enabled", "ON"),
                o("rpl_semi_sync_master_timeout", &t),
                o("rpl_semi_sync_master_wait_point", "AFTER_SYNC"),
            ],
            Flavor::Mariadb => anyhow::bail!(
                "semi-synchronous replication needs MariaDB 10.3.3 or later (this is {v})"
            ),
            Flavor::Mysql if v.mysql_at_least(8, 0, 26) => vec![
                o("plugin-load-add", "semisync_source.so"),
                o("plugin-load-add", "semisync_replica.so"),
                o("rpl_semi_sync_source_enabled", "ON"),
                o("rpl_semi_sync_replica_enabled", "ON"),
                o("rpl_semi_sync_source_timeout", &t),
                o("rpl_semi_sync_source_wait_point", "AFTER_SYNC"),
            ],
            Flavor::Mysql => vec![
                o("plugin-load-add", "semisync_master.so"),
                o("plugin-load-add", "semisync_slave.so"),
                o("rpl_semi_sync_master_enabled", "ON"),
                o("rpl_semi_sync_slave_enabled", "ON"),
                o("rpl_semi_sync_master_timeout", &t),
                o("rpl_semi_sync_master_wait_point", "AFTER_SYNC"),
            ],
        })
    }

    /// Status variables saying whether semi-sync is active as a source and as a replica.
    pub fn semi_sync_status_variables(&self) -> (&'static str, &'static str) {
        if self.v().mysql_at_least(8, 0, 26) {
            (
                "Rpl_semi_sync_source_status",
                "Rpl_semi_sync_replica_status",
            )
        } else {
            ("Rpl_semi_sync_master_status", "Rpl_semi_sync_slave_status")
        }
    }

    /// Server collation matching `character-set-server = utf8mb4`.
    pub fn default_collation(&self) -> &'static str {
        if self.v().mysql_at_least(8, 0, 1) {
            "utf8mb4_0900_ai_ci"
        } else {
            "utf8mb4_general_ci"
        }
    }

    /// True when `mysqld --validate-config` exists (MySQL 8.0.16+).
    pub fn supports_validate_config(&self) -> bool {
        self.v().mysql_at_least(8, 0, 16)
    }
}

/// What `mysqld --initialize` writes to the error log before root's random, expired
/// password (MySQL 5.7 and later; the RPM packages' first start runs it).
pub const TEMPORARY_PASSWORD_MARKER: &str =
    "A temporary password is generated for root@localhost: ";

/// The temporary root password in an error log (the last one, should the datadir have
/// been initialized more than once), e.g. from MySQL 8.0+:
/// `... [Note] [MY-010454] [Server] A temporary password is generated for root@localhost: X`.
/// The generated password has no spaces; only the line end is trimmed.
pub fn parse_temporary_password(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .filter_map(|line| line.split_once(TEMPORARY_PASSWORD_MARKER))
        .map(|(_, pw)| pw.trim_end_matches(['\r', '\n']).to_string())
        .find(|pw| !pw.is_empty())
}

/// Privileges granted ON `*.*`, from `SHOW GRANTS` lines, upper-cased.
fn global_privileges(show_grants: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for line in show_grants {
        let line = line.trim();
        let Some(rest) = strip_prefix_ci(line, "GRANT ") else {
            continue;
        };
        let upper = rest.to_ascii_uppercase();
        let Some(on) = upper.find(" ON ") else {
            continue;
        };
        if !upper[on + 4..].trim_start().starts_with("*.*") {
            continue;
        }
        out.extend(
            upper[..on]
                .split(',')
                .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|p| !p.is_empty()),
        );
    }
    out
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dialect {
        Dialect::from_version_string(s).unwrap()
    }

    #[test]
    fn semi_sync_option_names_follow_the_version() {
        let maria = d("10.11.18-MariaDB").semi_sync_options(500).unwrap();
        assert!(maria.contains(&("rpl_semi_sync_master_timeout".into(), "500".into())));
        assert!(!maria.iter().any(|(k, _)| k == "plugin-load-add"));
        let my84 = d("8.4.2").semi_sync_options(1000).unwrap();
        assert!(my84.contains(&("plugin-load-add".into(), "semisync_source.so".into())));
        assert!(my84.contains(&("rpl_semi_sync_replica_enabled".into(), "ON".into())));
        let my57 = d("5.7.44-log").semi_sync_options(1000).unwrap();
        assert!(my57.contains(&("plugin-load-add".into(), "semisync_master.so".into())));
        assert!(d("10.2.44-MariaDB").semi_sync_options(1000).is_err());
        assert_eq!(
            d("9.7.4").semi_sync_status_variables().0,
            "Rpl_semi_sync_source_status"
        );
    }

    #[test]
    fn extra_privileges_flags_more_than_replication() {
        let d = d("10.11.18-MariaDB");
        let least = vec!["GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`10.0.0.2` IDENTIFIED BY PASSWORD '*AB'".to_string()];
        assert!(
            d.extra_privileges(&least).is_empty(),
            "{:?}",
            d.extra_privileges(&least)
        );
        let more = vec![
            "GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`10.0.0.2`"
                .to_string(),
            "GRANT ALL PRIVILEGES ON `app`.* TO `repl`@`10.0.0.2`".to_string(),
        ];
        let extra = d.extra_privileges(&more);
        assert_eq!(extra.len(), 2, "{extra:?}");
        assert_eq!(extra[0], "SELECT");
    }

    #[test]
    fn parses_versions() {
        let v = Version::parse("10.11.18-MariaDB-0+deb12u1").unwrap();
        assert_eq!(v, Version::new(Flavor::Mariadb, 10, 11, 18));
        let v = Version::parse("11.8.3-MariaDB-1").unwrap();
        assert_eq!(v, Version::new(Flavor::Mariadb, 11, 8, 3));
        // Debian sid's, as `SELECT VERSION()` returns it on the mariadb11 lab.
        let v = Version::parse("11.8.9-MariaDB-4 from Debian-log").unwrap();
        assert_eq!(v, Version::new(Flavor::Mariadb, 11, 8, 9));
        let v = Version::parse("5.5.5-10.4.34-MariaDB").unwrap();
        assert_eq!(v, Version::new(Flavor::Mariadb, 10, 4, 34));
        assert_eq!(
            Version::parse("8.0.36").unwrap(),
            Version::new(Flavor::Mysql, 8, 0, 36)
        );
        assert_eq!(
            Version::parse("8.4.2-log").unwrap(),
            Version::new(Flavor::Mysql, 8, 4, 2)
        );
        assert_eq!(
            Version::parse(" 9.7.4\n").unwrap(),
            Version::new(Flavor::Mysql, 9, 7, 4)
        );
        assert_eq!(
            Version::parse("5.7.44-log").unwrap(),
            Version::new(Flavor::Mysql, 5, 7, 44)
        );
        assert_eq!(
            Version::parse("8.0").unwrap(),
            Version::new(Flavor::Mysql, 8, 0, 0)
        );
        assert!(Version::parse("").is_err());
        assert!(Version::parse("MariaDB").is_err());
        let v = Version::parse("8.4.3").unwrap();
        assert_eq!(v.mismatch(Flavor::Mysql, Some("8.4")), None);
        assert_eq!(v.mismatch(Flavor::Mysql, None), None);
        assert!(v
            .mismatch(Flavor::Mysql, Some("8.0"))
            .is_some_and(|m| m.contains("MySQL 8.4.3") && m.contains("\"8.0\"")));
        assert!(v
            .mismatch(Flavor::Mariadb, None)
            .is_some_and(|m| m.contains("mysql.flavor is mariadb")));
        let m = Version::parse("10.11.18-MariaDB-0+deb12u1-log").unwrap();
        assert_eq!(m.mismatch(Flavor::Mariadb, Some("10.11")), None);
        assert!(Version::parse("8").is_err());
        assert_eq!(
            Version::parse("10.11.18-MariaDB").unwrap().to_string(),
            "MariaDB 10.11.18"
        );
    }

    #[test]
    fn binlog_status_boundaries() {
        assert_eq!(d("5.7.44-log").binlog_status_sql(), "SHOW MASTER STATUS");
        assert_eq!(d("8.0.36").binlog_status_sql(), "SHOW MASTER STATUS");
        assert_eq!(d("8.1.0").binlog_status_sql(), "SHOW MASTER STATUS");
        assert_eq!(d("8.2.0").binlog_status_sql(), "SHOW BINARY LOG STATUS");
        assert_eq!(d("8.4.2-log").binlog_status_sql(), "SHOW BINARY LOG STATUS");
        assert_eq!(d("9.7.4").binlog_status_sql(), "SHOW BINARY LOG STATUS");
        assert_eq!(
            d("10.4.34-MariaDB").binlog_status_sql(),
            "SHOW MASTER STATUS"
        );
        assert_eq!(
            d("10.5.1-MariaDB").binlog_status_sql(),
            "SHOW MASTER STATUS"
        );
        assert_eq!(
            d("10.5.2-MariaDB").binlog_status_sql(),
            "SHOW BINLOG STATUS"
        );
        assert_eq!(
            d("10.11.18-MariaDB-0+deb12u1").binlog_status_sql(),
            "SHOW BINLOG STATUS"
        );
        assert_eq!(
            d("11.8.3-MariaDB-1").binlog_status_sql(),
            "SHOW BINLOG STATUS"
        );
    }

    #[test]
    fn replica_keyword_boundaries() {
        for (v, want) in [
            ("5.7.44-log", "SLAVE"),
            ("8.0.21", "SLAVE"),
            ("8.0.22", "REPLICA"),
            ("8.4.2", "REPLICA"),
            ("9.7.4", "REPLICA"),
            ("10.4.34-MariaDB", "SLAVE"),
            ("10.5.1-MariaDB", "REPLICA"),
            ("10.11.18-MariaDB", "REPLICA"),
            ("11.8.3-MariaDB-1", "REPLICA"),
        ] {
            let d = d(v);
            assert_eq!(d.replica_status_sql(), format!("SHOW {want} STATUS"), "{v}");
            assert_eq!(d.start_replica_sql(), format!("START {want}"), "{v}");
            assert_eq!(d.stop_replica_sql(), format!("STOP {want}"), "{v}");
            assert_eq!(
                d.stop_replica_io_sql(),
                format!("STOP {want} IO_THREAD"),
                "{v}"
            );
            assert_eq!(
                d.reset_replica_all_sql(),
                format!("RESET {want} ALL"),
                "{v}"
            );
        }
    }

    fn cs() -> ChangeSource {
        ChangeSource {
            host: "10.0.0.12".into(),
            port: 3306,
            user: "repl".into(),
            password: "it's\\secret".into(),
            log_file: "mysql-bin.000003".into(),
            log_pos: 1234,
            connect_retry: 10,
        }
    }

    #[test]
    fn change_source_boundaries() {
        let old = "CHANGE MASTER TO MASTER_HOST='10.0.0.12', MASTER_PORT=3306, \
                   MASTER_USER='repl', MASTER_PASSWORD='it\\'s\\\\secret', \
                   MASTER_LOG_FILE='mysql-bin.000003', MASTER_LOG_POS=1234, \
                   MASTER_CONNECT_RETRY=10";
        assert_eq!(d("5.7.44-log").change_source_sql(&cs()), old);
        assert_eq!(d("10.4.34-MariaDB").change_source_sql(&cs()), old);
        assert_eq!(d("10.11.18-MariaDB").change_source_sql(&cs()), old);
        assert_eq!(d("11.8.3-MariaDB-1").change_source_sql(&cs()), old);
        assert_eq!(
            d("8.0.21").change_source_sql(&cs()),
            format!("{old}, GET_MASTER_PUBLIC_KEY=1")
        );
        assert_eq!(
            d("8.0.22").change_source_sql(&cs()),
            format!("{old}, GET_MASTER_PUBLIC_KEY=1")
        );
        let new = "CHANGE REPLICATION SOURCE TO SOURCE_HOST='10.0.0.12', SOURCE_PORT=3306, \
                   SOURCE_USER='repl', SOURCE_PASSWORD='it\\'s\\\\secret', \
                   SOURCE_LOG_FILE='mysql-bin.000003', SOURCE_LOG_POS=1234, \
                   SOURCE_CONNECT_RETRY=10, GET_SOURCE_PUBLIC_KEY=1";
        for v in ["8.0.23", "8.0.26", "8.2.0", "8.4.2-log", "9.7.4"] {
            assert_eq!(d(v).change_source_sql(&cs()), new, "{v}");
        }
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

    #[test]
    fn grants() {
        let mysql = d("8.0.36");
        assert_eq!(
            mysql.grant_replication_sql("repl", "10.0.0.2"),
            "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl'@'10.0.0.2'"
        );
        assert!(mysql.grants_cover_replication(&[
            "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl`@`10.0.0.2`".into()
        ]));
        assert!(
            !mysql.grants_cover_replication(&["GRANT USAGE ON *.* TO `repl`@`10.0.0.2`".into()])
        );
        assert!(!mysql.grants_cover_replication(&[
            "GRANT REPLICATION SLAVE ON *.* TO `repl`@`10.0.0.2`".into(),
            "GRANT REPLICATION CLIENT ON `db`.* TO `repl`@`10.0.0.2`".into(),
        ]));
        assert!(
            mysql.grants_cover_replication(&["GRANT ALL PRIVILEGES ON *.* TO `root`@`%`".into()])
        );

        let old_maria = d("10.4.34-MariaDB");
        assert_eq!(
            old_maria.expected_replication_grants(),
            ["REPLICATION SLAVE", "REPLICATION CLIENT"]
        );
        for v in [
            "10.5.2-MariaDB",
            "10.11.18-MariaDB-0+deb12u1",
            "11.8.3-MariaDB-1",
        ] {
            let maria = d(v);
            assert_eq!(
                maria.expected_replication_grants(),
                ["REPLICATION SLAVE", "BINLOG MONITOR"]
            );
            assert_eq!(
                maria.grant_replication_sql("repl", "10.0.0.2"),
                "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'repl'@'10.0.0.2'"
            );
            // What MariaDB 10.11 prints after GRANT REPLICATION SLAVE, REPLICATION CLIENT.
            assert!(maria.grants_cover_replication(&[
                "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`10.0.0.2` \
                 IDENTIFIED BY PASSWORD '*0123456789ABCDEF'"
                    .into()
            ]));
            assert!(!maria.grants_cover_replication(&[
                "GRANT REPLICATION SLAVE ON *.* TO `repl`@`10.0.0.2`".into()
            ]));
        }
    }

    #[test]
    fn option_names() {
        let cases = [
            (
                "5.7.44-log",
                "log_slave_updates",
                "slave_skip_errors",
                "expire_logs_days",
                7,
            ),
            (
                "8.0.21",
                "log_slave_updates",
                "slave_skip_errors",
                "binlog_expire_logs_seconds",
                604_800,
            ),
            (
                "8.0.22",
                "log_slave_updates",
                "slave_skip_errors",
                "binlog_expire_logs_seconds",
                604_800,
            ),
            (
                "8.0.23",
                "log_slave_updates",
                "slave_skip_errors",
                "binlog_expire_logs_seconds",
                604_800,
            ),
            (
                "8.0.26",
                "log_replica_updates",
                "replica_skip_errors",
                "binlog_expire_logs_seconds",
                604_800,
            ),
            (
                "8.2.0",
                "log_replica_updates",
                "replica_skip_errors",
                "binlog_expire_logs_seconds",
                604_800,
            ),
            (
                "8.4.2-log",
                "log_replica_updates",
                "replica_skip_errors",
                "binlog_expire_logs_seconds",
                604_800,
            ),
            (
                "9.7.4",
                "log_replica_updates",
                "replica_skip_errors",
                "binlog_expire_logs_seconds",
                604_800,
            ),
            (
                "10.4.34-MariaDB",
                "log_slave_updates",
                "slave_skip_errors",
                "expire_logs_days",
                7,
            ),
            (
                "10.5.2-MariaDB",
                "log_slave_updates",
                "slave_skip_errors",
                "expire_logs_days",
                7,
            ),
            (
                "10.11.18-MariaDB",
                "log_slave_updates",
                "slave_skip_errors",
                "binlog_expire_logs_seconds",
                604_800,
            ),
            (
                "11.8.3-MariaDB-1",
                "log_slave_updates",
                "slave_skip_errors",
                "binlog_expire_logs_seconds",
                604_800,
            ),
        ];
        for (v, upd, skip, exp, val) in cases {
            let d = d(v);
            assert_eq!(d.log_replica_updates_option(), upd, "{v}");
            assert_eq!(d.skip_errors_option(), skip, "{v}");
            assert_eq!(d.binlog_expiry_option(7), (exp, val), "{v}");
        }
    }

    #[test]
    fn temporary_password_from_error_logs() {
        let mysql80 = "2024-05-02T10:00:01.123456Z 0 [System] [MY-013169] [Server] /usr/sbin/mysqld (mysqld 8.0.36) initializing of server in progress as process 1234\n\
            2024-05-02T10:00:04.000000Z 6 [Note] [MY-010454] [Server] A temporary password is generated for root@localhost: k;Wq+e_3>Zmt\n\
            2024-05-02T10:00:09.000000Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.36) starting as process 1300\n";
        assert_eq!(
            parse_temporary_password(mysql80).as_deref(),
            Some("k;Wq+e_3>Zmt")
        );
        let mysql57 = "2024-05-02T10:00:04.000000Z 1 [Note] A temporary password is generated for root@localhost: ,2hL(u#xyk8a\r\n";
        assert_eq!(
            parse_temporary_password(mysql57).as_deref(),
            Some(",2hL(u#xyk8a")
        );
        let twice = format!("{mysql57}{mysql80}");
        assert_eq!(
            parse_temporary_password(&twice).as_deref(),
            Some("k;Wq+e_3>Zmt")
        );
        assert_eq!(parse_temporary_password(""), None);
        assert_eq!(
            parse_temporary_password(
                "[Warning] [MY-010453] [Server] root@localhost is created with an empty password !"
            ),
            None
        );
    }

    #[test]
    fn validate_config_and_collation() {
        assert!(!d("5.7.44").supports_validate_config());
        assert!(!d("8.0.15").supports_validate_config());
        assert!(d("8.0.16").supports_validate_config());
        assert!(d("8.4.2").supports_validate_config());
        assert!(!d("10.11.18-MariaDB").supports_validate_config());
        assert_eq!(d("5.7.44").default_collation(), "utf8mb4_general_ci");
        assert_eq!(d("8.4.2").default_collation(), "utf8mb4_0900_ai_ci");
        assert_eq!(
            d("10.11.18-MariaDB").default_collation(),
            "utf8mb4_general_ci"
        );
    }
}
