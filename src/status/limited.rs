//! `status --limit NODE`: one node read and judged on its own ([`crate::limit`] has the
//! rules). Only NODE is connected to, so a peer that is down changes nothing; whether
//! exactly one node holds the VIP is the pair's business and not judged.

use super::{node_problems, read_node, secrets_for_status, NodeStatus, Role, StatusReport};
use crate::global::GlobalArgs;
use crate::inventory::Inventory;

/// Connect to node `i` alone and read what status shows about it.
pub(super) fn collect(inv: &Inventory, global: &GlobalArgs, i: usize) -> StatusReport {
    let secrets = secrets_for_status(inv);
    let node = &inv.nodes[i];
    let mut single = inv.clone();
    single.nodes = vec![node.clone()];
    let options = crate::session::connect_options(global, None);
    let progress = crate::report::Progress::new(&global.report_options().quiet(), &[]);
    let (one, reports) = crate::connect::connect(&single, &secrets, &options, &progress);
    let mut status = match one {
        Some(c) => read_node(&c, &c.nodes[0], inv, i),
        None => {
            let mut unread = NodeStatus::unread(node);
            let why = reports.first().map(|r| r.detail.as_str()).unwrap_or("");
            unread.errors.push(format!("ssh: {why}"));
            unread
        }
    };
    status.redact(&secrets);
    judge(inv, i, status)
}

/// The report for node `i` alone (pure).
pub(super) fn judge(inv: &Inventory, i: usize, status: NodeStatus) -> StatusReport {
    let (mut problems, mut warnings) = (Vec::new(), Vec::new());
    node_problems(inv, i, &status, &mut problems, &mut warnings);
    let holders: Vec<String> = (status.role == Role::VipHolder)
        .then(|| status.name.clone())
        .into_iter()
        .collect();
    StatusReport {
        ok: problems.is_empty(),
        cluster: inv.cluster.clone(),
        vip: format!("{}/{}", inv.vip.address, inv.vip.prefix),
        vip_holder: holders.first().cloned(),
        vip_holders: holders,
        limit: Some(status.name.clone()),
        nodes: vec![status],
        problems,
        warnings,
    }
}
