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
        None => NodeStatus {
            name: node.name.clone(),
            address: node.address.to_string(),
            reachable: false,
            server_running: false,
            flavor: None,
            version: None,
            server_id: None,
            role: Role::Unknown,
            keepalived_running: None,
            replication: None,
            errors: vec![format!(
                "ssh: {}",
                reports.first().map(|r| r.detail.as_str()).unwrap_or("")
            )],
        },
    };
    let redaction: Vec<String> = secrets.values().into_iter().map(str::to_string).collect();
    for e in &mut status.errors {
        *e = crate::engine::redact(e, &redaction);
    }
    if let Some(r) = &mut status.replication {
        r.last_io_error = crate::engine::redact(&r.last_io_error, &redaction);
        r.last_sql_error = crate::engine::redact(&r.last_sql_error, &redaction);
    }
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
