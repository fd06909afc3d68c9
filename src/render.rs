//! Rendering my.cnf, keepalived.conf, the health-check script and the write fence agent
//! from the embedded templates.
//!
//! The templates live in `templates/` and are compiled into the binary with
//! `include_str!`; they are parsed once into a shared [`tera::Tera`] with autoescaping
//! off. This module turns an [`Inventory`] (plus the node's [`Dialect`] and [`OsTarget`])
//! into template values and refuses values that would corrupt the generated files.

use crate::dialect::Dialect;
use crate::inventory::{BinlogFormat, Durability, Inventory, Node, WriteMode};
use crate::os::{OsTarget, CHECK_SCRIPT_PATH};
use anyhow::{anyhow, bail, Context as _, Result};
use std::sync::OnceLock;
use tera::{Context, Tera};

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

/// Options for keepalived.conf that the inventory does not (yet) carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepalivedOptions {
    /// Send VRRP advertisements by unicast to the peer (default) instead of multicast.
    pub unicast: bool,
    /// Track switchover's VIP release file with `track_file` (keepalived >= 2.1; default).
    pub release_file: bool,
    /// Check the release file with a `vrrp_script` instead (the health-check script's
    /// `release` mode, every second): for a keepalived older than 2.1 (EL7's 1.3.5).
    pub release_script: bool,
    /// Track the server process by this name with keepalived's `track_process`
    /// (process events: keepalived >= 2.0.11 in the initial network namespace), beside
    /// the check script's socket watcher; `None` where that cannot work.
    pub track_process: Option<&'static str>,
}

impl Default for KeepalivedOptions {
    fn default() -> Self {
        KeepalivedOptions {
            unicast: true,
            release_file: true,
            release_script: false,
            track_process: None,
        }
    }
}

impl KeepalivedOptions {
    /// The options for a node whose keepalived is `version` (`None`: not installed yet,
    /// e.g. a dry run on a bare host; it will be a distribution's, assumed recent).
    pub fn for_keepalived(version: Option<crate::os::keepalived::KeepalivedVersion>) -> Self {
        let track_file = version.is_none_or(|v| v.capabilities().track_file);
        KeepalivedOptions {
            release_file: track_file,
            release_script: !track_file,
            ..KeepalivedOptions::default()
        }
    }

    /// These options with `track_process` for the server process `name` (`None`: the
    /// node receives no process events) when the node's keepalived (`version`) has it.
    pub fn with_track_process(
        self,
        version: Option<crate::os::keepalived::KeepalivedVersion>,
        name: Option<&'static str>,
    ) -> Self {
        let supported = version.is_some_and(|v| v.capabilities().track_process);
        KeepalivedOptions {
            track_process: name.filter(|_| supported),
            ..self
        }
    }
}

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
    let semi_sync = if m.semi_sync {
        dialect.semi_sync_options(m.semi_sync_timeout_ms)?
    } else {
        Vec::new()
    };
    ctx.insert("semi_sync", &semi_sync);
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
            dialect.tls_server_options(&ca, &cert, &key)
        }
        false => Vec::new(),
    };
    ctx.insert("tls", &tls);
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

/// Renders keepalived.conf for node `node` with the default options (unicast to the peer).
pub fn render_keepalived_conf(inv: &Inventory, node: usize) -> Result<String> {
    render_keepalived_conf_with(inv, node, &KeepalivedOptions::default())
}

