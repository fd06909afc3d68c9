//! The flags every subcommand accepts (`-i`, `-v`, `-q`, `--output`, ...): parsed by
//! [`crate::cli`], read by the commands and [`crate::session`], which therefore do not
//! depend on the command line.

use clap::Args;
use std::path::PathBuf;

/// Flags every subcommand accepts.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Inventory file describing the cluster.
    #[arg(
        short,
        long,
        global = true,
        env = "MHACTL_INVENTORY",
        default_value = "inventory.yaml"
    )]
    pub inventory: PathBuf,
    /// More output: every detail line of every step and each step's plan (what it will
    /// run or write) before it is applied; -vv also logs every remote command.
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Quiet: only warnings, errors and the final verdict (no progress, no tables).
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Output format of the result.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub output: OutputFormat,
    /// Trust and record host keys of nodes seen for the first time (changed keys are
    /// still refused). Default: strict checking against known_hosts.
    #[arg(long, global = true)]
    pub accept_new_host_keys: bool,
    /// Plain lines instead of progress spinners, even on a terminal.
    #[arg(long, global = true)]
    pub no_progress: bool,
    /// Also append what goes to stderr at the chosen verbosity (progress lines,
    /// warnings, log messages, errors; never a secret) to PATH, without colours.
    #[arg(long, global = true, value_name = "PATH")]
    pub log_file: Option<PathBuf>,
    /// Act on part of the inventory: comma-separated patterns CLUSTER or CLUSTER/NODE
    /// (globs `*`, `?`, `[..]`; `!PATTERN` excludes). With one cluster's inventory, NODE
    /// alone: bootstrap, verify and status then run that node's steps or checks only
    /// (the peer is read, not changed). docs/fleet.md.
    #[arg(long, global = true, value_name = "PATTERN")]
    pub limit: Option<String>,
    /// Clusters of a fleet run at most N at a time (1-256).
    #[arg(long, global = true, value_name = "N", default_value_t = 5, value_parser = parse_forks)]
    pub forks: usize,
}

/// `--forks N`: 1 to 256.
fn parse_forks(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err(format!("`{s}` is not a whole number from 1 to 256")),
    }
}

impl GlobalArgs {
    /// What the report needs from the global flags.
    pub fn report_options(&self) -> crate::report::ReportOptions {
        crate::report::ReportOptions {
            quiet: self.quiet,
            verbose: self.verbose,
            no_progress: self.no_progress,
        }
    }
}

/// Result format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// A table for people.
    Text,
    /// JSON for scripts.
    Json,
}
