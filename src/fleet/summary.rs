//! A fleet run's result: one line per cluster (in the fleet's order) and the details of
//! the failures, or one JSON document holding each cluster's own document.

use super::runner::{self, Job, Outcome};
use crate::global::{GlobalArgs, OutputFormat};
use crate::inventory::fleet::Fleet;
use anyhow::Result;
use serde_json::{json, Value};
use std::process::ExitCode;

/// Run `jobs` of `fleet` and report; the worst exit code ([`runner::worst_exit_code`]).
pub fn run(fleet: &Fleet, jobs: Vec<Job>, global: &GlobalArgs, command: &str) -> Result<ExitCode> {
    let total = jobs.len();
    let quiet = crate::report::quiet();
    if !quiet {
        crate::log_eprintln!(
            "fleet: {command} on {total} cluster{} of {}, {} at a time",
            if total == 1 { "" } else { "s" },
            fleet.path.display(),
            global.forks.min(total)
        );
    }
    // Runs of many clusters hold the terminal's signals: each is passed on to the runs.
    let _cooperative = crate::interrupt::Cooperative::begin();
    let finished = std::sync::atomic::AtomicUsize::new(0);
    let outcomes = runner::run_all(jobs, global.forks, &|o: &Outcome| {
        let n = finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
        if !quiet {
            crate::log_eprintln!(
                "fleet: {} {} ({n}/{total}, {:.1} s)",
                o.job.cluster,
                verdict(o.exit_code),
                o.elapsed.as_secs_f64()
            );
        }
    });
    let code = runner::worst_exit_code(&outcomes.iter().map(|o| o.exit_code).collect::<Vec<_>>());
    let docs: Vec<Option<Value>> = outcomes
        .iter()
        .map(|o| serde_json::from_str(o.stdout.trim()).ok())
        .collect();
    match global.output {
        OutputFormat::Json => {
            let clusters: Vec<Value> = outcomes
                .iter()
                .zip(&docs)
                .map(|(o, doc)| {
                    json!({
                        "cluster": o.job.cluster,
                        "node": o.job.node,
                        "ok": o.exit_code == 0,
                        "exit_code": o.exit_code,
                        "duration_s": o.elapsed.as_secs_f64(),
                        "result": doc,
                        "error": last_error(&o.stderr),
                    })
                })
                .collect();
            crate::json_out::print(
                None,
                &json!({
                    "ok": code == 0,
                    "exit_code": code,
                    "fleet": fleet.path.display().to_string(),
                    "forks": global.forks,
                    "clusters": clusters,
                }),
            )?;
        }
        OutputFormat::Text => {
            if global.verbose > 0 {
                for o in &outcomes {
                    for line in o.stderr.lines() {
                        crate::log_eprintln!("{} | {line}", o.job.cluster);
                    }
                }
            }
            print!("{}", render_text(&outcomes, &docs, command));
        }
    }
    Ok(ExitCode::from(u8::try_from(code).unwrap_or(1)))
}

/// The verdict word of an exit code.
pub fn verdict(code: i32) -> &'static str {
    match code {
        0 => "ok",
        3 => "pending",
        2 => "REFUSED",
        130 | 143 => "STOPPED",
        _ => "FAILED",
    }
}

/// The summary table, the count line, then each failure's details.
pub fn render_text(outcomes: &[Outcome], docs: &[Option<Value>], command: &str) -> String {
    let width = outcomes
        .iter()
        .map(|o| label(&o.job).len())
        .max()
        .unwrap_or(7)
        .max(7);
    let mut out = String::new();
    out.push_str(&format!(
        "{:<width$}  {:<8} {:>7}  DETAILS\n",
        "CLUSTER", "RESULT", "TIME"
    ));
    for (o, doc) in outcomes.iter().zip(docs) {
        out.push_str(&format!(
            "{:<width$}  {:<8} {:>6.1}s  {}\n",
            label(&o.job),
            verdict(o.exit_code),
            o.elapsed.as_secs_f64(),
            details(doc.as_ref(), command, &o.stderr)
        ));
    }
    let failed: Vec<&Outcome> = outcomes.iter().filter(|o| o.exit_code != 0).collect();
    out.push_str(&format!(
        "{} cluster{}: {} ok, {} not ok\n",
        outcomes.len(),
        if outcomes.len() == 1 { "" } else { "s" },
        outcomes.len() - failed.len(),
        failed.len()
    ));
    for (o, doc) in outcomes.iter().zip(docs) {
        if o.exit_code == 0 {
            continue;
        }
        out.push_str(&format!(
            "\n{} ({}):\n",
            label(&o.job),
            verdict(o.exit_code)
        ));
        for line in failure_lines(doc.as_ref(), &o.stderr) {
            out.push_str(&format!("  {line}\n"));
        }
    }
    out
}

