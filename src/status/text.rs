//! The `mhactl status` screen: a [`StatusReport`] as text (pure, for tests).

use super::StatusReport;
use crate::inventory::Flavor;
use crate::report;

/// The text screen (pure, for tests). `quiet`: only the verdict and problems.
pub fn render_text(r: &StatusReport, quiet: bool, colour: bool) -> String {
    use std::fmt::Write;
    let paint = |w: &str, width: usize| report::paint_status(w, width, colour);
    let yes_no = |b: bool| if b { "yes" } else { "NO" };
    let mut s = String::new();
    if !quiet {
        let holder = match r.vip_holders.len() {
            // --limit: the peer was not read, so "no node" would be a guess.
            0 if r.limit.is_some() => format!(
                "not on {} (--limit: the peer was not read)",
                r.limit.as_deref().unwrap_or_default()
            ),
            0 => "on no node".to_string(),
            1 => format!("on {}", r.vip_holders[0]),
            _ => format!("on {}", r.vip_holders.join(" AND ")),
        };
        let _ = writeln!(s, "cluster {}   VIP {} {holder}", r.cluster, r.vip);
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<10} {:<16} {:<4} {:<32} {:<11} KEEPALIVED",
            "NODE", "ADDRESS", "SSH", "SERVER", "ROLE"
        );
        for n in &r.nodes {
            let server = match (&n.flavor, &n.version) {
                (Some(f), Some(v)) => {
                    let name = Flavor::from_inventory_name(f).map_or("MySQL", Flavor::server_name);
                    match n.server_id {
                        Some(id) => format!("{name} {v} (server_id {id})"),
                        None => format!("{name} {v}"),
                    }
                }
                _ if n.reachable => "not answering".into(),
                _ => "-".into(),
            };
            let keepalived = match n.keepalived_running {
                Some(true) => paint("running", 0),
                Some(false) => paint("NO", 0),
                None => "-".into(),
            };
            let _ = writeln!(
                s,
                "{:<10} {:<16} {} {:<32} {} {}",
                n.name,
                n.address,
                paint(if n.reachable { "ok" } else { "NO" }, 4),
                server,
                paint(n.role.word(), 11),
                keepalived.trim_end()
            );
        }
        let _ = writeln!(s);
        let _ = writeln!(
            s,
            "{:<24} {:<4} {:<4} {:<8} LAST ERROR",
            "REPLICATION", "IO", "SQL", "BEHIND"
        );
        for n in &r.nodes {
            match &n.replication {
                Some(rep) => {
                    let source = rep.source_node.clone().unwrap_or(rep.source_host.clone());
                    let behind = rep
                        .seconds_behind
                        .map(|b| format!("{b} s"))
                        .unwrap_or_else(|| "-".into());
                    let err = [&rep.last_io_error, &rep.last_sql_error]
                        .into_iter()
                        .find(|e| !e.is_empty())
                        .cloned()
                        .unwrap_or_default();
                    let _ = writeln!(
                        s,
                        "{:<24} {} {} {:<8} {}",
                        format!("{source} -> {}", n.name),
                        paint(yes_no(rep.io_running), 4),
                        paint(yes_no(rep.sql_running), 4),
                        behind,
                        err
                    );
                }
                None if n.server_running => {
                    let _ = writeln!(
                        s,
                        "{:<24} (no replication source configured)",
                        format!("? -> {}", n.name)
                    );
                }
                None => {
                    let _ = writeln!(s, "{:<24} (unknown)", format!("? -> {}", n.name));
                }
            }
        }
        for n in &r.nodes {
            for e in &n.errors {
                let _ = writeln!(s, "{}: {e}", n.name);
            }
        }
        let _ = writeln!(s);
    }
    if let (true, Some(node)) = (r.ok, &r.limit) {
        let _ = writeln!(
            s,
            "status: {} ({node} up and replicating from its peer; --limit {node}: the peer \
             and the VIP were not judged)",
            paint("OK", 0).trim_end()
        );
    } else if r.ok {
        let _ = writeln!(
            s,
            "status: {} (both nodes up and replicating both ways; VIP on {})",
            paint("OK", 0).trim_end(),
            r.vip_holder.as_deref().unwrap_or("?")
        );
    } else {
        let _ = writeln!(s, "status: {}", paint("NOT HEALTHY", 0).trim_end());
        for p in &r.problems {
            let _ = writeln!(s, "  - {p}");
        }
    }
    for w in &r.warnings {
        let _ = writeln!(s, "  warning: {w}");
    }
    s.lines().map(|l| format!("{}\n", l.trim_end())).collect()
}
