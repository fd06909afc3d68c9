//! End-to-end on the lab: failover-test `--mode isolate` with the lab's arbiter (the
//! host's bridge address, which `lab up` writes as `vip.arbiter`). The VIP holder is cut
//! off by firewall rules while its link stays up: the VIP moves, the cut-off node
//! releases it (keepalived FAULT through chk_arbiter) so both never hold it, after the
//! reconnection it stays on the new holder, the pair is healthy and identical; an
//! interrupted run removes its rules.

use crate::support::{failover_test_json_for, mhactl, mhactl_json, text, Lab, Run, Scenario};
use std::process::Command;
use std::time::Duration;

/// Does `node` hold the VIP? Read from the host through the node's network namespace,
/// so it works while the node is cut off (SSH from the host is dropped then, except
/// mhactl's own connection).
fn holds_vip(lab: &Lab, node: &str) -> bool {
    let out = Command::new("ip")
        .args([
            "-n",
            &format!("mhactl{}-{node}", lab.subnet),
            "-4",
            "-o",
            "addr",
            "show",
            "dev",
            "eth0",
        ])
        .output()
        .expect("ip -n");
    String::from_utf8_lossy(&out.stdout).contains(&format!("inet {}/", lab.addr(100)))
}

fn holder(lab: &Lab) -> &'static str {
    if holds_vip(lab, "node-a") {
        "node-a"
    } else {
        "node-b"
    }
}

fn assert_no_isolate_rules(lab: &Lab, what: &str) {
    for node in ["node-a", "node-b"] {
        let rules = lab.ssh_ok(node, "nft list ruleset");
        assert!(
            !rules.contains("mhactl_isolate"),
            "{what}: isolate rules left on {node}:\n{rules}"
        );
    }
}

fn isolate_with_the_arbiter_moves_the_vip_once_and_never_to_both_nodes(lab: Lab) {
    let inv_text = std::fs::read_to_string(lab.inventory()).unwrap();
    assert!(
        inv_text.contains(&format!("arbiter: {}", lab.addr(1))),
        "lab up offers the arbiter:\n{inv_text}"
    );
    lab.bootstrap_ok();
    let before = holder(&lab);
    let inv = lab.inventory();
    let since = crate::tickle::now();
    let (out, r) = failover_test_json_for(&lab, "isolate", 8);
    eprintln!("isolate: {r}");
    assert_eq!(r["mode"], "isolate", "{}", text(&out));
    assert_eq!(r["old_holder"], before, "{r}");
    assert_ne!(r["old_holder"], r["new_holder"], "{r}");
    let moved = r["vip_moved_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("isolate: the VIP did not move: {r}"));
    assert!(moved > 0.0 && moved < 15.0, "VIP move time {moved}");
    // The cut-off holder released the VIP (FAULT) before the peer took it: never both,
    // and within the timers' worst case (2.2 s) plus the writer's sampling.
    assert_eq!(r["double_holder_s"].as_f64(), Some(0.0), "{r}");
    let released = r["vip_released_s"]
        .as_f64()
        .unwrap_or_else(|| panic!("the cut-off holder kept the VIP: {r}"));
    assert!(released < 3.0, "released the VIP after {released} s: {r}");
    // With write fencing in force (the fence agent), never both writable.
    if r["fenced"] == true {
        assert_eq!(r["both_writable_s"].as_f64(), Some(0.0), "{r}");
    }
    // Reconnected, it came back as BACKUP: the VIP stayed on the new holder.
    assert_eq!(r["vip_went_back"], false, "{r}");
    assert_eq!(r["rejoined"], true, "{r}");
    assert_eq!(r["healthy_after"], true, "{r}");
    assert_eq!(r["writes_missing_after_rejoin"], 0, "{r}");
    let lost = r["writes_lost"].as_u64().unwrap();
    assert_eq!(r["ok"], lost == 0, "{r}");
    assert_eq!(out.status.code(), Some(if lost == 0 { 0 } else { 1 }));
    let after = holder(&lab);
    assert_ne!(after, before, "the VIP went back to {before}");
    assert!(!holds_vip(&lab, before), "both nodes hold the VIP");
    assert_no_isolate_rules(&lab, "after a complete run");
    crate::tickle::assert_tickled(&lab, "isolate", &r, since);
    // The split-brain writers' files are gone (switchover's tracked files, the state of
    // keepalived's checks and the fence agent's records stay: the arbiter probe's last
    // answer, the detection log and its markers, the agent's transitions, takeover and
    // tickle),
    // and (verify's probe-leftovers: any mhactl_probe account, whatever its host) their
    // accounts.
    for node in ["node-a", "node-b"] {
        let listing = lab.ssh_ok(node, "ls -A /run/mhactl");
        let left: Vec<&str> = listing.lines().filter(|f| !kept_in_run_dir(f)).collect();
        assert!(left.is_empty(), "{node}: {left:?}");
    }
    let (_, v) = mhactl_json(&["-i", &inv, "verify", "--output", "json"]);
    let leftovers: Vec<&serde_json::Value> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "probe-leftovers")
        .collect();
    assert_eq!(leftovers.len(), 2, "{v}");
    assert!(leftovers.iter().all(|c| c["ok"] == true), "{v}");
    let arbiter = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "arbiter")
        .cloned();
    assert_eq!(arbiter.map(|c| c["ok"].clone()), Some(true.into()), "{v}");

    // SIGINT while the holder is cut off: the undo stack removes the rules at once
    // (long before the dead-man's switch at 60 s).
    let cut = after;
    let mut run = Run::start(&[
        "-i",
        &inv,
        "failover-test",
        "--mode",
        "isolate",
        "--duration",
        "60",
    ]);
    assert!(
        run.wait_line(Duration::from_secs(90), |l| l.contains("VIP on node-")),
        "isolate never moved the VIP:\n{}",
        run.seen.join("\n")
    );
    assert!(
        !holds_vip(&lab, cut),
        "{cut} is cut off and must have released the VIP (FAULT)"
    );
    assert!(run.signal("INT"), "ended before SIGINT");
    let (status, out) = run.finish(Duration::from_secs(120));
    eprintln!("isolate, SIGINT: {status}\n{out}");
    assert_eq!(status.code(), Some(130), "{out}");
    assert_no_isolate_rules(&lab, "after SIGINT");
    let verify = mhactl(&["-i", &inv, "verify", "--wait", "60"]);
    assert!(verify.status.success(), "after SIGINT:\n{}", text(&verify));
    assert!(
        !holds_vip(&lab, cut),
        "the VIP went back to {cut} after it reconnected"
    );
}

