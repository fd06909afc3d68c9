//! Step `replication-user`: the replication account on each node.

use super::shared::{account_sql, Ctx};
use crate::engine::{Change, Cluster, Operation, Plan};
use crate::facts;
use crate::transport::ForwardTarget;
use anyhow::Result;
use secrecy::ExposeSecret;
use std::sync::Arc;

/// Step 6 (runbook 1.3.1.2): the replication account, allowed only from the peer's
/// address, with replication privileges only. Managed with the binary log off for the
/// session: each node has its own account (for its own peer), which must not replicate.
pub(super) struct ReplicationUser(pub(super) Arc<Ctx>);

impl Operation for ReplicationUser {
    fn name(&self) -> &'static str {
        "replication-user"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let d = facts::dialect(node)?;
        let user = &inv.mysql.replication_user;
        let host = inv.peer(i).address.to_string();
        let password = self.0.secrets.replication_password.expose_secret();
        let account = crate::dialect::quote_account(user, &host);
        crate::bootstrap::account_guard::refuse_foreign_hosts(node, user, &host)?;
        let exists = facts::accounts::account_exists(node, user, &host)?;
        // Asked before the password's check (which may log in): planned ahead,
        // the grants come in the run's batches instead of a query of their own after it.
        // The same grants either way: only this step's change alters them, and the
        // engine drops them after it.
        let grants = exists.then(|| facts::accounts::grant_lines(node, user, &host));
        let mut statements = vec![d.session_no_binlog_sql()];
        let mut what = Vec::new();
        if !exists {
            statements.push(d.create_replication_user_sql(user, &host, password));
            what.push(format!("create {account}"));
        } else if !password_matches(cluster, i, &self.0)? {
            statements.push(d.alter_user_password_sql(user, &host, password));
            what.push(format!("set the password of {account}"));
        }
        let grants_ok = match grants {
            Some(grants) => d.grants_cover_replication(&grants?),
            None => false,
        };
        if !grants_ok {
            statements.push(d.grant_replication_sql(user, &host));
            what.push(format!("grant replication privileges to {account}"));
        }
        if what.is_empty() {
            return Ok(Plan::Noop(format!(
                "{account} exists with replication privileges only"
            )));
        }
        statements.push(d.session_binlog_sql());
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions: vec![account_sql(
                statements,
                "the inventory's replication password",
            )],
            diff: None,
        }))
    }
}

/// Does the replication account on node `i` accept the inventory's password?
///
/// Told from the stored hash where its plugin's is comparable here (native and
/// caching_sha2_password: [`crate::dialect::Dialect::stored_password_matches`]). Any
/// other plugin on MySQL: mhactl logs in as the account, from the peer (the only address
/// the account allows) to this node's server over TCP, the way replication itself will
/// log in; access denied (1045) means the password differs.
fn password_matches(cluster: &Cluster, i: usize, ctx: &Ctx) -> Result<bool> {
    let inv = &ctx.inv;
    let node = &cluster.nodes[i];
    let user = &inv.mysql.replication_user;
    let host = inv.peer(i).address.to_string();
    let password = &ctx.secrets.replication_password;
    // Issue 21: compared with the stored hash, read in the run's batches (no login).
    let account = facts::accounts::account(user, &host);
    if let Some(matches) = facts::stored_hash::password_matches(node, &account, password)? {
        return Ok(matches);
    }
    let login = crate::sql::Login {
        user: user.clone(),
        password: Some(password.clone()),
        // As replication logs in: over TLS when the account requires it (an account
        // of a pair not yet converged to TLS does not, and its server may not have
        // the cluster's certificate yet), or when the server requires it of every
        // TCP login (`mysql.require_secure_transport`: its certificate came first).
        tls_ca: match facts::tls::account_ssl_type(node, user, &host)?.as_deref() {
            Some("ANY") => crate::tls::ca_path(inv),
            _ => crate::tls::client_ca_path(inv),
        },
    };
    let target = ForwardTarget::Tcp(inv.nodes[i].address.to_string(), inv.mysql.port);
    match cluster.peer(i).login(&target, &login) {
        Ok(_) => Ok(true),
        Err(e) if crate::sql::server_error_code(&e) == Some(1045) => Ok(false),
        Err(e) => Err(e.context(format!(
            "checking the password of {} by logging in from {}",
            crate::dialect::quote_account(user, &host),
            cluster.peer(i).name
        ))),
    }
}
