//! `mhactl verify`: every health and consistency check of the pair, read-only, both
//! nodes in parallel. Each check has a stable name; the result is a table or JSON, and
//! the exit code is 0 only when no error-level check fails.

mod access_defaults;
mod checks;
pub mod keepalived_conf;

use crate::cli::{GlobalArgs, OutputFormat, VerifyArgs};
use crate::engine::StepStatus;
use crate::inventory::{self, Secrets};
use crate::report::Progress;
use anyhow::Result;
use serde::Serialize;
use std::io::IsTerminal;
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
    /// What was found (secrets redacted).
    pub detail: String,
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
        }
    }
    /// Does this check make verify fail?
    pub fn is_error(&self) -> bool {
        !self.ok && self.severity == Severity::Error
    }
}

/// How long `verify --wait` pauses between two rounds of checks.
const RETRY_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// Run `mhactl verify`.
pub fn run(args: &VerifyArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let inv = inventory::load(&global.inventory)?;
    let secrets = Secrets::resolve(&inv, std::io::stdin().is_terminal())?;
    let started = Instant::now();
    let deadline = started + std::time::Duration::from_secs(args.wait);
    let (checks, ok) = loop {
        let checks = collect(&inv, &secrets, args.checksum, global)?;
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
            eprintln!(
                "verify: not healthy yet ({}); checking again for up to {} s",
                failing.join(", "),
                deadline.saturating_duration_since(Instant::now()).as_secs()
            );
        }
        std::thread::sleep(RETRY_INTERVAL);
    };
    match global.output {
        OutputFormat::Json => {
            let value = serde_json::json!({ "ok": ok, "checks": checks });
            println!("{}", serde_json::to_string_pretty(&value)?);
        }
        OutputFormat::Text => print_table(&checks, ok, started.elapsed()),
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
    let quiet = GlobalArgs {
        quiet: true,
        ..global.clone()
    };
    let progress = Progress::new(&quiet, &[]);
    let (cluster, reports) = crate::connect::connect(
        inv,
        secrets,
        &crate::connect::ConnectOptions {
            accept_new_host_keys: global.accept_new_host_keys,
            lock_for: None,
        },
        &progress,
    );
    let mut out: Vec<Check> = reports
        .iter()
        .map(|r| {
            if r.status == StepStatus::Failed {
                Check::fail("ssh", &r.node, &r.detail)
            } else {
                Check::pass("ssh", &r.node, &r.detail)
            }
        })
        .collect();
    if let Some(cluster) = cluster {
        out.extend(check_cluster(&cluster, inv, secrets, checksum));
    }
    Ok(out)
}

/// Every check on an already connected cluster (details redacted).
pub fn check_cluster(
    cluster: &crate::engine::Cluster,
    inv: &inventory::Inventory,
    secrets: &Secrets,
    checksum: bool,
) -> Vec<Check> {
    let mut out = checks::run_all(cluster, inv, secrets, checksum);
    for c in &mut out {
        c.detail = cluster.redact(&c.detail);
    }
    out
}

fn print_table(checks: &[Check], ok: bool, elapsed: std::time::Duration) {
    println!("{:<22} {:<8} {:<6} DETAIL", "CHECK", "NODE", "STATUS");
    for c in checks {
        let status = match (c.ok, c.severity) {
            (true, _) => "ok",
            (false, Severity::Error) => "FAIL",
            (false, Severity::Warning) => "warn",
        };
        let mut lines = c.detail.lines();
        println!(
            "{:<22} {:<8} {:<6} {}",
            c.name,
            c.node,
            status,
            lines.next().unwrap_or("")
        );
        for l in lines {
            println!("{:<38} {l}", "");
        }
    }
    let failed = checks.iter().filter(|c| c.is_error()).count();
    let warnings = checks
        .iter()
        .filter(|c| !c.ok && c.severity == Severity::Warning)
        .count();
    println!(
        "verify: {} ({} checks, {failed} failed, {warnings} warnings) in {:.1} s",
        if ok { "healthy" } else { "NOT HEALTHY" },
        checks.len(),
        elapsed.as_secs_f64()
    );
}
