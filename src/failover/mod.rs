//! `mhactl failover-test`: write through the VIP at a steady rate, break the VIP holder,
//! and measure how long the VIP takes to move, the longest gap between acknowledged
//! writes, and how many acknowledged writes the survivor does not have. Then undo the
//! fault, let the old holder rejoin, and prove the pair is healthy and identical again.

mod writer;

use crate::cli::{FailoverArgs, FailoverMode, GlobalArgs, OutputFormat};
use crate::engine::Cluster;
use crate::facts;
use crate::inventory::{self, Inventory, Secrets};
use crate::report::Progress;
use crate::transport::{shell_quote, RemoteCommand};
use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use std::collections::BTreeSet;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Database and table the writer inserts into.
pub const PROBE_DB: &str = "mhactl_probe";
/// The account the writer uses (created for the run, dropped afterwards).
pub const PROBE_USER: &str = "mhactl_probe";

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
    /// Why `ok` is false (empty when ok).
    pub problems: Vec<String>,
}

/// Run `mhactl failover-test`.
pub fn run(args: &FailoverArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let inv = inventory::load(&global.inventory)?;
    let secrets = Secrets::resolve(&inv, std::io::stdin().is_terminal())?;
    let quiet = GlobalArgs {
        quiet: true,
        ..global.clone()
    };
    let (cluster, reports) = crate::connect::connect(
        &inv,
        &secrets,
        &crate::connect::ConnectOptions {
            accept_new_host_keys: global.accept_new_host_keys,
            lock_for: Some("failover-test"),
        },
        &Progress::new(&quiet, &[]),
    );
    let Some(cluster) = cluster else {
        let why: Vec<String> = reports
            .iter()
            .map(|r| format!("{}: {}", r.node, r.detail))
            .collect();
        bail!("cannot connect: {}", why.join("; "));
    };
    let say = |line: &str| {
        if !global.quiet {
            eprintln!("failover-test: {line}");
        }
    };

    // 1. Only a healthy pair says anything about failover.
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

    let report = run_test(&cluster, &inv, &secrets, args, &say)?;
    match global.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
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
        .filter(|&i| {
            facts::interface_addresses(&cluster.nodes[i], &inv.vip.interface)
                .map(|a| a.contains(&inv.vip.address))
                .unwrap_or(false)
        })
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

    // 2. The probe table and a throw-away account for the writer, on both nodes.
    let client_addr = client_address(cluster, old)?;
    let probe_password = writer::random_password()?;
    let mut redaction = cluster.secrets.clone();
    redaction.push(probe_password.clone());
    setup_probe(cluster, &client_addr, &probe_password)?;
    say(&format!(
        "writer connects to {}:{} as {PROBE_USER}@{client_addr}",
        inv.vip.address, inv.mysql.port
    ));

    let writer = writer::Writer::start(
        inv.vip.address,
        inv.mysql.port,
        PROBE_USER,
        &probe_password,
        Duration::from_millis(args.interval_ms),
    );
    std::thread::sleep(Duration::from_secs(2));
    if writer.acked_count() == 0 {
        let err = writer.last_error();
        writer.stop();
        cleanup(cluster, &client_addr, args.keep);
        bail!(
            "the writer could not write through the VIP before the fault: {}",
            err.unwrap_or_default()
        );
    }

    // 3. The fault.
    say(&format!(
        "injecting {} on {old_name} (the VIP holder)",
        args.mode.name()
    ));
    let t0 = Instant::now();
    let fault_at = writer.now_s();

    // 4. Measure: the VIP on the peer, then writes resumed for a while. The clock runs
    // from the start of the fault, while it is being injected: a graceful stop of mysqld
    // can take many seconds (InnoDB flushes), and keepalived's health check fails and
    // moves the VIP long before `stop` returns.
    let deadline = t0 + Duration::from_secs(args.duration_s.max(5) + 20);
    let injection_failed = std::sync::atomic::AtomicBool::new(false);
    let (injected, vip_moved_s) = std::thread::scope(|scope| {
        let injection = scope.spawn(|| {
            let result = inject(cluster, inv, old, args.mode, args.duration_s);
            injection_failed.store(result.is_err(), std::sync::atomic::Ordering::SeqCst);
            result
        });
        let mut moved = None;
        // A failed injection will not move the VIP: stop waiting for it then.
        while Instant::now() < deadline
            && !injection_failed.load(std::sync::atomic::Ordering::SeqCst)
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
    if let Err(e) = injected {
        writer.stop();
        cleanup(cluster, &client_addr, args.keep);
        return Err(e);
    }
    match vip_moved_s {
        Some(s) => say(&format!("VIP on {new_name} after {s:.2} s")),
        None => say("the VIP did not move"),
    }
    let until = t0 + Duration::from_secs(args.duration_s);
    while Instant::now() < until {
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = writer.stop();
    let acked: BTreeSet<u64> = log.acked.iter().map(|(seq, _)| *seq).collect();
    let write_gap_s = writer::longest_gap(&log, fault_at);

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
    recover(cluster, inv, old, args.mode)?;
    let rejoin = wait_rejoined(cluster, &acked);
    let (rejoined, missing_after) = match &rejoin {
        Ok(m) => (*m == 0, *m),
        Err(e) => {
            say(&format!("rejoin: {e:#}"));
            (false, acked.len())
        }
    };
    let final_holders = vip_holders(cluster, inv, &[0, 1]);
    let checks = crate::verify::check_cluster(cluster, inv, secrets, false);
    let healthy_after = !checks.iter().any(|c| c.is_error());
    if !args.keep {
        cleanup(cluster, &client_addr, false);
    }

    let mut problems = Vec::new();
    if writes_lost > 0 {
        problems.push(format!("{writes_lost} acknowledged writes were not on {new_name} when it took over (asynchronous replication)"));
    }
    if vip_moved_s.is_none() {
        problems.push(format!("the VIP did not move to {new_name}"));
    }
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
            .map(|c| format!("{} on {}", c.name, c.node))
            .collect();
        problems.push(format!(
            "verify fails after recovery: {}",
            failing.join(", ")
        ));
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
        problems,
    })
}

/// The control host's address as the nodes see it (`$SSH_CLIENT`): the writer's
/// account is limited to it.
fn client_address(cluster: &Cluster, node: usize) -> Result<String> {
    let out = cluster.nodes[node]
        .transport
        .run_ok(&RemoteCommand::new("echo ${SSH_CLIENT%% *}"))?;
    let addr = out.trim().to_string();
    if addr.parse::<std::net::IpAddr>().is_err() {
        bail!(
            "cannot tell this host's address as {} sees it (SSH_CLIENT={addr:?})",
            cluster.nodes[node].name
        );
    }
    Ok(addr)
}

fn setup_probe(cluster: &Cluster, client: &str, password: &str) -> Result<()> {
    let account = crate::dialect::quote_account(PROBE_USER, client);
    let pw = crate::dialect::quote_string(password);
    // The table replicates (it is the point); the account is made on each node with the
    // binary log off, like the replication account.
    cluster.nodes[0].with_sql(|sql| {
        sql.exec(&format!("CREATE DATABASE IF NOT EXISTS {PROBE_DB}"))?;
        sql.exec(&format!("DROP TABLE IF EXISTS {PROBE_DB}.writes"))?;
        sql.exec(&format!(
            "CREATE TABLE {PROBE_DB}.writes (seq BIGINT PRIMARY KEY, client_ms BIGINT NOT NULL, server_id INT NOT NULL) ENGINE=InnoDB"
        ))
    })?;
    for node in &cluster.nodes {
        node.with_sql(|sql| {
            sql.exec("SET SESSION sql_log_bin = 0")?;
            sql.exec(&format!("DROP USER IF EXISTS {account}"))?;
            sql.exec(&format!("CREATE USER {account} IDENTIFIED BY {pw}"))?;
            sql.exec(&format!(
                "GRANT INSERT, SELECT ON {PROBE_DB}.* TO {account}"
            ))?;
            sql.exec("SET SESSION sql_log_bin = 1")
        })
        .with_context(|| format!("{}: creating the probe account", node.name))?;
    }
    // The table must exist on the peer before writes start.
    crate::poll::until(Duration::from_secs(10), || {
        Ok(probe_rows(cluster, 1).is_ok())
    })
}

fn cleanup(cluster: &Cluster, client: &str, keep_table: bool) {
    let account = crate::dialect::quote_account(PROBE_USER, client);
    for node in &cluster.nodes {
        let _ = node.with_sql(|sql| {
            sql.exec("SET SESSION sql_log_bin = 0")?;
            sql.exec(&format!("DROP USER IF EXISTS {account}"))?;
            sql.exec("SET SESSION sql_log_bin = 1")
        });
    }
    if !keep_table {
        let _ = cluster.nodes[0]
            .with_sql(|sql| sql.exec(&format!("DROP DATABASE IF EXISTS {PROBE_DB}")));
    }
}

fn probe_rows(cluster: &Cluster, node: usize) -> Result<BTreeSet<u64>> {
    let rows = cluster.nodes[node]
        .with_sql(|sql| sql.query(&format!("SELECT seq FROM {PROBE_DB}.writes")))?;
    Ok(rows
        .iter()
        .filter_map(|r| crate::sql::get(r, "seq"))
        .filter_map(|s| s.parse().ok())
        .collect())
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

fn inject(
    cluster: &Cluster,
    inv: &Inventory,
    node: usize,
    mode: FailoverMode,
    duration_s: u64,
) -> Result<()> {
    let n = &cluster.nodes[node];
    let (target, services) = facts::os_target(n, inv.mysql.flavor)?;
    let script = match mode {
        FailoverMode::StopMysqld => services.stop_command(target.server_service()),
        // A crash: the server and any supervisor that would restart it at once
        // (mysqld_safe), so the node stays down until recovery.
        FailoverMode::KillMysqld => {
            "pkill -KILL -x mysqld_safe; pkill -KILL -x mariadbd; pkill -KILL -x mysqld; true"
                .into()
        }
        FailoverMode::StopKeepalived => services.stop_command(crate::os::KEEPALIVED_SERVICE),
        // The node cuts itself off and heals itself after the test's duration, so the
        // test never depends on reaching a node it has just isolated.
        FailoverMode::Partition => format!(
            "nohup sh -c 'ip link set {i} down; sleep {d}; ip link set {i} up' >/dev/null 2>&1 &",
            i = shell_quote(&inv.vip.interface),
            d = duration_s
        ),
    };
    n.transport
        .run_ok(&RemoteCommand::new(script))
        .map(|_| ())
        .with_context(|| format!("{}: injecting {}", n.name, mode.name()))
}

fn recover(cluster: &Cluster, inv: &Inventory, node: usize, mode: FailoverMode) -> Result<()> {
    let n = &cluster.nodes[node];
    let (target, services) = facts::os_target(n, inv.mysql.flavor)?;
    match mode {
        FailoverMode::StopMysqld | FailoverMode::KillMysqld => {
            n.reset_sql();
            n.transport.run_ok(&RemoteCommand::new(
                services.start_command(target.server_service()),
            ))?;
        }
        FailoverMode::StopKeepalived => {
            n.transport.run_ok(&RemoteCommand::new(
                services.start_command(crate::os::KEEPALIVED_SERVICE),
            ))?;
        }
        FailoverMode::Partition => {
            // The node heals itself; wait until its interface is back up.
            crate::poll::until(Duration::from_secs(30), || {
                Ok(n.transport
                    .run(&RemoteCommand::new(format!(
                        "ip link show {} | grep -q 'state UP'",
                        shell_quote(&inv.vip.interface)
                    )))?
                    .success())
            })
            .map_err(|_| anyhow!("{}: the interface did not come back", n.name))?;
            n.reset_sql();
        }
    }
    Ok(())
}

/// Wait until both replicate again and both hold every acknowledged write; return how
/// many acknowledged writes are still missing on some node.
fn wait_rejoined(cluster: &Cluster, acked: &BTreeSet<u64>) -> Result<usize> {
    let mut missing = acked.len();
    let result = crate::poll::until(Duration::from_secs(60), || {
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

/// The report; with `quiet` (`-q`) only the verdict and its problems.
fn print_summary(r: &FailoverReport, quiet: bool) {
    if !quiet {
        print_details(r);
    }
    if r.ok {
        println!("failover-test: OK");
    } else {
        println!("failover-test: FAILED");
        for p in &r.problems {
            println!("  - {p}");
        }
    }
}

fn print_details(r: &FailoverReport) {
    println!(
        "mode                {} ({} replication)",
        r.mode, r.replication
    );
    println!("vip                 {} -> {}", r.old_holder, r.new_holder);
    match r.vip_moved_s {
        Some(s) => println!("vip moved after     {s:.2} s"),
        None => println!("vip moved after     (did not move)"),
    }
    println!("longest write gap   {:.2} s", r.write_gap_s);
    println!(
        "writes acknowledged {} ({} attempts failed and were not acknowledged)",
        r.writes_acked, r.writes_failed
    );
    println!("writes lost         {}", r.writes_lost);
    println!(
        "old holder rejoined {}",
        if r.rejoined { "yes" } else { "NO" }
    );
    println!(
        "healthy afterwards  {}",
        if r.healthy_after { "yes" } else { "NO" }
    );
}
