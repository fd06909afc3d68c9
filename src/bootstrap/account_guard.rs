//! The replication account must be mhactl's own: before the `replication-user` step
//! creates or changes `USER@PEER`, an account of the same name for any other host means
//! the name is already in use on this server (an administrator's, an application's, the
//! runbook's `'repl'@'%'`). Changing its password or grants would break whoever uses
//! it, and verify's `replication-user` check could never pass, so bootstrap refuses.

use crate::engine::NodeHandle;
use anyhow::{bail, Result};

/// Refuse when accounts named `user` exist on the node for hosts other than `host`
/// (the peer's address, the only host mhactl creates the account for).
pub fn refuse_foreign_hosts(node: &NodeHandle, user: &str, host: &str) -> Result<()> {
    let hosts = super::app_users::account_hosts(node, user)?;
    if let Some(msg) = foreign_hosts_problem(&node.name, user, host, &hosts) {
        bail!("{msg}");
    }
    Ok(())
}

/// The refusal for `hosts` (those `user` exists for), or `None` when every one is `host`.
pub fn foreign_hosts_problem(
    node: &str,
    user: &str,
    host: &str,
    hosts: &[String],
) -> Option<String> {
    let others: Vec<String> = hosts
        .iter()
        .filter(|h| *h != host)
        .map(|h| format!("'{user}'@'{h}'"))
        .collect();
    if others.is_empty() {
        return None;
    }
    Some(format!(
        "mysql.replication_user: {node}: {} already exist{} on this server, for other hosts \
         than the peer ({host}); mhactl never changes an account it did not create. Choose \
         another mysql.replication_user, or drop {} yourself if nothing uses {}",
        others.join(", "),
        if others.len() == 1 { "s" } else { "" },
        if others.len() == 1 { "it" } else { "them" },
        if others.len() == 1 { "it" } else { "them" },
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::fake::{FakeSql, FakeTransport};
    use std::sync::Arc;

    /// The node's accounts come from `mysql.user`; `'repl'@'%'` (the runbook's) refuses.
    #[test]
    fn refuses_an_account_that_exists_for_other_hosts() {
        let sql = FakeSql::new();
        let node = NodeHandle::new(
            0,
            "node-a",
            Arc::new(FakeTransport::new("node-a")),
            Some(sql.connector()),
        );
        sql.on(
            "SELECT Host AS host FROM mysql.user WHERE User = 'repl'",
            vec![vec![("host", Some("10.0.0.12"))]],
        );
        refuse_foreign_hosts(&node, "repl", "10.0.0.12").unwrap();
        sql.on(
            "SELECT Host AS host FROM mysql.user WHERE User = 'repl'",
            vec![vec![("host", Some("%"))], vec![("host", Some("10.0.0.12"))]],
        );
        let e = format!(
            "{:#}",
            refuse_foreign_hosts(&node, "repl", "10.0.0.12").unwrap_err()
        );
        assert!(e.contains("'repl'@'%' already exists"), "{e}");
        // Only reads: nothing was created, altered or granted.
        assert!(
            sql.statements().iter().all(|s| s.starts_with("SELECT")),
            "{:?}",
            sql.statements()
        );
    }

    #[test]
    fn only_the_peer_host_is_ours() {
        let h = |xs: &[&str]| xs.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            foreign_hosts_problem("a", "repl", "10.0.0.12", &h(&[])),
            None
        );
        assert_eq!(
            foreign_hosts_problem("a", "repl", "10.0.0.12", &h(&["10.0.0.12"])),
            None
        );
        let m = foreign_hosts_problem("node-a", "hadoop", "10.0.0.12", &h(&["%", "10.0.0.12"]))
            .unwrap();
        assert!(
            m.starts_with("mysql.replication_user: node-a: 'hadoop'@'%' already exists"),
            "{m}"
        );
    }
}
