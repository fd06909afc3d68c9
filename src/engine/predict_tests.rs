//! A dry run after a pending change: later steps still plan ([`super::predicting`]),
//! a plan that needs what the change makes is skipped naming the step, and a check of
//! the running pair is not planned at all.

use super::*;
use crate::transport::fake::FakeTransport;
use std::sync::Arc;

/// Plans a change on node-a, nothing on node-b.
struct Install;

impl Operation for Install {
    fn name(&self) -> &'static str {
        "install-packages"
    }
    fn plan(&self, _: &Cluster, i: usize) -> Result<Plan> {
        Ok(if i == 0 {
            Plan::Change(Change {
                summary: "install the server".into(),
                ..Change::default()
            })
        } else {
            Plan::Noop("installed".into())
        })
    }
}

/// Writes a file it can render from what is planned; says whether it was predicting.
struct RenderFile;

impl Operation for RenderFile {
    fn name(&self) -> &'static str {
        "keepalived"
    }
    fn plan(&self, _: &Cluster, _: usize) -> Result<Plan> {
        Ok(Plan::Change(Change {
            summary: format!("write the file (predicting: {})", predicting()),
            diff: Some(file_diff("/etc/x.conf", None, "x\n")),
            ..Change::default()
        }))
    }
}

/// Reads the running server: fails where it is not installed.
struct NeedsServer;

impl Operation for NeedsServer {
    fn name(&self) -> &'static str {
        "replication-user"
    }
    fn plan(&self, _: &Cluster, i: usize) -> Result<Plan> {
        if i == 0 {
            Err(anyhow::anyhow!(
                "the database server's unix socket was not found"
            ))
            .context("cannot connect to the database server")
        } else {
            Ok(Plan::Noop("account exists".into()))
        }
    }
}

/// A check of the running pair.
struct PairCheck;

impl Operation for PairCheck {
    fn name(&self) -> &'static str {
        "vip"
    }
    fn plan(&self, _: &Cluster, _: usize) -> Result<Plan> {
        panic!("a check of the running pair is not planned after pending changes")
    }
    fn cluster_wide(&self) -> bool {
        true
    }
}

fn pair() -> Cluster {
    let nodes = ["node-a", "node-b"]
        .iter()
        .enumerate()
        .map(|(i, n)| NodeHandle::new(i, n, Arc::new(FakeTransport::new(n)), None))
        .collect();
    Cluster {
        nodes,
        secrets: Vec::new(),
    }
}

#[test]
fn a_dry_run_plans_past_a_pending_change() {
    let ops: [Box<dyn Operation>; 4] = [
        Box::new(Install),
        Box::new(RenderFile),
        Box::new(NeedsServer),
        Box::new(PairCheck),
    ];
    let reports = run_nodes(&pair(), &ops, true, &Silent, true);
    let find = |node: &str, step: &str| {
        reports
            .iter()
            .find(|r| r.node == node && r.step == step)
            .unwrap_or_else(|| panic!("no {step} on {node}: {reports:?}"))
    };
    // The file is planned on both nodes, in full, predicting where a change is pending.
    let a = find("node-a", "keepalived");
    assert_eq!(a.status, StepStatus::Changed, "{a:?}");
    assert!(a.detail.contains("predicting: true"), "{a:?}");
    assert!(a.diff.as_deref().is_some_and(|d| d.contains("+x")), "{a:?}");
    assert!(find("node-b", "keepalived")
        .detail
        .contains("predicting: false"));
    // What needs the server: skipped, naming the steps and what was missing.
    let s = find("node-a", "replication-user");
    assert_eq!(s.status, StepStatus::Skipped, "{s:?}");
    assert!(
        s.detail.contains("install-packages, keepalived")
            && s.detail.contains("unix socket was not found"),
        "{s:?}"
    );
    assert_eq!(
        find("node-b", "replication-user").status,
        StepStatus::Unchanged
    );
    let v = find("cluster", "vip");
    assert_eq!(v.status, StepStatus::Skipped);
    assert!(v.detail.contains("checks the running pair"), "{v:?}");
    // Outside a dry run's planning the flag is off.
    assert!(!predicting());
}

#[test]
fn a_planning_error_without_pending_changes_still_fails() {
    let ops: [Box<dyn Operation>; 1] = [Box::new(NeedsServer)];
    let reports = run_nodes(&pair(), &ops, true, &Silent, true);
    assert_eq!(reports[0].status, StepStatus::Failed, "{reports:?}");
}
