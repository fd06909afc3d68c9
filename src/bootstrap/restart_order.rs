//! The order of a rolling restart on a running pair (issue 16): a restart goes to the
//! passive node first (restart, then wait until it replicates both ways and has executed
//! everything its peer logged); the VIP holder is never restarted while it holds the VIP:
//! it waits until its peer is done, hands the VIP over ([`hand_over_vip`]: a planned
//! switchover), then restarts as the passive node.
//! Where no node holds the VIP (a first bootstrap, keepalived not set up or stopped) no
//! client is served through it, so the servers restart in place, one after the other
//! (`server_config::SERVER_RESTARTS`), as before.

use super::steps::Ctx;
use crate::engine::{Action, Cluster};
use crate::facts;
use crate::replication_confirm::{confirm_replication, SourceEndpoint, CONFIRM_TIMEOUT};
use anyhow::{anyhow, bail, Context, Result};
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
    // The fence lasts as long as the peer's backlog takes to apply: hand over once it
    // lags at most about a second, its durability relaxed meanwhile when it lags more
    // and put back before the VIP moves to it (crate::bootstrap::catch_up).
    let peer_i = 1 - holder;
    let began = std::time::Instant::now();
    let verbose = crate::report::verbose();
    let say = |line: &str| {
        if verbose {
            crate::log_eprintln!(
                "{node}: hand-over at {:>7.3} s: {line}",
                began.elapsed().as_secs_f64()
            );
        }
    };
    let catch_up = super::catch_up::relax_if_behind(cluster, peer_i)?;
    if !catch_up.restore.is_empty() {
        say(&format!("{peer}: durability relaxed for its catch-up"));
    }
    let within = wait_lag_within(cluster, peer_i, super::catch_up::HAND_OVER_LAG_S);
    say(&format!(
        "{peer}: {}",
        match &within {
            Ok(None) => format!("lags at most {} s", super::catch_up::HAND_OVER_LAG_S),
            Ok(Some(lag)) => format!("still lags {lag} s: hand over anyway (longer drain)"),
            Err(e) => format!("lag wait failed: {e:#}"),
        }
    ));
    let within = match within {
        Ok(w) => w,
        Err(e) => {
            catch_up.restore(cluster, peer_i)?;
            return Err(e);
        }
    };
    opts.timeout_s = match within {
        None => CATCH_UP_TIMEOUT.as_secs(),
        Some(_) => DRAIN_TIMEOUT.as_secs(),
    };
    opts.max_lag_s = u64::MAX;
    opts.before_vip_move = catch_up.restore.clone();
    // The engine shows this step's progress; the switchover's own lines would interleave
    // with it, so they are printed only at -v (each step with its duration and the time
    // since the hand-over began: where a write gap comes from); its report is in the
    // error when it fails.
    let switched = crate::switchover::switch_over(cluster, &ctx.inv, &ctx.secrets, &opts, &say);
    // Whatever the switchover did (a refusal, a rollback), the peer gets its values back.
    catch_up.restore(cluster, peer_i)?;
    switched.with_context(|| {
        format!(
            "{node} holds the VIP and needs a restart for {options}: the switchover to {peer} \
                 did not happen, so {node} was not restarted ({peer}'s settings are applied; \
                 re-run bootstrap once the reason is fixed, or run `mhactl switchover` first)"
        )
    })?;
    Ok(())
}

/// Waits (bounded by [`LAG_WAIT`]) until node `i`'s replica lags at most `max_s`
/// seconds, the switchover's limit: right after the passive node's restart its replica
/// works off what the holder logged meanwhile. `Some(lag)`: it did not get there (under
/// a write load as fast as it applies, e.g. its new `sync_binlog = 1` against the hand-built
/// holder's 0, the backlog never drains while writes go on).
fn wait_lag_within(cluster: &Cluster, i: usize, max_s: u64) -> Result<Option<u64>> {
    let node = &cluster.nodes[i];
    let mut lag = None;
    // A signal ends the wait (nothing changed yet).
    let within = crate::poll::until_interruptible(LAG_WAIT, Duration::from_millis(500), || {
        lag = facts::replica_status_fresh(node)?.and_then(|s| s.seconds_behind);
        Ok(lag.is_some_and(|lag| lag <= max_s))
    })?;
    Ok((!within).then(|| lag.unwrap_or(u64::MAX)))
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

/// Where the passive node's restart of this run stands, as its VIP holder waits for it.
/// Kept in this process, in the run's [`Ctx`]: the holder cannot read it from the peer,
/// whose file is already written (its plan `Noop`) while its server is still restarting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PassiveRestart {
    /// Planned: the passive node restarts in this run; its holder must wait.
    Pending,
    /// Restarted, replicating both ways and caught up.
    Done,
    /// Its wait after the restart failed (its own report says why).
    Failed,
}

fn set_passive_restart(ctx: &Ctx, node: usize, state: PassiveRestart) {
    if let Ok(mut states) = ctx.passive_restarts.lock() {
        states[node] = Some(state);
    }
}

fn passive_restart(ctx: &Ctx, node: usize) -> Option<PassiveRestart> {
    ctx.passive_restarts
        .lock()
        .ok()
        .and_then(|states| states[node])
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

/// The action after a restart on a running pair: node `i` replicates from its peer and
/// its peer from it again, each having executed what its source logged (bounded, see
/// [`CONFIRM_TIMEOUT`]). A direction not set up yet (first bootstrap) is not waited for.
/// It marks the passive node's restart done (or failed) for the VIP holder waiting on it.
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
