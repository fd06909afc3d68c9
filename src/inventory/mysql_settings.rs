//! `mysql:` of the inventory: the server settings ([`MysqlSettings`]) with their defaults,
//! and the enumerations they use ([`BinlogFormat`], [`Durability`]).

use super::{Flavor, DEFAULT_CHARACTER_SET};
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Binary log format.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum BinlogFormat {
    /// Row-based (the safe default for master/master).
    #[default]
    Row,
    /// Mixed (the runbook's choice).
    Mixed,
    /// Statement-based.
    Statement,
}

/// How hard a commit is made to reach the disk (`mysql.durability`).
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Durability {
    /// `sync_binlog = 1`, `innodb_flush_log_at_trx_commit = 1`: a commit is on disk,
    /// in the redo log and in the binary log, before the client hears "OK", so an OS
    /// crash or power loss loses no acknowledged write and no binlog event the peer
    /// has not received yet. Costs an fsync (or two) per commit group.
    #[default]
    Full,
    /// `sync_binlog = 0`, `innodb_flush_log_at_trx_commit = 2`: the OS flushes about
    /// once a second. A mysqld crash loses nothing, an OS crash or power loss can lose
    /// about the last second of commits and binlog events (the peer may have some that
    /// this node no longer has).
    Relaxed,
}

/// Server and replication settings.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct MysqlSettings {
    /// `mariadb` (default) or `mysql`.
    pub flavor: Flavor,
    /// Expected major.minor version (e.g. `"10.11"`); checked, not installed, when set.
    pub version: Option<String>,
    /// TCP port mysqld listens on (default 3306).
    pub port: u16,
    /// Address mysqld binds to (default `0.0.0.0`: the peer and the VIP must reach it).
    pub bind_address: String,
    /// Name of the replication account (default `repl`).
    pub replication_user: String,
    /// Binary log format (default `row`).
    pub binlog_format: BinlogFormat,
    /// Days of binary logs to keep (default 7).
    pub binlog_expire_days: u32,
    /// Databases to replicate (empty: all but the ignored ones).
    pub replicate_databases: Vec<String>,
    /// Databases never replicated (default: none; `mysql` is always added).
    pub ignore_databases: Vec<String>,
    /// Error codes replication skips. Off by default: it hides divergence.
    pub skip_errors: Vec<u32>,
    /// Semi-synchronous replication: a commit is acknowledged only once the peer has
    /// its event, which closes asynchronous replication's write-loss window on a crash
    /// (default on since issue 19; `false` turns it off, also on a running pair without
    /// a restart; see docs/failover.md).
    pub semi_sync: bool,
    /// `full` (default: every commit is fsynced to the redo and binary logs) or
    /// `relaxed` (flushed about once a second; see docs/inventory.md for the cost).
    pub durability: Durability,
    /// Data directory, when not the packaged default (e.g. on a separate partition).
    /// Bootstrap creates and initialises it when empty, and refuses a non-empty
    /// directory that holds no database.
    pub datadir: Option<PathBuf>,
    /// The server's unix socket, when not the packaged default. Written to `[mysqld]`
    /// and to `[client]` (so local clients find it: the runbook's ERROR 2002 fix);
    /// its directory is created for the server's user.
    pub socket: Option<PathBuf>,
    /// The server's error log file, when not the default (the packaged one;
    /// `/var/log/mysql/error.log` on Debian/Ubuntu, where MariaDB would log to syslog).
    /// Always rendered: bootstrap quotes its last lines when the server does not start.
    pub log_error: Option<PathBuf>,
    /// The server's pid file, when not the packaged default.
    pub pid_file: Option<PathBuf>,
    /// How long a commit waits for the peer before semi-sync falls back to
    /// asynchronous replication (default 1000 ms; it is also the extra write pause
    /// right after a failover, while the dead peer cannot acknowledge).
    pub semi_sync_timeout_ms: u32,
    /// `require_secure_transport`: the servers refuse TCP logins without TLS (unix
    /// socket logins stay allowed); off by default, needs `tls.enabled` (docs/inventory.md).
    pub require_secure_transport: bool,
    /// Server character set (`character-set-server`, and the clients' default);
    /// default `utf8mb4`.
    pub character_set: String,
    /// Server collation (`collation-server`); default: the server's default collation
    /// for the character set (for utf8mb4: `utf8mb4_0900_ai_ci` on MySQL 8.0+,
    /// `utf8mb4_general_ci` on MariaDB and MySQL 5.7).
    pub collation: Option<String>,
}

impl Default for MysqlSettings {
    fn default() -> Self {
        MysqlSettings {
            flavor: Flavor::Mariadb,
            version: None,
            port: 3306,
            bind_address: "0.0.0.0".into(),
            replication_user: "repl".into(),
            binlog_format: BinlogFormat::Row,
            binlog_expire_days: 7,
            replicate_databases: Vec::new(),
            ignore_databases: Vec::new(),
            skip_errors: Vec::new(),
            semi_sync: true,
            durability: Durability::Full,
            semi_sync_timeout_ms: 1000,
            datadir: None,
            socket: None,
            log_error: None,
            pid_file: None,
            character_set: DEFAULT_CHARACTER_SET.into(),
            collation: None,
            require_secure_transport: false,
        }
    }
}
