//! The checks behind `mhactl verify`, one module per area, each check a
//! [`CheckKind`](super::registry::CheckKind) constant listed in
//! [`CHECKS`](super::registry::CHECKS). Each reads facts only (SELECT, SHOW, cat, ip)
//! and turns them into a [`Check`]; a fact that cannot be read is a failed check with
//! the reason, never an abort, so one broken thing does not hide the others. Where
//! practical the decision is a pure function of the values read, unit-tested on values.

pub mod access;
pub mod arbiter;
pub mod checksum;
pub mod fencing;
pub mod host;
pub mod keepalived;
pub mod mysqld;
pub mod pair;
pub mod replication;
pub mod switchover;
pub mod tls;
pub mod vip_refuse;

use super::registry::{self, guarded, NodeCtx, PairCtx};
use super::Check;
use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::inventory::{Inventory, Secrets};
use anyhow::Result;
use std::cell::OnceCell;

/// Start a round: forget what an earlier round read, then read what `resolve` (the
/// inventory as the pair runs it, [`super::with_positioning`]) and every check will need
/// in a few batches (facts::prefetch), the reads of the moment included. [`run_all`] then
/// runs from what was read.
pub fn prefetch(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    checksum: bool,
    leftovers: bool,
    resolve: impl Fn(&Inventory, &Cluster) -> Inventory,
) {
    // A new round (verify --wait, failover-test's pre-check) reads the nodes afresh.
    facts::changed(cluster);
    facts::prefetch::warm_with_moment_reads(cluster, || {
        // Its reads come in the first passes, with the checks' (planned with the
        // inventory as resolved so far: what the resolved one reads more comes later).
        let inv = &resolve(inv, cluster);
        for node in &cluster.nodes {
            let _ = node_checks_cached(cluster, inv, secrets, node.index);
        }
        // Per pass: what a pass read lets the next one get further.
        let ctx = PairCtx {
            cluster,
            inv,
            secrets,
            holders: OnceCell::new(),
        };
        let mut ignored = Vec::new();
        registry::run_pair(&ctx, checksum, &mut ignored);
        if leftovers {
            let _ = super::leftovers::check(cluster);
        }
    });
}

/// Every check: both nodes in parallel, then the checks about the pair (after
/// [`prefetch`]).
pub fn run_all(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    checksum: bool,
) -> Vec<Check> {
    let per_node: Vec<Vec<Check>> = std::thread::scope(|scope| {
        let handles: Vec<_> = cluster
            .nodes
            .iter()
            .map(|node| scope.spawn(move || node_checks(cluster, inv, secrets, node.index)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("check thread panicked"))
            .collect()
    });
    let mut out: Vec<Check> = per_node.into_iter().flatten().collect();
    let ctx = PairCtx {
        cluster,
        inv,
        secrets,
        holders: OnceCell::new(),
    };
    facts::cached(|| registry::run_pair(&ctx, checksum, &mut out));
    facts::prefetch::forget_read_ahead(cluster);
    out
}

/// One node's checks: `root`, then `os` and `mysqld` (which the others need), then the
/// registry's node checks.
pub(in crate::verify) fn node_checks(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    i: usize,
) -> Vec<Check> {
    // One round reads each fact once (this node's thread; the pair's in `run_all`).
    facts::cached(|| node_checks_cached(cluster, inv, secrets, i))
}

fn node_checks_cached(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    i: usize,
) -> Vec<Check> {
    let node = &cluster.nodes[i];
    let n = node.name.as_str();
    let mut out = vec![host::ROOT.declared(|| guarded(&host::ROOT, n, || host::root(node)))];
    let target = match host::OS.declared(|| facts::os_target(node, inv.mysql.flavor)) {
        Ok((t, _)) => t,
        Err(e) => {
            out.push(host::OS.fail(n, format!("{e:#}")));
            return out;
        }
    };
    let dialect = match host::MYSQLD.declared(|| facts::dialect(node)) {
        Ok(d) => {
            out.push(host::mysqld(n, &d, inv));
            Some(d)
        }
        Err(e) => {
            // Without SQL only the checks that need none can still say something; the
            // others are listed as not run rather than left out.
            out.push(host::MYSQLD.fail(n, format!("{e:#}")));
            None
        }
    };
    let ctx = NodeCtx {
        cluster,
        inv,
        secrets,
        i,
        node,
        target: &target,
    };
    registry::run_node(ctx, dialect.as_ref(), &mut out);
    out
}

/// Compare a file on the node with what bootstrap would render.
pub(crate) fn drift_check(
    name: &str,
    node: &NodeHandle,
    path: &str,
    wanted: &str,
) -> Result<Check> {
    let n = node.name.as_str();
    Ok(match facts::host::rendered_file(node, path)? {
        None => Check::fail(name, n, format!("{path} is missing (run bootstrap)")),
        Some(current) if current == wanted => {
            Check::pass(name, n, format!("{path} matches the inventory"))
        }
        Some(current) => {
            // From what the inventory renders to what is on disk: `+` lines are hand edits.
            // Secrets are masked on both sides (a changed one as `***(node)`).
            let diff = crate::engine::file_diff_labeled(
                path,
                Some(wanted),
                &current,
                ("inventory", "node"),
            );
            let changed: Vec<&str> = diff
                .lines()
                .filter(|l| {
                    (l.starts_with('-') || l.starts_with('+'))
                        && !l.starts_with("---")
                        && !l.starts_with("+++")
                })
                .take(6)
                .collect();
            Check::fail(
                name,
                n,
                format!(
                    "{path} differs from the inventory (drift; bootstrap repairs it):\n{}",
                    changed.join("\n")
                ),
            )
        }
    })
}

#[cfg(test)]
mod tests;
