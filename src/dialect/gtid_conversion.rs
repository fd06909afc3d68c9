//! Converting a running file/position pair to GTID positioning online (issue 19 item 2):
//! which flavor mhactl converts without a restart, and the statements of the MariaDB
//! conversion. bootstrap's `gtid-conversion` step decides from the node's state which of
//! them are left to run ([`crate::bootstrap`]'s step, docs/compatibility.md).
//!
//! MariaDB (KB "Global Transaction ID": "Changing a Replica to Use GTID", `gtid_domain_id`,
//! `gtid_strict_mode`, `BINLOG_GTID_POS`): every event already carries a GTID, so a
//! replica only has to be told where it is in GTID terms and to use it. The node's own
//! domain is set first (`gtid_domain_id` is dynamic; sessions opened before keep the
//! domain they started with, 0, until they reconnect: only the VIP holder writes, so
//! domain 0 keeps one writer and its sequence numbers stay in order on both nodes). The
//! replica's GTID position is then the source's GTID state at the exact binary log
//! coordinates the replica executed up to (`BINLOG_GTID_POS` of its stopped
//! `Relay_Master_Log_File`/`Exec_Master_Log_Pos`), not the `gtid_slave_pos` it kept while
//! positioning by file (a replica that executed nothing since it was pointed by file has
//! none, and `slave_pos` would then fetch the source's whole binary log again).
//! `gtid_strict_mode` comes last: it refuses an out-of-order sequence number, which the
//! shared domain 0 of a pair where both nodes once wrote may hold.
//!
//! MySQL (8.0+): the manual's online procedure and the switch of each replica to
//! `SOURCE_AUTO_POSITION`, src/dialect/gtid_conversion_mysql.rs.

use super::{quote_string, Dialect};
use crate::inventory::ServerFamily;

impl Dialect {
    /// Whether mhactl converts a running file/position replica of this server to GTID
    /// positioning without a restart: wherever it positions by GTID at all
    /// ([`Dialect::gtid_positioning_supported`]: MariaDB 10.0.9+, MySQL 8.0+).
    pub fn converts_to_gtid_online(&self) -> bool {
        match self.family() {
            ServerFamily::Mariadb | ServerFamily::Mysql => self.gtid_positioning_supported(),
        }
    }

    /// `SET GLOBAL gtid_domain_id = domain` (MariaDB: new sessions write in it); `None` on
    /// MySQL, which has no domains.
    pub fn set_gtid_domain_sql(&self, domain: u32) -> Option<String> {
        match self.family() {
            ServerFamily::Mariadb => Some(format!("SET GLOBAL gtid_domain_id = {domain}")),
            ServerFamily::Mysql => None,
        }
    }

    /// `SET GLOBAL gtid_strict_mode = ON` (MariaDB); `None` on MySQL.
    pub fn set_gtid_strict_mode_sql(&self) -> Option<String> {
        match self.family() {
            ServerFamily::Mariadb => Some("SET GLOBAL gtid_strict_mode = ON".into()),
            ServerFamily::Mysql => None,
        }
    }

    /// The statements that make a *stopped* file/position replica position by GTID from
    /// `position` (the source's GTID state where the replica executed up to, from
    /// [`Dialect::gtid_at_coordinates_sql`]), before it starts again: MariaDB sets
    /// `gtid_slave_pos` and `MASTER_USE_GTID=slave_pos` (the connection settings, TLS
    /// included, are kept: no other option is named); `None` on MySQL.
    pub fn convert_replica_to_gtid_sql(&self, position: &str) -> Option<Vec<String>> {
        match self.family() {
            ServerFamily::Mariadb => Some(vec![
                format!(
                    "SET GLOBAL gtid_slave_pos = {}",
                    quote_string(position.trim())
                ),
                format!("CHANGE MASTER TO {}", self.use_gtid_option()),
            ]),
            ServerFamily::Mysql => None,
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
    fn both_flavors_convert_online_with_their_own_statements() {
        let maria = d("10.11.18-MariaDB");
        assert!(maria.converts_to_gtid_online());
        assert!(!d("10.0.5-MariaDB").converts_to_gtid_online());
        assert_eq!(
            maria.set_gtid_domain_sql(2).as_deref(),
            Some("SET GLOBAL gtid_domain_id = 2")
        );
        assert_eq!(
            maria.set_gtid_strict_mode_sql().as_deref(),
            Some("SET GLOBAL gtid_strict_mode = ON")
        );
        assert_eq!(
            maria
                .convert_replica_to_gtid_sql(" 0-1-42,1-1-7\n")
                .unwrap(),
            [
                "SET GLOBAL gtid_slave_pos = '0-1-42,1-1-7'",
                "CHANGE MASTER TO MASTER_USE_GTID=slave_pos"
            ]
        );
        let mysql = d("8.4.3");
        assert!(mysql.converts_to_gtid_online());
        assert!(!d("5.7.44-log").converts_to_gtid_online());
        assert_eq!(mysql.set_gtid_domain_sql(2), None);
        assert_eq!(mysql.set_gtid_strict_mode_sql(), None);
        assert_eq!(mysql.convert_replica_to_gtid_sql("x"), None);
    }
}
