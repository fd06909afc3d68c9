//! The inventory: the one YAML file that describes a cluster (two nodes, the VIP, the
//! server settings and *references* to credentials). This module owns its types, loading
//! (with line/column errors), validation, and resolving credential references to secrets.
//!
//! - this file: the types, and the values derived from them ([`Inventory::server_id`],
//!   [`Inventory::priority`], [`Inventory::ssh_for`], ...);
//! - `load.rs`: [`load`] and [`parse`], YAML errors with file, field, line and column,
//!   and "did you mean" suggestions for misspelled fields;
//! - `flavor.rs`: [`Flavor`] and the capabilities validation needs (the rest are in
//!   `dialect/flavor.rs`);
//! - `validate/`: semantic checks ([`validate`]) by concern (topology, server, packages)
//!   and [`Inventory::warnings`];
//! - `credentials.rs`: [`CredentialRef`] and resolving them to [`Secrets`];
//! - `access.rs`: validating `access.users`; `network.rs` parses its client networks,
//!   `grants.rs` its grants (the privilege vocabulary) and `SHOW GRANTS` output;
//! - `paths.rs`: the rules for path fields on the nodes (datadir, socket, ...);
//! - `limits.rs`: size and nesting bounds before parsing, number ranges, and values
//!   pasted into ssh options and repository lines;
//! - `ssh_access.rs`: `ssh.host`, `ssh.config_file` and the sudo password reference;
//! - `fleet.rs`: many clusters in one inventory (a fleet file or directory), merged
//!   with shared variables; `fleet_place.rs` places their problems in their files;
//! - `mysql_settings.rs`: `mysql:` ([`MysqlSettings`]) and its defaults;
//! - `names.rs`: system schemas and reserved accounts (one definition for all users).
//!
//! Every error this module returns carries a [`crate::error::UsageError`] (exit code 2).

mod access;
mod credentials;
mod diagnostics;
mod flavor;
pub mod fleet;
mod fleet_place;
mod grants;
mod limits;
mod load;
mod mysql_settings;
mod names;
mod network;
mod paths;
mod replication;
mod ssh_access;
pub(crate) mod tls;
mod validate;

pub use credentials::{derive_vrrp_password, CredentialRef, SecretName, Secrets};
pub use flavor::{Flavor, ServerFamily};
pub use grants::{admin_reason, parse_grant, parse_show_grants, wanted_grants, Grant, GrantObject};
pub use limits::{precheck, MAX_INVENTORY_BYTES, MAX_NESTING, MAX_SECRET_FILE_BYTES};
pub use load::{check_local_files, load, parse, schema_error_report};
pub use mysql_settings::{BinlogFormat, Durability, MysqlSettings};
pub use names::{is_reserved_account, is_system_schema};
pub use network::{parse_network, Network};
pub use paths::{path_syntax_problem, system_location};
pub use replication::{Positioning, ReplicationSettings};
pub use ssh_access::become_password;
pub use tls::{NodeCertFiles, TlsSettings, TlsSource};
pub(crate) use validate::normalize_charset;
pub use validate::{cluster_name_problem, interface_name_problem, validate};

use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// ssh's own default port, assumed where the inventory sets none (the check that
/// `mysql.port` is not the SSH port); ssh itself is never given a port the inventory
/// does not set, so the user's ssh config (`Port`) applies.
pub const DEFAULT_SSH_PORT: u16 = 22;
/// Default SSH connect timeout, in seconds.
pub const DEFAULT_SSH_CONNECT_TIMEOUT_S: u64 = 10;
/// Seconds an ssh master stays up, idle, for the next run (`ssh.persist_s`): Ansible's
/// `ControlPersist=60s`.
pub const DEFAULT_SSH_PERSIST_S: u64 = 60;
/// Default server character set (4-byte UTF-8, unlike the 3-byte `utf8`).
pub const DEFAULT_CHARACTER_SET: &str = "utf8mb4";
/// Default keepalived priorities of the first and the second node.
pub const DEFAULT_PRIORITIES: [u8; 2] = [100, 90];

