//! `mhactl verify`: every health and consistency check of the pair, read-only, both
//! nodes in parallel. Each check has a stable name; the result is a table or JSON, and
//! the exit code is 0 only when no error-level check fails.

mod access_defaults;
mod checks;
mod durability;
#[cfg(test)]
pub(crate) mod fake_pair;
#[cfg(test)]
mod golden_tests;
pub mod keepalived_conf;
mod leftovers;
mod limited;
mod partial;
pub mod registry;
mod server_options;

use crate::engine::StepStatus;
use crate::global::{GlobalArgs, OutputFormat};
use crate::inventory::{self, Secrets};
use anyhow::Result;
use serde::Serialize;
use std::process::ExitCode;
use std::time::Instant;

/// How much a failing check matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// The pair is broken or unsafe: verify fails.
    Error,
    /// Worth attention, but the pair works: reported, verify still passes.
    Warning,
}

/// The outcome of one check on one node (or on the pair: node `cluster`).
#[derive(Debug, Clone, Serialize)]
pub struct Check {
    /// Stable check name (`replication-threads`).
    pub name: String,
    /// Node name, or `cluster` for checks about the pair.
    pub node: String,
    /// Did it pass?
    pub ok: bool,
    /// What a failure means.
    pub severity: Severity,
    /// What was found (secrets redacted); for a check not run, why.
    pub detail: String,
    /// `true` when the check could not run (its node, or the peer it needs, is
    /// unreachable); it then counts as failed.
    pub not_run: bool,
}

impl Check {
    /// A passing check.
    pub fn pass(name: &str, node: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            node: node.into(),
            ok: true,
            severity: Severity::Error,
            detail: detail.into(),
            not_run: false,
        }
    }
    /// A failing error-level check.
    pub fn fail(name: &str, node: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            node: node.into(),
            ok: false,
            severity: Severity::Error,
            detail: detail.into(),
            not_run: false,
        }
    }
    /// A failing warning-level check.
    pub fn warn(name: &str, node: &str, detail: impl Into<String>) -> Check {
        Check {
            name: name.into(),
            node: node.into(),
            ok: false,
            severity: Severity::Warning,
            detail: detail.into(),
            not_run: false,
        }
    }
    /// A check that could not run, and why (an error: nothing proves it would pass).
    pub fn not_run(name: &str, node: &str, reason: impl Into<String>) -> Check {
        Check {
            not_run: true,
            ..Check::fail(name, node, reason)
        }
    }
    /// Does this check make verify fail?
    pub fn is_error(&self) -> bool {
        !self.ok && self.severity == Severity::Error
    }
}

/// Checks run, failed (making verify fail) and warnings, for the JSON envelope's `counts`.
pub fn check_counts(checks: &[Check]) -> crate::json_out::Counts {
    crate::json_out::Counts::Checks {
        checks: checks.len(),
        failed: checks.iter().filter(|c| c.is_error()).count(),
        warnings: checks.iter().filter(|c| !c.ok && !c.is_error()).count(),
    }
}

