//! Step 7 (runbook 1.3.1.3-1.3.2.4): each node replicates from its peer as the
//! inventory's replication account, and mhactl confirms it does.
//!
//! Where a replica starts is the one decision here that can lose data:
//! - No replica configured (a new pair): at the peer's current binary log position.
//! - Already replicating from the peer as the inventory's account: nothing to do, or
//!   `START REPLICA` (it continues where it stopped); re-pointed as below when the
//!   password it keeps is not the inventory's (after the password changed).
//! - Any other existing replica (another account, e.g. the runbook's `hadoop`; the
//!   peer under another name): stopped, then pointed at the peer with the inventory's
//!   account *at the position it executed up to* (or by its GTID state): never past what
//!   it executed, which would silently skip the peer's events in between.
//! - A replica of some other server: refused, with what to do; mhactl cannot tell which
//!   of the peer's events such a node has.
//!
//! After every start or change, [`confirm_replication`] waits (bounded) until the replica
//! runs and executed up to the peer's position.

use super::shared::Ctx;
use crate::bootstrap::replication_confirm::{confirm_replication, SourceEndpoint, CONFIRM_TIMEOUT};
use crate::dialect::{
    Dialect, ReplicaHistory, ReplicaStatus, Repoint, RepointStart, StoredPassword,
};
use crate::engine::{Action, Change, Cluster, NodeHandle, Operation, Plan};
use crate::facts;
use anyhow::{anyhow, bail, Result};
use secrecy::ExposeSecret;
use std::sync::Arc;
use std::time::Duration;

/// Seconds between a replica's attempts to reconnect to its source: short, so a node
/// rejoins quickly after its peer restarts or fails over.
pub const CONNECT_RETRY_S: u32 = 2;

/// The replication step (see the module docs).
pub struct Replication(pub Arc<Ctx>);

impl Operation for Replication {
    fn name(&self) -> &'static str {
        "replication"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let plan = self.plan_replica(cluster, i)?;
        let (node, peer) = (&cluster.nodes[i], cluster.peer(i));
        let d = facts::dialect(node)?;
        let peer_addr = self.0.inv.peer(i).address.to_string();
        let (status, history) = replica_state(node, &d)?;
        let by_file_from_peer = status.is_some_and(|s| s.source_host == peer_addr)
            && history.is_some_and(|h| h.gtid.is_none());
        let Some(gap) = super::gtid_history::missing_before_replication(
            node,
            peer,
            &d,
            &self.0.inv,
            by_file_from_peer,
        )?
        else {
            return Ok(plan);
        };
        let what = format!(
            "record {}'s transactions from before this replica started, which it never \
             receives, as applied (gtid_purged += {gap})",
            peer.name
        );
        Ok(Plan::Change(match plan {
            Plan::Noop(_) => Change {
                summary: what,
                actions: vec![super::gtid_history::record_action(gap)],
                diff: None,
            },
            Plan::Change(mut change) => {
                change.summary = format!("{}; {what}", change.summary);
                change.actions.push(super::gtid_history::record_action(gap));
                change
            }
        }))
    }
}

