//! The two nodes as the engine and the operations see them: a [`NodeHandle`] per node
//! (its transport, its lazily opened SQL connection, its cache of facts) and the
//! [`Cluster`] that holds both with the secrets every report must hide.

use crate::transport::Transport;
use anyhow::{anyhow, Context, Result};
use std::sync::{Arc, Mutex};

// The SQL connection types live in `sql` (engine runs on them; sql needs nothing from
// engine). Re-exported so `engine::Row` and friends keep working.
pub use crate::sql::{LoginConnector, Row, SqlConn, SqlConnector};

/// One node as the engine sees it: its transport and its (lazily opened) SQL connection.
pub struct NodeHandle {
    /// Index in the inventory (0 or 1).
    pub index: usize,
    /// Node name.
    pub name: String,
    /// Commands and files.
    pub transport: Arc<dyn Transport>,
    /// Facts read during this run ([`crate::facts`]: what is cached, and for how long).
    pub facts: Mutex<crate::facts::FactCache>,
    sql: Mutex<Option<Box<dyn SqlConn>>>,
    connector: Option<SqlConnector>,
    login_connector: Option<LoginConnector>,
}

impl NodeHandle {
    /// A node reachable through `transport`, opening SQL with `connector` when needed.
    pub fn new(
        index: usize,
        name: &str,
        transport: Arc<dyn Transport>,
        connector: Option<SqlConnector>,
    ) -> Self {
        NodeHandle {
            index,
            name: name.into(),
            transport,
            facts: Mutex::default(),
            sql: Mutex::new(None),
            connector,
            login_connector: None,
        }
    }

    /// Use `f` instead of a real connection for [`Self::login`] (tests).
    pub fn with_login_connector(mut self, f: LoginConnector) -> Self {
        self.login_connector = Some(f);
        self
    }

    /// A separate SQL connection from this node to `target` as `login` (not the admin
    /// connection): checking an account's password, asking through the VIP.
    pub fn login(
        &self,
        target: &crate::transport::ForwardTarget,
        login: &crate::sql::Login,
    ) -> Result<Box<dyn SqlConn>> {
        self.transport.refuse_if_speculating()?;
        match &self.login_connector {
            Some(f) => f(target, login, false),
            None => Ok(Box::new(crate::sql::MysqlConn::connect(
                &self.transport,
                target,
                login,
            )?)),
        }
    }

    /// Log in to `target` as `user` with its expired password `current` and set `new`
    /// (`ALTER USER USER() IDENTIFIED BY ...`); both stay inside the SSH channel.
    pub fn set_expired_password(
        &self,
        target: &crate::transport::ForwardTarget,
        user: &str,
        current: &secrecy::SecretString,
        new: &secrecy::SecretString,
    ) -> Result<()> {
        let Some(f) = &self.login_connector else {
            return crate::sql::set_expired_password(&self.transport, target, user, current, new);
        };
        let login = crate::sql::Login {
            user: user.into(),
            password: Some(current.clone()),
            tls_ca: None,
        };
        f(target, &login, true)?.exec(&crate::sql::alter_own_password_sql(new))
    }

    /// Run `f` with this node's SQL connection, opening it on first use. A failed
    /// statement drops the connection so the next call reconnects (e.g. after a restart).
    pub fn with_sql<T>(&self, f: impl FnOnce(&mut dyn SqlConn) -> Result<T>) -> Result<T> {
        // A verify check reads SQL only through a fact (caught in debug builds).
        crate::facts::scope::raw_read("SQL on the admin connection");
        self.transport.refuse_if_speculating()?;
        let mut guard = self
            .sql
            .lock()
            .map_err(|_| anyhow!("SQL connection lock poisoned"))?;
        if guard.is_none() {
            let connector = self
                .connector
                .as_ref()
                .ok_or_else(|| anyhow!("{}: no SQL connection configured", self.name))?;
            *guard = Some(connector().with_context(|| {
                format!("{}: cannot connect to the database server", self.name)
            })?);
        }
        let conn = guard.as_mut().expect("connection just set");
        let result = f(conn.as_mut());
        if result.is_err() {
            *guard = None;
        }
        result
    }

