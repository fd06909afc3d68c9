//! `mhactl bootstrap`: connect to both nodes, then run the steps of [`steps`] through
//! the engine (both nodes in parallel, step by step), and report.

pub mod account_guard;
pub(crate) mod catch_up;
pub mod error_log;
pub mod firewall;
pub(crate) mod option_overrides;
pub mod path_safety;
pub mod paths;
mod platform;
pub(crate) mod restart_order;
pub(crate) mod rolling;
#[cfg(test)]
mod rolling_tests;
pub(crate) mod skip_errors_guard;
/// Moved below the commands (reinit confirms replication too); the old path still works.
pub use crate::replication_confirm;
/// The `replication` and `app-users` steps live with the others in [`steps`]; the old paths still work.
pub use steps::{app_users, replication};
#[cfg(test)]
mod restart_tests;
pub mod steps;
#[cfg(test)]
mod steps_tests;
#[cfg(test)]
mod transcripts;
mod vip_interface;

use crate::engine::{self, StepStatus};
use crate::global::{GlobalArgs, OutputFormat};
use crate::report;
use anyhow::Result;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Run `mhactl bootstrap`.
pub fn run(args: &BootstrapArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let path = args
        .inventory_file
        .clone()
        .unwrap_or_else(|| global.inventory.clone());
    let inv = crate::session::load(&path)?;
    let limit = args
        .limit
        .as_deref()
        .map(|name| crate::limit::node_index(&inv, name, &path))
        .transpose()?;
    for warning in inv.warnings() {
        // Once, plainly (a tracing warning as well would print it twice).
        tracing::debug!("{warning}");
        crate::log_eprintln!("warning: {warning}");
    }
    let secrets = crate::session::resolve_secrets(&inv)?;
    run_steps(
        StepsRun {
            command: "bootstrap",
            dry_run: args.dry_run || args.check,
            check: args.check,
            limit,
            // A dry run's summary on stdout always has the diffs; JSON has them in the report.
            diffs: args.diff,
            reads_before: Some(reads_before),
        },
        inv,
        secrets,
        global,
        |cluster, inv| {
            // Refusals that need the nodes' OS and interfaces: before any step runs.
            vip_interface::check(cluster, inv)?;
            for warning in platform::check(cluster, inv)? {
                crate::log_eprintln!("warning: {warning}");
            }
            Ok(())
        },
        steps::all,
    )
}

/// What bootstrap's checks before the steps read (the `before` of [`run`]), results
/// thrown away: [`StepsRun::reads_before`].
pub(crate) fn reads_before(cluster: &engine::Cluster, inv: &crate::inventory::Inventory) {
    let _ = vip_interface::check(cluster, inv);
    let _ = platform::check(cluster, inv);
}

/// Before the steps: `replication.positioning` as the pair runs it
/// ([`crate::positioning::resolve`] in `mode`). Issue 21: what it and `reads_before`
/// read (each node's server version, replica status, interfaces, OS) is planned ahead
/// and read in batches, both nodes at once ([`crate::facts::prefetch::warm`]), instead
/// of one read after another, node after node. The positioning then decides exactly as
/// before, from those values (inside a caching scope: the replica status is volatile),
/// read a few hundred milliseconds earlier in the same run and before anything changed;
/// the engine drops the volatile ones when it starts.
///
/// With `steps` (it plans the steps speculatively for an inventory, `engine::speculate`),
/// the same prefetch also reads what the steps will: the engine then starts from those
/// reads (`engine::run_limited`'s `read_just_now`) instead of one more batch per node.
pub(crate) fn resolve_before_steps(
    cluster: &engine::Cluster,
    inv: &mut crate::inventory::Inventory,
    mode: crate::positioning::Resolve,
    reads_before: Option<fn(&engine::Cluster, &crate::inventory::Inventory)>,
    steps: Option<&dyn Fn(&crate::inventory::Inventory)>,
) -> Result<()> {
    crate::facts::prefetch::warm(cluster, || {
        let mut ahead = inv.clone();
        let _ = crate::positioning::resolve(&mut ahead, cluster, mode);
        if let Some(reads) = reads_before {
            reads(cluster, inv);
        }
        if let Some(steps) = steps {
            steps(&ahead);
        }
    });
    crate::facts::cached(|| crate::positioning::resolve(inv, cluster, mode))
}

/// How a command that runs bootstrap steps runs them ([`run_steps`]).
pub(crate) struct StepsRun {
    /// The command's name: the node lock's holder, the summary's and messages' word.
    pub command: &'static str,
    /// Plan only.
    pub dry_run: bool,
    /// Print the diff of every file a step changed in the summary (a dry run always does).
    pub diffs: bool,
    /// `--check`: a dry run whose exit code says whether anything would change
    /// ([`crate::error::EXIT_CHANGES_PENDING`]).
    pub check: bool,
    /// `--limit`: the one node whose steps run ([`crate::limit`]).
    pub limit: Option<usize>,
    /// What the `before` check of [`run_steps`] reads, made without printing or changing
    /// anything (its results are thrown away): planned ahead with the positioning's reads
    /// so that they come in batches, both nodes at once ([`crate::facts::prefetch`]).
    /// `None`: `before`'s reads are made one by one.
    pub reads_before: Option<fn(&engine::Cluster, &crate::inventory::Inventory)>,
}

