//! Rendering my.cnf, keepalived.conf, the health-check script and the write fence agent
//! from the embedded templates.
//!
//! The templates live in `templates/` and are compiled into the binary with
//! `include_str!`; they are parsed once into a shared [`tera::Tera`] with autoescaping
//! off. This module turns an [`Inventory`] (plus the node's [`Dialect`] and [`OsTarget`])
//! into template values and refuses values that would corrupt the generated files.

use crate::dialect::Dialect;
use crate::inventory::{BinlogFormat, Durability, Inventory, Node, WriteMode};
use crate::os::OsTarget;
use anyhow::{anyhow, bail, Context as _, Result};
use std::sync::OnceLock;
use tera::{Context, Tera};

mod keepalived;
pub use keepalived::{
    render_check_script, render_fence_agent, render_keepalived_conf, render_keepalived_conf_with,
    render_vip_refuse, server_socket, KeepalivedOptions,
};

/// Name of the my.cnf drop-in template.
pub const MY_CNF_TEMPLATE: &str = "my.cnf.tera";
/// Name of the keepalived.conf template.
pub const KEEPALIVED_TEMPLATE: &str = "keepalived.conf.tera";
/// Name of the health-check script template.
pub const CHECK_SCRIPT_TEMPLATE: &str = "check-mysql.sh.tera";
/// Name of the write fence agent template (`writes: vip-holder`).
pub const FENCE_AGENT_TEMPLATE: &str = "fence-agent.sh.tera";
/// Name of the VIP refusal's nftables ruleset template.
pub const VIP_REFUSE_TEMPLATE: &str = "vip-refuse.nft.tera";
/// Seconds the fence agent waits for the SQL thread before it logs that the VIP holder
/// is still read-only (it keeps waiting: consistency before availability).
pub const FENCE_CATCH_UP_TIMEOUT_S: u64 = 10;

fn tera() -> Result<&'static Tera> {
    static TERA: OnceLock<std::result::Result<Tera, String>> = OnceLock::new();
    TERA.get_or_init(|| {
        let mut t = Tera::default();
        t.autoescape_on(vec![]);
        t.add_raw_templates(vec![
            (MY_CNF_TEMPLATE, include_str!("../templates/my.cnf.tera")),
            (
                KEEPALIVED_TEMPLATE,
                include_str!("../templates/keepalived.conf.tera"),
            ),
            (
                CHECK_SCRIPT_TEMPLATE,
                include_str!("../templates/check-mysql.sh.tera"),
            ),
            (
                FENCE_AGENT_TEMPLATE,
                include_str!("../templates/fence-agent.sh.tera"),
            ),
            (
                VIP_REFUSE_TEMPLATE,
                include_str!("../templates/vip-refuse.nft.tera"),
            ),
        ])
        .map_err(|e| format!("{:#}", anyhow!(e)))?;
        Ok(t)
    })
    .as_ref()
    .map_err(|e| anyhow!("embedded templates do not parse: {e}"))
}

fn render(name: &str, ctx: &Context) -> Result<String> {
    tera()?
        .render(name, ctx)
        .map_err(|e| anyhow!(e))
        .with_context(|| format!("rendering {name}"))
}

fn node_at(inv: &Inventory, node: usize) -> Result<&Node> {
    inv.nodes.get(node).ok_or_else(|| {
        anyhow!(
            "node index {node} out of range: the inventory has {} nodes",
            inv.nodes.len()
        )
    })
}

/// The other node of the pair.
fn peer_of(inv: &Inventory, node: usize) -> Result<&Node> {
    if inv.nodes.len() != 2 {
        bail!(
            "a master/master pair needs exactly two nodes, the inventory has {}",
            inv.nodes.len()
        );
    }
    node_at(inv, 1 - node.min(1))
}

/// Rejects a value that would break a line-oriented config file or a keepalived token.
fn check_token(what: &str, value: &str, extra_forbidden: &str) -> Result<()> {
    if value.is_empty()
        || value != value.trim()
        || value
            .chars()
            .any(|c| c.is_control() || "#".contains(c) || extra_forbidden.contains(c))
    {
        bail!("{what} {value:?} cannot be written to a configuration file");
    }
    Ok(())
}

