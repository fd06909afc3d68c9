//! Step `gtid-conversion` (issue 19 item 2; MySQL: gtid_conversion_mysql.rs, the step
//! planned once for the pair): a running MariaDB pair that replicates by
//! binary log file and position, with `replication.positioning: gtid` asked explicitly,
//! converted to GTID positioning online: no restart, the VIP untouched, each replica
//! continuing exactly after what it executed. Per node, in this order (why:
//! src/dialect/gtid_conversion.rs): the node's own `gtid_domain_id` (its server_id), then
//! its replica (stopped; its executed coordinates turned into the source's GTID state
//! there with `BINLOG_GTID_POS`; `gtid_slave_pos` set to it; `MASTER_USE_GTID=slave_pos`;
//! started and confirmed), then `gtid_strict_mode`. Each move is planned from the node's
//! running state, so an interrupted conversion resumes where it stopped and a converted
//! pair plans `Noop`.
//!
//! Runs after `replication` (the replica points at the peer as the inventory's account)
//! and before `replication-tls` and `semi-sync`; `server-config` only writes the option
//! file's GTID lines (`dialect::OptionPath::FileOnly`), so a restart keeps the result.
//! New pairs get all of it from the option file and the replication step: `Noop`.

use super::shared::Ctx;
use crate::engine::{file_diff, Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::replication_confirm::SourceEndpoint;
use anyhow::{anyhow, Result};
use std::sync::Arc;

/// The `gtid-conversion` step.
pub(super) struct GtidConversion(pub(super) Arc<Ctx>);

/// What the step reads of one MariaDB node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct NodeGtid {
    /// The domain this node writes in once converted: its server_id.
    pub want_domain: u32,
    /// The running `gtid_domain_id` (`None`: unreadable).
    pub domain: Option<u32>,
    /// The running `gtid_strict_mode` is ON.
    pub strict: bool,
    /// The replica: `None` none configured, `Some(None)` by file and position,
    /// `Some(Some(mode))` by GTID (`Using_Gtid`).
    pub replica: Option<Option<String>>,
}

/// One change the conversion still has to make on a node, in the order they run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Move {
    /// `SET GLOBAL gtid_domain_id`: new sessions write in the node's own domain.
    Domain(u32),
    /// The replica switches from file and position to `slave_pos` at what it executed.
    ConvertReplica,
    /// `SET GLOBAL gtid_strict_mode = ON`, once nothing positions by file any more.
    StrictMode,
}

/// What is left to do on a node in state `s`, in order (empty: converted, or nothing to
/// convert). Without a replica there is nothing: in a real run the `replication` step
/// before this one has configured it, so only a dry run gets here, with the restart
/// `server-config` plans still to apply the option file's GTID lines.
pub(super) fn moves(s: &NodeGtid) -> Vec<Move> {
    let mut out = Vec::new();
    if s.replica.is_none() {
        return out;
    }
    if s.domain != Some(s.want_domain) {
        out.push(Move::Domain(s.want_domain));
    }
    if s.replica == Some(None) {
        out.push(Move::ConvertReplica);
    }
    if !s.strict {
        out.push(Move::StrictMode);
    }
    out
}

/// The state as lines a dry run's diff compares (before and after the moves).
fn state_lines(domain: Option<u32>, strict: bool, replica: &Option<Option<String>>) -> String {
    let domain = domain.map_or("?".into(), |d| d.to_string());
    let replica = match replica {
        None => "(no replica)".to_string(),
        Some(None) => "No (binary log file and position)".to_string(),
        Some(Some(mode)) => mode.clone(),
    };
    format!(
        "gtid_domain_id = {domain}\nUsing_Gtid = {replica}\ngtid_strict_mode = {}\n",
        if strict { "ON" } else { "OFF" }
    )
}

/// The dry run's diff of a node's running GTID settings.
fn diff(s: &NodeGtid) -> String {
    let after_replica = match &s.replica {
        Some(None) => Some(Some("Slave_Pos".to_string())),
        other => other.clone(),
    };
    file_diff(
        "/(running server: GTID settings)",
        Some(&state_lines(s.domain, s.strict, &s.replica)),
        &state_lines(Some(s.want_domain), true, &after_replica),
    )
}