/// Connect to both nodes (locked for `run.command`), check `before` once connected, run
/// the steps `ops` makes through the engine and report them: bootstrap, and
/// `rotate-certs` with its two steps.
pub(crate) fn run_steps(
    run: StepsRun,
    inv: crate::inventory::Inventory,
    secrets: crate::inventory::Secrets,
    global: &GlobalArgs,
    before: impl FnOnce(&engine::Cluster, &crate::inventory::Inventory) -> Result<()>,
    ops: fn(Arc<steps::Ctx>) -> Vec<Box<dyn engine::Operation>>,
) -> Result<ExitCode> {
    let started = Instant::now();
    // Locking makes the run cooperative: a signal stops it between steps (see `engine::run`).
    let crate::session::Session {
        inv,
        secrets,
        connected,
    } = crate::session::Session::connect(
        inv,
        secrets,
        global,
        &crate::session::Opening {
            lock_for: Some(run.command),
            show_nodes: true,
            reachable_only: false,
        },
    );
    let (cluster, mut reports, progress) = (
        connected.cluster,
        connected.reports,
        connected.progress.with_plans(run.dry_run),
    );
    let ok_connect = reports.iter().all(|r| r.status != StepStatus::Failed);
    if ok_connect && crate::interrupt::requested().is_none() {
        let cluster = cluster.expect("connected");
        let mut inv = inv;
        // Only bootstrap converts a file/position pair (its `gtid-conversion` step).
        let mode = match run.command {
            "bootstrap" => crate::positioning::Resolve::Convert,
            _ => crate::positioning::Resolve::Refuse,
        };
        // The steps planned ahead with the positioning's reads (one prefetch for both);
        // `before` is a check and changes nothing on the nodes, so the engine starts from
        // those reads.
        let plan_steps = |ahead: &crate::inventory::Inventory| {
            let mut ctx = steps::Ctx::new(ahead.clone(), secrets.clone());
            ctx.limit = run.limit;
            engine::speculate(&cluster, &ops(Arc::new(ctx)), run.limit);
        };
        resolve_before_steps(
            &cluster,
            &mut inv,
            mode,
            run.reads_before,
            Some(&plan_steps),
        )?;
        before(&cluster, &inv)?;
        let mut ctx = steps::Ctx::new(inv, secrets);
        ctx.limit = run.limit;
        let ops = ops(Arc::new(ctx));
        reports.extend(engine::run_limited(
            &cluster,
            &ops,
            run.dry_run,
            &progress,
            run.limit,
            true,
        ));
    }
    progress.finish();
    let ok = reports.iter().all(|r| r.status != StepStatus::Failed);
    let changed = reports
        .iter()
        .filter(|r| r.status == StepStatus::Changed)
        .count();
    match global.output {
        // An interrupted run is not a converged one, whatever its finished steps say.
        OutputFormat::Json => report::print_json(
            ok && crate::interrupt::requested().is_none(),
            changed,
            &reports,
        )?,
        OutputFormat::Text => report::print_summary(
            run.command,
            run.dry_run,
            run.diffs,
            &reports,
            started.elapsed(),
        ),
    }
    if let Some(sig) = crate::interrupt::requested() {
        // The summary above shows what was done; the connections (and with them the
        // node locks and the private socket directories) go when `cluster` is dropped.
        let last = reports.last().map(|r| r.step.as_str()).unwrap_or("connect");
        let command = run.command;
        return Err(
            anyhow::Error::from(crate::interrupt::Interrupted(sig)).context(format!(
                "{command} stopped after step {last}; every step is either done or not started, \
                 so running `mhactl {command}` again finishes the job"
            )),
        );
    }
    // Skipped steps in a dry run follow a pending change on their node, so `changed`
    // alone tells whether the pair has drifted.
    Ok(if !ok {
        ExitCode::from(1)
    } else if run.check && changed > 0 {
        ExitCode::from(crate::error::EXIT_CHANGES_PENDING)
    } else {
        ExitCode::SUCCESS
    })
}

/// `mhactl bootstrap` flags.
#[derive(Debug, clap::Args)]
pub struct BootstrapArgs {
    /// Inventory file (same as the global `-i`).
    pub inventory_file: Option<std::path::PathBuf>,
    /// Show what each step would change, with diffs, and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// A dry run for CI: exit 0 when nothing would change, 3 when changes are pending
    /// (1 a failure, 2 a usage or inventory error).
    #[arg(long)]
    pub check: bool,
    /// Run the steps on this node only; the peer is read but not changed, steps about
    /// the pair are skipped, and a restart of the VIP holder is refused (docs/errors.md).
    // Set from the global `--limit` (crate::fleet::plan), which selects the node.
    #[arg(skip)]
    pub limit: Option<String>,
    /// Print the unified diff of every file a step changed on standard output after the
    /// run, in the form `patch -p1` takes (a dry run always shows them; `--output json`
    /// always carries them in `steps[].diff`).
    #[arg(long)]
    pub diff: bool,
}
