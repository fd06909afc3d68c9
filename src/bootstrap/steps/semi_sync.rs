//! Step `semi-sync` (issue 19): the running server's semi-synchronous replication as
//! the inventory's `mysql.semi_sync` asks (on by default), without a restart. On MySQL
//! it installs the plugins (`INSTALL PLUGIN`, registered in `mysql.plugin`, so every
//! later start loads them and reads the `loose-` lines of mhactl's option file); on both
//! flavors it sets the variables with `SET GLOBAL` (the wait settings first, the
//! switches last) and restarts the replica's IO thread, which is when a running replica
//! takes the switch: the SQL thread and the VIP are untouched, so a running pair changes
//! without an outage. Turning it off sets the switches off and restarts the IO thread;
//! MySQL's plugins stay installed and idle (uninstalling needs no semi-sync replica
//! connected, and gains nothing).
//!
//! Runs after `replication` (the replica exists) and `replication-tls`; `server-config`
//! only writes the option file's semi-sync lines (`dialect::OptionPath::FileOnly`).
//! With `writes: vip-holder` the source side follows the VIP (the fence agent keeps it on
//! on the holder only; docs/failover.md): this step leaves it alone on the passive node.

use super::shared::Ctx;
use crate::dialect::Dialect;
use crate::engine::{Action, Change, Cluster, NodeHandle, Operation, Plan};
use crate::facts;
use crate::facts::server::GlobalStatus;
use crate::facts::tables::GlobalVariables;
use anyhow::{anyhow, Result};
use std::sync::Arc;
use std::time::Duration;

/// How long this node's IO thread restart waits for the peer's plugins (the peer's own
/// `semi-sync` step runs at the same time) and then for its replica to acknowledge.
const PEER_WAIT: Duration = Duration::from_secs(30);

/// The `semi-sync` step.
pub(super) struct SemiSync(pub(super) Arc<Ctx>);

