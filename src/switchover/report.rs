//! What a switchover reports: the outcome, each step with its duration and what it
//! found, the positions captured and waited for, the window during which no node took
//! writes, and (`--measure`) what a writer through the VIP saw. Printed as text (a
//! step-by-step table) or JSON (`--output json`).

use serde::Serialize;

/// How a switchover ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// The VIP moved to the peer with every safety step.
    Switched,
    /// Nothing to do: `--to` named the current holder.
    Noop,
    /// `--dry-run`: the plan was printed, nothing changed.
    DryRun,
    /// Pre-flight found a reason not to start; nothing changed.
    Refused,
    /// A step failed (or timed out, or a signal came): what had changed was undone.
    RolledBack,
}

/// One step as it ran.
#[derive(Debug, Clone, Serialize)]
pub struct StepRecord {
    /// Step name (`preflight`, `fence`, `wait`, `move-vip`, ...).
    pub name: String,
    /// Seconds it took.
    pub duration_s: f64,
    /// What it did or found.
    pub detail: String,
}

/// What the writer through the VIP saw (`--measure`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Measurement {
    /// Longest interval without an acknowledged write, around the switch, in seconds.
    pub write_gap_s: f64,
    /// Writes the servers acknowledged.
    pub writes_acked: usize,
    /// Attempts that failed (not acknowledged; the client knows they may not exist).
    pub writes_failed: usize,
    /// Acknowledged writes missing on the new holder (or on the old one after it
    /// replicated back).
    pub writes_lost: usize,
    /// Writes the old holder took after its fence was in place (must be 0).
    pub writes_on_old_after_fence: usize,
    /// The last client error seen, if any (for the record: errors are expected while
    /// no node takes writes).
    pub last_error: Option<String>,
}

/// A switchover's report.
#[derive(Debug, Clone, Serialize)]
pub struct SwitchoverReport {
    /// Switched (or nothing to do, or a dry run) and nothing went wrong.
    pub ok: bool,
    /// How it ended.
    pub outcome: Outcome,
    /// VIP holder before.
    pub old_holder: String,
    /// VIP holder after (the old one when nothing moved or it was rolled back).
    pub new_holder: String,
    /// The node the VIP was to move to.
    pub to: String,
    /// The steps that ran, in order.
    pub steps: Vec<StepRecord>,
    /// What would run (`--dry-run`), or ran, in order.
    pub plan: Vec<String>,
    /// The old holder's binary log position right after its fence (`file:pos`).
    pub captured_position: Option<String>,
    /// The peer's executed position in the old holder's binary log once it caught up.
    pub peer_executed_position: Option<String>,
    /// Seconds from the fence on the old holder until the new holder was writable:
    /// the window in which no node accepted writes.
    pub writes_blocked_s: Option<f64>,
    /// Seconds from the release until the peer held the VIP.
    pub vip_moved_s: Option<f64>,
    /// Application sessions ended on the old holder.
    pub sessions_killed: usize,
    /// The canary row written through the new holder and found on the old one.
    pub canary: Option<String>,
    /// What the writer through the VIP saw (`--measure`).
    pub measure: Option<Measurement>,
    /// The error that stopped it (refused or rolled back).
    pub error: Option<String>,
    /// What the rollback could not undo (empty: the pair is as it was).
    pub rollback_problems: Vec<String>,
    /// Seconds the whole command took.
    pub total_s: f64,
}

impl SwitchoverReport {
    /// An empty report for a switch from `old` to `new`.
    pub fn new(outcome: Outcome, old: &str, new: &str) -> Self {
        SwitchoverReport {
            ok: matches!(outcome, Outcome::Switched | Outcome::Noop | Outcome::DryRun),
            outcome,
            old_holder: old.into(),
            new_holder: new.into(),
            to: new.into(),
            steps: Vec::new(),
            plan: Vec::new(),
            captured_position: None,
            peer_executed_position: None,
            writes_blocked_s: None,
            vip_moved_s: None,
            sessions_killed: 0,
            canary: None,
            measure: None,
            error: None,
            rollback_problems: Vec::new(),
            total_s: 0.0,
        }
    }
}

