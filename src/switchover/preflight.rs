//! Switchover's pre-flight: read (never change) the state of both nodes and refuse, with
//! the node and the reason, anything that would make the switch unsafe or pointless:
//! not exactly one VIP holder, keepalived not running or unable to track the release
//! file, a hold or release left by an earlier run, replication not running both ways
//! or lagging, a long write transaction on the holder.

use super::{Refused, SwitchoverOptions, VipRelease};
use crate::dialect::{BinlogCoordinates, Dialect, ReplicaStatus};
use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::inventory::Inventory;
use crate::os::keepalived::KeepalivedVersion;
use crate::os::switchover::{self as files, ReleaseTracking};
use crate::os::KEEPALIVED_SERVICE;
use crate::transport::RemoteCommand;
use anyhow::{anyhow, Context, Result};

/// One node as pre-flight found it.
#[derive(Debug, Clone)]
pub struct NodeState {
    /// The server's dialect.
    pub dialect: Dialect,
    /// The VIP is on its interface.
    pub holds_vip: bool,
    /// `@@GLOBAL.read_only` is 1 (fenced).
    pub read_only: bool,
    /// `@@server_id`.
    pub server_id: String,
    /// Its replica threads (from the peer).
    pub replica: Option<ReplicaStatus>,
    /// Its binary log position.
    pub binlog: BinlogCoordinates,
    /// keepalived runs.
    pub keepalived_running: bool,
    /// keepalived's release (`None`: not installed).
    pub keepalived: Option<KeepalivedVersion>,
    /// keepalived.conf has the release file's track_file block.
    pub conf_tracks_release: bool,
    /// Whether the running keepalived watches the release file.
    pub tracking: ReleaseTracking,
    /// The release file's value (`0` normal).
    pub release_value: String,
    /// The take file's value (`0` normal).
    pub take_value: String,
    /// keepalived.conf tracks the take file (priority boost before the release).
    pub conf_has_take: bool,
    /// A fence hold file exists.
    pub hold_present: bool,
    /// MySQL with `gtid_mode = ON`: the catch-up is waited for and proved by GTID set.
    pub gtid_on: bool,
    /// The statement that turns the source side of semi-sync on, where it follows the
    /// VIP (the fence agent keeps it off on the passive node): run before the unfence.
    pub semi_sync_on: Option<String>,
}

/// Both nodes, in inventory order.
#[derive(Debug, Clone)]
pub struct PairState {
    /// Per node.
    pub nodes: Vec<NodeState>,
}

impl PairState {
    /// The VIP holders' indices.
    pub fn holders(&self) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&i| self.nodes[i].holds_vip)
            .collect()
    }
}

fn run(node: &NodeHandle, script: &str) -> Result<String> {
    node.transport
        .run_ok(&RemoteCommand::new(script))
        .with_context(|| format!("{}: {script}", node.name))
}

/// The first value of a one-value query.
pub(super) fn one_value(node: &NodeHandle, sql: &str) -> Result<Option<String>> {
    let rows = node.with_sql(|s| s.query(sql))?;
    Ok(rows
        .first()
        .and_then(|r| r.first())
        .and_then(|(_, v)| v.clone()))
}

/// `@@GLOBAL.read_only` now.
pub(super) fn read_only(node: &NodeHandle, d: &Dialect) -> Result<bool> {
    Ok(one_value(node, &d.read_only_sql())?.as_deref() == Some("1"))
}

/// The node's GTID state when the pair replicates by GTID: MySQL's `gtid_executed` when
/// `gtid_mode` is ON; MariaDB's `gtid_binlog_pos` when its replica positions by GTID
/// (`Using_Gtid` not `No`). `None`: file and position.
pub(super) fn gtid_executed(node: &NodeHandle, d: &Dialect) -> Result<Option<String>> {
    let Some(sql) = d.gtid_state_sql() else {
        let using = facts::fresh::<facts::server::ReplicaStatusFact>(node, &())?.using_gtid;
        if !using.is_some_and(|u| !u.is_empty() && !u.eq_ignore_ascii_case("no")) {
            return Ok(None);
        }
        return Ok(Some(
            one_value(node, &d.gtid_source_state_sql())?.unwrap_or_default(),
        ));
    };
    let rows = node.with_sql(|s| s.query(&sql))?;
    let row = rows.first();
    let mode = row.and_then(|r| crate::sql::get(r, "mode")).unwrap_or("");
    Ok((mode == "ON").then(|| {
        row.and_then(|r| crate::sql::get(r, "executed"))
            .unwrap_or("")
            .to_string()
    }))
}

