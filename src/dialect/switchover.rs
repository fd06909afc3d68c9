//! The SQL of a planned switchover (`mhactl switchover`): waiting for the peer to
//! execute up to a position of the old holder's binary log, finding long write
//! transactions, listing and ending application sessions, and the canary row.
//!
//! Sources: MySQL reference manual, "SOURCE_POS_WAIT()" (8.0.26+; `MASTER_POS_WAIT()`
//! deprecated then, removed in 8.4): returns the number of events waited for, -1 on
//! timeout, NULL when the replica SQL thread is not running or the arguments are bad.
//! MariaDB KB, "MASTER_POS_WAIT": same results. Both: `information_schema.INNODB_TRX`
//! (`trx_started`, `trx_rows_modified`, `trx_tables_locked`, `trx_mysql_thread_id`) and
//! `information_schema.PROCESSLIST` (`ID`, `USER`, `HOST`, `COMMAND`); replica threads
//! and daemons run as `system user` / `event_scheduler`, binary log senders as the
//! replication account with COMMAND `Binlog Dump` (`Binlog Dump GTID`).

use super::{quote_string, BinlogCoordinates, Dialect};
use crate::inventory::ServerFamily;

/// The result of a position wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosWait {
    /// The SQL thread executed up to the position.
    Reached,
    /// The timeout passed first.
    TimedOut,
    /// NULL: the SQL thread is not running (or the position is not valid).
    NotReplicating,
}

/// Users whose sessions a switchover never ends: the server's own threads and accounts
/// (replica threads, the event scheduler, MySQL's internal sessions).
pub const SYSTEM_USERS: &[&str] = &[
    "system user",
    "event_scheduler",
    "unauthenticated user",
    "mysql.session",
    "mysql.sys",
    "mysql.infoschema",
];

/// Commands of sessions a switchover never ends (binary log senders to the peer,
/// daemons, sessions already being killed).
const KEPT_COMMANDS: &[&str] = &["Binlog Dump", "Binlog Dump GTID", "Daemon", "Killed"];

/// The table the canary row goes to, in mhactl's probe database.
pub const CANARY_TABLE: &str = "switchover_canary";

impl Dialect {
    /// Waits (at most `timeout_s` seconds) until the replica SQL thread has executed the
    /// source's binary log up to `at`; one value, `r` (see [`parse_pos_wait`]).
    pub fn pos_wait_sql(&self, at: &BinlogCoordinates, timeout_s: u64) -> String {
        let f = if self.v().mysql_at_least(8, 0, 26) {
            "SOURCE_POS_WAIT"
        } else {
            "MASTER_POS_WAIT"
        };
        format!(
            "SELECT {f}({}, {}, {timeout_s}) AS r",
            quote_string(&at.file),
            at.position
        )
    }
}

impl Dialect {
    /// A pair replicating by GTID: waits (at most `timeout_s` seconds) until this server
    /// executed every transaction of `set`; one value `r` (see [`parse_gtid_wait`]).
    /// MySQL `WAIT_FOR_EXECUTED_GTID_SET` (`set` a GTID set); unlike the position wait it
    /// does not depend on the multi-threaded applier's checkpoints
    /// (`replica_checkpoint_period`, 300 ms by default), which delay the executed
    /// position a position wait reads. MariaDB `MASTER_GTID_WAIT` (`set` a GTID position,
    /// one GTID per domain: it waits until `gtid_slave_pos` has the same or a higher
    /// sequence number in each of those domains; MariaDB KB, "MASTER_GTID_WAIT").
    pub fn gtid_wait_sql(&self, set: &str, timeout_s: u64) -> String {
        match self.family() {
            ServerFamily::Mysql => format!(
                "SELECT WAIT_FOR_EXECUTED_GTID_SET({}, {timeout_s}) AS r",
                quote_string(set)
            ),
            ServerFamily::Mariadb => format!(
                "SELECT MASTER_GTID_WAIT({}, {timeout_s}) AS r",
                quote_string(set)
            ),
        }
    }

    /// The GTID wait's name, for plans and messages.
    pub fn gtid_wait_name(&self) -> &'static str {
        match self.family() {
            ServerFamily::Mysql => "WAIT_FOR_EXECUTED_GTID_SET",
            ServerFamily::Mariadb => "MASTER_GTID_WAIT",
        }
    }

    /// Whether this server already has every transaction of `set` (the proof after the
    /// wait): one value `s`, `1` when it has. MySQL `GTID_SUBSET` of `gtid_executed`;
    /// MariaDB has no set function, so the same test as [`Dialect::gtid_wait_sql`] with a
    /// tenth of a second to answer (0: reached).
    pub fn gtid_contained_sql(&self, set: &str) -> String {
        match self.family() {
            ServerFamily::Mysql => super::gtid_subset_of_executed_sql(set),
            ServerFamily::Mariadb => format!(
                "SELECT MASTER_GTID_WAIT({}, 0.1) = 0 AS s",
                quote_string(set)
            ),
        }
    }
}