impl Replication {
    /// The replica itself: started, re-pointed or created (see the module docs).
    fn plan_replica(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let peer = cluster.peer(i);
        let d = facts::dialect(node)?;
        let peer_addr = inv.peer(i).address.to_string();
        let (status, history) = replica_state(node, &d)?;
        let source = SourceEndpoint::of_node(inv, i);
        let points_at_peer = status.as_ref().is_some_and(|s| {
            s.source_host == peer_addr
                && s.source_port == inv.mysql.port
                && s.source_user == inv.mysql.replication_user
        });
        let password = self.0.secrets.replication_password.expose_secret();
        if let (true, Some(s)) = (points_at_peer, &status) {
            // A replica keeps the password it was given: after the inventory's changed,
            // it would fail at its next reconnect (1045). Re-point it, keeping its position.
            if stored_password_differs(node, &d, password)? {
                if let Some(h) = history {
                    return self.plan_repoint(cluster, i, &d, s, h, source);
                }
            }
            return plan_start(node, &d, s.clone(), source);
        }
        if let (Some(s), Some(h)) = (&status, history) {
            return self.plan_repoint(cluster, i, &d, s, h, source);
        }
        // No replica configured: a new pair starts at the peer's current position, by
        // GTID (its current GTID state) or by file and position.
        if crate::positioning::by_gtid(inv, &d) {
            let repoint = Repoint {
                host: peer_addr.clone(),
                port: inv.mysql.port,
                user: inv.mysql.replication_user.clone(),
                password: password.to_string(),
                connect_retry: CONNECT_RETRY_S,
                start: RepointStart::UseGtid,
            };
            return Ok(Plan::Change(Change {
                summary: format!(
                    "replicate from {} ({peer_addr}) by GTID, starting at its current GTID state",
                    peer.name
                ),
                actions: vec![
                    new_gtid_replica(repoint, tls_sql(inv, node, &d)?),
                    confirm(source),
                ],
                diff: None,
            }));
        }
        let coords = facts::binlog_coordinates(peer)?;
        let change = crate::dialect::ChangeSource {
            host: peer_addr.clone(),
            port: inv.mysql.port,
            user: inv.mysql.replication_user.clone(),
            password: self
                .0
                .secrets
                .replication_password
                .expose_secret()
                .to_string(),
            log_file: coords.file.clone(),
            log_pos: coords.position,
            connect_retry: CONNECT_RETRY_S,
        };
        Ok(Plan::Change(Change {
            summary: format!(
                "replicate from {} ({peer_addr}) starting at {}:{}",
                peer.name, coords.file, coords.position
            ),
            actions: vec![
                Action::Sql(
                    [d.stop_replica_sql(), d.change_source_sql(&change)]
                        .into_iter()
                        .chain(tls_sql(inv, node, &d)?)
                        .chain([d.start_replica_sql()])
                        .collect(),
                ),
                confirm(source),
            ],
            diff: None,
        }))
    }
}

impl Replication {
    /// An existing replica not yet as the inventory wants it: re-pointed at the peer,
    /// keeping what it executed. Refused when its source is not provably the peer.
    fn plan_repoint(
        &self,
        cluster: &Cluster,
        i: usize,
        d: &Dialect,
        s: &ReplicaStatus,
        h: ReplicaHistory,
        source: SourceEndpoint,
    ) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let peer = cluster.peer(i);
        let was = format!(
            "{}@{}:{}",
            if s.source_user.is_empty() {
                "?"
            } else {
                &s.source_user
            },
            s.source_host,
            s.source_port
        );
        let (n, p, reset) = (&node.name, &peer.name, d.reset_replica_all_sql());
        // What to do when mhactl cannot tell where the replica must continue.
        let choices = format!(
            "If {n} has all of {p}'s data up to {p}'s current position, run {reset} on {n} and run \
             mhactl again (it then starts at {p}'s current position); otherwise rebuild it with \
             `mhactl reinit {n} --yes-destroy-data`"
        );
        let same_address = s.source_host == source.peer_addr && s.source_port == inv.mysql.port;
        if !same_address {
            let pd = facts::dialect(peer)?;
            let identity =
                pd.parse_server_identity(&peer.with_sql(|q| q.query(&pd.server_identity_sql()))?)?;
            if !h.last_source_was(&identity) {
                bail!(
                    "{n}: replication: it replicates from {was}, which mhactl cannot tell is {p} \
                     ({}:{}): re-pointing it could skip or repeat {p}'s events. {choices}",
                    source.peer_addr,
                    inv.mysql.port
                );
            }
        }
        let keeps = match (&h.gtid, &h.executed) {
            (Some(mode), _) => format!("its GTID position (Using_Gtid/Auto_Position: {mode})"),
            (None, Some(at)) => format!("the position it executed up to (now {at})"),
            (None, None) => bail!(
                "{n}: replication: it is configured to replicate from {was} but has no executed \
                 position and does not use GTIDs, so mhactl cannot tell where it must continue. \
                 {choices}"
            ),
        };
        let repoint = Repoint {
            host: source.peer_addr.clone(),
            port: inv.mysql.port,
            user: inv.mysql.replication_user.clone(),
            password: self
                .0
                .secrets
                .replication_password
                .expose_secret()
                .to_string(),
            connect_retry: CONNECT_RETRY_S,
            // A placeholder: the action decides from what the replica says once stopped.
            start: RepointStart::Gtid,
        };
        let was = if s.source_user == inv.mysql.replication_user && same_address {
            format!("{was} with another password")
        } else {
            was
        };
        Ok(Plan::Change(Change {
            summary: format!(
                "re-point replication from {} ({}) as {} (was {was}), keeping {keeps}",
                source.peer, source.peer_addr, inv.mysql.replication_user
            ),
            actions: vec![
                repoint_action(repoint, tls_sql(inv, node, d)?),
                confirm(source),
            ],
            diff: None,
        }))
    }
}

