//! MySQL's online conversion of a file/position pair to GTID positioning (issue 19 item
//! 2): the statements and the pure readers bootstrap's `gtid-conversion` step plans from
//! (the order: src/bootstrap/steps/gtid_conversion_mysql.rs).
//!
//! With `gtid_mode = OFF` the MySQL 8.4 reference manual's procedure "Enabling GTID
//! Transactions Online" (replication-mode-change-online-enable-gtids): on every server
//! `enforce_gtid_consistency = WARN` (violations are logged: they are read back from
//! `performance_schema.error_log`), then `ON`; `gtid_mode = OFF_PERMISSIVE` on every
//! server, then `ON_PERMISSIVE`; wait until `Ongoing_anonymous_transaction_count` is 0 on
//! every server and every replica executed past the last anonymous transaction of its
//! source; `gtid_mode = ON`; then each replica positions by GTID.
//!
//! With `gtid_mode = ON` (MySQL 9.x's default: a pair built by hand positions by file
//! with GTIDs recorded) only the last part is left. A replica positioned by file at its
//! source's coordinates X executed "everything before X"; in GTID terms that is the
//! source's `gtid_executed` less the GTIDs its binary log holds after X (read with
//! `SHOW BINLOG EVENTS`, from X to the end: as long as the replica lags). What of it the
//! replica lacks are the transactions its source ran before the replica started (the
//! runbook's own account statements): recorded as applied (`gtid_purged += ...`), exactly
//! where file positioning already put the replica; any other lack (a transaction skipped
//! in the middle) is refused, as are errant transactions.

use super::{quote_string, BinlogCoordinates, Dialect};
use crate::inventory::ServerFamily;
use anyhow::{bail, Result};

/// `gtid_mode`, in the order the server moves through it (one step at a time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GtidMode {
    /// Anonymous transactions only.
    Off,
    /// New transactions anonymous, replicated GTID transactions accepted.
    OffPermissive,
    /// New transactions with GTIDs, replicated anonymous ones accepted.
    OnPermissive,
    /// GTID transactions only.
    On,
}

impl GtidMode {
    /// Reads `@@GLOBAL.gtid_mode` (name or number).
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.trim().to_ascii_uppercase().as_str() {
            "OFF" | "0" => Self::Off,
            "OFF_PERMISSIVE" | "1" => Self::OffPermissive,
            "ON_PERMISSIVE" | "2" => Self::OnPermissive,
            "ON" | "3" => Self::On,
            _ => return None,
        })
    }

    /// The value as `SET` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "OFF",
            Self::OffPermissive => "OFF_PERMISSIVE",
            Self::OnPermissive => "ON_PERMISSIVE",
            Self::On => "ON",
        }
    }
}

/// `enforce_gtid_consistency`, in the order the procedure raises it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum GtidConsistency {
    /// Nothing checked.
    Off,
    /// Violations allowed and logged (error log).
    Warn,
    /// Violations refused.
    On,
}

impl GtidConsistency {
    /// Reads `@@GLOBAL.enforce_gtid_consistency` (name or number).
    pub fn parse(value: &str) -> Option<Self> {
        Some(match value.trim().to_ascii_uppercase().as_str() {
            "OFF" | "0" => Self::Off,
            "ON" | "1" => Self::On,
            "WARN" | "2" => Self::Warn,
            _ => return None,
        })
    }

    /// The value as `SET` takes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "OFF",
            Self::Warn => "WARN",
            Self::On => "ON",
        }
    }
}

/// What the source's binary log holds after a replica's executed coordinates.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoggedAfter {
    /// The GTIDs logged there (`uuid:n` or `uuid:tag:n`), in order.
    pub gtids: Vec<String>,
    /// Anonymous transactions logged there (the replica has not executed past them).
    pub anonymous: usize,
}