/// Whether `node`'s replica positions by file and position although its server logs
/// GTIDs (MySQL `gtid_mode = ON` with `Auto_Position = 0`, as a pair built by hand on
/// MySQL 9.x, where `gtid_mode` is ON by default, replicates). Such a node's GTID set
/// holds the transactions each node ran before replication started (the runbook's
/// accounts), which the peer never receives: a wait for the whole set would never end,
/// so the switchover waits and proves by position instead.
fn replicates_by_file(node: &NodeHandle, d: &Dialect) -> Result<bool> {
    let state = facts::fresh::<facts::server::ReplicaStatusFact>(node, &())?;
    Ok(d.replica_history(&state.rows)
        .ok()
        .flatten()
        .is_some_and(|h| h.gtid.is_none()))
}

/// Whether the running keepalived on `node` watches the release file.
pub(super) fn tracking(node: &NodeHandle) -> Result<ReleaseTracking> {
    Ok(ReleaseTracking::parse(&run(
        node,
        files::RELEASE_TRACKING_PROBE,
    )?))
}

fn node_state(node: &NodeHandle, inv: &Inventory) -> Result<NodeState> {
    let dialect = facts::dialect(node)?;
    let (target, services) = facts::os_target(node, inv.mysql.flavor)?;
    let conf = facts::host::rendered_file(node, target.keepalived_conf_path())?;
    Ok(NodeState {
        holds_vip: super::actions::holds_vip_now(node, inv)?,
        read_only: read_only(node, &dialect)?,
        server_id: one_value(node, crate::dialect::server_id_sql())?.unwrap_or_default(),
        replica: facts::replica_status_fresh(node)?,
        binlog: facts::binlog_coordinates_fresh(node)?,
        keepalived_running: facts::service_active_fresh(node, services, KEEPALIVED_SERVICE)?,
        keepalived: facts::keepalived_version(node)?,
        // Either form (track_file, or the check script's release mode before 2.1) names it.
        conf_tracks_release: conf
            .as_deref()
            .is_some_and(|c| c.contains(files::VIP_RELEASE_TRACK_NAME)),
        tracking: match facts::keepalived_version(node)? {
            // The vrrp_script reads the file every second, whatever keepalived watches.
            Some(v) if !v.capabilities().track_file => ReleaseTracking::Tracked,
            _ => tracking(node)?,
        },
        release_value: run(node, files::RELEASE_VALUE_PROBE)?.trim().to_string(),
        take_value: run(node, files::TAKE_VALUE_PROBE)?.trim().to_string(),
        conf_has_take: conf
            .as_deref()
            .is_some_and(|c| c.contains(files::VIP_TAKE_TRACK_NAME)),
        hold_present: run(node, files::HOLD_PROBE)?.trim() == "present",
        gtid_on: gtid_executed(node, &dialect)?.is_some() && !replicates_by_file(node, &dialect)?,
        semi_sync_on: dialect
            .semi_sync_source_follows_vip(inv.mysql.semi_sync, inv.writes)
            .then(|| dialect.semi_sync_follow().on),
        dialect,
    })
}

/// Read both nodes' state; a node that cannot be read refuses the switch.
///
/// A read whose SSH session ended without an exit status (a remote process killed, a
/// channel dropped: [`crate::transport::session_ended_without_status`]) is read once
/// more: every read here is read-only, so a transient loss costs a second look instead
/// of a refused switch (issue 18: a CI run under load refused bootstrap's hand-over with
/// "cannot read its state: ... the remote process has terminated"). A connection that
/// is gone fails the second read too and refuses as before.
pub fn read_state(cluster: &Cluster, inv: &Inventory) -> Result<PairState> {
    let mut nodes = Vec::new();
    for node in &cluster.nodes {
        let state = match node_state(node, inv) {
            Err(e) if crate::transport::session_ended_without_status(&e) => {
                tracing::warn!(node = %node.name, "reading its state again: {e:#}");
                std::thread::sleep(std::time::Duration::from_millis(200));
                node_state(node, inv)
            }
            other => other,
        };
        nodes.push(state.map_err(|e| {
            anyhow!(Refused {
                node: node.name.clone(),
                reason: format!("cannot read its state: {e:#}"),
            })
        })?);
    }
    Ok(PairState { nodes })
}

/// Every reason not to switch from `old` to its peer (empty: go): [`state_refusals`],
/// then the holder's long write transactions (read now).
pub fn refusals(
    cluster: &Cluster,
    state: &PairState,
    old: usize,
    opts: &SwitchoverOptions,
) -> Result<Vec<Refused>> {
    let names: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
    let mut out = state_refusals(&names, state, opts);
    out.extend(long_transactions(cluster, old, opts)?);
    Ok(out)
}

