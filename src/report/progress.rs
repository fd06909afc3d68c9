//! The progress of a run as it happens: per-node spinners on a terminal (a command's own
//! messages and finished steps printed above them, what a long step is doing on its
//! node's line), plain timestamped lines otherwise.

use super::{colour_enabled, paint_status, status_word, ReportOptions, Stream};
use crate::engine::activity::ActivitySink;
use crate::engine::{Observer, StepReport, StepStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Progress for a run over some nodes.
pub struct Progress {
    display: Arc<Display>,
    /// A dry run: each step's whole plan under its line (it is the run's result).
    plans: bool,
    colour: bool,
}

/// Where the lines go: spinners on a terminal, plain lines otherwise. Shared with the
/// engine while a step runs ([`Observer::activity_sink`]), hence its own type.
struct Display {
    bars: Option<(MultiProgress, HashMap<String, ProgressBar>)>,
    quiet: bool,
    verbose: bool,
    started: Instant,
    /// Each node's last activity, and when it last printed one as a plain line
    /// ([`ACTIVITY_LINE_EVERY`]).
    last_activity: Mutex<HashMap<String, LastActivity>>,
}

/// A node's last activity ([`Display::activity`]).
#[derive(Default)]
struct LastActivity {
    text: String,
    line_printed: Option<Instant>,
}

/// Without a terminal (a CI log), at most one activity line per node this often, so a
/// long installation shows it is alive without a line per package; `-v` shows them all.
const ACTIVITY_LINE_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    /// Spinners when stderr is a terminal (and progress is not turned off), else lines.
    pub fn new(global: &ReportOptions, nodes: &[String]) -> Progress {
        let tty = std::io::stderr().is_terminal() && !global.no_progress && !global.quiet;
        let target = tty.then(ProgressDrawTarget::stderr);
        Progress::drawing_to(global, nodes, target, colour_enabled(Stream::Stderr))
    }

    /// Spinners drawn to `target` (`None`: plain lines on stderr).
    pub(super) fn drawing_to(
        global: &ReportOptions,
        nodes: &[String],
        target: Option<ProgressDrawTarget>,
        colour: bool,
    ) -> Progress {
        let bars = target.map(|target| {
            let mp = MultiProgress::with_draw_target(target);
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
            display: Arc::new(Display {
                bars,
                quiet: global.quiet,
                verbose: global.verbose > 0,
                started: Instant::now(),
                last_activity: Mutex::default(),
            }),
            plans: false,
            colour,
        }
    }

    /// A dry run's progress: each changed step's plan (what it would run or write) in
    /// full under its line, as `-v` shows every detail; its diffs come at the end, on
    /// stdout ([`super::print_summary`]).
    pub fn with_plans(mut self, dry_run: bool) -> Progress {
        self.plans = dry_run;
        self
    }

    /// Clear the spinners.
    pub fn finish(&self) {
        if let Some((_, bars)) = &self.display.bars {
            for bar in bars.values() {
                bar.finish_and_clear();
            }
        }
    }

    /// A command's own message during the run (`reinit: stopping the server`): above
    /// the spinners on a terminal, where a direct write to stderr would be drawn over
    /// by their next redraw; a timestamped line otherwise; nothing with `-q`.
    pub fn message(&self, text: &str) {
        self.line(text);
    }

    fn line(&self, text: &str) {
        self.display.line(text);
    }
}

impl Display {
    fn line(&self, text: &str) {
        let stamped = || format!("[{:>6.1}s] {text}", self.started.elapsed().as_secs_f64());
        match &self.bars {
            Some((mp, _)) => {
                let _ = mp.println(text);
                // The spinners' redraws stay on the terminal; the log gets the line.
                crate::log_file::line(&stamped());
            }
            None if !self.quiet => crate::log_eprintln!("{}", stamped()),
            None => {}
        }
    }
}

impl ActivitySink for Display {
    /// On a terminal the node's spinner says it (`install-packages: apt: unpacking
    /// mariadb-server (31%)`), and `-v` prints it too; otherwise a plain line, every one
    /// with `-v`, else at most one per node per [`ACTIVITY_LINE_EVERY`].
    fn activity(&self, node: &str, step: &str, text: &str) {
        let mut last = self.last_activity.lock().unwrap_or_else(|e| e.into_inner());
        let last = last.entry(node.to_string()).or_default();
        if last.text == text {
            // apt says the same thing several times while it downloads.
            return;
        }
        last.text = text.to_string();
        if let Some(bar) = self.bars.as_ref().and_then(|(_, bars)| bars.get(node)) {
            bar.set_message(format!("{step}: {text}"));
            if !self.verbose {
                return;
            }
        } else if self.quiet {
            return;
        } else if !self.verbose {
            let now = Instant::now();
            if last
                .line_printed
                .is_some_and(|t| now.duration_since(t) < ACTIVITY_LINE_EVERY)
            {
                return;
            }
            last.line_printed = Some(now);
        }
        self.line(&format!("{node:<8} {step:<17} {:<9} {text}", "running"));
    }
}

impl Observer for Progress {
    fn started(&self, node: &str, step: &str) {
        if let Some((_, bars)) = &self.display.bars {
            if let Some(bar) = bars.get(node) {
                bar.set_message(step.to_string());
            }
        }
    }

    fn plan_detail(&self, node: &str, step: &str, detail: &str) {
        // `-v`: what a step is about to run or write, before it is applied (a dry run's
        // report has it already).
        if self.display.quiet || !self.display.verbose {
            return;
        }
        let mut lines = detail.lines();
        let first = lines.next().unwrap_or("");
        self.line(&format!("{node:<8} {step:<17} plan      {first}"));
        for l in lines {
            self.line(&format!("    {l}"));
        }
    }

    fn finished(&self, r: &StepReport) {
        if self.display.quiet {
            return;
        }
        let first = r.detail.lines().next().unwrap_or("");
        self.line(&format!(
            "{:<8} {:<17} {} {}",
            r.node,
            r.step,
            paint_status(status_word(r.status), 9, self.colour),
            first
        ));
        let plan = self.plans && r.status == StepStatus::Changed;
        if r.status == StepStatus::Failed || self.display.verbose || plan {
            for l in r.detail.lines().skip(1) {
                self.line(&format!("    {l}"));
            }
        }
    }

    fn activity_sink(&self) -> Option<Arc<dyn ActivitySink>> {
        Some(self.display.clone())
    }
}
