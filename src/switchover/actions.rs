//! The single actions switchover's steps and its rollback are made of: a command or
//! statements on one node, the fence and unfence (checked), waiting for the VIP, the
//! position and GTID waits, and handing the VIP back (the rollback after the release).

use super::preflight::{one_value, read_only, PairState};
use super::steps::Ctx;
use crate::dialect::{BinlogCoordinates, PosWait};
use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::inventory::Inventory;
use crate::os::switchover as files;
use crate::transport::RemoteCommand;
use anyhow::{anyhow, bail, Context, Result};
use std::time::{Duration, Instant};

pub(super) fn run(node: &NodeHandle, script: &str) -> Result<String> {
    node.transport
        .run_ok(&RemoteCommand::new(script))
        .with_context(|| format!("{}: {script}", node.name))
}

pub(super) fn exec_all(node: &NodeHandle, statements: &[String]) -> Result<()> {
    node.with_sql(|s| {
        for stmt in statements {
            s.exec(stmt)?;
        }
        Ok(())
    })
    .with_context(|| format!("{}: {}", node.name, statements.join("; ")))
}

pub(super) fn fence(cluster: &Cluster, state: &PairState, i: usize) -> Result<()> {
    let d = &state.nodes[i].dialect;
    exec_all(&cluster.nodes[i], &d.fence_sql())?;
    if !read_only(&cluster.nodes[i], d)? {
        bail!(
            "{}: still writable after {}",
            cluster.nodes[i].name,
            d.fence_sql().join("; ")
        );
    }
    Ok(())
}

pub(super) fn unfence(cluster: &Cluster, state: &PairState, i: usize) -> Result<()> {
    let d = &state.nodes[i].dialect;
    // Semi-sync's source side first, where it follows the VIP: the peer's server is up
    // (a switchover's precondition), so the first commit is acknowledged, not async.
    // Should it fail, the fence agent turns it on at its next reconciliation (1 s).
    if let Some(on) = &state.nodes[i].semi_sync_on {
        if let Err(e) = exec_all(&cluster.nodes[i], std::slice::from_ref(on)) {
            crate::log_eprintln!("{e:#} (the fence agent turns it on within a second)");
        }
    }
    exec_all(&cluster.nodes[i], &d.unfence_sql())
}

/// Whether `node` holds the VIP now (read fresh: callers wait on it).
pub(super) fn holds_vip_now(node: &NodeHandle, inv: &Inventory) -> Result<bool> {
    Ok(
        facts::fresh::<facts::host::InterfaceAddresses>(node, &inv.vip.interface)?
            .contains(&inv.vip.address),
    )
}

/// Polls every 50 ms (the VIP's move is what the write gap is made of) until `to` holds
/// the VIP and `from` does not; the seconds it took.
pub(super) fn wait_vip_on(
    cluster: &Cluster,
    inv: &Inventory,
    to: usize,
    from: usize,
    limit: Duration,
) -> Result<f64> {
    wait_vip_on_unless(cluster, inv, to, from, limit, &mut || Ok(()))
}

