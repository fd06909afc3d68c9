//! Reading a hand-built pair, read-only: per node ([`read_node`]) the OS, the server
//! (version, variables, the option files it read and which one sets what), replication
//! (this node as a replica, every source it has, the replicas reading it), accounts and
//! grants, keepalived (configuration, notify scripts, state), addresses, firewall,
//! SELinux and data size (the tables: `tables.rs`). Every
//! read goes through a fact; nothing here changes a node.

use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use crate::facts::{self, adopt as af, security};
use crate::os::addresses::InterfaceAddress;
use crate::os::keepalived_conf::{self, KeepalivedConf};
pub use crate::table_compare::{compare_tables, TableComparison};
use anyhow::{anyhow, Result};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::Ipv4Addr;

/// Option-file keys adopt reports (which file sets them, and whether another one too).
const REPORTED_OPTIONS: &[&str] = &[
    "server_id",
    "log_bin",
    "binlog_format",
    "slave_skip_errors",
    "replica_skip_errors",
    "replicate_do_db",
    "replicate_ignore_db",
    "binlog_do_db",
    "binlog_ignore_db",
    "expire_logs_days",
    "binlog_expire_logs_seconds",
    "auto_increment_increment",
    "auto_increment_offset",
    "bind_address",
    "datadir",
    "read_only",
    "log_slave_updates",
    "log_replica_updates",
    "gtid_mode",
];

/// One node as a replica (`SHOW REPLICA STATUS`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplicaView {
    /// `Master_Host` / `Source_Host`.
    pub source_host: String,
    /// `Master_Port` / `Source_Port`.
    pub source_port: u16,
    /// The replication account it logs in as.
    pub user: String,
    /// IO thread running.
    pub io_running: bool,
    /// SQL thread running.
    pub sql_running: bool,
    /// `Last_IO_Errno`, `Last_IO_Error`.
    pub last_io_errno: u32,
    /// The IO thread's last error.
    pub last_io_error: String,
    /// `Last_SQL_Errno`.
    pub last_sql_errno: u32,
    /// The SQL thread's last error.
    pub last_sql_error: String,
    /// Seconds behind its source (`None`: a thread is stopped).
    pub seconds_behind: Option<u64>,
    /// How it follows its source: `file/position`, or MariaDB's `Using_Gtid` value.
    pub positioning: String,
}

/// Who sets one option and where.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OptionSource {
    /// Normalised option name.
    pub key: String,
    /// The value that wins (`ON` for a bare option).
    pub value: String,
    /// The file that sets it last (the one that wins).
    pub file: String,
    /// Earlier files that set it too (overridden), with their values.
    pub overridden: Vec<String>,
}

/// A script keepalived runs on an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotifyScript {
    /// The keyword (`notify_down`).
    pub keyword: String,
    /// The script's path.
    pub path: String,
    /// It stops keepalived (`pkill keepalived`); `None`: not readable.
    pub stops_keepalived: Option<bool>,
}

/// keepalived on one node.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct KeepalivedView {
    /// The parsed keepalived.conf (`None`: no such file).
    pub conf: Option<KeepalivedConf>,
    /// Its service is active (`None`: could not be asked).
    pub running: Option<bool>,
    /// `keepalived --version` (`None`: not installed).
    pub version: Option<String>,
    /// Its notify scripts.
    pub notify_scripts: Vec<NotifyScript>,
}

/// An account and a summary of its grants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AccountView {
    /// User name.
    pub user: String,
    /// Host pattern.
    pub host: String,
    /// `SHOW GRANTS` lines, without `IDENTIFIED BY` parts.
    pub grants: Vec<String>,
}