/// A whole inventory file, as written by the user (paths not yet resolved).
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Inventory {
    /// Cluster name: used in keepalived's router id, probe names and messages.
    pub cluster: String,
    /// SSH settings shared by every node (each node may override them).
    #[serde(default)]
    pub ssh: SshSettings,
    /// Exactly two nodes; the first gets `auto_increment_offset = 1`, the second 2.
    pub nodes: Vec<Node>,
    /// The virtual IP that keepalived moves between the nodes.
    pub vip: Vip,
    /// Server flavor and replication settings.
    #[serde(default)]
    pub mysql: MysqlSettings,
    /// Where the secrets come from (never the secrets themselves).
    pub credentials: Credentials,
    /// Application/admin accounts that clients use through the VIP (default: none).
    #[serde(default)]
    pub access: Access,
    /// What bootstrap does about a host firewall (default `auto`).
    #[serde(default)]
    pub firewall: FirewallMode,
    /// Which node accepts application writes (default `vip-holder`).
    #[serde(default)]
    pub writes: WriteMode,
    /// Where packages come from (default: the nodes' own repositories, plus the MySQL
    /// Yum repository for MySQL on EL).
    #[serde(default)]
    pub packages: Packages,
    /// TLS for replication (default: on, with mhactl's own per-cluster CA).
    #[serde(default)]
    pub tls: TlsSettings,
    /// How replicas position (default: GTIDs for a new pair; an existing pair keeps its
    /// own way).
    #[serde(default, skip_serializing_if = "ReplicationSettings::is_default")]
    pub replication: ReplicationSettings,
    /// Directory the inventory was loaded from; relative paths resolve against it.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

/// How to reach a node over SSH. Every field is optional so that node-level
/// settings can override the inventory-wide ones field by field.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SshSettings {
    /// Remote user (default: ssh's own, i.e. the ssh config's `User` or the local user
    /// name; a non-root user runs commands through sudo).
    pub user: Option<String>,
    /// SSH port (default: ssh's own, i.e. the ssh config's `Port` or 22).
    pub port: Option<u16>,
    /// The host name ssh connects to, when not the node's `address`: a name the DNS or
    /// the ssh config resolves (a `Host` alias), or an IPv6 address.
    pub host: Option<String>,
    /// An ssh config file (`ssh -F`) instead of `~/.ssh/config` (default: ssh's own).
    pub config_file: Option<PathBuf>,
    /// A non-root user's sudo password: an environment variable holding it (default:
    /// none, sudo must not ask for one).
    pub become_password_env: Option<String>,
    /// A non-root user's sudo password: a file holding it (`path` or `path#key`).
    pub become_password_file: Option<String>,
    /// Private key file (default: ssh's own defaults and agent).
    pub identity_file: Option<PathBuf>,
    /// known_hosts file to check host keys against (default: ssh's own).
    pub known_hosts: Option<PathBuf>,
    /// `strict` (default) refuses unknown keys; `accept-new` records them.
    pub host_key_check: Option<HostKeyCheck>,
    /// Seconds to wait for the TCP connection (default 10).
    pub connect_timeout_s: Option<u64>,
    /// Seconds the ssh master connection stays up, idle, after a run, for the next run
    /// to reuse (default 60, as Ansible's `ControlPersist=60s`; 0: it ends with the run).
    pub persist_s: Option<u64>,
}

/// Host key policy, as in ssh's `StrictHostKeyChecking`.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum HostKeyCheck {
    /// Unknown or changed host keys are an error (the default).
    #[default]
    Strict,
    /// Unknown keys are recorded on first use; changed keys are still an error.
    AcceptNew,
}

/// One database host.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Short unique name used in messages (`node-a`).
    pub name: String,
    /// IPv4 address the peer replicates from and SSH connects to.
    pub address: Ipv4Addr,
    /// Per-node SSH overrides.
    #[serde(default)]
    pub ssh: SshSettings,
    /// MySQL `server_id` (default: 1 for the first node, 2 for the second).
    pub server_id: Option<u32>,
    /// keepalived priority (default: 100 for the first node, 90 for the second).
    pub priority: Option<u8>,
}

