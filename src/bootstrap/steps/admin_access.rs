//! Step `admin-access`: mhactl's administrative login to the server.

use super::shared::{password_policy_error, Ctx};
use crate::engine::{Action, Change, Cluster, NodeHandle, Operation, Plan};
use crate::facts;
use crate::transport::ForwardTarget;
use anyhow::{anyhow, bail, Result};
use std::sync::Arc;

/// Step 4b (runbook 1.2.2): administrative SQL access, through the server's unix socket
/// forwarded over SSH.
///
/// - MariaDB: root logs in by `unix_socket` authentication (the forwarded connection
///   comes from sshd, running as root), so no root password exists anywhere.
/// - MySQL: root logs in with the inventory's root password (or by `auth_socket`, as
///   Debian/Ubuntu packages set it up, when the inventory gives none). When that fails
///   because the server's first start (`mysqld --initialize`, as the RPM packages do it)
///   left a random, expired password in the error log, this step logs in with that one in
///   expired-password mode and sets the inventory's password (`ALTER USER USER()`).
pub(super) struct AdminAccess(pub(super) Arc<Ctx>);

impl Operation for AdminAccess {
    fn name(&self) -> &'static str {
        "admin-access"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let node = &cluster.nodes[i];
        let err = match facts::dialect(node) {
            Ok(d) => {
                if let Some(problem) = d
                    .version()
                    .mismatch(self.0.inv.mysql.flavor, self.0.inv.mysql.version.as_deref())
                {
                    bail!("{problem}");
                }
                let how = match (
                    d.flavor().root_logs_in_with_password(),
                    &self.0.secrets.root_password,
                ) {
                    (true, Some(_)) => "root with the inventory's root password",
                    _ => "root by socket authentication",
                };
                return Ok(Plan::Noop(format!(
                    "{}: {how}, through the server's unix socket over SSH",
                    d.version()
                )));
            }
            Err(err) => err,
        };
        let code = crate::sql::server_error_code(&err);
        // 1045: access denied; 1820/1862: the password is expired.
        if !self.0.inv.mysql.flavor.root_logs_in_with_password()
            || !matches!(code, Some(1045 | 1820 | 1862))
        {
            return Err(err);
        }
        let Some(root_password) = self.0.secrets.root_password.clone() else {
            bail!(
                "root cannot log in through the unix socket (error {}): this MySQL server \
                 needs a root password; set one of credentials.root_password_env, \
                 root_password_file or root_password_prompt",
                code.unwrap_or_default()
            );
        };
        let (target, _) = facts::os_target(node, self.0.inv.mysql.flavor)?;
        let inventory_log = self
            .0
            .inv
            .mysql
            .log_error
            .as_ref()
            .map(|p| p.display().to_string());
        let (logs, temporary) =
            facts::temporary_root_password(node, &target, inventory_log.as_deref())?;
        let Some(temporary) = temporary else {
            bail!(
                "root cannot log in with the inventory's root password (error {}), and the \
                 error log ({}) holds no temporary root password: set the inventory's root \
                 password to root's current one",
                code.unwrap_or_default(),
                logs.join(", ")
            );
        };
        let temporary = secrecy::SecretString::from(temporary);
        Ok(Plan::Change(Change {
            summary: format!(
                "set root's password to the inventory's (the first start left a temporary, \
                 expired one in {})",
                logs.join(", ")
            ),
            actions: vec![Action::Custom(
                "log in with the temporary password and ALTER USER USER() IDENTIFIED BY ***".into(),
                Box::new(move |cluster: &Cluster, i| {
                    let node = &cluster.nodes[i];
                    node.reset_sql();
                    let socket = crate::connect::find_server_socket(node.transport.as_ref())?;
                    node.set_expired_password(
                        &ForwardTarget::UnixSocket(socket.into()),
                        "root",
                        &temporary,
                        &root_password,
                    )
                    .map_err(|e| match crate::sql::server_error_code(&e) {
                        Some(1819) => password_policy_error("the inventory's root password"),
                        Some(1045) => anyhow!(
                            "the temporary root password from the error log no longer \
                             works (error 1045): root's password was changed since; set the \
                             inventory's root password to root's current one"
                        ),
                        _ => e,
                    })?;
                    forget_first_password_change(node)
                }),
            )],
            diff: None,
        }))
    }
}

/// After the first `ALTER USER` of a freshly initialised server with GTIDs on: drop that
/// one transaction from the binary log and the GTID set.
///
/// An expired session cannot turn binary logging off for itself (anything but
/// `ALTER USER` fails with 1820), so the password change is a GTID of this node's own.
/// Replication later starts at the peer's current position, so the peer never receives
/// it, and the two GTID sets would differ forever (verify's `gtid` check, and any later
/// `SOURCE_AUTO_POSITION`, would trip on it). Accounts are per node anyway. Only when
/// that transaction is the server's entire history is anything reset.
fn forget_first_password_change(node: &NodeHandle) -> Result<()> {
    let d = facts::dialect(node)?;
    let Some(gtid_state) = d.gtid_state_sql() else {
        return Ok(());
    };
    let rows = node.with_sql(|s| s.query(&gtid_state))?;
    let Some(row) = rows.first() else {
        return Ok(());
    };
    let get = |k| {
        crate::sql::get(row, k)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    if get("mode") == "ON" && get("executed") == format!("{}:1", get("uuid")) {
        node.with_admin_write(|s| s.exec(&d.reset_binary_logs_sql()))?;
    }
    Ok(())
}