/// Renders keepalived.conf for node `node`. It holds no secret: no VRRP authentication
/// (unicast to the peer is the protection, docs/failover.md).
pub fn render_keepalived_conf_with(
    inv: &Inventory,
    node: usize,
    opts: &KeepalivedOptions,
) -> Result<String> {
    let n = node_at(inv, node)?;
    let peer = peer_of(inv, node)?;
    check_keepalived_word("cluster name", &inv.cluster)?;
    check_keepalived_word("node name", &n.name)?;
    check_keepalived_word("VIP interface", &inv.vip.interface)?;
    if inv.vip.virtual_router_id == 0 {
        bail!("virtual_router_id must be between 1 and 255");
    }
    if inv.vip.prefix == 0 || inv.vip.prefix > 32 {
        bail!(
            "VIP prefix /{} is not a valid IPv4 prefix length",
            inv.vip.prefix
        );
    }

    let mut ctx = Context::new();
    ctx.insert("cluster", &inv.cluster);
    ctx.insert("node_name", &n.name);
    ctx.insert("check_script", CHECK_SCRIPT_PATH);
    ctx.insert("interface", &inv.vip.interface);
    ctx.insert("virtual_router_id", &inv.vip.virtual_router_id);
    node_at(inv, node)?;
    ctx.insert("priority", &vrrp_priority(inv, node));
    let timers = crate::os::detection::timers(
        inv.vip.detection,
        inv.vip.advert_int_s,
        arbiter_peer_priority(inv),
    );
    insert_detection_timers(&mut ctx, inv, &timers, node);
    ctx.insert("track_process", &opts.track_process.unwrap_or_default());
    ctx.insert("unicast", &opts.unicast);
    ctx.insert(
        "release_file",
        &opts
            .release_file
            .then_some(crate::os::switchover::VIP_RELEASE_PATH),
    );
    ctx.insert(
        "release_track",
        crate::os::switchover::VIP_RELEASE_TRACK_NAME,
    );
    ctx.insert("release_script", &opts.release_script);
    ctx.insert("take_file", crate::os::switchover::VIP_TAKE_PATH);
    ctx.insert("take_track", crate::os::switchover::VIP_TAKE_TRACK_NAME);
    ctx.insert(
        "release_script_file",
        crate::os::switchover::VIP_RELEASE_PATH,
    );
    ctx.insert("self_address", &n.address.to_string());
    ctx.insert("peer_address", &peer.address.to_string());
    ctx.insert("vip", &inv.vip.address.to_string());
    ctx.insert("vip_prefix", &inv.vip.prefix);
    let fenced = inv.writes == WriteMode::VipHolder;
    ctx.insert(
        "fence_agent",
        &fenced.then_some(crate::os::fence::AGENT_PATH),
    );
    ctx.insert("notify_fifo", crate::os::fence::NOTIFY_FIFO);
    insert_arbiter_timers(&mut ctx, inv, &timers, 1 - node.min(1));
    render(KEEPALIVED_TEMPLATE, &ctx)
}

/// keepalived.conf's VRRP and check timers from `vip.detection`
/// ([`crate::os::detection`]), and the numbers their comments quote.
fn insert_detection_timers(
    ctx: &mut Context,
    inv: &Inventory,
    t: &crate::os::detection::Timers,
    node: usize,
) {
    use crate::os::detection;
    let setting = match inv.vip.advert_int_s {
        Some(s) => format!(
            "vip.advert_int_s {s} (the older setting: VRRPv2 and the relaxed checks; \
             vip.detection replaces it)"
        ),
        None => format!("vip.detection {}", t.level),
    };
    ctx.insert("detection", &setting);
    ctx.insert("vrrp_version", &t.vrrp_version);
    ctx.insert("advert_int", &t.advert_int_text());
    ctx.insert("check_interval", &detection::CHECK_INTERVAL_S);
    ctx.insert("check_timeout", &detection::CHECK_TIMEOUT_S);
    ctx.insert("check_rise", &t.rise);
    ctx.insert("sql_attempts", &detection::SQL_ATTEMPTS);
    ctx.insert("sql_timeout", &t.sql_timeout_text());
    let peer = vrrp_priority(inv, 1 - node.min(1));
    // Rounded to 0.01 s: what the comments quote, not what keepalived computes.
    let two = |x: f64| format!("{x:.2}");
    ctx.insert("master_down_s", &two(t.master_down_s(peer)));
    // Milliseconds at keepalived priorities 253 and 254: three decimals.
    ctx.insert("peer_skew_s", &format!("{:.3}", t.skew_s(peer)));
    ctx.insert("hung_detection_s", &two(t.hung_detection_s()));
    ctx.insert("process_detection_s", &two(t.process_detection_s()));
}

