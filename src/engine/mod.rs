//! Facts → operations → engine (the pyinfra idea).
//!
//! An [`Operation`] reads facts from a node and returns a [`Plan`]: `Noop(reason)` when
//! the node is already as wanted, or a [`Change`] (the actions to run and, for files,
//! a unified diff). The engine runs the operations in order, each on both nodes in
//! parallel; it applies a change, then plans again and treats anything but `Noop` as a
//! bug in the operation. Dry runs stop after planning, so they show exactly what a real
//! run would do, and a re-run on a converged cluster reports every step unchanged.

use crate::transport::RemoteCommand;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// The outcome of planning one operation on one node.
#[derive(Debug)]
pub enum Plan {
    /// Nothing to do, and why.
    Noop(String),
    /// Something to change.
    Change(Change),
}

/// A planned change: a one-line summary, the actions, and a diff for files.
#[derive(Debug, Default)]
pub struct Change {
    /// What will change, in a few words ("write /etc/keepalived/keepalived.conf").
    pub summary: String,
    /// The actions, run in order.
    pub actions: Vec<Action>,
    /// A unified diff of the files the change writes.
    pub diff: Option<String>,
}

/// One thing the engine does to a node.
pub enum Action {
    /// Run a shell command.
    Run(RemoteCommand),
    /// Write a file atomically with a mode.
    WriteFile {
        /// Destination path on the node.
        path: PathBuf,
        /// New content.
        content: String,
        /// File mode (e.g. 0o644).
        mode: u32,
    },
    /// Run SQL statements through the node's admin connection.
    Sql(Vec<String>),
    /// Run code that needs the cluster (e.g. waits that poll both nodes).
    Custom(String, CustomAction),
}

/// Code run against the cluster for node `index` (see [`Action::Custom`]).
pub type CustomAction = Box<dyn Fn(&Cluster, usize) -> Result<()> + Send + Sync>;

impl std::fmt::Debug for Action {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Action {
    /// A short description for dry runs and errors (may contain secrets: redact it).
    pub fn describe(&self) -> String {
        match self {
            Action::Run(cmd) => format!("run: {}", cmd.script),
            Action::WriteFile { path, mode, .. } => {
                format!("write {} (mode {mode:o})", path.display())
            }
            Action::Sql(statements) => crate::mask::mask(
                crate::mask::FileKind::Other,
                &format!("sql: {}", statements.join("; ")),
            ),
            Action::Custom(what, _) => what.clone(),
        }
    }
}

// The nodes and the cluster the operations run against live in `cluster.rs`.
mod cluster;
// Planning a dry run's later steps after pending changes.
mod predict;
// What a running action is doing, for the step's progress line.
pub mod activity;
pub use cluster::{
    redact, Cluster, FenceLifted, LoginConnector, NodeHandle, Row, SqlConn, SqlConnector,
};
pub use predict::predicting;

/// A step of a run: an operation that plans per node.
pub trait Operation: Send + Sync {
    /// Stable step name ("install-packages").
    fn name(&self) -> &'static str;
    /// Read facts from node `index` (and its peer, if needed) and plan.
    fn plan(&self, cluster: &Cluster, index: usize) -> Result<Plan>;
    /// `true` for checks about the pair as a whole: planned once, reported for the cluster.
    fn cluster_wide(&self) -> bool {
        false
    }
    /// `true` for a cluster-wide step that changes the pair rather than checks it (MySQL's
    /// GTID conversion): a dry run plans it after earlier pending changes like a node's
    /// step (predicted; skipped when its plan needs them) instead of skipping it.
    fn plans_after_pending(&self) -> bool {
        false
    }
}

/// What happened to one step on one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepStatus {
    /// Nothing needed doing.
    Unchanged,
    /// Changed (or, in a dry run, would change).
    Changed,
    /// Failed: the run stops after this step.
    Failed,
    /// Not planned because an earlier step failed or (dry run) has pending changes.
    Skipped,
}

/// One line of a run's report.
#[derive(Debug, Clone, Serialize)]
pub struct StepReport {
    /// Node name.
    pub node: String,
    /// Step name.
    pub step: String,
    /// Outcome.
    pub status: StepStatus,
    /// Why unchanged, what changed, or the error (secrets redacted).
    pub detail: String,
    /// Unified diff of files written (dry run and real runs; secrets redacted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// Milliseconds spent.
    pub ms: u128,
}

