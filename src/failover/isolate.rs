//! failover-test `--mode isolate`: the VIP holder is cut off from everything (peer,
//! clients, arbiter) by firewall rules on itself while its link stays up, and the
//! split-brain measure: a writer on each node, writing to the node's own address from
//! the node's side of the partition every 100 ms and noting whether the node held the
//! VIP, from whose logs come the longest window in which both nodes held the VIP and the
//! longest in which both accepted writes. The shell is in `os::isolate`.

use super::PROBE_DB;
use super::PROBE_USER;
use crate::engine::Cluster;
use crate::inventory::Inventory;
use crate::os::isolate::{self as sh, FirewallTool, LocalAttempt};
use crate::transport::RemoteCommand;
use anyhow::{anyhow, Context, Result};
use std::path::Path;
use std::time::Duration;

/// Seconds the split-brain writers run past the fault's end: the cut-off node's return
/// (keepalived's `rise`), the rejoin and the check that the VIP did not go back.
pub(super) const WRITERS_AFTER_S: u64 = 20;
/// How long the split-brain writers may take to log their first attempt.
const WRITERS_START_S: u64 = 15;

/// One isolate run's rules on the cut-off node.
#[derive(Debug, Clone)]
pub(super) struct Isolation {
    /// The node cut off (the VIP holder at the start).
    pub node: usize,
    tool: FirewallTool,
    /// The rules' name (table or chain), unique per run.
    name: String,
}

/// What the split-brain writers measured.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct SplitBrain {
    /// The longest time both nodes held the VIP, seconds.
    pub double_holder_s: f64,
    /// The longest time both nodes accepted writes from their own side, seconds.
    pub both_writable_s: f64,
    /// Writes the cut-off node accepted from its own side after the cut.
    pub cut_off_node_writes: usize,
    /// The passive node refused every local write before the fault: write fencing is
    /// in force, so any window in which both accepted writes is a failure.
    pub fenced: bool,
    /// The VIP was on the cut-off node again after it had moved (it flapped back).
    pub vip_went_back: bool,
    /// Seconds from the cut until the cut-off node no longer held the VIP (its writer's
    /// first sample without it; `None`: it kept the VIP through the whole cut).
    pub vip_released_s: Option<f64>,
}

/// Finds the firewall tool on the VIP holder (refusing before anything changes when it
/// has neither nft nor iptables) and names this run's rules.
pub(super) fn prepare(cluster: &Cluster, old: usize) -> Result<Isolation> {
    let n = &cluster.nodes[old];
    let out = n
        .transport
        .run_ok(&RemoteCommand::new(sh::FIREWALL_TOOL_QUERY))?;
    let tool = sh::parse_firewall_tool(&out).ok_or_else(|| {
        anyhow!(
            "{}: --mode isolate needs nft (nftables) or iptables on the node to cut it off; \
             neither is installed (install nftables, or use --mode partition)",
            n.name
        )
    })?;
    // Unique per run: a dead-man's switch left by an earlier run removes only its own.
    let secs = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() % 100_000)
        .unwrap_or_default();
    let token = format!("{}_{secs}", std::process::id());
    let name = match tool {
        FirewallTool::Nft => format!("mhactl_isolate_{token}"),
        FirewallTool::Iptables => format!("MHACTL-ISO-{token}"),
    };
    Ok(Isolation {
        node: old,
        tool,
        name,
    })
}

/// The probe accounts the split-brain writers log in with (`mhactl_probe@<node's own
/// address>`, on both nodes), their table and their option files.
pub(super) fn setup_local_writers(
    cluster: &Cluster,
    inv: &Inventory,
    password: &str,
) -> Result<()> {
    // Admin writes: either node may be the fenced passive one.
    cluster.nodes[0].with_admin_write(|sql| {
        for stmt in crate::dialect::local_writes_table_sql(PROBE_DB) {
            sql.exec(&stmt)?;
        }
        Ok(())
    })?;
    let pw = crate::dialect::quote_string(password);
    for node in &cluster.nodes {
        node.with_admin_write(|sql| {
            for own in &inv.nodes {
                let account = crate::dialect::quote_account(PROBE_USER, &own.address.to_string());
                for stmt in crate::dialect::probe_account_sql(PROBE_DB, &account, &pw) {
                    sql.exec(&stmt)?;
                }
            }
            Ok(())
        })
        .with_context(|| format!("{}: creating the split-brain writers' accounts", node.name))?;
        node.transport
            .run_ok(&crate::transport::write_file_command(
                Path::new(sh::LOCAL_WRITER_CNF),
                sh::local_writer_cnf(PROBE_USER, password).as_bytes(),
                0o600,
            ))?;
    }
    Ok(())
}

