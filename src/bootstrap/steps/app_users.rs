//! Step `app-users` (the runbook's 1.2.3, done safely): the inventory's `access.users`,
//! each an account per client network on both nodes, with exactly the privileges the
//! inventory lists. Created with the binary log off for the session (like the
//! replication account), so each node holds its own copy and nothing is replicated
//! twice; mhactl owns every account with a listed name (hosts no longer listed are
//! dropped), and never touches `root`.

use super::shared::Ctx;
use crate::dialect::{grant_changes, quote_account, quote_string, Dialect};
use crate::engine::{Change, Cluster, Operation, Plan};
use crate::facts;
use crate::inventory;
use crate::transport::ForwardTarget;
use anyhow::{anyhow, bail, Result};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;

/// Name of the short-lived account that checks a MySQL password (see [`password_ok`]).
pub const PASSWORD_CHECK_USER: &str = "mhactl_pwcheck";

/// The `app-users` step.
pub struct AppUsers(pub Arc<Ctx>);

impl Operation for AppUsers {
    fn name(&self) -> &'static str {
        "app-users"
    }

    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        if inv.access.users.is_empty() {
            return Ok(Plan::Noop("no access.users in the inventory".into()));
        }
        let node = &cluster.nodes[i];
        let d = facts::dialect(node)?;
        let mut statements = vec![d.session_no_binlog_sql()];
        let mut what = Vec::new();
        let mut fine = Vec::new();
        for (u, user) in inv.access.users.iter().enumerate() {
            let password = self
                .0
                .secrets
                .user_passwords
                .get(u)
                .ok_or_else(|| anyhow!("access.users[{u}]: password not resolved"))?;
            let (wanted, hosts) = wanted_account(u, user)?;
            let existing = account_hosts(node, &user.name)?;
            for stale in existing.iter().filter(|h| !hosts.contains(h)) {
                let account = quote_account(&user.name, stale);
                statements.push(d.drop_user_sql(&user.name, stale));
                what.push(format!(
                    "drop {account} (not in access.users[{u}].networks)"
                ));
            }
            for host in &hosts {
                let account = quote_account(&user.name, host);
                let exists = existing.contains(host);
                let actual = if exists {
                    if !password_ok(cluster, i, inv, &d, &user.name, host, password)? {
                        statements.push(d.alter_user_password_sql(
                            &user.name,
                            host,
                            password.expose_secret(),
                        ));
                        what.push(format!("set the password of {account}"));
                    }
                    inventory::parse_show_grants(&grant_lines(node, &user.name, host)?)
                } else {
                    statements.push(d.create_replication_user_sql(
                        &user.name,
                        host,
                        password.expose_secret(),
                    ));
                    what.push(format!("create {account}"));
                    Default::default()
                };
                let changes = grant_changes(&account, &wanted, &actual);
                if !changes.is_empty() {
                    what.push(format!("grants of {account}: {}", changes.join("; ")));
                    statements.extend(changes);
                } else if exists {
                    fine.push(account);
                }
            }
        }
        if what.is_empty() {
            return Ok(Plan::Noop(format!(
                "{} with exactly the inventory's privileges",
                fine.join(", ")
            )));
        }
        statements.push(d.session_binlog_sql());
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions: vec![super::shared::account_sql(
                statements,
                "an access.users password",
            )],
            diff: None,
        }))
    }
}

// Shared with verify (and the account guard), so they live below both.
pub use crate::accounts::{account_hosts, grant_lines, wanted_account, Grants};

