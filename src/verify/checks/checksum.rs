//! `checksum` (`verify --checksum`): after both nodes caught up with each other,
//! `CHECKSUM TABLE ... EXTENDED` of every replicated table is equal on both.

use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::inventory::Inventory;
use crate::verify::registry::{CheckKind, Fact, PairCtx, Run, Scope, When};
use crate::verify::{Check, Severity};
use anyhow::{anyhow, Result};
use std::time::Duration;

/// `checksum`: the replicated tables are identical (only with a VIP holder list read).
pub const CHECKSUM: CheckKind = CheckKind {
    name: "checksum",
    severity: Severity::Error,
    scope: Scope::Pair,
    reads: &[Fact::BinlogStatus, Fact::ReplicaStatus, Fact::Tables],
    when: When::Checksum,
    run: Run::Pair(|c| match super::pair::holders(c) {
        Ok(_) => Some(checksum(c)),
        Err(_) => None,
    }),
};

/// Databases whose tables are compared (the replicated ones, never system schemas).
fn replicated_tables(node: &NodeHandle, inv: &Inventory) -> Result<Vec<String>> {
    let mut excluded = vec![
        "mysql".to_string(),
        "information_schema".into(),
        "performance_schema".into(),
        "sys".into(),
    ];
    excluded.extend(inv.ignored_databases());
    facts::get::<facts::tables::BaseTables>(
        node,
        &facts::tables::TablesArg {
            excluded,
            only: inv.mysql.replicate_databases.clone(),
        },
    )
}

/// Wait (briefly) until each node has executed everything its peer had written (also
/// `mhactl adopt`'s table comparison).
pub(crate) fn wait_caught_up(cluster: &Cluster) -> Result<()> {
    let targets: Vec<_> = cluster
        .nodes
        .iter()
        .map(facts::binlog_coordinates_fresh)
        .collect::<Result<_>>()?;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    for node in &cluster.nodes {
        let want = &targets[1 - node.index];
        loop {
            // A wait: read the node now, not this round's cached status.
            let s = facts::fresh::<facts::server::ReplicaStatusFact>(node, &())?
                .status
                .map_err(|e| anyhow!(e))?
                .ok_or_else(|| anyhow!("{}: not a replica", node.name))?;
            if s.relay_source_log_file == want.file && s.exec_source_log_pos >= want.position {
                break;
            }
            if std::time::Instant::now() > deadline {
                // Say where it stands: a stopped thread or an error is the usual cause.
                let threads = match (s.io_running, s.sql_running) {
                    (true, true) => String::new(),
                    (io, sql) => format!(
                        "; replica threads: I/O {}, SQL {}",
                        if io { "running" } else { "stopped" },
                        if sql { "running" } else { "stopped" }
                    ),
                };
                let errors = s.last_errors();
                return Err(anyhow!(
                    "{} has not caught up with its peer within 10 s (executed {}:{} of \
                     {}:{}{threads}{})",
                    node.name,
                    s.relay_source_log_file,
                    s.exec_source_log_pos,
                    want.file,
                    want.position,
                    if errors.is_empty() {
                        String::new()
                    } else {
                        format!("; {}", errors.join("; "))
                    }
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok(())
}

/// `CHECKSUM TABLE list EXTENDED` on one node: (table, checksum) in the server's order.
fn table_checksums(node: &NodeHandle, list: &str) -> Result<Vec<(String, Option<String>)>> {
    facts::get::<facts::tables::TableChecksums>(node, list)
}

fn checksum(c: &PairCtx) -> Result<Check> {
    let (cluster, inv) = (c.cluster, c.inv);
    wait_caught_up(cluster)?;
    let tables = replicated_tables(&cluster.nodes[0], inv)?;
    let other_tables = replicated_tables(&cluster.nodes[1], inv)?;
    let names = [
        cluster.nodes[0].name.as_str(),
        cluster.nodes[1].name.as_str(),
    ];
    let mut problems = Vec::new();
    for t in tables.iter().filter(|t| !other_tables.contains(t)) {
        problems.push(format!("{t} exists only on {}", names[0]));
    }
    for t in other_tables.iter().filter(|t| !tables.contains(t)) {
        problems.push(format!("{t} exists only on {}", names[1]));
    }
    let common: Vec<&String> = tables.iter().filter(|t| other_tables.contains(t)).collect();
    problems.extend(compare_common(cluster, &common)?);
    Ok(checksum_from(common.len(), &problems))
}

/// `CHECKSUM TABLE ... EXTENDED` of `common` (tables on both nodes) on both nodes at once,
/// 50 at a time: one line per table whose checksums differ (also `mhactl adopt`'s).
pub(crate) fn compare_common(cluster: &Cluster, common: &[&String]) -> Result<Vec<String>> {
    let names = [
        cluster.nodes[0].name.as_str(),
        cluster.nodes[1].name.as_str(),
    ];
    let mut problems = Vec::new();
    for chunk in common.chunks(50) {
        let list = chunk
            .iter()
            .map(|t| t.as_str())
            .collect::<Vec<_>>()
            .join(", ");
        // Both nodes at once: CHECKSUM TABLE ... EXTENDED reads every row, so this
        // halves the time on large tables and narrows the window in which live
        // writes could make the two sides differ.
        let sums: Vec<Vec<(String, Option<String>)>> = std::thread::scope(|scope| {
            let handles: Vec<_> = cluster
                .nodes
                .iter()
                .map(|n| scope.spawn(|| table_checksums(n, &list)))
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("checksum thread panicked"))
                .collect::<Result<_>>()
        })?;
        problems.extend(differences(&sums[0], &sums[1], names));
    }
    Ok(problems)
}

/// The tables whose checksums differ, as problems.
pub fn differences(
    a: &[(String, Option<String>)],
    b: &[(String, Option<String>)],
    names: [&str; 2],
) -> Vec<String> {
    a.iter()
        .zip(b)
        .filter(|((_, x), (_, y))| x != y)
        .map(|((table, x), (_, y))| {
            format!(
                "{table} differs ({} on {}, {} on {})",
                x.as_deref().unwrap_or("NULL"),
                names[0],
                y.as_deref().unwrap_or("NULL"),
                names[1]
            )
        })
        .collect()
}

/// `checksum` on the number of tables compared and the problems found.
pub fn checksum_from(compared: usize, problems: &[String]) -> Check {
    if problems.is_empty() {
        CHECKSUM.pass(
            "cluster",
            format!("{compared} tables identical on both nodes"),
        )
    } else {
        CHECKSUM.fail(
            "cluster",
            format!("data differs between the nodes:\n{}", problems.join("\n")),
        )
    }
}