/// keepalived.conf's `chk_arbiter` (only with `vip.arbiter`): its settings and the two
/// numbers its comment quotes (how fast a cut-off node gives the VIP up, how soon the
/// peer could take it), all from [`crate::os::arbiter`] and [`crate::os::detection`].
fn insert_arbiter_timers(
    ctx: &mut Context,
    inv: &Inventory,
    t: &crate::os::detection::Timers,
    peer_index: usize,
) {
    use crate::os::arbiter;
    ctx.insert(
        "arbiter",
        &inv.vip.arbiter.map(|a| a.to_string()).unwrap_or_default(),
    );
    ctx.insert("arbiter_interval", &arbiter::INTERVAL_S);
    ctx.insert("arbiter_timeout", &arbiter::TIMEOUT_S);
    ctx.insert("arbiter_fall", &arbiter::FALL);
    ctx.insert("arbiter_rise", &arbiter::RISE);
    // Rounded up and down to 0.01 s: the comment must not promise more margin than there is.
    ctx.insert(
        "arbiter_detection_s",
        &format!("{:.2}", (t.arbiter_detection_s() * 100.0).ceil() / 100.0),
    );
    let takeover = t.earliest_takeover_s(vrrp_priority(inv, peer_index));
    ctx.insert(
        "arbiter_takeover_s",
        &format!("{:.2}", (takeover * 100.0).floor() / 100.0),
    );
}

/// The server's unix socket: the inventory's `mysql.socket`, else the packaged default.
pub fn server_socket(inv: &Inventory, os: &OsTarget) -> String {
    inv.mysql
        .socket
        .as_ref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| os.socket_path().to_string())
}

/// Renders the POSIX sh health check keepalived runs (the same on both nodes).
pub fn render_check_script(inv: &Inventory, os: &OsTarget) -> Result<String> {
    check_token("cluster name", &inv.cluster, "")?;
    let mut ctx = Context::new();
    ctx.insert("cluster", &inv.cluster);
    let socket = server_socket(inv, os);
    check_token("mysql.socket", &socket, " ")?;
    ctx.insert("socket", &socket);
    // Without an inventory socket, the packaged default depends on the release.
    let newer = match inv.mysql.socket {
        Some(_) => None,
        None => os.socket_path_newer(),
    };
    ctx.insert("socket_newer", &newer.unwrap_or_default());
    ctx.insert("port", &inv.mysql.port);
    ctx.insert("release_file", crate::os::switchover::VIP_RELEASE_PATH);
    ctx.insert(
        "arbiter",
        &inv.vip.arbiter.map(|a| a.to_string()).unwrap_or_default(),
    );
    insert_check_timers(&mut ctx, inv);
    render(CHECK_SCRIPT_TEMPLATE, &ctx)
}

/// Renders the write fence agent keepalived runs as `vrrp_notify_fifo_script` (the same
/// on both nodes; its SQL from `dialect`), installed by bootstrap's `fence-agent` step
/// with `writes: vip-holder`.
pub fn render_fence_agent(inv: &Inventory, dialect: &Dialect, option_file: &str) -> Result<String> {
    check_token("cluster name", &inv.cluster, "'\" ")?;
    check_token("fence option file", option_file, "'\" ")?;
    let mut ctx = Context::new();
    ctx.insert("cluster", &inv.cluster);
    ctx.insert("instance", &format!("VI_{}", inv.cluster));
    ctx.insert("vip", &inv.vip.address.to_string());
    ctx.insert("option_file", option_file);
    ctx.insert("fence_hold", crate::os::switchover::FENCE_HOLD_PATH);
    ctx.insert("catch_up_timeout", &FENCE_CATCH_UP_TIMEOUT_S);
    ctx.insert("run_dir", crate::os::fence::RUN_DIR);
    ctx.insert("takeover_file", crate::os::fence::TAKEOVER_PATH);
    ctx.insert("events_file", crate::os::fence::EVENTS_PATH);
    ctx.insert("vip_refuse_file", crate::os::vip_refuse::RULESET_PATH);
    // The agent quotes SQL in single quotes: none of these texts contains one.
    ctx.insert("fence_sql", &dialect.fence_sql());
    ctx.insert("unfence_sql", &dialect.unfence_sql());
    ctx.insert("read_only_sql", &dialect.read_only_sql());
    ctx.insert("replica_status_sql", &dialect.replica_status_sql());
    render(FENCE_AGENT_TEMPLATE, &ctx)
}

