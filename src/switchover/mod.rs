//! `mhactl switchover`: move the VIP to the peer on purpose, without losing or
//! splitting a write: pre-flight (read-only, refuses with the node and the reason),
//! then hold + fence the old holder, capture its position after the fence, wait for the
//! peer to execute up to it, prove it, move the VIP through keepalived's tracked release
//! file, unfence the new holder, end leftover sessions, canary; any error, timeout or
//! signal rolls back to the starting state. See docs/switchover.md.
//!
//! Also a library: [`switch_over`] takes an already open (and locked) [`Cluster`], so
//! that bootstrap can move the VIP away from a node it must restart.

mod actions;
mod gtid_gap;
mod measure;
mod preflight;
mod release;
mod report;
mod steps;

use crate::engine::Cluster;
use crate::global::{GlobalArgs, OutputFormat};
use crate::interrupt::UndoStack;
use crate::inventory::{Inventory, Secrets};
use anyhow::{anyhow, bail, Result};
use std::process::ExitCode;
use std::time::Instant;

pub use preflight::{read_state, NodeState, PairState};
pub use release::VipRelease;
pub use report::{render_text, Measurement, Outcome, StepRecord, SwitchoverReport};
pub use steps::FAIL_AT_ENV;

/// What a switchover may do and how long it may wait.
#[derive(Debug, Clone)]
pub struct SwitchoverOptions {
    /// The node that should hold the VIP (`None`: the peer of the current holder).
    pub to: Option<String>,
    /// Print the plan with the current state; change nothing.
    pub dry_run: bool,
    /// Refuse when either node's replication lags more than this (seconds).
    pub max_lag_s: u64,
    /// Refuse when the holder has a write transaction open longer than this (seconds).
    pub max_trx_age_s: u64,
    /// Bound of the peer's catch-up wait and of the VIP's move, each (seconds).
    pub timeout_s: u64,
    /// Run a writer through the VIP and report the write gap and lost writes.
    pub measure: bool,
    /// Milliseconds between the writer's inserts (`--measure`).
    pub interval_ms: u64,
    /// How the old holder lets go of the VIP (bootstrap stops a keepalived whose
    /// configuration mhactl did not write; the command always uses the release file).
    pub release: VipRelease,
    /// Statements run on the new holder once it executed everything the old one took,
    /// before the VIP moves (bootstrap: the durability its catch-up relaxed, so the new
    /// holder takes writes only with it back). Empty for the command.
    pub before_vip_move: Vec<String>,
}

impl Default for SwitchoverOptions {
    fn default() -> Self {
        SwitchoverOptions {
            to: None,
            dry_run: false,
            max_lag_s: 5,
            max_trx_age_s: 5,
            timeout_s: 10,
            measure: false,
            interval_ms: 20,
            release: VipRelease::TrackedFile,
            before_vip_move: Vec::new(),
        }
    }
}

/// Pre-flight found a reason not to switch; nothing was changed.
#[derive(Debug, Clone)]
pub struct Refused {
    /// The node the reason is about.
    pub node: String,
    /// Why.
    pub reason: String,
}

impl std::fmt::Display for Refused {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.node, self.reason)
    }
}
impl std::error::Error for Refused {}

/// A switchover stopped by an error, a timeout or a signal, after its rollback (the
/// report says what was undone and what could not be). Downcast an error to it.
#[derive(Debug, Clone)]
pub struct RolledBack(pub Box<SwitchoverReport>);

impl std::fmt::Display for RolledBack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let r = &self.0;
        if r.rollback_problems.is_empty() {
            write!(
                f,
                "switchover {} -> {} failed and was rolled back: {} holds the VIP",
                r.old_holder, r.to, r.new_holder
            )
        } else {
            write!(
                f,
                "switchover {} -> {} failed and the rollback did not finish: {}",
                r.old_holder,
                r.to,
                r.rollback_problems.join("; ")
            )
        }
    }
}

