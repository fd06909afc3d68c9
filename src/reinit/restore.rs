//! Putting a node back as it was when reinit fails after it stopped anything: the
//! previous data directory back in place, the server and keepalived running again if
//! they ran, the node's and the peer's replication started again if they ran.
//!
//! [`restore_previous`] is the one entry point; it only reads [`Previous`] (recorded by
//! the pre-flight before anything was stopped) and what is on the node now, and every
//! step is safe to repeat, so an interrupt handler (SIGINT/SIGTERM) can call it too.

use super::commands;
use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::inventory::Inventory;
use crate::os::KEEPALIVED_SERVICE;
use crate::transport::RemoteCommand;
use anyhow::{anyhow, Result};
use std::time::Duration;

/// What the node and its peer looked like before reinit stopped anything.
#[derive(Debug, Clone)]
pub struct Previous {
    /// Index of the node being rebuilt.
    pub node: usize,
    /// The node's data directory.
    pub datadir: String,
    /// Where the previous data directory is (or goes) while the run lasts.
    pub aside: String,
    /// The server ran on the node.
    pub server_active: bool,
    /// keepalived ran on the node.
    pub keepalived_active: bool,
    /// The node's replication threads (from the peer) ran.
    pub node_replicating: bool,
    /// The peer's replication threads (from the node) ran.
    pub peer_replicating: bool,
}

/// Bring the node back to [`Previous`]. When the data directory was moved aside: stop
/// the server (it may run on the fresh directory), move the aside copy back (the fresh
/// directory is removed) and start the server; before that, the server is only started
/// again if it was stopped. Then its replication, the peer's replication and keepalived
/// start as they were. Every step is attempted even when one fails; the result lists
/// what was done, or every step that failed.
pub fn restore_previous(cluster: &Cluster, inv: &Inventory, prev: &Previous) -> Result<String> {
    let node = &cluster.nodes[prev.node];
    let peer = cluster.peer(prev.node);
    let (target, services) = facts::os_target(node, inv.mysql.flavor)?;
    let server = target.server_service();
    let mut done = Vec::new();
    let mut failed = Vec::new();

    // Only what the run reached is undone: before the move the server still runs on
    // its own data and is left alone (a restart would only lengthen the time without
    // the VIP); a present aside copy means the data directory was replaced.
    let moved = node
        .transport
        .run(&RemoteCommand::new(commands::aside_exists_command(
            &prev.aside,
        )))
        .map(|o| o.success())
        .unwrap_or(true);
    let running = facts::service_active(node, services, server).unwrap_or(false);
    if moved {
        node.reset_sql();
        if let Err(e) = run(node, &services.stop_command(server)) {
            failed.push(format!("stopping {server}: {e:#}"));
        }
        match run(
            node,
            &commands::restore_dir_command(&prev.datadir, &prev.aside),
        ) {
            Ok(()) => done.push(format!(
                "{} runs on its previous data directory {} again (the fresh one was removed)",
                node.name, prev.datadir
            )),
            Err(e) => failed.push(format!(
                "moving {} back to {}: {e:#}",
                prev.aside, prev.datadir
            )),
        }
        crate::facts::forget_server(node);
    } else if let Err(e) = run(
        node,
        &commands::restore_dir_command(&prev.datadir, &prev.aside),
    ) {
        // Nothing to move back; this only removes the marker.
        failed.push(format!("removing the marker: {e:#}"));
    }
    if prev.server_active && (moved || !running) {
        let started = services
            .runtime_dir_command(server)
            .map_or(Ok(()), |prepare| run(node, &prepare))
            .and_then(|()| run(node, &services.start_command(server)))
            .and_then(|()| {
                crate::poll::until(Duration::from_secs(60), || {
                    node.reset_sql();
                    Ok(node
                        .with_sql(|s| s.query(crate::dialect::ping_sql()))
                        .is_ok())
                })
                .map_err(|_| anyhow!("{server} did not answer SQL within 60 s"))
            });
        match started {
            Ok(()) => done.push(format!("{server} started")),
            Err(e) => failed.push(format!("starting {server}: {e:#}")),
        }
    } else if prev.server_active {
        done.push(format!("{server} kept running on its data"));
    }
    if prev.server_active && prev.node_replicating && started_ok(&failed, server) {
        match start_replica(node) {
            Ok(()) => done.push(format!("{}'s replication started", node.name)),
            Err(e) => failed.push(format!("starting {}'s replication: {e:#}", node.name)),
        }
    }
    if prev.peer_replicating {
        match start_replica(peer) {
            Ok(()) => done.push(format!("{}'s replication started", peer.name)),
            Err(e) => failed.push(format!("starting {}'s replication: {e:#}", peer.name)),
        }
    }
    if prev.keepalived_active {
        match run(node, &services.start_command(KEEPALIVED_SERVICE)) {
            Ok(()) => done.push("keepalived started".into()),
            Err(e) => failed.push(format!("starting keepalived: {e:#}")),
        }
    }
    if failed.is_empty() {
        Ok(format!("restored: {}", done.join(", ")))
    } else {
        Err(anyhow!(
            "restoring {} failed: {}{}",
            node.name,
            failed.join("; "),
            if done.is_empty() {
                String::new()
            } else {
                format!(" (done: {})", done.join(", "))
            }
        ))
    }
}

fn started_ok(failed: &[String], server: &str) -> bool {
    !failed
        .iter()
        .any(|f| f.starts_with(&format!("starting {server}")))
}

/// Start a node's replica threads when a source is configured (a no-op warning when
/// they already run, e.g. started with the server).
fn start_replica(node: &NodeHandle) -> Result<()> {
    if facts::replica_status(node)?.is_none() {
        return Ok(());
    }
    let d = facts::dialect(node)?;
    node.with_sql(|s| s.exec(&d.start_replica_sql()))
}

fn run(node: &NodeHandle, script: &str) -> Result<()> {
    super::run_step(node, script).map(|_| ())
}
