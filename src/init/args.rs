//! `mhactl init` flags (owned here, so that init does not depend on the command line).

use clap::Args;
use std::path::PathBuf;

/// `mhactl init` flags. Anything not given is asked on a terminal; without one, the
/// required values (`--cluster`, two `--node`, `--vip`) must be flags.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// File to write (`-` for standard output).
    #[arg(value_name = "FILE", default_value = "inventory.yaml")]
    pub file: PathBuf,
    /// Replace FILE if it exists.
    #[arg(long)]
    pub force: bool,
    /// Cluster name (letters, digits, `_`, `-`).
    #[arg(long)]
    pub cluster: Option<String>,
    /// A node as NAME=ADDRESS; give it twice, first node first.
    #[arg(long = "node", value_name = "NAME=ADDRESS", value_parser = crate::init::parse_node)]
    pub nodes: Vec<(String, std::net::Ipv4Addr)>,
    /// The virtual IP with its prefix length (10.0.0.100/24).
    #[arg(long, value_name = "ADDRESS/PREFIX", value_parser = crate::init::parse_vip)]
    pub vip: Option<(std::net::Ipv4Addr, u8)>,
    /// Interface carrying the VIP on both nodes [default: eth0].
    #[arg(long)]
    pub interface: Option<String>,
    /// VRRP virtual router id, unique on the segment [default: derived from the cluster name].
    #[arg(long, value_parser = clap::value_parser!(u8).range(1..=255))]
    pub virtual_router_id: Option<u8>,
    /// Server flavor [default: mariadb].
    #[arg(long, value_enum)]
    pub flavor: Option<crate::init::InitFlavor>,
    /// SSH user on both nodes [default: root].
    #[arg(long)]
    pub ssh_user: Option<String>,
    /// SSH private key (relative paths are relative to FILE's directory).
    #[arg(long, value_name = "PATH")]
    pub identity_file: Option<PathBuf>,
    /// known_hosts file with the nodes' host keys.
    #[arg(long, value_name = "PATH")]
    pub known_hosts: Option<PathBuf>,
    /// Environment variable holding the replication password [default: MHACTL_REPLICATION_PASSWORD].
    #[arg(long, value_name = "VAR", conflicts_with = "replication_password_file")]
    pub replication_password_env: Option<String>,
    /// File holding the replication password (PATH, or PATH#KEY for a YAML mapping).
    #[arg(long, value_name = "PATH[#KEY]")]
    pub replication_password_file: Option<String>,
}
