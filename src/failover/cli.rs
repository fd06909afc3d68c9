//! failover-test's flags, its fault modes and the text report.

use super::FailoverReport;

/// The report; with `quiet` (`-q`) only the verdict and its problems.
pub(super) fn print_summary(r: &FailoverReport, quiet: bool) {
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
    match r.detection_s {
        Some(s) => println!(
            "detected by         {} ({s:.2} s after the fault)",
            r.detection
        ),
        None => println!("detected by         {}", r.detection),
    }
    println!("longest write gap   {:.2} s", r.write_gap_s);
    println!(
        "writes acknowledged {} ({} attempts failed and were not acknowledged)",
        r.writes_acked, r.writes_failed
    );
    println!("writes lost         {}", r.writes_lost);
    if let Some(s) = r.catch_up.catch_up_s {
        let behind = match r.catch_up.catch_up_backlog_bytes {
            Some(b) => format!("{b} bytes behind"),
            None => "backlog unknown".into(),
        };
        println!("caught up after     {s:.2} s read-only on the VIP ({behind} when it took it)");
    }
    if let Some(s) = r.vip_released_s {
        println!("old holder released {s:.2} s after the cut (FAULT)");
    }
    if let Some(s) = r.double_holder_s {
        println!("both held the VIP   {s:.2} s (longest window)");
    }
    if let Some(s) = r.both_writable_s {
        let fenced = if r.fenced == Some(true) {
            ""
        } else {
            " (write fencing not in force: both nodes are writable)"
        };
        println!("both took writes    {s:.2} s (longest window){fenced}");
    }
    if let Some(n) = r.cut_off_node_writes {
        println!("cut-off node writes {n} (accepted from its own side while cut off)");
    }
    if let Some(back) = r.vip_went_back {
        println!(
            "vip after reconnect {}",
            if back {
                "went BACK to the old holder"
            } else {
                "stayed on the new holder"
            }
        );
    }
    println!(
        "old holder rejoined {}",
        if r.rejoined { "yes" } else { "NO" }
    );
    println!(
        "healthy afterwards  {}",
        if r.healthy_after { "yes" } else { "NO" }
    );
}

/// `mhactl failover-test` flags.
#[derive(Debug, clap::Args)]
pub struct FailoverArgs {
    /// The fault to inject on the VIP holder.
    #[arg(long, value_enum, default_value = "stop-mysqld")]
    pub mode: FailoverMode,
    /// Seconds to keep writing after the fault (and, for `partition`, `hung` and
    /// `isolate`, how long the fault lasts).
    #[arg(long = "duration", default_value_t = 10)]
    pub duration_s: u64,
    /// Milliseconds between the writer's inserts.
    #[arg(long, default_value_t = 20)]
    pub interval_ms: u64,
    /// Run even when verify finds the pair unhealthy.
    #[arg(long)]
    pub force: bool,
    /// Keep the probe table afterwards (the probe account is always dropped).
    #[arg(long)]
    pub keep: bool,
}

/// Faults `failover-test` can inject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailoverMode {
    /// A clean stop of the database service.
    StopMysqld,
    /// SIGKILL of the server (and of mysqld_safe, so it stays down): a crash.
    KillMysqld,
    /// A clean stop of keepalived.
    StopKeepalived,
    /// The holder's VIP interface goes down for the test's duration, then comes back.
    Partition,
    /// SIGSTOP of the server for the test's duration, then SIGCONT: a hang, not a crash.
    Hung,
    /// Firewall rules on the holder drop all its traffic (peer, clients, arbiter) for the
    /// test's duration while its link stays up; they remove themselves afterwards.
    Isolate,
}

impl FailoverMode {
    /// The mode's name as on the command line.
    pub fn name(self) -> &'static str {
        match self {
            FailoverMode::StopMysqld => "stop-mysqld",
            FailoverMode::KillMysqld => "kill-mysqld",
            FailoverMode::StopKeepalived => "stop-keepalived",
            FailoverMode::Partition => "partition",
            FailoverMode::Hung => "hung",
            FailoverMode::Isolate => "isolate",
        }
    }
}
