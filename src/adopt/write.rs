//! The inventory `mhactl adopt` writes: the pair as it is (nodes, server ids, keepalived
//! priorities, the VIP's interface and router id, flavor and version, the replication
//! account and filters, the data directory, socket and character set), with mhactl's
//! design where the pair's setting is a risk (each such line says what the pair has).
//! Secrets appear only as references, copied from the minimal inventory.

use super::discover::NodeFindings;
use super::minimal::MinimalInventory;
use crate::inventory::SshSettings;
use std::fmt::Write as _;
use std::path::Path;

/// A YAML scalar for `s` (quoted when YAML would read it as something else).
fn q(s: &str) -> String {
    serde_yaml_ng::to_string(&s)
        .unwrap_or_default()
        .trim_end()
        .to_string()
}

/// A path as the written inventory must say it: relative paths of the minimal inventory
/// made absolute when the output lives in another directory.
fn path_for(p: &Path, min: &MinimalInventory, out_dir: &Path) -> String {
    let shown = if p.is_relative() && !p.starts_with("~") && min.base_dir != out_dir {
        min.base_dir.join(p)
    } else {
        p.to_path_buf()
    };
    q(&shown.display().to_string())
}

fn ssh_block(out: &mut String, indent: &str, s: &SshSettings, min: &MinimalInventory, dir: &Path) {
    let mut lines = Vec::new();
    if let Some(u) = &s.user {
        lines.push(format!("user: {}", q(u)));
    }
    if let Some(p) = s.port {
        lines.push(format!("port: {p}"));
    }
    if let Some(p) = &s.identity_file {
        lines.push(format!("identity_file: {}", path_for(p, min, dir)));
    }
    if let Some(p) = &s.known_hosts {
        lines.push(format!("known_hosts: {}", path_for(p, min, dir)));
    }
    if let Some(h) = s.host_key_check {
        let word = match h {
            crate::inventory::HostKeyCheck::Strict => "strict",
            crate::inventory::HostKeyCheck::AcceptNew => "accept-new",
        };
        lines.push(format!("host_key_check: {word}"));
    }
    if let Some(t) = s.connect_timeout_s {
        lines.push(format!("connect_timeout_s: {t}"));
    }
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "{indent}ssh:");
    for l in lines {
        let _ = writeln!(out, "{indent}  {l}");
    }
}

/// A credential `*_file` reference, its path handled like every path.
fn file_ref(value: &str, min: &MinimalInventory, dir: &Path) -> String {
    let (path, key) = match value.rsplit_once('#') {
        Some((p, k)) => (p, Some(k)),
        None => (value, None),
    };
    let shown = path_for(Path::new(path), min, dir);
    let shown: String = serde_yaml_ng::from_str(&shown).unwrap_or_else(|_| path.to_string());
    q(&match key {
        Some(k) => format!("{shown}#{k}"),
        None => shown,
    })
}

/// What the adopted inventory needs from the findings, decided by `adopt`.
pub struct Adopted<'a> {
    /// The minimal inventory.
    pub min: &'a MinimalInventory,
    /// Both nodes' findings, in the written order (auto_increment_offset 1 first).
    pub nodes: Vec<&'a NodeFindings>,
    /// Cluster name.
    pub cluster: String,
    /// VIP interface, prefix and router id.
    pub interface: String,
    /// VIP prefix.
    pub prefix: u8,
    /// VRRP router id.
    pub virtual_router_id: u8,
    /// keepalived priority per written node.
    pub priorities: Vec<Option<u8>>,
    /// The directory the file goes to.
    pub out_dir: &'a Path,
    /// When it was written (UTC).
    pub when: String,
}

fn list(values: &[String]) -> String {
    format!(
        "[{}]",
        values.iter().map(|v| q(v)).collect::<Vec<_>>().join(", ")
    )
}

/// The filter values of an option over both nodes (the first node's: the nodes agree
/// in a runbook pair; verify reports any difference later).
fn filter_values(n: &NodeFindings, key: &str) -> Vec<String> {
    n.options
        .iter()
        .filter(|o| o.key == key)
        .flat_map(|o| o.value.split(',').map(|v| v.trim().to_string()))
        .filter(|v| !v.is_empty())
        .collect()
}

