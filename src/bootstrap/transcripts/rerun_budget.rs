//! Issue 21's budget for a converged re-run (`bootstrap` again on a pair it set up): the
//! remote commands and SQL round trips per node, on the fakes a scenario's whole
//! bootstrap left (the transcripts' hosts, answering as converged). The re-run goes the
//! way `mhactl bootstrap` does: the checks before the steps
//! ([`crate::bootstrap::resolve_before_steps`]), then every step through the engine with
//! its batched reads (unlike the transcripts, which run node after node without them).
//! Asserted exactly: a read that goes back to a command or a query of its own after the
//! batches fails here (make it a fact, see facts::prefetch); one that saves a round trip
//! lowers the budget, with docs/benchmarks.md's numbers.

use super::driver::bootstrapped;
use super::scenarios::{ctx, scenario};
use crate::engine::{Cluster, NodeHandle, StepStatus};
use crate::transport::Transport;
use crate::verify::fake_pair::ReadingAhead;
use std::sync::Arc;

/// Remote commands per node of a converged re-run on the EL9 + MariaDB 10.11 pair (db1,
/// db2), without a remembered list of reads: one per pass of the one prefetch before the
/// steps that wants a command (the interfaces and `vip.interface`'s check with the OS;
/// the packages, files and services; ...; the steps are planned in it and the engine
/// starts from its reads), nothing after them (the `vip` step's first look at the
/// addresses is the batches', and so is db2's question through the VIP db1 holds, asked
/// with db2's own client).
const RERUN_COMMANDS_PER_NODE: [u64; 2] = [7, 7];
/// SQL round trips per node (a batch is one): one per pass of that prefetch that wants
/// SQL (the server's version first, then the replica status the positioning needs with
/// the steps' first queries, ...), nothing after them.
const RERUN_SQL_ROUND_TRIPS_PER_NODE: [u64; 2] = [6, 6];

#[test]
fn a_converged_rerun_stays_within_its_round_trip_budget() {
    let s = scenario("el9-mariadb1011");
    let (_, _, _, (_, fakes)) = bootstrapped(&s);
    for (t, _) in &fakes {
        // The keepalived step's rule for its script's label (the newest) also matches
        // the fence agent's probe: the agent's own label again, as the host has it.
        t.on(
            super::recordings::FENCE_AGENT_LABEL,
            0,
            &format!(
                "enforcing\nsystem_u:object_r:{}:s0 {}\n",
                crate::bootstrap::steps::CHECK_SCRIPT_SELINUX_TYPE,
                crate::os::fence::AGENT_PATH
            ),
        );
        // `ip -o link show` (vip.interface exists), which the transcripts never ask.
        t.on(
            crate::os::host::LINKS_COMMAND,
            0,
            "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536\n2: eth0@if7: <BROADCAST,UP> mtu 1500\n",
        );
    }
    // A new run on those hosts (nothing cached), whose transport reads ahead what the
    // plans run themselves, as the SSH transport does.
    let nodes = fakes
        .iter()
        .enumerate()
        .map(|(i, (t, sql))| {
            let t: Arc<dyn Transport> = Arc::new(ReadingAhead::new(t.clone()));
            NodeHandle::new(i, ["db1", "db2"][i], t, Some(sql.connector()))
                .with_login_connector(sql.login_connector())
        })
        .collect();
    let cluster = Cluster {
        nodes,
        secrets: Vec::new(),
    };
    let counts = || -> Vec<(u64, u64)> {
        fakes
            .iter()
            .map(|(t, sql)| (t.stats().unwrap().remote_commands(), sql.round_trips()))
            .collect()
    };
    let before = counts();
    let ctx = ctx(&s);
    let mut inv = ctx.inv.clone();
    // As `bootstrap::run_steps` does: the steps planned ahead with the positioning's
    // reads, the engine starting from those reads.
    let secrets = ctx.secrets.clone();
    let plan_steps = |ahead: &crate::inventory::Inventory| {
        let ctx = crate::bootstrap::steps::Ctx::new(ahead.clone(), secrets.clone());
        let ops = crate::bootstrap::steps::all(std::sync::Arc::new(ctx));
        crate::engine::speculate(&cluster, &ops, None);
    };
    crate::bootstrap::resolve_before_steps(
        &cluster,
        &mut inv,
        crate::positioning::Resolve::Convert,
        Some(crate::bootstrap::reads_before),
        Some(&plan_steps),
    )
    .unwrap();
    crate::bootstrap::reads_before(&cluster, &inv);
    let ctx = std::sync::Arc::new(crate::bootstrap::steps::Ctx::new(inv, ctx.secrets.clone()));
    let ops = crate::bootstrap::steps::all(ctx);
    let reports =
        crate::engine::run_limited(&cluster, &ops, false, &crate::engine::Silent, None, true);
    for r in &reports {
        assert_eq!(
            r.status,
            StepStatus::Unchanged,
            "{} {}: {}",
            r.node,
            r.step,
            r.detail
        );
    }
    for (((((node, (commands, round_trips)), (c0, r0)), (_, sql)), sql_budget), command_budget) in
        cluster
            .nodes
            .iter()
            .zip(counts())
            .zip(before)
            .zip(&fakes)
            .zip(RERUN_SQL_ROUND_TRIPS_PER_NODE)
            .zip(RERUN_COMMANDS_PER_NODE)
    {
        let (commands, round_trips) = (commands - c0, round_trips - r0);
        assert_eq!(
            (commands, round_trips),
            (command_budget, sql_budget),
            "{}: a converged re-run ran {commands} remote commands and {round_trips} SQL \
             round trips; its budget is exactly {command_budget} and {sql_budget}; \
             its SQL, newest first: {:#?}",
            node.name,
            sql.statements().iter().rev().take(60).collect::<Vec<_>>()
        );
    }
}
