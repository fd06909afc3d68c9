//! `mhactl failover-test`: write through the VIP at a steady rate, break the VIP holder,
//! and measure how long the VIP takes to move, the longest gap between acknowledged
//! writes, and how many acknowledged writes the survivor does not have. Then undo the
//! fault, let the old holder rejoin, and prove the pair is healthy and identical again.

mod catch_up;
mod cli;
mod detection;
mod fault;
mod isolate;

pub use catch_up::CatchUp;
use cli::print_summary;
pub use cli::{FailoverArgs, FailoverMode};

use crate::engine::Cluster;
use crate::facts;
use crate::global::{GlobalArgs, OutputFormat};
use crate::inventory::{Inventory, Secrets};
use crate::write_probe::{cleanup, client_address, probe_rows, setup_probe, writer};
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// The probe's database and account (named in [`crate::schemas`]).
pub use crate::schemas::{PROBE_DB, PROBE_USER};

/// The result of one failover test.
#[derive(Debug, Serialize)]
pub struct FailoverReport {
    /// No acknowledged write lost, VIP moved, exactly one holder, pair healthy again.
    pub ok: bool,
    /// Fault injected.
    pub mode: String,
    /// Replication mode the pair ran: `async` or `semi-sync`.
    pub replication: String,
    /// VIP holder before the fault.
    pub old_holder: String,
    /// VIP holder after the fault (`none` if it did not move).
    pub new_holder: String,
    /// Seconds from the fault until the peer held the VIP.
    pub vip_moved_s: Option<f64>,
    /// Longest interval without an acknowledged write, in seconds.
    pub write_gap_s: f64,
    /// Writes the server acknowledged.
    pub writes_acked: usize,
    /// Attempts that failed (not acknowledged: the client knows they may not exist).
    pub writes_failed: usize,
    /// Acknowledged writes the survivor did not have when it took over.
    pub writes_lost: usize,
    /// Acknowledged writes missing on either node after the old holder rejoined.
    pub writes_missing_after_rejoin: usize,
    /// The old holder replicates again and both nodes hold the same probe rows.
    pub rejoined: bool,
    /// verify's verdict after recovery.
    pub healthy_after: bool,
    /// The new holder's catch-up (`catch_up_s`, `catch_up_backlog_bytes`).
    #[serde(flatten)]
    pub catch_up: CatchUp,
    /// `isolate`: the longest time both nodes held the VIP, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub double_holder_s: Option<f64>,
    /// `isolate`: the longest time both nodes accepted writes, each from its own side.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub both_writable_s: Option<f64>,
    /// `isolate`: the passive node refused local writes before the fault (write fencing).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fenced: Option<bool>,
    /// `isolate`: writes the cut-off node accepted from its own side while cut off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut_off_node_writes: Option<usize>,
    /// `isolate`: seconds from the cut until the cut-off holder released the VIP
    /// (keepalived FAULT through `vip.arbiter`); `None` when it kept it while cut off.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip_released_s: Option<f64>,
    /// `isolate`: the VIP went back to the old holder after it reconnected.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vip_went_back: Option<bool>,
    /// Which detection made the VIP move: `process`, `health-check`, `arbiter`, `link`,
    /// `keepalived-stop` or `vrrp` (docs/failover.md, "Detection timers").
    pub detection: String,
    /// Seconds from the fault until the old holder's check noted it (its own checks only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_s: Option<f64>,
    /// Why `ok` is false (empty when ok).
    pub problems: Vec<String>,
}

