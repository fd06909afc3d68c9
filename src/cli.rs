//! The command line: argument parsing (clap), dispatch, and exit codes.
//!
//! Exit codes are decided in [`crate::error`] (0 success, 1 failure, 2 usage, 130/143
//! signals); clap's own parse errors exit 2 as well.

use crate::error::exit_code_for;
/// Kept at its old path for code that still names `cli::UsageError` (src/inventory/).
pub use crate::error::UsageError;
/// The lab's flags are owned by [`crate::lab`] (which must not depend on the command line).
pub use crate::lab::args::{LabCommand, LabDirArg, LabSshArgs, LabUpArgs};
use anyhow::Result;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Turn two Linux hosts into a dual-master MySQL/MariaDB pair behind a keepalived VIP.
#[derive(Debug, Parser)]
#[command(
    name = "mhactl",
    version,
    about,
    propagate_version = true,
    after_help = crate::help::MAIN
)]
pub struct Cli {
    /// Flags shared by every subcommand.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

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
    /// More output: every detail line of every step, and log messages (-v info, -vv debug).
    #[arg(short, long, global = true, action = clap::ArgAction::Count, conflicts_with = "quiet")]
    pub verbose: u8,
    /// Only errors and the final verdict (no progress, no tables).
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

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Install, configure and join both nodes into a dual-master pair behind the VIP.
    #[command(after_help = crate::help::BOOTSTRAP)]
    Bootstrap(BootstrapArgs),
    /// Check that the pair is healthy and consistent (read-only).
    #[command(after_help = crate::help::VERIFY)]
    Verify(VerifyArgs),
    /// Break the VIP holder and measure the VIP move and the write gap.
    #[command(after_help = crate::help::FAILOVER_TEST)]
    FailoverTest(FailoverArgs),
    /// Rebuild one node from its healthy peer (its data directory is moved aside).
    #[command(
        after_help = "Examples:\n  mhactl -i inventory.yaml reinit node-b --yes-destroy-data\n"
    )]
    Reinit(ReinitArgs),
    /// One screen: nodes, server versions, VIP holder, replication both ways, keepalived.
    #[command(after_help = crate::help::STATUS)]
    Status(StatusArgs),
    /// Write a commented inventory, from a few questions or from flags.
    #[command(after_help = crate::help::INIT)]
    Init(InitArgs),
    /// Print a shell completion script.
    #[command(after_help = crate::help::COMPLETIONS)]
    Completions(CompletionsArgs),
    /// Print the man page (or write one page per command into a directory).
    #[command(after_help = crate::help::MAN)]
    Man(ManArgs),
    /// Two real local test hosts (network, PID, mount and UTS namespaces).
    #[command(subcommand, after_help = crate::help::LAB)]
    Lab(LabCommand),
    /// Check an inventory file without touching any node.
    #[command(subcommand, after_help = crate::help::INVENTORY)]
    Inventory(crate::inventory_check::InventoryCommand),
}

/// `mhactl status` flags (the inventory and the format are the global `-i` and `--output`).
#[derive(Debug, Args)]
pub struct StatusArgs {}

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

/// `mhactl completions` arguments.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// `mhactl man` flags.
#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write mhactl.1 and one page per subcommand (mhactl-bootstrap.1, ...) into DIR
    /// instead of printing mhactl.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// `mhactl bootstrap` flags.
#[derive(Debug, Args)]
pub struct BootstrapArgs {
    /// Inventory file (same as the global `-i`).
    pub inventory_file: Option<PathBuf>,
    /// Show what each step would change, with diffs, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Print the unified diff of every file a step changes as it runs (a dry run always
    /// shows them; `--output json` always carries them in `steps[].diff`).
    #[arg(long)]
    pub diff: bool,
}

/// `mhactl verify` flags.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Also compare per-table checksums of the replicated databases across the nodes.
    #[arg(long)]
    pub checksum: bool,
    /// Run the checks again (every 2 s) until the pair is healthy or SECONDS have passed,
    /// then report the last result: for pipelines that verify right after a change
    /// (a restart, a failover) while replication reconnects.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
}

/// `mhactl failover-test` flags.
#[derive(Debug, Args)]
pub struct FailoverArgs {
    /// The fault to inject on the VIP holder.
    #[arg(long, value_enum, default_value = "stop-mysqld")]
    pub mode: FailoverMode,
    /// Seconds to keep writing after the fault (and, for `partition`, to stay cut off).
    #[arg(long = "duration", default_value_t = 10)]
    pub duration_s: u64,
    /// Milliseconds between the writer's inserts.
    #[arg(long, default_value_t = 20)]
    pub interval_ms: u64,
    /// Run even when verify finds the pair unhealthy.
    #[arg(long)]
    pub force: bool,
    /// Keep the probe table afterwards (the probe account is always dropped).
    #[arg(long)]
    pub keep: bool,
}

/// Faults `failover-test` can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailoverMode {
    /// A clean stop of the database service.
    StopMysqld,
    /// SIGKILL of the server (and of mysqld_safe, so it stays down): a crash.
    KillMysqld,
    /// A clean stop of keepalived.
    StopKeepalived,
    /// The holder's VIP interface goes down for the test's duration, then comes back.
    Partition,
}

impl FailoverMode {
    /// The mode's name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            FailoverMode::StopMysqld => "stop-mysqld",
            FailoverMode::KillMysqld => "kill-mysqld",
            FailoverMode::StopKeepalived => "stop-keepalived",
            FailoverMode::Partition => "partition",
        }
    }
}

/// `mhactl reinit` arguments.
#[derive(Debug, Args)]
pub struct ReinitArgs {
    /// The node to rebuild (its peer is the source of the data).
    pub node: String,
    /// Confirm that the node's data is replaced (the old data directory is kept aside).
    #[arg(long)]
    pub yes_destroy_data: bool,
}

/// Parse the process arguments, run, and turn the outcome into an exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    crate::interrupt::install();
    init_logging(&cli.global);
    crate::report::configure(&cli.global.report_options());
    let code = match run(cli) {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line: "bootstrap: node-a: install packages: ...".
            eprintln!("error: {err:#}");
            ExitCode::from(exit_code_for(&err))
        }
    };
    // A command that was asked to stop says so in its status even if it got to the end
    // (the signal came during its last step): a script sees 130/143 either way.
    match crate::interrupt::requested() {
        Some(sig) => ExitCode::from(sig.exit_code()),
        None => code,
    }
}

fn init_logging(global: &GlobalArgs) {
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("MHACTL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("mhactl={level}")));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Escape codes only on a terminal: piped stderr (CI logs, `2>file`) stays plain.
        .with_ansi(crate::report::colour_enabled(crate::report::Stream::Stderr))
        .with_target(false)
        .try_init();
}

fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Lab(cmd) => crate::lab::run(cmd),
        Command::Bootstrap(args) => crate::bootstrap::run(&args, &cli.global),
        Command::Verify(args) => crate::verify::run(&args, &cli.global),
        Command::FailoverTest(args) => crate::failover::run(&args, &cli.global),
        Command::Reinit(args) => crate::reinit::run(&args, &cli.global),
        Command::Status(args) => crate::status::run(&args, &cli.global),
        Command::Init(args) => crate::init::run(&args, &cli.global),
        Command::Completions(args) => crate::help::completions(args.shell),
        Command::Man(args) => crate::help::man(args.dir.as_deref()),
        Command::Inventory(cmd) => crate::inventory_check::run(&cmd, &cli.global),
    }
}