/// Everything read from one node.
#[derive(Debug, Clone, Default, Serialize)]
pub struct NodeFindings {
    /// Node name (from the minimal inventory).
    pub name: String,
    /// Its address.
    pub address: Option<Ipv4Addr>,
    /// The OS, one line.
    pub os: String,
    /// `SELECT VERSION()`.
    pub version: String,
    /// The server's dialect.
    #[serde(skip)]
    pub dialect: Option<Dialect>,
    /// Server variables adopt reads (those the server has).
    pub variables: BTreeMap<String, String>,
    /// The option files the server reads, in order.
    pub option_files: Vec<String>,
    /// Who sets the options adopt reports.
    pub options: Vec<OptionSource>,
    /// Where mhactl's drop-in would go on this node (`None`: OS not recognised).
    pub drop_in: Option<String>,
    /// This node as a replica (`None`: no replication configured).
    pub replica: Option<ReplicaView>,
    /// Every replication source (named connections, channels).
    pub sources: Vec<af::SourceEntry>,
    /// Hosts of the replicas reading this node's binary log now.
    pub replica_clients: Vec<String>,
    /// The binary log position (`file:position`).
    pub binlog: Option<String>,
    /// Accounts and their grants.
    pub accounts: Vec<AccountView>,
    /// keepalived.
    pub keepalived: KeepalivedView,
    /// Every IPv4 address of the node.
    pub addresses: Vec<InterfaceAddress>,
    /// The firewall, one line.
    pub firewall: String,
    /// `getenforce` (`None`: no SELinux).
    pub selinux: Option<String>,
    /// Size of the data outside the system schemas, KiB.
    pub data_kib: Option<u64>,
    /// What could not be read, and why.
    pub unread: Vec<String>,
}

impl NodeFindings {
    /// A variable's value (`None`: the server has no such variable).
    pub fn var(&self, name: &str) -> Option<&str> {
        self.variables.get(name).map(String::as_str)
    }

    /// The node holds `vip`.
    pub fn holds(&self, vip: Ipv4Addr) -> bool {
        self.addresses.iter().any(|a| a.address == vip)
    }
}

/// Run `f` and keep its value, or note in `unread` what failed.
fn note<T>(unread: &mut Vec<String>, what: &str, r: Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(e) => {
            unread.push(format!("{what}: {e:#}"));
            None
        }
    }
}

/// Read one node. Errors only when the server cannot be asked at all.
pub fn read_node(node: &NodeHandle, address: Ipv4Addr) -> Result<NodeFindings> {
    let mut f = NodeFindings {
        name: node.name.clone(),
        address: Some(address),
        ..NodeFindings::default()
    };
    let d = facts::dialect(node)?;
    f.version = d.version().to_string();
    f.dialect = Some(d);
    let names: Vec<String> = crate::dialect::adopt::ADOPT_VARIABLES
        .iter()
        .map(|s| s.to_string())
        .collect();
    for (name, value) in facts::get::<facts::tables::GlobalVariables>(node, &names)? {
        if let Some(v) = value {
            f.variables.insert(name, v);
        }
    }
    let state = facts::get::<facts::server::ReplicaStatusFact>(node, &())?;
    let status = state
        .status
        .map_err(|e| anyhow!("{}: replica status: {e}", node.name))?;
    f.replica = status.map(|s| ReplicaView {
        source_host: s.source_host.clone(),
        source_port: s.source_port,
        user: s.source_user.clone(),
        io_running: s.io_running,
        sql_running: s.sql_running,
        last_io_errno: s.last_io_errno,
        last_io_error: s.last_io_error.clone(),
        last_sql_errno: s.last_sql_errno,
        last_sql_error: s.last_sql_error.clone(),
        seconds_behind: s.seconds_behind,
        // MariaDB's `Using_Gtid`, MySQL's `Auto_Position`.
        positioning: match d
            .replica_history(&state.rows)
            .ok()
            .flatten()
            .and_then(|h| h.gtid)
        {
            Some(g) => format!("GTID ({g})"),
            None => "file/position".into(),
        },
    });
    f.sources = facts::get::<af::AllSources>(node, &())?;
    let mut unread = Vec::new();
    f.replica_clients = note(
        &mut unread,
        "replicas",
        facts::get::<af::ReplicaConnections>(node, &()),
    )
    .unwrap_or_default();
    f.binlog = note(&mut unread, "binary log", facts::binlog_coordinates(node))
        .map(|c| format!("{}:{}", c.file, c.position));
    f.accounts = note(&mut unread, "accounts", read_accounts(node)).unwrap_or_default();
    f.data_kib = note(
        &mut unread,
        "data size",
        facts::get::<af::UserDataSize>(node, &()),
    );
    if let Some((files, settings)) = note(
        &mut unread,
        "option files",
        crate::facts::option_sources::collect(node, &d),
    ) {
        f.option_files = files;
        f.options = who_sets(&settings);
    }
    let os = note(
        &mut unread,
        "os-release",
        facts::get::<facts::host::OsReleaseFact>(node, &()),
    );
    f.drop_in = facts::os_target(node, d.flavor())
        .ok()
        .map(|(t, _)| t.config_path().to_string());
    f.os = match os.flatten() {
        Some(os) => os.pretty_name,
        None => "unknown".into(),
    };
    f.addresses = note(
        &mut unread,
        "addresses",
        facts::get::<af::AllInterfaceAddresses>(node, &()),
    )
    .unwrap_or_default();
    f.keepalived = read_keepalived(node, &mut unread);
    f.firewall = read_firewall(node);
    f.selinux = facts::get::<security::SelinuxMode>(node, &())
        .ok()
        .flatten();
    f.unread = unread;
    Ok(f)
}

