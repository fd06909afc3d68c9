//! The actions of MySQL's online GTID conversion (the order and why:
//! src/bootstrap/steps/gtid_conversion_mysql.rs). Each reads the servers again when it
//! runs (the plan's reading is stale under writes) and changes only the nodes still below
//! the level it raises, so a re-run after an interruption repeats nothing.

use super::gtid_conversion_mysql::PairMove;
use crate::dialect::{Dialect, GtidConsistency, GtidMode, LoggedAfter};
use crate::engine::{Action, Cluster, NodeHandle};
use crate::facts;
use crate::replication_confirm::SourceEndpoint;
use anyhow::{anyhow, bail, Context, Result};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long `enforce_gtid_consistency = WARN` is watched for violations before `ON`.
pub(super) const CONSISTENCY_WATCH: Duration = Duration::from_secs(10);

/// How long anonymous transactions may take to end and to reach the peer.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(300);

/// When this run set `WARN` on each node (its own `NOW(6)`), to read its violations since.
#[derive(Clone, Default)]
pub(super) struct Watch(Arc<Mutex<Vec<Option<WarnSet>>>>);

/// When `WARN` was set on a node: the server's `NOW(6)` and the control host's instant.
type WarnSet = (String, Instant);

/// One node's running GTID state, read now.
struct Running {
    mode: GtidMode,
    consistency: GtidConsistency,
    anonymous: u64,
    executed: String,
    uuid: String,
    now: String,
}

fn running(node: &NodeHandle) -> Result<(Dialect, Running)> {
    let d = facts::dialect(node)?;
    let sql = d
        .gtid_conversion_state_sql()
        .ok_or_else(|| anyhow!("{} has no gtid_mode", d.version()))?;
    let rows = node.with_sql(|q| q.query(&sql))?;
    let row = rows
        .first()
        .ok_or_else(|| anyhow!("{}: the GTID state query returned nothing", node.name))?;
    let get = |c: &str| crate::sql::get(row, c).unwrap_or("").to_string();
    let r = Running {
        mode: GtidMode::parse(&get("mode"))
            .ok_or_else(|| anyhow!("{}: unknown gtid_mode {:?}", node.name, get("mode")))?,
        consistency: GtidConsistency::parse(&get("consistency")).ok_or_else(|| {
            anyhow!(
                "{}: unknown enforce_gtid_consistency {:?}",
                node.name,
                get("consistency")
            )
        })?,
        anonymous: get("anonymous").trim().parse().unwrap_or(0),
        executed: get("executed").split_whitespace().collect(),
        uuid: get("uuid"),
        now: get("now"),
    };
    Ok((d, r))
}

/// The actions of move `m`.
pub(super) fn actions(
    m: PairMove,
    ctx: &super::shared::Ctx,
    names: &[String],
    watch: &Watch,
) -> Vec<Action> {
    match m {
        PairMove::Consistency(GtidConsistency::On) => vec![consistency_on(watch.clone())],
        PairMove::Consistency(c) => vec![consistency_warn(c, watch.clone())],
        PairMove::Mode(level) => vec![mode(level)],
        PairMove::DrainAnonymous => vec![drain_anonymous()],
        PairMove::ConvertReplica(i) => {
            let source = SourceEndpoint::of_node(&ctx.inv, i);
            let confirm = super::replication::confirm_as(source, "gtid-conversion");
            let mut out = vec![convert_replica(i, names)];
            // The confirmation is node i's, whichever node the pair's plan runs on.
            if let Action::Custom(what, f) = confirm {
                out.push(Action::Custom(
                    format!("{}: {what}", names[i]),
                    Box::new(move |c: &Cluster, _| f(c, i)),
                ));
            }
            out
        }
    }
}

