//! Which detection made the VIP move in a failover-test run (`"detection"` in the
//! report): the old holder's checks note their failures with the node's clock in
//! [`crate::os::detection::DETECTION_LOG`]; a fault that no check sees is keepalived's
//! own (its interface went down, it was stopped) or the peer's VRRP timer.

use super::FailoverMode;
use crate::engine::Cluster;
use crate::transport::RemoteCommand;

/// What fired, and when (seconds after the fault was injected, by the old holder's clock).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Fired {
    /// `process`, `health-check`, `arbiter` (the old holder's checks: FAULT), `link`
    /// (its VRRP interface went down: FAULT at once), `keepalived-stop` (its keepalived
    /// stopped and sent a priority-0 advertisement), `vrrp` (the peer's master-down timer:
    /// the old holder never let go, or could not tell the peer).
    pub source: String,
    /// When the old holder's check noted it (only for its checks).
    pub after_s: Option<f64>,
}

/// A check failure noted in the detection log.
#[derive(Debug, Clone, PartialEq)]
struct Event {
    at: f64,
    source: String,
}

fn parse_log(text: &str) -> Vec<Event> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let at = w.next()?.parse().ok()?;
            Some(Event {
                at,
                source: w.next()?.to_string(),
            })
        })
        .collect()
}

/// The detection for `mode`, from the old holder's detection log `log`: its first check
/// failure between the fault (`fault_at`, the node's clock) and shortly after the VIP
/// moved (`moved_s` after the fault). A clock read just before the injection, so a
/// failure up to 0.1 s before it counts (the read's own latency).
pub(super) fn classify(
    mode: FailoverMode,
    log: &str,
    fault_at: f64,
    moved_s: Option<f64>,
) -> Fired {
    // The interface is down from the injection on: keepalived's FAULT comes before any
    // check could notice (which then fail for that reason: no peer, no arbiter).
    if mode == FailoverMode::Partition {
        return keepalived("link");
    }
    let until = fault_at + moved_s.unwrap_or(f64::MAX / 4.0) + 0.5;
    let first = parse_log(log)
        .into_iter()
        .filter(|e| e.at >= fault_at - 0.1 && e.at <= until)
        .min_by(|a, b| a.at.total_cmp(&b.at));
    match first {
        Some(e) => Fired {
            after_s: Some(((e.at - fault_at).max(0.0) * 100.0).round() / 100.0),
            source: e.source,
        },
        None if mode == FailoverMode::StopKeepalived => keepalived("keepalived-stop"),
        None => keepalived("vrrp"),
    }
}

fn keepalived(source: &str) -> Fired {
    Fired {
        source: source.into(),
        after_s: None,
    }
}

/// The old holder's detection log (empty when it has none or cannot be read: the report
/// then says `vrrp`, what the peer saw).
pub(super) fn read_log(cluster: &Cluster, node: usize) -> String {
    cluster.nodes[node]
        .transport
        .run_ok(&RemoteCommand::new(crate::os::detection::READ_LOG_COMMAND))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "100.10 health-check exit 1: ERROR 2002\n\
                       200.05 process no process listens on /run/mysqld/mysqld.sock\n\
                       200.40 health-check exit 1: ERROR 2002\n\
                       garbage\n";

    #[test]
    fn the_first_check_failure_after_the_fault_wins() {
        let f = classify(FailoverMode::KillMysqld, LOG, 200.0, Some(0.5));
        assert_eq!(f.source, "process");
        assert_eq!(f.after_s, Some(0.05));
        // An earlier outage's line does not count.
        let f = classify(FailoverMode::Hung, LOG, 150.0, Some(1.0));
        assert_eq!(f.source, "vrrp");
        assert_eq!(f.after_s, None);
    }

    #[test]
    fn faults_no_check_sees() {
        assert_eq!(
            classify(FailoverMode::StopKeepalived, "", 10.0, Some(0.3)).source,
            "keepalived-stop"
        );
        // A partition's checks fail because the link is down, after keepalived's FAULT.
        assert_eq!(
            classify(
                FailoverMode::Partition,
                "10.3 arbiter no answer\n",
                10.0,
                Some(1.0)
            )
            .source,
            "link"
        );
        assert_eq!(
            classify(
                FailoverMode::Isolate,
                "10.5 arbiter no answer\n",
                10.0,
                Some(1.0)
            )
            .source,
            "arbiter"
        );
        assert_eq!(
            classify(FailoverMode::Isolate, "", 10.0, None).source,
            "vrrp"
        );
    }
}
