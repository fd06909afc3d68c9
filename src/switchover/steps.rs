//! The switch itself, step by step, each timed and recorded, each change registered on
//! the undo stack before it is made so that an error, a timeout or a signal puts the
//! pair back as it was: the VIP on the old holder, the old holder writable again (if it
//! was), the hold and release files gone.
//!
//! Order and why (docs/switchover.md has the long form):
//! hold (the fence agent must not unfence the old holder while it is still MASTER) →
//! fence (no application write lands on the old holder from here on) → capture its
//! binary log position *after* the fence (MySQL Shell BUG#30344595: a position read
//! before the fence misses the last writes) → wait on the peer (position wait, bounded)
//! → prove the peer executed exactly up to it and the old holder did not move → release
//! the VIP (track_file → FAULT on the old holder; the peer takes over) and reset the
//! release file once the peer holds it (nopreempt keeps the VIP there) → unfence the new
//! holder only now → end leftover application sessions on the old holder → canary row
//! through the new holder, replicated back → finish.

use super::actions::{
    exec_all, executed, fence, gtid_wait, holds_vip_now, move_back, pos_wait, run, unfence,
    wait_vip_on_unless,
};
use super::gtid_gap;
use super::preflight::{gtid_executed, one_value, read_only, tracking, PairState};
use super::report::{StepRecord, SwitchoverReport};
use super::{SwitchoverOptions, VipRelease};
use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::interrupt::UndoStack;
use crate::inventory::{Inventory, Secrets};
use crate::os::switchover::{self as files, ReleaseTracking};
use anyhow::{bail, Context, Result};
use std::time::{Duration, Instant};

/// Hidden test hook: `MHACTL_SWITCHOVER_FAIL_AT=wait` makes the catch-up wait time out,
/// `=canary` makes the canary fail after the VIP moved, so e2e tests prove the rollback.
pub const FAIL_AT_ENV: &str = "MHACTL_SWITCHOVER_FAIL_AT";

fn forced(step: &str) -> bool {
    std::env::var(FAIL_AT_ENV).is_ok_and(|v| v == step)
}

/// Hidden test hook: `MHACTL_SWITCHOVER_PAUSE_AT=STEP` waits (up to 60 s, a signal ends
/// the wait) before STEP runs, after saying so on stderr, so that an e2e test can send
/// SIGINT/SIGTERM at a known point.
pub const PAUSE_AT_ENV: &str = "MHACTL_SWITCHOVER_PAUSE_AT";

fn pause_before(step: &str) -> Result<()> {
    if std::env::var(PAUSE_AT_ENV).is_ok_and(|v| v == step) {
        crate::log_eprintln!("switchover: paused before {step} ({PAUSE_AT_ENV})");
        crate::interrupt::sleep(Duration::from_secs(60))?;
    }
    Ok(())
}

/// What the steps share.
pub(super) struct Ctx<'a> {
    pub cluster: &'a Cluster,
    pub inv: &'a Inventory,
    pub secrets: &'a Secrets,
    pub opts: &'a SwitchoverOptions,
    pub state: &'a PairState,
    pub old: usize,
    pub new: usize,
    pub say: &'a dyn Fn(&str),
}

impl Ctx<'_> {
    pub(super) fn node(&self, i: usize) -> &NodeHandle {
        &self.cluster.nodes[i]
    }
    pub(super) fn timeout(&self) -> Duration {
        Duration::from_secs(self.opts.timeout_s)
    }
}

/// Runs each step, timing it and recording what it found.
pub(super) struct Recorder<'r> {
    pub report: &'r mut SwitchoverReport,
}

impl Recorder<'_> {
    fn step<T>(
        &mut self,
        ctx: &Ctx,
        name: &str,
        f: impl FnOnce() -> Result<(T, String)>,
    ) -> Result<T> {
        pause_before(name)?;
        crate::interrupt::check()?;
        let t = Instant::now();
        let result = f();
        let duration_s = t.elapsed().as_secs_f64();
        let (value, detail) = match result {
            Ok((v, d)) => (Some(v), d),
            Err(e) => {
                let e = e.context(format!("switchover step {name}"));
                self.report.steps.push(StepRecord {
                    name: name.into(),
                    duration_s,
                    detail: format!("FAILED: {e:#}"),
                });
                return Err(e);
            }
        };
        (ctx.say)(&format!("{name:<10} {duration_s:>7.3} s  {detail}"));
        self.report.steps.push(StepRecord {
            name: name.into(),
            duration_s,
            detail,
        });
        Ok(value.expect("set on Ok"))
    }
}