    /// Run mhactl's own writes (accounts, grants, its probe, a copy) on this node's admin
    /// connection, fenced or not: the dialect's lift statements first (MySQL: only
    /// `super_read_only` OFF; `read_only` stays ON so application users stay fenced),
    /// then `f`, then the restore statements (`super_read_only` back to whatever
    /// `read_only` is *then*), also when `f` failed. Every admin write goes through here.
    pub fn with_admin_write<T>(&self, f: impl FnOnce(&mut dyn SqlConn) -> Result<T>) -> Result<T> {
        let d = crate::facts::dialect(self)?;
        self.with_sql(|sql| crate::sql::admin_write(sql, &d, f))
    }

    /// Lift the fence for mhactl's admin writes made outside the admin connection (a
    /// dump loaded by the client on the node) until the returned guard is finished or
    /// dropped (an error, an interrupt unwinding the command), which restores it.
    pub fn lift_fence_for_admin(&self) -> Result<FenceLifted<'_>> {
        let d = crate::facts::dialect(self)?;
        let restore = d.admin_write_restore_sql();
        self.with_sql(|sql| {
            for s in d.admin_write_lift_sql() {
                sql.exec(&s)?;
            }
            Ok(())
        })?;
        Ok(FenceLifted {
            node: self,
            restore,
        })
    }

    /// Forget the SQL connection (after the server restarted).
    pub fn reset_sql(&self) {
        if let Ok(mut guard) = self.sql.lock() {
            *guard = None;
        }
    }
}

/// The fence lifted for mhactl's admin writes on one node ([`NodeHandle::lift_fence_for_admin`]).
pub struct FenceLifted<'a> {
    node: &'a NodeHandle,
    restore: Vec<String>,
}

impl FenceLifted<'_> {
    /// Restore the fence now, reporting a failure.
    pub fn finish(mut self) -> Result<()> {
        let restore = std::mem::take(&mut self.restore);
        restore_fence(self.node, &restore)
    }
}

impl Drop for FenceLifted<'_> {
    fn drop(&mut self) {
        if !self.restore.is_empty() {
            // On an error path: the error being returned says more than this one would.
            let _ = restore_fence(self.node, &self.restore);
        }
    }
}

fn restore_fence(node: &NodeHandle, restore: &[String]) -> Result<()> {
    if restore.is_empty() {
        return Ok(());
    }
    // A connection the failed work broke is opened again for the restore.
    node.with_sql(|sql| {
        for s in restore {
            sql.exec(s)?;
        }
        Ok(())
    })
    .with_context(|| {
        format!(
            "{}: restoring the write fence after mhactl's own writes",
            node.name
        )
    })
}

/// Both nodes plus whatever operations share (inventory, secrets, facts).
pub struct Cluster {
    /// The two nodes, in inventory order.
    pub nodes: Vec<NodeHandle>,
    /// Strings that must never be shown (replaced by `***` in every report).
    pub secrets: Vec<String>,
}

impl Cluster {
    /// The other node.
    pub fn peer(&self, index: usize) -> &NodeHandle {
        &self.nodes[1 - index]
    }

    /// Replace every secret in `text` by `***`.
    pub fn redact(&self, text: &str) -> String {
        redact(text, &self.secrets)
    }
}

/// Replace every occurrence of each secret by `***`, and mask what SQL or a URL says is
/// a secret (a password mhactl never resolved, e.g. quoted in a server's error).
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets.iter().filter(|s| !s.is_empty()) {
        out = out.replace(secret.as_str(), "***");
    }
    crate::mask::mask(crate::mask::FileKind::Other, &out)
}