/// Raises `enforce_gtid_consistency` to `c` (WARN) on each node below it, noting when.
fn consistency_warn(c: GtidConsistency, watch: Watch) -> Action {
    Action::Custom(
        format!(
            "sql: SET @@GLOBAL.enforce_gtid_consistency = {} (each node below it)",
            c.as_str()
        ),
        Box::new(move |cluster: &Cluster, _| {
            let mut since = vec![None; cluster.nodes.len()];
            for (i, node) in cluster.nodes.iter().enumerate() {
                let (d, r) = running(node)?;
                if r.consistency < c {
                    let sql = d.set_gtid_consistency_sql(c).expect("MySQL");
                    node.with_admin_write(|q| q.exec(&sql))
                        .with_context(|| format!("{}: gtid-conversion", node.name))?;
                    since[i] = Some((r.now, Instant::now()));
                }
            }
            *watch.0.lock().expect("watch lock") = since;
            Ok(())
        }),
    )
}

/// Watches `WARN` for violations, then raises `enforce_gtid_consistency` to ON.
fn consistency_on(watch: Watch) -> Action {
    Action::Custom(
        format!(
            "watch the error log {} s for GTID consistency violations (refuse naming them), \
             then SET @@GLOBAL.enforce_gtid_consistency = ON (each node below it)",
            CONSISTENCY_WATCH.as_secs()
        ),
        Box::new(move |cluster: &Cluster, _| {
            let since = watch.0.lock().expect("watch lock").clone();
            let mut checked = Vec::new();
            for (i, node) in cluster.nodes.iter().enumerate() {
                let (d, r) = running(node)?;
                if r.consistency == GtidConsistency::On {
                    continue;
                }
                // Set this run: watch from then; found at WARN (an earlier run, or the
                // DBA): everything the server logged since it started.
                let from = match since.get(i).cloned().flatten() {
                    Some((at, started)) => {
                        let left = CONSISTENCY_WATCH.saturating_sub(started.elapsed());
                        crate::interrupt::sleep(left)?;
                        at
                    }
                    None => "1970-01-01 00:00:01".to_string(),
                };
                let Some(sql) = d.gtid_consistency_violations_sql(&from) else {
                    bail!(
                        "{}: gtid-conversion: {} keeps no error log table to check \
                         enforce_gtid_consistency = WARN with (8.0.22+)",
                        node.name,
                        d.version()
                    );
                };
                let rows = node.with_sql(|q| q.query(&sql))?;
                if !rows.is_empty() {
                    let seen: Vec<String> = rows
                        .iter()
                        .filter_map(|r| crate::sql::get(r, "data"))
                        .take(3)
                        .map(str::to_string)
                        .collect();
                    bail!(
                        "{n}: gtid-conversion: the error log has {} GTID consistency \
                         violation(s) since {from} ({}); enforce_gtid_consistency stays WARN and \
                         gtid_mode is unchanged. Change the application's statements (the \
                         manual, \"Restrictions on Replication with GTIDs\"), then run \
                         `mhactl bootstrap` again (to watch afresh: SET GLOBAL \
                         enforce_gtid_consistency = OFF on {n} first)",
                        rows.len(),
                        seen.join(" | "),
                        n = node.name
                    );
                }
                checked.push((node, d));
            }
            for (node, d) in checked {
                let sql = d
                    .set_gtid_consistency_sql(GtidConsistency::On)
                    .expect("MySQL");
                node.with_admin_write(|q| q.exec(&sql))
                    .with_context(|| format!("{}: gtid-conversion", node.name))?;
            }
            Ok(())
        }),
    )
}

/// Raises `gtid_mode` to `level` on each node below it, in the cluster's order.
fn mode(level: GtidMode) -> Action {
    Action::Custom(
        format!(
            "sql: SET @@GLOBAL.gtid_mode = {} (each node below it)",
            level.as_str()
        ),
        Box::new(move |cluster: &Cluster, _| {
            for node in &cluster.nodes {
                let (d, r) = running(node)?;
                if r.mode < level {
                    let sql = d.set_gtid_mode_sql(level).expect("MySQL");
                    node.with_admin_write(|q| q.exec(&sql))
                        .with_context(|| format!("{}: gtid-conversion", node.name))?;
                }
            }
            Ok(())
        }),
    )
}

