//! `--limit NODE` (bootstrap, verify, status; issue 20 item 3): act on, or look at, one
//! node of the pair. The rules for what concerns the pair as a whole, one place:
//!
//! - bootstrap connects to and locks both nodes (a node's steps read its peer: the
//!   binary log position to replicate from, who holds the VIP), runs each step on NODE
//!   only and changes nothing on the peer. Steps about the pair (`vip`) are skipped
//!   ([`PAIR_STEP_SKIPPED`]). A change that would need the peer is refused at planning,
//!   before anything of the step is applied: a restart of the VIP holder, which first
//!   hands the VIP to its peer with a switchover ([`holder_restart_refused`]).
//! - verify runs NODE's checks only; the peer's checks and the checks about the pair are
//!   not run and do not count (the verdict says so); the peer may be down.
//! - status shows NODE only (its role, its replication from the peer, keepalived); the
//!   verdict is about that node; the peer may be down.
//!
//! `pattern.rs`: the `--limit` patterns of a fleet (`CLUSTER[/NODE]`, globs, `!`).

pub mod pattern;

use crate::error::UsageError;
use crate::inventory::Inventory;

/// The detail of a step about the pair that `--limit` skipped.
pub const PAIR_STEP_SKIPPED: &str =
    "not run: a step about the pair, and --limit runs one node's steps only";

/// The index of `--limit NODE` in the inventory (a usage error, exit 2, naming the nodes
/// there are, when it is none of them).
pub fn node_index(
    inv: &Inventory,
    name: &str,
    path: &std::path::Path,
) -> Result<usize, UsageError> {
    inv.nodes
        .iter()
        .position(|n| n.name == name)
        .ok_or_else(|| {
            let names: Vec<&str> = inv.nodes.iter().map(|n| n.name.as_str()).collect();
            UsageError(format!(
                "--limit {name}: no such node in {} (nodes: {})",
                path.display(),
                names.join(", ")
            ))
        })
}

/// `--limit NODE` with NODE holding the VIP and needing a restart: the rolling order
/// hands the VIP to the peer first, and `--limit` changes nothing on the peer.
pub fn holder_restart_refused(node: &str, peer: &str, why: &str) -> String {
    format!(
        "{node} holds the VIP and needs a restart for {why}, which first hands the VIP to \
         {peer} with a switchover; --limit {node} changes nothing on {peer}, so nothing was \
         done: run `mhactl switchover` first ({node} then restarts as the passive node), or \
         bootstrap without --limit"
    )
}
