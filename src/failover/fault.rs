//! The faults failover-test injects into the VIP holder (stop or kill the server, stop
//! keepalived, hang the server, take the link down, isolate the node) and how each is
//! undone afterwards.

use super::{isolate, FailoverMode};
use crate::engine::Cluster;
use crate::facts;
use crate::inventory::Inventory;
use crate::transport::RemoteCommand;
use anyhow::{anyhow, Context, Result};
use std::time::Duration;

pub(super) fn inject(
    cluster: &Cluster,
    inv: &Inventory,
    node: usize,
    mode: FailoverMode,
    duration_s: u64,
    pid_file: Option<&str>,
    isolation: Option<&isolate::Isolation>,
) -> Result<()> {
    let n = &cluster.nodes[node];
    if mode == FailoverMode::Isolate {
        let iso = isolation.ok_or_else(|| anyhow!("{}: isolate was not prepared", n.name))?;
        return isolate::inject(cluster, iso, duration_s)
            .with_context(|| format!("{}: injecting isolate", n.name));
    }
    let (target, services) = facts::os_target(n, inv.mysql.flavor)?;
    let script = match mode {
        FailoverMode::StopMysqld => services.stop_command(target.server_service()),
        // A crash: the server and any supervisor that would restart it at once
        // (mysqld_safe), so the node stays down until recovery. Exactly that process,
        // as the server names it itself: other processes called mysqld live on.
        FailoverMode::KillMysqld => {
            services.kill_server_command(target.server_service(), &server_pid_file(n)?)
        }
        FailoverMode::StopKeepalived => services.stop_command(crate::os::KEEPALIVED_SERVICE),
        // A hang: the server stops running but keeps its sockets and pid, so only
        // health checks that time out can notice it.
        FailoverMode::Hung => {
            let f = pid_file.ok_or_else(|| anyhow!("{}: no pid file for hung", n.name))?;
            services.signal_server_command(target.server_service(), f, "STOP")
        }
        // The node cuts itself off and heals itself after the test's duration, so the
        // test never depends on reaching a node it has just isolated.
        FailoverMode::Partition => {
            crate::os::host::partition_command(&inv.vip.interface, duration_s)
        }
        FailoverMode::Isolate => unreachable!("handled above"),
    };
    n.transport
        .run_ok(&RemoteCommand::new(script))
        .map(|_| ())
        .with_context(|| format!("{}: injecting {}", n.name, mode.name()))
}

/// The server's own pid file (`@@pid_file`, made absolute against `@@datadir`).
pub(super) fn server_pid_file(node: &crate::engine::NodeHandle) -> Result<String> {
    facts::get::<facts::server::PidFile>(node, &())
        .with_context(|| format!("{}: asking the server for its pid file", node.name))?
        .ok_or_else(|| anyhow!("{}: the server named no pid file", node.name))
}

/// Undo the fault. A partition heals itself `duration_s` after it began (the node is
/// unreachable until then), so that waits up to that long and 30 s more.
pub(super) fn recover(
    cluster: &Cluster,
    inv: &Inventory,
    node: usize,
    mode: FailoverMode,
    duration_s: u64,
    pid_file: Option<&str>,
    isolation: Option<&isolate::Isolation>,
) -> Result<()> {
    let n = &cluster.nodes[node];
    if mode == FailoverMode::Isolate {
        // The rules spare mhactl's SSH connection: they go now, not at the switch's time.
        let iso = isolation.ok_or_else(|| anyhow!("{}: isolate was not prepared", n.name))?;
        return isolate::heal(cluster, iso);
    }
    let (target, services) = facts::os_target(n, inv.mysql.flavor)?;
    match mode {
        FailoverMode::StopMysqld | FailoverMode::KillMysqld => {
            n.reset_sql();
            n.transport.run_ok(&RemoteCommand::new(
                services.start_command(target.server_service()),
            ))?;
        }
        FailoverMode::StopKeepalived => {
            // An undo soon after the fault (an interrupt) can come while keepalived is
            // still stopping: Debian's init script signals it and returns, and keepalived
            // first ends its check scripts. A start then finds it "already running" and
            // does nothing, and the node is left without keepalived. So: wait until it
            // is gone, start it, and make sure it runs.
            let svc = crate::os::KEEPALIVED_SERVICE;
            let active = || facts::host::service_active_fresh(n, services, svc);
            let _ = crate::poll::until(Duration::from_secs(30), || Ok(!active()?));
            n.transport
                .run_ok(&RemoteCommand::new(services.start_command(svc)))?;
            crate::poll::until(Duration::from_secs(30), active)
                .map_err(|_| anyhow!("{}: keepalived did not start again within 30 s", n.name))?;
        }
        FailoverMode::Hung => {
            // The pid file was read before the fault: this asks the stopped server nothing.
            let f = pid_file.ok_or_else(|| anyhow!("{}: no pid file for hung", n.name))?;
            n.transport
                .run_ok(&RemoteCommand::new(services.signal_server_command(
                    target.server_service(),
                    f,
                    "CONT",
                )))?;
            n.reset_sql();
        }
        FailoverMode::Partition => {
            // The node heals itself; wait until its interface is back up.
            crate::poll::until(Duration::from_secs(duration_s + 30), || {
                facts::fresh::<facts::host::LinkUp>(n, &inv.vip.interface)
            })
            .map_err(|_| anyhow!("{}: the interface did not come back", n.name))?;
            n.reset_sql();
        }
        FailoverMode::Isolate => unreachable!("handled above"),
    }
    Ok(())
}