/// The keepalived virtual IP.
#[derive(Debug, Clone, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Vip {
    /// The address clients use.
    pub address: Ipv4Addr,
    /// Prefix length of the VIP (default 24).
    #[serde(default = "default_prefix")]
    pub prefix: u8,
    /// Interface on both nodes that carries the VIP (e.g. `eth0`).
    pub interface: String,
    /// VRRP virtual router id, 1-255, unique on the network segment.
    pub virtual_router_id: u8,
    /// How fast keepalived notices a failure: every timer (VRRP advertisements, health
    /// check, process watcher, arbiter probe) derives from it (default `default`;
    /// docs/failover.md, "Detection timers").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detection: Option<Detection>,
    /// The old setting: VRRP advertisement interval in whole seconds, over VRRPv2, with
    /// the relaxed checks. Kept working; `detection` replaces it (both: refused).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub advert_int_s: Option<u8>,
    /// An address both nodes and the clients reach (e.g. the clients' gateway). When
    /// set, keepalived checks it: a node that reaches neither it nor its peer is cut
    /// off and gives up the VIP (FAULT) instead of holding it next to the peer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arbiter: Option<Ipv4Addr>,
}

fn default_prefix() -> u8 {
    24
}

/// `vip.detection`: one setting from which every failure-detection timer derives.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Detection {
    /// VRRPv3 advertisements every 0.1 s (0.35 s with an arbiter), 0.25 s health-check
    /// attempts: the fastest failover, the least tolerance for a stalled host.
    Fast,
    /// VRRPv3 advertisements every 0.3 s (0.45 s with an arbiter), 0.5 s health-check
    /// attempts.
    #[default]
    Default,
    /// Advertisements every second, 1 s attempts: for slow or lossy networks.
    Relaxed,
}

/// References to the secrets bootstrap needs. Each is given as exactly one of
/// `<name>_env` (an environment variable), `<name>_file` (a file, optionally
/// `path#key` to pick one key of a YAML mapping) or `<name>_prompt: true`.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// Replication account password: environment variable holding it.
    pub replication_password_env: Option<String>,
    /// Replication account password: file holding it.
    pub replication_password_file: Option<String>,
    /// Replication account password: ask on the terminal.
    #[serde(default)]
    pub replication_password_prompt: bool,
    /// Administrative (root) password: environment variable. Not needed for
    /// MariaDB on Debian, where root logs in through the unix socket.
    pub root_password_env: Option<String>,
    /// Administrative (root) password: file.
    pub root_password_file: Option<String>,
    /// Administrative (root) password: ask on the terminal.
    #[serde(default)]
    pub root_password_prompt: bool,
    /// VRRP auth password: environment variable (default: derived per cluster).
    pub vrrp_password_env: Option<String>,
    /// VRRP auth password: file (default: derived per cluster).
    pub vrrp_password_file: Option<String>,
}

/// Accounts for clients (applications, administrators) that connect through the VIP.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Access {
    /// The accounts; each is created on both nodes for each of its networks.
    #[serde(default)]
    pub users: Vec<AccessUser>,
}

/// One client account: a name, where its password comes from, the client networks it
/// may connect from, and exactly the privileges it gets.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct AccessUser {
    /// Account name (letters, digits, `_`; never `root` or the replication account).
    pub name: String,
    /// Password: environment variable holding it.
    pub password_env: Option<String>,
    /// Password: file holding it (`path` or `path#key`).
    pub password_file: Option<String>,
    /// Password: ask on the terminal.
    #[serde(default)]
    pub password_prompt: bool,
    /// Client networks: an IPv4 address (`10.0.0.5`), a CIDR block (`10.0.0.0/24`) or a
    /// pattern whose trailing octets are `%` (`10.0.0.%`). One account per network.
    #[serde(default)]
    pub networks: Vec<String>,
    /// Grants, each `PRIVILEGE[, PRIVILEGE...] ON db.*|db.table|*.*`; one string or a list.
    #[serde(default, deserialize_with = "one_or_many")]
    pub privileges: Vec<String>,
    /// Allows the network `%` (any host); mhactl still warns.
    #[serde(default)]
    pub allow_any_host: bool,
    /// Allows administrative grants: `ALL PRIVILEGES ON *.*`, `GRANT OPTION`, server
    /// administration privileges, and anything on the `mysql` system schema.
    #[serde(default)]
    pub admin: bool,
}