impl LoggedAfter {
    /// Adds one `SHOW BINLOG EVENTS` answer (`Event_type`, `Info`).
    pub fn add_events(&mut self, rows: &[crate::sql::Row]) -> Result<()> {
        for row in rows {
            let kind = crate::sql::get(row, "Event_type").unwrap_or("");
            let info = crate::sql::get(row, "Info").unwrap_or("");
            match kind {
                "Anonymous_Gtid" => self.anonymous += 1,
                // `Gtid` (and `Gtid_tagged`, 8.3+): `SET @@SESSION.GTID_NEXT= 'uuid:n'`.
                k if k.starts_with("Gtid") => {
                    let Some(gtid) = info.split('\'').nth(1).filter(|g| g.contains(':')) else {
                        bail!("a {k} event without a GTID in its Info: {info:?}");
                    };
                    self.gtids.push(gtid.to_string());
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The GTIDs as one GTID set text (empty: none).
    pub fn set(&self) -> String {
        self.gtids.join(",")
    }
}

impl Dialect {
    /// MySQL's GTID conversion state of a server, one row: `mode`, `consistency`,
    /// `anonymous` (`Ongoing_anonymous_transaction_count`), `executed`, `uuid`. `None` on
    /// MariaDB.
    pub fn gtid_conversion_state_sql(&self) -> Option<String> {
        match self.family() {
            ServerFamily::Mysql => Some(
                "SELECT @@GLOBAL.gtid_mode AS mode, @@GLOBAL.enforce_gtid_consistency AS \
                 consistency, (SELECT VARIABLE_VALUE FROM performance_schema.global_status \
                 WHERE VARIABLE_NAME = 'Ongoing_anonymous_transaction_count') AS anonymous, \
                 @@GLOBAL.gtid_executed AS executed, @@GLOBAL.server_uuid AS uuid, \
                 NOW(6) AS now"
                    .into(),
            ),
            ServerFamily::Mariadb => None,
        }
    }

    /// `SET @@GLOBAL.gtid_mode = mode` (MySQL); `None` on MariaDB.
    pub fn set_gtid_mode_sql(&self, mode: GtidMode) -> Option<String> {
        match self.family() {
            ServerFamily::Mysql => Some(format!("SET @@GLOBAL.gtid_mode = {}", mode.as_str())),
            ServerFamily::Mariadb => None,
        }
    }

    /// `SET @@GLOBAL.enforce_gtid_consistency = c` (MySQL); `None` on MariaDB.
    pub fn set_gtid_consistency_sql(&self, c: GtidConsistency) -> Option<String> {
        match self.family() {
            ServerFamily::Mysql => Some(format!(
                "SET @@GLOBAL.enforce_gtid_consistency = {}",
                c.as_str()
            )),
            ServerFamily::Mariadb => None,
        }
    }

    /// The GTID consistency violations the server logged since `since` (its own `NOW(6)`)
    /// while `enforce_gtid_consistency = WARN`: rows `logged`, `data` (the statement's
    /// warning, "Statement violates GTID consistency: ..."), at most 20. MySQL 8.0.22+
    /// keeps the error log in `performance_schema.error_log`; `None` before and on
    /// MariaDB.
    pub fn gtid_consistency_violations_sql(&self, since: &str) -> Option<String> {
        match self.family() {
            ServerFamily::Mysql if self.v().mysql_at_least(8, 0, 22) => Some(format!(
                "SELECT LOGGED AS logged, DATA AS data FROM performance_schema.error_log \
                 WHERE DATA LIKE '%violates GTID consistency%' AND LOGGED >= {} \
                 ORDER BY LOGGED LIMIT 20",
                quote_string(since)
            )),
            _ => None,
        }
    }

    /// The source's binary log files, rows `Log_name`, ... (MySQL `SHOW BINARY LOGS`).
    pub fn binary_logs_sql(&self) -> String {
        "SHOW BINARY LOGS".into()
    }

    /// The events of binary log `file` from `position` (an event's start) to its end.
    pub fn binlog_events_sql(&self, file: &str, position: Option<u64>) -> String {
        match position {
            Some(p) => format!("SHOW BINLOG EVENTS IN {} FROM {p}", quote_string(file)),
            None => format!("SHOW BINLOG EVENTS IN {}", quote_string(file)),
        }
    }

    /// Run on a stopped file/position replica: what it lacks of its source's executed
    /// set `source_set` less `after` (the GTIDs logged after its coordinates), row
    /// `missing`, and of that what is not in `prior` (the source's transactions from
    /// before the replica started, which it may record as applied), row `holes`. Its own
    /// transactions are left out: the source may have executed one the replica has not
    /// committed yet itself (semi-sync `AFTER_SYNC`: the commit waits for the peer),
    /// seen on the lab under a writer.
    /// `None` on MariaDB (`BINLOG_GTID_POS` instead).
    pub fn gtid_conversion_gap_sql(
        &self,
        source_set: &str,
        after: &str,
        prior: &str,
    ) -> Option<String> {
        match self.family() {
            ServerFamily::Mysql => Some(format!(
                "SELECT m.s AS missing, GTID_SUBTRACT(m.s, {}) AS holes FROM \
                 (SELECT GTID_SUBTRACT(GTID_SUBTRACT(GTID_SUBTRACT({}, {}), \
                 @@GLOBAL.gtid_executed), CONCAT(@@GLOBAL.server_uuid, \
                 ':1-9223372036854775806')) AS s) AS m",
                quote_string(prior),
                quote_string(source_set),
                quote_string(after)
            )),
            ServerFamily::Mariadb => None,
        }
    }

    /// The MySQL statement making a stopped file/position replica position by GTID:
    /// `SOURCE_AUTO_POSITION=1`, no other option named (host, account, TLS kept).
    pub fn auto_position_sql(&self) -> Option<String> {
        match self.family() {
            ServerFamily::Mysql => {
                let stmt = if self.v().mysql_at_least(8, 0, 23) {
                    "CHANGE REPLICATION SOURCE TO"
                } else {
                    "CHANGE MASTER TO"
                };
                Some(format!("{stmt} {}", self.use_gtid_option()))
            }
            ServerFamily::Mariadb => None,
        }
    }
}

/// The binary log files at and after `from` (the replica's executed file), in the
/// source's order, from a `SHOW BINARY LOGS` answer; empty when `from` is not there any
/// more (purged).
pub fn binlog_files_from(rows: &[crate::sql::Row], from: &BinlogCoordinates) -> Vec<String> {
    let names: Vec<&str> = rows
        .iter()
        .filter_map(|r| crate::sql::get(r, "Log_name"))
        .collect();
    match names.iter().position(|n| *n == from.file) {
        Some(i) => names[i..].iter().map(|n| n.to_string()).collect(),
        None => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dialect {
        Dialect::from_version_string(s).unwrap()
    }

    fn row(cols: &[(&str, &str)]) -> crate::sql::Row {
        cols.iter()
            .map(|(c, v)| (c.to_string(), Some(v.to_string())))
            .collect()
    }

    #[test]
    fn modes_parse_names_and_numbers_and_order_as_the_server_steps() {
        assert_eq!(
            GtidMode::parse("off_permissive"),
            Some(GtidMode::OffPermissive)
        );
        assert_eq!(GtidMode::parse("2"), Some(GtidMode::OnPermissive));
        assert_eq!(GtidMode::parse("maybe"), None);
        assert!(GtidMode::Off < GtidMode::OffPermissive);
        assert!(GtidMode::OnPermissive < GtidMode::On);
        assert_eq!(GtidConsistency::parse("WARN"), Some(GtidConsistency::Warn));
        assert_eq!(GtidConsistency::parse("1"), Some(GtidConsistency::On));
        assert!(GtidConsistency::Warn < GtidConsistency::On);
    }

    #[test]
    fn statements_are_mysql_only() {
        let m = d("9.7.0");
        assert_eq!(
            m.set_gtid_mode_sql(GtidMode::OnPermissive).unwrap(),
            "SET @@GLOBAL.gtid_mode = ON_PERMISSIVE"
        );
        assert_eq!(
            m.set_gtid_consistency_sql(GtidConsistency::Warn).unwrap(),
            "SET @@GLOBAL.enforce_gtid_consistency = WARN"
        );
        assert_eq!(
            m.auto_position_sql().unwrap(),
            "CHANGE REPLICATION SOURCE TO SOURCE_AUTO_POSITION=1"
        );
        assert_eq!(
            d("8.0.20").auto_position_sql().unwrap(),
            "CHANGE MASTER TO MASTER_AUTO_POSITION=1"
        );
        assert!(m
            .gtid_consistency_violations_sql("2026-11-27 16:00:00.000000")
            .unwrap()
            .contains("LOGGED >= '2026-11-27 16:00:00.000000'"));
        assert_eq!(d("8.0.21").gtid_consistency_violations_sql("x"), None);
        let gap = m
            .gtid_conversion_gap_sql("a:1-9", "a:8,a:9", "a:1-2")
            .unwrap();
        assert!(
            gap.contains("GTID_SUBTRACT(GTID_SUBTRACT('a:1-9', 'a:8,a:9')"),
            "{gap}"
        );
        let maria = d("10.11.18-MariaDB");
        assert_eq!(maria.gtid_conversion_state_sql(), None);
        assert_eq!(maria.set_gtid_mode_sql(GtidMode::On), None);
        assert_eq!(maria.auto_position_sql(), None);
        assert_eq!(maria.gtid_conversion_gap_sql("", "", ""), None);
    }

    #[test]
    fn logged_after_reads_gtid_and_anonymous_events() {
        let mut after = LoggedAfter::default();
        after
            .add_events(&[
                row(&[("Event_type", "Query"), ("Info", "BEGIN")]),
                row(&[
                    ("Event_type", "Gtid"),
                    ("Info", "SET @@SESSION.GTID_NEXT= 'aaa:7'"),
                ]),
                row(&[
                    ("Event_type", "Gtid_tagged"),
                    ("Info", "SET @@SESSION.GTID_NEXT= 'aaa:tag:3'"),
                ]),
                row(&[
                    ("Event_type", "Anonymous_Gtid"),
                    ("Info", "SET @@SESSION.GTID_NEXT= 'ANONYMOUS'"),
                ]),
                row(&[("Event_type", "Previous_gtids"), ("Info", "aaa:1-6")]),
            ])
            .unwrap();
        assert_eq!(after.set(), "aaa:7,aaa:tag:3");
        assert_eq!(after.anonymous, 1);
        let mut bad = LoggedAfter::default();
        assert!(bad
            .add_events(&[row(&[("Event_type", "Gtid"), ("Info", "garbage")])])
            .is_err());
    }

    #[test]
    fn binlog_files_from_the_replicas_file_on() {
        let rows = [
            row(&[("Log_name", "binlog.000001")]),
            row(&[("Log_name", "binlog.000002")]),
            row(&[("Log_name", "binlog.000003")]),
        ];
        let at = |f: &str| BinlogCoordinates {
            file: f.into(),
            position: 4,
        };
        assert_eq!(
            binlog_files_from(&rows, &at("binlog.000002")),
            ["binlog.000002", "binlog.000003"]
        );
        assert!(binlog_files_from(&rows, &at("binlog.000000")).is_empty());
    }
}
