//! `mhactl lab up|status|down --output json` (docs/json.md, `$defs/lab-up`, `lab-status`,
//! `lab-down` of docs/json-schema/mhactl.schema.json), written through
//! [`crate::json_out`] like every command's document. Text output stays in the module.

use super::{files, LabState, NODE_NAMES};
use anyhow::Result;
use serde_json::{json, Value};
use std::path::Path;

/// The nodes' names, addresses and namespaces.
pub(super) fn nodes(state: &LabState) -> Vec<Value> {
    let net = &state.network;
    NODE_NAMES
        .iter()
        .enumerate()
        .map(|(i, name)| {
            json!({
                "name": name,
                "address": net.node_address(i).to_string(),
                "netns": net.netns(name),
            })
        })
        .collect()
}

/// `lab up`: the lab as a script needs it (`reused`: it was already up).
pub fn print_up(dir: &Path, state: &LabState, reused: bool) -> Result<()> {
    crate::json_out::print(
        None,
        &json!({
            "ok": true,
            "dir": dir.display().to_string(),
            "reused": reused,
            "flavor": state.flavor,
            "subnet": state.network.octet,
            "vip": state.network.vip().to_string(),
            "inventory": dir.join(files::INVENTORY).display().to_string(),
            "ssh_user": state.ssh_user,
            "nodes": nodes(state),
        }),
    )
}

/// `lab status`: `rows` are (node index, `up`/`no-ssh`/`down`, holds the VIP); no
/// `state` means no lab in `dir`.
pub fn print_status(
    dir: &Path,
    state: Option<&LabState>,
    rows: &[(usize, &str, bool)],
    holders: &[&str],
) -> Result<()> {
    let mut nodes = state.map(nodes).unwrap_or_default();
    for (node, (_, word, holds_vip)) in nodes.iter_mut().zip(rows) {
        node["state"] = (*word).into();
        node["holds_vip"] = (*holds_vip).into();
    }
    crate::json_out::print(
        None,
        &json!({
            "ok": state.is_some() && rows.iter().all(|(_, word, _)| *word == "up"),
            "dir": dir.display().to_string(),
            "exists": state.is_some(),
            "flavor": state.map(|s| s.flavor),
            "vip": state.map(|s| s.network.vip().to_string()),
            "vip_holders": holders,
            "nodes": nodes,
        }),
    )
}

/// `lab down`: `removed` is false when there was no lab in `dir`.
pub fn print_down(dir: &Path, removed: bool) -> Result<()> {
    crate::json_out::print(
        None,
        &json!({ "ok": true, "dir": dir.display().to_string(), "removed": removed }),
    )
}