/// The same on the MySQL flavor (super_read_only, its own client).
fn mysql_isolate_with_the_arbiter_moves_the_vip_once_and_never_to_both_nodes(lab: Lab) {
    isolate_with_the_arbiter_moves_the_vip_once_and_never_to_both_nodes(lab)
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    // Exclusive: the measure depends on keepalived's timers (the cut-off node must reach
    // FAULT before its peer's master-down timer expires), which a loaded machine skews.
    vec![
        scenario!(isolate_with_the_arbiter_moves_the_vip_once_and_never_to_both_nodes).exclusive(),
        scenario!(mysql_isolate_with_the_arbiter_moves_the_vip_once_and_never_to_both_nodes)
            .flavor("mysql")
            .exclusive(),
    ]
}

/// Files in /run/mhactl that stay after a run: switchover's tracked files and the state
/// of keepalived's checks (the arbiter probe's last answer, the detection log and its
/// markers).
fn kept_in_run_dir(f: &str) -> bool {
    [
        "vip-release",
        "vip-take",
        "arbiter-answered",
        "detection.log",
        // The FIFO the checks sleep on without a process (nobody writes it).
        "nap.fifo",
        // The fence agent's transitions log and last takeover record (failover-test
        // reads them: issue 17's catch-up).
        "fence-events",
        "fence-takeover",
        // The agent's copy of the peer's client list, the one its last takeover
        // tickled, and that tickle's record (issue 17's tickle ACKs).
        "peer-clients",
        "peer-clients.used",
        "peer-clients.tmp",
        "tickle-last",
        // The agent's last verdict on semi-sync's source side (its dump threads' replicas
        // answering or not), and one being written.
        "semi-sync-verdict",
        "semi-sync-verdict.new",
    ]
    .contains(&f)
        || (f.starts_with("detect-") && f.ends_with(".failing"))
}