/// Makes keepalived on each node that does not track the release file track it.
pub(super) fn prepare_tracking(ctx: &Ctx, rec: &mut Recorder) -> Result<()> {
    for i in 0..ctx.cluster.nodes.len() {
        if ctx.state.nodes[i].tracking == ReleaseTracking::Tracked {
            continue;
        }
        let node = ctx.node(i);
        rec.step(ctx, "track", || {
            let (_, services) = facts::os_target(node, ctx.inv.mysql.flavor)?;
            run(
                node,
                &files::track_release_command(
                    &services.reload_command(crate::os::KEEPALIVED_SERVICE),
                ),
            )?;
            crate::poll::until(Duration::from_secs(10), || {
                Ok(tracking(node)? == ReleaseTracking::Tracked)
            })
            .with_context(|| {
                format!(
                    "{}: keepalived does not track {} after a reload",
                    node.name,
                    files::VIP_RELEASE_PATH
                )
            })?;
            Ok((
                (),
                format!(
                    "{}: keepalived reloaded, tracks {}",
                    node.name,
                    files::VIP_RELEASE_PATH
                ),
            ))
        })?;
    }
    Ok(())
}

/// What the forward steps leave for the caller: when the fence was in place (for the
/// measurement) and on which server.
pub(super) struct Fenced {
    pub at: Instant,
}