/// Waits until no anonymous transaction is ongoing on either node, then (twice) until each
/// replica executed its source's binary log up to the position read after that.
fn drain_anonymous() -> Action {
    Action::Custom(
        format!(
            "wait (at most {} s) until Ongoing_anonymous_transaction_count is 0 on both \
             nodes and each replica executed its source's binary log past them",
            DRAIN_TIMEOUT.as_secs()
        ),
        Box::new(|cluster: &Cluster, _| {
            for node in &cluster.nodes {
                let mut last = 0;
                let done = crate::poll::until_interruptible(
                    DRAIN_TIMEOUT,
                    Duration::from_millis(200),
                    || {
                        last = running(node)?.1.anonymous;
                        Ok(last == 0)
                    },
                )?;
                if !done {
                    bail!(
                        "{}: gtid-conversion: {last} anonymous transaction(s) still ongoing \
                         after {} s (gtid_mode stays ON_PERMISSIVE; run mhactl bootstrap again)",
                        node.name,
                        DRAIN_TIMEOUT.as_secs()
                    );
                }
            }
            for _round in 0..2 {
                for (j, source) in cluster.nodes.iter().enumerate() {
                    let at = facts::server::binlog_coordinates_fresh(source)?;
                    let replica = cluster.peer(j);
                    let d = facts::dialect(replica)?;
                    let sql = d.pos_wait_sql(&at, DRAIN_TIMEOUT.as_secs());
                    let rows = replica.with_sql(|q| q.query(&sql))?;
                    let r = rows.first().and_then(|r| crate::sql::get(r, "r"));
                    if crate::dialect::parse_pos_wait(r) != crate::dialect::PosWait::Reached {
                        bail!(
                            "{}: gtid-conversion: the replica did not execute {}'s binary log \
                             up to {at} within {} s ({}); gtid_mode stays ON_PERMISSIVE",
                            replica.name,
                            source.name,
                            DRAIN_TIMEOUT.as_secs(),
                            r.unwrap_or("NULL: not replicating")
                        );
                    }
                }
            }
            Ok(())
        }),
    )
}

/// Stops node `i`'s replica, works out the GTID set equal to the coordinates it executed
/// (src/dialect/gtid_conversion_mysql.rs), refuses errant transactions and holes, records
/// its source's pre-replication transactions as applied, switches it to
/// `SOURCE_AUTO_POSITION=1` and starts it. On a failure before the switch it is started
/// again by file and position, unchanged.
fn convert_replica(i: usize, names: &[String]) -> Action {
    Action::Custom(
        format!(
            "{}: stop replication; compute the GTID set it executed by file and position; \
             refuse errant transactions or holes; record its source's transactions from \
             before it started as applied (gtid_purged += ...); switch it to \
             SOURCE_AUTO_POSITION=1; start replication",
            names[i]
        ),
        Box::new(move |cluster: &Cluster, _| {
            let (node, peer) = (&cluster.nodes[i], cluster.peer(i));
            let d = facts::dialect(node)?;
            node.with_sql(|sql| sql.exec(&d.stop_replica_sql()))?;
            let switched = switch_stopped_replica(node, peer, &d);
            let started = node.with_sql(|sql| sql.exec(&d.start_replica_sql()));
            match (switched, started) {
                (Ok(()), Ok(())) => Ok(()),
                (Err(e), started) => Err(e.context(format!(
                    "{}: gtid-conversion: converting the replica from {} to GTIDs failed; it {}",
                    node.name,
                    peer.name,
                    if started.is_ok() {
                        "was started again by file and position, unchanged"
                    } else {
                        "is stopped, by file and position, unchanged"
                    }
                ))),
                (Ok(()), Err(e)) => Err(e.context(format!(
                    "{}: gtid-conversion: the replica positions by GTID but did not start",
                    node.name
                ))),
            }
        }),
    )
}

