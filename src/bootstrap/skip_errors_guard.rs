//! Removing `slave_skip_errors` (`replica_skip_errors`) only while the tables are the
//! same on both nodes. A pair built by the runbook skips duplicate-key errors (1062):
//! the events it skipped may have left the nodes different, and once the setting is gone
//! the next event touching such a row stops replication. So before the `server-config`
//! step drops error codes the running server skips (the inventory's `mysql.skip_errors`
//! no longer lists them), the tables are compared (`CHECKSUM TABLE`, as `mhactl adopt`
//! does) and bootstrap refuses while any differs, naming them and how to repair them.

use crate::dialect::Dialect;
use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::inventory::Inventory;
use anyhow::{bail, Result};
use std::collections::BTreeSet;

/// The codes the server skips now (`running`: the variable's value, `OFF` for none)
/// that `wanted` no longer lists, in order.
pub fn removed_codes(running: &str, wanted: &[u32]) -> Vec<String> {
    if running.trim().is_empty() || running.trim().eq_ignore_ascii_case("off") {
        return Vec::new();
    }
    let wanted: BTreeSet<String> = wanted.iter().map(u32::to_string).collect();
    running
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty() && !wanted.contains(c))
        .collect()
}

/// Refuse (an error naming the node, the setting, the tables and the repair) when the
/// running server skips error codes the inventory drops and the tables differ.
pub fn check(cluster: &Cluster, node: &NodeHandle, inv: &Inventory, d: &Dialect) -> Result<()> {
    let option = d.skip_errors_option();
    let running = facts::variable(node, option)?.unwrap_or_default();
    let removed = removed_codes(&running, &inv.mysql.skip_errors);
    if removed.is_empty() {
        return Ok(());
    }
    let found = crate::adopt::discover::compare_tables(cluster)?;
    if let Some(why) = found.skipped {
        bail!(
            "{}: refusing to remove {option}={running} (mysql.skip_errors does not list {}): \
             cannot tell whether the tables are identical ({why}); run bootstrap again when \
             replication has caught up",
            node.name,
            removed.join(",")
        );
    }
    if found.differing.is_empty() {
        // Tables written during the comparison (`found.changing`) are not judged: a pair
        // under traffic is not refused for its own writes in flight.
        return Ok(());
    }
    let tables: Vec<String> = found.differing;
    let holder = facts::vip_holders(cluster, inv)
        .ok()
        .and_then(|h| h.first().copied());
    let (good, other) = match holder {
        Some(h) => (
            cluster.nodes[h].name.clone(),
            cluster.nodes[1 - h].name.clone(),
        ),
        None => ("the VIP holder".into(), "the other node".into()),
    };
    bail!(
        "{}: refusing to remove {option}={running} (mysql.skip_errors does not list {}) while \
         tables differ between the nodes: {}. The skipped errors hid these differences, and \
         without the setting the next change to such a row stops replication. Repair them \
         first: `pt-table-sync --execute --sync-to-master h={other_addr}` for the differing \
         tables (copies {good}'s rows to {other}), or `mhactl reinit {other} \
         --yes-destroy-data` (copies all of {good}); then run bootstrap again. To keep \
         skipping meanwhile, list the codes in mysql.skip_errors (docs/adopt.md)",
        node.name,
        removed.join(","),
        tables.join("; "),
        other_addr = other_address(inv, &other),
    )
}

fn other_address(inv: &Inventory, name: &str) -> String {
    inv.nodes
        .iter()
        .find(|n| n.name == name)
        .map(|n| n.address.to_string())
        .unwrap_or_else(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn removed_codes_are_the_running_ones_the_inventory_drops() {
        for (running, wanted, removed) in [
            ("OFF", vec![], vec![]),
            ("", vec![], vec![]),
            ("1062", vec![], vec!["1062"]),
            ("1062", vec![1062], vec![]),
            ("1032,1062", vec![1062], vec!["1032"]),
            ("all", vec![], vec!["all"]),
        ] {
            assert_eq!(removed_codes(running, &wanted), removed, "{running}");
        }
    }
}
