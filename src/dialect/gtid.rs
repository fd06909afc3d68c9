//! GTID statements: reading a MySQL server's GTID state, seeding `gtid_purged` on a
//! fresh node, and asking whether one GTID set contains another. Which flavor has which
//! GTID model is [`super::GtidModel`].

use super::{quote_string, Dialect};
use crate::inventory::ServerFamily;

impl Dialect {
    /// MySQL's GTID state: rows `mode`, `executed`, `uuid` (`gtid_mode`, `gtid_executed`,
    /// `server_uuid`). `None` on MariaDB, which has no `gtid_mode` and always records
    /// its domain-server-sequence GTIDs.
    pub fn gtid_state_sql(&self) -> Option<String> {
        match self.family() {
            ServerFamily::Mysql => Some(
                "SELECT @@GLOBAL.gtid_mode AS mode, @@GLOBAL.gtid_executed AS executed, \
                 @@GLOBAL.server_uuid AS uuid"
                    .into(),
            ),
            ServerFamily::Mariadb => None,
        }
    }
}

/// Declares `executed` (a MySQL GTID set) as already applied on a fresh server, as a
/// dump made with `--set-gtid-purged` would.
pub fn set_gtid_purged_sql(executed: &str) -> String {
    format!("SET @@GLOBAL.gtid_purged = {}", quote_string(executed))
}

/// Whether this server executed every transaction of `set` (a MySQL GTID set): row `s`
/// is `1` when it did.
pub fn gtid_subset_of_executed_sql(set: &str) -> String {
    format!(
        "SELECT GTID_SUBSET({}, @@GLOBAL.gtid_executed) AS s",
        quote_string(set)
    )
}