/// Starts the writer on both nodes for `seconds`.
pub(super) fn start_local_writers(cluster: &Cluster, inv: &Inventory, seconds: u64) -> Result<()> {
    for (node, own) in cluster.nodes.iter().zip(&inv.nodes) {
        let cmd = sh::local_writer_command(
            &own.address.to_string(),
            inv.mysql.port,
            &crate::dialect::local_write_sql(PROBE_DB, &own.name),
            seconds,
            &inv.vip.interface,
            &inv.vip.address.to_string(),
        );
        node.transport
            .run_ok(&RemoteCommand::new(cmd))
            .with_context(|| format!("{}: starting the split-brain writer", node.name))?;
    }
    Ok(())
}

/// Waits until each node's split-brain writer has logged a finished attempt: the
/// measure needs the cut-off node's last attempt before the fault (did it hold the VIP
/// then?), which a writer still starting on a loaded node has not made yet (the release
/// time is then unknown, not zero).
pub(super) fn wait_local_writers_started(cluster: &Cluster) -> Result<()> {
    crate::poll::until(Duration::from_secs(WRITERS_START_S), || {
        for node in &cluster.nodes {
            let log = node.transport.read_file(Path::new(sh::LOCAL_WRITER_LOG))?;
            if log.is_none_or(|text| sh::parse_local_writer_log(&text).is_empty()) {
                return Ok(false);
            }
        }
        Ok(true)
    })
    .with_context(|| {
        format!("the split-brain writers logged no attempt within {WRITERS_START_S} s")
    })
}

/// Stops the writers and drops their accounts and files (the table goes with the probe
/// database). Tries every node and reports the first failure.
pub(super) fn cleanup_local_writers(cluster: &Cluster, inv: &Inventory) -> Result<()> {
    let mut first_error = None;
    for node in &cluster.nodes {
        node.reset_sql();
        let dropped = node.with_admin_write(|sql| {
            for own in &inv.nodes {
                let account = crate::dialect::quote_account(PROBE_USER, &own.address.to_string());
                for stmt in crate::dialect::drop_probe_account_sql(&account) {
                    sql.exec(&stmt)?;
                }
            }
            Ok(())
        });
        let removed = node
            .transport
            .run_ok(&RemoteCommand::new(sh::LOCAL_WRITER_CLEANUP))
            .map(|_| ());
        if let Err(e) = dropped.and(removed) {
            first_error.get_or_insert(e.context(format!("{}: split-brain writer", node.name)));
        }
    }
    // The cut-off node took writes of its own while cut off (unless fenced): they reach
    // the peer only after the reconnection. The probe database is dropped next, through
    // replication; dropped before those writes arrive, the peer's SQL thread would stop on
    // a missing table. So wait until both nodes hold the same rows.
    if let Err(e) = wait_local_writes_replicated(cluster) {
        first_error.get_or_insert(e);
    }
    first_error.map_or(Ok(()), Err)
}

/// Seconds to wait for the split-brain writes to replicate both ways after the cut
/// (the replicas reconnect every 2 s; the backlog is a few hundred rows).
const REPLICATED_WAIT_S: u64 = 60;

fn wait_local_writes_replicated(cluster: &Cluster) -> Result<()> {
    let per_node = |i: usize| -> Result<Vec<(String, String)>> {
        let rows = match cluster.nodes[i]
            .with_sql(|sql| sql.query(&crate::dialect::local_writes_per_node_sql(PROBE_DB)))
        {
            Ok(rows) => rows,
            // No table (the run stopped before creating it, or it is gone): no rows.
            // Anything else (a session reconnecting) means "not yet".
            Err(e) if crate::sql::server_error_code(&e) == Some(1146) => Vec::new(),
            Err(e) => return Err(e),
        };
        Ok(rows
            .iter()
            .map(|r| {
                let get = |k| crate::sql::get(r, k).unwrap_or_default().to_string();
                (get("node"), get("n"))
            })
            .collect())
    };
    crate::poll::until(Duration::from_secs(REPLICATED_WAIT_S), || {
        Ok(per_node(0)? == per_node(1)?)
    })
    .context(
        "the split-brain writers' rows did not replicate both ways; the probe database \
         is dropped anyway (check replication with mhactl verify)",
    )
}

