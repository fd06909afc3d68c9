//! The server's own settings: `server-id`, `auto-increment`, `binlog`, `read-only`,
//! `semi-sync` and the `my-cnf` drop-in. Each judges the values read in a pure
//! function (`*_from`), tested on values.

use crate::facts;
use crate::verify::registry::{CheckKind, Fact, Run, Scope, SqlCtx, When};
use crate::verify::{Check, Severity};
use anyhow::Result;

/// `server-id`: the inventory's `server_id`.
pub const SERVER_ID: CheckKind = CheckKind {
    name: "server-id",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::Variables],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(server_id(c)),
        listed_when_sql_down: true,
    },
};

/// `auto-increment`: increment 2, the node's offset.
pub const AUTO_INCREMENT: CheckKind = CheckKind {
    name: "auto-increment",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::Variables],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(auto_increment(c)),
        listed_when_sql_down: true,
    },
};

/// `binlog`: `log_bin` and `log_replica_updates` ON.
pub const BINLOG: CheckKind = CheckKind {
    name: "binlog",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::Variables],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(binlog(c)),
        listed_when_sql_down: true,
    },
};

/// `read-only`: with `writes: both`, `read_only` OFF (a warning); with `vip-holder` it
/// reports the value only (the fence agent's business, checked by `write-fencing`).
pub const READ_ONLY: CheckKind = CheckKind {
    name: "read-only",
    severity: Severity::Warning,
    scope: Scope::Node,
    reads: &[Fact::Variables, Fact::OptionFiles],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(read_only(c)),
        listed_when_sql_down: true,
    },
};

/// `semi-sync`: enabled and waiting both ways when the inventory asks for it (the
/// default); a fallback to asynchronous replication is a warning.
pub const SEMI_SYNC: CheckKind = CheckKind {
    name: "semi-sync",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[
        Fact::GlobalStatus,
        Fact::Variables,
        Fact::ReplicaStatus,
        Fact::Addresses,
    ],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(semi_sync(c)),
        listed_when_sql_down: true,
    },
};

/// `my-cnf`: mhactl's drop-in on disk is what the inventory renders, and is read.
pub const MY_CNF: CheckKind = CheckKind {
    name: "my-cnf",
    severity: Severity::Error,
    scope: Scope::Node,
    // The rendering depends on the server's version (the dialect), hence SQL.
    reads: &[Fact::ServerVersion, Fact::RenderedFile],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(my_cnf(c)),
        listed_when_sql_down: true,
    },
};

fn server_id(c: &SqlCtx) -> Result<Check> {
    let id = facts::variable(c.host.node, "server_id")?.unwrap_or_default();
    let want = c.host.inv.server_id(c.host.i).to_string();
    Ok(server_id_from(&c.host.node.name, &id, &want))
}

/// `server-id` on the running `server_id` and the inventory's.
pub fn server_id_from(n: &str, id: &str, want: &str) -> Check {
    match id {
        "0" | "" => SERVER_ID.fail(n, "server_id is not set"),
        x if x == want => SERVER_ID.pass(n, format!("server_id {x}")),
        x => SERVER_ID.fail(n, format!("server_id {x}, the inventory says {want}")),
    }
}

fn auto_increment(c: &SqlCtx) -> Result<Check> {
    let node = c.host.node;
    let inc = facts::variable(node, "auto_increment_increment")?.unwrap_or_default();
    let off = facts::variable(node, "auto_increment_offset")?.unwrap_or_default();
    let want_off = c.host.inv.auto_increment_offset(c.host.i).to_string();
    Ok(auto_increment_from(&node.name, &inc, &off, &want_off))
}

/// `auto-increment` on the running increment and offset and the node's offset.
pub fn auto_increment_from(n: &str, inc: &str, off: &str, want_off: &str) -> Check {
    if inc == "2" && off == want_off {
        AUTO_INCREMENT.pass(n, format!("increment {inc}, offset {off}"))
    } else {
        AUTO_INCREMENT.fail(
            n,
            format!("increment {inc}, offset {off}; want increment 2, offset {want_off} (ids from the two nodes would collide)"),
        )
    }
}

fn binlog(c: &SqlCtx) -> Result<Check> {
    let node = c.host.node;
    let log_bin = facts::variable(node, "log_bin")?.unwrap_or_default();
    let option = c.dialect.log_replica_updates_option();
    let updates = facts::variable(node, option)?.unwrap_or_default();
    Ok(binlog_from(&node.name, &log_bin, option, &updates))
}

/// `binlog` on `log_bin` and the flavor's `log_replica_updates` (named `option`).
pub fn binlog_from(n: &str, log_bin: &str, option: &str, updates: &str) -> Check {
    if log_bin == "1" && updates == "1" {
        BINLOG.pass(n, format!("log_bin ON, {option} ON"))
    } else {
        BINLOG.fail(
            n,
            format!("log_bin {log_bin}, {option} {updates}: both must be ON for master/master"),
        )
    }
}

