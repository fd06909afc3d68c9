//! Showing a run: per-node progress (indicatif spinners on a terminal, plain timestamped
//! lines otherwise), the final summary table with per-node totals, and the JSON report.
//!
//! Output rules, for every command:
//! - colours only when the stream is a terminal, `NO_COLOR` is unset (or empty) and
//!   `TERM` is not `dumb`; otherwise not a single escape code or carriage return;
//! - `-q`: no progress and no tables, only the verdict line and failures;
//! - `-v`: every detail line of every step (normally only failed steps show theirs).

use crate::engine::{Observer, StepReport, StepStatus};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// What the global flags say about showing a run (the command line builds it; the
/// report does not depend on the command line).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportOptions {
    /// `-q`: only errors and the verdict.
    pub quiet: bool,
    /// `-v` count.
    pub verbose: u8,
    /// `--no-progress`: plain lines even on a terminal.
    pub no_progress: bool,
}

impl ReportOptions {
    /// The same options with `-q` set (commands whose connect step is not shown).
    pub fn quiet(self) -> ReportOptions {
        ReportOptions {
            quiet: true,
            ..self
        }
    }
}

/// How much to show, set once from the global flags ([`configure`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Verbosity {
    /// `-q`: only errors and the verdict.
    pub quiet: bool,
    /// `-v` (any count): all detail lines.
    pub verbose: bool,
}

static VERBOSITY: OnceLock<Verbosity> = OnceLock::new();

/// Record `-q`/`-v` for the summary printers (called once, by the command line).
pub fn configure(global: &ReportOptions) {
    let _ = VERBOSITY.set(Verbosity {
        quiet: global.quiet,
        verbose: global.verbose > 0,
    });
}

/// `-q` was given: commands without a [`Progress`] leave out their progress lines too.
pub fn quiet() -> bool {
    verbosity().quiet
}

/// `-v` was given: commands may print their detail lines (e.g. bootstrap's hand-over of
/// the VIP prints each switchover step with its duration).
pub fn verbose() -> bool {
    verbosity().verbose
}

fn verbosity() -> Verbosity {
    VERBOSITY.get().copied().unwrap_or_default()
}

/// An output stream, for deciding about colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    /// Standard output (tables, verdicts).
    Stdout,
    /// Standard error (progress, warnings).
    Stderr,
}

/// Colours on `stream`: a terminal, `NO_COLOR` unset or empty, `TERM` not `dumb`.
pub fn colour_enabled(stream: Stream) -> bool {
    let tty = match stream {
        Stream::Stdout => std::io::stdout().is_terminal(),
        Stream::Stderr => std::io::stderr().is_terminal(),
    };
    tty && colour_allowed_by_env(
        std::env::var_os("NO_COLOR").as_deref(),
        std::env::var_os("TERM").as_deref(),
    )
}

/// The environment part of [`colour_enabled`] (<https://no-color.org>: any non-empty
/// `NO_COLOR` turns colours off).
pub fn colour_allowed_by_env(
    no_color: Option<&std::ffi::OsStr>,
    term: Option<&std::ffi::OsStr>,
) -> bool {
    no_color.is_none_or(|v| v.is_empty()) && term.is_none_or(|t| t != "dumb")
}

/// `word` left-aligned in `width` columns, coloured by meaning when `colour` is on
/// (green ok, yellow changed/warn, red FAILED, dim skipped). Padding is outside the
/// escape codes so columns line up either way.
pub fn paint_status(word: &str, width: usize, colour: bool) -> String {
    let padded = format!("{word:<width$}");
    if !colour {
        return padded;
    }
    let code = match word {
        "ok" | "yes" | "OK" | "healthy" | "running" => "32",
        "changed" | "warn" | "would change" => "33",
        "FAILED" | "FAIL" | "NO" | "NOT HEALTHY" => "1;31",
        "skipped" | "unknown" => "2",
        _ => return padded,
    };
    let trailing = padded.len() - word.len();
    format!("\x1b[{code}m{word}\x1b[0m{}", " ".repeat(trailing))
}

/// Progress for a run over some nodes.
pub struct Progress {
    bars: Option<(MultiProgress, HashMap<String, ProgressBar>)>,
    quiet: bool,
    verbose: bool,
    /// Print the diff of each changed step as it finishes (bootstrap `--diff`).
    diffs: bool,
    colour: bool,
    started: Instant,
}