/// The node's clock (seconds since the epoch).
pub(super) fn node_clock(cluster: &Cluster, node: usize) -> Result<f64> {
    let out = cluster.nodes[node]
        .transport
        .run_ok(&RemoteCommand::new(crate::os::host::CLOCK_QUERY))?;
    out.trim()
        .parse()
        .map_err(|_| anyhow!("{}: unreadable clock {out:?}", cluster.nodes[node].name))
}

/// Cuts the node off (its dead-man's switch heals it after `seconds`).
pub(super) fn inject(cluster: &Cluster, iso: &Isolation, seconds: u64) -> Result<()> {
    cluster.nodes[iso.node]
        .transport
        .run_ok(&RemoteCommand::new(sh::cut_off_command(
            iso.tool, &iso.name, seconds,
        )))
        .map(|_| ())
}

/// Removes the rules now (over the SSH connection they spare) and checks they are gone.
pub(super) fn heal(cluster: &Cluster, iso: &Isolation) -> Result<()> {
    let n = &cluster.nodes[iso.node];
    n.transport
        .run_ok(&RemoteCommand::new(sh::heal_command(iso.tool, &iso.name)))?;
    let still = n
        .transport
        .run(&RemoteCommand::new(sh::rules_present_command(
            iso.tool, &iso.name,
        )))?;
    if still.success() {
        return Err(anyhow!(
            "{}: the isolate rules {} are still there",
            n.name,
            iso.name
        ));
    }
    n.reset_sql();
    Ok(())
}

/// Reads both writers' logs and measures (`fault_at`: the fault, on the nodes' clock).
pub(super) fn measure(cluster: &Cluster, iso: &Isolation, fault_at: f64) -> Result<SplitBrain> {
    let mut logs = Vec::new();
    for node in &cluster.nodes {
        let out = node
            .transport
            .read_file(Path::new(sh::LOCAL_WRITER_LOG))
            .with_context(|| format!("{}: reading the split-brain writer's log", node.name))?
            .ok_or_else(|| anyhow!("{}: the split-brain writer left no log", node.name))?;
        logs.push(sh::parse_local_writer_log(&out));
    }
    Ok(analyse(&logs[iso.node], &logs[1 - iso.node], fault_at))
}

/// The measures from the cut-off node's and the peer's attempts (pure: unit-tested).
pub(super) fn analyse(cut: &[LocalAttempt], peer: &[LocalAttempt], fault_at: f64) -> SplitBrain {
    let double_holder_s = longest_overlap(&runs(cut, |a| a.vip), &runs(peer, |a| a.vip));
    let both_writable_s = longest_overlap(&runs(cut, |a| a.ok), &runs(peer, |a| a.ok));
    let before: Vec<&LocalAttempt> = peer.iter().filter(|a| a.end < fault_at).collect();
    let fenced = !before.is_empty() && before.iter().all(|a| !a.ok);
    // After the VIP reached the peer, was it ever on the cut-off node again?
    let moved_at = peer
        .iter()
        .find(|a| a.start > fault_at && a.vip)
        .map(|a| a.start);
    let vip_went_back = moved_at.is_some_and(|m| {
        cut.iter()
            .any(|a| a.start > m && a.vip && !peer_holds(peer, a))
    });
    // Measured only when it held the VIP at the cut (it is the holder then).
    let held_at_cut = cut
        .iter()
        .rev()
        .find(|b| b.start <= fault_at)
        .is_some_and(|b| b.vip);
    let vip_released_s = cut
        .iter()
        .find(|a| held_at_cut && a.start > fault_at && !a.vip)
        .map(|a| a.start - fault_at);
    SplitBrain {
        vip_released_s,
        double_holder_s,
        both_writable_s,
        cut_off_node_writes: cut.iter().filter(|a| a.start > fault_at && a.ok).count(),
        fenced,
        vip_went_back,
    }
}

/// Did the peer hold the VIP at the time of `a` (its nearest attempt)?
fn peer_holds(peer: &[LocalAttempt], a: &LocalAttempt) -> bool {
    peer.iter()
        .min_by(|x, y| {
            (x.start - a.start)
                .abs()
                .total_cmp(&(y.start - a.start).abs())
        })
        .is_some_and(|p| p.vip)
}

