//! The command line: argument parsing (clap), dispatch, and exit codes.
//!
//! Exit codes are decided in [`crate::error`] (0 success, 1 failure, 2 usage, 130/143
//! signals); clap's own parse errors exit 2 as well.

use crate::error::exit_code_for;
/// Kept at its old path for code that still names `cli::UsageError` (src/inventory/).
pub use crate::error::UsageError;
// Each command owns its flags, and the global ones are in `global`, so that no command
// depends on the command line; re-exported here under their old paths.
pub use crate::bootstrap::BootstrapArgs;
pub use crate::failover::{FailoverArgs, FailoverMode};
pub use crate::global::{GlobalArgs, OutputFormat};
pub use crate::init::InitArgs;
pub use crate::lab::args::{LabCommand, LabDirArg, LabSshArgs, LabUpArgs};
pub use crate::reinit::ReinitArgs;
pub use crate::status::StatusArgs;
pub use crate::verify::VerifyArgs;
use anyhow::Result;
use clap::{Args, CommandFactory, Parser, Subcommand};
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
    /// Move the VIP to the peer on purpose: fence, catch up, move, unfence; rolls back on any error.
    #[command(after_help = crate::help::SWITCHOVER)]
    Switchover(crate::switchover::SwitchoverArgs),
    /// New node certificates from the cluster's CA, loaded by the servers without a restart.
    #[command(after_help = "Examples:\n  mhactl -i inventory.yaml rotate-certs\n")]
    RotateCerts(crate::tls::rotate::RotateCertsArgs),
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
    /// Read a pair built by hand (read-only) and write an inventory and a risk report for it.
    #[command(after_help = crate::help::ADOPT)]
    Adopt(crate::adopt::AdoptArgs),
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
        Command::Switchover(args) => crate::switchover::run(&args, &cli.global),
        Command::Reinit(args) => crate::reinit::run(&args, &cli.global),
        Command::RotateCerts(args) => crate::tls::rotate::run(&args, &cli.global),
        Command::Status(args) => crate::status::run(&args, &cli.global),
        Command::Init(args) => crate::init::run(&args, &cli.global),
        Command::Completions(args) => crate::help::completions(Cli::command(), args.shell),
        Command::Man(args) => crate::help::man(Cli::command(), args.dir.as_deref()),
        Command::Inventory(cmd) => crate::inventory_check::run(&cmd, &cli.global),
        Command::Adopt(args) => crate::adopt::run(&args, &cli.global),
    }
}
