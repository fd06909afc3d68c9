//! The judgement of a hand-built pair, pure (findings in, verdict out): the pairs mhactl
//! refuses to adopt ([`refusal`]: not master/master, a third node, Galera, replication
//! broken in a way that needs a person) and the risks of one it adopts ([`risks`]),
//! each with its consequence and what mhactl would change.

use super::discover::{NodeFindings, TableComparison};
use serde::Serialize;
use std::net::Ipv4Addr;

/// Why a pair is not adopted, with the exit code: 2 for a pair mhactl does not manage
/// (not master/master, three nodes, Galera), 1 for a state a person must repair first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    /// 2: not a pair mhactl adopts; 1: replication broken.
    pub exit_code: u8,
    /// The node the reason is about.
    pub node: String,
    /// The reason, with what to do.
    pub reason: String,
}

/// How bad a risk is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Data already differs, or a step bootstrap will not take until a person acts.
    Blocker,
    /// Loses or hides data, or takes the pair down, when it bites.
    High,
    /// Weakens failover or security.
    Medium,
    /// Worth knowing.
    Info,
}

/// One risk found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Risk {
    /// Stable identifier (`skip-errors`, `root-remote`, ...): docs/adopt.md lists them.
    pub id: &'static str,
    /// How bad.
    pub severity: Severity,
    /// The node (`pair` when it is about both).
    pub node: String,
    /// What was found.
    pub found: String,
    /// What it leads to.
    pub consequence: &'static str,
    /// What mhactl changes (bootstrap on the adopted inventory), or what a person must do.
    pub change: &'static str,
}

fn addr_matches(host: &str, peer: &NodeFindings) -> bool {
    host == peer.name || peer.address.is_some_and(|a| a.to_string() == host)
}

fn on(v: Option<&str>) -> bool {
    v.is_some_and(|v| v.eq_ignore_ascii_case("on") || v == "1")
}

/// The first reason the pair cannot be adopted, if any.
pub fn refusal(nodes: &[NodeFindings]) -> Option<Refusal> {
    let refuse = |code: u8, node: &NodeFindings, reason: String| {
        Some(Refusal {
            exit_code: code,
            node: node.name.clone(),
            reason,
        })
    };
    for n in nodes {
        if on(n.var("wsrep_on")) {
            return refuse(
                2,
                n,
                "wsrep_on is ON: this is a Galera cluster node, not a master/master pair; \
                 mhactl does not manage Galera"
                    .into(),
            );
        }
    }
    for (i, n) in nodes.iter().enumerate() {
        let peer = &nodes[1 - i];
        let Some(r) = &n.replica else {
            return refuse(
                2,
                n,
                format!(
                    "does not replicate from {} (no replication configured): not a master/master \
                     pair (replication must run both ways)",
                    peer.name
                ),
            );
        };
        if n.sources.len() > 1 {
            let list: Vec<String> = n
                .sources
                .iter()
                .map(|s| format!("`{}` from {}", s.name, s.host))
                .collect();
            return refuse(
                2,
                n,
                format!(
                    "has {} replication sources ({}): more than two nodes replicate; mhactl \
                     adopts a pair only",
                    n.sources.len(),
                    list.join(", ")
                ),
            );
        }
        if !addr_matches(&r.source_host, peer) {
            return refuse(
                2,
                n,
                format!(
                    "replicates from {}, not from its peer {} ({}): not a master/master pair \
                     of these two nodes",
                    r.source_host,
                    peer.name,
                    peer.address.map(|a| a.to_string()).unwrap_or_default()
                ),
            );
        }
        let others: Vec<&String> = n
            .replica_clients
            .iter()
            .filter(|h| !addr_matches(h, peer))
            .collect();
        if n.replica_clients.len() > 1 && !others.is_empty() {
            return refuse(
                2,
                n,
                format!(
                    "{} replicas read its binary log ({}): more than two nodes replicate; \
                     mhactl adopts a pair only",
                    n.replica_clients.len(),
                    n.replica_clients.join(", ")
                ),
            );
        }
    }
    for n in nodes {
        let r = n.replica.as_ref().expect("checked above");
        if !(r.io_running && r.sql_running) || r.last_sql_errno != 0 {
            let mut why = Vec::new();
            if !r.io_running {
                why.push(match r.last_io_errno {
                    0 => "the IO thread is stopped".to_string(),
                    e => format!("the IO thread stopped with error {e}: {}", r.last_io_error),
                });
            }
            if !r.sql_running || r.last_sql_errno != 0 {
                why.push(match r.last_sql_errno {
                    0 => "the SQL thread is stopped".to_string(),
                    e => format!(
                        "the SQL thread stopped with error {e}: {}",
                        r.last_sql_error
                    ),
                });
            }
            return refuse(
                1,
                n,
                format!(
                    "replication from {} is broken: {}. A person must repair it first (find \
                     why, re-sync the data: docs/adopt.md, \"Refusals\"), then run adopt again",
                    r.source_host,
                    why.join("; ")
                ),
            );
        }
    }
    None
}