/// Maximal runs of consecutive attempts for which `p` holds, as [start, end] intervals.
fn runs(attempts: &[LocalAttempt], p: impl Fn(&LocalAttempt) -> bool) -> Vec<(f64, f64)> {
    let mut out: Vec<(f64, f64)> = Vec::new();
    let mut open = false;
    for a in attempts {
        if p(a) {
            match out.last_mut() {
                Some(last) if open => last.1 = a.end,
                _ => out.push((a.start, a.end)),
            }
            open = true;
        } else {
            open = false;
        }
    }
    out
}

/// The longest time covered by an interval of `a` and one of `b` at once.
fn longest_overlap(a: &[(f64, f64)], b: &[(f64, f64)]) -> f64 {
    let mut best: f64 = 0.0;
    for x in a {
        for y in b {
            best = best.max(x.1.min(y.1) - x.0.max(y.0));
        }
    }
    best
}

/// What an isolate run's split-brain measure makes a failure: both nodes holding the
/// VIP, the VIP going back to the node that was cut off, and (where write fencing is in
/// force) both nodes accepting writes at once.
pub(super) fn problems(
    m: &SplitBrain,
    inv: &Inventory,
    old_name: &str,
    problems: &mut Vec<String>,
) {
    if m.double_holder_s > 0.0 {
        let hint = if inv.vip.arbiter.is_none() {
            " (no vip.arbiter: a cut-off holder keeps the VIP)"
        } else {
            ""
        };
        problems.push(format!(
            "both nodes held the VIP for {:.2} s (split brain){hint}",
            m.double_holder_s
        ));
    }
    if m.vip_went_back {
        problems.push(format!(
            "the VIP went back to {old_name} when it reconnected"
        ));
    }
    if m.fenced && m.both_writable_s > 0.0 {
        problems.push(format!(
            "both nodes accepted writes for {:.2} s",
            m.both_writable_s
        ));
    }
}

/// How long to wait for the writers' last lines after the fault ends.
pub(super) fn settle() -> Duration {
    Duration::from_secs(WRITERS_AFTER_S / 2)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(spec: &[(f64, bool, bool)]) -> Vec<LocalAttempt> {
        spec.iter()
            .map(|&(t, ok, vip)| LocalAttempt {
                start: t,
                end: t + 0.05,
                ok,
                vip,
            })
            .collect()
    }

    #[test]
    fn without_fencing_both_nodes_write_and_a_split_brain_shows() {
        // Cut at 10: the cut-off node keeps the VIP and its writes; the peer takes the VIP at 13.
        let cut: Vec<_> = (0..40).map(|i| (f64::from(i) * 0.5, true, true)).collect();
        let peer: Vec<_> = (0..40)
            .map(|i| (f64::from(i) * 0.5, true, f64::from(i) * 0.5 >= 13.0))
            .collect();
        let m = analyse(&log(&cut), &log(&peer), 10.0);
        assert!((m.double_holder_s - 6.55).abs() < 1e-6, "{m:?}");
        assert!(m.both_writable_s > 19.0, "{m:?}");
        assert!(!m.fenced);
        assert_eq!(m.cut_off_node_writes, 19);
        assert_eq!(m.vip_released_s, None);
    }

    #[test]
    fn with_the_arbiter_and_fencing_nothing_overlaps() {
        // The cut-off node drops the VIP and is fenced at 12; the peer takes over at 13.
        let cut: Vec<_> = (0..40)
            .map(|i| {
                let t = f64::from(i) * 0.5;
                (t, t < 12.0, t < 12.0)
            })
            .collect();
        let peer: Vec<_> = (0..40)
            .map(|i| {
                let t = f64::from(i) * 0.5;
                (t, t >= 13.0, t >= 13.0)
            })
            .collect();
        let m = analyse(&log(&cut), &log(&peer), 10.0);
        assert_eq!(m.double_holder_s, 0.0, "{m:?}");
        assert_eq!(m.both_writable_s, 0.0, "{m:?}");
        assert!(m.fenced);
        assert!(!m.vip_went_back);
        assert_eq!(m.vip_released_s, Some(2.0));
    }

    #[test]
    fn a_vip_that_returns_to_the_cut_off_node_is_flagged() {
        let cut: Vec<_> = (0..40)
            .map(|i| {
                let t = f64::from(i) * 0.5;
                (t, true, !(12.0..16.0).contains(&t))
            })
            .collect();
        let peer: Vec<_> = (0..40)
            .map(|i| {
                let t = f64::from(i) * 0.5;
                (t, true, (13.0..16.0).contains(&t))
            })
            .collect();
        assert!(analyse(&log(&cut), &log(&peer), 10.0).vip_went_back);
    }
}
