//! keepalived's side of rendering: keepalived.conf, the health-check script keepalived
//! runs, the write fence agent it starts, and the VIP refusal's nftables ruleset, with
//! the detection timers ([`crate::os::detection`]) their texts quote.

use super::{
    check_keepalived_word, check_token, node_at, peer_of, render, CHECK_SCRIPT_TEMPLATE,
    FENCE_AGENT_TEMPLATE, FENCE_CATCH_UP_TIMEOUT_S, KEEPALIVED_TEMPLATE, VIP_REFUSE_TEMPLATE,
};
use crate::dialect::Dialect;
use crate::inventory::{Inventory, WriteMode};
use crate::os::{OsTarget, CHECK_SCRIPT_PATH};
use anyhow::{bail, Result};
use tera::Context;

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
    /// The address owner's configuration (`state MASTER`, priority 255, no take file,
    /// a `notify_master` that creates [`crate::os::keepalived::OWNER_MARKER_PATH`]):
    /// loaded for a moment on the VIP holder by keepalived's conversion from a
    /// keepalived.conf mhactl did not write, so that the new instance takes MASTER at the
    /// reload instead of after its master-down interval (bootstrap's `keepalived` step).
    pub address_owner: bool,
}

impl Default for KeepalivedOptions {
    fn default() -> Self {
        KeepalivedOptions {
            unicast: true,
            release_file: true,
            release_script: false,
            track_process: None,
            address_owner: false,
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
    ctx.insert("address_owner", &opts.address_owner);
    ctx.insert(
        "owner_marker_command",
        crate::os::keepalived::OWNER_MARKER_NOTIFY,
    );
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
    ctx.insert("vip", &inv.vip.address.to_string());
    ctx.insert("nft_table", crate::os::vip_refuse::TABLE);
    ctx.insert("drain_set", crate::os::vip_refuse::DRAIN_SET);
    ctx.insert("drain_s", &crate::os::vip_refuse::DRAIN_SECONDS);
    ctx.insert("release_file", crate::os::switchover::VIP_RELEASE_PATH);
    ctx.insert(
        "arbiter",
        &inv.vip.arbiter.map(|a| a.to_string()).unwrap_or_default(),
    );
    insert_check_timers(&mut ctx, inv);
    render(CHECK_SCRIPT_TEMPLATE, &ctx)
}

/// How long the fence agent's verdict waits for the peer's server to answer before it
/// treats the peer's replica as gone and kills its dump thread (docs/failover.md,
/// "Semi-synchronous replication"). Off the takeover's path (the new holder is writable,
/// asynchronously, meanwhile), so it can be generous: a live server on the LAN answers
/// in milliseconds, but on a host at a load of 30 starting the client alone took longer
/// than 0.15 s (seen on the lab: a live replica's connection killed).
pub const PEER_PROBE_S: f64 = 1.0;

/// How long after its fence a passive node turns the source side of semi-sync off (not at
/// once: on MySQL that statement stalls new connections and global-variable reads for up
/// to a second, and a planned switchover still reads the old holder just after it).
pub const PASSIVE_SOURCE_OFF_AFTER_S: u64 = 5;

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
    ctx.insert("nft_table", crate::os::vip_refuse::TABLE);
    ctx.insert("drain_set", crate::os::vip_refuse::DRAIN_SET);
    // The agent quotes SQL in single quotes: none of these texts contains one.
    ctx.insert("fence_sql", &dialect.fence_sql());
    ctx.insert("unfence_sql", &dialect.unfence_sql());
    ctx.insert("read_only_sql", &dialect.read_only_sql());
    ctx.insert("replica_status_sql", &dialect.replica_status_sql());
    // The source side of semi-sync follows the VIP (`ss_holder`, `ss_passive`).
    let semi_sync = dialect.semi_sync_source_follows_vip(inv.mysql.semi_sync, inv.writes);
    ctx.insert("semi_sync", &semi_sync);
    let follow = dialect.semi_sync_follow();
    // The agent passes these (and the unfence, after an optional first statement) in
    // double quotes.
    let unfence = dialect.unfence_sql();
    for text in [
        follow.dump_threads,
        follow.kill_prefix,
        &follow.source_enabled,
        &follow.on,
        &follow.off,
    ]
    .into_iter()
    .chain(unfence.iter().map(String::as_str))
    {
        check_token("fence agent statement", text, "\"$`\\")?;
    }
    ctx.insert("dump_threads_sql", follow.dump_threads);
    ctx.insert("kill_sql", follow.kill_prefix);
    ctx.insert("source_enabled_sql", &follow.source_enabled);
    ctx.insert("semi_sync_on_sql", &follow.on);
    ctx.insert("semi_sync_off_sql", &follow.off);
    ctx.insert("peer_probe_s", &PEER_PROBE_S);
    ctx.insert("passive_off_after_s", &PASSIVE_SOURCE_OFF_AFTER_S);
    // Tickle ACKs (issue 17): the peer's client list and the script that ends its wait.
    ctx.insert("clients_sql", &dialect.client_list_sql());
    ctx.insert("clients_file", crate::os::client_list::CLIENTS_PATH);
    ctx.insert("tickle_path", crate::os::client_list::TICKLE_PATH);
    ctx.insert("tickle_record", crate::os::client_list::TICKLE_RECORD_PATH);
    ctx.insert("mysql_port", &inv.mysql.port);
    ctx.insert(
        "clients_cnf",
        &crate::os::client_list::option_file_beside(option_file),
    );
    render(FENCE_AGENT_TEMPLATE, &ctx)
}

/// Renders the nftables ruleset of bootstrap's `vip-refuse` step ([`crate::os::vip_refuse`]).
pub fn render_vip_refuse(inv: &Inventory) -> Result<String> {
    use crate::os::vip_refuse::{drain_match, rule_match, CHAIN, DRAIN_SECONDS, DRAIN_SET, TABLE};
    let mut ctx = Context::new();
    ctx.insert("cluster", &inv.cluster);
    ctx.insert("vip", &inv.vip.address.to_string());
    ctx.insert("table", TABLE);
    ctx.insert("chain", CHAIN);
    ctx.insert("rule", &rule_match(inv.vip.address, inv.mysql.port));
    ctx.insert("set", DRAIN_SET);
    ctx.insert("drain_s", &DRAIN_SECONDS);
    ctx.insert("drain_rule", &drain_match(inv.mysql.port));
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
    let arbiter_window_ms = Timers::window_ms(t.arbiter_poll_ms());
    ctx.insert(
        "arbiter_stream",
        &crate::os::arbiter::stream_command(arbiter_window_ms),
    );
    ctx.insert("arbiter_silence_cs", &t.arbiter_silence_ms.div_ceil(10));
    ctx.insert("arbiter_window_cs", &(arbiter_window_ms / 10));
    ctx.insert("arbiter_probe_cs", &t.arbiter_probe_ms.div_ceil(10));
    ctx.insert(
        "arbiter_probe",
        &detection::seconds_text(t.arbiter_probe_ms),
    );
    ctx.insert(
        "arbiter_gap",
        &detection::seconds_text(detection::ARBITER_REQUEST_GAP_MS),
    );
    ctx.insert(
        "arbiter_gap_cs",
        &detection::ARBITER_REQUEST_GAP_MS.div_ceil(10),
    );
    ctx.insert(
        "watch_poll",
        &detection::seconds_text(detection::WATCH_POLL_MS),
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