impl Operation for GtidConversion {
    fn name(&self) -> &'static str {
        "gtid-conversion"
    }
    /// MySQL's conversion steps both servers together (`gtid_mode` one level at a time on
    /// the pair): planned once for the pair (src/bootstrap/steps/gtid_conversion_mysql.rs).
    fn cluster_wide(&self) -> bool {
        self.0.inv.mysql.flavor.family() == crate::inventory::ServerFamily::Mysql
    }
    /// A dry run shows the conversion after server-config's pending option-file lines
    /// (which change no running value).
    fn plans_after_pending(&self) -> bool {
        true
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let d = facts::dialect(node)?;
        if !crate::positioning::by_gtid(inv, &d) {
            return Ok(Plan::Noop(
                "replicas position by binary log file and position (replication.positioning: \
                 file, or an existing file/position pair)"
                    .into(),
            ));
        }
        if d.family() == crate::inventory::ServerFamily::Mysql {
            return super::gtid_conversion_mysql::plan(&self.0, cluster);
        }
        if !d.converts_to_gtid_online() {
            // A file/position pair was refused before any step ran.
            return Ok(Plan::Noop(format!(
                "{}: GTIDs come with the option file, replicas by GTID from the replication step",
                d.version()
            )));
        }
        let number = |name: &str| -> Result<Option<u32>> {
            Ok(facts::variable(node, name)?.and_then(|v| v.trim().parse().ok()))
        };
        let state = facts::get::<facts::server::ReplicaStatusFact>(node, &())?;
        let history = d.replica_history(&state.rows)?;
        let s = NodeGtid {
            want_domain: inv.server_id(i),
            domain: number("gtid_domain_id")?,
            strict: facts::variable(node, "gtid_strict_mode")?
                .is_some_and(|v| crate::dialect::same_running_value(&v, "ON")),
            replica: history.map(|h| h.gtid),
        };
        let todo = moves(&s);
        if s.replica.is_none() {
            return Ok(Plan::Noop(
                "no replica configured yet: the replication step starts it by GTID, the option \
                 file sets the domain and strict mode"
                    .into(),
            ));
        }
        if todo.is_empty() {
            return Ok(Plan::Noop(format!(
                "by GTID: {}",
                state_lines(s.domain, s.strict, &s.replica)
                    .trim_end()
                    .replace('\n', ", ")
            )));
        }
        let peer = cluster.peer(i).name.clone();
        let mut what = Vec::new();
        let mut actions = Vec::new();
        for m in &todo {
            match m {
                Move::Domain(domain) => {
                    let sql = d
                        .set_gtid_domain_sql(*domain)
                        .ok_or_else(|| anyhow!("no GTID domains on {}", d.version()))?;
                    what.push(format!(
                        "gtid_domain_id {} → {domain} (new sessions write in it)",
                        s.domain.map_or("?".into(), |d| d.to_string())
                    ));
                    actions.push(Action::Sql(vec![sql]));
                }
                Move::ConvertReplica => {
                    what.push(format!(
                        "the replica from {peer} positions by GTID (slave_pos) from what it \
                         executed"
                    ));
                    actions.push(convert_replica());
                    actions.push(super::replication::confirm_as(
                        SourceEndpoint::of_node(inv, i),
                        "gtid-conversion",
                    ));
                }
                Move::StrictMode => {
                    let sql = d
                        .set_gtid_strict_mode_sql()
                        .ok_or_else(|| anyhow!("no gtid_strict_mode on {}", d.version()))?;
                    what.push("gtid_strict_mode ON".into());
                    actions.push(Action::Sql(vec![sql]));
                }
            }
        }
        Ok(Plan::Change(Change {
            summary: format!(
                "convert to GTID positioning online (no restart): {}",
                what.join("; ")
            ),
            actions,
            diff: Some(diff(&s)),
        }))
    }
}

