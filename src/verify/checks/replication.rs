//! Replication: `replication-threads`, `replication-source`, `replication-lag`,
//! `skip-errors`, `gtid` and `replication-user`. The first three judge one
//! `SHOW REPLICA STATUS` (read once per node); without a replica status only
//! `replication-threads` reports, saying why.

use crate::dialect::ReplicaStatus;
use crate::dialect::{quote_account, GtidModel};
use crate::facts;
use crate::verify::registry::{CheckKind, Fact, Run, Scope, SqlCtx, When};
use crate::verify::{Check, Severity};
use anyhow::Result;

/// Replication lag above this many seconds is a warning.
const LAG_WARNING_S: u64 = 30;

/// `replication-threads`: IO and SQL threads running.
pub const THREADS: CheckKind = CheckKind {
    name: "replication-threads",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::ReplicaStatus, Fact::PeerPort],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(threads(c)),
        listed_when_sql_down: true,
    },
};

/// `replication-source`: replicates from the peer as the replication user.
pub const SOURCE: CheckKind = CheckKind {
    name: "replication-source",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::ReplicaStatus],
    when: When::Always,
    run: Run::Sql {
        check: |c| with_status(c, |s| Ok(source_from(c, s))),
        listed_when_sql_down: true,
    },
};

/// `replication-lag`: seconds behind (a warning over 30 s; unknown is an error).
pub const LAG: CheckKind = CheckKind {
    name: "replication-lag",
    severity: Severity::Warning,
    scope: Scope::Node,
    reads: &[Fact::ReplicaStatus],
    when: When::Always,
    run: Run::Sql {
        check: |c| with_status(c, |s| Ok(lag_from(&c.host.node.name, s))),
        listed_when_sql_down: true,
    },
};

/// `skip-errors`: `slave_skip_errors` / `replica_skip_errors` OFF (a warning).
pub const SKIP_ERRORS: CheckKind = CheckKind {
    name: "skip-errors",
    severity: Severity::Warning,
    scope: Scope::Node,
    reads: &[Fact::ReplicaStatus, Fact::Variables],
    when: When::Always,
    run: Run::Sql {
        check: |c| with_status(c, |_| skip_errors(c)),
        listed_when_sql_down: true,
    },
};

/// `gtid`: not used, or this node has every transaction its peer executed.
pub const GTID: CheckKind = CheckKind {
    name: "gtid",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::ReplicaStatus, Fact::Variables],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(gtid(c)),
        listed_when_sql_down: true,
    },
};

/// `replication-user`: the account exists for the peer only, with replication
/// privileges only.
pub const USER: CheckKind = CheckKind {
    name: "replication-user",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::Accounts],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(replication_user(c)),
        listed_when_sql_down: true,
    },
};

/// Run `f` on the replica status; without one, nothing (`replication-threads` says why).
fn with_status(
    c: &SqlCtx,
    f: impl FnOnce(&ReplicaStatus) -> Result<Check>,
) -> Option<Result<Check>> {
    match c.replica() {
        Ok(Some(s)) => Some(f(s)),
        _ => None,
    }
}

fn threads(c: &SqlCtx) -> Result<Check> {
    let (n, inv, i) = (c.host.node.name.as_str(), c.host.inv, c.host.i);
    let status = match c.replica() {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(THREADS.fail(n, "no replication source configured")),
        Err(e) => return Ok(THREADS.fail(n, e.clone())),
    };
    let Some(mut detail) = threads_problem(status) else {
        return Ok(THREADS.pass(n, "IO and SQL threads running"));
    };
    // An IO thread that cannot connect: is the peer's port reachable from here?
    if !status.io_running && facts::io_error_may_be_network(status.last_io_errno) {
        let peer = inv.peer(i);
        let peer_addr = peer.address.to_string();
        match facts::tcp_probe(c.host.node, &peer_addr, inv.mysql.port) {
            Ok(probe) => {
                if let Some(problem) = probe.problem() {
                    detail.push('\n');
                    detail.push_str(&facts::peer_unreachable_message(
                        n,
                        &peer.name,
                        &peer_addr,
                        inv.mysql.port,
                        &inv.nodes[i].address.to_string(),
                        &problem,
                    ));
                } else if probe == facts::TcpProbe::Open {
                    detail.push_str(&format!(
                        "\n{n} reaches {}'s port {peer_addr}:{}",
                        peer.name, inv.mysql.port
                    ));
                }
            }
            Err(e) => detail.push_str(&format!(
                "\ncannot check whether {n} reaches {peer_addr}:{}: {e:#}",
                inv.mysql.port
            )),
        }
    }
    Ok(THREADS.fail(n, detail))
}

/// What is wrong with the threads (`None`: both running), with the last errors.
pub fn threads_problem(status: &ReplicaStatus) -> Option<String> {
    if status.io_running && status.sql_running {
        return None;
    }
    let state = |running| if running { "running" } else { "NOT running" };
    let mut detail = format!(
        "IO thread {}, SQL thread {}",
        state(status.io_running),
        state(status.sql_running)
    );
    for error in status.last_errors() {
        detail.push_str(&format!("\n{error}"));
    }
    Some(detail)
}

