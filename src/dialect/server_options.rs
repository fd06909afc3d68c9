//! my.cnf option and status variable names that differ per flavor and version (replica
//! updates, skipped errors, binlog expiry, semi-sync), the default collation, and whether
//! `mysqld --validate-config` exists.

use super::Dialect;
use crate::inventory::ServerFamily;

impl Dialect {
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
    /// lossless `AFTER_SYNC` wait point and no wait while no semi-sync replica is
    /// connected ([`Self::semi_sync_running_values`]). MariaDB has it built in since
    /// 10.3.3; on MySQL the names are `loose-` prefixed: its plugins are registered by
    /// `INSTALL PLUGIN` (bootstrap's `semi-sync` step), not `plugin-load-add`, and a
    /// server that starts before they are ignores the lines instead of refusing to start
    /// (`dialect/semi_sync.rs` says why). Where the source side follows the VIP
    /// ([`Self::semi_sync_source_follows_vip`]) the file turns it off: a server starts
    /// fenced, as a passive node, and the fence agent turns it on while it holds the VIP.
    pub fn semi_sync_options(
        &self,
        timeout_ms: u32,
        source_follows_vip: bool,
    ) -> anyhow::Result<Vec<(String, String)>> {
        let v = self.v();
        if !self.semi_sync_supported() {
            anyhow::bail!(
                "semi-synchronous replication needs MariaDB 10.3.3 or later (this is {v}); \
                 set mysql.semi_sync: false"
            );
        }
        let prefix = match v.flavor.family() {
            ServerFamily::Mariadb => "",
            ServerFamily::Mysql => "loose-",
        };
        let n = self.semi_sync_names();
        let values = self.semi_sync_running_values(true, timeout_ms);
        let value = |name: &str| {
            if source_follows_vip && name == n.source_enabled {
                return "OFF".to_string();
            }
            values
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        };
        Ok([
            n.source_enabled,
            n.replica_enabled,
            n.timeout,
            n.wait_point,
            n.wait_no_replica,
        ]
        .iter()
        .map(|name| (format!("{prefix}{name}"), value(name)))
        .collect())
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
#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dialect {
        Dialect::from_version_string(s).unwrap()
    }

    #[test]
    fn semi_sync_option_names_follow_the_version() {
        let maria = d("10.11.18-MariaDB").semi_sync_options(500, false).unwrap();
        assert!(maria.contains(&("rpl_semi_sync_master_timeout".into(), "500".into())));
        assert!(maria.contains(&("rpl_semi_sync_master_wait_no_slave".into(), "OFF".into())));
        assert!(!maria.iter().any(|(k, _)| k.contains("plugin")));
        let my84 = d("8.4.2").semi_sync_options(1000, false).unwrap();
        assert_eq!(
            my84[0],
            ("loose-rpl_semi_sync_source_enabled".into(), "ON".into())
        );
        assert!(my84.contains(&(
            "loose-rpl_semi_sync_source_wait_no_replica".into(),
            "OFF".into()
        )));
        assert!(!my84.iter().any(|(k, _)| k.contains("plugin")));
        let my57 = d("5.7.44-log").semi_sync_options(1000, false).unwrap();
        assert!(my57.contains(&(
            "loose-rpl_semi_sync_master_wait_point".into(),
            "AFTER_SYNC".into()
        )));
        assert!(d("10.2.44-MariaDB").semi_sync_options(1000, false).is_err());
        // Following the VIP, a (re)starting server's source side is off: the agent turns
        // it on while the node holds the VIP.
        let follows = d("9.7.4").semi_sync_options(1000, true).unwrap();
        assert_eq!(
            follows[0],
            ("loose-rpl_semi_sync_source_enabled".into(), "OFF".into())
        );
        assert_eq!(
            follows[1],
            ("loose-rpl_semi_sync_replica_enabled".into(), "ON".into())
        );
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
