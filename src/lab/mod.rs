//! `mhactl lab`: two real local test hosts built from network, PID, mount and UTS namespaces.

use anyhow::Result;
use std::process::ExitCode;

/// Default lab directory.
pub const DEFAULT_DIR: &str = ".mhactl-lab";
/// Default third octet of the lab's private /24 (10.213.N.0/24).
pub const DEFAULT_SUBNET_OCTET: u8 = 0;

/// Server flavor the lab's offline package repository carries.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum LabFlavor {
    /// Debian bookworm with mariadb-server 10.11 and keepalived 2.2.
    Mariadb,
}

/// Run a `mhactl lab` subcommand.
pub fn run(_cmd: crate::cli::LabCommand) -> Result<ExitCode> {
    anyhow::bail!("not built yet")
}