/// Receives step reports as they happen (progress bars, plain lines).
pub trait Observer: Sync {
    /// A step started on a node.
    fn started(&self, _node: &str, _step: &str) {}
    /// A step finished on a node.
    fn finished(&self, _report: &StepReport) {}
    /// A step was planned on a node (before anything of the plan is applied).
    fn planned(&self, _node: &str, _step: &str, _plan: &Plan) {}
    /// What a planned change will do (its summary, then one line per action; secrets
    /// redacted), before it is applied; not called in a dry run, whose report has it.
    fn plan_detail(&self, _node: &str, _step: &str, _detail: &str) {}
    /// A step's change was applied on a node (before it is planned again).
    fn applied(&self, _node: &str, _step: &str) {}
    /// A step was planned again after its change was applied.
    fn replanned(&self, _node: &str, _step: &str, _plan: &Plan) {}
    /// Where a step's actions say what they are doing while they run ([`activity`]);
    /// `None` (the default) leaves such reports unshown.
    fn activity_sink(&self) -> Option<std::sync::Arc<dyn activity::ActivitySink>> {
        None
    }
}

/// An observer that shows nothing.
pub struct Silent;
impl Observer for Silent {}

/// Run `ops` in order; each on every node in parallel. Stops after the first step that
/// fails on any node, and between steps once SIGINT/SIGTERM arrived (a step that has
/// started finishes, so every step is either done or not; see [`crate::interrupt`]).
/// In a dry run nothing is applied: a node with a pending change still plans its later
/// steps, [`predicting`] (from what the earlier changes say they produce: the packages'
/// candidate versions, the rendered files); a step whose plan needs what only applying
/// them makes (a running server, keepalived holding the VIP) is reported skipped, naming
/// the earlier steps and what it would have read.
pub fn run(
    cluster: &Cluster,
    ops: &[Box<dyn Operation>],
    dry_run: bool,
    observer: &dyn Observer,
) -> Vec<StepReport> {
    run_nodes(cluster, ops, dry_run, observer, false)
}

/// [`run`] on one node only (`--limit`, see [`crate::limit`]): each step on node
/// `limit`; a step about the pair ([`Operation::cluster_wide`]) is not run and reported
/// `skipped` with the reason. `None`: [`run`].
///
/// With `read_just_now`, the caller has just read what the steps need (a prefetch that
/// planned them, [`speculate`]) and changed nothing on the nodes since: those reads are
/// kept instead of being dropped first (they are a few hundred milliseconds old, as any
/// prefetch's are when its steps plan), so the run does not read them all again.
pub fn run_limited(
    cluster: &Cluster,
    ops: &[Box<dyn Operation>],
    dry_run: bool,
    observer: &dyn Observer,
    limit: Option<usize>,
    read_just_now: bool,
) -> Vec<StepReport> {
    run_inner(cluster, ops, dry_run, observer, false, limit, read_just_now)
}

/// [`run`]; with `in_order`, a step's nodes run one after the other, in the cluster's
/// order (the golden transcripts: their recorded hosts answer one node at a time).
pub(crate) fn run_nodes(
    cluster: &Cluster,
    ops: &[Box<dyn Operation>],
    dry_run: bool,
    observer: &dyn Observer,
    in_order: bool,
) -> Vec<StepReport> {
    run_inner(cluster, ops, dry_run, observer, in_order, None, false)
}

