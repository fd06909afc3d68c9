//! The write probe's table (`mhactl_probe.writes`, replicated) and its throw-away
//! account on each node, created for one run and dropped at its end, including when the
//! run is interrupted (failover-test and switchover register [`cleanup`] on their undo
//! stacks).

use super::{PROBE_DB, PROBE_USER};
use crate::engine::Cluster;
use crate::transport::RemoteCommand;
use anyhow::{bail, Context, Result};
use std::collections::BTreeSet;
use std::time::Duration;

/// The control host's address as the nodes see it (`$SSH_CLIENT`): the writer's
/// account is limited to it.
pub fn client_address(cluster: &Cluster, node: usize) -> Result<String> {
    let out = cluster.nodes[node]
        .transport
        .run_ok(&RemoteCommand::new(crate::os::host::SSH_CLIENT_ADDRESS))?;
    let addr = out.trim().to_string();
    if addr.parse::<std::net::IpAddr>().is_err() {
        bail!(
            "cannot tell this host's address as {} sees it (SSH_CLIENT={addr:?})",
            cluster.nodes[node].name
        );
    }
    Ok(addr)
}

/// Create the probe table (on one node; it replicates) and the writer's account limited
/// to `client` on each node, then wait until the table exists on the peer.
pub fn setup_probe(cluster: &Cluster, client: &str, password: &str) -> Result<()> {
    let account = crate::dialect::quote_account(PROBE_USER, client);
    let pw = crate::dialect::quote_string(password);
    // The table replicates (it is the point); the account is made on each node with the
    // binary log off, like the replication account.
    // mhactl's own writes: on a fenced node too (the fence is lifted for them only).
    cluster.nodes[0].with_admin_write(|sql| {
        for stmt in crate::dialect::probe_table_sql(PROBE_DB) {
            sql.exec(&stmt)?;
        }
        Ok(())
    })?;
    for node in &cluster.nodes {
        node.with_admin_write(|sql| {
            for stmt in crate::dialect::probe_account_sql(PROBE_DB, &account, &pw) {
                sql.exec(&stmt)?;
            }
            Ok(())
        })
        .with_context(|| format!("{}: creating the probe account", node.name))?;
    }
    // The table must exist on the peer before writes start.
    crate::poll::until(Duration::from_secs(10), || {
        Ok(probe_rows(cluster, 1).is_ok())
    })
}

/// Drop the probe account on each node and (unless `keep_table`) the probe database,
/// which replicates: dropped on one node with the binary log on, it goes from the peer
/// after every write that replicated before it (dropping it on both by hand could break
/// replication of a write still in flight). Waits until it is gone on both nodes.
pub fn cleanup(cluster: &Cluster, client: &str, keep_table: bool) -> Result<()> {
    let account = crate::dialect::quote_account(PROBE_USER, client);
    let mut problems = Vec::new();
    for node in &cluster.nodes {
        node.reset_sql();
        if let Err(e) = node.with_admin_write(|sql| {
            for stmt in crate::dialect::drop_probe_account_sql(&account) {
                sql.exec(&stmt)?;
            }
            Ok(())
        }) {
            problems.push(format!("{}: dropping {account}: {e:#}", node.name));
        }
    }
    if !keep_table {
        // The drop runs on one node at once and reaches the other through replication:
        // a node whose SQL thread still has the peer's probe rows to apply (an interrupt
        // right after a partition healed) would fail on them (table gone) and stop
        // replicating. So first let both apply what the other wrote (bounded: a node
        // that does not catch up gets the drop anyway, as before).
        let _ = crate::poll::until(Duration::from_secs(30), || replication_settled(cluster));
        let dropped = cluster.nodes.iter().any(|node| {
            node.with_admin_write(|sql| {
                sql.exec(&crate::dialect::drop_probe_database_sql(PROBE_DB))
            })
            .is_ok()
        });
        let gone = dropped
            && crate::poll::until(Duration::from_secs(30), || {
                for node in &cluster.nodes {
                    let rows = node.with_sql(|sql| {
                        sql.query(&crate::dialect::probe_database_exists_sql(PROBE_DB))
                    })?;
                    if !rows.is_empty() {
                        return Ok(false);
                    }
                }
                Ok(true)
            })
            .is_ok();
        if !gone {
            problems.push(format!(
                "the database {PROBE_DB} is still on a node (drop it once replication runs: `DROP DATABASE {PROBE_DB}`)"
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        bail!("{}", problems.join("; "))
    }
}

/// The sequence numbers of the probe rows `node` holds.
pub fn probe_rows(cluster: &Cluster, node: usize) -> Result<BTreeSet<u64>> {
    let rows =
        cluster.nodes[node].with_sql(|sql| sql.query(&crate::dialect::probe_rows_sql(PROBE_DB)))?;
    Ok(rows
        .iter()
        .filter_map(|r| crate::sql::get(r, "seq"))
        .filter_map(|s| s.parse().ok())
        .collect())
}

/// Both nodes replicate, and each has read and executed its peer's binary log up to
/// the peer's current position.
fn replication_settled(cluster: &Cluster) -> Result<bool> {
    for (i, node) in cluster.nodes.iter().enumerate() {
        let peer = cluster.peer(i);
        let Some(s) = crate::facts::replica_status_fresh(node)? else {
            return Ok(false);
        };
        let at = crate::facts::binlog_coordinates_fresh(peer)?;
        let caught_up = s.io_running
            && s.sql_running
            && s.source_log_file == at.file
            && s.read_source_log_pos == at.position
            && s.relay_source_log_file == at.file
            && s.exec_source_log_pos == at.position;
        if !caught_up {
            return Ok(false);
        }
    }
    Ok(true)
}