/// True when the replica on `node` keeps a source password other than `password`; false
/// when it keeps that one or mhactl cannot read it (MySQL 5.7's default file repository:
/// then a wrong password shows as the confirmation's IO error 1045). The stored password is
/// compared in memory and never shown.
fn stored_password_differs(node: &NodeHandle, d: &Dialect, password: &str) -> Result<bool> {
    // Issue 21: facts, read in the run's batches (before: a query, then the file, after
    // them). The kept password changes only with a `CHANGE MASTER`, after which the
    // engine drops them: the value read a few hundred milliseconds earlier in this run is
    // the one a read of its own would get.
    let stored = match d.stored_source_password() {
        StoredPassword::Query(_) => {
            facts::get::<facts::replica_source::StoredSourcePassword>(node, &())?
        }
        StoredPassword::DataDirFile { file, .. } => match facts::variable(node, "datadir")? {
            Some(dir) if !dir.is_empty() => {
                let path = std::path::Path::new(&dir).join(file);
                facts::get::<facts::replica_source::InfoFilePassword>(node, &path)?
            }
            _ => None,
        },
    };
    Ok(stored.is_some_and(|stored| stored.expose_secret() != password))
}

/// The replica status and history of `node`, from one status query.
fn replica_state(
    node: &NodeHandle,
    d: &Dialect,
) -> Result<(Option<ReplicaStatus>, Option<ReplicaHistory>)> {
    let state = facts::get::<facts::server::ReplicaStatusFact>(node, &())?;
    let status = state.status.map_err(|e| anyhow::anyhow!(e))?;
    Ok((status, d.replica_history(&state.rows)?))
}

/// A replica already pointing at the peer as the inventory's account: nothing to do
/// when both threads run, else start it (it continues where it stopped).
fn plan_start(
    node: &NodeHandle,
    d: &Dialect,
    mut s: ReplicaStatus,
    source: SourceEndpoint,
) -> Result<Plan> {
    // The IO thread reconnects by itself after the peer restarted (connect_retry):
    // a transient state, not something to change. Give it a few retries' time.
    if s.sql_running && !s.io_running && s.last_sql_errno == 0 {
        let _ = crate::poll::until(Duration::from_secs(3 * CONNECT_RETRY_S as u64 + 2), || {
            // A wait inside planning: read the node now, not the plan's cached status.
            if let Some(now) = facts::replica_status_fresh(node)? {
                s = now;
            }
            Ok(s.io_running)
        });
    }
    if s.io_running && s.sql_running {
        return Ok(Plan::Noop(format!(
            "replicating from {} ({}); IO and SQL threads running, {} s behind",
            source.peer,
            source.peer_addr,
            s.seconds_behind
                .map(|x| x.to_string())
                .unwrap_or_else(|| "?".into())
        )));
    }
    // An IO thread still `Connecting` may be in the middle of a connection attempt
    // that waits out the connect timeout (a minute) although the peer is reachable
    // again: restart it so it connects now.
    let mut statements = Vec::new();
    if !s.io_running && s.sql_running {
        statements.push(d.stop_replica_io_sql());
    }
    statements.push(d.start_replica_sql());
    Ok(Plan::Change(Change {
        summary: format!("start replication from {}", source.peer),
        actions: vec![Action::Sql(statements), confirm(source)],
        diff: None,
    }))
}

