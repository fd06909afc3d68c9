//! Step `replication-tls` (issue 19): each replica connects to its peer over TLS and
//! verifies the peer's certificate against the cluster CA (`MASTER_SSL=1`,
//! `MASTER_SSL_VERIFY_SERVER_CERT=1`; MySQL 8.0.23+ `SOURCE_*`), and the replication
//! account each node holds for its peer requires TLS (`REQUIRE SSL`), so that a login
//! without TLS is refused. With `tls.enabled: false`, both are undone.
//!
//! Runs after `replication` (the replica exists and runs); turning TLS off also runs
//! before `server-config` as `replication-tls-off` ([`Phase`]). Changing only the SSL options
//! names no host, so the replica keeps its position; it is stopped for the change and
//! started again, then confirmed as after any change. Order on each node: turning TLS
//! on, the replica first, then the account (a connected replica keeps its connection:
//! the requirement is checked at login); turning it off, the account first.

use super::shared::{account_sql, Ctx};
use crate::dialect::ReplicaTls;
use crate::engine::{Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::os::tls::CA_FILE;
use crate::replication_confirm::{confirm_replication, SourceEndpoint, CONFIRM_TIMEOUT};
use anyhow::Result;
use std::sync::Arc;

/// The `replication-tls` step, in one of its two places.
pub(super) struct ReplicationTls(pub(super) Arc<Ctx>, pub(super) Phase);

/// Where the step runs: TLS is turned on once the servers have their certificates
/// (after `server-config` and `replication`), and off before `server-config` takes the
/// certificates away (a replica that requires TLS of a server without it stops with
/// error 2026).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    /// `replication-tls-off`, before `server-config`: only turns TLS off.
    BeforeServerConfig,
    /// `replication-tls`, after `replication`: either way.
    AfterReplication,
}

impl Operation for ReplicationTls {
    fn name(&self) -> &'static str {
        match self.1 {
            Phase::BeforeServerConfig => "replication-tls-off",
            Phase::AfterReplication => "replication-tls",
        }
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        if self.1 == Phase::BeforeServerConfig && inv.tls.enabled {
            return Ok(Plan::Noop(
                "TLS for replication is on (set up after the replication step)".into(),
            ));
        }
        let node = &cluster.nodes[i];
        let d = facts::dialect(node)?;
        let (target, _) = facts::os_target(node, inv.mysql.flavor)?;
        let on = inv.tls.enabled;
        let ca = on.then(|| crate::os::tls::tls_path(&target, CA_FILE));
        let state = facts::get::<facts::server::ReplicaStatusFact>(node, &())?;
        let Some(replica) = ReplicaTls::from_rows(&state.rows)? else {
            return Ok(Plan::Noop("no replica configured".into()));
        };
        let user = &inv.mysql.replication_user;
        let host = inv.peer(i).address.to_string();
        let account = crate::dialect::quote_account(user, &host);
        let ssl_type = facts::tls::account_ssl_type(node, user, &host)?;
        let account_ok = match ssl_type.as_deref() {
            None => true, // no account: replication-user's business
            Some(t) => t.eq_ignore_ascii_case(if on { "ANY" } else { "" }),
        };
        let replica_ok = replica.is(ca.as_deref());
        let peer = &cluster.peer(i).name;
        if replica_ok && account_ok {
            return Ok(Plan::Noop(if on {
                format!(
                    "replicating from {peer} over TLS, its certificate verified against {}; \
                     {account} requires TLS",
                    ca.as_deref().unwrap_or_default()
                )
            } else {
                format!("TLS off (tls.enabled: false): replica and {account} without TLS")
            }));
        }
        let mut replica_actions = Vec::new();
        let mut what = Vec::new();
        if !replica_ok {
            replica_actions.push(Action::Sql(vec![
                d.stop_replica_sql(),
                d.replica_tls_sql(ca.as_deref()),
                d.start_replica_sql(),
            ]));
            let source = SourceEndpoint::of_node(inv, i);
            replica_actions.push(Action::Custom(
                format!(
                    "confirm within {} s that the replica runs again and caught up with {peer}",
                    CONFIRM_TIMEOUT.as_secs()
                ),
                Box::new(move |cluster: &Cluster, i| {
                    confirm_replication(cluster, i, &source, "replication-tls", CONFIRM_TIMEOUT)
                        .map(|_| ())
                }),
            ));
            what.push(if on {
                format!("replicate from {peer} over TLS, verifying its certificate")
            } else {
                format!("replicate from {peer} without TLS")
            });
        }
        let account_action = (!account_ok).then(|| {
            what.push(format!(
                "{account} {}",
                if on { "REQUIRE SSL" } else { "REQUIRE NONE" }
            ));
            account_sql(
                vec![
                    d.session_no_binlog_sql(),
                    d.require_ssl_sql(user, &host, on),
                    d.session_binlog_sql(),
                ],
                "the replication account",
            )
        });
        let actions = if on {
            replica_actions.into_iter().chain(account_action).collect()
        } else {
            account_action.into_iter().chain(replica_actions).collect()
        };
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions,
            diff: None,
        }))
    }
}