fn source_from(c: &SqlCtx, status: &ReplicaStatus) -> Check {
    let inv = c.host.inv;
    let peer = inv.peer(c.host.i);
    source_check(
        &c.host.node.name,
        status,
        (&peer.name, &peer.address.to_string()),
        inv.mysql.port,
        &inv.mysql.replication_user,
    )
}

/// `replication-source` on the status and the peer (name, address), port and user the
/// inventory gives.
pub fn source_check(
    n: &str,
    status: &ReplicaStatus,
    (peer, peer_addr): (&str, &str),
    port: u16,
    user: &str,
) -> Check {
    if status.source_host == peer_addr && status.source_port == port && status.source_user == user {
        SOURCE.pass(
            n,
            format!(
                "replicates from {peer} ({peer_addr}) as {}",
                status.source_user
            ),
        )
    } else {
        SOURCE.fail(
            n,
            format!(
                "replicates from {}:{} as {}, but its peer is {peer} ({peer_addr}:{port}) as {user}",
                status.source_host, status.source_port, status.source_user,
            ),
        )
    }
}

/// `replication-lag` on the status.
pub fn lag_from(n: &str, status: &ReplicaStatus) -> Check {
    let positions = format!(
        "read {}:{}, executed {}:{}",
        status.source_log_file,
        status.read_source_log_pos,
        status.relay_source_log_file,
        status.exec_source_log_pos
    );
    match status.seconds_behind {
        Some(s) if s <= LAG_WARNING_S => LAG.pass(n, format!("{s} s behind; {positions}")),
        Some(s) => LAG.warn(
            n,
            format!("{s} s behind (over {LAG_WARNING_S} s); {positions}"),
        ),
        None => LAG.fail(n, format!("lag unknown (a thread is stopped); {positions}")),
    }
}

fn skip_errors(c: &SqlCtx) -> Result<Check> {
    let option = c.dialect.skip_errors_option();
    let value = facts::variable(c.host.node, option)?.unwrap_or_else(|| "OFF".into());
    Ok(skip_errors_from(&c.host.node.name, option, &value))
}

/// `skip-errors` on the value of the flavor's option (named `option`).
pub fn skip_errors_from(n: &str, option: &str, value: &str) -> Check {
    if value == "OFF" || value.is_empty() {
        SKIP_ERRORS.pass(n, format!("{option} OFF"))
    } else {
        SKIP_ERRORS.warn(
            n,
            format!("{option} = {value}: replication errors are skipped, which hides divergence"),
        )
    }
}

/// GTIDs (issue 19): the replica positions as `replication.positioning` says (a new pair
/// by GTID, an existing file/position pair as it is); by GTID on MariaDB with
/// `Using_Gtid` `Slave_Pos` and strict mode, on MySQL with `Auto_Position` and
/// `gtid_mode = ON`, where this node must also contain every transaction its peer
/// executed (after catch-up). Errant transactions fail it (docs/verify.md, "Errant
/// transactions"): MySQL, GTIDs this node executed, did not originate and its peer lacks
/// ([`crate::dialect::errant_gtids_sql`]); MariaDB, a GTID in a domain not this node's
/// own that is ahead of the peer's binary log ([`crate::dialect::mariadb_errant`]).
fn gtid(c: &SqlCtx) -> Result<Check> {
    let (node, d) = (c.host.node, c.dialect);
    let n = node.name.as_str();
    let wanted = crate::positioning::by_gtid(c.host.inv, d);
    // The same replica status the other replication checks read (one query).
    let state = facts::get::<facts::server::ReplicaStatusFact>(node, &())?;
    let history = d.replica_history(&state.rows)?;
    let positions = history.as_ref().map(|h| h.gtid.clone());
    let not_gtid = |what: String| {
        if wanted {
            // What to run: bootstrap converts where the flavor converts online.
            let fix = if d.converts_to_gtid_online() {
                "`mhactl bootstrap` converts it online"
            } else {
                "mhactl does not convert it online: set replication.positioning: file"
            };
            GTID.fail(
                n,
                format!("{what}, but replication.positioning wants GTIDs for this pair; {fix}"),
            )
        } else {
            GTID.pass(n, format!("not used: {what} (replication.positioning: file, or an existing file/position pair)"))
        }
    };
    if d.flavor().gtid_model() == GtidModel::DomainServerSequence {
        let pos = facts::variable(node, "gtid_slave_pos")?.unwrap_or_default();
        return Ok(match positions {
            None => not_gtid("no replica configured".into()),
            Some(None) => not_gtid("replication by binary log file and position".into()),
            Some(Some(using)) => {
                let strict = facts::variable(node, "gtid_strict_mode")?.unwrap_or_default();
                let domain = facts::variable(node, "gtid_domain_id")?.unwrap_or_default();
                let peer = c.host.cluster.peer(c.host.i);
                let mine = facts::variable(node, "gtid_binlog_pos")?.unwrap_or_default();
                let theirs = facts::variable(peer, "gtid_binlog_pos")?.unwrap_or_default();
                let detail = format!(
                    "Using_Gtid {using}, gtid_slave_pos {pos}, gtid_domain_id {domain}, \
                     gtid_strict_mode {strict}; gtid_binlog_pos {mine}, {}'s {theirs}",
                    peer.name
                );
                let errant = mariadb_errant_of(peer, &mine, &theirs, &domain)?;
                if !errant.is_empty() {
                    let list: Vec<String> = errant.iter().map(ToString::to_string).collect();
                    return Ok(GTID.fail(
                        n,
                        format!(
                            "errant transactions: {} (in a domain not {n}'s own, ahead of {}): \
                             {detail}",
                            list.join(","),
                            peer.name
                        ),
                    ));
                }
                if wanted
                    && (!using.eq_ignore_ascii_case("slave_pos")
                        || !matches!(strict.as_str(), "ON" | "1"))
                {
                    GTID.fail(
                        n,
                        format!(
                            "{detail}: mhactl wants Slave_Pos with strict mode ON (a conversion \
                             stopped half-way: `mhactl bootstrap` finishes it online)"
                        ),
                    )
                } else {
                    GTID.pass(n, detail)
                }
            }
        });
    }
    let mode = facts::variable(node, "gtid_mode")?.unwrap_or_else(|| "OFF".into());
    if mode != "ON" {
        return Ok(not_gtid(format!(
            "gtid_mode {mode}: replication by binary log file and position"
        )));
    }
    let peer = c.host.cluster.peer(c.host.i);
    let peer_set = facts::variable(peer, "gtid_executed")?.unwrap_or_default();
    let subset = facts::get::<facts::server::GtidSubset>(node, &peer_set)?;
    if subset.as_deref() != Some("1") {
        return Ok(GTID.fail(
            n,
            format!("lacks transactions {} executed ({peer_set})", peer.name),
        ));
    }
    let errant = facts::get::<facts::server::ErrantGtids>(node, &peer_set)?.unwrap_or_default();
    if !errant.trim().is_empty() {
        return Ok(GTID.fail(
            n,
            format!(
                "errant transactions: {errant} (executed here, not originated here, and {} \
                 lacks them)",
                peer.name
            ),
        ));
    }
    Ok(match positions {
        Some(Some(_)) => GTID.pass(
            n,
            format!("Auto_Position 1; has every transaction {} executed", peer.name),
        ),
        Some(None) => not_gtid(format!(
            "gtid_mode ON and has every transaction {} executed, but the replica positions by file (Auto_Position 0)",
            peer.name
        )),
        None => not_gtid("no replica configured".into()),
    })
}