/// How long `verify --wait` pauses between two rounds of checks.
const RETRY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// Run `mhactl verify`.
pub fn run(args: &VerifyArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let inv = crate::session::load(&global.inventory)?;
    let limit = args
        .limit
        .as_deref()
        .map(|name| crate::limit::node_index(&inv, name, &global.inventory))
        .transpose()?;
    if limit.is_some() && args.checksum {
        return Err(crate::error::UsageError(
            "--checksum compares the tables of both nodes: it does not run with --limit".into(),
        )
        .into());
    }
    let secrets = crate::session::resolve_secrets(&inv)?;
    let started = Instant::now();
    let deadline = started + std::time::Duration::from_secs(args.wait);
    let (checks, ok) = loop {
        let checks = match limit {
            Some(i) => limited::collect(&inv, &secrets, global, i),
            None => collect(&inv, &secrets, args.checksum, global)?,
        };
        let ok = !checks.iter().any(Check::is_error);
        if ok || Instant::now() + RETRY_INTERVAL > deadline {
            break (checks, ok);
        }
        if !global.quiet {
            let failing: Vec<String> = checks
                .iter()
                .filter(|c| c.is_error())
                .map(|c| format!("{}/{}", c.name, c.node))
                .collect();
            crate::log_eprintln!(
                "verify: not healthy yet ({}); checking again for up to {} s",
                failing.join(", "),
                deadline.saturating_duration_since(Instant::now()).as_secs()
            );
        }
        std::thread::sleep(RETRY_INTERVAL);
    };
    match global.output {
        OutputFormat::Json => {
            let mut value = serde_json::json!({ "ok": ok, "checks": checks });
            if let Some(i) = limit {
                value["limit"] = inv.nodes[i].name.clone().into();
            }
            crate::json_out::print(Some(check_counts(&checks)), &value)?;
        }
        OutputFormat::Text => {
            print_table(&checks, ok, started.elapsed(), global.quiet);
            if let Some(i) = limit {
                println!("{}", limited::note(&inv, i));
            }
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Connect and run every check; connection failures become failed `ssh` checks.
pub fn collect(
    inv: &inventory::Inventory,
    secrets: &Secrets,
    checksum: bool,
    global: &GlobalArgs,
) -> Result<Vec<Check>> {
    let connected = connect_reachable(inv, secrets, global);
    let (cluster, reports, unreachable) =
        (connected.cluster, connected.reports, connected.unreachable);
    let mut out = ssh_checks(&reports, secrets, None);
    match cluster {
        Some(cluster) if unreachable.is_empty() => {
            // `probe-leftovers` too, read in the round's batches (not in `check_cluster`:
            // failover-test runs that while its probe exists).
            out.extend(check_round(&cluster, inv, secrets, checksum, true));
        }
        // One node down: the other's checks still run (one broken thing hides nothing).
        Some(cluster) => {
            let inv = &with_positioning(inv, &cluster);
            let mut checks = partial::run(&cluster, inv, secrets, checksum, &unreachable);
            for c in &mut checks {
                c.detail = cluster.redact(&c.detail);
            }
            out.extend(checks);
        }
        None => {}
    }
    Ok(out)
}

/// Connect to what answers of the pair: with one node unreachable, the other's checks
/// still run.
fn connect_reachable(
    inv: &inventory::Inventory,
    secrets: &Secrets,
    global: &GlobalArgs,
) -> crate::session::Connected {
    let opening = crate::session::Opening {
        reachable_only: true,
        ..Default::default()
    };
    crate::session::connect(inv, secrets, global, &opening)
}

/// The `ssh` check of each node from the connect step's reports (of `only` that node),
/// details redacted.
fn ssh_checks(
    reports: &[crate::engine::StepReport],
    secrets: &Secrets,
    only: Option<&str>,
) -> Vec<Check> {
    let known: Vec<String> = secrets.values().into_iter().map(str::to_string).collect();
    reports
        .iter()
        .filter(|r| only.is_none_or(|node| r.node == node))
        .map(|r| {
            let detail = crate::engine::redact(&r.detail, &known);
            if r.status == StepStatus::Failed {
                checks::host::SSH.fail(&r.node, detail)
            } else {
                checks::host::SSH.pass(&r.node, detail)
            }
        })
        .collect()
}

/// Every check on an already connected cluster (details redacted).
pub fn check_cluster(
    cluster: &crate::engine::Cluster,
    inv: &inventory::Inventory,
    secrets: &Secrets,
    checksum: bool,
) -> Vec<Check> {
    check_round(cluster, inv, secrets, checksum, false)
}

/// [`check_cluster`]; with `leftovers`, then `probe-leftovers` ([`leftovers::check`]),
/// whose reads come in the round's batches (issue 21: before, its two queries per node
/// ran one after the other after the round, four round trips). Its answer is of the
/// round's moment, a few hundred milliseconds earlier than when it was read after the
/// checks: what it looks for (failover-test's probe account and database) is created
/// and dropped only by a failover-test run, never by verify, so the round's snapshot
/// sees the same thing.
fn check_round(
    cluster: &crate::engine::Cluster,
    inv: &inventory::Inventory,
    secrets: &Secrets,
    checksum: bool,
    leftovers: bool,
) -> Vec<Check> {
    checks::prefetch(cluster, inv, secrets, checksum, leftovers, with_positioning);
    // From what was read (volatile facts too: one round is one snapshot).
    let round_inv = crate::facts::cached(|| with_positioning(inv, cluster));
    let mut out = checks::run_all(cluster, &round_inv, secrets, checksum);
    if leftovers {
        out.extend(crate::facts::cached(|| leftovers::check(cluster)));
    }
    for c in &mut out {
        c.detail = cluster.redact(&c.detail);
    }
    out
}

/// The inventory with `replication.positioning` as the pair runs it (unset: an existing
/// file/position pair is checked as one), so that the rendered option file and the `gtid`
/// check expect what bootstrap keeps.
fn with_positioning(
    inv: &inventory::Inventory,
    cluster: &crate::engine::Cluster,
) -> inventory::Inventory {
    let mut inv = inv.clone();
    // Not strict: verify reports a pair that differs from the inventory, it never refuses.
    let _ = crate::positioning::resolve(&mut inv, cluster, crate::positioning::Resolve::Report);
    inv
}

/// The report as a table; with `quiet` (`-q`) only the failing checks and the verdict.
fn print_table(checks: &[Check], ok: bool, elapsed: std::time::Duration, quiet: bool) {
    use std::io::Write;
    // A closed pipe (`verify | head`) is not an error worth a panic.
    let _ = std::io::stdout().write_all(render_table(checks, ok, elapsed, quiet).as_bytes());
}

/// [`print_table`]'s text (pure, for tests).
pub fn render_table(
    checks: &[Check],
    ok: bool,
    elapsed: std::time::Duration,
    quiet: bool,
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if !quiet {
        let _ = writeln!(s, "{:<22} {:<8} {:<6} DETAIL", "CHECK", "NODE", "STATUS");
    }
    for c in checks.iter().filter(|c| !quiet || c.is_error()) {
        let status = match (c.ok, c.severity, c.not_run) {
            (_, _, true) => "NOTRUN",
            (true, _, _) => "ok",
            (false, Severity::Error, _) => "FAIL",
            (false, Severity::Warning, _) => "warn",
        };
        let mut lines = c.detail.lines();
        let _ = writeln!(
            s,
            "{:<22} {:<8} {:<6} {}",
            c.name,
            c.node,
            status,
            lines.next().unwrap_or("")
        );
        for l in lines {
            let _ = writeln!(s, "{:<38} {l}", "");
        }
    }
    let failed = checks.iter().filter(|c| c.is_error()).count();
    let not_run = checks.iter().filter(|c| c.not_run).count();
    let warnings = checks
        .iter()
        .filter(|c| !c.ok && c.severity == Severity::Warning)
        .count();
    let _ = writeln!(
        s,
        "verify: {} ({} checks, {failed} failed{}, {warnings} warnings) in {:.1} s",
        if ok { "healthy" } else { "NOT HEALTHY" },
        checks.len(),
        if not_run > 0 {
            format!(" ({not_run} not run)")
        } else {
            String::new()
        },
        elapsed.as_secs_f64()
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quiet_shows_only_errors_and_the_verdict() {
        let checks = vec![
            Check::pass("root", "db1", "commands run as root"),
            Check::warn("read-only", "db1", "read_only ON"),
            Check::fail("vip", "cluster", "no node holds the VIP"),
            Check::not_run("root", "db2", "not run: db2 is unreachable (timeout)"),
        ];
        let t = std::time::Duration::ZERO;
        let quiet = render_table(&checks, false, t, true);
        assert!(!quiet.contains("CHECK"), "{quiet}");
        assert!(!quiet.contains("commands run as root"), "{quiet}");
        assert!(!quiet.contains("read_only ON"), "{quiet}");
        assert!(quiet.contains("no node holds the VIP"), "{quiet}");
        assert!(quiet.contains("NOTRUN"), "{quiet}");
        assert!(
            quiet.ends_with(
                "verify: NOT HEALTHY (4 checks, 2 failed (1 not run), 1 warnings) in 0.0 s\n"
            ),
            "{quiet}"
        );
        let full = render_table(&checks, false, t, false);
        assert!(full.contains("commands run as root") && full.contains("read_only ON"));
    }
}

/// `mhactl verify` flags.
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Also compare per-table checksums of the replicated databases across the nodes.
    #[arg(long)]
    pub checksum: bool,
    /// Run the checks again (every 2 s) until the pair is healthy or SECONDS have passed,
    /// then report the last result: for pipelines that verify right after a change
    /// (a restart, a failover) while replication reconnects.
    #[arg(long, value_name = "SECONDS", default_value_t = 0)]
    pub wait: u64,
    /// Check this node only: the peer's checks and those about the pair are not run
    /// (the peer may be down); not with --checksum.
    // Set from the global `--limit` (crate::fleet::plan), which selects the node.
    #[arg(skip)]
    pub limit: Option<String>,
}