/// Stop the replica, read how far it executed *now* (the plan's reading is stale under
/// writes), point it at the peer with the new account from exactly there, start it.
fn repoint_action(template: Repoint, tls: Option<String>) -> Action {
    Action::Custom(
        "stop replication, read the position it executed up to, CHANGE MASTER with the \
         inventory's account at that position (or its GTID state), start replication"
            .into(),
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            let d = facts::dialect(node)?;
            node.with_sql(|sql| sql.exec(&d.stop_replica_sql()))?;
            let (_, history) = replica_state(node, &d)?;
            let h = history.ok_or_else(|| {
                anyhow!(
                    "{}: replication: the replica configuration disappeared while re-pointing it",
                    node.name
                )
            })?;
            let start = match (h.gtid, h.executed) {
                (Some(_), _) => RepointStart::Gtid,
                (None, Some(at)) => RepointStart::Executed(at),
                (None, None) => bail!(
                    "{}: replication: after stopping it, the replica reports no executed position; \
                     it was left stopped and unchanged",
                    node.name
                ),
            };
            let repoint = Repoint {
                start,
                ..template.clone()
            };
            let changed = node.with_sql(|sql| {
                sql.exec(&d.repoint_source_sql(&repoint))?;
                match &tls {
                    Some(statement) => sql.exec(statement),
                    None => Ok(()),
                }
            });
            if let Err(e) = changed {
                // The server refused the change (e.g. MySQL's 1802, gaps left by a
                // multi-threaded replica): leave the replica running as it was.
                let restarted = node.with_sql(|sql| sql.exec(&d.start_replica_sql()));
                return Err(e.context(format!(
                    "{}: replication: re-pointing at {} failed; the replica {}",
                    node.name,
                    match &repoint.start {
                        RepointStart::Executed(at) => at.to_string(),
                        RepointStart::Gtid | RepointStart::UseGtid => "its GTID position".into(),
                    },
                    if restarted.is_ok() {
                        "was started again with its previous settings"
                    } else {
                        "is stopped, with its previous settings"
                    }
                )));
            }
            node.with_sql(|sql| sql.exec(&d.start_replica_sql()))
        }),
    )
}

/// A new replica positioning by GTID: stopped, given the peer's GTID state read now (the
/// plan's reading is stale: the peer's replica may have started meanwhile), pointed at
/// the peer with GTID positioning, started. The peer's earlier transactions are not
/// replayed, as a file/position replica starts at the peer's current position.
fn new_gtid_replica(repoint: Repoint, tls: Option<String>) -> Action {
    Action::Custom(
        "stop replication, start the replica at the peer's current GTID state (MariaDB \
         gtid_slave_pos; MySQL the peer's gtid_executed added to gtid_purged), CHANGE MASTER \
         with GTID positioning, start replication"
            .into(),
        Box::new(move |cluster: &Cluster, i| {
            let (node, peer) = (&cluster.nodes[i], cluster.peer(i));
            let (d, pd) = (facts::dialect(node)?, facts::dialect(peer)?);
            let state = peer
                .with_sql(|q| q.query(&pd.gtid_source_state_sql()))?
                .first()
                .and_then(|r| crate::sql::get(r, "gtid"))
                .unwrap_or_default()
                .replace('\n', "");
            // `gtid_purged` writes mysql.gtid_executed: refused on a fenced MySQL node.
            node.with_admin_write(|sql| {
                sql.exec(&d.stop_replica_sql())?;
                let value = sql
                    .query(&d.gtid_seed_query(&state))?
                    .first()
                    .and_then(|r| crate::sql::get(r, "value"))
                    .unwrap_or_default()
                    .replace('\n', "");
                if let Some(seed) = d.gtid_seed_sql(&state, &value) {
                    sql.exec(&seed)?;
                }
                sql.exec(&d.repoint_source_sql(&repoint))?;
                if let Some(statement) = &tls {
                    sql.exec(statement)?;
                }
                sql.exec(&d.start_replica_sql())
            })
            .map_err(|e| {
                e.context(format!(
                    "{}: replication: starting the replica by GTID at {}'s state {state:?}",
                    node.name, peer.name
                ))
            })
        }),
    )
}

/// With TLS on, the replica's TLS settings for a new or re-pointed replica (the peer's
/// account may already require TLS: `replication-tls` made it so on an earlier run).
fn tls_sql(
    inv: &crate::inventory::Inventory,
    node: &NodeHandle,
    d: &Dialect,
) -> Result<Option<String>> {
    if !inv.tls.enabled {
        return Ok(None);
    }
    let (os, _) = facts::os_target(node, inv.mysql.flavor)?;
    let ca = crate::os::tls::tls_path(&os, crate::os::tls::CA_FILE);
    Ok(Some(d.replica_tls_sql(Some(&ca))))
}

/// The bounded confirmation after every start or change.
fn confirm(source: SourceEndpoint) -> Action {
    confirm_as(source, "replication")
}

/// [`confirm`] for step `step` (named in its messages): also `gtid-conversion`'s.
pub(super) fn confirm_as(source: SourceEndpoint, step: &'static str) -> Action {
    Action::Custom(
        format!(
            "confirm within {} s that the IO and SQL threads run and the replica executed up to \
             {}'s binary log position read after the start",
            CONFIRM_TIMEOUT.as_secs(),
            source.peer
        ),
        Box::new(move |cluster: &Cluster, i| {
            confirm_replication(cluster, i, &source, step, CONFIRM_TIMEOUT).map(|_| ())
        }),
    )
}