/// Rejects a keepalived word (no spaces, quotes, braces or comment characters).
fn check_keepalived_word(what: &str, value: &str) -> Result<()> {
    check_token(what, value, " \t!\"'{}\\")
}

/// A durability option as the template sees it.
#[derive(serde::Serialize)]
struct DurabilityOption {
    name: &'static str,
    value: &'static str,
}

fn binlog_format_name(f: BinlogFormat) -> &'static str {
    match f {
        BinlogFormat::Row => "ROW",
        BinlogFormat::Mixed => "MIXED",
        BinlogFormat::Statement => "STATEMENT",
    }
}

/// Renders mhactl's `[mysqld]` drop-in for node `node` (index into `inv.nodes`).
pub fn render_my_cnf(
    inv: &Inventory,
    node: usize,
    dialect: &Dialect,
    os: &OsTarget,
) -> Result<String> {
    let fenced = inv.writes == WriteMode::VipHolder;
    render_my_cnf_fenced(inv, node, dialect, os, fenced)
}

/// [`render_my_cnf`] with or without the start-up fence (`read_only`, MySQL also
/// `super_read_only`), whatever `writes` says: server-config tells a file that differs
/// only in those lines (start-up values, no restart needed) from one that needs a restart.
pub fn render_my_cnf_fenced(
    inv: &Inventory,
    node: usize,
    dialect: &Dialect,
    os: &OsTarget,
    fenced: bool,
) -> Result<String> {
    let n = node_at(inv, node)?;
    let m = &inv.mysql;
    check_token("node name", &n.name, " ")?;
    check_token("bind_address", &m.bind_address, " ")?;
    node_at(inv, node)?;
    let id = inv.server_id(node);
    if let Ok(peer) = peer_of(inv, node) {
        let peer_index = if node == 0 { 1 } else { 0 };
        if inv.server_id(peer_index) == id {
            bail!(
                "nodes {} and {} have the same server_id {id}",
                n.name,
                peer.name
            );
        }
    }

    // With an explicit list, failover-test's probe database must replicate too.
    let probe = (!m.replicate_databases.is_empty()).then_some(crate::schemas::PROBE_DB);
    let replicate: Vec<&str> = dedup(
        m.replicate_databases
            .iter()
            .map(String::as_str)
            .chain(probe)
            // The validator refuses these with the same function: nothing is dropped silently.
            .filter(|d| !crate::inventory::is_system_schema(d)),
    );
    let ignore: Vec<&str> = dedup(
        m.ignore_databases
            .iter()
            .map(String::as_str)
            .chain(std::iter::once("mysql")),
    );
    for db in replicate.iter().chain(&ignore) {
        check_token("database name", db, "")?;
    }
    let skip_errors = m
        .skip_errors
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let (expiry_option, expiry_value) = dialect.binlog_expiry_option(m.binlog_expire_days);

    let mut ctx = Context::new();
    ctx.insert("cluster", &inv.cluster);
    ctx.insert("node_name", &n.name);
    ctx.insert("server", &dialect.version().to_string());
    ctx.insert("config_path", os.config_path());
    ctx.insert("server_id", &id);
    ctx.insert("bind_address", &m.bind_address);
    ctx.insert("port", &m.port);
    ctx.insert("log_replica_updates", dialect.log_replica_updates_option());
    ctx.insert("binlog_format", binlog_format_name(m.binlog_format));
    ctx.insert("expiry_option", expiry_option);
    ctx.insert("expiry_value", &expiry_value);
    ctx.insert("offset", &inv.auto_increment_offset(node));
    ctx.insert("replicate_databases", &replicate);
    ctx.insert("ignore_databases", &ignore);
    ctx.insert("skip_errors", &skip_errors);
    ctx.insert("skip_errors_option", dialect.skip_errors_option());
    let (character_set, collation) = character_set_and_collation(inv, dialect);
    check_token("character set", &character_set, " =")?;
    if let Some(c) = &collation {
        check_token("collation", c, " =")?;
    }
    ctx.insert("character_set", &character_set);
    ctx.insert("collation", &collation);
    let follows = dialect.semi_sync_source_follows_vip(m.semi_sync, inv.writes);
    let semi_sync = if m.semi_sync {
        dialect.semi_sync_options(m.semi_sync_timeout_ms, follows)?
    } else {
        Vec::new()
    };
    ctx.insert("semi_sync", &semi_sync);
    ctx.insert("semi_sync_follows_vip", &follows);
    // GTID positioning (issue 19; MariaDB's domain is the node's server_id).
    let gtid = crate::positioning::server_options(inv, dialect, id);
    let domain = gtid.iter().any(|(k, _)| k == "gtid_domain_id");
    ctx.insert("gtid_domain", &domain);
    ctx.insert("gtid", &gtid);
    let tls = match inv.tls.enabled {
        true => {
            let path = |name| crate::os::tls::tls_path(os, name);
            use crate::os::tls::{CA_FILE, CERT_FILE, KEY_FILE};
            let (ca, cert, key) = (path(CA_FILE), path(CERT_FILE), path(KEY_FILE));
            let mut options = dialect.tls_server_options(&ca, &cert, &key);
            if m.require_secure_transport {
                options.push(dialect.require_secure_transport_option()?);
            }
            options
        }
        false => Vec::new(),
    };
    ctx.insert("tls", &tls);
    ctx.insert("require_secure_transport", &m.require_secure_transport);
    let path = |p: &Option<std::path::PathBuf>| p.as_ref().map(|p| p.display().to_string());
    ctx.insert("datadir", &path(&m.datadir));
    ctx.insert("socket", &path(&m.socket));
    // Always a file: the inventory's, else this system's default (see os::error_log).
    let log_error = path(&m.log_error)
        .or_else(|| os.error_log_path().map(str::to_string))
        .ok_or_else(|| anyhow!("no default error log for {}", os.config_path()))?;
    ctx.insert("log_error", &log_error);
    ctx.insert("log_error_custom", &m.log_error.is_some());
    ctx.insert(
        "durability",
        match m.durability {
            Durability::Full => "full",
            Durability::Relaxed => "relaxed",
        },
    );
    let durability: Vec<_> = dialect
        .durability_options(m.durability)
        .iter()
        .map(|o| DurabilityOption {
            name: o.name,
            value: o.value,
        })
        .collect();
    ctx.insert("durability_options", &durability);
    ctx.insert("pid_file", &path(&m.pid_file));
    let fence_options: Vec<_> = if fenced {
        dialect
            .fence_options()
            .iter()
            .map(|o| DurabilityOption {
                name: o.name,
                value: o.value,
            })
            .collect()
    } else {
        Vec::new()
    };
    ctx.insert("fence_options", &fence_options);
    for (what, p) in [
        ("mysql.datadir", &m.datadir),
        ("mysql.socket", &m.socket),
        ("mysql.log_error", &m.log_error),
        ("mysql.pid_file", &m.pid_file),
    ] {
        if let Some(p) = path(p) {
            check_token(what, &p, " ")?;
        }
    }
    render(MY_CNF_TEMPLATE, &ctx)
}

/// The server character set and collation: the inventory's, else utf8mb4 with the
/// dialect's default collation. With another character set and no collation, `None`
/// (the server then uses that character set's own default collation).
pub fn character_set_and_collation(inv: &Inventory, dialect: &Dialect) -> (String, Option<String>) {
    let cs = inv.mysql.character_set.trim().to_ascii_lowercase();
    let collation = match &inv.mysql.collation {
        Some(c) => Some(c.trim().to_ascii_lowercase()),
        None if cs == "utf8mb4" => Some(dialect.default_collation().to_string()),
        None => None,
    };
    (cs, collation)
}

fn dedup<'a>(items: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}
