//! Step `gtid-conversion` on MySQL (issue 19 item 2): a running file/position pair, with
//! `replication.positioning: gtid` asked explicitly, converted to GTID positioning online
//! (no restart, the VIP untouched). A pair-wide sequence, planned once for the pair (the
//! step is [`crate::engine::Operation::cluster_wide`] on MySQL): `gtid_mode` moves one
//! level at a time and every server must be at a level before any goes further (MySQL
//! 8.4 reference manual, "Enabling GTID Transactions Online"; the statements and why:
//! src/dialect/gtid_conversion_mysql.rs):
//!
//! 1. `enforce_gtid_consistency = WARN` on both, watched for violations, then `ON`;
//! 2. `gtid_mode = OFF_PERMISSIVE` on both, then `ON_PERMISSIVE`;
//! 3. anonymous transactions drained: none ongoing on either, each replica past its
//!    source's binary log position read after that (twice: the second round covers what
//!    each node logged of its peer's transactions while the first ran);
//! 4. `gtid_mode = ON` on both;
//! 5. each replica, one at a time, switched to `SOURCE_AUTO_POSITION=1` at exactly what
//!    it executed, then confirmed replicating.
//!
//! A pair with `gtid_mode = ON` already (MySQL 9.x's default) has only step 5 left. The
//! plan is made from the state it finds (the lowest level of the two servers), so a run
//! stopped half-way resumes there, and a converted pair plans `Noop`. `server-config`
//! (before) wrote `gtid_mode = ON` and `enforce_gtid_consistency = ON` into the option
//! files without a restart (`dialect::OptionPath::FileOnly`), so a restart keeps them.

use super::gtid_conversion_mysql_actions as act;
use crate::dialect::{GtidConsistency, GtidMode};
use crate::engine::{file_diff, Action, Change, Cluster, Plan};
use crate::facts;
use anyhow::{anyhow, Result};

/// What the conversion reads of one MySQL node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct MysqlNode {
    /// `gtid_mode`.
    pub mode: GtidMode,
    /// `enforce_gtid_consistency`.
    pub consistency: GtidConsistency,
    /// The replica: `None` none configured, `Some(false)` by file and position,
    /// `Some(true)` by GTID (`Auto_Position` 1).
    pub replica: Option<bool>,
}

/// One move of the pair-wide sequence, in the order they run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PairMove {
    /// `enforce_gtid_consistency` raised to this level on every node below it (`ON`
    /// after watching for the violations `WARN` logs).
    Consistency(GtidConsistency),
    /// `gtid_mode` raised to this level on every node below it.
    Mode(GtidMode),
    /// Wait until no anonymous transaction is ongoing or unreplicated.
    DrainAnonymous,
    /// Node `i`'s replica switches to `SOURCE_AUTO_POSITION=1`.
    ConvertReplica(usize),
}

/// What is left to do on the pair in state `nodes`, in order (empty: converted, or no
/// replica by file). Every level move applies to the nodes below it, so nodes found at
/// different levels (a run stopped between them) come together first.
pub(super) fn pair_moves(nodes: &[MysqlNode]) -> Vec<PairMove> {
    let mut out = Vec::new();
    if !nodes.iter().any(|n| n.replica == Some(false)) {
        return out;
    }
    let mode = nodes.iter().map(|n| n.mode).min().unwrap_or(GtidMode::On);
    let consistency = nodes
        .iter()
        .map(|n| n.consistency)
        .min()
        .unwrap_or(GtidConsistency::On);
    if mode < GtidMode::On {
        if consistency < GtidConsistency::Warn {
            out.push(PairMove::Consistency(GtidConsistency::Warn));
        }
        if consistency < GtidConsistency::On {
            out.push(PairMove::Consistency(GtidConsistency::On));
        }
        for level in [GtidMode::OffPermissive, GtidMode::OnPermissive] {
            if mode < level {
                out.push(PairMove::Mode(level));
            }
        }
        out.push(PairMove::DrainAnonymous);
        out.push(PairMove::Mode(GtidMode::On));
    }
    for (i, n) in nodes.iter().enumerate() {
        if n.replica == Some(false) {
            out.push(PairMove::ConvertReplica(i));
        }
    }
    out
}

/// The state of `nodes` after `moves` (what a dry run's diff shows as the result).
fn after(nodes: &[MysqlNode], moves: &[PairMove]) -> Vec<MysqlNode> {
    let mut out = nodes.to_vec();
    for m in moves {
        for (i, n) in out.iter_mut().enumerate() {
            match *m {
                PairMove::Consistency(c) => n.consistency = n.consistency.max(c),
                PairMove::Mode(level) => n.mode = n.mode.max(level),
                PairMove::DrainAnonymous => {}
                PairMove::ConvertReplica(j) if j == i => n.replica = Some(true),
                PairMove::ConvertReplica(_) => {}
            }
        }
    }
    out
}

