//! The new VIP holder's catch-up in failover-test (issue 17): how long it held the VIP
//! read-only before it became writable, and how far behind it was when it took the VIP.
//!
//! The fence agent measures both and records them in
//! [`crate::os::fence::TAKEOVER_PATH`]; failover-test reads that record before the fault
//! and after it. The agent's own record, not a poll from here: both timestamps come from
//! one clock (the node's), are taken by the process that unfences the server, at the
//! moment it does (not up to one poll interval plus an SSH round trip later), and the
//! backlog is the one the agent's catch-up rule waited for.

use crate::engine::Cluster;
use crate::transport::RemoteCommand;
use anyhow::Result;
use serde::Serialize;
use std::time::Duration;

/// How long failover-test waits, after its duration, for the new holder to catch up: a
/// large backlog gets time to be executed before the report says it had not.
pub const CATCH_UP_WAIT: Duration = Duration::from_secs(30);

/// How long to look for a takeover record that is not there.
const NO_RECORD_WAIT: Duration = Duration::from_secs(5);

/// failover-test's catch-up fields (flattened into its JSON report).
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct CatchUp {
    /// Seconds from the new holder's first sight of the VIP (still read-only) until it
    /// became writable, by the fence agent's clock. `None` without a fence agent
    /// (`writes: both`) or when it had not caught up by the end of the test.
    pub catch_up_s: Option<f64>,
    /// Bytes of the old holder's binary log the new holder had received but not yet
    /// executed when it took the VIP (`None`: unknown, e.g. relay log spanning files).
    pub catch_up_backlog_bytes: Option<u64>,
}

/// One takeover as the agent recorded it (times in seconds since the epoch, node clock).
#[derive(Debug, Clone, PartialEq)]
pub struct Takeover {
    /// When the agent first saw this node hold the VIP while read-only.
    pub vip_at: f64,
    /// Received minus executed bytes at that moment.
    pub behind_bytes: Option<u64>,
    /// When it made the server writable (`None`: still catching up).
    pub writable_at: Option<f64>,
}

/// Parses the agent's record (`vip <t>`, `behind_bytes <n|unknown>`, `writable <t>`);
/// `None` when there is none or it is unreadable.
pub fn parse(text: &str) -> Option<Takeover> {
    let mut vip_at = None;
    let mut behind_bytes = None;
    let mut writable_at = None;
    for line in text.lines() {
        match line.split_once(' ') {
            Some(("vip", v)) => vip_at = v.trim().parse::<f64>().ok(),
            Some(("behind_bytes", v)) => behind_bytes = v.trim().parse::<u64>().ok(),
            Some(("writable", v)) => writable_at = v.trim().parse::<f64>().ok(),
            _ => {}
        }
    }
    Some(Takeover {
        vip_at: vip_at?,
        behind_bytes,
        writable_at,
    })
}

/// The node's record as text (empty when there is none).
pub fn read(cluster: &Cluster, node: usize) -> Result<String> {
    cluster.nodes[node].transport.run_ok(&RemoteCommand::new(
        crate::os::fence::read_takeover_command(),
    ))
}

/// The takeover of this test: the record after the fault, if it is a new one (the file
/// is overwritten at each takeover, so an unchanged one is from an earlier failover).
pub fn this_takeover(before: &str, after: &str) -> Option<Takeover> {
    let after = parse(after)?;
    match parse(before) {
        Some(b) if b.vip_at == after.vip_at => None,
        _ => Some(after),
    }
}

/// The report's fields for a takeover (or none).
pub fn report(t: Option<&Takeover>) -> CatchUp {
    let Some(t) = t else {
        return CatchUp::default();
    };
    CatchUp {
        // Rounded to the millisecond: the agent's clock has microseconds, its polling
        // and the client's login take milliseconds.
        catch_up_s: t
            .writable_at
            .map(|w| ((w - t.vip_at).max(0.0) * 1000.0).round() / 1000.0),
        catch_up_backlog_bytes: t.behind_bytes,
    }
}

/// Waits (up to `timeout`) until the new holder's agent recorded a takeover after
/// `before` that ended writable; returns the last record seen (which may still be
/// catching up, or none when the agent recorded nothing). An agent records a takeover
/// as soon as it sees the VIP, so with no new record after [`NO_RECORD_WAIT`] there is
/// none to wait for (an agent installed by an mhactl without the record).
pub fn wait_writable(cluster: &Cluster, node: usize, before: &str) -> Option<Takeover> {
    let mut last = None;
    let started = std::time::Instant::now();
    let _ = crate::poll::until(CATCH_UP_WAIT, || {
        if crate::interrupt::requested().is_some() {
            return Ok(true);
        }
        last = this_takeover(before, &read(cluster, node)?);
        Ok(match &last {
            Some(t) => t.writable_at.is_some(),
            None => started.elapsed() > NO_RECORD_WAIT,
        })
    });
    last
}

/// The report's problem when the new holder had not caught up by the end of the wait.
pub fn problem(t: Option<&Takeover>, node: &str) -> Option<String> {
    let t = t.filter(|t| t.writable_at.is_none())?;
    let behind = t.behind_bytes.map_or("unknown".into(), |b| b.to_string());
    Some(format!(
        "{node} held the VIP but was still read-only {} s after the test (catching up: {behind} bytes behind when it took the VIP)",
        CATCH_UP_WAIT.as_secs()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_agents_record() {
        let t = parse("vip 1764200000.250000\nbehind_bytes 4096\nwritable 1764200003.500000\n")
            .unwrap();
        assert_eq!(t.behind_bytes, Some(4096));
        let r = report(Some(&t));
        assert_eq!(r.catch_up_s, Some(3.25));
        assert_eq!(r.catch_up_backlog_bytes, Some(4096));
        let waiting = parse("vip 1764200000.25\nbehind_bytes unknown\n").unwrap();
        assert_eq!(report(Some(&waiting)).catch_up_s, None);
        assert_eq!(waiting.behind_bytes, None);
        assert_eq!(parse(""), None);
        assert_eq!(parse("garbage\n"), None);
        assert_eq!(report(None), CatchUp::default());
        assert_eq!(problem(Some(&t), "node-b"), None);
        let p = problem(Some(&waiting), "node-b").unwrap();
        assert!(
            p.contains("node-b held the VIP but was still read-only"),
            "{p}"
        );
        assert_eq!(problem(None, "node-b"), None);
    }

    #[test]
    fn an_unchanged_record_is_an_earlier_takeover() {
        let old = "vip 10.5\nbehind_bytes 0\nwritable 10.6\n";
        let new = "vip 20.5\nbehind_bytes 0\nwritable 20.9\n";
        assert_eq!(this_takeover(old, old), None);
        assert_eq!(this_takeover(old, new).unwrap().vip_at, 20.5);
        assert_eq!(this_takeover("", new).unwrap().vip_at, 20.5);
        assert_eq!(this_takeover(old, ""), None);
    }
}