/// Where bootstrap installs packages from.
#[derive(Debug, Clone, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Packages {
    /// A mirror to install everything from, and nothing else (air-gapped sites): a
    /// yum/dnf repository (a directory with `repodata/`) or a flat apt repository (a
    /// directory with a `Packages` index), as `file:///path` on the nodes or an
    /// `http(s)://` URL. Bootstrap writes `/etc/yum.repos.d/mhactl.repo` or
    /// `/etc/apt/sources.list.d/mhactl.list` and installs with every other repository off.
    pub repository: Option<String>,
    /// The key the mirror's packages are signed with (yum: a `file://` or `http(s)://`
    /// URL; apt: a keyring file on the nodes). Without it, signatures are not checked.
    pub gpg_key: Option<String>,
    /// MySQL on EL without a mirror: the MySQL Yum repository's setup RPM to install
    /// (URL or path on the nodes); default the one from repo.mysql.com for the node's
    /// EL version.
    pub mysql_release_rpm: Option<String>,
    /// MySQL on EL7 without a mirror: where to get the key MySQL 5.7.37+ packages are
    /// signed with (the 2022 key, which the el7-11 setup RPM does not list), for
    /// `rpm --import`: a URL or a path on the nodes; default
    /// `https://repo.mysql.com/RPM-GPG-KEY-mysql-2022`.
    pub mysql_gpg_key: Option<String>,
}

/// What bootstrap does about a host firewall.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum FirewallMode {
    /// Detect firewalld, ufw or a default-drop nftables/iptables ruleset; open exactly
    /// what the pair needs with firewalld/ufw, stop with instructions otherwise.
    #[default]
    Auto,
    /// The firewall is managed by hand: bootstrap neither checks nor changes it.
    Manual,
}

/// Which node accepts application writes (`writes`). Replication stays master/master
/// in both modes; this only decides where clients may write.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq, Default)]
#[serde(rename_all = "kebab-case")]
pub enum WriteMode {
    /// Only the VIP holder is writable; the other node is read-only (`read_only`, and
    /// `super_read_only` on MySQL), so a client that reaches the passive node's own
    /// address cannot make the two nodes diverge. Enforced by the fence agent keepalived
    /// runs (docs/failover.md, "Write fencing").
    #[default]
    VipHolder,
    /// Both nodes are writable at all times (the runbook's literal design). A write
    /// to the passive node's own address is accepted and replicated, so two clients
    /// can update the same row on both nodes at once and the pair diverges silently.
    Both,
}

impl WriteMode {
    /// The mode as the inventory spells it.
    pub fn inventory_name(self) -> &'static str {
        match self {
            WriteMode::VipHolder => "vip-holder",
            WriteMode::Both => "both",
        }
    }
}

/// A string or a list of strings.
fn one_or_many<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    struct V;
    impl<'de> serde::de::Visitor<'de> for V {
        type Value = Vec<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a string like \"SELECT, INSERT ON app.*\" or a list of them")
        }
        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(vec![v.to_string()])
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(
            self,
            mut a: A,
        ) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(s) = a.next_element::<String>()? {
                out.push(s);
            }
            Ok(out)
        }
    }
    d.deserialize_any(V)
}

/// SSH settings for one node after merging node-level over inventory-level settings,
/// applying defaults and making paths absolute. This is what the SSH transport uses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedSsh {
    /// Where ssh connects: `ssh.host`, else the node's `address`.
    pub host: String,
    /// Remote user, when the inventory sets one (else ssh's own default).
    pub user: Option<String>,
    /// SSH port, when the inventory sets one (else ssh's own default).
    pub port: Option<u16>,
    /// Absolute path of the ssh config file (`ssh -F`), if one was given.
    pub config_file: Option<PathBuf>,
    /// Absolute path of the private key, if one was given.
    pub identity_file: Option<PathBuf>,
    /// Absolute path of the known_hosts file, if one was given.
    pub known_hosts: Option<PathBuf>,
    /// Host key policy (default [`HostKeyCheck::Strict`]).
    pub host_key_check: HostKeyCheck,
    /// TCP connect timeout (default 10 s).
    pub connect_timeout: Duration,
    /// How long the master connection stays up, idle, for the next run (default 60 s;
    /// zero: it ends with the run). See `transport::ssh::master`.
    pub persist: Duration,
}

