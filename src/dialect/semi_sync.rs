//! Semi-synchronous replication per flavor and version (issue 19): the variable and status
//! names, the plugins MySQL needs, the running values mhactl wants, and the statements
//! that turn it on or off on a running server without a restart.
//!
//! Sources (docs/compatibility.md quotes them): MariaDB KB "Semisynchronous Replication"
//! (built into the server since 10.3.3, no plugin; every `rpl_semi_sync_*` variable is
//! dynamic; a running replica takes `rpl_semi_sync_slave_enabled` when its IO thread
//! starts again); MySQL Reference Manual "Installing Semisynchronous Replication" (8.0,
//! 8.4, 9.x: plugins `rpl_semi_sync_source`/`rpl_semi_sync_replica` from 8.0.26, the old
//! `rpl_semi_sync_master`/`rpl_semi_sync_slave` before and removed in 9.x; `INSTALL
//! PLUGIN` registers a plugin in `mysql.plugin`, so it loads again at every start).
//!
//! Why `INSTALL PLUGIN` and not `plugin-load-add` on MySQL: a plugin named in both
//! (turned on at runtime, then the file) makes every later start log `[ERROR] Function
//! 'rpl_semi_sync_source' already exists` and `Couldn't load plugin` (seen on the lab,
//! MySQL 9.7); `plugin-load-add` alone needs a restart to load. So the option file carries
//! the variables only, `loose-` prefixed (a server whose plugin is not registered yet
//! starts and ignores them), and bootstrap's `semi-sync` step installs the plugins.

use super::Dialect;
use crate::inventory::ServerFamily;

/// The names semi-sync uses on one server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemiSyncNames {
    /// `rpl_semi_sync_master_enabled` / `rpl_semi_sync_source_enabled`.
    pub source_enabled: &'static str,
    /// `rpl_semi_sync_slave_enabled` / `rpl_semi_sync_replica_enabled`.
    pub replica_enabled: &'static str,
    /// How long a commit waits for the acknowledgement (ms).
    pub timeout: &'static str,
    /// `AFTER_SYNC` (lossless) or `AFTER_COMMIT`.
    pub wait_point: &'static str,
    /// Whether a source with no semi-sync replica connected still waits the timeout.
    pub wait_no_replica: &'static str,
    /// Status: commits wait for the peer now (`ON`) or it fell back (`OFF`).
    pub source_status: &'static str,
    /// Status: this node's replica acknowledges what it receives.
    pub replica_status: &'static str,
    /// Status: semi-sync replicas connected to this node.
    pub clients: &'static str,
    /// Status: commits acknowledged without the peer's acknowledgement since start.
    pub no_tx: &'static str,
}

impl SemiSyncNames {
    /// The variables mhactl sets.
    pub fn variables(&self) -> [&'static str; 5] {
        [
            self.source_enabled,
            self.replica_enabled,
            self.timeout,
            self.wait_point,
            self.wait_no_replica,
        ]
    }

    /// The status variables verify reads.
    pub fn status(&self) -> [&'static str; 4] {
        [
            self.source_status,
            self.replica_status,
            self.clients,
            self.no_tx,
        ]
    }
}

const OLD: SemiSyncNames = SemiSyncNames {
    source_enabled: "rpl_semi_sync_master_enabled",
    replica_enabled: "rpl_semi_sync_slave_enabled",
    timeout: "rpl_semi_sync_master_timeout",
    wait_point: "rpl_semi_sync_master_wait_point",
    wait_no_replica: "rpl_semi_sync_master_wait_no_slave",
    source_status: "Rpl_semi_sync_master_status",
    replica_status: "Rpl_semi_sync_slave_status",
    clients: "Rpl_semi_sync_master_clients",
    no_tx: "Rpl_semi_sync_master_no_tx",
};

const NEW: SemiSyncNames = SemiSyncNames {
    source_enabled: "rpl_semi_sync_source_enabled",
    replica_enabled: "rpl_semi_sync_replica_enabled",
    timeout: "rpl_semi_sync_source_timeout",
    wait_point: "rpl_semi_sync_source_wait_point",
    wait_no_replica: "rpl_semi_sync_source_wait_no_replica",
    source_status: "Rpl_semi_sync_source_status",
    replica_status: "Rpl_semi_sync_replica_status",
    clients: "Rpl_semi_sync_source_clients",
    no_tx: "Rpl_semi_sync_source_no_tx",
};

impl Dialect {
    /// This server can run semi-sync (MariaDB 10.3.3+ built in; MySQL through plugins).
    pub fn semi_sync_supported(&self) -> bool {
        let v = self.v();
        match v.flavor.family() {
            ServerFamily::Mariadb => v.mariadb_at_least(10, 3, 3),
            ServerFamily::Mysql => true,
        }
    }