/// Move the VIP from its holder to the peer (or to `opts.to`) with every safety step,
/// on an open cluster whose node locks the caller holds. `Ok`: switched, nothing to do
/// (Noop) or a dry run. `Err`: refused ([`Refused`] in the chain: nothing changed),
/// rolled back ([`RolledBack`]: the pair is as it was, unless its report lists
/// problems), an invalid `to` ([`crate::error::UsageError`]), or a signal after the
/// rollback ([`crate::interrupt::Interrupted`] in the chain).
pub fn switch_over(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    opts: &SwitchoverOptions,
    say: &dyn Fn(&str),
) -> Result<SwitchoverReport> {
    let started = Instant::now();
    if cluster.nodes.len() != 2 {
        bail!("a switchover needs both nodes connected");
    }
    let target = match &opts.to {
        Some(name) => Some(
            cluster
                .nodes
                .iter()
                .position(|n| &n.name == name)
                .ok_or_else(|| {
                    anyhow!(crate::error::UsageError(format!(
                        "--to {name}: no such node in the inventory (nodes: {})",
                        cluster
                            .nodes
                            .iter()
                            .map(|n| n.name.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )))
                })?,
        ),
        None => None,
    };
    let t = Instant::now();
    let state = read_state(cluster, inv)?;
    let holders = state.holders();
    let [old] = holders[..] else {
        return Err(anyhow!(Refused {
            node: "pair".into(),
            reason: format!(
                "the VIP must be on exactly one node (it is on {})",
                holders.len()
            ),
        }));
    };
    let new = 1 - old;
    let (o, n) = (
        cluster.nodes[old].name.as_str(),
        cluster.nodes[new].name.as_str(),
    );
    if target == Some(old) {
        let mut r = SwitchoverReport::new(Outcome::Noop, o, o);
        r.total_s = started.elapsed().as_secs_f64();
        say(&format!("{o} already holds the VIP: nothing to do"));
        return Ok(r);
    }
    let refusals = preflight::refusals(cluster, &state, old, opts)?;
    let preflight_step = StepRecord {
        name: "preflight".into(),
        duration_s: t.elapsed().as_secs_f64(),
        detail: if refusals.is_empty() {
            format!("{o} holds the VIP; both directions replicate, lag <= {} s, no write transaction older than {} s; keepalived runs on both", opts.max_lag_s, opts.max_trx_age_s)
        } else {
            refusals
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        },
    };
    if !refusals.is_empty() {
        let first = refusals[0].clone();
        let all: Vec<String> = refusals.iter().map(|r| r.to_string()).collect();
        let mut r = SwitchoverReport::new(Outcome::Refused, o, n);
        r.steps.push(preflight_step);
        r.error = Some(all.join("; "));
        r.total_s = started.elapsed().as_secs_f64();
        return Err(anyhow!(Refused {
            node: first.node,
            reason: if all.len() > 1 {
                format!("{} (and: {})", first.reason, all[1..].join("; "))
            } else {
                first.reason
            },
        })
        .context(RefusedReport(Box::new(r))));
    }
    let mut report = SwitchoverReport::new(Outcome::Switched, o, n);
    report.plan = preflight::plan(cluster, &state, old, opts);
    report.steps.push(preflight_step);
    if opts.dry_run {
        report.outcome = Outcome::DryRun;
        report.new_holder = n.into();
        report.total_s = started.elapsed().as_secs_f64();
        return Ok(report);
    }

    let ctx = steps::Ctx {
        cluster,
        inv,
        secrets,
        opts,
        state: &state,
        old,
        new,
        say,
    };
    let undo = UndoStack::new();
    let mut measuring: Option<measure::MeasureRun> = None;
    let result = (|| -> Result<Option<Instant>> {
        let mut rec = steps::Recorder {
            report: &mut report,
        };
        if opts.release == VipRelease::TrackedFile {
            steps::prepare_tracking(&ctx, &mut rec)?;
        }
        if opts.measure {
            measuring = Some(measure::start(
                cluster,
                inv,
                old,
                opts.interval_ms,
                &undo,
                say,
            )?);
        }
        let mut on_fenced = || {
            if let Some(m) = measuring.as_mut() {
                m.fenced_at_s = Some(m.now_s());
            }
        };
        let fenced = steps::switch(&ctx, &undo, &mut rec, &mut on_fenced)?;
        Ok(Some(fenced.at))
    })();
    match result {
        Ok(_) => {
            if let Some(m) = measuring.take() {
                let old_id = state.nodes[old].server_id.parse().unwrap_or(0);
                match measure::finish(m, cluster, new, old_id) {
                    Ok(mm) => {
                        if mm.writes_lost > 0 || mm.writes_on_old_after_fence > 0 {
                            report.ok = false;
                        }
                        report.measure = Some(mm);
                    }
                    Err(e) => {
                        report.ok = false;
                        report.error = Some(format!("measuring: {e:#}"));
                    }
                }
            }
            // The probe's account and table go now (registered on the undo stack).
            let problems = undo.unwind();
            if !problems.is_empty() {
                report.ok = false;
                report.error = Some(problems.join("; "));
            }
            report.total_s = started.elapsed().as_secs_f64();
            Ok(report)
        }
        Err(e) => {
            if let Some(m) = measuring.take() {
                m.abandon();
            }
            say(&format!("{e:#}: rolling back"));
            report.rollback_problems = undo.unwind();
            report.outcome = Outcome::RolledBack;
            report.ok = false;
            // Where the VIP really is now (the rollback may have had to leave it on the
            // new holder: its report says why).
            let now: Vec<&str> = cluster
                .nodes
                .iter()
                .filter(|n| actions::holds_vip_now(n, inv).unwrap_or(false))
                .map(|n| n.name.as_str())
                .collect();
            report.new_holder = match now[..] {
                [one] => one.into(),
                [] => "none".into(),
                _ => now.join("+"),
            };
            report.error = Some(cluster.redact(&format!("{e:#}")));
            report.total_s = started.elapsed().as_secs_f64();
            Err(e.context(RolledBack(Box::new(report))))
        }
    }
}

/// The report of a refused switchover (context of its [`Refused`] error).
#[derive(Debug, Clone)]
pub struct RefusedReport(pub Box<SwitchoverReport>);

impl std::fmt::Display for RefusedReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "switchover refused, nothing changed")
    }
}