/// The report as text: the steps with their durations, then the numbers.
pub fn render_text(r: &SwitchoverReport) -> String {
    let mut out = String::new();
    let head = match r.outcome {
        Outcome::Switched => format!(
            "switchover {} -> {}: done in {:.2} s",
            r.old_holder, r.new_holder, r.total_s
        ),
        Outcome::Noop => format!(
            "switchover: nothing to do: {} already holds the VIP",
            r.new_holder
        ),
        Outcome::DryRun => format!(
            "switchover {} -> {} (dry run: nothing changed)",
            r.old_holder, r.to
        ),
        Outcome::Refused => format!(
            "switchover {} -> {}: REFUSED (nothing changed)",
            r.old_holder, r.to
        ),
        Outcome::RolledBack => format!(
            "switchover {} -> {}: FAILED, rolled back ({} holds the VIP{})",
            r.old_holder,
            r.to,
            r.new_holder,
            if r.rollback_problems.is_empty() {
                ""
            } else {
                "? see the problems below"
            }
        ),
    };
    out.push_str(&head);
    out.push('\n');
    if !r.plan.is_empty() && r.outcome == Outcome::DryRun {
        out.push_str("plan:\n");
        for (i, p) in r.plan.iter().enumerate() {
            out.push_str(&format!("  {:>2}. {p}\n", i + 1));
        }
    }
    if !r.steps.is_empty() {
        out.push_str(&format!("  {:<12} {:>8}  {}\n", "step", "took", "detail"));
        for s in &r.steps {
            out.push_str(&format!(
                "  {:<12} {:>6.3} s  {}\n",
                s.name, s.duration_s, s.detail
            ));
        }
    }
    let mut line = |k: &str, v: String| out.push_str(&format!("{k:<26}{v}\n"));
    if let Some(p) = &r.captured_position {
        line("position after the fence", p.clone());
    }
    if let Some(p) = &r.peer_executed_position {
        line("peer executed up to", p.clone());
    }
    if let Some(s) = r.vip_moved_s {
        line("vip moved after", format!("{s:.3} s"));
    }
    if let Some(s) = r.writes_blocked_s {
        line(
            "writes blocked",
            format!("{s:.3} s (fence to new holder writable)"),
        );
    }
    if r.outcome == Outcome::Switched {
        line("sessions ended", r.sessions_killed.to_string());
    }
    if let Some(c) = &r.canary {
        line("canary", c.clone());
    }
    if let Some(m) = &r.measure {
        line("longest write gap", format!("{:.3} s", m.write_gap_s));
        line(
            "writes acknowledged",
            format!(
                "{} ({} attempts failed and were not acknowledged)",
                m.writes_acked, m.writes_failed
            ),
        );
        line("writes lost", m.writes_lost.to_string());
        line(
            "old holder after fence",
            format!("{} writes accepted", m.writes_on_old_after_fence),
        );
    }
    if let Some(e) = &r.error {
        line("error", e.clone());
    }
    for p in &r.rollback_problems {
        line("NOT UNDONE", p.clone());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_report_lists_steps_and_numbers() {
        let mut r = SwitchoverReport::new(Outcome::Switched, "node-a", "node-b");
        r.steps.push(StepRecord {
            name: "fence".into(),
            duration_s: 0.012,
            detail: "node-a read-only".into(),
        });
        r.writes_blocked_s = Some(0.8);
        r.total_s = 2.5;
        let t = render_text(&r);
        assert!(
            t.starts_with("switchover node-a -> node-b: done in 2.50 s\n"),
            "{t}"
        );
        assert!(t.contains("fence         0.012 s  node-a read-only"), "{t}");
        assert!(t.contains("writes blocked            0.800 s"), "{t}");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["outcome"], "switched");
        assert_eq!(json["ok"], true);
        let rolled = SwitchoverReport::new(Outcome::RolledBack, "node-a", "node-b");
        assert!(!rolled.ok);
        let mut rolled = rolled;
        rolled.new_holder = "node-a".into();
        assert!(render_text(&rolled)
            .contains("node-a -> node-b: FAILED, rolled back (node-a holds the VIP)"));
    }
}
