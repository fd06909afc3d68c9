//! `mhactl lab` flags (parsed by clap as part of [`crate::cli`], owned here so that the
//! lab does not depend on the command line).

use clap::{Args, Subcommand};
use std::path::PathBuf;

/// `mhactl lab` subcommands.
#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Build (or reuse) the base image and start two bare nodes.
    #[command(after_help = crate::help::LAB_UP)]
    Up(LabUpArgs),
    /// Stop the nodes and remove every namespace, mount, link and process of the lab.
    #[command(after_help = crate::help::LAB_DOWN)]
    Down(LabDirArg),
    /// Show the nodes, their addresses and the VIP holder.
    #[command(after_help = crate::help::LAB_STATUS)]
    Status(LabDirArg),
    /// Run a command on a node as root (an interactive shell without a command).
    #[command(after_help = crate::help::LAB_SSH)]
    Ssh(LabSshArgs),
}

/// The lab directory flag.
#[derive(Debug, Args)]
pub struct LabDirArg {
    /// Lab directory (state, keys, inventory).
    #[arg(long, default_value = super::DEFAULT_DIR)]
    pub dir: PathBuf,
}

/// `mhactl lab up` flags.
#[derive(Debug, Args)]
pub struct LabUpArgs {
    /// Lab directory.
    #[command(flatten)]
    pub dir: LabDirArg,
    /// Server flavor whose packages the lab's offline repository carries (the inventory
    /// of a `mariadb11` lab says `flavor: mariadb`, like any MariaDB).
    #[arg(long, value_enum, default_value = "mariadb")]
    pub flavor: super::LabFlavor,
    /// Private /24 the lab uses for its bridge, nodes and VIP (third octet).
    #[arg(long, default_value_t = super::DEFAULT_SUBNET_OCTET)]
    pub subnet: u8,
    /// Create this non-root user on both nodes, with the lab's key and sudo rights, and
    /// write it into the inventory (`ssh.user`): the model of a site that forbids root
    /// logins. Passwordless sudo unless `--sudo-password`.
    #[arg(long, value_name = "NAME", value_parser = super::sudo_user::parse_user_name)]
    pub ssh_user: Option<String>,
    /// With `--ssh-user`: sudo asks the user for a password, generated into secrets.yaml
    /// and referenced by the inventory (`ssh.become_password_file`).
    #[arg(long, requires = "ssh_user")]
    pub sudo_password: bool,
    /// Start N pairs (1-20), in DIR/pair1 ... on subnets N, N+1, ..., and write the
    /// fleet's inventory (docs/fleet.md) to DIR/inventory.yaml.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=20))]
    pub pairs: u8,
    /// With --pairs: the subnet of each pair, one per pair (default: --subnet, then the
    /// next ones).
    #[arg(
        long,
        value_name = "N,N,...",
        value_delimiter = ',',
        requires = "pairs"
    )]
    pub pair_subnets: Vec<u8>,
}

/// `mhactl lab ssh` arguments.
#[derive(Debug, Args)]
pub struct LabSshArgs {
    /// Lab directory.
    #[command(flatten)]
    pub dir: LabDirArg,
    /// Node name (`node-a` or `node-b`).
    pub node: String,
    /// Command to run; none opens a shell.
    #[arg(last = true)]
    pub command: Vec<String>,
}