/// [`convert_replica`] on the stopped replica `node` of `peer`.
fn switch_stopped_replica(node: &NodeHandle, peer: &NodeHandle, d: &Dialect) -> Result<()> {
    let state = facts::fresh::<facts::server::ReplicaStatusFact>(node, &())?;
    let h = d
        .replica_history(&state.rows)?
        .ok_or_else(|| anyhow!("the replica configuration disappeared while converting it"))?;
    if h.gtid.is_some() {
        return Ok(());
    }
    let at = h
        .executed
        .ok_or_else(|| anyhow!("the stopped replica reports no executed position"))?;
    let (pd, source) = running(peer)?;
    let (_, own) = running(node)?;
    if source.mode != GtidMode::On || own.mode != GtidMode::On {
        bail!("gtid_mode is not ON on both nodes");
    }
    // What the source logged after `at`, read after its executed set: covers all of it.
    let logs = peer.with_sql(|q| q.query(&pd.binary_logs_sql()))?;
    let files = crate::dialect::binlog_files_from(&logs, &at);
    if files.is_empty() {
        bail!(
            "{} no longer has the binary log {} the replica executed up to (purged): \
             rebuild it with `mhactl reinit {} --yes-destroy-data`",
            peer.name,
            at.file,
            node.name
        );
    }
    let mut after = LoggedAfter::default();
    for f in &files {
        let from = (*f == at.file).then_some(at.position);
        let rows = peer.with_sql(|q| q.query(&pd.binlog_events_sql(f, from)))?;
        after
            .add_events(&rows)
            .with_context(|| format!("{}'s {f}", peer.name))?;
    }
    if after.anonymous > 0 {
        bail!(
            "{}'s binary log holds {} anonymous transaction(s) after {at}, which the replica \
             has not executed yet and could not receive by GTID",
            peer.name,
            after.anonymous
        );
    }
    let errant = node
        .with_sql(|q| q.query(&crate::dialect::errant_gtids_sql(&source.executed)))?
        .first()
        .and_then(|r| crate::sql::get(r, "errant"))
        .map(|s| s.split_whitespace().collect::<String>())
        .unwrap_or_default();
    if !errant.is_empty() {
        bail!(
            "{} executed transactions that neither it nor {} originated and {} lacks \
             (errant: {errant}); mhactl does not position such a replica by GTID (docs/verify.md, \
             \"Errant transactions\")",
            node.name,
            peer.name,
            peer.name
        );
    }
    // The source's own transactions older than the first this replica received from it
    // are from before replication started (the runbook's account statements): file
    // positioning already put the replica after them.
    let prior = match crate::dialect::first_gtid_sequence(&own.executed, &source.uuid) {
        Some(first) if first > 1 => format!("{}:1-{}", source.uuid, first - 1),
        Some(_) => String::new(),
        None => format!("{}:1-9223372036854775806", source.uuid),
    };
    let sql = d
        .gtid_conversion_gap_sql(&source.executed, &after.set(), &prior)
        .ok_or_else(|| anyhow!("{} is not converted this way", d.version()))?;
    let rows = node.with_sql(|q| q.query(&sql))?;
    let col = |c: &str| {
        rows.first()
            .and_then(|r| crate::sql::get(r, c))
            .map(|s| s.split_whitespace().collect::<String>())
            .unwrap_or_default()
    };
    let (missing, holes) = (col("missing"), col("holes"));
    if !holes.is_empty() {
        bail!(
            "{} lacks transactions {} logged before {at}, where it executed up to by file and \
             position ({holes}): positioned by GTID it would run them now. Compare the data \
             (`mhactl verify`) and rebuild it with `mhactl reinit {} --yes-destroy-data`",
            node.name,
            peer.name,
            node.name
        );
    }
    let mut statements = Vec::new();
    if !missing.is_empty() {
        statements.push(crate::dialect::add_gtid_purged_sql(&missing));
    }
    statements.push(
        d.auto_position_sql()
            .ok_or_else(|| anyhow!("{} has no SOURCE_AUTO_POSITION", d.version()))?,
    );
    // gtid_purged writes mysql.gtid_executed: an admin write (the node may be fenced).
    node.with_admin_write(|q| {
        for s in &statements {
            q.exec(s)?;
        }
        Ok(())
    })
}
