//! Rolling changes of the servers' settings (issue 16): which option lines of mhactl's
//! option file change and which path each takes (the dialect decides: `SET GLOBAL`, file
//! only, restart), which node may restart when, and the hand-over of the VIP before the
//! VIP holder restarts. The `server-config` step builds its plan from these.
//!
//! The order on a running pair: a node whose changes are all dynamic gets `SET GLOBAL`
//! and the file, no restart. A restart goes to the passive node first (restart, then
//! wait until it replicates both ways and has executed everything its peer logged); the
//! VIP holder is never restarted while it holds the VIP: it waits until its peer is
//! done, hands the VIP over ([`hand_over_vip`]: a planned switchover), then restarts as
//! the passive node.
//! Where no node holds the VIP (a first bootstrap, keepalived not set up or stopped) no
//! client is served through it, so the servers restart in place, one after the other
//! (`server_config::SERVER_RESTARTS`), as before.

use super::steps::Ctx;
use crate::dialect::{Dialect, OptionPath};
use crate::engine::{Action, Cluster};
use crate::facts;
use crate::os::option_files::{self, Line};
use crate::replication_confirm::{confirm_replication, SourceEndpoint, CONFIRM_TIMEOUT};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

/// How long the VIP holder waits for its peer to finish its own change (restart and
/// catch-up both ways, each bounded on their own) before handing the VIP over.
pub(crate) const PEER_WAIT: Duration = Duration::from_secs(300);

/// How long the VIP holder waits, writes going on, for its peer's replica to come
/// within the switchover's lag limit before it hands over anyway with [`DRAIN_TIMEOUT`].
pub(crate) const LAG_WAIT: Duration = Duration::from_secs(60);

/// The longest a hand-over keeps the holder fenced while a peer within the lag limit
/// executes its last writes (and the VIP may take to move).
pub(crate) const CATCH_UP_TIMEOUT: Duration = Duration::from_secs(30);

/// The longest a hand-over keeps the holder fenced while a peer that lagged catches up
/// (the switchover's own bound is 10 s): writes through the VIP wait meanwhile.
pub(crate) const DRAIN_TIMEOUT: Duration = Duration::from_secs(120);

/// One option whose line changes in mhactl's option file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OptionChange {
    /// Option group (`mysqld`, `client`, ...).
    pub group: String,
    /// Normalised option name.
    pub key: String,
    /// Value(s) in the file on the node, comma-joined (`None`: not set).
    pub from: Option<String>,
    /// Value(s) wanted (`None`: the line goes).
    pub to: Option<String>,
    /// How it reaches the running server.
    pub path: OptionPath,
}

impl OptionChange {
    /// `sync_binlog 1 → 0: SET GLOBAL (no restart)`.
    pub fn describe(&self) -> String {
        format!("{}: {}", self.values(), self.path.label())
    }

    /// `sync_binlog 1 → 0`.
    pub fn values(&self) -> String {
        // A password line's value is a secret, on either side of the change: never
        // shown (a hand-written [client] password was printed by a dry run, found by
        // tests/e2e/secrets.rs).
        let secret = self.key.contains("password");
        let show = |v: &Option<String>| match v {
            None => "(unset)".to_string(),
            Some(_) if secret => "(secret)".to_string(),
            Some(v) => v.clone(),
        };
        let group = if self.group == "mysqld" {
            String::new()
        } else {
            format!("[{}] ", self.group)
        };
        format!(
            "{group}{} {} → {}",
            self.key,
            show(&self.from),
            show(&self.to)
        )
    }

    /// The integer a `SET GLOBAL` sets (only [`OptionPath::SetGlobal`] changes have one).
    fn integer(&self) -> Option<u64> {
        self.to.as_deref().and_then(|v| v.parse().ok())
    }
}

