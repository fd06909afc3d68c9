//! `mhactl status`: one screen about the pair, read-only. Per node: reachable over SSH,
//! server flavor and version, role (VIP holder or standby), replication from its peer
//! (threads, lag, last error) and whether keepalived runs; and which node holds the VIP.
//!
//! Exit 0 when both nodes are up, replicating both ways and exactly one holds the VIP;
//! 1 otherwise. The JSON form ([`StatusReport`]) is documented in docs/json.md.
//!
//! This file reads the nodes and judges the pair ([`collect`], [`assess`]); `status/text.rs`
//! renders the screen ([`render_text`]).

use crate::engine::{Cluster, NodeHandle, StepStatus};
use crate::facts;
use crate::global::{GlobalArgs, OutputFormat};
use crate::inventory::{Inventory, SecretName, Secrets};
use crate::report::{self, Stream};
use anyhow::Result;
use serde::Serialize;
use std::io::IsTerminal;
use std::process::ExitCode;

mod limited;
mod text;
pub use text::render_text;

/// Replication lag (seconds) above which status warns.
pub const LAG_WARNING_S: u64 = 60;

/// The whole `mhactl status` result.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    /// Both nodes up and replicating both ways, and exactly one VIP holder.
    pub ok: bool,
    /// Cluster name from the inventory.
    pub cluster: String,
    /// The VIP with its prefix (`10.0.0.100/24`).
    pub vip: String,
    /// The node holding the VIP when exactly one does; `null` otherwise.
    pub vip_holder: Option<String>,
    /// Every node found holding the VIP (two means split brain).
    pub vip_holders: Vec<String>,
    /// Both nodes, in inventory order.
    pub nodes: Vec<NodeStatus>,
    /// Why `ok` is false (empty when ok).
    pub problems: Vec<String>,
    /// Worth attention, but not failing (keepalived stopped, lag, odd source).
    pub warnings: Vec<String>,
    /// `--limit NODE`: only this node was read and judged (absent without --limit).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<String>,
}

/// What status found on one node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    /// Node name.
    pub name: String,
    /// Address from the inventory.
    pub address: String,
    /// SSH connection succeeded.
    pub reachable: bool,
    /// The database server answered SQL.
    pub server_running: bool,
    /// `mariadb` or `mysql` (`null` when the server did not answer).
    pub flavor: Option<String>,
    /// `major.minor.patch` (`null` when the server did not answer).
    pub version: Option<String>,
    /// `@@server_id`.
    pub server_id: Option<u32>,
    /// `vip-holder`, `standby`, or `unknown` (node unreachable).
    pub role: Role,
    /// keepalived's service is active (`null` when it could not be asked).
    pub keepalived_running: Option<bool>,
    /// This node as a replica (from its peer); `null` when none is configured or unknown.
    pub replication: Option<Replication>,
    /// What could not be read, and why (secrets redacted).
    pub errors: Vec<String>,
}

/// A node's role in the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Role {
    /// Holds the VIP: clients write here.
    VipHolder,
    /// Does not hold the VIP.
    Standby,
    /// Could not be determined.
    Unknown,
}

impl Role {
    fn word(self) -> &'static str {
        match self {
            Role::VipHolder => "vip-holder",
            Role::Standby => "standby",
            Role::Unknown => "unknown",
        }
    }
}

/// One direction of replication, as the replica sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Replication {
    /// `Master_Host` / `Source_Host`.
    pub source_host: String,
    /// The inventory node at that address (`null` if none is).
    pub source_node: Option<String>,
    /// IO thread running (`Connecting` counts as not running).
    pub io_running: bool,
    /// SQL thread running.
    pub sql_running: bool,
    /// `Seconds_Behind_Master`; `null` when a thread is stopped.
    pub seconds_behind: Option<u64>,
    /// `Last_IO_Error` (empty when none).
    pub last_io_error: String,
    /// `Last_SQL_Error` (empty when none).
    pub last_sql_error: String,
}

