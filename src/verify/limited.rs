//! `verify --limit NODE`: one node's checks ([`crate::limit`] has the rules). The peer's
//! checks and the checks about the pair are not run and do not count; the peer may be
//! unreachable (it is not reported then: it is not what was asked about).

use super::{checks, Check};
use crate::global::GlobalArgs;
use crate::inventory::{Inventory, Secrets};

/// Connect (the peer too when it answers: some of NODE's checks read it) and run node
/// `i`'s checks; its failed connection is its failed `ssh` check.
pub fn collect(inv: &Inventory, secrets: &Secrets, global: &GlobalArgs, i: usize) -> Vec<Check> {
    let connected = super::connect_reachable(inv, secrets, global);
    let mut out = super::ssh_checks(&connected.reports, secrets, Some(&inv.nodes[i].name));
    if let Some(cluster) = connected
        .cluster
        .filter(|_| !connected.unreachable.contains(&i))
    {
        crate::facts::changed(&cluster);
        let mut own = checks::node_checks(&cluster, inv, secrets, i);
        for c in &mut own {
            c.detail = cluster.redact(&c.detail);
        }
        out.extend(own);
    }
    out
}

/// The line after the verdict that says what `--limit` left out.
pub fn note(inv: &Inventory, i: usize) -> String {
    format!(
        "verify: --limit {}: {}'s checks and the checks about the pair were not run",
        inv.nodes[i].name,
        inv.peer(i).name
    )
}