/// Who sets each reported option: the last file wins.
pub fn who_sets(settings: &[crate::os::option_files::ServerSetting]) -> Vec<OptionSource> {
    let mut out = Vec::new();
    for key in REPORTED_OPTIONS {
        let all: Vec<_> = settings.iter().filter(|s| s.key == *key).collect();
        let Some((last, earlier)) = all.split_last() else {
            continue;
        };
        out.push(OptionSource {
            key: key.to_string(),
            value: last.value.clone().unwrap_or_else(|| "ON".into()),
            file: last.path.clone(),
            overridden: earlier
                .iter()
                .map(|s| format!("{} ({})", s.path, s.value.as_deref().unwrap_or("ON")))
                .collect(),
        });
    }
    out
}

fn read_accounts(node: &NodeHandle) -> Result<Vec<AccountView>> {
    let accounts = facts::get::<af::AllAccounts>(node, &())?;
    Ok(accounts
        .into_iter()
        .map(|a| {
            let grants = facts::accounts::grant_lines(node, &a.user, &a.host)
                .unwrap_or_default()
                .into_iter()
                .map(|g| match g.find(" IDENTIFIED BY") {
                    Some(i) => g[..i].to_string(),
                    None => g,
                })
                .collect();
            AccountView {
                user: a.user,
                host: a.host,
                grants,
            }
        })
        .collect())
}

fn read_keepalived(node: &NodeHandle, unread: &mut Vec<String>) -> KeepalivedView {
    let mut k = KeepalivedView::default();
    let path = crate::os::server_files::KEEPALIVED_CONF_PATH;
    if let Some(text) = note(unread, path, facts::host::option_file(node, path)) {
        k.conf = text.as_deref().map(keepalived_conf::parse);
    }
    k.version = facts::keepalived_version(node)
        .ok()
        .flatten()
        .map(|v| v.to_string());
    if let Ok(services) = facts::get::<facts::host::ServiceManagerFact>(node, &()) {
        k.running =
            facts::service_active(node, services, crate::os::server_files::KEEPALIVED_SERVICE).ok();
    }
    let scripts = k
        .conf
        .as_ref()
        .map(|c| c.notify_scripts.clone())
        .unwrap_or_default();
    for (keyword, script) in scripts {
        let path = script.split_whitespace().next().unwrap_or("").to_string();
        let stops = facts::host::option_file(node, &path)
            .ok()
            .flatten()
            .map(|text| keepalived_conf::script_stops_keepalived(&text));
        k.notify_scripts.push(NotifyScript {
            keyword,
            path,
            stops_keepalived: stops,
        });
    }
    k
}

fn read_firewall(node: &NodeHandle) -> String {
    let mut found = Vec::new();
    if facts::get::<security::FirewalldRunning>(node, &()).unwrap_or(false) {
        found.push("firewalld running".to_string());
    }
    if let Ok(Some(status)) = facts::get::<security::UfwStatus>(node, &()) {
        let (active, incoming) = crate::os::firewall::ufw_state(&status);
        if active {
            found.push(format!("active ufw (incoming: {incoming})"));
        }
    }
    if let Ok(Some(drop)) = facts::get::<security::NftDefaultDrop>(node, &()) {
        found.push(format!("nftables drops by default ({drop})"));
    }
    if facts::get::<security::IptablesDefaultDrop>(node, &()).unwrap_or(false) {
        found.push("the iptables INPUT chain drops by default".to_string());
    }
    if found.is_empty() {
        "none (no firewalld, ufw, or default-drop nftables/iptables rules)".into()
    } else {
        found.join("; ")
    }
}