/// The option lines that differ between the file on the node (`current`, `None`: no
/// file) and the wanted one, in the wanted file's order, each with its path. Comments
/// and blank lines are not options: a change of only those is written without a restart.
pub(crate) fn option_changes(
    d: &Dialect,
    current: Option<&str>,
    wanted: &str,
) -> Vec<OptionChange> {
    let v = d.version();
    let settings = |text: &str| {
        let mut map: BTreeMap<(String, String), Vec<Option<String>>> = BTreeMap::new();
        let mut order = Vec::new();
        for line in option_files::parse(text) {
            if let Line::Setting { group, key, value } = line {
                let k = (group, key);
                if !map.contains_key(&k) {
                    order.push(k.clone());
                }
                map.entry(k).or_default().push(value);
            }
        }
        (map, order)
    };
    let (old, old_order) = settings(current.unwrap_or(""));
    let (new, new_order) = settings(wanted);
    let joined = |values: Option<&Vec<Option<String>>>| {
        values.map(|vs| {
            vs.iter()
                .map(|v| v.clone().unwrap_or_else(|| "ON".into()))
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    let mut out = Vec::new();
    let removed = old_order.into_iter().filter(|k| !new.contains_key(k));
    for k in new_order.into_iter().chain(removed) {
        let (a, b) = (old.get(&k), new.get(&k));
        if a == b {
            continue;
        }
        let (group, key) = k;
        let server_group = option_files::server_reads_group(&group, v.flavor, v.major, v.minor);
        let single = |vs: Option<&Vec<Option<String>>>| vs.is_none_or(|vs| vs.len() == 1);
        let path = if single(a) && single(b) {
            d.option_change_path(
                server_group,
                &group,
                &key,
                b.and_then(|vs| vs[0].as_deref()),
            )
        } else if server_group {
            // A list option (filters, plugins): the server reads the whole list at start.
            OptionPath::Restart
        } else {
            d.option_change_path(server_group, &group, &key, None)
        };
        out.push(OptionChange {
            from: joined(a),
            to: joined(b),
            group,
            key,
            path,
        });
    }
    out
}

/// A line that needs a restart in general does not when the running server already has
/// the wanted value (a hand edit of the file, a `SET GLOBAL` by someone): writing the file
/// makes file and server agree, and a restart would change nothing. One query for all.
pub(crate) fn credit_running_values(
    node: &crate::engine::NodeHandle,
    d: &Dialect,
    changes: Vec<OptionChange>,
) -> Result<Vec<OptionChange>> {
    let v = d.version();
    let candidate = |c: &OptionChange| {
        c.path == OptionPath::Restart
            && c.to.as_deref().is_some_and(|to| !to.contains(','))
            && option_files::server_reads_group(&c.group, v.flavor, v.major, v.minor)
            && d.running_value_reads_as_written(&c.key)
    };
    let names: Vec<String> = changes
        .iter()
        .filter(|c| candidate(c))
        .map(|c| c.key.clone())
        .collect();
    if names.is_empty() {
        return Ok(changes);
    }
    let running = facts::get::<crate::facts::tables::GlobalVariables>(node, &names)?;
    Ok(changes
        .into_iter()
        .map(|mut c| {
            let now = running
                .iter()
                .find(|(name, _)| *name == c.key)
                .and_then(|(_, value)| value.as_deref());
            if let (true, Some(now), Some(to)) = (candidate(&c), now, c.to.as_deref()) {
                if crate::dialect::same_running_value(now, to) {
                    c.path = OptionPath::FileOnly("the running server already has this value");
                }
            }
            c
        })
        .collect())
}

/// Which node a restart of node `i` is: decides the order of a rolling restart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum RestartRole {
    /// Its peer holds the VIP: it restarts first, then waits until replication caught up.
    Passive { holder: String },
    /// It holds the VIP: it restarts only after the VIP moved to its peer, through
    /// mhactl's release file, or (`stop_keepalived`: its keepalived.conf is not mhactl's,
    /// e.g. a pair built by hand) by stopping its keepalived after the same fence and
    /// catch-up ([`crate::switchover::VipRelease`]).
    VipHolder { stop_keepalived: bool },
    /// No node holds the VIP (nothing served through it yet): restart in place, one
    /// server after the other.
    NoVip,
}

impl RestartRole {
    /// How the plan names the path.
    pub fn label(&self) -> String {
        match self {
            RestartRole::Passive { holder } => {
                format!("restart (passive first: {holder} holds the VIP)")
            }
            RestartRole::VipHolder {
                stop_keepalived: false,
            } => "restart after switchover (VIP holder)".into(),
            RestartRole::VipHolder {
                stop_keepalived: true,
            } => "restart after switchover by stopping its keepalived (VIP holder; its \
                  keepalived.conf is not mhactl's, so it tracks no release file)"
                .into(),
            RestartRole::NoVip => {
                "restart (no node holds the VIP: one server after the other)".into()
            }
        }
    }
}

/// Node `i`'s role in a rolling restart, from who holds the VIP now. Both holding it (a
/// split brain) makes each a VIP holder: neither restarts in place.
/// Not knowing is an error: a server is never restarted while it might serve the VIP.
pub(crate) fn restart_role(cluster: &Cluster, ctx: &Ctx, i: usize) -> Result<RestartRole> {
    let inv = &ctx.inv;
    let peer = cluster.peer(i);
    let holds = |node: &crate::engine::NodeHandle| {
        facts::holds_vip(node, inv).with_context(|| {
            format!(
                "cannot tell whether {} holds the VIP {} (on {}), so no server restarts",
                node.name, inv.vip.address, inv.vip.interface
            )
        })
    };
    Ok(if holds(&cluster.nodes[i])? {
        RestartRole::VipHolder {
            stop_keepalived: !keepalived_tracks_release(&cluster.nodes[i], inv)?,
        }
    } else if holds(peer)? {
        RestartRole::Passive {
            holder: peer.name.clone(),
        }
    } else {
        RestartRole::NoVip
    })
}

/// Whether `node`'s keepalived.conf tracks mhactl's release file (written by mhactl
/// since switchover landed), so that a switchover can move the VIP through it.
fn keepalived_tracks_release(
    node: &crate::engine::NodeHandle,
    inv: &crate::inventory::Inventory,
) -> Result<bool> {
    let (target, _) = facts::os_target(node, inv.mysql.flavor)?;
    Ok(
        facts::host::rendered_file(node, target.keepalived_conf_path())?
            .is_some_and(|c| c.contains(crate::os::switchover::VIP_RELEASE_TRACK_NAME)),
    )
}

/// The VIP holder `holder` needs a restart for `options`: move the VIP to its peer
/// first with a planned switchover ([`crate::switchover::switch_over`]: fence, wait
/// until the peer executed everything, move the VIP, unfence the peer, canary), so
/// that the restart does not interrupt clients. On `Ok` the caller restarts `holder`,
/// which must then no longer hold the VIP (checked). A refused or rolled-back switchover
/// leaves the pair as it was (the peer's settings applied, this node untouched): the
/// error says why, and a re-run finishes.
pub(crate) fn hand_over_vip(
    cluster: &Cluster,
    ctx: &Ctx,
    holder: usize,
    options: &str,
) -> Result<()> {
    let node = &cluster.nodes[holder].name;
    let peer = &cluster.peer(holder).name;
    // A keepalived that tracks no release file of mhactl's (a pair built by hand, an
    // older mhactl) lets go of the VIP by stopping: the same fence, catch-up and proof
    // first (docs/switchover.md, "Taking over a pair").
    let release = if keepalived_tracks_release(&cluster.nodes[holder], &ctx.inv)? {
        crate::switchover::VipRelease::TrackedFile
    } else {
        crate::switchover::VipRelease::StopKeepalived
    };
    let mut opts = crate::switchover::SwitchoverOptions {
        to: Some(peer.clone()),
        release,
        ..Default::default()
    };
    // A peer that does not catch up while writes go on catches up once the holder is
    // fenced: the hand-over then waits longer for it (writes wait meanwhile, bounded;
    // past the bound the switchover rolls back and nothing restarts). This wait replaces
    // the switchover's own lag refusal (`Seconds_Behind_Master` jumps by a few seconds
    // under load: a 6 s reading right after a 5 s one refused it on the lab).
    opts.timeout_s = match wait_lag_within(cluster, 1 - holder, opts.max_lag_s)? {
        None => CATCH_UP_TIMEOUT.as_secs(),
        Some(_) => DRAIN_TIMEOUT.as_secs(),
    };
    opts.max_lag_s = u64::MAX;
    // The engine shows this step's progress; the switchover's own lines would interleave
    // with it, so they are not printed (its report is in the error when it fails).
    crate::switchover::switch_over(cluster, &ctx.inv, &ctx.secrets, &opts, &|_| {}).with_context(
        || {
            format!(
                "{node} holds the VIP and needs a restart for {options}: the switchover to {peer} \
                 did not happen, so {node} was not restarted ({peer}'s settings are applied; \
                 re-run bootstrap once the reason is fixed, or run `mhactl switchover` first)"
            )
        },
    )?;
    Ok(())
}

/// Waits (bounded by [`LAG_WAIT`]) until node `i`'s replica lags at most `max_s`
/// seconds, the switchover's limit: right after the passive node's restart its replica
/// works off what the holder logged meanwhile. `Some(lag)`: it did not get there (under
/// a write load as fast as it applies, e.g. its new `sync_binlog = 1` against the hand-built
/// holder's 0, the backlog never drains while writes go on).
fn wait_lag_within(cluster: &Cluster, i: usize, max_s: u64) -> Result<Option<u64>> {
    let node = &cluster.nodes[i];
    let deadline = std::time::Instant::now() + LAG_WAIT;
    loop {
        // A signal ends the wait (nothing changed yet); poll::until would swallow it.
        crate::interrupt::check()?;
        let lag = facts::replica_status_fresh(node)?.and_then(|s| s.seconds_behind);
        if lag.is_some_and(|lag| lag <= max_s) {
            return Ok(None);
        }
        if std::time::Instant::now() >= deadline {
            return Ok(Some(lag.unwrap_or(u64::MAX)));
        }
        crate::interrupt::sleep(Duration::from_millis(500))?;
    }
}

/// The holder's first action: wait until the peer finished its own change of this step
/// (`peer_done`: its plan is `Noop`) and replicates both ways, then hand the VIP over;
/// the restart that follows must not find the VIP still here.
pub(crate) fn hand_over_first(
    ctx: Arc<Ctx>,
    options: String,
    peer_done: impl Fn(&Cluster, usize) -> Result<bool> + Send + Sync + 'static,
) -> Action {
    Action::Custom(
        "wait until the peer has its settings and replicates both ways, then hand the VIP over \
         to it (switchover) before restarting this node"
            .into(),
        Box::new(move |cluster: &Cluster, i| {
            let peer = cluster.peer(i);
            let mut waited = None;
            let mut peer_failed = false;
            crate::poll::until(PEER_WAIT, || {
                if facts::holds_vip(peer, &ctx.inv)? {
                    waited = Some(if facts::holds_vip(&cluster.nodes[i], &ctx.inv)? {
                        "both nodes hold the VIP; restart neither (fix keepalived, see `mhactl status`)"
                    } else {
                        "the VIP moved to the peer while waiting (keepalived moved it); run bootstrap \
                         again: this node then restarts as the passive one"
                    });
                    return Ok(true);
                }
                match peer_change(&ctx, peer.index, || peer_done(cluster, peer.index))? {
                    PeerChange::Pending => Ok(false),
                    PeerChange::Finished => Ok(true),
                    // Stop at once: an error here would only count as "not yet".
                    PeerChange::Failed => {
                        peer_failed = true;
                        Ok(true)
                    }
                }
            })
            .map_err(|e| {
                anyhow!(
                    "{}: server-config: {} did not finish its own settings change: {e:#}",
                    cluster.nodes[i].name,
                    peer.name
                )
            })?;
            if peer_failed {
                bail!(
                    "{}: server-config: {}'s restart did not finish (see its own server-config \
                     line); this node keeps the VIP and was not restarted",
                    cluster.nodes[i].name,
                    peer.name
                );
            }
            if let Some(why) = waited {
                bail!("{}: server-config: {why}", cluster.nodes[i].name);
            }
            wait_replicating_both_ways(cluster, &ctx, i)?;
            hand_over_vip(cluster, &ctx, i, &options)?;
            if facts::vip_holders(cluster, &ctx.inv)?.contains(&i) {
                bail!(
                    "{}: server-config: still holds the VIP after the hand-over; not restarting it",
                    cluster.nodes[i].name
                );
            }
            Ok(())
        }),
    )
}

/// Where the peer's own change of this step stands, as its VIP holder polls it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PeerChange {
    /// Not finished: planned, restarting, or catching up.
    Pending,
    /// Its settings are in place and (if it restarted) it replicates both ways again.
    Finished,
    /// Its restart or the wait after it failed.
    Failed,
}

/// The peer's change: from its restart's state when it restarts in this run, else from
/// `peer_done` (its plan is `Noop`). The peer plans concurrently, and a plan of it read
/// after it wrote its file looks done while its restart is still to come (the file is
/// the wanted one, and the running values the plan compares may already match): it
/// marks the restart `Pending` before writing, so the state is read again after
/// `peer_done` (on the lab the holder once handed the VIP over while the peer restarted).
pub(crate) fn peer_change(
    ctx: &Arc<Ctx>,
    peer: usize,
    peer_done: impl FnOnce() -> Result<bool>,
) -> Result<PeerChange> {
    let state = match passive_restart(ctx, peer) {
        Some(state) => state,
        None => {
            if !peer_done()? {
                return Ok(PeerChange::Pending);
            }
            match passive_restart(ctx, peer) {
                Some(state) => state,
                None => return Ok(PeerChange::Finished),
            }
        }
    };
    Ok(match state {
        PassiveRestart::Pending => PeerChange::Pending,
        PassiveRestart::Done => PeerChange::Finished,
        PassiveRestart::Failed => PeerChange::Failed,
    })
}

/// The action after a restart on a running pair: node `i` replicates from its peer and
/// its peer from it again, each having executed what its source logged (bounded, see
/// [`CONFIRM_TIMEOUT`]). A direction not set up yet (first bootstrap) is not waited for.
/// Where the passive node's restart of this run stands, as its VIP holder waits for it.
/// Kept in this process, keyed by the run's [`Ctx`] and the node: the holder cannot
/// read it from the peer, whose file is already written (its plan `Noop`) while its
/// server is still restarting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PassiveRestart {
    /// Planned: the passive node restarts in this run; its holder must wait.
    Pending,
    /// Restarted, replicating both ways and caught up.
    Done,
    /// Its wait after the restart failed (its own report says why).
    Failed,
}