/// The reasons in the state pre-flight read (nodes named by `names`, in order).
pub fn state_refusals(
    names: &[String],
    state: &PairState,
    opts: &SwitchoverOptions,
) -> Vec<Refused> {
    let mut out = Vec::new();
    let refuse = |out: &mut Vec<Refused>, i: usize, reason: String| {
        out.push(Refused {
            node: names[i].clone(),
            reason,
        })
    };
    for (i, n) in state.nodes.iter().enumerate() {
        if !n.keepalived_running {
            refuse(&mut out, i, "keepalived is not running".into());
        }
        match n.keepalived {
            None => refuse(&mut out, i, "keepalived is not installed".into()),
            // Stopping keepalived needs nothing of mhactl's in its configuration.
            Some(_) if !n.conf_tracks_release && opts.release == VipRelease::TrackedFile => refuse(
                &mut out,
                i,
                format!(
                    "keepalived.conf does not track {} (written by an older mhactl): run `mhactl bootstrap` first",
                    files::VIP_RELEASE_PATH
                ),
            ),
            Some(_) => {}
        }
        if n.hold_present {
            refuse(&mut out, i, format!(
                "{} exists (left by an interrupted switchover?): check the pair with `mhactl verify`, then remove it",
                files::FENCE_HOLD_PATH
            ));
        }
        if n.take_value != "0" {
            refuse(
                &mut out,
                i,
                format!(
                    "{} holds {:?}, not 0 (left by an interrupted switchover?): write 0 into it",
                    files::VIP_TAKE_PATH,
                    n.take_value
                ),
            );
        }
        if n.release_value != "0" {
            refuse(&mut out, i, format!(
                "{} holds {:?}, not 0 (left by an interrupted switchover?): write 0 into it once the pair is healthy",
                files::VIP_RELEASE_PATH, n.release_value
            ));
        }
        match &n.replica {
            None => refuse(&mut out, i, "replicates from nobody".into()),
            Some(r) if !(r.io_running && r.sql_running) => refuse(
                &mut out,
                i,
                format!(
                    "replication is not running (IO {}, SQL {}){}",
                    yes(r.io_running),
                    yes(r.sql_running),
                    errors(r)
                ),
            ),
            Some(r) if !r.last_errors().is_empty() => {
                refuse(&mut out, i, format!("replication reports{}", errors(r)))
            }
            Some(r) => match r.seconds_behind {
                Some(lag) if lag <= opts.max_lag_s => {}
                Some(lag) => refuse(
                    &mut out,
                    i,
                    format!(
                        "replication lags {lag} s behind its peer (limit --max-lag {} s)",
                        opts.max_lag_s
                    ),
                ),
                None => refuse(&mut out, i, "replication lag is unknown (NULL)".into()),
            },
        }
    }
    out
}

/// Write transactions on the holder older than `--max-trx-age`: its fence would make them
/// fail at commit (MHA, orchestrator and replication-manager refuse them too).
fn long_transactions(
    cluster: &Cluster,
    old: usize,
    opts: &SwitchoverOptions,
) -> Result<Option<Refused>> {
    let rows = cluster.nodes[old]
        .with_sql(|s| {
            s.query(&crate::dialect::long_write_transactions_sql(
                opts.max_trx_age_s,
            ))
        })
        .with_context(|| {
            format!(
                "{}: reading information_schema.INNODB_TRX",
                cluster.nodes[old].name
            )
        })?;
    if !rows.is_empty() {
        let list: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "connection {} open {} s, {} rows changed",
                    crate::sql::get(r, "id").unwrap_or("?"),
                    crate::sql::get(r, "age_s").unwrap_or("?"),
                    crate::sql::get(r, "rows_modified").unwrap_or("?")
                )
            })
            .collect();
        return Ok(Some(Refused {
            node: cluster.nodes[old].name.clone(),
            reason: format!(
                "{} write transaction(s) older than {} s (--max-trx-age): {}",
                rows.len(),
                opts.max_trx_age_s,
                list.join("; ")
            ),
        }));
    }
    Ok(None)
}

fn yes(b: bool) -> &'static str {
    if b {
        "Yes"
    } else {
        "No"
    }
}

fn errors(r: &ReplicaStatus) -> String {
    let e = r.last_errors();
    if e.is_empty() {
        String::new()
    } else {
        format!(": {}", e.join("; "))
    }
}

