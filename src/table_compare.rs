//! Comparing the tables of the two nodes, below the commands that use it: `mhactl adopt`'s
//! report, bootstrap's skip-errors guard (before it drops skipped error codes) and
//! verify's `checksum` check ([`wait_caught_up`], [`compare_common`]). For adopt and
//! bootstrap ([`compare_tables`]): after both replicas executed what their peer had written,
//! `CHECKSUM TABLE ... EXTENDED` of every table outside the system schemas on both nodes
//! at once, repeated: a table counts as different only when both nodes' checksums stayed
//! the same between two rounds. A table written meanwhile is named as changing, not as
//! different, so a pair under traffic is not judged by its own writes in flight.

use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use anyhow::{anyhow, Result};
use serde::Serialize;
use std::collections::BTreeSet;
use std::time::Duration;

/// Rounds of checksums at most, and the pause between two.
const ROUNDS: usize = 4;
const PAUSE: Duration = Duration::from_millis(500);

/// The tables compared between the nodes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct TableComparison {
    /// Tables on both nodes whose checksums were compared.
    pub compared: usize,
    /// Differences that held over two rounds: a table whose checksums differ (both
    /// unchanged), or that exists on one node only.
    pub differing: Vec<String>,
    /// Tables that differed but changed between rounds (written meanwhile): not judged.
    pub changing: Vec<String>,
    /// Why the comparison was not made (`--no-checksum`, a replica not caught up).
    pub skipped: Option<String>,
}

/// Compare the tables: rounds until no table differs, or until a difference holds over
/// two rounds (the same line twice: both checksums unchanged), at most [`ROUNDS`].
pub fn compare_tables(cluster: &Cluster) -> Result<TableComparison> {
    let mut previous: Option<BTreeSet<String>> = None;
    let mut compared = 0;
    for round in 0..ROUNDS {
        if round > 0 {
            std::thread::sleep(PAUSE);
        }
        if let Err(e) = wait_caught_up(cluster) {
            return Ok(TableComparison {
                skipped: Some(format!("{e:#}")),
                ..TableComparison::default()
            });
        }
        let (n, now) = one_round(cluster)?;
        compared = n;
        let now: BTreeSet<String> = now.into_iter().collect();
        if now.is_empty() {
            return Ok(TableComparison {
                compared,
                ..TableComparison::default()
            });
        }
        if let Some(before) = &previous {
            let held: Vec<String> = before.intersection(&now).cloned().collect();
            if !held.is_empty() {
                return Ok(TableComparison {
                    compared,
                    changing: changing(&now, &held),
                    differing: held,
                    skipped: None,
                });
            }
        }
        previous = Some(now);
    }
    let last = previous.unwrap_or_default();
    Ok(TableComparison {
        compared,
        changing: changing(&last, &[]),
        differing: Vec::new(),
        skipped: None,
    })
}

/// The table names (first word) of the lines in `now` that are not in `held`.
fn changing(now: &BTreeSet<String>, held: &[String]) -> Vec<String> {
    now.iter()
        .filter(|l| !held.contains(l))
        .map(|l| l.split(' ').next().unwrap_or(l).to_string())
        .collect()
}

/// One round: the number of tables on both nodes and one line per difference.
fn one_round(cluster: &Cluster) -> Result<(usize, Vec<String>)> {
    let arg = || facts::tables::TablesArg {
        excluded: crate::dialect::adopt::SYSTEM_SCHEMAS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        only: Vec::new(),
    };
    // Read now, not from a planning scope's cache: tables come and go under traffic.
    let a = facts::fresh::<facts::tables::BaseTables>(&cluster.nodes[0], &arg())?;
    let b = facts::fresh::<facts::tables::BaseTables>(&cluster.nodes[1], &arg())?;
    let names = [
        cluster.nodes[0].name.as_str(),
        cluster.nodes[1].name.as_str(),
    ];
    let mut differing = Vec::new();
    for t in a.iter().filter(|t| !b.contains(t)) {
        differing.push(format!("{t} exists only on {}", names[0]));
    }
    for t in b.iter().filter(|t| !a.contains(t)) {
        differing.push(format!("{t} exists only on {}", names[1]));
    }
    let common: Vec<&String> = a.iter().filter(|t| b.contains(t)).collect();
    differing.extend(compare_common(cluster, &common)?);
    Ok((common.len(), differing))
}

/// Wait (briefly) until each node has executed everything its peer had written.
pub fn wait_caught_up(cluster: &Cluster) -> Result<()> {
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

/// `CHECKSUM TABLE ... EXTENDED` of `common` (tables on both nodes) on both nodes at once,
/// 50 at a time: one line per table whose checksums differ.
pub fn compare_common(cluster: &Cluster, common: &[&String]) -> Result<Vec<String>> {
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