    /// The names on this server (MySQL 8.0.26+: `source`/`replica`).
    pub fn semi_sync_names(&self) -> SemiSyncNames {
        if self.v().mysql_at_least(8, 0, 26) {
            NEW
        } else {
            OLD
        }
    }

    /// Plugins to install (name, library); none where semi-sync is built in.
    pub fn semi_sync_plugins(&self) -> &'static [(&'static str, &'static str)] {
        let v = self.v();
        match v.flavor.family() {
            ServerFamily::Mariadb => &[],
            ServerFamily::Mysql if v.mysql_at_least(8, 0, 26) => &[
                ("rpl_semi_sync_source", "semisync_source.so"),
                ("rpl_semi_sync_replica", "semisync_replica.so"),
            ],
            ServerFamily::Mysql => &[
                ("rpl_semi_sync_master", "semisync_master.so"),
                ("rpl_semi_sync_slave", "semisync_slave.so"),
            ],
        }
    }

    /// `INSTALL PLUGIN name SONAME 'library'` (not written to the binary log; refused
    /// under `super_read_only`, so it runs as an admin write).
    pub fn install_plugin_sql(&self, name: &str, library: &str) -> String {
        format!(
            "INSTALL PLUGIN {name} SONAME {}",
            super::quote_string(library)
        )
    }

    /// The running values mhactl wants, in the order they are set: with `on`, the wait
    /// settings before the switches (a source that starts waiting already has its
    /// timeout and does not wait for a replica that is not there); without, only the
    /// switches off.
    ///
    /// `wait_no_replica OFF`: a source whose semi-sync replica disconnected (the peer's
    /// server stopped or crashed: its connection closes) goes asynchronous at once
    /// instead of holding the next commit for the whole timeout; a peer that vanishes
    /// without closing its connection (power, network) still costs one timeout
    /// (docs/failover.md, "Semi-synchronous replication").
    pub fn semi_sync_running_values(
        &self,
        on: bool,
        timeout_ms: u32,
    ) -> Vec<(&'static str, String)> {
        let n = self.semi_sync_names();
        if on {
            vec![
                (n.wait_no_replica, "OFF".into()),
                (n.timeout, timeout_ms.to_string()),
                (n.wait_point, "AFTER_SYNC".into()),
                (n.replica_enabled, "ON".into()),
                (n.source_enabled, "ON".into()),
            ]
        } else {
            vec![
                (n.source_enabled, "OFF".into()),
                (n.replica_enabled, "OFF".into()),
            ]
        }
    }

    /// `SET GLOBAL name = value` for one of [`Self::semi_sync_running_values`].
    pub fn set_semi_sync_sql(&self, name: &str, value: &str) -> anyhow::Result<String> {
        let n = self.semi_sync_names();
        if !n.variables().contains(&name) {
            anyhow::bail!("{name} is not a semi-sync variable");
        }
        let value_ok = matches!(value, "ON" | "OFF" | "AFTER_SYNC")
            || (!value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()));
        if !value_ok {
            anyhow::bail!("{name}: unexpected value {value:?}");
        }
        Ok(format!("SET GLOBAL {name} = {value}"))
    }
}

/// What the fence agent runs to make the source side of semi-sync follow the VIP
/// (templates/fence-agent.sh.tera, `ss_holder`/`ss_passive`; docs/failover.md says why):
/// on while this node holds the VIP, off on the passive node, and never on while a dump
/// thread serves a replica whose server does not answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SemiSyncFollow {
    /// `ID`, `HOST` (`address:port` of the replica's connection) of each binary log
    /// dump thread.
    pub dump_threads: &'static str,
    /// `KILL CONNECTION`: the agent appends the thread's id (digits it checked).
    pub kill_prefix: &'static str,
    /// The source switch's value (`1`/`0`).
    pub source_enabled: String,
    /// The source switch on (fast: starts the acknowledgement receiver).
    pub on: String,
    /// The source switch off. On MySQL this blocks for up to a second while the server
    /// stops its acknowledgement receiver, and so does every new connection meanwhile
    /// (measured on 9.7: 0.6 s): only a passive node runs it, a while after its fence.
    pub off: String,
}

impl Dialect {
    /// Whether the source side of semi-sync follows the VIP on this server: semi-sync on
    /// (`mysql.semi_sync`), supported, and a fence agent to switch it (`writes:
    /// vip-holder`). Otherwise it is on on both nodes, as the option file says.
    pub fn semi_sync_source_follows_vip(
        &self,
        semi_sync: bool,
        writes: crate::inventory::WriteMode,
    ) -> bool {
        semi_sync
            && self.semi_sync_supported()
            && match writes {
                crate::inventory::WriteMode::VipHolder => true,
                crate::inventory::WriteMode::Both => false,
            }
    }