/// The steps a switch from `old` to `new` runs, as the dry run prints them.
pub fn plan(
    cluster: &Cluster,
    state: &PairState,
    old: usize,
    opts: &SwitchoverOptions,
) -> Vec<String> {
    let (o, n) = (&cluster.nodes[old].name, &cluster.nodes[1 - old].name);
    let mut plan = Vec::new();
    for (i, s) in state.nodes.iter().enumerate() {
        if s.tracking != ReleaseTracking::Tracked && opts.release == VipRelease::TrackedFile {
            let why = match s.tracking {
                ReleaseTracking::NoDir => "the directory is missing, e.g. after a reboot",
                _ => "keepalived does not watch it",
            };
            plan.push(format!(
                "{}: create {} and reload keepalived so that it tracks it ({why})",
                cluster.nodes[i].name,
                files::VIP_RELEASE_PATH,
            ));
        }
    }
    if opts.measure {
        plan.push("start a writer through the VIP (probe account and table on both nodes)".into());
    }
    plan.extend([
        format!(
            "{o}: create {} (the fence agent keeps it fenced)",
            files::FENCE_HOLD_PATH
        ),
        format!(
            "{o}: fence ({})",
            state.nodes[old].dialect.fence_sql().join("; ")
        ),
        format!(
            "{o}: capture the binary log position after the fence (now {})",
            state.nodes[old].binlog
        ),
        if state.nodes.iter().all(|s| s.gtid_on) {
            format!(
                "{n}: wait up to {} s until it executed {o}'s GTID set read after the fence \
                 ({})",
                opts.timeout_s,
                state.nodes[1 - old].dialect.gtid_wait_name()
            )
        } else {
            format!(
                "{n}: wait up to {} s until it executed up to that position (MySQL with \
                 gtid_mode ON: by GTID, without {o}'s transactions from before {n}'s replica \
                 started, which never reach it)",
                opts.timeout_s
            )
        },
        format!(
            "{n}: prove it executed everything {o} took (position or GTID set) and {o} took nothing since"
        ),
        if state.nodes[1 - old].conf_has_take {
            format!(
                "{n}: write {} into {} (priority 254: it takes over within ms of the release)",
                files::TAKE_BOOST,
                files::VIP_TAKE_PATH
            )
        } else {
            format!("{n}: no priority boost (its keepalived.conf has no {})", files::VIP_TAKE_TRACK_NAME)
        },
        super::release::plan_line(o, n, opts.release, opts.timeout_s),
        format!(
            "{n}: unfence ({}) once it holds the VIP",
            state.nodes[1 - old].dialect.unfence_sql().join("; ")
        ),
        format!("{o}: end the application sessions left (never replication or system threads)"),
        format!(
            "{n}: canary row in {}.{}; wait until it replicated to {o}",
            crate::schemas::PROBE_DB,
            crate::dialect::CANARY_TABLE
        ),
        format!(
            "{o}: {} and remove {}",
            if state.nodes[1 - old].read_only {
                "stay fenced (as the passive node)"
            } else {
                "unfence (both nodes were writable before)"
            },
            files::FENCE_HOLD_PATH
        ),
    ]);
    plan
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replica(io: bool, sql: bool, lag: Option<u64>) -> ReplicaStatus {
        ReplicaStatus {
            io_running: io,
            sql_running: sql,
            source_host: "10.0.0.12".into(),
            source_port: 3306,
            source_user: "repl".into(),
            source_log_file: "mysql-bin.000001".into(),
            read_source_log_pos: 500,
            relay_source_log_file: "mysql-bin.000001".into(),
            exec_source_log_pos: 500,
            seconds_behind: lag,
            last_io_errno: 0,
            last_io_error: String::new(),
            last_sql_errno: 0,
            last_sql_error: String::new(),
        }
    }

    fn node(holds_vip: bool) -> NodeState {
        NodeState {
            dialect: Dialect::from_version_string("10.11.18-MariaDB").unwrap(),
            holds_vip,
            read_only: !holds_vip,
            server_id: "1".into(),
            replica: Some(replica(true, true, Some(0))),
            binlog: BinlogCoordinates {
                file: "mysql-bin.000001".into(),
                position: 500,
            },
            keepalived_running: true,
            keepalived: Some(KeepalivedVersion::new(2, 2, 7)),
            conf_tracks_release: true,
            tracking: ReleaseTracking::Tracked,
            release_value: "0".into(),
            take_value: "0".into(),
            conf_has_take: true,
            hold_present: false,
            gtid_on: false,
            semi_sync_on: None,
        }
    }

    fn check(mutate: impl FnOnce(&mut PairState)) -> Vec<String> {
        let mut state = PairState {
            nodes: vec![node(true), node(false)],
        };
        mutate(&mut state);
        let names = vec!["node-a".to_string(), "node-b".to_string()];
        state_refusals(&names, &state, &SwitchoverOptions::default())
            .iter()
            .map(|r| r.to_string())
            .collect()
    }

    /// A keepalived.conf mhactl did not write (a pair built by hand): the command refuses
    /// it, bootstrap's hand-over by stopping keepalived does not, but still needs
    /// keepalived running on both nodes (the peer takes the VIP through it).
    #[test]
    fn a_hand_built_keepalived_is_refused_unless_the_release_stops_it() {
        let foreign = |s: &mut PairState| {
            for n in &mut s.nodes {
                n.conf_tracks_release = false;
                n.conf_has_take = false;
                n.tracking = ReleaseTracking::NoDir;
            }
        };
        assert_eq!(check(foreign).len(), 2);
        let names = vec!["node-a".to_string(), "node-b".to_string()];
        let stop = SwitchoverOptions {
            release: VipRelease::StopKeepalived,
            ..Default::default()
        };
        let mut state = PairState {
            nodes: vec![node(true), node(false)],
        };
        foreign(&mut state);
        assert!(state_refusals(&names, &state, &stop).is_empty());
        state.nodes[1].keepalived_running = false;
        let refused: Vec<String> = state_refusals(&names, &state, &stop)
            .iter()
            .map(|r| r.to_string())
            .collect();
        assert_eq!(refused, ["node-b: keepalived is not running"]);
    }

    #[test]
    fn a_healthy_pair_is_not_refused() {
        assert_eq!(check(|_| {}), Vec::<String>::new());
        // Untracked is repaired by the switch (a keepalived reload), not refused.
        assert_eq!(
            check(|s| s.nodes[1].tracking = ReleaseTracking::NoDir),
            Vec::<String>::new()
        );
        // EL7's keepalived checks the file with a vrrp_script: not refused either.
        assert_eq!(
            check(|s| s.nodes[0].keepalived = Some(KeepalivedVersion::new(1, 3, 5))),
            Vec::<String>::new()
        );
    }

    type Mutation = Box<dyn FnOnce(&mut PairState)>;

    #[test]
    fn each_unsafe_state_is_refused_naming_the_node() {
        let cases: Vec<(Mutation, &str)> = vec![
            (
                Box::new(|s| s.nodes[1].replica = Some(replica(true, false, None))),
                "node-b: replication is not running (IO Yes, SQL No)",
            ),
            (
                Box::new(|s| s.nodes[0].replica = None),
                "node-a: replicates from nobody",
            ),
            (
                Box::new(|s| s.nodes[1].replica = Some(replica(true, true, Some(9)))),
                "node-b: replication lags 9 s behind its peer (limit --max-lag 5 s)",
            ),
            (
                Box::new(|s| s.nodes[0].replica = Some(replica(true, true, None))),
                "node-a: replication lag is unknown",
            ),
            (
                Box::new(|s| s.nodes[1].keepalived_running = false),
                "node-b: keepalived is not running",
            ),
            (
                Box::new(|s| s.nodes[0].keepalived = None),
                "node-a: keepalived is not installed",
            ),
            (
                Box::new(|s| s.nodes[1].conf_tracks_release = false),
                "node-b: keepalived.conf does not track /run/mhactl/vip-release",
            ),
            (
                Box::new(|s| s.nodes[0].hold_present = true),
                "node-a: /run/mhactl/fence-hold exists",
            ),
            (
                Box::new(|s| s.nodes[0].take_value = "254".into()),
                "node-a: /run/mhactl/vip-take holds \"254\", not 0",
            ),
            (
                Box::new(|s| s.nodes[1].release_value = "1".into()),
                "node-b: /run/mhactl/vip-release holds \"1\", not 0",
            ),
        ];
        for (mutate, want) in cases {
            let got = check(mutate);
            assert_eq!(got.len(), 1, "{want}: {got:?}");
            assert!(got[0].starts_with(want), "want {want:?}, got {got:?}");
        }
        let mut errored = replica(true, true, Some(0));
        errored.last_sql_errno = 1062;
        errored.last_sql_error = "Duplicate entry".into();
        let got = check(|s| s.nodes[0].replica = Some(errored));
        assert_eq!(
            got,
            ["node-a: replication reports: last SQL error 1062: Duplicate entry"]
        );
    }
}