fn label(job: &Job) -> String {
    match &job.node {
        Some(n) => format!("{}/{n}", job.cluster),
        None => job.cluster.clone(),
    }
}

/// The one-line summary of a cluster's document: its counts, or for status the holder
/// and each node's replication and lag.
fn details(doc: Option<&Value>, command: &str, stderr: &str) -> String {
    let Some(doc) = doc else {
        return last_error(stderr).unwrap_or_default();
    };
    if command == "status" {
        return status_line(doc);
    }
    let c = &doc["counts"];
    let n = |k: &str| c[k].as_u64().unwrap_or(0);
    if c.get("changed").is_some() {
        format!(
            "changed={} unchanged={} failed={} skipped={}",
            n("changed"),
            n("unchanged"),
            n("failed"),
            n("skipped")
        )
    } else if c.get("checks").is_some() {
        format!(
            "checks={} failed={} warnings={}",
            n("checks"),
            n("failed"),
            n("warnings")
        )
    } else {
        String::new()
    }
}

/// `holder=node-a  node-a<-node-b: running, lag 0s  node-b<-node-a: ...`.
pub fn status_line(doc: &Value) -> String {
    let holder = match doc["vip_holders"].as_array().map(Vec::len) {
        Some(0) => "none".to_string(),
        Some(1) => doc["vip_holder"].as_str().unwrap_or("?").to_string(),
        Some(n) => format!("{n} nodes (split brain)"),
        None => "?".into(),
    };
    let mut parts = vec![format!("holder={holder}")];
    for node in doc["nodes"].as_array().into_iter().flatten() {
        let name = node["name"].as_str().unwrap_or("?");
        let r = &node["replication"];
        let state = if node["reachable"] == false {
            "unreachable".to_string()
        } else if r.is_null() {
            "not replicating".to_string()
        } else {
            let from = r["source_node"].as_str().unwrap_or("?");
            let running = r["io_running"] == true && r["sql_running"] == true;
            let lag = r["seconds_behind"]
                .as_u64()
                .map(|s| format!("lag {s}s"))
                .unwrap_or_else(|| "lag -".into());
            let threads = if running {
                "running".to_string()
            } else {
                format!(
                    "io={} sql={}",
                    if r["io_running"] == true { "yes" } else { "NO" },
                    if r["sql_running"] == true {
                        "yes"
                    } else {
                        "NO"
                    }
                )
            };
            format!("<-{from} {threads} {lag}")
        };
        parts.push(format!(
            "{name}{}{state}",
            if state.starts_with("<-") { "" } else { ": " }
        ));
    }
    parts.join("  ")
}

/// What went wrong in a cluster: its failed steps or checks, its problems, its error.
fn failure_lines(doc: Option<&Value>, stderr: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let first = |v: &Value| {
        v.as_str()
            .unwrap_or("")
            .lines()
            .next()
            .unwrap_or("")
            .to_string()
    };
    if let Some(doc) = doc {
        for s in doc["steps"].as_array().into_iter().flatten() {
            if s["status"] == "failed" {
                lines.push(format!(
                    "{} {}: {}",
                    s["node"].as_str().unwrap_or("?"),
                    s["step"].as_str().or(s["name"].as_str()).unwrap_or("?"),
                    first(&s["detail"])
                ));
            }
        }
        for c in doc["checks"].as_array().into_iter().flatten() {
            if c["ok"] == false && c["severity"] == "error" {
                lines.push(format!(
                    "{} {}: {}",
                    c["node"].as_str().unwrap_or("?"),
                    c["name"].as_str().unwrap_or("?"),
                    first(&c["detail"])
                ));
            }
        }
        for p in doc["problems"].as_array().into_iter().flatten() {
            lines.push(first(p));
        }
    }
    lines.extend(
        stderr
            .lines()
            .filter(|l| l.starts_with("error:"))
            .map(str::to_string),
    );
    if lines.is_empty() {
        let tail: Vec<&str> = stderr.lines().rev().take(10).collect();
        lines.extend(tail.into_iter().rev().map(str::to_string));
    }
    lines
}

/// The last `error: ...` line of a run's stderr, without the prefix.
pub fn last_error(stderr: &str) -> Option<String> {
    stderr
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix("error: "))
        .map(str::to_string)
}