impl Inventory {
    /// The node at `i` (0 or 1). Panics if `i` is out of range.
    pub fn node(&self, i: usize) -> &Node {
        &self.nodes[i]
    }

    /// Index (0 or 1) of the node named `name`.
    pub fn node_index(&self, name: &str) -> Option<usize> {
        self.nodes.iter().position(|n| n.name == name)
    }

    /// The other node of the pair. Panics unless `i` is 0 or 1 and there are two nodes
    /// (which a validated inventory guarantees).
    pub fn peer(&self, i: usize) -> &Node {
        assert!(i < 2, "node index {i} out of range (0 or 1)");
        &self.nodes[1 - i]
    }

    /// MySQL `server_id` of node `i`: the configured one, else `i + 1`.
    pub fn server_id(&self, i: usize) -> u32 {
        self.nodes
            .get(i)
            .and_then(|n| n.server_id)
            .unwrap_or(i as u32 + 1)
    }

    /// keepalived priority of node `i`: the configured one, else 100 for the first
    /// node and 90 for the second.
    pub fn priority(&self, i: usize) -> u8 {
        self.nodes
            .get(i)
            .and_then(|n| n.priority)
            .unwrap_or(DEFAULT_PRIORITIES[i.min(1)])
    }

    /// `auto_increment_offset` of node `i`: `i + 1` (the increment is 2).
    pub fn auto_increment_offset(&self, i: usize) -> u32 {
        i as u32 + 1
    }

    /// `auto_increment_increment` for every node: the number of masters (2).
    pub fn auto_increment_increment(&self) -> u32 {
        2
    }

    /// Databases never replicated: `mysql.ignore_databases` with `mysql` always included.
    pub fn ignored_databases(&self) -> Vec<String> {
        let mut dbs = self.mysql.ignore_databases.clone();
        if !dbs.iter().any(|d| d == "mysql") {
            dbs.insert(0, "mysql".to_string());
        }
        dbs
    }

    /// SSH settings of node `i`: node-level over inventory-level over defaults, with
    /// relative `identity_file`/`known_hosts` resolved against [`Inventory::base_dir`]
    /// (and a leading `~/` against `$HOME`). Panics if `i` is out of range.
    pub fn ssh_for(&self, i: usize) -> ResolvedSsh {
        let node = &self.nodes[i];
        let s = node.ssh.merged_over(&self.ssh);
        ResolvedSsh {
            host: s.host.unwrap_or_else(|| node.address.to_string()),
            user: s.user,
            port: s.port,
            config_file: s.config_file.map(|p| self.resolve_path(&p)),
            identity_file: s.identity_file.map(|p| self.resolve_path(&p)),
            known_hosts: s.known_hosts.map(|p| self.resolve_path(&p)),
            host_key_check: s.host_key_check.unwrap_or_default(),
            connect_timeout: Duration::from_secs(
                s.connect_timeout_s.unwrap_or(DEFAULT_SSH_CONNECT_TIMEOUT_S),
            ),
            persist: Duration::from_secs(s.persist_s.unwrap_or(DEFAULT_SSH_PERSIST_S)),
        }
    }

    /// Make a path from the inventory absolute: `~/x` against `$HOME`, a relative path
    /// against [`Inventory::base_dir`] (itself made absolute against the current
    /// directory if needed).
    pub fn resolve_path(&self, p: &Path) -> PathBuf {
        let expanded = match p.strip_prefix("~") {
            Ok(rest) => match std::env::var_os("HOME") {
                Some(home) if !home.is_empty() => PathBuf::from(home).join(rest),
                _ => p.to_path_buf(),
            },
            Err(_) => p.to_path_buf(),
        };
        let joined = if expanded.is_absolute() {
            expanded
        } else {
            self.base_dir.join(expanded)
        };
        std::path::absolute(&joined).unwrap_or(joined)
    }
}
