//! Confirming that replication works after mhactl started or changed it: both threads
//! run *and* the replica executed what its source had logged when it started. "Both
//! threads say Yes" alone is not enough: a SQL thread stops on a conflicting event only
//! once it reaches it, a moment after `START REPLICA` returned.
//!
//! Used by bootstrap's replication step; meant for every command that starts a replica
//! (reinit too).

use crate::dialect::BinlogCoordinates;
use crate::engine::Cluster;
use crate::facts;
use anyhow::{bail, Result};
use std::time::{Duration, Instant};

/// How long [`confirm_replication`] waits by default for the threads to run and the
/// replica to execute up to its source's position: 60 s. A replica that needs longer to
/// catch up fails the step with its progress (it keeps replicating; run mhactl again).
pub const CONFIRM_TIMEOUT: Duration = Duration::from_secs(60);

/// An IO error that is not a network one (access denied, a binary log the source no
/// longer has) fails the confirmation once the replica had this long to retry: a few
/// of its reconnect attempts (2 s apart with mhactl's settings).
const IO_ERROR_GRACE: Duration = Duration::from_secs(8);

/// Where a replica connects: its source (the peer), named in the messages, and probed
/// when the IO thread cannot connect.
#[derive(Debug, Clone)]
pub struct SourceEndpoint {
    /// The peer's node name.
    pub peer: String,
    /// The peer's address, as the replica connects to it.
    pub peer_addr: String,
    /// The peer's database port.
    pub port: u16,
    /// This node's own address (named in the firewall hint).
    pub node_addr: String,
}

impl SourceEndpoint {
    /// Node `i`'s source as the inventory describes it: its peer, on `mysql.port`.
    pub fn of_node(inv: &crate::inventory::Inventory, i: usize) -> SourceEndpoint {
        SourceEndpoint {
            peer: inv.peer(i).name.clone(),
            peer_addr: inv.peer(i).address.to_string(),
            port: inv.mysql.port,
            node_addr: inv.nodes[i].address.to_string(),
        }
    }
}

/// What [`confirm_replication`] saw.
#[derive(Debug, Clone)]
pub struct Confirmed {
    /// The source's binary log position when the confirmation started.
    pub target: BinlogCoordinates,
    /// How far the replica had executed when it was confirmed (at or after `target`).
    pub executed: BinlogCoordinates,
    /// How long it took.
    pub waited: Duration,
}

/// Confirms, within `bound`, that node `i` replicates from its peer: both threads run
/// and it executed its source's events up to the source's binary log position read
/// when this is called (call it right after starting replication). Fails as soon as
/// the SQL thread stops with an error or the IO thread reports an error that retrying
/// does not cure, naming the node, `step` and the server's own error; a peer port the
/// node cannot reach is named within seconds (see [`facts::peer_unreachable_message`]).
pub fn confirm_replication(
    cluster: &Cluster,
    i: usize,
    source: &SourceEndpoint,
    step: &str,
    bound: Duration,
) -> Result<Confirmed> {
    let node = &cluster.nodes[i];
    let peer = cluster.peer(i);
    let started = Instant::now();
    let target = facts::binlog_coordinates_fresh(peer)?;
    let mut last = None;
    let mut probed = false;
    let mut unreachable = None;
    let mut broken = None;
    let waited = crate::poll::until(bound, || {
        last = facts::replica_status_fresh(node)?;
        let Some(s) = &last else { return Ok(false) };
        if !s.sql_running && s.last_sql_errno != 0 {
            broken = Some(format!(
                "its SQL thread stopped with error {}: {}",
                s.last_sql_errno, s.last_sql_error
            ));
            return Ok(true);
        }
        // Network errors are retried below (and probed); others retry for a grace period.
        if !s.io_running && s.last_io_errno != 0 && !facts::io_error_may_be_network(s.last_io_errno)
        {
            if started.elapsed() >= IO_ERROR_GRACE {
                broken = Some(format!(
                    "its IO thread cannot replicate, error {}: {}",
                    s.last_io_errno, s.last_io_error
                ));
                return Ok(true);
            }
            return Ok(false);
        }
        if !probed
            && !s.io_running
            && facts::io_error_may_be_network(s.last_io_errno)
            && started.elapsed() >= Duration::from_secs(2)
        {
            probed = true;
            let probe = facts::tcp_probe(node, &source.peer_addr, source.port)?;
            if let Some(problem) = probe.problem() {
                unreachable = Some(problem);
                return Ok(true);
            }
        }
        Ok(s.io_running && s.sql_running && executed(s).reached(&target))
    });
    if let Some(problem) = unreachable {
        let mut msg = facts::peer_unreachable_message(
            &node.name,
            &source.peer,
            &source.peer_addr,
            source.port,
            &source.node_addr,
            &problem,
        );
        if let Some(s) = last.as_ref().filter(|s| s.last_io_errno != 0) {
            msg.push_str(&format!(
                "; the replica's last IO error {}: {}",
                s.last_io_errno, s.last_io_error
            ));
        }
        bail!("{msg}. The replica keeps retrying: run mhactl again once the port is open");
    }
    let Some(s) = last else {
        bail!(
            "{}: {step}: replication is not configured (no replica status) after starting it",
            node.name
        );
    };
    let progress = format!(
        "executed up to {} of {}'s {} (its position when replication started)",
        executed(&s),
        source.peer,
        target
    );
    if let Some(why) = broken {
        bail!(
            "{}: {step}: replication from {} broke after it started: {why}; {progress}. \
             Fix the cause (the error names the statement and object), then run mhactl again",
            node.name,
            source.peer
        );
    }
    if waited.is_err() {
        let threads = format!(
            "IO thread {}, SQL thread {}",
            if s.io_running { "running" } else { "stopped" },
            if s.sql_running { "running" } else { "stopped" }
        );
        let errors: String = s.last_errors().iter().map(|e| format!("; {e}")).collect();
        bail!(
            "{}: {step}: replication from {} not confirmed within {} s: {threads}{errors}; {progress}",
            node.name,
            source.peer,
            bound.as_secs()
        );
    }
    Ok(Confirmed {
        target,
        executed: executed(&s),
        waited: started.elapsed(),
    })
}

/// The source coordinates up to which the replica's SQL thread executed.
fn executed(s: &crate::dialect::ReplicaStatus) -> BinlogCoordinates {
    BinlogCoordinates {
        file: s.relay_source_log_file.clone(),
        position: s.exec_source_log_pos,
    }
}
