//! The adoption report (text for people, JSON with `--output json`: docs/json.md) and
//! the shape of the adopted inventory decided from the findings (node order, VIP
//! interface, prefix and router id, priorities, cluster name).

use super::discover::{NodeFindings, TableComparison};
use super::minimal::MinimalInventory;
use super::risks::{Refusal, Risk};
use super::write::Adopted;
use crate::error::UsageError;
use anyhow::Result;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::Path;

/// What `mhactl adopt` found and decided.
#[derive(Debug, Clone, Serialize)]
pub struct AdoptReport {
    /// An inventory was written.
    pub adopted: bool,
    /// The inventory written (`null` when refused).
    pub inventory: Option<String>,
    /// The VIP.
    pub vip: String,
    /// The nodes holding the VIP.
    pub vip_holders: Vec<String>,
    /// Both nodes' findings.
    pub nodes: Vec<NodeFindings>,
    /// The table comparison.
    pub tables: TableComparison,
    /// Every risk, worst first.
    pub risks: Vec<Risk>,
    /// Why the pair was not adopted.
    pub refusal: Option<Refusal>,
}

impl AdoptReport {
    /// A report on `nodes`, nothing decided yet.
    pub fn new(min: &MinimalInventory, nodes: &[NodeFindings]) -> AdoptReport {
        AdoptReport {
            adopted: false,
            inventory: None,
            vip: min.vip.address.to_string(),
            vip_holders: nodes
                .iter()
                .filter(|n| n.holds(min.vip.address))
                .map(|n| n.name.clone())
                .collect(),
            nodes: nodes.to_vec(),
            tables: TableComparison::default(),
            risks: Vec::new(),
            refusal: None,
        }
    }
}

/// The report as its JSON document's body: the envelope's `ok` (every command's
/// verdict) is `adopted`.
#[derive(Serialize)]
pub struct JsonBody<'a> {
    /// The same as `adopted`.
    pub ok: bool,
    /// The report's own fields.
    #[serde(flatten)]
    pub report: &'a AdoptReport,
}

impl AdoptReport {
    /// The body [`crate::json_out`] writes for `--output json`.
    pub fn json_body(&self) -> JsonBody<'_> {
        JsonBody {
            ok: self.adopted,
            report: self,
        }
    }
}

/// The VRRP instance of a node that carries the VIP (else its first).
fn instance<'a>(
    n: &'a NodeFindings,
    min: &MinimalInventory,
) -> Option<&'a crate::os::keepalived_conf::VrrpInstance> {
    let conf = n.keepalived.conf.as_ref()?;
    let vip = min.vip.address.to_string();
    conf.instances
        .iter()
        .find(|i| i.vips.iter().any(|(a, _)| *a == vip))
        .or(conf.instances.first())
}

/// Decide the adopted inventory's shape. Errors (exit 2) when the VIP's interface or
/// router id is neither in the minimal inventory nor in keepalived.conf.
pub fn adopted_shape<'a>(
    min: &'a MinimalInventory,
    nodes: &'a [NodeFindings],
    out_dir: &'a Path,
) -> Result<Adopted<'a>> {
    // The node with auto_increment_offset 1 first: the inventory's order gives the
    // offsets, so the pair's own stay as they are.
    let mut order: Vec<&NodeFindings> = nodes.iter().collect();
    let offset = |n: &NodeFindings| n.var("auto_increment_offset").map(str::to_string);
    if offset(order[0]).as_deref() == Some("2") && offset(order[1]).as_deref() == Some("1") {
        order.swap(0, 1);
    }
    let inst0 = instance(order[0], min);
    let missing = |field: &str| {
        anyhow::Error::new(UsageError(format!(
            "{}: vip.{field} is not given and no keepalived.conf on the nodes says it: \
             add it to the minimal inventory",
            min.base_dir.display()
        )))
    };
    let own_interface = |n: &NodeFindings| {
        n.addresses
            .iter()
            .find(|a| Some(a.address) == n.address)
            .cloned()
    };
    let interface = min
        .vip
        .interface
        .clone()
        .or_else(|| inst0.and_then(|i| i.interface.clone()))
        .or_else(|| own_interface(order[0]).map(|a| a.interface))
        .ok_or_else(|| missing("interface"))?;
    let vip = min.vip.address.to_string();
    let prefix = min
        .vip
        .prefix
        .or_else(|| inst0.and_then(|i| i.vips.iter().find(|(a, _)| *a == vip)?.1))
        .or_else(|| own_interface(order[0]).map(|a| a.prefix))
        .unwrap_or(24);
    let virtual_router_id = min
        .vip
        .virtual_router_id
        .or_else(|| inst0.and_then(|i| i.virtual_router_id))
        .ok_or_else(|| missing("virtual_router_id"))?;
    let priorities = order
        .iter()
        .map(|n| instance(n, min).and_then(|i| i.priority))
        .collect();
    let cluster = min
        .cluster
        .clone()
        .or_else(|| {
            let id = order[0].keepalived.conf.as_ref()?.router_id.clone()?;
            let ok = !id.is_empty()
                && id.len() <= 32
                && id
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            ok.then_some(id)
        })
        .unwrap_or_else(|| "adopted".into());
    Ok(Adopted {
        min,
        nodes: order,
        cluster,
        interface,
        prefix,
        virtual_router_id,
        priorities,
        out_dir,
        when: now_utc(),
    })
}

