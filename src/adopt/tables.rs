//! Comparing the tables of the two nodes (`mhactl adopt`, and bootstrap before it drops
//! skipped error codes): after both replicas executed what their peer had written,
//! `CHECKSUM TABLE ... EXTENDED` of every table outside the system schemas on both nodes
//! at once, repeated: a table counts as different only when both nodes' checksums stayed
//! the same between two rounds. A table written meanwhile is named as changing, not as
//! different, so a pair under traffic is not judged by its own writes in flight.

use crate::engine::Cluster;
use crate::facts;
use anyhow::Result;
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
        if let Err(e) = crate::verify::wait_caught_up(cluster) {
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
    differing.extend(crate::verify::compare_tables_on_both(cluster, &common)?);
    Ok((common.len(), differing))
}