    /// See [`SemiSyncFollow`]. MySQL 8.0.22+ reads `performance_schema.processlist`
    /// (`information_schema.PROCESSLIST` is deprecated there); no text holds a quote
    /// character but single ones (the agent passes them in double quotes).
    pub fn semi_sync_follow(&self) -> SemiSyncFollow {
        let n = self.semi_sync_names();
        let dump_threads = match self.family() {
            ServerFamily::Mysql if self.v().mysql_at_least(8, 0, 22) => {
                "SELECT ID, HOST FROM performance_schema.processlist \
                 WHERE COMMAND LIKE 'Binlog Dump%'"
            }
            ServerFamily::Mysql | ServerFamily::Mariadb => {
                "SELECT ID, HOST FROM information_schema.PROCESSLIST \
                 WHERE COMMAND LIKE 'Binlog Dump%'"
            }
        };
        SemiSyncFollow {
            dump_threads,
            kill_prefix: "KILL CONNECTION",
            source_enabled: format!("SELECT @@GLOBAL.{}", n.source_enabled),
            on: format!("SET GLOBAL {} = ON", n.source_enabled),
            off: format!("SET GLOBAL {} = OFF", n.source_enabled),
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
    fn names_and_plugins_follow_the_version() {
        assert_eq!(
            d("9.7.4").semi_sync_names().source_status,
            "Rpl_semi_sync_source_status"
        );
        assert_eq!(
            d("8.0.25").semi_sync_names().wait_no_replica,
            "rpl_semi_sync_master_wait_no_slave"
        );
        assert_eq!(
            d("8.4.2").semi_sync_plugins()[0],
            ("rpl_semi_sync_source", "semisync_source.so")
        );
        assert_eq!(d("5.7.44").semi_sync_plugins()[1].1, "semisync_slave.so");
        assert!(d("10.11.18-MariaDB").semi_sync_plugins().is_empty());
        assert_eq!(
            d("10.11.18-MariaDB").semi_sync_names().clients,
            "Rpl_semi_sync_master_clients"
        );
        assert!(d("10.3.3-MariaDB").semi_sync_supported());
        assert!(!d("10.2.44-MariaDB").semi_sync_supported());
        assert_eq!(
            d("9.7.4").install_plugin_sql("rpl_semi_sync_source", "semisync_source.so"),
            "INSTALL PLUGIN rpl_semi_sync_source SONAME 'semisync_source.so'"
        );
    }

    #[test]
    fn switches_come_after_the_wait_settings() {
        let on = d("10.11.18-MariaDB").semi_sync_running_values(true, 1000);
        assert_eq!(on[0], ("rpl_semi_sync_master_wait_no_slave", "OFF".into()));
        assert_eq!(on.last().unwrap().0, "rpl_semi_sync_master_enabled");
        let off = d("9.7.4").semi_sync_running_values(false, 1000);
        assert_eq!(off[0], ("rpl_semi_sync_source_enabled", "OFF".into()));
        assert_eq!(off.len(), 2);
    }

    #[test]
    fn follow_reads_the_processlist_the_version_has() {
        let my = d("9.7.4").semi_sync_follow();
        assert!(my.dump_threads.contains("performance_schema.processlist"));
        assert_eq!(my.off, "SET GLOBAL rpl_semi_sync_source_enabled = OFF");
        let old = d("8.0.21").semi_sync_follow();
        assert!(old.dump_threads.contains("information_schema.PROCESSLIST"));
        let maria = d("10.11.18-MariaDB").semi_sync_follow();
        assert!(maria
            .dump_threads
            .contains("information_schema.PROCESSLIST"));
        assert_eq!(maria.on, "SET GLOBAL rpl_semi_sync_master_enabled = ON");
        for r in [my, old, maria] {
            for t in [r.dump_threads, &r.source_enabled, &r.on, &r.off] {
                assert!(!t.contains(['"', '$', '`', '\\']), "{t}");
            }
        }
    }

    #[test]
    fn set_global_only_for_semi_sync_values() {
        let d = d("9.7.4");
        assert_eq!(
            d.set_semi_sync_sql("rpl_semi_sync_source_timeout", "1000")
                .unwrap(),
            "SET GLOBAL rpl_semi_sync_source_timeout = 1000"
        );
        assert!(d.set_semi_sync_sql("server_id", "3").is_err());
        assert!(d
            .set_semi_sync_sql("rpl_semi_sync_source_enabled", "ON; DROP")
            .is_err());
    }
}
