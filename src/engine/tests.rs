//! The engine's own tests: planning, applying, re-planning and the reports.

use super::*;
use crate::transport::fake::FakeTransport;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

/// A toy operation: wants a counter per node to reach 1.
struct Counter {
    done: Arc<[AtomicU32; 2]>,
    broken: bool,
}

fn counter(a: u32, b: u32, broken: bool) -> Box<dyn Operation> {
    Box::new(Counter {
        done: Arc::new([AtomicU32::new(a), AtomicU32::new(b)]),
        broken,
    })
}

impl Operation for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }
    fn plan(&self, _cluster: &Cluster, index: usize) -> Result<Plan> {
        if self.done[index].load(Ordering::SeqCst) >= 1 && !self.broken {
            return Ok(Plan::Noop("counter is 1".into()));
        }
        let done = Arc::clone(&self.done);
        Ok(Plan::Change(Change {
            summary: "set counter to 1".into(),
            actions: vec![
                Action::Run(RemoteCommand::new("echo secret-pw")),
                Action::Custom(
                    "bump".into(),
                    Box::new(move |_, i| {
                        done[i].fetch_add(1, Ordering::SeqCst);
                        Ok(())
                    }),
                ),
            ],
            diff: None,
        }))
    }
}

fn cluster() -> Cluster {
    let nodes = ["node-a", "node-b"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let t = FakeTransport::new(n);
            t.on("echo secret-pw", 0, "secret-pw\n"); // the counter's action
            NodeHandle::new(i, n, Arc::new(t), None)
        })
        .collect();
    Cluster {
        nodes,
        secrets: vec!["secret-pw".into()],
    }
}

/// Always plans one command that fails.
struct FailingCommand;

impl Operation for FailingCommand {
    fn name(&self) -> &'static str {
        "failing"
    }
    fn plan(&self, _cluster: &Cluster, _index: usize) -> Result<Plan> {
        Ok(Plan::Change(Change {
            summary: "start the thing".into(),
            actions: vec![Action::Run(RemoteCommand::new("service thing start"))],
            diff: None,
        }))
    }
}

#[test]
fn a_failed_command_is_named_once_with_its_output() {
    let nodes = ["node-a", "node-b"]
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let t = FakeTransport::new(n);
            t.on_full("service thing start", 1, "", "thing: no such service");
            NodeHandle::new(i, n, Arc::new(t), None)
        })
        .collect();
    let c = Cluster {
        nodes,
        secrets: Vec::new(),
    };
    let ops: [Box<dyn Operation>; 1] = [Box::new(FailingCommand)];
    let reports = run(&c, &ops, false, &Silent);
    let detail = &reports[0].detail;
    assert_eq!(reports[0].status, StepStatus::Failed);
    assert_eq!(detail.matches("service thing start").count(), 1, "{detail}");
    assert!(
        detail.starts_with("node-a: command failed (exit 1): service thing start")
            && detail.contains("thing: no such service"),
        "{detail}"
    );
}

#[test]
fn noop_reports_unchanged_with_reason() {
    let reports = run(&cluster(), &[counter(1, 1, false)], false, &Silent);
    assert_eq!(reports.len(), 2);
    assert!(reports
        .iter()
        .all(|r| r.status == StepStatus::Unchanged && r.detail == "counter is 1"));
}

#[test]
fn dry_run_changes_nothing_and_redacts() {
    let c = cluster();
    let reports = run(&c, &[counter(0, 1, false)], true, &Silent);
    assert_eq!(reports[0].status, StepStatus::Changed);
    assert!(reports[0].detail.starts_with("would set counter"));
    assert!(
        !reports[0].detail.contains("secret-pw"),
        "{}",
        reports[0].detail
    );
    assert!(reports[0].detail.contains("echo ***"));
    assert_eq!(reports[1].status, StepStatus::Unchanged);
}

#[test]
fn operation_that_never_converges_is_reported_as_a_bug() {
    let reports = run(&cluster(), &[counter(0, 0, true)], false, &Silent);
    assert!(reports.iter().all(|r| r.status == StepStatus::Failed));
    assert!(
        reports[0].detail.contains("bug in mhactl's `counter` step"),
        "{}",
        reports[0].detail
    );
}

#[test]
fn change_is_applied_then_converges_and_rerun_is_noop() {
    let c = cluster();
    let ops = [counter(0, 0, false)];
    let first = run(&c, &ops, false, &Silent);
    assert!(
        first.iter().all(|r| r.status == StepStatus::Changed),
        "{first:?}"
    );
    let second = run(&c, &ops, false, &Silent);
    assert!(
        second.iter().all(|r| r.status == StepStatus::Unchanged),
        "{second:?}"
    );
}

#[test]
fn diff_shows_changed_lines() {
    let d = file_diff("/etc/x", Some("a\nb\n"), "a\nc\n");
    assert!(
        d.contains("-b") && d.contains("+c") && d.contains("a/etc/x"),
        "{d}"
    );
    assert!(file_diff("/etc/x", None, "a\n").contains("/dev/null"));
}