/// The report carried by a switchover error, if any (refused or rolled back).
pub fn report_of(err: &anyhow::Error) -> Option<&SwitchoverReport> {
    if let Some(r) = err.downcast_ref::<RolledBack>() {
        return Some(&r.0);
    }
    err.downcast_ref::<RefusedReport>().map(|r| r.0.as_ref())
}

/// `mhactl switchover` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct SwitchoverArgs {
    /// The node that should hold the VIP (default: the peer of the current holder).
    /// Naming the current holder does nothing and says so.
    #[arg(long, value_name = "NODE")]
    pub to: Option<String>,
    /// Print the plan with the current state and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Write through the VIP during the switch and report the write gap, failed
    /// attempts, acknowledged writes lost, and writes the old holder took after its fence.
    #[arg(long)]
    pub measure: bool,
    /// Seconds the peer may take to execute the old holder's last writes, and the VIP
    /// to move, each; past it everything is rolled back.
    #[arg(long = "timeout", value_name = "S", default_value_t = 10)]
    pub timeout_s: u64,
    /// Refuse when either node's replication lags more than S seconds.
    #[arg(long = "max-lag", value_name = "S", default_value_t = 5)]
    pub max_lag_s: u64,
    /// Refuse when the holder has a write transaction open longer than S seconds.
    #[arg(long = "max-trx-age", value_name = "S", default_value_t = 5)]
    pub max_trx_age_s: u64,
    /// Milliseconds between the writer's inserts (`--measure`).
    #[arg(long, default_value_t = 20, hide = true)]
    pub interval_ms: u64,
}

/// Run `mhactl switchover`.
pub fn run(args: &SwitchoverArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let inv = crate::session::load(&global.inventory)?;
    if let Some(to) = &args.to {
        if !inv.nodes.iter().any(|n| &n.name == to) {
            let names: Vec<&str> = inv.nodes.iter().map(|n| n.name.as_str()).collect();
            return Err(anyhow!(crate::error::UsageError(format!(
                "--to {to}: no such node in {} (nodes: {})",
                global.inventory.display(),
                names.join(", ")
            ))));
        }
    }
    let secrets = crate::session::resolve_secrets(&inv)?;
    // A dry run changes nothing: no lock, and a signal ends it at once.
    let lock = if args.dry_run {
        None
    } else {
        Some("switchover")
    };
    let opening = crate::session::Opening {
        lock_for: lock,
        ..Default::default()
    };
    let session = crate::session::Session::connect(inv, secrets, global, &opening);
    let Some(cluster) = session.connected.cluster.as_ref() else {
        let why: Vec<String> = session
            .connected
            .reports
            .iter()
            .map(|r| format!("{}: {}", r.node, r.detail))
            .collect();
        bail!("cannot connect: {}", why.join("; "));
    };
    let opts = SwitchoverOptions {
        to: args.to.clone(),
        dry_run: args.dry_run,
        max_lag_s: args.max_lag_s,
        max_trx_age_s: args.max_trx_age_s,
        timeout_s: args.timeout_s,
        measure: args.measure,
        interval_ms: args.interval_ms.max(1),
        release: VipRelease::TrackedFile,
        before_vip_move: Vec::new(),
    };
    let quiet = global.quiet || global.output == OutputFormat::Json;
    let say = |line: &str| {
        if !quiet {
            crate::log_eprintln!("switchover: {line}");
        }
    };
    let result = switch_over(cluster, &session.inv, &session.secrets, &opts, &say);
    let print = |r: &SwitchoverReport| -> Result<()> {
        match global.output {
            OutputFormat::Json => crate::json_out::print(None, r)?,
            OutputFormat::Text => print!("{}", render_text(r)),
        }
        Ok(())
    };
    match result {
        Ok(r) => {
            print(&r)?;
            Ok(if r.ok {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            })
        }
        Err(e) => {
            if let Some(r) = report_of(&e) {
                print(r)?;
            }
            Err(e)
        }
    }
}