/// The inventory text.
pub fn inventory_text(a: &Adopted) -> String {
    let min = a.min;
    let first = a.nodes[0];
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Written by `mhactl adopt` at {}: the pair as it is, with mhactl's design where\n\
         # the pair's setting is a risk (those lines say what the pair has; the adoption\n\
         # report says why). Review it, then:\n\
         #   mhactl bootstrap --dry-run -i THIS_FILE   # every change, nothing changed\n\
         #   mhactl bootstrap -i THIS_FILE             # converge under traffic (docs/adopt.md)\n\
         # No secret is in this file: only where each one comes from.",
        a.when
    );
    let _ = writeln!(o, "cluster: {}", q(&a.cluster));
    ssh_block(&mut o, "", &min.ssh, min, a.out_dir);
    let _ = writeln!(o, "nodes:");
    for (i, n) in a.nodes.iter().enumerate() {
        let mn = min
            .nodes
            .iter()
            .find(|m| m.name == n.name)
            .expect("same nodes");
        let _ = writeln!(o, "  - name: {}", q(&n.name));
        let _ = writeln!(o, "    address: {}", mn.address);
        if let Some(id) = n.var("server_id") {
            let _ = writeln!(o, "    server_id: {id}");
        }
        // Equal priorities leave the VIP's place to chance (mhactl refuses them): then
        // mhactl's defaults (100, 90), and a comment with the pair's.
        let distinct = a.priorities.len() == 2
            && a.priorities.iter().all(Option::is_some)
            && a.priorities[0] != a.priorities[1];
        match a.priorities[i] {
            Some(p) if distinct => {
                let _ = writeln!(o, "    priority: {p}");
            }
            Some(p) => {
                let _ = writeln!(
                    o,
                    "    # keepalived priority {p} on both nodes: mhactl's default applies"
                );
            }
            None => {}
        }
        ssh_block(&mut o, "    ", &mn.ssh, min, a.out_dir);
    }
    let _ = writeln!(o, "vip:");
    let _ = writeln!(o, "  address: {}", min.vip.address);
    let _ = writeln!(o, "  prefix: {}", a.prefix);
    let _ = writeln!(o, "  interface: {}", q(&a.interface));
    let _ = writeln!(o, "  virtual_router_id: {}", a.virtual_router_id);
    let _ = writeln!(
        o,
        "  # arbiter: an address both nodes and the clients reach (split-brain protection;\n  \
         # the pair has none)."
    );
    let _ = writeln!(o, "mysql:");
    let version = first.dialect.map(|d| d.version());
    if let Some(v) = version {
        let flavor = match v.flavor.family() {
            crate::inventory::ServerFamily::Mariadb => "mariadb",
            crate::inventory::ServerFamily::Mysql => "mysql",
        };
        let _ = writeln!(o, "  flavor: {flavor}");
        let _ = writeln!(o, "  version: \"{}.{}\"", v.major, v.minor);
    }
    if let Some(port) = first.var("port").filter(|p| *p != "3306") {
        let _ = writeln!(o, "  port: {port}");
    }
    // bootstrap refuses to take over an account it did not create (the runbook's
    // `repl@'%'` is shared by anything that knows its password): mhactl replicates with
    // its own account, one per peer address, and leaves the pair's in place.
    let repl_user = mhactl_replication_user(first);
    if let Some(r) = &first.replica {
        let _ = writeln!(
            o,
            "  # The pair replicates as {}; bootstrap creates its own account {repl_user}@PEER\n  \
             # and re-points replication to it (the old account stays until you drop it).",
            q(&r.user)
        );
    }
    let _ = writeln!(o, "  replication_user: {repl_user}");
    let format = first.var("binlog_format").unwrap_or("ROW");
    if format.eq_ignore_ascii_case("row") {
        let _ = writeln!(o, "  binlog_format: row");
    } else {
        let _ = writeln!(o, "  binlog_format: row  # the pair logs {format}");
    }
    let days = first
        .var("expire_logs_days")
        .and_then(|d| d.parse::<f64>().ok())
        .filter(|d| *d >= 1.0)
        .or_else(|| {
            first
                .var("binlog_expire_logs_seconds")
                .and_then(|s| s.parse::<f64>().ok())
                .map(|s| (s / 86400.0).ceil())
                .filter(|d| *d >= 1.0)
        });
    if let Some(d) = days {
        let _ = writeln!(o, "  binlog_expire_days: {}", d as u32);
    }
    let do_db = filter_values(first, "replicate_do_db");
    let ignore_db = filter_values(first, "replicate_ignore_db");
    let _ = writeln!(o, "  replicate_databases: {}", list(&do_db));
    let ignore_db: Vec<String> = ignore_db.into_iter().filter(|d| d != "mysql").collect();
    let _ = writeln!(o, "  ignore_databases: {}", list(&ignore_db));
    let skip = first
        .var("replica_skip_errors")
        .or(first.var("slave_skip_errors"))
        .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("off"));
    match skip {
        Some(codes) => {
            let _ = writeln!(
                o,
                "  # The pair skips replication errors {codes} (slave_skip_errors): bootstrap removes\n  \
                 # it only while the tables are identical (docs/adopt.md)."
            );
            let _ = writeln!(o, "  skip_errors: []");
        }
        None => {
            let _ = writeln!(o, "  skip_errors: []");
        }
    }
    if let Some(dir) = first.var("datadir") {
        if dir.trim_end_matches('/') != "/var/lib/mysql" {
            let _ = writeln!(o, "  datadir: {}", q(dir.trim_end_matches('/')));
        }
    }
    if let Some(sock) = first.var("socket") {
        if !crate::os::server_files::DEFAULT_SOCKET_PATHS.contains(&sock) {
            let _ = writeln!(o, "  socket: {}", q(sock));
        }
    }
    if let Some(cs) = first.var("character_set_server") {
        let _ = writeln!(o, "  character_set: {}", q(cs));
        if let Some(coll) = first.var("collation_server") {
            let _ = writeln!(o, "  collation: {}", q(coll));
        }
    }
    let _ = writeln!(o, "credentials:");
    let c = &min.credentials;
    let mut wrote_repl = false;
    if let Some(v) = &c.replication_password_env {
        let _ = writeln!(o, "  replication_password_env: {}", q(v));
        wrote_repl = true;
    }
    if let Some(v) = &c.replication_password_file {
        let _ = writeln!(
            o,
            "  replication_password_file: {}",
            file_ref(v, min, a.out_dir)
        );
        wrote_repl = true;
    }
    if c.replication_password_prompt {
        let _ = writeln!(o, "  replication_password_prompt: true");
        wrote_repl = true;
    }
    if !wrote_repl {
        let _ = writeln!(
            o,
            "  # The password bootstrap gives its replication account {repl_user}: set this\n  \
             # variable (or give another source) before bootstrap."
        );
        let _ = writeln!(o, "  replication_password_env: MHACTL_REPLICATION_PASSWORD");
    }
    if let Some(v) = &c.root_password_env {
        let _ = writeln!(o, "  root_password_env: {}", q(v));
    }
    if let Some(v) = &c.root_password_file {
        let _ = writeln!(o, "  root_password_file: {}", file_ref(v, min, a.out_dir));
    }
    if c.root_password_prompt {
        let _ = writeln!(o, "  root_password_prompt: true");
    }
    if let Some(v) = &c.vrrp_password_env {
        let _ = writeln!(o, "  vrrp_password_env: {}", q(v));
    }
    if let Some(v) = &c.vrrp_password_file {
        let _ = writeln!(o, "  vrrp_password_file: {}", file_ref(v, min, a.out_dir));
    }
    let apps: Vec<String> = first
        .accounts
        .iter()
        .filter(|acc| !crate::inventory::is_reserved_account(&acc.user))
        .filter(|acc| acc.user != "root" && acc.host != "localhost")
        .filter(|acc| first.replica.as_ref().is_none_or(|r| r.user != acc.user))
        .map(|acc| format!("{}@'{}'", acc.user, acc.host))
        .collect();
    if !apps.is_empty() {
        let _ = writeln!(
            o,
            "# Accounts found on {} that clients may use: {}. bootstrap keeps every account\n\
             # it is not told about; list one under access.users (with its password source)\n\
             # only to have mhactl manage it on both nodes.",
            first.name,
            apps.join(", ")
        );
    }
    o
}