/// Does `user@host` on node `i` accept `password`?
///
/// Told from the stored hash where its plugin's is comparable here (native and
/// caching_sha2_password: [`Dialect::stored_password_matches`]). Any other plugin on
/// MySQL: the account only admits its client networks, so mhactl copies the stored hash
/// to a short-lived account for the peer's address
/// ([`PASSWORD_CHECK_USER`], no privileges, binary log off), logs in as it from the
/// peer over TCP with the inventory's password, and drops it again.
fn password_ok(
    cluster: &Cluster,
    i: usize,
    inv: &inventory::Inventory,
    d: &Dialect,
    user: &str,
    host: &str,
    password: &SecretString,
) -> Result<bool> {
    let node = &cluster.nodes[i];
    let account = crate::facts::accounts::account(user, host);
    if let Some(matches) = crate::facts::stored_hash::password_matches(node, &account, password)? {
        return Ok(matches);
    }
    let rows = node.with_sql(|s| s.query(&d.account_auth_sql(user, host)))?;
    let row = rows
        .first()
        .ok_or_else(|| anyhow!("{}: no account {user}@{host}", node.name))?;
    let plugin = crate::sql::get(row, "plugin")
        .unwrap_or_default()
        .to_string();
    let auth = crate::sql::get(row, "auth").unwrap_or_default().to_string();
    if plugin.is_empty()
        || !plugin
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_')
    {
        bail!(
            "{}: {user}@{host} has an unexpected authentication plugin {plugin:?}",
            node.name
        );
    }
    let peer_addr = inv.peer(i).address.to_string();
    let create = d.create_user_with_hash_sql(
        PASSWORD_CHECK_USER,
        &peer_addr,
        &plugin,
        &auth_literal(&auth),
    );
    node.with_admin_write(|s| {
        s.exec(&d.session_no_binlog_sql())?;
        s.exec(&d.drop_user_if_exists_sql(PASSWORD_CHECK_USER, &peer_addr))?;
        s.exec(&create)?;
        s.exec(&d.session_binlog_sql())
    })?;
    let login = crate::sql::Login {
        user: PASSWORD_CHECK_USER.into(),
        password: Some(password.clone()),
        // Over TLS when the servers refuse TCP logins without it.
        tls_ca: crate::tls::client_ca_path(inv),
    };
    let target = ForwardTarget::Tcp(inv.nodes[i].address.to_string(), inv.mysql.port);
    let result = crate::sql::MysqlConn::connect(&cluster.peer(i).transport, &target, &login);
    node.with_admin_write(|s| {
        s.exec(&d.session_no_binlog_sql())?;
        s.exec(&d.drop_user_if_exists_sql(PASSWORD_CHECK_USER, &peer_addr))?;
        s.exec(&d.session_binlog_sql())
    })?;
    match result {
        Ok(_) => Ok(true),
        Err(e) if crate::sql::server_error_code(&e) == Some(1045) => Ok(false),
        Err(e) => Err(e.context(format!(
            "checking the password of {} by logging in from {}",
            quote_account(user, host),
            cluster.peer(i).name
        ))),
    }
}

/// A stored authentication string as an SQL literal: quoted when it is plain text
/// (mysql_native_password's `*HEX`), a hex literal otherwise (caching_sha2's salt is binary).
pub fn auth_literal(hex: &str) -> String {
    let bytes: Option<Vec<u8>> = (0..hex.len())
        .step_by(2)
        .map(|k| {
            hex.get(k..k + 2)
                .and_then(|b| u8::from_str_radix(b, 16).ok())
        })
        .collect();
    match bytes {
        Some(b)
            if !b.is_empty()
                && b.iter()
                    .all(|c| c.is_ascii_graphic() && *c != b'\'' && *c != b'\\') =>
        {
            quote_string(&String::from_utf8_lossy(&b))
        }
        _ if hex.is_empty() => "''".into(),
        _ => format!("0x{hex}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_literals() {
        // mysql_native_password: `*` and 40 hex digits, plain text.
        assert_eq!(auth_literal("2A4142"), "'*AB'");
        // caching_sha2_password: `$A$005$` then a binary salt.
        assert_eq!(auth_literal("2441243030352401FF"), "0x2441243030352401FF");
        assert_eq!(auth_literal("27"), "0x27");
        assert_eq!(auth_literal(""), "''");
    }
}