impl Progress {
    /// Spinners when stderr is a terminal (and progress is not turned off), else lines.
    pub fn new(global: &ReportOptions, nodes: &[String]) -> Progress {
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
            verbose: global.verbose > 0,
            diffs: false,
            colour: colour_enabled(Stream::Stderr),
            started: Instant::now(),
        }
    }

    /// Also print each changed step's file diff as the step finishes. Off by default:
    /// a first bootstrap writes whole files, and their diffs would bury the progress.
    pub fn with_diffs(mut self, diffs: bool) -> Progress {
        self.diffs = diffs;
        self
    }

    /// Clear the spinners.
    pub fn finish(&self) {
        if let Some((_, bars)) = &self.bars {
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

impl Observer for Progress {
    fn started(&self, node: &str, step: &str) {
        if let Some((_, bars)) = &self.bars {
            if let Some(bar) = bars.get(node) {
                bar.set_message(step.to_string());
            }
        }
    }

    fn plan_detail(&self, node: &str, step: &str, detail: &str) {
        // `-v`: what a step is about to run or write, before it is applied (a dry run's
        // report has it already).
        if self.quiet || !self.verbose {
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
        if self.quiet {
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
        if let Some(diff) = r.diff.as_ref().filter(|_| self.diffs) {
            for l in diff.lines() {
                self.line(&format!("    {l}"));
            }
        }
        if r.status == StepStatus::Failed || self.verbose {
            for l in r.detail.lines().skip(1) {
                self.line(&format!("    {l}"));
            }
        }
    }
}

/// The word a step status is shown as (`ok`, `changed`, `FAILED`, `skipped`).
pub fn status_word(s: StepStatus) -> &'static str {
    match s {
        StepStatus::Unchanged => "ok",
        StepStatus::Changed => "changed",
        StepStatus::Failed => "FAILED",
        StepStatus::Skipped => "skipped",
    }
}

/// Per-node totals of a run: step counts by status and the summed step time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeTotals {
    /// Node name (or `cluster`).
    pub node: String,
    /// Steps that changed something (or would, in a dry run).
    pub changed: usize,
    /// Steps that found the node as wanted.
    pub unchanged: usize,
    /// Steps that failed.
    pub failed: usize,
    /// Steps not run.
    pub skipped: usize,
    /// Sum of the node's step times, in milliseconds.
    pub ms: u128,
}

/// Totals per node, in the order the nodes first appear in `reports`.
pub fn node_totals(reports: &[StepReport]) -> Vec<NodeTotals> {
    let mut out: Vec<NodeTotals> = Vec::new();
    for r in reports {
        let i = match out.iter().position(|t| t.node == r.node) {
            Some(i) => i,
            None => {
                out.push(NodeTotals {
                    node: r.node.clone(),
                    ..NodeTotals::default()
                });
                out.len() - 1
            }
        };
        let t = &mut out[i];
        match r.status {
            StepStatus::Changed => t.changed += 1,
            StepStatus::Unchanged => t.unchanged += 1,
            StepStatus::Failed => t.failed += 1,
            StepStatus::Skipped => t.skipped += 1,
        }
        t.ms += r.ms;
    }
    out
}

/// The final table, the per-node totals and the one-line verdict, on stdout.
pub fn print_summary(command: &str, dry_run: bool, reports: &[StepReport], elapsed: Duration) {
    print!(
        "{}",
        render_summary(
            command,
            dry_run,
            reports,
            elapsed,
            verbosity(),
            colour_enabled(Stream::Stdout)
        )
    );
}

/// [`print_summary`]'s text (pure, for tests).
pub fn render_summary(
    command: &str,
    dry_run: bool,
    reports: &[StepReport],
    elapsed: Duration,
    v: Verbosity,
    colour: bool,
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if !v.quiet {
        let _ = writeln!(
            s,
            "{:<8} {:<17} {:<9} {:>8}  DETAIL",
            "NODE", "STEP", "STATUS", "TIME"
        );
        for r in reports {
            let first = r.detail.lines().next().unwrap_or("");
            let _ = writeln!(
                s,
                "{:<8} {:<17} {} {:>7.1}s  {first}",
                r.node,
                r.step,
                paint_status(status_word(r.status), 9, colour),
                r.ms as f64 / 1000.0
            );
            if dry_run || v.verbose {
                for l in r.detail.lines().skip(1) {
                    let _ = writeln!(s, "{:>46}{l}", "");
                }
            }
            if dry_run {
                if let Some(diff) = &r.diff {
                    for l in diff.lines() {
                        let _ = writeln!(s, "    {l}");
                    }
                }
            }
        }
        let totals = node_totals(reports);
        if !totals.is_empty() {
            let _ = writeln!(s);
            let _ = writeln!(
                s,
                "{:<8} {:>7} {:>9} {:>6} {:>7} {:>8}",
                "NODE", "CHANGED", "UNCHANGED", "FAILED", "SKIPPED", "TIME"
            );
            for t in &totals {
                let _ = writeln!(
                    s,
                    "{:<8} {:>7} {:>9} {:>6} {:>7} {:>7.1}s",
                    t.node,
                    t.changed,
                    t.unchanged,
                    t.failed,
                    t.skipped,
                    t.ms as f64 / 1000.0
                );
            }
        }
    }
    let count = |st| reports.iter().filter(|r| r.status == st).count();
    let changed = count(StepStatus::Changed);
    let verb = if dry_run { "would change" } else { "changed" };
    let _ = writeln!(
        s,
        "{command}: {changed} {verb}, {} unchanged, {} failed, {} skipped in {:.1} s",
        count(StepStatus::Unchanged),
        count(StepStatus::Failed),
        count(StepStatus::Skipped),
        elapsed.as_secs_f64()
    );
    if let Some(f) = reports.iter().find(|r| r.status == StepStatus::Failed) {
        let _ = writeln!(
            s,
            "{} {} at step {}: {}",
            paint_status("FAILED", 0, colour).trim_end(),
            f.node,
            f.step,
            f.detail
        );
    }
    s
}

/// `{...envelope, "ok":bool,"changed":N,"steps":[...]}` on stdout.
pub fn print_json(ok: bool, changed: usize, reports: &[StepReport]) -> anyhow::Result<()> {
    let value = serde_json::json!({ "ok": ok, "changed": changed, "steps": reports });
    crate::json_out::print(Some(step_counts(reports)), &value)
}

/// Steps by status, for the JSON envelope's `counts`.
pub fn step_counts(reports: &[StepReport]) -> crate::json_out::Counts {
    let count = |s: StepStatus| reports.iter().filter(|r| r.status == s).count();
    crate::json_out::Counts::Steps {
        changed: count(StepStatus::Changed),
        unchanged: count(StepStatus::Unchanged),
        failed: count(StepStatus::Failed),
        skipped: count(StepStatus::Skipped),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(node: &str, step: &str, status: StepStatus, ms: u128) -> StepReport {
        StepReport {
            node: node.into(),
            step: step.into(),
            status,
            detail: format!("{step} detail\nsecond line"),
            diff: None,
            ms,
        }
    }

    fn sample() -> Vec<StepReport> {
        vec![
            step("node-a", "connect", StepStatus::Unchanged, 300),
            step("node-b", "connect", StepStatus::Unchanged, 250),
            step("node-a", "install-packages", StepStatus::Changed, 11_800),
            step("node-b", "install-packages", StepStatus::Failed, 9_000),
            step("cluster", "vip", StepStatus::Skipped, 0),
        ]
    }

    #[test]
    fn totals_per_node_sum_times_and_count_statuses() {
        let t = node_totals(&sample());
        assert_eq!(t.len(), 3);
        assert_eq!(
            t[0],
            NodeTotals {
                node: "node-a".into(),
                changed: 1,
                unchanged: 1,
                failed: 0,
                skipped: 0,
                ms: 12_100
            }
        );
        assert_eq!(
            (t[1].node.as_str(), t[1].failed, t[1].ms),
            ("node-b", 1, 9_250)
        );
        assert_eq!((t[2].node.as_str(), t[2].skipped), ("cluster", 1));
    }

    #[test]
    fn summary_shows_per_node_totals_and_no_escapes_without_colour() {
        let text = render_summary(
            "bootstrap",
            false,
            &sample(),
            Duration::from_millis(12_400),
            Verbosity::default(),
            false,
        );
        assert!(
            text.contains("node-a         1         1      0       0    12.1s"),
            "{text}"
        );
        assert!(
            text.contains("node-b         0         1      1       0     9.2s"),
            "{text}"
        );
        assert!(text.contains("bootstrap: 1 changed, 2 unchanged, 1 failed, 1 skipped in 12.4 s"));
        assert!(text.contains("FAILED node-b at step install-packages"));
        assert!(!text.contains('\x1b') && !text.contains('\r'));
        let continuation = format!("{:>46}second line", "");
        assert!(!text.contains(&continuation), "details only with -v");
    }

    #[test]
    fn quiet_prints_only_the_verdict_and_verbose_every_detail() {
        let quiet = Verbosity {
            quiet: true,
            verbose: false,
        };
        let text = render_summary("bootstrap", false, &sample(), Duration::ZERO, quiet, false);
        // The verdict, then the failure (whose detail has two lines).
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.starts_with("bootstrap: 1 changed"), "{text}");
        let verbose = Verbosity {
            quiet: false,
            verbose: true,
        };
        let text = render_summary(
            "bootstrap",
            false,
            &sample(),
            Duration::ZERO,
            verbose,
            false,
        );
        // Five steps' continuation lines, and the failure line's.
        assert_eq!(text.matches("second line").count(), 6, "{text}");
    }

    #[test]
    fn colours_wrap_the_word_and_keep_the_column_width() {
        let plain = paint_status("ok", 9, false);
        let painted = paint_status("ok", 9, true);
        assert_eq!(plain, "ok       ");
        assert_eq!(painted, "\x1b[32mok\x1b[0m       ");
        assert!(paint_status("FAILED", 9, true).starts_with("\x1b[1;31mFAILED\x1b[0m"));
        assert!(paint_status("changed", 9, true).starts_with("\x1b[33m"));
        let text = render_summary(
            "bootstrap",
            false,
            &sample(),
            Duration::ZERO,
            Verbosity::default(),
            true,
        );
        assert!(text.contains("\x1b[33mchanged\x1b[0m"));
    }

    #[test]
    fn no_color_and_dumb_terminals_turn_colours_off() {
        use std::ffi::OsStr;
        assert!(colour_allowed_by_env(None, Some(OsStr::new("xterm"))));
        assert!(colour_allowed_by_env(Some(OsStr::new("")), None));
        assert!(!colour_allowed_by_env(Some(OsStr::new("1")), None));
        assert!(!colour_allowed_by_env(None, Some(OsStr::new("dumb"))));
    }
}