/// Stop the replica, read where it executed up to *now* (the plan's reading is stale
/// under writes), ask the source for its GTID state at exactly those coordinates, make
/// the replica position by GTID from there, start it. On any failure before the switch
/// the replica is started again as it was (by file and position).
fn convert_replica() -> Action {
    Action::Custom(
        "stop replication; read the source coordinates it executed up to; ask the peer for \
         its GTID state there (BINLOG_GTID_POS); make that the replica's gtid_slave_pos and \
         switch it to slave_pos; start replication"
            .into(),
        Box::new(|cluster: &Cluster, i| {
            let (node, peer) = (&cluster.nodes[i], cluster.peer(i));
            let (d, pd) = (facts::dialect(node)?, facts::dialect(peer)?);
            let n = &node.name;
            node.with_sql(|sql| sql.exec(&d.stop_replica_sql()))?;
            let switched = (|| -> Result<()> {
                let state = facts::fresh::<facts::server::ReplicaStatusFact>(node, &())?;
                let h = d.replica_history(&state.rows)?.ok_or_else(|| {
                    anyhow!("the replica configuration disappeared while converting it")
                })?;
                if h.gtid.is_some() {
                    return Ok(());
                }
                let at = h
                    .executed
                    .ok_or_else(|| anyhow!("the stopped replica reports no executed position"))?;
                let query = pd
                    .gtid_at_coordinates_sql(&at)
                    .ok_or_else(|| anyhow!("{} has no BINLOG_GTID_POS", pd.version()))?;
                let position = peer
                    .with_sql(|q| q.query(&query))?
                    .first()
                    .and_then(|r| crate::sql::get(r, "gtid"))
                    .map(str::to_string)
                    .ok_or_else(|| {
                        anyhow!(
                            "{} has no GTID position at {at} (BINLOG_GTID_POS is NULL: the \
                             binary log is gone or the position is not an event's start)",
                            peer.name
                        )
                    })?;
                let statements = d
                    .convert_replica_to_gtid_sql(&position)
                    .ok_or_else(|| anyhow!("{} is not converted online", d.version()))?;
                // gtid_slave_pos is a table (mysql.gtid_slave_pos): an admin write.
                node.with_admin_write(|sql| {
                    for s in &statements {
                        sql.exec(s)?;
                    }
                    Ok(())
                })
            })();
            let started = node.with_sql(|sql| sql.exec(&d.start_replica_sql()));
            match (switched, started) {
                (Ok(()), Ok(())) => Ok(()),
                (Err(e), started) => Err(e.context(format!(
                    "{n}: gtid-conversion: converting the replica from {} to GTIDs failed; it {}",
                    peer.name,
                    if started.is_ok() {
                        "was started again by file and position, unchanged"
                    } else {
                        "is stopped, by file and position, unchanged"
                    }
                ))),
                (Ok(_), Err(e)) => Err(e.context(format!(
                    "{n}: gtid-conversion: the replica positions by GTID but did not start"
                ))),
            }
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(domain: u32, replica: Option<Option<&str>>, strict: bool) -> NodeGtid {
        NodeGtid {
            want_domain: 2,
            domain: Some(domain),
            strict,
            replica: replica.map(|r| r.map(str::to_string)),
        }
    }

    /// Each state of an interrupted conversion plans exactly what is left, in order, and
    /// the state each move leaves plans nothing more: a re-plan after apply is `Noop`.
    #[test]
    fn each_intermediate_state_plans_the_next_moves_and_ends_converted() {
        let file = Some(None);
        let gtid = Some(Some("Slave_Pos"));
        // A file/position pair as the runbook builds it: domain 0, no strict mode.
        let mut s = state(0, file, false);
        assert_eq!(
            moves(&s),
            [Move::Domain(2), Move::ConvertReplica, Move::StrictMode]
        );
        // Stopped after the domain.
        s.domain = Some(2);
        assert_eq!(moves(&s), [Move::ConvertReplica, Move::StrictMode]);
        // Stopped after the replica switched.
        s.replica = Some(Some("Slave_Pos".into()));
        assert_eq!(moves(&s), [Move::StrictMode]);
        s.strict = true;
        assert!(moves(&s).is_empty(), "converted: Noop");
        // A new pair (the option file set everything): nothing, with or without its
        // replica yet.
        assert!(moves(&state(2, gtid, true)).is_empty());
        assert!(moves(&state(2, None, true)).is_empty());
        // The option file written, the server not converted: only what differs.
        assert_eq!(moves(&state(2, file, true)), [Move::ConvertReplica]);
        assert_eq!(moves(&state(0, gtid, true)), [Move::Domain(2)]);
        // No replica yet (a dry run of a new pair): the option file's restart sets it all.
        assert!(moves(&state(0, None, false)).is_empty());
        // An unreadable domain is set.
        let mut unknown = state(2, gtid, true);
        unknown.domain = None;
        assert_eq!(moves(&unknown), [Move::Domain(2)]);
    }

    #[test]
    fn the_dry_run_diff_shows_the_running_settings_before_and_after() {
        let d = diff(&state(0, Some(None), false));
        for line in [
            "-gtid_domain_id = 0",
            "+gtid_domain_id = 2",
            "-Using_Gtid = No (binary log file and position)",
            "+Using_Gtid = Slave_Pos",
            "-gtid_strict_mode = OFF",
            "+gtid_strict_mode = ON",
        ] {
            assert!(d.lines().any(|l| l == line), "{line} not in:\n{d}");
        }
    }
}