fn read_only(c: &SqlCtx) -> Result<Check> {
    let node = c.host.node;
    let ro = facts::variable(node, "read_only")?.unwrap_or_default();
    if c.host.inv.writes == crate::inventory::WriteMode::VipHolder {
        // The fence agent sets it from the VIP: `write-fencing` checks the pair.
        return Ok(READ_ONLY.pass(
            &node.name,
            format!(
                "read_only {} (writes: vip-holder: the fence agent sets it; see write-fencing)",
                if matches!(ro.as_str(), "1" | "ON") {
                    "ON"
                } else {
                    "OFF"
                }
            ),
        ));
    }
    Ok(read_only_from(&node.name, &ro, || {
        crate::verify::server_options::who_sets(node, c.dialect, c.host.target, &["read_only"])
    }))
}

/// `read-only` on `read_only`; `who_sets` names the option file (read only when ON).
pub fn read_only_from(n: &str, ro: &str, who_sets: impl FnOnce() -> String) -> Check {
    if ro == "0" {
        READ_ONLY.pass(
            n,
            "read_only OFF (writable: the VIP decides where writes go)",
        )
    } else {
        READ_ONLY.warn(
            n,
            format!(
                "read_only ON: writes through the VIP fail while this node holds it; {}",
                who_sets()
            ),
        )
    }
}

fn semi_sync(c: &SqlCtx) -> Result<Check> {
    let node = c.host.node;
    let n = node.name.as_str();
    let peer = c.host.inv.peer(c.host.i).name.as_str();
    if !c.host.inv.mysql.semi_sync {
        return Ok(semi_sync_from(n, peer, None));
    }
    let names = c.dialect.semi_sync_names();
    let vars: Vec<String> = [names.source_enabled, names.replica_enabled]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut values = facts::get::<facts::tables::GlobalVariables>(node, &vars)?;
    // Without the switches (MySQL without its plugins) there is no status to read.
    if values.iter().any(|(_, v)| v.is_some()) {
        values.extend(facts::get::<facts::server::GlobalStatus>(
            node,
            &names.status(),
        )?);
    }
    // A replica whose IO thread does not run acknowledges nothing, whatever its status
    // variable still says (it keeps ON until the thread restarts).
    let io_running = matches!(c.replica(), Ok(Some(r)) if r.io_running);
    let source_side = if c
        .dialect
        .semi_sync_source_follows_vip(c.host.inv.mysql.semi_sync, c.host.inv.writes)
    {
        if facts::holds_vip(node, c.host.inv)? {
            SourceSide::Holder
        } else {
            SourceSide::Passive
        }
    } else {
        SourceSide::Both
    };
    Ok(semi_sync_from(
        n,
        peer,
        Some(SemiSyncRead {
            names,
            values,
            io_running,
            source_side,
        }),
    ))
}

/// What the `semi-sync` check read: the switches (variables) and the status.
pub struct SemiSyncRead {
    /// The names on this server.
    pub names: crate::dialect::SemiSyncNames,
    /// (name, value) of the two switches and the four status variables; `None`: absent.
    pub values: Vec<(String, Option<String>)>,
    /// This node's replica IO thread runs.
    pub io_running: bool,
    /// Where the source side should be on.
    pub source_side: SourceSide,
}

/// Where semi-sync's source side is on (`dialect::Dialect::semi_sync_source_follows_vip`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceSide {
    /// On both nodes (`writes: both`: no fence agent switches it).
    Both,
    /// This node holds the VIP: on (the fence agent turns it on as it takes the VIP).
    Holder,
    /// This node is passive: off (the agent turns it off a moment after the fence), and
    /// its commits (only replicated ones) need no acknowledgement.
    Passive,
}