static PASSIVE_RESTARTS: std::sync::Mutex<BTreeMap<(usize, usize), PassiveRestart>> =
    std::sync::Mutex::new(BTreeMap::new());

fn run_key(ctx: &Arc<Ctx>, node: usize) -> (usize, usize) {
    (Arc::as_ptr(ctx) as usize, node)
}

fn set_passive_restart(ctx: &Arc<Ctx>, node: usize, state: PassiveRestart) {
    if let Ok(mut map) = PASSIVE_RESTARTS.lock() {
        map.insert(run_key(ctx, node), state);
    }
}

fn passive_restart(ctx: &Arc<Ctx>, node: usize) -> Option<PassiveRestart> {
    PASSIVE_RESTARTS
        .lock()
        .ok()
        .and_then(|map| map.get(&run_key(ctx, node)).copied())
}

/// Called when the passive node's plan restarts it: from then on its VIP holder waits
/// for [`wait_caught_up`] to finish rather than for the peer's plan to be `Noop`.
pub(crate) fn passive_restart_planned(ctx: &Arc<Ctx>, node: usize) {
    set_passive_restart(ctx, node, PassiveRestart::Pending);
}

/// `inner` (one of the passive node's restart actions), marking the restart failed when
/// it fails, so that the VIP holder waiting for it stops at once instead of timing out.
pub(crate) fn failing_passive_restart(ctx: Arc<Ctx>, inner: Action) -> Action {
    Action::Custom(
        inner.describe(),
        Box::new(move |cluster: &Cluster, i| {
            crate::engine::execute(cluster, &cluster.nodes[i], &inner).inspect_err(|_| {
                set_passive_restart(&ctx, i, PassiveRestart::Failed);
            })
        }),
    )
}