/// Every risk of a pair that can be adopted.
pub fn risks(nodes: &[NodeFindings], vip: Ipv4Addr, tables: &TableComparison) -> Vec<Risk> {
    let mut out = Vec::new();
    for n in nodes {
        node_risks(n, &mut out);
    }
    pair_risks(nodes, vip, tables, &mut out);
    super::gtid_risks::gtid_risks(nodes, &mut out);
    out.sort_by_key(|r| r.severity);
    out
}

pub(super) fn risk(
    out: &mut Vec<Risk>,
    id: &'static str,
    severity: Severity,
    node: &str,
    found: String,
    consequence: &'static str,
    change: &'static str,
) {
    out.push(Risk {
        id,
        severity,
        node: node.to_string(),
        found,
        consequence,
        change,
    });
}

fn node_risks(n: &NodeFindings, out: &mut Vec<Risk>) {
    let name = n.name.as_str();
    let skip = n.var("replica_skip_errors").or(n.var("slave_skip_errors"));
    if let Some(codes) = skip.filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("off")) {
        risk(
            out,
            "skip-errors",
            Severity::High,
            name,
            format!("slave_skip_errors = {codes}"),
            "a replica that fails to apply an event skips it and goes on: the nodes silently \
             diverge and nothing reports it",
            "bootstrap removes it (the adopted inventory has skip_errors: []) only while the \
             tables are identical; it refuses while they differ",
        );
    }
    for a in &n.accounts {
        let remote = a.host != "localhost" && a.host != "127.0.0.1" && a.host != "::1";
        let all = a.grants.iter().any(|g| g.contains("ALL PRIVILEGES ON *.*"));
        if a.user == "root" && remote {
            risk(
                out,
                "root-remote",
                Severity::High,
                name,
                format!(
                    "root@'{}' exists{}",
                    a.host,
                    if all { " with ALL PRIVILEGES" } else { "" }
                ),
                "the administrator account is reachable from the network: one guessed or \
                 leaked password (the runbook's is weak) gives everything on both nodes",
                "mhactl never uses root over the network; move clients to access.users \
                 accounts, then drop root@'%' by hand (bootstrap does not drop accounts)",
            );
        } else if all && remote && a.user != "root" {
            risk(
                out,
                "remote-superuser",
                Severity::Medium,
                name,
                format!("{}@'{}' has ALL PRIVILEGES ON *.*", a.user, a.host),
                "an application account can change accounts, replication and every database",
                "list it in access.users with the privileges it needs (admin: true if it \
                 really administers)",
            );
        }
    }
    if let Some(f) = n
        .var("binlog_format")
        .filter(|f| !f.eq_ignore_ascii_case("row"))
    {
        risk(
            out,
            "binlog-format",
            Severity::Medium,
            name,
            format!("binlog_format = {f}"),
            "statement-based events can apply differently on the two masters (and filters \
             then follow the default database, not the tables changed)",
            "bootstrap sets binlog_format = ROW (rolling restart, the VIP holder last)",
        );
    }
    for key in [
        "replicate_do_db",
        "replicate_ignore_db",
        "binlog_do_db",
        "binlog_ignore_db",
    ] {
        if let Some(o) = n.options.iter().find(|o| o.key == key) {
            risk(
                out,
                "replication-filters",
                Severity::Medium,
                name,
                format!("{key} = {} (in {})", o.value, o.file),
                "with MIXED or STATEMENT logging a write to another database than the default \
                 one is silently not replicated; databases outside the filter are not copied",
                "replicate_* filters are kept in the adopted inventory (replicate_databases / \
                 ignore_databases); binlog_* filters are not supported: remove them by hand",
            );
        }
    }
    if let Some(drop_in) = &n.drop_in {
        let after: Vec<String> = n
            .options
            .iter()
            .filter(|o| read_after(&o.file, drop_in, &n.option_files))
            .map(|o| format!("{} = {} ({})", o.key, o.value, o.file))
            .collect();
        if !after.is_empty() {
            risk(
                out,
                "overrides-mhactl",
                Severity::High,
                name,
                format!("read after mhactl's {drop_in}: {}", after.join(", ")),
                "left alone, these values stay in force over mhactl's (slave_skip_errors keeps \
                 hiding divergence, binlog_format stays) and verify's server-options check \
                 fails naming the file",
                "bootstrap comments out exactly these lines (a dated `# mhactl:` note on each, \
                 the original copied beside the file, owner and mode kept) and applies it with \
                 its rolling restart, never the VIP holder while it holds the VIP; the \
                 inventory holds mhactl's values",
            );
        }
    }
    for o in n.options.iter().filter(|o| !o.overridden.is_empty()) {
        risk(
            out,
            "option-set-twice",
            Severity::Info,
            name,
            format!(
                "{} is set in {} and again in {} (= {}), which wins",
                o.key,
                o.overridden.join(", "),
                o.file,
                o.value
            ),
            "editing the first file changes nothing; the later one wins",
            "bootstrap writes its own drop-in; verify's server-options check names any file \
             that still overrides it",
        );
    }
    if let Some(o) = n.options.iter().find(|o| o.key == "expire_logs_days") {
        risk(
            out,
            "expire-logs-days",
            Severity::Info,
            name,
            format!("expire_logs_days = {} (in {})", o.value, o.file),
            "deprecated name (removed in MySQL 8.4): a server upgrade refuses to start",
            "bootstrap renders binlog_expire_days as the version's own option",
        );
    }
    let durability = (
        n.var("sync_binlog"),
        n.var("innodb_flush_log_at_trx_commit"),
    );
    if matches!(durability, (Some(s), _) if s != "1")
        || matches!(durability, (_, Some(t)) if t != "1")
    {
        risk(
            out,
            "durability",
            Severity::Medium,
            name,
            format!(
                "sync_binlog = {}, innodb_flush_log_at_trx_commit = {}",
                durability.0.unwrap_or("?"),
                durability.1.unwrap_or("?")
            ),
            "an OS crash or power loss can lose acknowledged writes and leave the nodes different",
            "bootstrap sets both to 1 (durability: full)",
        );
    }
    if let Some(r) = &n.replica {
        if r.positioning == "file/position" {
            risk(
                out,
                "file-position",
                Severity::Info,
                name,
                format!("replicates from {} by file and position", r.source_host),
                "re-pointing a replica needs the exact executed position; a wrong one skips or \
                 repeats events",
                "bootstrap keeps file/position replication and re-points only at what the \
                 replica executed",
            );
        }
    }
    if !on(n.var("read_only")) {
        risk(
            out,
            "writable",
            Severity::Medium,
            name,
            "read_only = OFF".into(),
            "both nodes accept writes: a client that writes to the node without the VIP \
             (its own address) creates conflicts replication cannot resolve",
            "bootstrap installs mhactl's write fence: only the VIP holder is writable",
        );
    }
    super::keepalived_risks::keepalived_risks(n, out);
    if let Some(mode) = n
        .selinux
        .as_deref()
        .filter(|m| !m.eq_ignore_ascii_case("enforcing"))
    {
        risk(
            out,
            "selinux-off",
            Severity::Info,
            name,
            format!("SELinux is {mode}"),
            "the runbook turns SELinux off: nothing confines mysqld or keepalived's scripts",
            "bootstrap labels its files when SELinux enforces; it does not turn it on",
        );
    }
    if n.firewall.starts_with("none") {
        risk(
            out,
            "firewall-off",
            Severity::Info,
            name,
            format!("firewall: {}", n.firewall),
            "every port of the node is open to the network (MySQL, and root@'%' on it)",
            "firewall: auto opens exactly MySQL from the peer and clients, and VRRP, once a \
             firewall runs; it does not install one",
        );
    }
}

