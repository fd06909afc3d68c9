//! The command line: argument parsing (clap), dispatch, and exit codes.
//!
//! Exit codes are decided in [`crate::error`] (0 success, 1 failure, 2 usage, 3
//! `bootstrap --check` with changes pending, 130/143 signals); clap's own parse errors
//! exit 2 as well. The grammar every command shares (the inventory as argument or `-i`,
//! global flags refused where a command ignores them) is [`crate::grammar`]'s.

use crate::error::exit_code_for;
/// Kept at its old path for code that still names `cli::UsageError` (src/inventory/).
pub use crate::error::UsageError;
// Each command owns its flags, and the global ones are in `global`, so that no command
// depends on the command line; re-exported here under their old paths.
pub use crate::bootstrap::BootstrapArgs;
pub use crate::failover::{FailoverArgs, FailoverMode};
pub use crate::global::{GlobalArgs, OutputFormat};
use crate::grammar::{CommandGrammar, Destructive, Given, WithInventory};
pub use crate::init::InitArgs;
pub use crate::lab::args::{LabCommand, LabDirArg, LabSshArgs, LabUpArgs};
pub use crate::reinit::ReinitArgs;
pub use crate::status::StatusArgs;
pub use crate::verify::VerifyArgs;
use anyhow::Result;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand};
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
    Verify(WithInventory<VerifyArgs>),
    /// Break the VIP holder and measure the VIP move and the write gap.
    #[command(after_help = crate::help::FAILOVER_TEST)]
    FailoverTest(Destructive<FailoverArgs>),
    /// Move the VIP to the peer on purpose: fence, catch up, move, unfence; rolls back on any error.
    #[command(after_help = crate::help::SWITCHOVER)]
    Switchover(Destructive<crate::switchover::SwitchoverArgs>),
    /// New node certificates from the cluster's CA, loaded by the servers without a restart.
    #[command(after_help = "Examples:\n  mhactl -i inventory.yaml rotate-certs\n")]
    RotateCerts(crate::tls::rotate::RotateCertsArgs),
    /// Rebuild one node from its healthy peer (its data directory is moved aside).
    #[command(
        after_help = "Examples:\n  mhactl reinit node-b inventory.yaml         # asks first on a terminal\n  mhactl -i inventory.yaml reinit node-b --yes\n"
    )]
    Reinit(Destructive<ReinitArgs>),
    /// One screen: nodes, server versions, VIP holder, replication both ways, keepalived.
    #[command(after_help = crate::help::STATUS)]
    Status(WithInventory<StatusArgs>),
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
    let matches = Cli::command().get_matches();
    let mut cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    crate::interrupt::install();
    if let Err(err) = init_logging(&cli.global, &cli.command) {
        eprintln!("error: {err:#}");
        return ExitCode::from(exit_code_for(&err));
    }
    crate::report::configure(&cli.global.report_options());
    crate::json_out::begin(command_name(&cli.command));
    let resolved = apply_grammar(&mut cli, &matches).and_then(|()| plan_fleet(&mut cli, &matches));
    let outcome = resolved.and_then(|plan| match plan {
        crate::fleet::Plan::Fleet { fleet, jobs } => {
            crate::fleet::summary::run(&fleet, jobs, &cli.global, command_name(&cli.command))
        }
        crate::fleet::Plan::Single { .. } => run(cli),
    });
    let code = match outcome {
        Ok(code) => code,
        Err(err) => {
            // `{:#}` prints the whole context chain on one line: "bootstrap: node-a: install packages: ...".
            crate::log_eprintln!("error: {err:#}");
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

/// The command as typed after `mhactl`, for messages and the log file's header.
fn command_name(command: &Command) -> &'static str {
    match command {
        Command::Bootstrap(_) => "bootstrap",
        Command::Verify(_) => "verify",
        Command::FailoverTest(_) => "failover-test",
        Command::Switchover(_) => "switchover",
        Command::RotateCerts(_) => "rotate-certs",
        Command::Reinit(_) => "reinit",
        Command::Status(_) => "status",
        Command::Init(_) => "init",
        Command::Completions(_) => "completions",
        Command::Man(_) => "man",
        Command::Lab(LabCommand::Up(_)) => "lab up",
        Command::Lab(LabCommand::Down(_)) => "lab down",
        Command::Lab(LabCommand::Status(_)) => "lab status",
        Command::Lab(LabCommand::Ssh(_)) => "lab ssh",
        Command::Inventory(_) => "inventory check",
        Command::Adopt(_) => "adopt",
    }
}

/// [`crate::grammar::resolve`] for the parsed command: its inventory argument and which
/// global flags it uses.
fn apply_grammar(cli: &mut Cli, matches: &clap::ArgMatches) -> Result<()> {
    let given = Given::from_matches(matches);
    let name = command_name(&cli.command);
    // adopt's minimal inventory is a required argument, and init's FILE (the inventory
    // it writes) has a default: both resolve through this slot, then are written back.
    let init_file_typed = matches
        .subcommand_matches("init")
        .and_then(|m| m.value_source("file"))
        == Some(clap::parser::ValueSource::CommandLine);
    let mut other: Option<PathBuf> = None;
    let (inventory, json, connects) = match &mut cli.command {
        Command::Bootstrap(a) => (Some(&mut a.inventory_file), true, true),
        Command::Verify(w) => (Some(&mut w.inventory_file), true, true),
        Command::Status(w) => (Some(&mut w.inventory_file), true, true),
        Command::FailoverTest(d) => (Some(&mut d.inventory_file), true, true),
        Command::Switchover(d) => (Some(&mut d.inventory_file), true, true),
        Command::Reinit(d) => {
            crate::grammar::node_first(&d.args.node, d.inventory_file.as_deref())?;
            (Some(&mut d.inventory_file), true, true)
        }
        Command::RotateCerts(a) => (Some(&mut a.inventory_file), true, true),
        Command::Inventory(crate::inventory_check::InventoryCommand::Check(a)) => {
            (Some(&mut a.file), true, false)
        }
        Command::Adopt(a) => {
            other = Some(a.minimal_inventory.clone());
            (Some(&mut other), true, true)
        }
        Command::Init(a) => {
            other = init_file_typed.then(|| a.file.clone());
            (Some(&mut other), true, false)
        }
        // lab ssh hands the terminal to ssh: no report to write.
        Command::Lab(LabCommand::Ssh(_)) => (None, false, false),
        Command::Lab(_) => (None, true, false),
        Command::Completions(_) | Command::Man(_) => (None, false, false),
    };
    let grammar = CommandGrammar {
        name,
        inventory,
        json,
        connects,
    };
    crate::grammar::resolve(&mut cli.global, &given, grammar)?;
    // `-i FILE init` writes FILE.
    if let (Command::Init(a), Some(file)) = (&mut cli.command, other) {
        if init_file_typed || given.inventory {
            a.file = file;
        }
    }
    Ok(())
}

/// What `--limit` and a fleet inventory mean for the parsed command
/// ([`crate::fleet::plan`]); for one cluster, its node limit is set in the command's
/// flags, and a per-cluster run of a fleet run writes JSON.
fn plan_fleet(cli: &mut Cli, matches: &clap::ArgMatches) -> Result<crate::fleet::Plan> {
    use crate::fleet::Reach;
    let reach = match &cli.command {
        Command::Bootstrap(_) | Command::Verify(_) | Command::Status(_) => {
            Reach::EachCluster { node_limit: true }
        }
        Command::RotateCerts(_) | Command::Inventory(_) => Reach::EachCluster { node_limit: false },
        Command::Switchover(_) | Command::FailoverTest(_) | Command::Reinit(_) => Reach::OnePair,
        Command::Adopt(_) => Reach::Adopt,
        Command::Init(_) | Command::Completions(_) | Command::Man(_) | Command::Lab(_) => {
            Reach::NoInventory
        }
    };
    let typed = |id: &str| matches.value_source(id) == Some(clap::parser::ValueSource::CommandLine);
    let typed = crate::fleet::Typed {
        limit: typed("limit"),
        forks: typed("forks"),
    };
    let plan = crate::fleet::plan(&cli.global, typed, command_name(&cli.command), reach)?;
    if let crate::fleet::Plan::Single { node, child } = &plan {
        if *child {
            cli.global.output = OutputFormat::Json;
        }
        match &mut cli.command {
            Command::Bootstrap(a) => a.limit = node.clone(),
            Command::Verify(w) => w.args.limit = node.clone(),
            Command::Status(w) => w.args.limit = node.clone(),
            _ => {}
        }
    }
    Ok(plan)
}

/// The tracing log on stderr (and into `--log-file`), at the level `-q`/`-v` choose.
fn init_logging(global: &GlobalArgs, command: &Command) -> Result<()> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    let level = match (global.quiet, global.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, _) => "debug",
    };
    if let Some(path) = &global.log_file {
        let header = format!(
            "== mhactl {} (pid {}) {}",
            command_name(command),
            std::process::id(),
            crate::log_file::now_utc()
        );
        crate::log_file::open(path, &header).map_err(|e| {
            UsageError(format!(
                "--log-file {}: cannot open it for appending: {e}",
                path.display()
            ))
        })?;
    }
    let filter = tracing_subscriber::EnvFilter::try_from_env("MHACTL_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("mhactl={level}")));
    let to_stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        // Escape codes only on a terminal: piped stderr (CI logs, `2>file`) stays plain.
        .with_ansi(crate::report::colour_enabled(crate::report::Stream::Stderr))
        .with_target(false);
    let to_file = crate::log_file::enabled().then(|| {
        tracing_subscriber::fmt::layer()
            .with_writer(|| crate::log_file::Writer)
            .with_ansi(false)
            .with_target(false)
    });
    let _ = tracing_subscriber::registry()
        .with(filter)
        .with(to_stderr)
        .with(to_file)
        .try_init();
    Ok(())
}