/// Reads a GTID wait's value: 0 done; a timeout is 1 from `WAIT_FOR_EXECUTED_GTID_SET`
/// (MySQL manual, "Functions Used with Global Transaction Identifiers") and -1 from
/// `MASTER_GTID_WAIT` (MariaDB KB).
pub fn parse_gtid_wait(value: Option<&str>) -> PosWait {
    match value.map(str::trim) {
        Some("0") => PosWait::Reached,
        Some("1") | Some("-1") => PosWait::TimedOut,
        _ => PosWait::NotReplicating,
    }
}

/// Reads a position wait's value.
pub fn parse_pos_wait(value: Option<&str>) -> PosWait {
    match value.map(str::trim).and_then(|v| v.parse::<i64>().ok()) {
        Some(n) if n >= 0 => PosWait::Reached,
        Some(_) => PosWait::TimedOut,
        None => PosWait::NotReplicating,
    }
}

/// Transactions that changed something (rows, or locked tables) and started at least
/// `min_age_s` seconds ago: rows `id` (connection), `age_s`, `rows_modified`.
pub fn long_write_transactions_sql(min_age_s: u64) -> String {
    format!(
        "SELECT trx_mysql_thread_id AS id, TIMESTAMPDIFF(SECOND, trx_started, NOW()) AS age_s, \
         trx_rows_modified AS rows_modified FROM information_schema.INNODB_TRX \
         WHERE (trx_rows_modified > 0 OR trx_tables_locked > 0) \
         AND trx_started <= NOW() - INTERVAL {min_age_s} SECOND ORDER BY trx_started"
    )
}

/// Client sessions other than this one, the server's own threads, binary log senders and
/// the accounts in `kept_users` (mhactl's admin, the replication account, the fence
/// agent's): rows `id`, `user`, `host`, `command`.
pub fn client_sessions_sql(kept_users: &[&str]) -> String {
    let users: Vec<String> = SYSTEM_USERS
        .iter()
        .chain(kept_users)
        .map(|u| quote_string(u))
        .collect();
    let commands: Vec<String> = KEPT_COMMANDS.iter().map(|c| quote_string(c)).collect();
    format!(
        "SELECT ID AS id, USER AS user, HOST AS host, COMMAND AS command \
         FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() \
         AND USER NOT IN ({}) AND COMMAND NOT IN ({}) ORDER BY ID",
        users.join(", "),
        commands.join(", ")
    )
}

/// Ends one session (its connection, not only its statement).
pub fn kill_connection_sql(id: u64) -> String {
    format!("KILL CONNECTION {id}")
}

/// Creates the canary table in `db` (mhactl's probe database) if it is missing.
pub fn canary_table_sql(db: &str) -> Vec<String> {
    vec![
        format!("CREATE DATABASE IF NOT EXISTS {db}"),
        format!(
            "CREATE TABLE IF NOT EXISTS {db}.{CANARY_TABLE} (token VARCHAR(64) PRIMARY KEY, \
             server_id INT NOT NULL) ENGINE=InnoDB"
        ),
    ]
}

/// Writes the canary row `token`, naming the server that took it.
pub fn canary_write_sql(db: &str, token: &str) -> String {
    format!(
        "INSERT INTO {db}.{CANARY_TABLE} (token, server_id) VALUES ({}, @@server_id)",
        quote_string(token)
    )
}

/// The canary row `token` if this server has it: rows `server_id`.
pub fn canary_read_sql(db: &str, token: &str) -> String {
    format!(
        "SELECT server_id FROM {db}.{CANARY_TABLE} WHERE token = {}",
        quote_string(token)
    )
}

/// Drops the canary table (it replicates to the peer).
pub fn drop_canary_table_sql(db: &str) -> String {
    format!("DROP TABLE IF EXISTS {db}.{CANARY_TABLE}")
}

/// The tables in `db`: rows `t`. Empty when the database holds no table (or is gone).
pub fn tables_in_sql(db: &str) -> String {
    format!(
        "SELECT TABLE_NAME AS t FROM information_schema.TABLES WHERE TABLE_SCHEMA = {}",
        quote_string(db)
    )
}

/// How many probe writes (failover-test's table in `db`) the server `server_id` took at
/// or after the writer's clock `since_ms`: one value, `n`.
pub fn probe_writes_by_server_since_sql(db: &str, server_id: u64, since_ms: u64) -> String {
    format!(
        "SELECT COUNT(*) AS n FROM {db}.writes WHERE server_id = {server_id} AND client_ms >= {since_ms}"
    )
}