/// `semi-sync`: `None` when the inventory turns it off. Not enabled (no plugin, a switch
/// OFF) fails; enabled but not waiting (it fell back to asynchronous: the peer is down,
/// its replica not connected or not caught up) warns, naming the node whose commits are
/// unprotected and what to do.
pub fn semi_sync_from(n: &str, peer: &str, read: Option<SemiSyncRead>) -> Check {
    let Some(SemiSyncRead {
        names,
        values,
        io_running,
        source_side,
    }) = read
    else {
        return SEMI_SYNC.pass(
            n,
            "off (mysql.semi_sync: false): asynchronous replication (a crash can lose the last acknowledged writes; docs/failover.md)",
        );
    };
    let get = |name: &str| {
        values
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .and_then(|(_, v)| v.clone())
    };
    let on = |name: &str| get(name).is_some_and(|v| v.eq_ignore_ascii_case("ON") || v == "1");
    let shown = |name: &str| get(name).unwrap_or_else(|| "missing".into());
    if get(names.source_enabled).is_none() {
        return SEMI_SYNC.fail(
            n,
            format!(
                "the semi-sync plugins are not loaded ({} missing): commits do not wait for {peer}; \
                 `mhactl bootstrap` installs them without a restart",
                names.source_enabled
            ),
        );
    }
    let required: &[&str] = match source_side {
        SourceSide::Both => &[names.source_enabled, names.replica_enabled],
        SourceSide::Holder | SourceSide::Passive => &[names.replica_enabled],
    };
    let off: Vec<&str> = required.iter().copied().filter(|k| !on(k)).collect();
    if !off.is_empty() {
        return SEMI_SYNC.fail(
            n,
            format!(
                "{} OFF: semi-sync is not enabled (mysql.semi_sync is on); `mhactl bootstrap` \
                 sets it without a restart",
                off.join(", ")
            ),
        );
    }
    let no_tx: u64 = get(names.no_tx).and_then(|v| v.parse().ok()).unwrap_or(0);
    let since = if no_tx > 0 {
        format!(
            "; {no_tx} commits since the server started were acknowledged without {peer} \
             (while it was away)"
        )
    } else {
        String::new()
    };
    // With no semi-sync replica connected the next commit does not wait (wait_no_slave
    // OFF), even while the status still reads ON: no commit has switched it yet.
    let clients: u64 = get(names.clients).and_then(|v| v.parse().ok()).unwrap_or(0);
    let replica = on(names.replica_status) && io_running;
    if source_side == SourceSide::Passive && replica {
        return SEMI_SYNC.pass(
            n,
            format!(
                "{} ON; the source side follows the VIP ({} {} on this passive node){since}",
                names.replica_status,
                names.source_enabled,
                shown(names.source_enabled)
            ),
        );
    }
    let source = source_side == SourceSide::Passive
        || (on(names.source_enabled) && on(names.source_status) && clients > 0);
    if source && replica {
        return SEMI_SYNC.pass(
            n,
            format!(
                "{} ON ({} {}), {} ON{since}",
                names.source_status,
                names.clients,
                shown(names.clients),
                names.replica_status
            ),
        );
    }
    let mut what = Vec::new();
    if !source && !on(names.source_enabled) {
        // Only where the source side follows the VIP (otherwise an error above).
        what.push(format!(
            "commits on {n}, the VIP holder, do not wait for {peer}: {} OFF (the fence agent \
             turns it on once every replica connected to {n} answers; it keeps it off while \
             {peer}'s server does not, and kills that replica's stale connection): a crash of \
             {n} now can lose acknowledged writes {peer} does not have",
            names.source_enabled
        ));
    } else if !source {
        what.push(format!(
            "commits on {n} do not wait for {peer} ({} {}, {} {}): a crash of {n} now can \
             lose acknowledged writes {peer} does not have",
            names.source_status,
            shown(names.source_status),
            names.clients,
            shown(names.clients)
        ));
    }
    if !replica && io_running {
        what.push(format!(
            "{n}'s replica does not acknowledge {peer}'s commits ({} {})",
            names.replica_status,
            shown(names.replica_status)
        ));
    } else if !replica {
        // MySQL's source counts a replica whose server stopped until its next commit
        // finds the connection closed: the status still reads ON meanwhile.
        let next = if source {
            format!(
                "; if {peer}'s server is down, {n}'s next commit waits up to the timeout for \
                 it, then {n} goes on asynchronously"
            )
        } else {
            String::new()
        };
        what.push(format!(
            "{n}'s replica is not connected to {peer} (IO thread not running), so {peer}'s \
             commits get no acknowledgement from {n}{next}"
        ));
    }
    SEMI_SYNC.warn(
        n,
        format!(
            "not waiting both ways (fell back, or falls back at the next commit, to asynchronous \
             replication): {}{since}. It returns by itself once the \
             replicas are connected and caught up: check that both servers and both \
             replication threads run (verify's replication-threads); if they do, restart \
             the replica IO thread that does not acknowledge, or run `mhactl bootstrap`",
            what.join("; ")
        ),
    )
}

fn my_cnf(c: &SqlCtx) -> Result<Check> {
    let (node, target) = (c.host.node, c.host.target);
    let wanted = crate::render::render_my_cnf(c.host.inv, c.host.i, c.dialect, target)?;
    let check = super::drift_check(MY_CNF.name, node, target.config_path(), &wanted)?;
    // The MySQL RPMs' /etc/my.cnf reads no drop-in directory: a right file that the
    // server never reads is still wrong.
    if let (true, Some((main, line))) = (check.ok, target.config_include()) {
        let text = facts::host::rendered_file(node, main)?.unwrap_or_default();
        if !crate::os::has_include_line(&text, line) {
            return Ok(MY_CNF.fail(
                &node.name,
                format!(
                    "{main} lacks `{line}`, so the server does not read {} (bootstrap adds it)",
                    target.config_path()
                ),
            ));
        }
    }
    Ok(check)
}