fn now_utc() -> String {
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rest) = (secs / 86400, secs % 86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn yes(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// The report for people.
pub fn render_text(r: &AdoptReport) -> String {
    let mut o = String::new();
    let holders = if r.vip_holders.is_empty() {
        "no node".to_string()
    } else {
        r.vip_holders.join(" and ")
    };
    let _ = writeln!(o, "adopt: VIP {} on {holders}", r.vip);
    for n in &r.nodes {
        let _ = writeln!(
            o,
            "\n{} ({}): {} on {}",
            n.name,
            n.address.map(|a| a.to_string()).unwrap_or_default(),
            n.version,
            n.os
        );
        let _ = writeln!(
            o,
            "  server_id {}, auto_increment {}/{}, read_only {}, binlog {} ({}), data {} KiB",
            n.var("server_id").unwrap_or("?"),
            n.var("auto_increment_increment").unwrap_or("?"),
            n.var("auto_increment_offset").unwrap_or("?"),
            n.var("read_only").unwrap_or("?"),
            n.var("binlog_format").unwrap_or("?"),
            n.binlog.as_deref().unwrap_or("no binary log"),
            n.data_kib
                .map(|k| k.to_string())
                .unwrap_or_else(|| "?".into())
        );
        match &n.replica {
            Some(rep) => {
                let _ = writeln!(
                    o,
                    "  replicates from {}:{} as {} by {}: IO {}, SQL {}, {} s behind",
                    rep.source_host,
                    rep.source_port,
                    rep.user,
                    rep.positioning,
                    yes(rep.io_running),
                    yes(rep.sql_running),
                    rep.seconds_behind
                        .map(|s| s.to_string())
                        .unwrap_or_else(|| "?".into())
                );
            }
            None => {
                let _ = writeln!(o, "  no replication configured");
            }
        }
        if !n.replica_clients.is_empty() {
            let _ = writeln!(o, "  read by replicas at {}", n.replica_clients.join(", "));
        }
        let _ = writeln!(o, "  option files read: {}", n.option_files.join(", "));
        for s in &n.options {
            let _ = writeln!(o, "    {} = {} (from {})", s.key, s.value, s.file);
        }
        let accounts: Vec<String> = n
            .accounts
            .iter()
            .map(|a| format!("{}@'{}'", a.user, a.host))
            .collect();
        let _ = writeln!(o, "  accounts: {}", accounts.join(", "));
        let k = &n.keepalived;
        let _ = writeln!(
            o,
            "  keepalived {}: {}, {} instance(s), {} virtual_server block(s)",
            k.version.as_deref().unwrap_or("(not installed)"),
            match k.running {
                Some(true) => "running",
                Some(false) => "stopped",
                None => "state unknown",
            },
            k.conf.as_ref().map_or(0, |c| c.instances.len()),
            k.conf.as_ref().map_or(0, |c| c.virtual_servers.len()),
        );
        let _ = writeln!(
            o,
            "  firewall: {}; SELinux: {}",
            n.firewall,
            n.selinux.as_deref().unwrap_or("not installed")
        );
        for u in &n.unread {
            let _ = writeln!(o, "  not read: {u}");
        }
    }
    if let Some(refusal) = &r.refusal {
        let _ = writeln!(o, "\nnot adopted: {}: {}", refusal.node, refusal.reason);
        return o;
    }
    let _ = writeln!(o);
    match (&r.tables.skipped, r.tables.differing.is_empty()) {
        (Some(why), _) => {
            let _ = writeln!(o, "tables: not compared: {why}");
        }
        (None, true) => {
            let _ = writeln!(
                o,
                "tables: {} compared, identical on both nodes",
                r.tables.compared
            );
        }
        (None, false) => {
            let _ = writeln!(
                o,
                "tables: {} DIFFER:\n  {}",
                r.tables.differing.len(),
                r.tables.differing.join("\n  ")
            );
        }
    }
    if !r.tables.changing.is_empty() {
        let _ = writeln!(
            o,
            "tables written during the comparison (not judged): {}",
            r.tables.changing.join(", ")
        );
    }
    let _ = writeln!(o, "\nrisks ({}):", r.risks.len());
    for risk in &r.risks {
        let sev = serde_json::to_value(risk.severity)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        let _ = writeln!(
            o,
            "  [{sev}] {} {}: {}\n      consequence: {}\n      mhactl: {}",
            risk.node,
            risk.id,
            risk.found.replace('\n', "\n        "),
            risk.consequence,
            risk.change
        );
    }
    if let Some(path) = &r.inventory {
        let _ = writeln!(
            o,
            "\ninventory written: {path}\nnext: mhactl bootstrap --dry-run -i {path}"
        );
    }
    o
}