/// Hold and fence the old holder, wait for the peer, prove, move the VIP, unfence the
/// new holder, end sessions, canary, finish. Every change is registered on `undo` first.
pub(super) fn switch<'a>(
    ctx: &'a Ctx<'a>,
    undo: &UndoStack<'a>,
    rec: &mut Recorder,
    on_fenced: &mut dyn FnMut(),
) -> Result<Fenced> {
    let (old, new) = (ctx.old, ctx.new);
    let (o, n) = (ctx.node(old).name.clone(), ctx.node(new).name.clone());
    let old_ro_start = ctx.state.nodes[old].read_only;
    let new_ro_start = ctx.state.nodes[new].read_only;

    // MySQL logging GTIDs but replicating by file waits by GTID too, without the
    // holder's transactions the peer never receives (read before the fence: gtid_gap.rs).
    let by_gtid = ctx.state.nodes.iter().all(|s| s.gtid_on);
    let gap = if by_gtid {
        None
    } else {
        gtid_gap::file_replica_gap(ctx)?
    };

    // The old holder gives back its own starting state unless the VIP ended elsewhere.
    let restore_old = undo.push(
        format!(
            "remove {} on {o} and restore its write state",
            files::FENCE_HOLD_PATH
        ),
        move || {
            run(ctx.node(old), &files::remove_hold_command())?;
            let keep_fenced = if holds_vip_now(ctx.node(old), ctx.inv)? {
                old_ro_start
            } else {
                new_ro_start
            };
            if !keep_fenced {
                unfence(ctx.cluster, ctx.state, old)?;
            }
            Ok(())
        },
    );
    rec.step(ctx, "hold", || {
        run(ctx.node(old), &files::create_hold_command())?;
        Ok(((), format!("{o}: {} created", files::FENCE_HOLD_PATH)))
    })?;
    let fenced_at = rec.step(ctx, "fence", || {
        fence(ctx.cluster, ctx.state, old)?;
        let at = Instant::now();
        on_fenced();
        Ok((
            at,
            format!(
                "{o}: {}",
                ctx.state.nodes[old].dialect.fence_sql().join("; ")
            ),
        ))
    })?;

    // Capture after the fence, wait, prove; again if the old holder's log still moved
    // (an event replicated from the peer may land after the capture). A pair replicating
    // by GTID waits and proves by GTID (MySQL: its executed position lags by the
    // multi-threaded applier's checkpoint period; MariaDB: MASTER_GTID_WAIT).
    let holder_set = || -> Result<Option<String>> {
        match &gap {
            Some(gap) => Ok(Some(gtid_gap::holder_set_without(ctx, gap)?)),
            None if by_gtid => gtid_executed(ctx.node(old), &ctx.state.nodes[old].dialect),
            None => Ok(None),
        }
    };
    let deadline = Instant::now() + ctx.timeout();
    let captured = loop {
        let (at, gtid) = rec.step(ctx, "capture", || {
            let at = facts::binlog_coordinates_fresh(ctx.node(old))?;
            let gtid = holder_set()?;
            let text = match &gtid {
                Some(g) => format!("{o}: {at}, GTID set {g}"),
                None => format!("{o}: {at}"),
            };
            Ok(((at, gtid), text))
        })?;
        rec.step(ctx, "wait", || {
            if forced("wait") {
                bail!("{n} did not execute {o}'s binary log up to {at} within {} s (forced by {FAIL_AT_ENV})", ctx.opts.timeout_s);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            let detail = match &gtid {
                Some(set) => {
                    gtid_wait(ctx, set, left)?;
                    format!("{n}: executed {o}'s GTID set {set}")
                }
                None => {
                    pos_wait(ctx.cluster, ctx.state, new, old, &at, left)?;
                    format!("{n}: executed up to {at}")
                }
            };
            Ok(((), detail))
        })?;
        let (done, exec) = rec.step(ctx, "prove", || {
            let now = facts::binlog_coordinates_fresh(ctx.node(old))?;
            if let Some(set) = &gtid {
                let sql = ctx.state.nodes[new].dialect.gtid_contained_sql(set);
                if one_value(ctx.node(new), &sql)?.as_deref() != Some("1") {
                    bail!("{n} lacks transactions of {o}'s GTID set {set}");
                }
                let now_set = holder_set()?;
                let done = now == at && now_set.as_deref() == Some(set.as_str());
                let exec = format!(
                    "{o}'s GTID set {set} (all executed on {n}){}",
                    left_out(&gap)
                );
                let detail = if done {
                    format!(
                        "{n} executed {o}'s whole GTID set{}; {o} still at {at}: nothing missing",
                        left_out(&gap)
                    )
                } else {
                    format!("{o} moved from {at} to {now} (replicated events): capture again")
                };
                return Ok(((done, exec), detail));
            }
            let exec = executed(ctx.node(new))?;
            if exec != at && !exec.reached(&at) {
                bail!("{n} executed {o}'s binary log up to {exec}, short of {at}");
            }
            let done = now == at && exec == at;
            let detail = if done {
                format!("{n} executed {exec} = {o}'s position {at}: nothing missing")
            } else {
                format!("{o} moved from {at} to {now} (replicated events): capture again")
            };
            Ok(((done, exec.to_string()), detail))
        })?;
        if done {
            rec.report.peer_executed_position = Some(exec);
            break at;
        }
        if Instant::now() >= deadline {
            bail!(
                "{o}'s binary log kept moving for {} s after its fence",
                ctx.opts.timeout_s
            );
        }
    };
    rec.report.captured_position = Some(captured.to_string());
    if !ctx.opts.before_vip_move.is_empty() {
        rec.step(ctx, "restore", || {
            exec_all(ctx.node(new), &ctx.opts.before_vip_move)?;
            Ok(((), format!("{n}: {}", ctx.opts.before_vip_move.join("; "))))
        })?;
    }

    // Move the VIP.
    let back = undo.push(format!("move the VIP back to {o}"), move || {
        match ctx.opts.release {
            VipRelease::TrackedFile => move_back(ctx, new_ro_start),
            VipRelease::StopKeepalived => super::release::move_back_stopped(ctx),
        }
    });
    // The taking node's priority up to 254 first: it then takes over within ms of the
    // release (its skew time) instead of ~0.65 s; nopreempt keeps it BACKUP until then.
    let boost = ctx.state.nodes[new].conf_has_take;
    if boost {
        rec.step(ctx, "boost", || {
            run(ctx.node(new), &files::set_take_command(files::TAKE_BOOST))?;
            Ok((
                (),
                format!(
                    "{n}: {} > {} (priority 254)",
                    files::TAKE_BOOST,
                    files::VIP_TAKE_PATH
                ),
            ))
        })?;
    }
    let t_release = Instant::now();
    let stopped = ctx.opts.release == VipRelease::StopKeepalived;
    // A stopped keepalived: its stop runs in the background (the peer takes the VIP at
    // its SIGTERM, long before the stop command returns), joined after the unfence.
    let stop_command = if stopped {
        Some(super::release::stop_keepalived_command(ctx)?)
    } else {
        None
    };
    std::thread::scope(|scope| -> Result<()> {
        let old_node = ctx.node(old);
        let mut stop_thread = stop_command.map(|command| {
            scope.spawn(move || {
                run(old_node, &command)?;
                Ok::<f64, anyhow::Error>(t_release.elapsed().as_secs_f64())
            })
        });
        if stop_thread.is_none() {
            rec.step(ctx, "release", || {
                Ok(((), super::release::release_tracked(ctx)?))
            })?;
        }
        // The seconds keepalived's stop took, once it returned (`wait`: wait for it);
        // its error ends the VIP's wait at once.
        let mut stop_returned: Option<f64> = None;
        let mut poll_stop = |wait: bool| -> Result<Option<f64>> {
            match stop_thread.take() {
                Some(h) if wait || h.is_finished() => {
                    stop_returned = Some(h.join().expect("keepalived stop thread panicked")?);
                }
                other => stop_thread = other,
            }
            Ok(stop_returned)
        };
        rec.step(ctx, "move-vip", || {
            let s = wait_vip_on_unless(ctx.cluster, ctx.inv, new, old, ctx.timeout(), &mut || {
                poll_stop(false).map(|_| ())
            })?;
            Ok(((), format!("{n} holds the VIP after {s:.3} s")))
        })?;
        rec.report.vip_moved_s = Some(t_release.elapsed().as_secs_f64());
        rec.step(ctx, "settle", || {
            // A stopped keepalived has no release file to reset: it stays stopped.
            if !stopped {
                run(ctx.node(old), &files::set_release_command(0))?;
            }
            if boost {
                run(ctx.node(new), &files::set_take_command(0))?;
            }
            Ok((
                (),
                format!(
                    "{o}: {}{} ({})",
                    if stopped {
                        "keepalived stays stopped".to_string()
                    } else {
                        format!("0 > {}", files::VIP_RELEASE_PATH)
                    },
                    if boost {
                        format!(", {n}: 0 > {}", files::VIP_TAKE_PATH)
                    } else {
                        String::new()
                    },
                    if stopped {
                        format!(
                            "bootstrap starts it with mhactl's configuration after {o}'s restart"
                        )
                    } else {
                        format!("BACKUP; nopreempt keeps the VIP on {n}")
                    }
                ),
            ))
        })?;
        rec.step(ctx, "unfence", || {
            unfence(ctx.cluster, ctx.state, new)?;
            if read_only(ctx.node(new), &ctx.state.nodes[new].dialect)? {
                bail!(
                    "{n}: still read-only after {}",
                    ctx.state.nodes[new].dialect.unfence_sql().join("; ")
                );
            }
            Ok(((), format!("{n}: writable")))
        })?;
        if stopped {
            rec.step(ctx, "release", || {
                let s = poll_stop(true)?.unwrap_or_default();
                Ok(((), super::release::stopped_detail(&o, s)))
            })?;
        }
        Ok(())
    })?;
    rec.report.writes_blocked_s = Some(fenced_at.elapsed().as_secs_f64());
    rec.report.new_holder = n.clone();

    let killed = rec.step(ctx, "sessions", || end_sessions(ctx))?;
    rec.report.sessions_killed = killed;
    let canary = rec.step(ctx, "canary", || canary(ctx))?;
    rec.report.canary = Some(canary);

    rec.step(ctx, "finish", || {
        // Roles swap: the old holder takes the write state the new one had (fenced as
        // the passive node, or writable when both nodes were).
        if !new_ro_start {
            unfence(ctx.cluster, ctx.state, old)?;
        }
        run(ctx.node(old), &files::remove_hold_command())?;
        let what = if new_ro_start {
            "stays fenced (passive)"
        } else {
            "writable again (both nodes were)"
        };
        Ok((
            (),
            format!("{o}: {what}; {} removed", files::FENCE_HOLD_PATH),
        ))
    })?;
    undo.done(back);
    undo.done(restore_old);
    Ok(Fenced { at: fenced_at })
}

/// The report's note on what the GTID wait left out (`gtid_gap.rs`).
fn left_out(gap: &Option<String>) -> String {
    match gap.as_deref() {
        Some(g) if !g.is_empty() => format!(
            "; left out: {g}, which ran before the peer's replica started and never reaches it"
        ),
        _ => String::new(),
    }
}

/// Ends the old holder's client sessions but mhactl's, replication's and the server's own.
fn end_sessions(ctx: &Ctx) -> Result<(usize, String)> {
    let node = ctx.node(ctx.old);
    // mhactl's own login (this very session among them), not every account with SUPER:
    // an `admin: true` application user bypasses read_only, so its sessions must end.
    let kept = [
        crate::connect::ADMIN_USER,
        ctx.inv.mysql.replication_user.as_str(),
        crate::dialect::FENCE_USER,
        // The peer's fence agent reading this node's client list (tickle ACKs).
        crate::dialect::CLIENT_LIST_USER,
    ];
    let rows = node.with_sql(|s| s.query(&crate::dialect::client_sessions_sql(&kept)))?;
    let mut ended = Vec::new();
    for r in &rows {
        let Some(id) = crate::sql::get(r, "id").and_then(|v| v.parse::<u64>().ok()) else {
            continue;
        };
        // A session that ended by itself meanwhile is fine (ER_NO_SUCH_THREAD).
        let _ = node.with_sql(|s| s.exec(&crate::dialect::kill_connection_sql(id)));
        ended.push(format!(
            "{}@{}",
            crate::sql::get(r, "user").unwrap_or("?"),
            crate::sql::get(r, "host").unwrap_or("?")
        ));
    }
    let detail = if ended.is_empty() {
        format!("{}: no application session left", node.name)
    } else {
        format!("{}: ended {}", node.name, ended.join(", "))
    };
    Ok((ended.len(), detail))
}

/// Writes a canary row on the new holder (checking that the VIP answers from it) and
/// waits until it replicated to the old holder; then drops the table again.
fn canary(ctx: &Ctx) -> Result<(String, String)> {
    if forced("canary") {
        bail!("canary failed (forced by {FAIL_AT_ENV})");
    }
    let (new, old) = (ctx.node(ctx.new), ctx.node(ctx.old));
    let db = crate::schemas::PROBE_DB;
    let existed = !new
        .with_sql(|s| s.query(&crate::dialect::probe_database_exists_sql(db)))?
        .is_empty();
    let token = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0)
    );
    let mut statements = crate::dialect::canary_table_sql(db);
    statements.push(crate::dialect::canary_write_sql(db, &token));
    exec_all(new, &statements)?;
    // The VIP answers from the new holder (asked from the old one, replication login).
    let want = &ctx.state.nodes[ctx.new].server_id;
    let mut vip_note = "the VIP's";
    let via_vip = match facts::server_id_through_vip(
        ctx.cluster,
        ctx.inv,
        &ctx.secrets.replication_password,
        ctx.new,
    ) {
        Ok(id) => id,
        // Bootstrap taking over a pair built by hand: the inventory's replication
        // account is made by a later step. The VIP is on the new holder's interface
        // only (move-vip) and bootstrap's vip-check step logs in through it later.
        // MySQL 8.0+ answers a login of an account it does not have with a decoy
        // authentication plugin (so that a client cannot tell a missing account from a
        // wrong password); on 9.x that can be `sha256_password`, which the client here
        // does not speak, so the login fails before the server's 1045.
        Err(e)
            if ctx.opts.release == VipRelease::StopKeepalived
                && (crate::sql::server_error_code(&e) == Some(1045)
                    || crate::sql::unknown_auth_plugin(&e).is_some()) =>
        {
            vip_note =
                "no login through the VIP yet: the inventory's replication account comes later";
            want.clone()
        }
        Err(e) => return Err(e),
    };
    if &via_vip != want {
        bail!(
            "the VIP answers from server_id {via_vip}, not {} (server_id {want})",
            new.name
        );
    }
    let t = Instant::now();
    crate::poll::until(ctx.timeout(), || {
        Ok(!old
            .with_sql(|s| s.query(&crate::dialect::canary_read_sql(db, &token)))?
            .is_empty())
    })
    .with_context(|| {
        format!(
            "the canary row did not replicate from {} to {}",
            new.name, old.name
        )
    })?;
    let back_s = t.elapsed().as_secs_f64();
    let mut cleanup = vec![crate::dialect::drop_canary_table_sql(db)];
    // A database this run created goes too (unless --measure's probe uses it: it
    // drops it itself).
    if !existed && !ctx.opts.measure {
        cleanup.push(crate::dialect::drop_probe_database_sql(db));
    }
    exec_all(new, &cleanup)?;
    let summary = format!(
        "row {token} written on {} (server_id {want}, {vip_note}), on {} after {back_s:.3} s",
        new.name, old.name
    );
    Ok((summary.clone(), summary))
}