pub(crate) fn wait_caught_up(ctx: Arc<Ctx>) -> Action {
    Action::Custom(
        "wait until this node replicates both ways and has caught up".into(),
        Box::new(move |cluster: &Cluster, i| {
            let result = wait_replicating_both_ways(cluster, &ctx, i);
            let state = if result.is_ok() {
                PassiveRestart::Done
            } else {
                PassiveRestart::Failed
            };
            set_passive_restart(&ctx, i, state);
            result
        }),
    )
}

fn wait_replicating_both_ways(cluster: &Cluster, ctx: &Ctx, i: usize) -> Result<()> {
    for n in [i, 1 - i] {
        if facts::replica_status_fresh(&cluster.nodes[n])?.is_none() {
            continue;
        }
        let source = SourceEndpoint::of_node(&ctx.inv, n);
        confirm_replication(cluster, n, &source, "server-config", CONFIRM_TIMEOUT)?;
    }
    Ok(())
}

/// `SET GLOBAL` of the dynamic changes, each checked against the running value, then
/// `write` (the option file); if writing fails, the previous values are set back so that
/// the running server and the file never disagree after a failure.
pub(crate) fn set_global_then(changes: &[OptionChange], write: Action) -> Result<Action> {
    let dynamic: Vec<(String, u64, Option<u64>)> = changes
        .iter()
        .filter(|c| c.path == OptionPath::SetGlobal)
        .map(|c| {
            let to = c
                .integer()
                .ok_or_else(|| anyhow!("{}: no integer value to set", c.key))?;
            let from = c.from.as_deref().and_then(|v| v.parse().ok());
            Ok((c.key.clone(), to, from))
        })
        .collect::<Result<_>>()?;
    let list = dynamic
        .iter()
        .map(|(k, v, _)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let what = if dynamic.is_empty() {
        format!("{} (no restart)", write.describe())
    } else {
        format!(
            "`SET GLOBAL {list}` and check the running values, then {} (no restart)",
            write.describe()
        )
    };
    Ok(Action::Custom(
        what,
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            let d = facts::dialect(node)?;
            let set = |values: &[(String, u64)]| -> Result<()> {
                let statements = values
                    .iter()
                    .map(|(k, v)| d.set_global_integer_sql(k, *v))
                    .collect::<Result<Vec<_>>>()?;
                node.with_sql(|sql| {
                    for s in &statements {
                        sql.exec(s).with_context(|| s.clone())?;
                    }
                    Ok(())
                })
            };
            let wanted: Vec<(String, u64)> =
                dynamic.iter().map(|(k, v, _)| (k.clone(), *v)).collect();
            // On any failure the previous values go back: the running server and the
            // file never disagree in a way a re-run would not see (it compares files).
            let undo = |e: anyhow::Error| -> anyhow::Error {
                if dynamic.is_empty() {
                    // Nothing was set: the file's own error says what was put back.
                    return anyhow!("{}: server-config: {e:#}", node.name);
                }
                let previous: Vec<(String, u64)> = dynamic
                    .iter()
                    .filter_map(|(k, _, from)| from.map(|f| (k.clone(), f)))
                    .collect();
                let undone = match set(&previous) {
                    Ok(()) => "the previous running values were set back".to_string(),
                    Err(u) => {
                        format!("setting the previous running values back failed too: {u:#}")
                    }
                };
                anyhow!("{}: server-config: {e:#}; {undone}", node.name)
            };
            set(&wanted)
                .and_then(|()| check_running(node, &wanted))
                .map_err(undo)?;
            crate::engine::execute(cluster, node, &write).map_err(undo)?;
            Ok(())
        }),
    ))
}

/// The running values after `SET GLOBAL`: what the server reports must mean the value set.
fn check_running(node: &crate::engine::NodeHandle, wanted: &[(String, u64)]) -> Result<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = wanted.iter().map(|(k, _)| k.clone()).collect();
    let running = facts::fresh::<crate::facts::tables::GlobalVariables>(node, &names)?;
    for ((name, value), (_, now)) in wanted.iter().zip(&running) {
        let now = now.as_deref().unwrap_or("(no such variable)");
        if !crate::dialect::same_running_value(now, &value.to_string()) {
            bail!("after SET GLOBAL {name} = {value} the server reports {now}; the option file was not changed");
        }
    }
    Ok(())
}
