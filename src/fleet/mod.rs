//! A fleet run (issue 21 item 2): one command over many clusters of a fleet inventory
//! ([`crate::inventory::fleet`]), selected by `--limit CLUSTER[/NODE]` patterns
//! ([`crate::limit::pattern`]), at most `--forks` at a time ([`runner`]), one summary
//! line per cluster plus the details of failures, or one JSON document holding each
//! cluster's own ([`summary`]). docs/fleet.md is the user's side of it.
//!
//! [`plan`] decides, before anything runs, what a command line means:
//! - a command reading no inventory refuses `--limit`/`--forks`;
//! - a command about the pairs as a whole (bootstrap, verify, status, rotate-certs,
//!   inventory check) on a fleet runs per cluster ([`Plan::Fleet`]);
//! - a command acting on one pair (switchover, failover-test, reinit) needs `--limit`
//!   to select exactly one cluster of a fleet, which [`crate::inventory::load`] then
//!   returns; it runs in this process as with one cluster's inventory;
//! - with one cluster's inventory, `--limit` selects a node (as before fleets) or the
//!   cluster itself;
//! - a fleet command that selects one cluster, with text output, runs in this process
//!   too: the cluster's own full output (a dry run's diffs included); its JSON stays the
//!   fleet's document.

pub mod runner;
pub mod summary;

use crate::error::UsageError;
use crate::global::GlobalArgs;
use crate::inventory::fleet::{self as inv_fleet, Fleet};
use crate::limit::pattern::{self, Candidate};
use anyhow::Result;
pub use runner::CHILD_ENV;

/// What a command does with an inventory, for `--limit` and fleets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// Reads no inventory (lab, init, completions, man).
    NoInventory,
    /// Reads `adopt`'s minimal inventory of one pair (no fleet, no `--limit`).
    Adopt,
    /// About each pair as a whole; `node_limit`: also `--limit CLUSTER/NODE`.
    EachCluster {
        /// The command runs on one node of a pair with `--limit NODE`.
        node_limit: bool,
    },
    /// Acts on exactly one pair.
    OnePair,
}

/// What to run.
#[derive(Debug)]
pub enum Plan {
    /// One cluster, in this process: with `node`, the command's `--limit NODE`.
    Single {
        /// The node `--limit` selected.
        node: Option<String>,
        /// This process is one cluster's run of a fleet run (its output is JSON).
        child: bool,
    },
    /// Every selected cluster of a fleet, each in its own process.
    Fleet {
        /// The fleet, loaded and validated.
        fleet: Fleet,
        /// One run per selected cluster.
        jobs: Vec<runner::Job>,
    },
}

/// Which of `--limit`/`--forks` were typed on the command line.
#[derive(Debug, Clone, Copy, Default)]
pub struct Typed {
    /// `--limit` was typed.
    pub limit: bool,
    /// `--forks` was typed.
    pub forks: bool,
}

/// Decide what `mhactl NAME` means for the inventory and `--limit` (module docs).
pub fn plan(global: &GlobalArgs, typed: Typed, name: &str, reach: Reach) -> Result<Plan> {
    let single = |node| Plan::Single { node, child: false };
    match reach {
        Reach::NoInventory | Reach::Adopt => {
            for (flag, on) in [("--limit", typed.limit), ("--forks", typed.forks)] {
                if on {
                    let why = match reach {
                        Reach::Adopt => "reads one pair's minimal inventory",
                        _ => "reads no inventory",
                    };
                    return Err(usage(format!("{flag}: `mhactl {name}` {why}; remove it")));
                }
            }
            return Ok(single(None));
        }
        _ => {}
    }
    if let Some(spec) = std::env::var_os(CHILD_ENV) {
        let spec = spec.to_string_lossy().into_owned();
        let (cluster, node) = match spec.split_once('/') {
            Some((c, n)) => (c.to_string(), Some(n.to_string())),
            None => (spec, None),
        };
        inv_fleet::select(&cluster);
        return Ok(Plan::Single { node, child: true });
    }
    let path = &global.inventory;
    let patterns = match &global.limit {
        Some(text) => Some(pattern::parse(text)?),
        None => None,
    };
    let what = path.display().to_string();
    if !inv_fleet::is_fleet(path) {
        let Some(patterns) = patterns else {
            return Ok(single(None));
        };
        let inv = crate::inventory::load(path)?;
        let nodes: Vec<&str> = inv.nodes.iter().map(|n| n.name.as_str()).collect();
        let candidate = Candidate {
            name: &inv.cluster,
            nodes,
        };
        let selected = pattern::select_single(&patterns, &candidate, &what)?;
        if let Some(node) = &selected.node {
            node_limit_allowed(name, reach, node)?;
        }
        return Ok(single(selected.node));
    }
    let fleet = inv_fleet::load_fleet(path)?;
    let selected = match &patterns {
        Some(p) => {
            let candidates: Vec<Candidate<'_>> = fleet
                .clusters
                .iter()
                .map(|c| Candidate {
                    name: &c.name,
                    nodes: c.inventory.nodes.iter().map(|n| n.name.as_str()).collect(),
                })
                .collect();
            pattern::select(p, &candidates, &what)?
        }
        None => fleet
            .clusters
            .iter()
            .map(|c| pattern::Selected {
                cluster: c.name.clone(),
                node: None,
            })
            .collect(),
    };
    for s in &selected {
        if let Some(node) = &s.node {
            node_limit_allowed(name, reach, &format!("{}/{node}", s.cluster))?;
        }
    }
    if reach == Reach::OnePair {
        return match selected.as_slice() {
            [one] => {
                inv_fleet::select(&one.cluster);
                Ok(single(None))
            }
            _ if patterns.is_none() => Err(usage(format!(
                "`mhactl {name}` acts on one pair, and {what} is a fleet of {} clusters ({}): \
                 select one with --limit CLUSTER",
                fleet.clusters.len(),
                inv_fleet::short_list(&fleet.names())
            ))),
            many => Err(usage(format!(
                "--limit {}: `mhactl {name}` acts on one pair, and the limit selects {} \
                 clusters ({}): select exactly one",
                global.limit.as_deref().unwrap_or_default(),
                many.len(),
                inv_fleet::short_list(&many.iter().map(|s| s.cluster.clone()).collect::<Vec<_>>())
            ))),
        };
    }
    // One cluster as text: its own full output (tables, diffs of a dry run, verdict), as
    // with its own inventory; JSON keeps the fleet's document, for scripts.
    if let ([one], crate::global::OutputFormat::Text) = (selected.as_slice(), global.output) {
        inv_fleet::select(&one.cluster);
        return Ok(single(one.node.clone()));
    }
    let jobs = selected
        .into_iter()
        .map(|s| runner::Job {
            cluster: s.cluster,
            node: s.node,
        })
        .collect();
    Ok(Plan::Fleet { fleet, jobs })
}

/// A node selected for a command that acts on pairs as a whole is refused.
fn node_limit_allowed(name: &str, reach: Reach, node: &str) -> Result<(), UsageError> {
    match reach {
        Reach::EachCluster { node_limit: true } => Ok(()),
        _ => Err(UsageError(format!(
            "--limit selects node {node}, and `mhactl {name}` acts on a pair as a whole: \
             select clusters only (CLUSTER, not CLUSTER/NODE)"
        ))),
    }
}

fn usage(msg: String) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg))
}