/// The pair's GTID settings as lines a dry run's diff compares.
fn state_lines(names: &[String], nodes: &[MysqlNode]) -> String {
    let mut s = String::new();
    for (name, n) in names.iter().zip(nodes) {
        let replica = match n.replica {
            None => "(no replica)",
            Some(false) => "binary log file and position",
            Some(true) => "GTID (SOURCE_AUTO_POSITION=1)",
        };
        s.push_str(&format!(
            "{name}: enforce_gtid_consistency = {}\n{name}: gtid_mode = {}\n\
             {name}: replica positions by {replica}\n",
            n.consistency.as_str(),
            n.mode.as_str()
        ));
    }
    s
}

/// One line per move, for the plan's summary and `--dry-run`.
fn describe(m: PairMove, names: &[String]) -> String {
    match m {
        PairMove::Consistency(GtidConsistency::On) => format!(
            "enforce_gtid_consistency ON on both (after {} s at WARN with no violation \
             logged)",
            act::CONSISTENCY_WATCH.as_secs()
        ),
        PairMove::Consistency(c) => format!("enforce_gtid_consistency {} on both", c.as_str()),
        PairMove::Mode(level) => format!("gtid_mode {} on both", level.as_str()),
        PairMove::DrainAnonymous => "wait until no anonymous transaction is ongoing and each \
                                     replica executed past them"
            .into(),
        PairMove::ConvertReplica(i) => format!(
            "{}'s replica positions by GTID (SOURCE_AUTO_POSITION=1) from what it executed",
            names[i]
        ),
    }
}

/// The plan for the whole pair (the step is cluster-wide on MySQL).
pub(super) fn plan(ctx: &super::shared::Ctx, cluster: &Cluster) -> Result<Plan> {
    let names: Vec<String> = cluster.nodes.iter().map(|n| n.name.clone()).collect();
    // The replicas first (the replication step read them already): a new or converted
    // pair needs nothing else.
    let mut replicas = Vec::new();
    for node in &cluster.nodes {
        let d = facts::dialect(node)?;
        let state = facts::get::<facts::server::ReplicaStatusFact>(node, &())?;
        replicas.push(d.replica_history(&state.rows)?.map(|h| h.gtid.is_some()));
    }
    if replicas.iter().any(Option::is_none) {
        return Ok(Plan::Noop(
            "no replica configured yet on both nodes: the replication step starts them by \
             GTID, the option file turns GTIDs on"
                .into(),
        ));
    }
    if replicas.iter().all(|r| *r == Some(true)) {
        return Ok(Plan::Noop(
            "both replicas position by GTID (SOURCE_AUTO_POSITION=1)".into(),
        ));
    }
    let mut nodes = Vec::new();
    for (node, replica) in cluster.nodes.iter().zip(replicas) {
        let read = |name: &str| -> Result<String> {
            facts::variable(node, name)?
                .ok_or_else(|| anyhow!("{}: gtid-conversion: no @@{name}", node.name))
        };
        let mode = read("gtid_mode")?;
        let consistency = read("enforce_gtid_consistency")?;
        nodes.push(MysqlNode {
            mode: GtidMode::parse(&mode)
                .ok_or_else(|| anyhow!("{}: unknown gtid_mode {mode:?}", node.name))?,
            consistency: GtidConsistency::parse(&consistency).ok_or_else(|| {
                anyhow!(
                    "{}: unknown enforce_gtid_consistency {consistency:?}",
                    node.name
                )
            })?,
            replica,
        });
    }
    let moves = pair_moves(&nodes);
    if moves.is_empty() {
        return Ok(Plan::Noop(
            state_lines(&names, &nodes).trim_end().replace('\n', ", "),
        ));
    }
    let mut actions: Vec<Action> = Vec::new();
    let watch = act::Watch::default();
    for m in &moves {
        actions.extend(act::actions(*m, ctx, &names, &watch));
    }
    Ok(Plan::Change(Change {
        summary: format!(
            "convert the pair to GTID positioning online (no restart, the VIP stays): {}",
            moves
                .iter()
                .map(|m| describe(*m, &names))
                .collect::<Vec<_>>()
                .join("; ")
        ),
        actions,
        diff: Some(file_diff(
            "/(running servers: GTID settings)",
            Some(&state_lines(&names, &nodes)),
            &state_lines(&names, &after(&nodes, &moves)),
        )),
    }))
}

#[cfg(test)]
#[path = "gtid_conversion_mysql_tests.rs"]
mod tests;