/// The replication account mhactl will use: `repl`, or `mhactl_repl` when an account
/// named `repl` already exists on the pair (bootstrap would refuse to take it over).
pub fn mhactl_replication_user(n: &NodeFindings) -> &'static str {
    if n.accounts.iter().any(|a| a.user == "repl") {
        "mhactl_repl"
    } else {
        "repl"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adopt::risks::tests::runbook_node;

    fn min(extra: &str) -> MinimalInventory {
        let mut m = crate::adopt::minimal::parse(
            &format!(
                "ssh:\n  identity_file: keys/id\nnodes:\n  - name: db1\n    address: 10.0.0.11\n  \
                 - name: db2\n    address: 10.0.0.12\nvip:\n  address: 10.0.0.100\n{extra}"
            ),
            "min.yaml",
        )
        .unwrap();
        m.base_dir = "/srv/adopt".into();
        m
    }

    fn adopted<'a>(m: &'a MinimalInventory, nodes: &'a [NodeFindings], dir: &'a Path) -> String {
        let a = crate::adopt::report::adopted_shape(m, nodes, dir).unwrap();
        inventory_text(&a)
    }

    #[test]
    fn the_runbook_pair_becomes_an_inventory_mhactl_accepts() {
        let m = min("credentials:\n  replication_password_file: secrets.yaml#repl\n");
        let nodes = [
            runbook_node("db1", 11, 12, true),
            runbook_node("db2", 12, 11, false),
        ];
        let text = adopted(&m, &nodes, Path::new("/srv/adopt"));
        let inv = crate::inventory::parse(&text, "adopted.yaml")
            .unwrap_or_else(|e| panic!("{e:#}\n{text}"));
        assert_eq!(inv.vip.virtual_router_id, 51);
        assert_eq!(inv.vip.interface, "eth0");
        assert_eq!(inv.nodes[0].name, "db1");
        assert_eq!(inv.nodes[1].server_id, Some(2));
        assert_eq!(inv.mysql.replication_user, "repl");
        assert!(inv.mysql.skip_errors.is_empty());
        assert!(text.contains("skips replication errors 1062"), "{text}");
        assert!(
            text.contains("binlog_format: row  # the pair logs MIXED"),
            "{text}"
        );
        assert!(text.contains("The pair replicates as hadoop"), "{text}");
        assert!(
            text.contains("replication_password_file: secrets.yaml#repl"),
            "{text}"
        );
        assert!(text.contains("identity_file: keys/id"), "{text}");
        assert!(text.contains("priority 100 on both nodes"), "{text}");
    }

    #[test]
    fn relative_paths_follow_the_file_and_offsets_keep_their_nodes() {
        let m = min("");
        // db1 has offset 2 here: the written order puts db2 (offset 1) first.
        let mut nodes = [
            runbook_node("db1", 11, 12, true),
            runbook_node("db2", 12, 11, false),
        ];
        nodes[0]
            .variables
            .insert("auto_increment_offset".into(), "2".into());
        nodes[1]
            .variables
            .insert("auto_increment_offset".into(), "1".into());
        let text = adopted(&m, &nodes, Path::new("/elsewhere"));
        let inv = crate::inventory::parse(&text, "adopted.yaml")
            .unwrap_or_else(|e| panic!("{e:#}\n{text}"));
        assert_eq!(inv.nodes[0].name, "db2", "{text}");
        assert!(text.contains("identity_file: /srv/adopt/keys/id"), "{text}");
        assert!(
            text.contains("replication_password_env: MHACTL_REPLICATION_PASSWORD"),
            "{text}"
        );
    }

    #[test]
    fn a_repl_account_of_the_pair_is_not_taken_over() {
        let mut n = runbook_node("db1", 11, 12, true);
        assert_eq!(mhactl_replication_user(&n), "repl");
        n.accounts.push(crate::adopt::discover::AccountView {
            user: "repl".into(),
            host: "%".into(),
            grants: vec![],
        });
        assert_eq!(mhactl_replication_user(&n), "mhactl_repl");
    }
}