/// MariaDB: `node`'s errant transactions against `peer` (see
/// [`crate::dialect::mariadb_errant`]); none when a position does not parse.
fn mariadb_errant_of(
    peer: &crate::engine::NodeHandle,
    mine: &str,
    theirs: &str,
    domain: &str,
) -> Result<Vec<crate::dialect::MariadbGtid>> {
    use crate::dialect::parse_mariadb_gtid_position as parse;
    let peer_slave = facts::variable(peer, "gtid_slave_pos")?.unwrap_or_default();
    let peer_domain = facts::variable(peer, "gtid_domain_id")?.unwrap_or_default();
    Ok(
        match (
            parse(mine),
            parse(theirs),
            parse(&peer_slave),
            domain.trim().parse::<u32>(),
            peer_domain.trim().parse::<u32>(),
        ) {
            (Some(m), Some(b), Some(s), Ok(own), Ok(peer_domain)) => {
                crate::dialect::mariadb_errant(crate::dialect::MariadbPair {
                    mine: &m,
                    own_domain: own,
                    peer_binlog: &b,
                    peer_slave: &s,
                    peer_domain,
                })
            }
            _ => Vec::new(),
        },
    )
}

fn replication_user(c: &SqlCtx) -> Result<Check> {
    let (node, d, inv) = (c.host.node, c.dialect, c.host.inv);
    let n = node.name.as_str();
    let user = &inv.mysql.replication_user;
    let peer_addr = inv.peer(c.host.i).address.to_string();
    let hosts = facts::accounts::account_hosts(node, user)?;
    if !hosts.contains(&peer_addr) {
        return Ok(USER.fail(
            n,
            format!("{} does not exist", quote_account(user, &peer_addr)),
        ));
    }
    let others: Vec<&String> = hosts.iter().filter(|h| **h != peer_addr).collect();
    if !others.is_empty() {
        return Ok(USER.fail(
            n,
            format!("{user} also exists for hosts {others:?}: the account should be limited to the peer's address {peer_addr}"),
        ));
    }
    let lines = facts::accounts::grant_lines(node, user, &peer_addr)?;
    if !d.grants_cover_replication(&lines) {
        return Ok(USER.fail(
            n,
            format!("missing replication privileges: {}", lines.join("; ")),
        ));
    }
    let extra = d.extra_privileges(&lines);
    Ok(if extra.is_empty() {
        USER.pass(
            n,
            format!(
                "{} with replication privileges only",
                quote_account(user, &peer_addr)
            ),
        )
    } else {
        USER.fail(
            n,
            format!(
                "more privileges than replication needs: {}",
                extra.join(", ")
            ),
        )
    })
}