fn run(cli: Cli) -> Result<ExitCode> {
    let global = &cli.global;
    match cli.command {
        Command::Lab(cmd) => crate::lab::run(cmd, global.output == OutputFormat::Json),
        Command::Bootstrap(args) => crate::bootstrap::run(&args, global),
        Command::Verify(w) => crate::verify::run(&w.args, global),
        Command::FailoverTest(d) => {
            crate::confirm::failover_test(global, d.yes)?;
            crate::failover::run(&d.args, global)
        }
        Command::Switchover(d) => {
            if !d.args.dry_run {
                crate::confirm::switchover(global, d.yes)?;
            }
            crate::switchover::run(&d.args, global)
        }
        Command::Reinit(mut d) => {
            d.args.yes_destroy_data =
                crate::confirm::reinit(global, &d.args.node, d.yes || d.args.yes_destroy_data)?;
            crate::reinit::run(&d.args, global)
        }
        Command::RotateCerts(args) => crate::tls::rotate::run(&args, global),
        Command::Status(w) => crate::status::run(&w.args, global),
        Command::Init(args) => crate::init::run(&args, global),
        Command::Completions(args) => crate::help::completions(Cli::command(), args.shell),
        Command::Man(args) => crate::help::man(Cli::command(), args.dir.as_deref()),
        Command::Inventory(cmd) => crate::inventory_check::run(&cmd, global),
        Command::Adopt(args) => crate::adopt::run(&args, global),
    }
}