/// Run `mhactl failover-test`.
pub fn run(args: &FailoverArgs, global: &GlobalArgs) -> Result<ExitCode> {
    // Locking makes the run cooperative: a signal from here on undoes the fault, drops
    // the probe account and database (see `run_test`), then exits 130/143.
    let crate::session::Session {
        inv,
        secrets,
        connected,
    } = crate::session::Session::open(global, Some("failover-test"))?;
    let Some(cluster) = connected.cluster else {
        let why: Vec<String> = connected
            .reports
            .iter()
            .map(|r| format!("{}: {}", r.node, r.detail))
            .collect();
        bail!("cannot connect: {}", why.join("; "));
    };
    let say = |line: &str| {
        if !global.quiet {
            crate::log_eprintln!("failover-test: {line}");
        }
    };

    // 1. Only a healthy pair says anything about failover.
    crate::interrupt::check()?;
    say("verifying the pair first");
    let checks = crate::verify::check_cluster(&cluster, &inv, &secrets, false);
    let failing: Vec<String> = checks
        .iter()
        .filter(|c| c.is_error())
        .map(|c| format!("{} on {}: {}", c.name, c.node, c.detail))
        .collect();
    if !failing.is_empty() && !args.force {
        bail!("the pair is not healthy, so a failover test would mean nothing (use --force to run anyway):\n  {}", failing.join("\n  "));
    }

    crate::interrupt::check()?;
    let report = run_test(&cluster, &inv, &secrets, args, &say).map_err(|e| {
        if crate::interrupt::signal_of(&e).is_some() {
            e.context("failover-test stopped; what it had changed was undone as listed above")
        } else {
            e
        }
    })?;
    match global.output {
        OutputFormat::Json => crate::json_out::print(None, &report)?,
        OutputFormat::Text => print_summary(&report, global.quiet),
    }
    Ok(if report.ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn vip_holders(cluster: &Cluster, inv: &Inventory, reachable: &[usize]) -> Vec<usize> {
    reachable
        .iter()
        .copied()
        .filter(|&i| facts::holds_vip(&cluster.nodes[i], inv).unwrap_or(false))
        .collect()
}

fn run_test(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    args: &FailoverArgs,
    say: &dyn Fn(&str),
) -> Result<FailoverReport> {
    let holders = vip_holders(cluster, inv, &[0, 1]);
    let [old] = holders[..] else {
        bail!(
            "the VIP must be on exactly one node before the test (held by {} nodes)",
            holders.len()
        );
    };
    let new = 1 - old;
    let old_name = cluster.nodes[old].name.clone();
    let new_name = cluster.nodes[new].name.clone();

    // isolate refuses a holder without nft or iptables before anything changes.
    let isolation = match args.mode {
        FailoverMode::Isolate => Some(isolate::prepare(cluster, old)?),
        _ => None,
    };

    // 2. The probe table and a throw-away account for the writer, on both nodes.
    let client_addr = client_address(cluster, old)?;
    let probe_password = writer::random_password()?;
    let mut redaction = cluster.secrets.clone();
    redaction.push(probe_password.clone());
    // What this test changes is undone on every way out that does not undo it itself
    // (an error, SIGINT, SIGTERM), last change first.
    let undo = crate::interrupt::UndoStack::new();
    let probe_undo = undo.push("drop the probe account and database on both nodes", || {
        cleanup(cluster, &client_addr, args.keep)
    });
    setup_probe(cluster, &client_addr, &probe_password)?;
    crate::interrupt::check()?;
    // isolate: a writer on each node, against its own address, from its own side.
    let local_undo = match isolation {
        Some(_) => {
            let u = undo.push("stop the split-brain writers, drop their accounts", || {
                isolate::cleanup_local_writers(cluster, inv)
            });
            isolate::setup_local_writers(cluster, inv, &probe_password)?;
            let seconds = 2 + args.duration_s + isolate::WRITERS_AFTER_S;
            isolate::start_local_writers(cluster, inv, seconds)?;
            isolate::wait_local_writers_started(cluster)?;
            Some(u)
        }
        None => None,
    };
    say(&format!(
        "writer connects to {}:{} as {PROBE_USER}@{client_addr}",
        inv.vip.address, inv.mysql.port
    ));

    let writer = crate::write_probe::start_writing(
        inv,
        &probe_password,
        Duration::from_millis(args.interval_ms),
        "the fault",
    )?;

    // 3. The fault.
    say(&format!(
        "injecting {} on {old_name} (the VIP holder)",
        args.mode.name()
    ));
    // `hung` resumes the server by the pid file read now, while it still answers: the
    // undo must not depend on asking a stopped server anything.
    let pid_file = match args.mode {
        FailoverMode::Hung => Some(fault::server_pid_file(&cluster.nodes[old])?),
        _ => None,
    };
    let (mode, duration_s, undo_pid_file) = (args.mode, args.duration_s, pid_file.clone());
    let pid_file = pid_file.as_deref();
    let undo_isolation = isolation.clone();
    let isolation = isolation.as_ref();
    // The split-brain measure runs on the nodes' clock.
    let fault_at_node = match isolation {
        Some(_) => Some(isolate::node_clock(cluster, new)?),
        None => None,
    };
    // The old holder's clock, for its detection log (a partition leaves it unread).
    let detect_from = isolate::node_clock(cluster, old).ok();
    // The new holder's last takeover record, to tell this test's from an earlier one.
    let takeover_before = catch_up::read(cluster, new).unwrap_or_default();
    let t0 = Instant::now();
    let fault_at = writer.now_s();
    let fault_undo = undo.push(
        format!("undo {} on {old_name}", args.mode.name()),
        move || {
            fault::recover(
                cluster,
                inv,
                old,
                mode,
                duration_s,
                undo_pid_file.as_deref(),
                undo_isolation.as_ref(),
            )
        },
    );

    // 4. Measure: the VIP on the peer, then writes resumed for a while. The clock runs
    // from the start of the fault, while it is being injected: a graceful stop of mysqld
    // can take many seconds (InnoDB flushes), and keepalived's health check fails and
    // moves the VIP long before `stop` returns.
    let deadline = t0 + Duration::from_secs(args.duration_s.max(5) + 20);
    let injection_failed = std::sync::atomic::AtomicBool::new(false);
    let (injected, vip_moved_s) = std::thread::scope(|scope| {
        let injection = scope.spawn(|| {
            let result = fault::inject(
                cluster,
                inv,
                old,
                args.mode,
                args.duration_s,
                pid_file,
                isolation,
            );
            injection_failed.store(result.is_err(), std::sync::atomic::Ordering::SeqCst);
            result
        });
        let mut moved = None;
        // A failed injection will not move the VIP: stop waiting for it then. A signal
        // stops the wait, but the injection runs to its end so its undo is complete.
        while Instant::now() < deadline
            && !injection_failed.load(std::sync::atomic::Ordering::SeqCst)
            && crate::interrupt::requested().is_none()
        {
            if vip_holders(cluster, inv, &[new]).contains(&new) {
                moved = Some(t0.elapsed().as_secs_f64());
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let injected = injection.join().expect("fault injection thread panicked");
        (injected, moved)
    });
    if let Err(e) = injected.and_then(|()| crate::interrupt::check()) {
        writer.stop();
        return Err(e);
    }
    match vip_moved_s {
        Some(s) => say(&format!("VIP on {new_name} after {s:.2} s")),
        None => say("the VIP did not move"),
    }
    let until = t0 + Duration::from_secs(args.duration_s);
    if let Err(e) = crate::interrupt::sleep(until.saturating_duration_since(Instant::now())) {
        writer.stop();
        return Err(e);
    }
    let log = writer.stop();
    let acked: BTreeSet<u64> = log.acked.iter().map(|(seq, _)| *seq).collect();
    let write_gap_s = writer::longest_gap(&log, fault_at);

    // The new holder's catch-up (the fence agent waits for it, however long).
    let takeover = match (inv.writes, vip_moved_s) {
        (crate::inventory::WriteMode::VipHolder, Some(_)) => {
            catch_up::wait_writable(cluster, new, &takeover_before)
        }
        _ => None,
    };
    // Acknowledged writes the survivor lacks once it applied what it had received.
    wait_relay_applied(cluster, new);
    let survivor = probe_rows(cluster, new)?;
    let writes_lost = acked.difference(&survivor).count();
    say(&format!(
        "{} writes acknowledged, {writes_lost} missing on {new_name}",
        acked.len()
    ));

    // 5. Recover the old holder and let it rejoin.
    say(&format!("undoing {} on {old_name}", args.mode.name()));
    // Dropped from the undo stack only once it worked: a failed recovery is tried once
    // more on the way out (a stopped server left behind would be an outage).
    fault::recover(
        cluster,
        inv,
        old,
        args.mode,
        args.duration_s,
        pid_file,
        isolation,
    )?;
    undo.done(fault_undo);
    let fired = detection::classify(
        args.mode,
        &detection::read_log(cluster, old),
        detect_from.unwrap_or(f64::MAX),
        vip_moved_s,
    );
    let rejoin = wait_rejoined(cluster, &acked);
    crate::interrupt::check()?;
    let (rejoined, missing_after) = match &rejoin {
        Ok(m) => (*m == 0, *m),
        Err(e) => {
            say(&format!("rejoin: {e:#}"));
            (false, acked.len())
        }
    };
    // isolate: the cut-off node is back; let the writers watch the VIP for a while
    // (it must stay on the new holder), then read what they saw.
    let split = match (isolation, fault_at_node) {
        (Some(iso), Some(at)) => {
            crate::interrupt::sleep(isolate::settle())?;
            let m = isolate::measure(cluster, iso, at);
            if let Some(u) = local_undo {
                undo.done(u);
            }
            let cleaned = isolate::cleanup_local_writers(cluster, inv);
            Some(m.and_then(|m| cleaned.map(|()| m)))
        }
        _ => None,
    };
    let final_holders = vip_holders(cluster, inv, &[0, 1]);
    let checks = crate::verify::check_cluster(cluster, inv, secrets, false);
    let healthy_after = !checks.iter().any(|c| c.is_error());
    // The account always goes (as --keep's help says); the table stays with --keep.
    undo.done(probe_undo);
    let cleaned = cleanup(cluster, &client_addr, args.keep);

    let mut problems = Vec::new();
    if let Err(e) = cleaned {
        problems.push(format!("cleaning up the probe: {e:#}"));
    }
    if writes_lost > 0 {
        problems.push(format!("{writes_lost} acknowledged writes were not on {new_name} when it took over (asynchronous replication)"));
    }
    if vip_moved_s.is_none() {
        problems.push(format!("the VIP did not move to {new_name}"));
    }
    problems.extend(catch_up::problem(takeover.as_ref(), &new_name));
    if final_holders.len() != 1 {
        problems.push(format!("the VIP ended on {} nodes", final_holders.len()));
    }
    if !rejoined {
        problems.push(format!(
            "{old_name} did not rejoin ({missing_after} acknowledged writes missing on a node)"
        ));
    }
    if !healthy_after {
        let failing: Vec<String> = checks
            .iter()
            .filter(|c| c.is_error())
            .map(|c| format!("{} on {} ({})", c.name, c.node, c.detail))
            .collect();
        problems.push(format!(
            "verify fails after recovery: {}",
            failing.join(", ")
        ));
    }
    let split = match split {
        Some(Ok(m)) => Some(m),
        Some(Err(e)) => {
            problems.push(format!("measuring the split brain: {e:#}"));
            None
        }
        None => None,
    };
    if let Some(m) = &split {
        isolate::problems(m, inv, &old_name, &mut problems);
    }
    let problems = problems
        .into_iter()
        .map(|p| crate::engine::redact(&p, &redaction))
        .collect::<Vec<_>>();
    Ok(FailoverReport {
        ok: problems.is_empty(),
        mode: args.mode.name().into(),
        replication: if inv.mysql.semi_sync {
            "semi-sync"
        } else {
            "async"
        }
        .into(),
        old_holder: old_name,
        new_holder: if vip_moved_s.is_some() {
            new_name
        } else {
            "none".into()
        },
        vip_moved_s,
        write_gap_s,
        writes_acked: acked.len(),
        writes_failed: log.failed,
        writes_lost,
        writes_missing_after_rejoin: missing_after,
        rejoined,
        healthy_after,
        catch_up: catch_up::report(takeover.as_ref()),
        double_holder_s: split.as_ref().map(|m| m.double_holder_s),
        both_writable_s: split.as_ref().map(|m| m.both_writable_s),
        fenced: split.as_ref().map(|m| m.fenced),
        cut_off_node_writes: split.as_ref().map(|m| m.cut_off_node_writes),
        vip_went_back: split.as_ref().map(|m| m.vip_went_back),
        vip_released_s: split.as_ref().and_then(|m| m.vip_released_s),
        detection: fired.source,
        detection_s: fired.after_s,
        problems,
    })
}

/// Give the survivor's SQL thread a moment to apply the relay log it already has.
fn wait_relay_applied(cluster: &Cluster, node: usize) {
    let n = &cluster.nodes[node];
    let _ = crate::poll::until(Duration::from_secs(5), || {
        Ok(facts::replica_status(n)?.is_some_and(|s| {
            s.relay_source_log_file == s.source_log_file
                && s.exec_source_log_pos >= s.read_source_log_pos
        }))
    });
}

/// Wait until both replicate again and both hold every acknowledged write; return how
/// many acknowledged writes are still missing on some node.
fn wait_rejoined(cluster: &Cluster, acked: &BTreeSet<u64>) -> Result<usize> {
    let mut missing = acked.len();
    let result = crate::poll::until(Duration::from_secs(60), || {
        // On a signal stop waiting: the caller checks the flag right after this.
        if crate::interrupt::requested().is_some() {
            return Ok(true);
        }
        for node in &cluster.nodes {
            node.reset_sql();
            let Some(s) = facts::replica_status(node)? else {
                return Ok(false);
            };
            if !(s.io_running && s.sql_running) {
                return Ok(false);
            }
        }
        let a = probe_rows(cluster, 0)?;
        let b = probe_rows(cluster, 1)?;
        missing = acked
            .iter()
            .filter(|s| !a.contains(s) || !b.contains(s))
            .count();
        Ok(missing == 0 && a == b)
    });
    match result {
        Ok(()) => Ok(0),
        Err(_) if missing > 0 => Ok(missing),
        Err(e) => Err(e).context("the old holder did not rejoin replication within 60 s"),
    }
}