/// Is option file `file` read after mhactl's drop-in `drop_in`? In the same directory a
/// later name is (`!includedir` reads in name order); elsewhere, a file later in `files`
/// (the server's reading order) once the drop-in is there. The command line is no file.
fn read_after(file: &str, drop_in: &str, files: &[String]) -> bool {
    if !file.starts_with('/') || file == drop_in {
        return false;
    }
    let dir = |p: &str| {
        p.rsplit_once('/')
            .map(|(d, n)| (d.to_string(), n.to_string()))
    };
    if let (Some((fd, fname)), Some((dd, dname))) = (dir(file), dir(drop_in)) {
        if fd == dd {
            return fname > dname;
        }
    }
    let at = |p: &str| files.iter().position(|f| f == p);
    matches!((at(file), at(drop_in)), (Some(a), Some(b)) if a > b)
}

fn pair_risks(
    nodes: &[NodeFindings],
    vip: Ipv4Addr,
    tables: &TableComparison,
    out: &mut Vec<Risk>,
) {
    let holders: Vec<&str> = nodes
        .iter()
        .filter(|n| n.holds(vip))
        .map(|n| n.name.as_str())
        .collect();
    match holders.len() {
        0 => risk(
            out,
            "vip-nowhere",
            Severity::High,
            "pair",
            format!("no node holds the VIP {vip}"),
            "clients cannot reach the database",
            "bootstrap configures keepalived and waits until exactly one node holds the VIP",
        ),
        2 => risk(
            out,
            "vip-twice",
            Severity::Blocker,
            "pair",
            format!("both nodes hold the VIP {vip}"),
            "split brain: clients write to both nodes",
            "stop keepalived on one node by hand, then run adopt again",
        ),
        _ => {}
    }
    if !tables.differing.is_empty() {
        risk(
            out,
            "tables-differ",
            Severity::Blocker,
            "pair",
            format!(
                "{} of {} tables differ:\n{}",
                tables.differing.len(),
                tables.compared.max(tables.differing.len()),
                tables.differing.join("\n")
            ),
            "the nodes already hold different data: a failover serves the other copy, and \
             slave_skip_errors hid the errors that caused it",
            "bootstrap refuses to remove slave_skip_errors until the tables are identical: \
             repair them first (pt-table-sync --sync-to-master on the node without the VIP, \
             or mhactl reinit of that node from the VIP holder), then run adopt again",
        );
    }
    if !tables.changing.is_empty() {
        risk(
            out,
            "tables-changing",
            Severity::Info,
            "pair",
            format!(
                "written during the comparison, not judged: {}",
                tables.changing.join(", ")
            ),
            "whether these tables hold the same data on both nodes is not known",
            "run adopt again at a quiet moment (or mhactl verify --checksum later)",
        );
    }
    if let Some(why) = &tables.skipped {
        risk(
            out,
            "tables-not-compared",
            Severity::Medium,
            "pair",
            why.clone(),
            "whether the nodes hold the same data is not known",
            "run adopt again when replication has caught up (or mhactl verify --checksum later)",
        );
    }
    if nodes.len() == 2 {
        let (a, b) = (&nodes[0], &nodes[1]);
        if a.var("server_id").is_some() && a.var("server_id") == b.var("server_id") {
            risk(
                out,
                "same-server-id",
                Severity::Blocker,
                "pair",
                format!(
                    "both nodes have server_id {}",
                    a.var("server_id").unwrap_or("")
                ),
                "each node ignores the other's events as its own: nothing replicates",
                "set different server_id values by hand, then run adopt again",
            );
        }
        let offsets = (
            a.var("auto_increment_offset"),
            b.var("auto_increment_offset"),
        );
        let incs = (
            a.var("auto_increment_increment"),
            b.var("auto_increment_increment"),
        );
        if offsets.0 == offsets.1 || incs.0 != Some("2") || incs.1 != Some("2") {
            risk(
                out,
                "auto-increment",
                Severity::High,
                "pair",
                format!(
                    "auto_increment_increment {}/{}, auto_increment_offset {}/{}",
                    incs.0.unwrap_or("?"),
                    incs.1.unwrap_or("?"),
                    offsets.0.unwrap_or("?"),
                    offsets.1.unwrap_or("?")
                ),
                "both masters can hand out the same AUTO_INCREMENT value: duplicate keys",
                "bootstrap sets increment 2 and offsets 1 and 2",
            );
        }
        let family = |n: &NodeFindings| {
            n.dialect
                .map(|d| (d.family(), d.version().major, d.version().minor))
        };
        if family(a) != family(b) {
            risk(
                out,
                "versions-differ",
                Severity::Medium,
                "pair",
                format!(
                    "{} runs {}, {} runs {}",
                    a.name, a.version, b.name, b.version
                ),
                "replication between different series works one way only",
                "upgrade one node to the other's series first",
            );
        }
    }
}

#[cfg(test)]
#[path = "risks_tests.rs"]
pub(crate) mod tests;
