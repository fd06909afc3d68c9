//! Showing a run: per-node progress (indicatif spinners on a terminal, plain timestamped
//! lines otherwise), the final summary table with per-node totals, and the JSON report.
//!
//! Output rules, for every command:
//! - colours only when the stream is a terminal, `NO_COLOR` is unset (or empty) and
//!   `TERM` is not `dumb`; otherwise not a single escape code or carriage return;
//! - `-q`: no progress and no tables, only the verdict line and failures;
//! - `-v`: every detail line of every step (normally only failed steps show theirs).

use crate::engine::{StepReport, StepStatus};
use std::io::IsTerminal;
use std::sync::OnceLock;
use std::time::Duration;

mod progress;
#[cfg(test)]
mod progress_tests;
pub use progress::Progress;

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

/// The end of a run on stdout: with `diffs` (bootstrap `--diff`; a dry run always) each
/// changed file's unified diff, then the per-node totals and the one-line verdict. The
/// steps themselves were shown once, as they finished ([`Progress`]), so they are not
/// repeated here; the verdict names a failed step again (the cause of the exit status).
pub fn print_summary(
    command: &str,
    dry_run: bool,
    diffs: bool,
    reports: &[StepReport],
    elapsed: Duration,
) {
    print!(
        "{}",
        render_summary(
            command,
            dry_run,
            diffs,
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
    diffs: bool,
    reports: &[StepReport],
    elapsed: Duration,
    v: Verbosity,
    colour: bool,
) -> String {
    use std::fmt::Write;
    let mut s = String::new();
    if !v.quiet {
        if dry_run || diffs {
            // Unified diffs as they are, each after a line naming its node and step
            // (which `patch` skips as it skips any text between diffs).
            for r in reports {
                if let Some(diff) = r.diff.as_deref().filter(|d| !d.is_empty()) {
                    let _ = writeln!(s, "{} {}:", r.node, r.step);
                    s.push_str(diff);
                    if !diff.ends_with('\n') {
                        s.push('\n');
                    }
                    let _ = writeln!(s);
                }
            }
        }
        let totals = node_totals(reports);
        if !totals.is_empty() {
            if s.is_empty() {
                // Apart from the step lines above it (or the cleared spinners).
                let _ = writeln!(s);
            }
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
    // Every failure (both nodes can fail, for different reasons: a refused lock names
    // the holder on one node and "not locked" on the other; streamed step lines may
    // have shown a step before its failure was known, e.g. connect before the lock).
    for f in reports.iter().filter(|r| r.status == StepStatus::Failed) {
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

    /// bootstrap's summary of `reports`.
    fn summary(
        dry_run: bool,
        diffs: bool,
        reports: &[StepReport],
        elapsed: Duration,
        v: Verbosity,
        colour: bool,
    ) -> String {
        render_summary("bootstrap", dry_run, diffs, reports, elapsed, v, colour)
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
        let text = summary(
            false,
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
        // Issue 20: the steps were shown as they finished; the summary does not repeat
        // them (the failed one is named again, with its cause, in the verdict).
        for step in ["connect detail", "vip detail"] {
            assert!(
                !text.contains(step),
                "a step repeated in the summary:\n{text}"
            );
        }
        assert_eq!(text.matches("install-packages detail").count(), 1, "{text}");
        assert!(!text.contains("STEP"), "{text}");
    }

    #[test]
    fn quiet_prints_only_the_verdict_and_verbose_no_step_either() {
        let quiet = Verbosity {
            quiet: true,
            verbose: false,
        };
        let text = summary(false, false, &sample(), Duration::ZERO, quiet, false);
        // The verdict, then the failure (whose detail has two lines).
        assert_eq!(text.lines().count(), 3, "{text}");
        assert!(text.starts_with("bootstrap: 1 changed"), "{text}");
        let verbose = Verbosity {
            quiet: false,
            verbose: true,
        };
        let text = summary(false, false, &sample(), Duration::ZERO, verbose, false);
        // `-v` details go with the steps as they finish: here only the failure's.
        assert_eq!(text.matches("second line").count(), 1, "{text}");
    }

    /// A dry run's summary: each diff as it is (unindented), after a line naming its
    /// node and step, then the totals; no step line.
    #[test]
    fn a_dry_run_s_summary_is_its_diffs_and_totals() {
        let mut reports = sample();
        reports[2].diff = Some(crate::engine::file_diff("/etc/x.conf", None, "a = 1\n"));
        let text = summary(
            true,
            false,
            &reports,
            Duration::ZERO,
            Verbosity::default(),
            false,
        );
        assert!(
            text.starts_with(
                "node-a install-packages:\n--- /dev/null\n+++ b/etc/x.conf\n@@ -0,0 +1 @@\n+a = 1\n\nNODE "
            ),
            "{text}"
        );
        assert!(text.contains("bootstrap: 1 would change"), "{text}");
        assert!(!text.contains("connect detail"), "{text}");
    }

    /// `bootstrap --diff` (a real run) prints what it changed in the dry run's form, which
    /// GNU patch applies to the old files as they are (`-p1`), no secret on either side.
    #[test]
    fn a_real_run_s_diffs_are_a_patch_of_what_it_changed() {
        let path = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
        let old = "[mysqld]\nserver_id = 1\nauto_increment_offset = 1\npassword = 0ld-S3cret\n";
        let new = "[mysqld]\nserver_id = 1\nauto_increment_offset = 2\npassword = n3w-S3cret\n";
        let mut reports = sample();
        reports[2].step = "server-config".into();
        reports[2].diff = Some(crate::engine::file_diff(path, Some(old), new));
        let text = |diffs| {
            let v = Verbosity::default();
            summary(false, diffs, &reports, Duration::ZERO, v, false)
        };
        assert!(!text(false).contains("+++"), "diffs only with --diff");
        let text = text(true);
        assert!(
            !text.contains("S3cret") && text.contains("***(old)") && text.contains("***(new)"),
            "{text}"
        );
        let Some(patched) = patch_p1(&text, path, old) else {
            eprintln!("ignored: no GNU patch on this host");
            return;
        };
        assert_eq!(
            patched,
            new.replace("n3w-S3cret", "***(new)"),
            "patch did not turn the old file into the new one (but for the masked password)"
        );
    }

    /// `patch -p1` with `text` on stdin in a directory holding `old` at `path`: the patched
    /// file, or `None` when there is no `patch` to run. Panics when patch refuses the text.
    fn patch_p1(text: &str, path: &str, old: &str) -> Option<String> {
        use std::io::Write;
        use std::process::{Command, Stdio};
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join(path.trim_start_matches('/'));
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        // The old side as the diff shows it: its password masked.
        std::fs::write(&file, old.replace("0ld-S3cret", "***(old)")).unwrap();
        let mut child = Command::new("patch")
            .args(["-p1", "--batch", "-d"])
            .arg(dir.path())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .ok()?;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "patch refused the summary: {}{}\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        Some(std::fs::read_to_string(&file).unwrap())
    }

    #[test]
    fn colours_wrap_the_word_and_keep_the_column_width() {
        let plain = paint_status("ok", 9, false);
        let painted = paint_status("ok", 9, true);
        assert_eq!(plain, "ok       ");
        assert_eq!(painted, "\x1b[32mok\x1b[0m       ");
        assert!(paint_status("FAILED", 9, true).starts_with("\x1b[1;31mFAILED\x1b[0m"));
        assert!(paint_status("changed", 9, true).starts_with("\x1b[33m"));
        let text = summary(
            false,
            false,
            &sample(),
            Duration::ZERO,
            Verbosity::default(),
            true,
        );
        assert!(text.contains("\x1b[1;31mFAILED\x1b[0m node-b"), "{text}");
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