/// Renders the nftables ruleset of bootstrap's `vip-refuse` step ([`crate::os::vip_refuse`]).
pub fn render_vip_refuse(inv: &Inventory) -> Result<String> {
    use crate::os::vip_refuse::{rule_match, CHAIN, TABLE};
    let mut ctx = Context::new();
    ctx.insert("cluster", &inv.cluster);
    ctx.insert("vip", &inv.vip.address.to_string());
    ctx.insert("table", TABLE);
    ctx.insert("chain", CHAIN);
    ctx.insert("rule", &rule_match(inv.vip.address, inv.mysql.port));
    render(VIP_REFUSE_TEMPLATE, &ctx)
}

/// The check script's timings and health-check query, from `vip.detection`
/// ([`crate::os::detection`]) and the flavor ([`crate::dialect::health_check_sql`]).
fn insert_check_timers(ctx: &mut Context, inv: &Inventory) {
    use crate::os::detection::{self, Timers};
    let t = detection::timers(
        inv.vip.detection,
        inv.vip.advert_int_s,
        arbiter_peer_priority(inv),
    );
    ctx.insert("arbiter_poll", &crate::os::arbiter::poll_command(&t));
    ctx.insert("arbiter_silence_cs", &t.arbiter_silence_ms.div_ceil(10));
    ctx.insert(
        "arbiter_window_cs",
        &(Timers::window_ms(t.arbiter_poll_ms()) / 10),
    );
    ctx.insert(
        "watch_poll",
        &detection::seconds_text(detection::WATCH_POLL_MS),
    );
    ctx.insert(
        "arbiter_pause",
        &detection::seconds_text(detection::ARBITER_PAUSE_MS),
    );
    ctx.insert(
        "watch_window_cs",
        &(Timers::window_ms(detection::WATCH_POLL_MS) / 10),
    );
    ctx.insert("sql_attempts", &detection::SQL_ATTEMPTS);
    ctx.insert("sql_timeout", &t.sql_timeout_text());
    ctx.insert(
        "health_sql",
        &crate::dialect::health_check_sql(inv.mysql.flavor, t.sql_timeout_ms),
    );
    ctx.insert("port_hex", &format!("{:04X}", inv.mysql.port));
    ctx.insert("detection_log", detection::DETECTION_LOG);
    ctx.insert("run_dir", crate::os::fence::RUN_DIR);
}

/// With `vip.arbiter`, the higher of the two nodes' keepalived priorities: whichever node
/// is cut off, its peer takes over no sooner than this one would
/// ([`crate::os::detection::timers`]).
fn arbiter_peer_priority(inv: &Inventory) -> Option<u8> {
    inv.vip
        .arbiter
        .map(|_| vrrp_priority(inv, 0).max(vrrp_priority(inv, 1)))
}

/// Node `i`'s keepalived priority: the inventory's priorities rank the nodes
/// ([`crate::os::detection::vrrp_priority`]).
fn vrrp_priority(inv: &Inventory, i: usize) -> u8 {
    let i = i.min(1);
    crate::os::detection::vrrp_priority(inv.priority(i), inv.priority(1 - i))
}