fn run_inner(
    cluster: &Cluster,
    ops: &[Box<dyn Operation>],
    dry_run: bool,
    observer: &dyn Observer,
    in_order: bool,
    limit: Option<usize>,
    read_just_now: bool,
) -> Vec<StepReport> {
    // Whatever changed the nodes since facts were last cached (reinit's own commands,
    // a previous run in this process) did not go through this run's engine.
    if !read_just_now {
        crate::facts::changed(cluster);
    }
    // Read what the steps will need in a few batches (facts::prefetch); not for the
    // golden transcripts (`in_order`), whose recorded hosts answer one command at a time.
    let warm = |from: usize| {
        if !in_order {
            crate::facts::prefetch::warm(cluster, || speculate(cluster, &ops[from..], limit));
        }
    };
    warm(0);
    let mut reports = Vec::new();
    // Per node, the steps whose changes a dry run has planned and not applied.
    let mut pending: Vec<Vec<&'static str>> = vec![Vec::new(); cluster.nodes.len()];
    let mut failed = false;
    for (k, op) in ops.iter().enumerate() {
        if failed || crate::interrupt::requested().is_some() {
            break;
        }
        let nodes = match limit {
            Some(_) if op.cluster_wide() => {
                let report = StepReport {
                    node: "cluster".into(),
                    step: op.name().to_string(),
                    status: StepStatus::Skipped,
                    detail: crate::limit::PAIR_STEP_SKIPPED.to_string(),
                    diff: None,
                    ms: 0,
                };
                observer.finished(&report);
                reports.push(report);
                continue;
            }
            Some(i) => &cluster.nodes[i..=i],
            None if op.cluster_wide() => &cluster.nodes[..1],
            None => &cluster.nodes[..],
        };
        let step = |node: &NodeHandle| {
            let before: &[&'static str] = if dry_run { &pending[node.index] } else { &[] };
            run_step(cluster, op.as_ref(), node, dry_run, before, observer)
        };
        let step_reports: Vec<StepReport> = if in_order {
            nodes.iter().map(step).collect()
        } else {
            std::thread::scope(|scope| {
                let handles: Vec<_> = nodes.iter().map(|n| scope.spawn(move || step(n))).collect();
                handles
                    .into_iter()
                    .map(|h| h.join().expect("step thread panicked"))
                    .collect()
            })
        };
        // A change dropped the volatile facts: batch the later steps' reads again.
        if !dry_run
            && !step_reports.iter().any(|r| r.status == StepStatus::Failed)
            && step_reports.iter().any(|r| r.status == StepStatus::Changed)
        {
            warm(k + 1);
        }
        for report in step_reports {
            if report.status == StepStatus::Failed {
                failed = true;
            }
            if dry_run && report.status == StepStatus::Changed {
                if let Some(i) = cluster.nodes.iter().position(|n| n.name == report.node) {
                    pending[i].push(op.name());
                }
            }
            reports.push(report);
        }
    }
    crate::facts::prefetch::forget_read_ahead(cluster);
    reports
}

/// Plan `ops` as the run would, for [`crate::facts::prefetch::warm`]: what they return
/// is thrown away; what matters is what they read.
pub(crate) fn speculate(cluster: &Cluster, ops: &[Box<dyn Operation>], limit: Option<usize>) {
    for op in ops {
        let nodes = match limit {
            Some(_) if op.cluster_wide() => continue,
            Some(i) => &cluster.nodes[i..=i],
            None if op.cluster_wide() => &cluster.nodes[..1],
            None => &cluster.nodes[..],
        };
        for node in nodes {
            let _ = op.plan(cluster, node.index);
        }
    }
}

fn run_step(
    cluster: &Cluster,
    op: &dyn Operation,
    node: &NodeHandle,
    dry_run: bool,
    pending_before: &[&'static str],
    observer: &dyn Observer,
) -> StepReport {
    let started = Instant::now();
    observer.started(&node.name, op.name());
    let needs = || format!("needs what {} will change first", pending_before.join(", "));
    let (status, detail, diff) =
        if !pending_before.is_empty() && op.cluster_wide() && !op.plans_after_pending() {
            // A check of the running pair (the VIP held by one node): nothing to predict.
            (
                StepStatus::Skipped,
                format!("{}: checks the running pair", needs()),
                None,
            )
        } else {
            let planned = predict::planning(!pending_before.is_empty(), || {
                apply_step(cluster, op, node, dry_run, observer)
            });
            match planned {
                Ok((status, detail, diff)) => (status, detail, diff),
                // The plan reads what the earlier changes make (a running server): say which
                // steps, and what it would have read, instead of failing a dry run.
                Err(err) if !pending_before.is_empty() => (
                    StepStatus::Skipped,
                    format!("{} (now: {})", needs(), predict::first_cause(&err)),
                    None,
                ),
                Err(err) => (StepStatus::Failed, format!("{err:#}"), None),
            }
        };
    let report = StepReport {
        node: if op.cluster_wide() {
            "cluster".into()
        } else {
            node.name.clone()
        },
        step: op.name().to_string(),
        status,
        detail: cluster.redact(&detail),
        diff: diff.map(|d| cluster.redact(&d)),
        ms: started.elapsed().as_millis(),
    };
    observer.finished(&report);
    report
}

fn apply_step(
    cluster: &Cluster,
    op: &dyn Operation,
    node: &NodeHandle,
    dry_run: bool,
    observer: &dyn Observer,
) -> Result<(StepStatus, String, Option<String>)> {
    // A planning error is reported as is: the step and node are already named, and
    // planning changes nothing, so there is nothing else to say about it.
    // Planning reads facts through the cache; applying reads fresh (waits poll).
    let plan = crate::facts::cached(|| op.plan(cluster, node.index))?;
    observer.planned(&node.name, op.name(), &plan);
    let change = match plan {
        Plan::Noop(reason) => return Ok((StepStatus::Unchanged, reason, None)),
        Plan::Change(change) => change,
    };
    let mut detail = format!("would {}", change.summary);
    for action in &change.actions {
        detail.push_str(&format!("\n    {}", action.describe()));
    }
    if dry_run {
        return Ok((StepStatus::Changed, detail, change.diff));
    }
    observer.plan_detail(&node.name, op.name(), &cluster.redact(&detail));
    // Commands read ahead answer reads only: never an action's command.
    crate::facts::prefetch::forget_read_ahead(cluster);
    activity::during(observer.activity_sink(), &node.name, op.name(), || {
        for action in &change.actions {
            let done = execute(cluster, node, action);
            match action {
                // The transport's error names the node, the command and its output
                // already: `run: <script>` before it would say the script twice.
                Action::Run(_) => done?,
                _ => done.with_context(|| cluster.redact(&action.describe()))?,
            }
        }
        anyhow::Ok(())
    })?;
    observer.applied(&node.name, op.name());
    // The change made the cached volatile facts stale, on this node and its peer.
    crate::facts::changed(cluster);
    // Re-plan: a correct operation is now satisfied. Anything else is a bug worth stopping for.
    let again = crate::facts::cached(|| op.plan(cluster, node.index))
        .context("re-reading facts after the change")?;
    observer.replanned(&node.name, op.name(), &again);
    match again {
        Plan::Noop(_) => Ok((StepStatus::Changed, change.summary, change.diff)),
        Plan::Change(again) => bail!(
            "still not converged after applying it (would now {}); this is a bug in mhactl's `{}` step",
            again.summary,
            op.name()
        ),
    }
}

/// Apply one action to one node.
pub(crate) fn execute(cluster: &Cluster, node: &NodeHandle, action: &Action) -> Result<()> {
    match action {
        Action::Run(cmd) => {
            node.transport.run_ok(cmd)?;
        }
        Action::WriteFile {
            path,
            content,
            mode,
        } => {
            node.transport.write_file(path, content.as_bytes(), *mode)?;
        }
        Action::Sql(statements) => node.with_admin_write(|conn| {
            for statement in statements {
                conn.exec(statement)?;
            }
            Ok(())
        })?,
        Action::Custom(_, f) => f(cluster, node.index)?,
    }
    Ok(())
}

/// A unified diff between the current and wanted content of a file.
pub fn file_diff(path: &str, current: Option<&str>, wanted: &str) -> String {
    file_diff_labeled(path, current, wanted, ("old", "new"))
}

/// [`file_diff`] with the labels a secret that differs between the sides gets
/// (`***(old)`/`***(new)`): both sides are masked by the file's syntax
/// ([`crate::mask`]), so no diff ever shows a secret, whoever wrote the file.
pub fn file_diff_labeled(
    path: &str,
    current: Option<&str>,
    wanted: &str,
    labels: (&str, &str),
) -> String {
    let kind = crate::mask::FileKind::for_path(path);
    let (old, new) = crate::mask::mask_pair(kind, current.unwrap_or(""), wanted, labels);
    similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header(
            &if current.is_some() {
                format!("a{path}")
            } else {
                "/dev/null".into()
            },
            &format!("b{path}"),
        )
        .to_string()
}

#[cfg(test)]
mod predict_tests;

#[cfg(test)]
mod tests;