/// [`wait_vip_on`], ending early with the error of `check` (polled at each round: the
/// release running in the background failed).
pub(super) fn wait_vip_on_unless(
    cluster: &Cluster,
    inv: &Inventory,
    to: usize,
    from: usize,
    limit: Duration,
    check: &mut dyn FnMut() -> Result<()>,
) -> Result<f64> {
    let t = Instant::now();
    loop {
        check()?;
        let on_to = holds_vip_now(&cluster.nodes[to], inv).unwrap_or(false);
        if on_to && !holds_vip_now(&cluster.nodes[from], inv).unwrap_or(true) {
            return Ok(t.elapsed().as_secs_f64());
        }
        if t.elapsed() >= limit {
            bail!(
                "the VIP did not move to {} within {:.0} s",
                cluster.nodes[to].name,
                limit.as_secs_f64()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits on `to` until its SQL thread executed `from`'s binary log up to `at`.
pub(super) fn pos_wait(
    cluster: &Cluster,
    state: &PairState,
    to: usize,
    from: usize,
    at: &BinlogCoordinates,
    limit: Duration,
) -> Result<()> {
    let secs = limit.as_secs().max(1);
    let sql = state.nodes[to].dialect.pos_wait_sql(at, secs);
    let value = one_value(&cluster.nodes[to], &sql)?;
    match crate::dialect::parse_pos_wait(value.as_deref()) {
        PosWait::Reached => Ok(()),
        PosWait::TimedOut => bail!(
            "{} did not execute {}'s binary log up to {at} within {secs} s",
            cluster.nodes[to].name,
            cluster.nodes[from].name
        ),
        PosWait::NotReplicating => bail!(
            "{}: its replica SQL thread is not running (the position wait returned NULL)",
            cluster.nodes[to].name
        ),
    }
}

/// Waits on the new holder until it executed every transaction of `set` (a MySQL GTID
/// set, a MariaDB GTID position).
pub(super) fn gtid_wait(ctx: &Ctx, set: &str, limit: Duration) -> Result<()> {
    let secs = limit.as_secs().max(1);
    let d = &ctx.state.nodes[ctx.new].dialect;
    let sql = d.gtid_wait_sql(set, secs);
    let value = one_value(ctx.node(ctx.new), &sql)?;
    match crate::dialect::parse_gtid_wait(value.as_deref()) {
        PosWait::Reached => Ok(()),
        PosWait::TimedOut => bail!(
            "{} did not execute {}'s GTID set {set} within {secs} s",
            ctx.node(ctx.new).name,
            ctx.node(ctx.old).name
        ),
        PosWait::NotReplicating => bail!(
            "{}: the GTID wait returned {value:?}",
            ctx.node(ctx.new).name
        ),
    }
}

/// The executed position of `node`'s replica in its source's binary log.
pub(super) fn executed(node: &NodeHandle) -> Result<BinlogCoordinates> {
    let st = facts::replica_status_fresh(node)?
        .ok_or_else(|| anyhow!("{}: no replica status", node.name))?;
    Ok(BinlogCoordinates {
        file: st.relay_source_log_file,
        position: st.exec_source_log_pos,
    })
}

/// Rollback once the release began: the old holder takes the VIP back, after it
/// executed whatever the new holder took meanwhile.
pub(super) fn move_back(ctx: &Ctx, new_ro_start: bool) -> Result<()> {
    let (old, new) = (ctx.old, ctx.new);
    let (o, n) = (ctx.node(old), ctx.node(new));
    run(o, &files::set_release_command(0))?;
    if ctx.state.nodes[new].conf_has_take {
        run(n, &files::set_take_command(0))?;
    }
    // Whoever holds it now (none for a moment while the old holder leaves FAULT).
    let t = Instant::now();
    let on_new = loop {
        let (a, b) = (holds_vip_now(o, ctx.inv)?, holds_vip_now(n, ctx.inv)?);
        if a != b {
            break b;
        }
        if t.elapsed() > ctx.timeout() + Duration::from_secs(5) {
            bail!("the VIP is on {} nodes", if a { 2 } else { 0 });
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    if !on_new {
        return Ok(());
    }
    run(n, &files::create_hold_command())?;
    fence(ctx.cluster, ctx.state, new)?;
    let at = facts::binlog_coordinates_fresh(n)?;
    if let Err(e) = pos_wait(ctx.cluster, ctx.state, old, new, &at, ctx.timeout()) {
        // Consistency first: the VIP stays on the node that has every write.
        unfence(ctx.cluster, ctx.state, new)?;
        run(n, &files::remove_hold_command())?;
        return Err(e.context(format!(
            "the VIP stays on {} (writable): {} has not executed its writes",
            n.name, o.name
        )));
    }
    let boost = ctx.state.nodes[old].conf_has_take;
    if boost {
        run(o, &files::set_take_command(files::TAKE_BOOST))?;
    }
    run(n, &files::set_release_command(1))?;
    let moved = wait_vip_on(ctx.cluster, ctx.inv, old, new, ctx.timeout());
    run(n, &files::set_release_command(0))?;
    if boost {
        run(o, &files::set_take_command(0))?;
    }
    run(n, &files::remove_hold_command())?;
    moved?;
    if !new_ro_start {
        unfence(ctx.cluster, ctx.state, new)?;
    }
    Ok(())
}
