//! Showing a run: per-node progress (indicatif spinners on a terminal, plain timestamped
//! lines otherwise), the final summary table, and the JSON report.

use crate::cli::GlobalArgs;
use crate::engine::{Observer, StepReport, StepStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// Progress for a run over some nodes.
pub struct Progress {
    bars: Option<(MultiProgress, HashMap<String, ProgressBar>)>,
    quiet: bool,
    started: Instant,
}

impl Progress {
    /// Spinners when stderr is a terminal (and progress is not turned off), else lines.
    pub fn new(global: &GlobalArgs, nodes: &[String]) -> Progress {
        let tty = std::io::stderr().is_terminal() && !global.no_progress && !global.quiet;
        let bars = tty.then(|| {
            let mp = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} {prefix:<8} {elapsed:>4} {msg}")
                .expect("valid template");
            let mut map = HashMap::new();
            for node in nodes.iter().map(String::as_str).chain(["cluster"]) {
                let bar = mp.add(
                    ProgressBar::new_spinner()
                        .with_style(style.clone())
                        .with_prefix(node.to_string()),
                );
                bar.enable_steady_tick(Duration::from_millis(120));
                map.insert(node.to_string(), bar);
            }
            (mp, map)
        });
        Progress {
            bars,
            quiet: global.quiet,
            started: Instant::now(),
        }
    }

    /// Clear the spinners.
    pub fn finish(&self) {
        if let Some((_, bars)) = &self.bars {
            for bar in bars.values() {
                bar.finish_and_clear();
            }
        }
    }

    fn line(&self, text: &str) {
        match &self.bars {
            Some((mp, _)) => {
                let _ = mp.println(text);
            }
            None if !self.quiet => {
                eprintln!("[{:>6.1}s] {text}", self.started.elapsed().as_secs_f64())
            }
            None => {}
        }
    }
}

impl Observer for Progress {
    fn started(&self, node: &str, step: &str) {
        if let Some((_, bars)) = &self.bars {
            if let Some(bar) = bars.get(node) {
                bar.set_message(step.to_string());
            }
        }
    }

    fn finished(&self, r: &StepReport) {
        let first = r.detail.lines().next().unwrap_or("");
        self.line(&format!(
            "{:<8} {:<17} {:<9} {}",
            r.node,
            r.step,
            status_word(r.status),
            first
        ));
        if let Some(diff) = &r.diff {
            if !self.quiet {
                for l in diff.lines() {
                    self.line(&format!("    {l}"));
                }
            }
        }
        if r.status == StepStatus::Failed {
            for l in r.detail.lines().skip(1) {
                self.line(&format!("    {l}"));
            }
        }
    }
}

fn status_word(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Unchanged => "ok",
        StepStatus::Changed => "changed",
        StepStatus::Failed => "FAILED",
        StepStatus::Skipped => "skipped",
    }
}

/// The final table and one-line verdict on stdout.
pub fn print_summary(command: &str, dry_run: bool, reports: &[StepReport], elapsed: Duration) {
    println!(
        "{:<8} {:<17} {:<9} {:>8}  DETAIL",
        "NODE", "STEP", "STATUS", "TIME"
    );
    for r in reports {
        let first = r.detail.lines().next().unwrap_or("");
        println!(
            "{:<8} {:<17} {:<9} {:>7.1}s  {first}",
            r.node,
            r.step,
            status_word(r.status),
            r.ms as f64 / 1000.0
        );
        if dry_run {
            for l in r.detail.lines().skip(1) {
                println!("{:>46}{l}", "");
            }
            if let Some(diff) = &r.diff {
                for l in diff.lines() {
                    println!("    {l}");
                }
            }
        }
    }
    let count = |s| reports.iter().filter(|r| r.status == s).count();
    let changed = count(StepStatus::Changed);
    let verb = if dry_run { "would change" } else { "changed" };
    println!(
        "{command}: {changed} {verb}, {} unchanged, {} failed, {} skipped in {:.1} s",
        count(StepStatus::Unchanged),
        count(StepStatus::Failed),
        count(StepStatus::Skipped),
        elapsed.as_secs_f64()
    );
    if let Some(f) = reports.iter().find(|r| r.status == StepStatus::Failed) {
        println!("failed: {} at step {}: {}", f.node, f.step, f.detail);
    }
}

/// `{"ok":bool,"changed":N,"steps":[...]}` on stdout.
pub fn print_json(ok: bool, changed: usize, reports: &[StepReport]) {
    let value = serde_json::json!({ "ok": ok, "changed": changed, "steps": reports });
    println!(
        "{}",
        serde_json::to_string_pretty(&value).expect("serializable")
    );
}