impl Operation for SemiSync {
    fn name(&self) -> &'static str {
        "semi-sync"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let d = facts::dialect(node)?;
        let on = inv.mysql.semi_sync;
        let timeout = inv.mysql.semi_sync_timeout_ms;
        let names = d.semi_sync_names();
        if on && !d.semi_sync_supported() {
            return Err(anyhow!(
                "{}: semi-synchronous replication needs MariaDB 10.3.3 or later (this is {}); \
                 set mysql.semi_sync: false",
                node.name,
                d.version()
            ));
        }
        let running = variables(node, &d, false)?;
        let value = |name: &str| {
            running
                .iter()
                .find(|(k, _)| k == name)
                .and_then(|(_, v)| v.clone())
        };
        // MySQL without its plugins has none of the variables.
        let plugins_missing =
            value(names.source_enabled).is_none() && !d.semi_sync_plugins().is_empty();
        if !on && value(names.source_enabled).is_none() {
            return Ok(Plan::Noop(
                "off (mysql.semi_sync: false); the semi-sync plugins are not loaded".into(),
            ));
        }
        // Where the source side follows the VIP, the fence agent switches it (on while
        // the node holds the VIP, off a moment after its fence): this step sets it only
        // on the VIP holder, so that the pair is complete when bootstrap ends.
        let follows = d.semi_sync_source_follows_vip(on, inv.writes);
        let agent_owns = follows && !facts::holds_vip(node, inv)?;
        let wanted: Vec<(&'static str, String)> = d
            .semi_sync_running_values(on, timeout)
            .into_iter()
            .filter(|(k, _)| !(agent_owns && *k == names.source_enabled))
            .collect();
        let sets: Vec<(&'static str, String)> = wanted
            .iter()
            .filter(|(k, want)| {
                !value(k).is_some_and(|now| crate::dialect::same_running_value(&now, want))
            })
            .cloned()
            .collect();
        // Issue 21: as this run's batches read them (not a status query and a replica
        // status of their own after them): the plan decides from one snapshot, like the
        // replication step's, and a change (this run's `replication`, say) drops them, so
        // what the next batch reads is after it. The wait below reads them fresh.
        // Both asked before either answers: planned ahead, they come in one batch.
        let (io_running, replica_acks) = (
            replica_io_running(node, false),
            status_on(node, names.replica_status, false),
        );
        let (io_running, replica_acks) = (io_running?, replica_acks?);
        // A running IO thread takes the switch only when it starts again; a stopped one
        // (the peer down, replication not set up) takes it when it starts.
        let restart_io = io_running && replica_acks != on;
        if sets.is_empty() && !restart_io {
            return Ok(Plan::Noop(if on {
                format!(
                    "on: commits wait up to {timeout} ms for the peer (AFTER_SYNC, no wait \
                     while no semi-sync replica is connected){}; {}",
                    match (follows, agent_owns) {
                        (false, _) => "",
                        (true, false) => {
                            ", the source side on this VIP holder (the fence agent switches it)"
                        }
                        (true, true) => {
                            ", the source side left to the fence agent on this passive node"
                        }
                    },
                    if replica_acks {
                        "this node's replica acknowledges"
                    } else {
                        "this node's replica is not running (it acknowledges once it runs)"
                    }
                )
            } else {
                "off (mysql.semi_sync: false): asynchronous replication".into()
            }));
        }
        let mut what = Vec::new();
        let mut actions = Vec::new();
        if on && plugins_missing {
            let plugins = d.semi_sync_plugins();
            let statements: Vec<String> = plugins
                .iter()
                .map(|(name, lib)| d.install_plugin_sql(name, lib))
                .collect();
            what.push(format!(
                "install the plugins {}",
                plugins
                    .iter()
                    .map(|(n, _)| *n)
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
            actions.push(Action::Custom(
                format!(
                    "{} (as an admin write: refused under super_read_only)",
                    statements.join("; ")
                ),
                Box::new(move |cluster: &Cluster, i| {
                    cluster.nodes[i].with_admin_write(|sql| {
                        for s in &statements {
                            sql.exec(s).map_err(|e| anyhow!("{s}: {e:#}"))?;
                        }
                        Ok(())
                    })
                }),
            ));
        }
        // After installing, every wanted value is set (the plugin's defaults are not ours).
        let sets = if on && plugins_missing { wanted } else { sets };
        if !sets.is_empty() {
            let statements = sets
                .iter()
                .map(|(k, v)| d.set_semi_sync_sql(k, v))
                .collect::<Result<Vec<_>>>()?;
            what.push(
                sets.iter()
                    .map(|(k, v)| format!("{k} = {v}"))
                    .collect::<Vec<_>>()
                    .join(", "),
            );
            actions.push(Action::Sql(statements));
        }
        if restart_io {
            let peer = cluster.peer(i).name.clone();
            what.push(format!(
                "restart the replica's IO thread so that it {} {peer}'s commits (no restart of the server)",
                if on { "acknowledges" } else { "stops acknowledging" }
            ));
            actions.push(restart_io_thread(on));
        }
        Ok(Plan::Change(Change {
            summary: format!(
                "semi-sync {} without a restart: {}",
                if on { "on" } else { "off" },
                what.join("; ")
            ),
            actions,
            diff: None,
        }))
    }
}

/// The semi-sync variables as the server runs them (`None`: not there, no plugin).
fn variables(node: &NodeHandle, d: &Dialect, fresh: bool) -> Result<Vec<(String, Option<String>)>> {
    let names: Vec<String> = d
        .semi_sync_names()
        .variables()
        .iter()
        .map(|s| s.to_string())
        .collect();
    if fresh {
        facts::fresh::<GlobalVariables>(node, &names)
    } else {
        facts::get::<GlobalVariables>(node, &names)
    }
}

/// A status variable reads `ON` (`fresh`: read now, for waits; else as cached).
fn status_on(node: &NodeHandle, name: &'static str, fresh: bool) -> Result<bool> {
    let values = if fresh {
        facts::fresh::<GlobalStatus>(node, &[name])?
    } else {
        facts::get::<GlobalStatus>(node, &[name])?
    };
    Ok(values
        .first()
        .and_then(|(_, v)| v.as_deref())
        .is_some_and(|v| v.eq_ignore_ascii_case("ON")))
}

/// This node's replica IO thread runs (`fresh`: read now, for waits; else as cached).
fn replica_io_running(node: &NodeHandle, fresh: bool) -> Result<bool> {
    let state = if fresh {
        facts::fresh::<facts::server::ReplicaStatusFact>(node, &())?
    } else {
        facts::get::<facts::server::ReplicaStatusFact>(node, &())?
    };
    Ok(state
        .status
        .map_err(|e| anyhow!("{}: replica status: {e}", node.name))?
        .is_some_and(|s| s.io_running))
}

/// Restart the IO thread (waiting first, when turning on, until the peer serves
/// semi-sync: its plugins are installed by its own step, in parallel), then wait until
/// the replica acknowledges (or stopped acknowledging).
fn restart_io_thread(on: bool) -> Action {
    Action::Custom(
        format!(
            "wait until the peer serves semi-sync, restart the replica's IO thread and wait \
             until it {} (at most {} s each)",
            if on {
                "acknowledges"
            } else {
                "no longer acknowledges"
            },
            PEER_WAIT.as_secs()
        ),
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            let peer = cluster.peer(i);
            let d = facts::dialect(node)?;
            let names = d.semi_sync_names();
            if on {
                let pd = facts::dialect(peer)?;
                crate::poll::until(PEER_WAIT, || {
                    let vars = variables(peer, &pd, true)?;
                    Ok(vars
                        .iter()
                        .find(|(k, _)| k == pd.semi_sync_names().source_enabled)
                        .is_some_and(|(_, v)| v.is_some()))
                })
                .map_err(|_| {
                    anyhow!(
                        "{}: semi-sync: {} has no semi-sync source within {} s",
                        node.name,
                        peer.name,
                        PEER_WAIT.as_secs()
                    )
                })?;
            }
            node.with_sql(|sql| {
                for s in [d.stop_replica_io_sql(), d.start_replica_io_sql()] {
                    sql.exec(&s).map_err(|e| anyhow!("{s}: {e:#}"))?;
                }
                Ok(())
            })?;
            crate::poll::until(PEER_WAIT, || {
                // A replica whose IO thread cannot connect (the peer down meanwhile)
                // acknowledges once it does: nothing to wait for.
                Ok(status_on(node, names.replica_status, true)? == on
                    || !replica_io_running(node, true)?)
            })
            .map_err(|_| {
                anyhow!(
                    "{}: semi-sync: {} is not {} {} s after the IO thread restarted",
                    node.name,
                    names.replica_status,
                    if on { "ON" } else { "OFF" },
                    PEER_WAIT.as_secs()
                )
            })
        }),
    )
}