/// MySQL: this server's `gtid_executed` without `excluded` (a GTID set), row
/// `executed`: what a peer that positions by file must execute before a hand-over, the
/// transactions it never receives (ran before its replica started) left out.
pub fn gtid_executed_without_sql(excluded: &str) -> String {
    format!(
        "SELECT GTID_SUBTRACT(@@GLOBAL.gtid_executed, {}) AS executed",
        quote_string(excluded)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn gtid_executed_without_quotes_the_set() {
        assert_eq!(
            super::gtid_executed_without_sql("u:1-5"),
            "SELECT GTID_SUBTRACT(@@GLOBAL.gtid_executed, 'u:1-5') AS executed"
        );
    }

    use super::*;

    fn d(v: &str) -> Dialect {
        Dialect::from_version_string(v).unwrap()
    }

    fn at() -> BinlogCoordinates {
        BinlogCoordinates {
            file: "mysql-bin.000003".into(),
            position: 1234,
        }
    }

    #[test]
    fn pos_wait_uses_source_pos_wait_from_mysql_8_0_26() {
        assert_eq!(
            d("8.4.3").pos_wait_sql(&at(), 10),
            "SELECT SOURCE_POS_WAIT('mysql-bin.000003', 1234, 10) AS r"
        );
        assert_eq!(
            d("8.0.26").pos_wait_sql(&at(), 1),
            "SELECT SOURCE_POS_WAIT('mysql-bin.000003', 1234, 1) AS r"
        );
        for v in ["8.0.25", "5.7.44-log", "10.11.6-MariaDB", "11.4.5-MariaDB"] {
            assert_eq!(
                d(v).pos_wait_sql(&at(), 10),
                "SELECT MASTER_POS_WAIT('mysql-bin.000003', 1234, 10) AS r",
                "{v}"
            );
        }
    }

    #[test]
    fn gtid_wait_per_flavor() {
        assert_eq!(
            d("8.4.3").gtid_wait_sql("uuid:1-5", 10),
            "SELECT WAIT_FOR_EXECUTED_GTID_SET('uuid:1-5', 10) AS r"
        );
        assert_eq!(
            d("10.11.6-MariaDB").gtid_wait_sql("1-1-5,2-2-9", 10),
            "SELECT MASTER_GTID_WAIT('1-1-5,2-2-9', 10) AS r"
        );
        assert_eq!(
            d("10.11.6-MariaDB").gtid_contained_sql("1-1-5"),
            "SELECT MASTER_GTID_WAIT('1-1-5', 0.1) = 0 AS s"
        );
        assert!(d("8.4.3")
            .gtid_contained_sql("u:1")
            .contains("GTID_SUBSET('u:1'"));
        assert_eq!(parse_gtid_wait(Some("-1")), PosWait::TimedOut);
        assert_eq!(parse_gtid_wait(Some("0")), PosWait::Reached);
        assert_eq!(parse_gtid_wait(Some("1")), PosWait::TimedOut);
        assert_eq!(parse_gtid_wait(None), PosWait::NotReplicating);
    }

    #[test]
    fn pos_wait_results() {
        assert_eq!(parse_pos_wait(Some("0")), PosWait::Reached);
        assert_eq!(parse_pos_wait(Some("12")), PosWait::Reached);
        assert_eq!(parse_pos_wait(Some("-1")), PosWait::TimedOut);
        assert_eq!(parse_pos_wait(None), PosWait::NotReplicating);
        assert_eq!(parse_pos_wait(Some("NULL")), PosWait::NotReplicating);
    }

    #[test]
    fn sessions_kept_are_system_replication_and_named_accounts() {
        let sql = client_sessions_sql(&["root", "repl"]);
        for kept in [
            "'system user'",
            "'event_scheduler'",
            "'root'",
            "'repl'",
            "'Binlog Dump'",
            "'Binlog Dump GTID'",
            "CONNECTION_ID()",
        ] {
            assert!(sql.contains(kept), "{kept}: {sql}");
        }
        assert_eq!(kill_connection_sql(42), "KILL CONNECTION 42");
    }

    #[test]
    fn long_transactions_are_write_transactions_older_than_the_limit() {
        let sql = long_write_transactions_sql(5);
        assert!(sql.contains("INTERVAL 5 SECOND"), "{sql}");
        assert!(sql.contains("trx_rows_modified > 0"), "{sql}");
    }

    #[test]
    fn canary_statements_quote_the_token() {
        assert_eq!(
            canary_write_sql("mhactl_probe", "a'b"),
            "INSERT INTO mhactl_probe.switchover_canary (token, server_id) VALUES ('a\\'b', @@server_id)"
        );
        assert!(canary_read_sql("mhactl_probe", "t").ends_with("WHERE token = 't'"));
    }
}
