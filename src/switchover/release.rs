//! How the old holder lets go of the VIP once the peer has every write: through
//! mhactl's tracked release file (the switchover command, a pair mhactl configured), or
//! by stopping the old holder's keepalived (bootstrap taking over a pair whose
//! keepalived.conf mhactl did not write, e.g. built by hand from the runbook: that
//! keepalived tracks no file of mhactl's, so the release file cannot move the VIP).
//!
//! Why stopping keepalived is safe and short there: keepalived sends a priority-0
//! advertisement when it stops, and the BACKUP peer takes the VIP after its skew time
//! ((256 - priority) / 256 s, ~0.65 s at the runbook's priority 90) instead of the
//! master-down interval; the old holder drops the VIP as it stops, so the VIP is never
//! on both nodes. keepalived stays stopped on the old holder: its server restarts next
//! (as the passive node), and bootstrap's `keepalived` step then starts keepalived with
//! mhactl's configuration (both nodes BACKUP with nopreempt: the VIP stays where it is).

use super::actions::{holds_vip_now, run, unfence};
use super::steps::Ctx;
use crate::facts;
use crate::os::KEEPALIVED_SERVICE;
use anyhow::{bail, Result};
use std::time::{Duration, Instant};

/// How the VIP leaves the old holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VipRelease {
    /// Write 1 into mhactl's tracked release file (FAULT), 0 once the peer holds it.
    #[default]
    TrackedFile,
    /// Stop keepalived on the old holder and leave it stopped (bootstrap starts it
    /// again with mhactl's configuration after the old holder's restart).
    StopKeepalived,
}

/// The `release` step of [`VipRelease::TrackedFile`]: the old holder goes to FAULT; the
/// detail for the report.
pub(super) fn release_tracked(ctx: &Ctx) -> Result<String> {
    let o = ctx.node(ctx.old);
    run(o, &crate::os::switchover::set_release_command(1))?;
    Ok(format!(
        "{}: 1 > {} (FAULT)",
        o.name,
        crate::os::switchover::VIP_RELEASE_PATH
    ))
}

/// The command that stops keepalived on the old holder ([`VipRelease::StopKeepalived`]).
/// The switchover runs it in the background: keepalived sends its priority-0
/// advertisement (and drops the VIP) as soon as it gets SIGTERM, while the stop command
/// returns only once the process has exited, which took 2.5 s on the MySQL lab's
/// daemonless `systemctl` (its polling), all of it time the fenced pair took no write.
pub(super) fn stop_keepalived_command(ctx: &Ctx) -> Result<String> {
    let (_, services) = facts::os_target(ctx.node(ctx.old), ctx.inv.mysql.flavor)?;
    Ok(services.stop_command(KEEPALIVED_SERVICE))
}

/// The `release` step's detail once keepalived's stop returned, `s` seconds after it began.
pub(super) fn stopped_detail(old: &str, s: f64) -> String {
    format!(
        "{old}: keepalived stopped, its stop returned after {s:.3} s (its keepalived.conf is \
         not mhactl's: priority-0 advertisement, the peer takes over after its skew time; the \
         VIP's move and the unfence did not wait for the stop)"
    )
}

/// The rollback of a [`VipRelease::StopKeepalived`] release: keepalived runs again on
/// the old holder. Where the VIP is back on (or never left) the old holder, done. Where
/// the peer took it, it stays there: the peer executed every write of the old holder
/// (proved before the release), so it is made writable; moving it back would need a
/// second keepalived stop on a pair that just failed once.
pub(super) fn move_back_stopped(ctx: &Ctx) -> Result<()> {
    let (old, new) = (ctx.old, ctx.new);
    let (o, n) = (ctx.node(old), ctx.node(new));
    let (_, services) = facts::os_target(o, ctx.inv.mysql.flavor)?;
    if !facts::service_active_fresh(o, services, KEEPALIVED_SERVICE)? {
        run(o, &services.start_command(KEEPALIVED_SERVICE))?;
    }
    // keepalived starts as BACKUP: it takes the VIP back after the master-down interval
    // when nobody else holds it (a few seconds), never while the peer does (nopreempt).
    let t = Instant::now();
    let on_new = loop {
        let (a, b) = (holds_vip_now(o, ctx.inv)?, holds_vip_now(n, ctx.inv)?);
        if a && b {
            bail!("the VIP is on both nodes: check keepalived on both");
        }
        if a || b {
            break b;
        }
        if t.elapsed() > ctx.timeout() + Duration::from_secs(5) {
            bail!(
                "no node holds the VIP after keepalived started again on {}",
                o.name
            );
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    if on_new {
        unfence(ctx.cluster, ctx.state, new)?;
        bail!(
            "the VIP stays on {} (writable: it executed every write of {}); {}'s keepalived runs again as BACKUP",
            n.name,
            o.name,
            o.name
        );
    }
    Ok(())
}

/// The dry run's line for the release.
pub(super) fn plan_line(
    ctx_old: &str,
    ctx_new: &str,
    release: VipRelease,
    timeout_s: u64,
) -> String {
    match release {
        VipRelease::TrackedFile => format!(
            "{ctx_old}: write 1 into {} (FAULT: the VIP moves to {ctx_new}), wait up to {timeout_s} s, then 0 (and {ctx_new}'s {} back to 0)",
            crate::os::switchover::VIP_RELEASE_PATH,
            crate::os::switchover::VIP_TAKE_PATH
        ),
        VipRelease::StopKeepalived => format!(
            "{ctx_old}: stop keepalived (its keepalived.conf is not mhactl's), wait up to {timeout_s} s \
             until the VIP is on {ctx_new} only; keepalived stays stopped until bootstrap's keepalived step"
        ),
    }
}