/// Run `mhactl status`.
pub fn run(args: &StatusArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let inv = crate::session::load(&global.inventory)?;
    let report = match &args.limit {
        Some(name) => {
            let i = crate::limit::node_index(&inv, name, &global.inventory)?;
            limited::collect(&inv, global, i)
        }
        None => collect(&inv, global),
    };
    match global.output {
        OutputFormat::Json => crate::json_out::print(None, &report)?,
        OutputFormat::Text => print!(
            "{}",
            render_text(
                &report,
                global.quiet,
                report::colour_enabled(Stream::Stdout)
            )
        ),
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// status needs no secret on MariaDB (root logs in by socket) and only the root
/// password on MySQL; the others serve to redact output. So an unresolvable reference
/// (an unset variable, a prompt without a terminal) is not an error here: status goes
/// on with what it could resolve.
fn secrets_for_status(inv: &Inventory) -> Secrets {
    let interactive = std::io::stdin().is_terminal();
    Secrets::resolve(inv, interactive).unwrap_or_else(|e| {
        tracing::debug!("status: secrets not all resolved ({e:#}); continuing without them");
        let root_password = inv
            .credentials
            .source(SecretName::RootPassword)
            .and_then(|r| r.resolve(SecretName::RootPassword, inv, interactive).ok());
        Secrets {
            replication_password: String::new().into(),
            root_password,
            vrrp_password: String::new().into(),
            user_passwords: Vec::new(),
            become_passwords: (0..inv.nodes.len())
                .filter_map(|i| crate::inventory::become_password(inv, i).ok().flatten())
                .collect(),
        }
    })
}

/// Connect to both nodes (each on its own when the other is unreachable) and read
/// everything status shows.
pub fn collect(inv: &Inventory, global: &GlobalArgs) -> StatusReport {
    let secrets = secrets_for_status(inv);
    let connected = crate::session::connect(inv, &secrets, global, &Default::default());
    let (cluster, reports, progress) = (connected.cluster, connected.reports, connected.progress);
    let mut nodes: Vec<NodeStatus> = inv.nodes.iter().map(NodeStatus::unread).collect();
    match cluster {
        Some(cluster) => {
            let found = read_nodes(&cluster, inv);
            for (slot, status) in nodes.iter_mut().zip(found) {
                *slot = status;
            }
        }
        None => {
            // connect() gives a cluster only when both nodes answer: reach the
            // reachable one on its own, so its half of the picture still shows.
            for (i, r) in reports.iter().enumerate() {
                if r.status == StepStatus::Failed {
                    nodes[i].errors.push(format!("ssh: {}", r.detail));
                    continue;
                }
                let mut single = inv.clone();
                single.nodes = vec![inv.nodes[i].clone()];
                let options = crate::session::connect_options(global, None);
                let (one, again) = crate::connect::connect(&single, &secrets, &options, &progress);
                match one {
                    Some(c) => nodes[i] = read_node(&c, &c.nodes[0], inv, i),
                    None => nodes[i].errors.push(format!(
                        "ssh: {}",
                        again.first().map(|r| r.detail.as_str()).unwrap_or("")
                    )),
                }
            }
        }
    }
    for n in &mut nodes {
        n.redact(&secrets);
    }
    assess(inv, nodes)
}

impl NodeStatus {
    /// A node not read (yet): unreachable, nothing known.
    fn unread(node: &crate::inventory::Node) -> NodeStatus {
        NodeStatus {
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
            errors: Vec::new(),
        }
    }

    /// Mask the secrets in what the node's errors and replication errors quote.
    fn redact(&mut self, secrets: &Secrets) {
        let known: Vec<String> = secrets.values().into_iter().map(str::to_string).collect();
        for e in &mut self.errors {
            *e = crate::engine::redact(e, &known);
        }
        if let Some(r) = &mut self.replication {
            r.last_io_error = crate::engine::redact(&r.last_io_error, &known);
            r.last_sql_error = crate::engine::redact(&r.last_sql_error, &known);
        }
    }
}

fn read_nodes(cluster: &Cluster, inv: &Inventory) -> Vec<NodeStatus> {
    std::thread::scope(|scope| {
        let handles: Vec<_> = cluster
            .nodes
            .iter()
            .enumerate()
            .map(|(i, n)| scope.spawn(move || read_node(cluster, n, inv, i)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("status thread panicked"))
            .collect()
    })
}

/// Read one node's facts; `index` is its position in `inv` (the handle may come from a
/// one-node cluster). Nothing here changes the node.
pub fn read_node(cluster: &Cluster, n: &NodeHandle, inv: &Inventory, index: usize) -> NodeStatus {
    let node = &inv.nodes[index];
    let mut s = NodeStatus {
        reachable: true,
        ..NodeStatus::unread(node)
    };
    match facts::holds_vip(n, inv) {
        Ok(true) => s.role = Role::VipHolder,
        Ok(false) => s.role = Role::Standby,
        Err(e) => s.errors.push(format!("vip: {e:#}")),
    }
    match facts::os_target(n, inv.mysql.flavor) {
        Ok((_, services)) => {
            match facts::service_active(n, services, crate::os::KEEPALIVED_SERVICE) {
                Ok(active) => s.keepalived_running = Some(active),
                Err(e) => s.errors.push(format!("keepalived: {e:#}")),
            }
        }
        Err(e) => s.errors.push(format!("os: {e:#}")),
    }
    match facts::dialect(n) {
        Ok(d) => {
            let v = d.version();
            s.server_running = true;
            s.flavor = Some(v.flavor.inventory_name().into());
            s.version = Some(format!("{}.{}.{}", v.major, v.minor, v.patch));
        }
        Err(e) => s.errors.push(format!("server: {e:#}")),
    }
    if s.server_running {
        match facts::variable(n, "server_id") {
            Ok(v) => s.server_id = v.and_then(|v| v.trim().parse().ok()),
            Err(e) => s.errors.push(format!("server_id: {e:#}")),
        }
        match facts::replica_status(n) {
            Ok(r) => {
                s.replication = r.map(|r| Replication {
                    source_node: inv
                        .nodes
                        .iter()
                        .find(|x| x.address.to_string() == r.source_host)
                        .map(|x| x.name.clone()),
                    source_host: r.source_host,
                    io_running: r.io_running,
                    sql_running: r.sql_running,
                    seconds_behind: r.seconds_behind,
                    last_io_error: r.last_io_error,
                    last_sql_error: r.last_sql_error,
                })
            }
            Err(e) => s.errors.push(format!("replication: {e:#}")),
        }
    }
    for e in &mut s.errors {
        *e = cluster.redact(e);
    }
    s
}

/// Node `i`'s own problems and warnings (`n` is what status read on it): reachable, its
/// server answers, it replicates from its peer, keepalived runs. The VIP is the pair's.
pub(crate) fn node_problems(
    inv: &Inventory,
    i: usize,
    n: &NodeStatus,
    problems: &mut Vec<String>,
    warnings: &mut Vec<String>,
) {
    let peer = &inv.nodes[1 - i.min(1)];
    if !n.reachable {
        problems.push(format!("{} is unreachable over SSH", n.name));
        return;
    }
    if !n.server_running {
        problems.push(format!("the database server on {} does not answer", n.name));
        return;
    }
    match &n.replication {
        None => problems.push(format!(
            "{} does not replicate from {} (no replication source configured)",
            n.name, peer.name
        )),
        Some(r) => {
            let mut threads = Vec::new();
            if !r.io_running {
                threads.push("IO");
            }
            if !r.sql_running {
                threads.push("SQL");
            }
            if !threads.is_empty() {
                let err = [&r.last_io_error, &r.last_sql_error]
                    .into_iter()
                    .filter(|e| !e.is_empty())
                    .map(String::as_str)
                    .collect::<Vec<_>>()
                    .join("; ");
                problems.push(format!(
                    "{}: replication {} thread{} not running{}",
                    n.name,
                    threads.join(" and "),
                    if threads.len() > 1 { "s" } else { "" },
                    if err.is_empty() {
                        String::new()
                    } else {
                        format!(": {err}")
                    }
                ));
            }
            if r.source_host != peer.address.to_string() {
                warnings.push(format!(
                    "{} replicates from {}, not from its peer {} ({})",
                    n.name, r.source_host, peer.name, peer.address
                ));
            }
            if let Some(lag) = r.seconds_behind.filter(|&l| l > LAG_WARNING_S) {
                warnings.push(format!("{} is {lag} s behind {}", n.name, peer.name));
            }
        }
    }
    if n.keepalived_running == Some(false) {
        warnings.push(format!(
            "keepalived is not running on {}: it cannot take or keep the VIP",
            n.name
        ));
    }
}

/// Decide `ok`, the problems and the warnings from what was read (pure).
pub fn assess(inv: &Inventory, nodes: Vec<NodeStatus>) -> StatusReport {
    let mut problems = Vec::new();
    let mut warnings = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        node_problems(inv, i, n, &mut problems, &mut warnings);
    }
    let vip_holders: Vec<String> = nodes
        .iter()
        .filter(|n| n.role == Role::VipHolder)
        .map(|n| n.name.clone())
        .collect();
    let all_known = nodes.iter().all(|n| n.role != Role::Unknown);
    match vip_holders.len() {
        0 if all_known => problems.push(format!("no node holds the VIP {}", inv.vip.address)),
        0 => problems.push(format!(
            "the VIP {} is on no reachable node",
            inv.vip.address
        )),
        1 => {}
        _ => problems.push(format!(
            "both nodes hold the VIP {} (split brain: check VRRP traffic between them and \
             the virtual_router_id)",
            inv.vip.address
        )),
    }
    StatusReport {
        ok: problems.is_empty(),
        cluster: inv.cluster.clone(),
        vip: format!("{}/{}", inv.vip.address, inv.vip.prefix),
        vip_holder: (vip_holders.len() == 1).then(|| vip_holders[0].clone()),
        vip_holders,
        nodes,
        problems,
        warnings,
        limit: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INV: &str = "cluster: shop\nnodes:\n  - name: node-a\n    address: 10.0.0.11\n  - name: node-b\n    address: 10.0.0.12\nvip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\ncredentials:\n  replication_password_env: X\n";

    fn healthy(name: &str, address: &str, peer: (&str, &str), holder: bool) -> NodeStatus {
        NodeStatus {
            name: name.into(),
            address: address.into(),
            reachable: true,
            server_running: true,
            flavor: Some("mariadb".into()),
            version: Some("10.11.6".into()),
            server_id: Some(if name == "node-a" { 1 } else { 2 }),
            role: if holder {
                Role::VipHolder
            } else {
                Role::Standby
            },
            keepalived_running: Some(true),
            replication: Some(Replication {
                source_host: peer.1.into(),
                source_node: Some(peer.0.into()),
                io_running: true,
                sql_running: true,
                seconds_behind: Some(0),
                last_io_error: String::new(),
                last_sql_error: String::new(),
            }),
            errors: vec![],
        }
    }

    fn pair() -> (Inventory, Vec<NodeStatus>) {
        let inv = crate::inventory::parse(INV, "t.yaml").unwrap();
        let nodes = vec![
            healthy("node-a", "10.0.0.11", ("node-b", "10.0.0.12"), true),
            healthy("node-b", "10.0.0.12", ("node-a", "10.0.0.11"), false),
        ];
        (inv, nodes)
    }

    #[test]
    fn a_healthy_pair_is_ok_with_one_holder() {
        let (inv, nodes) = pair();
        let r = assess(&inv, nodes);
        assert!(r.ok, "{:?}", r.problems);
        assert_eq!(r.vip_holder.as_deref(), Some("node-a"));
        assert_eq!(r.vip, "10.0.0.100/24");
        let text = render_text(&r, false, false);
        assert!(text.contains("node-b -> node-a"), "{text}");
        assert!(text.contains("MariaDB 10.11.6 (server_id 1)"), "{text}");
        assert!(text.contains("status: OK"), "{text}");
        assert!(!text.contains('\x1b'));
        assert_eq!(render_text(&r, true, false).lines().count(), 1);
    }

    #[test]
    fn stopped_threads_unreachable_nodes_and_split_brain_are_problems() {
        let (inv, mut nodes) = pair();
        let rep = nodes[1].replication.as_mut().unwrap();
        rep.sql_running = false;
        rep.seconds_behind = None;
        rep.last_sql_error = "Error 'Duplicate entry '1' for key 'PRIMARY'' on query".into();
        nodes[1].role = Role::VipHolder;
        let r = assess(&inv, nodes);
        assert!(!r.ok);
        assert!(r.problems.iter().any(|p| p.contains("node-b: replication SQL thread not running: Error 'Duplicate")), "{:?}", r.problems);
        assert!(r.problems.iter().any(|p| p.contains("split brain")));
        assert_eq!(r.vip_holder, None);

        let (inv, mut nodes) = pair();
        nodes[0].reachable = false;
        nodes[0].server_running = false;
        nodes[0].role = Role::Unknown;
        nodes[0].replication = None;
        nodes[1].keepalived_running = Some(false);
        let r = assess(&inv, nodes);
        assert!(r
            .problems
            .iter()
            .any(|p| p == "node-a is unreachable over SSH"));
        assert!(r
            .problems
            .iter()
            .any(|p| p.contains("on no reachable node")));
        assert!(r
            .warnings
            .iter()
            .any(|w| w.contains("keepalived is not running on node-b")));
        let text = render_text(&r, false, false);
        assert!(text.contains("status: NOT HEALTHY"), "{text}");
    }

    #[test]
    fn json_field_names_are_the_documented_ones() {
        let (inv, nodes) = pair();
        let v = serde_json::to_value(assess(&inv, nodes)).unwrap();
        for key in [
            "ok",
            "cluster",
            "vip",
            "vip_holder",
            "vip_holders",
            "nodes",
            "problems",
            "warnings",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        let n = &v["nodes"][0];
        for key in [
            "name",
            "address",
            "reachable",
            "server_running",
            "flavor",
            "version",
            "server_id",
            "role",
            "keepalived_running",
            "replication",
            "errors",
        ] {
            assert!(n.get(key).is_some(), "missing nodes[].{key}");
        }
        assert_eq!(n["role"], "vip-holder");
        for key in [
            "source_host",
            "source_node",
            "io_running",
            "sql_running",
            "seconds_behind",
            "last_io_error",
            "last_sql_error",
        ] {
            assert!(
                n["replication"].get(key).is_some(),
                "missing replication.{key}"
            );
        }
    }
}

/// `mhactl status` flags (the inventory and the format are the global `-i` and `--output`).
#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    /// Show this node only (its role, its replication from the peer, keepalived); the
    /// verdict is about it alone, and the peer may be down. Set from the global
    /// `--limit` (crate::fleet::plan).
    #[arg(skip)]
    pub limit: Option<String>,
}
