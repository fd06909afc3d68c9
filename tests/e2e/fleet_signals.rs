//! End-to-end on the lab (issue 21 item 2): a fleet run stopped by Ctrl-C, and two fleet
//! runs overlapping on one cluster.
//!
//! - SIGINT to a fleet bootstrap (from bare nodes, both clusters running): the signal is
//!   passed on to each cluster's run, which finishes its step and stops (exit 130, its
//!   "every step is either done or not started"), its node locks and private
//!   directories are gone, no per-cluster process outlives the run, and the fleet run
//!   exits 130 with each cluster reported STOPPED;
//! - while a fleet run (`--limit A`) holds cluster A, a second fleet run over both
//!   clusters fails A naming the lock's holder and converges B (exit 1); the first run
//!   ends ok, and a re-run of the fleet then changes nothing.

use crate::support::{json, mhactl, text, Run, Scenario, Subnet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The holder line of node `node`'s lock in pair `pair` (`mhactl bootstrap by ...`), or
/// "" when no run holds it.
fn lock_owner(lab: &Path, pair: usize, node: &str) -> String {
    let dir = lab.join(format!("pair{pair}"));
    let out = mhactl(&[
        "lab",
        "ssh",
        "--dir",
        dir.to_str().unwrap(),
        node,
        "--",
        "sh",
        "-c",
        "cat /run/mhactl.owner 2>/dev/null || true",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

/// Wait until every pair in `pairs` has node-a locked by a bootstrap (its run got past
/// `connect`); false after `limit`.
fn wait_locked(lab: &Path, pairs: &[usize], limit: Duration) -> bool {
    let until = Instant::now() + limit;
    while Instant::now() < until {
        if pairs
            .iter()
            .all(|&p| lock_owner(lab, p, "node-a").contains("mhactl bootstrap"))
        {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// Processes still running with `TMPDIR=tmp` in their environment (a run's leftovers),
/// except the ssh masters kept for the next run (`ssh.persist_s`, docs/inventory.md
/// "Reusing the SSH connection"): an `ssh -M` whose control socket is under
/// `~/.mhactl/cp/`, which ends by itself when idle and is no run of mhactl.
fn processes_with_tmp(tmp: &Path) -> Vec<u32> {
    let needle = format!("TMPDIR={}", tmp.display());
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/environ"))
                .map(|env| env.split(|b| *b == 0).any(|v| v == needle.as_bytes()))
                .unwrap_or(false)
        })
        .filter(|pid| !is_kept_ssh_master(*pid))
        .collect()
}

/// `pid` is an ssh master kept for the next run: `ssh ... -M ...` with its control
/// socket (`-S`) under `/.mhactl/cp/`.
fn is_kept_ssh_master(pid: u32) -> bool {
    let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let args: Vec<String> = cmdline
        .split(|b| *b == 0)
        .map(|a| String::from_utf8_lossy(a).into_owned())
        .collect();
    let is_ssh = args
        .first()
        .is_some_and(|a| a == "ssh" || a.ends_with("/ssh"));
    let socket = args
        .iter()
        .position(|a| a == "-S")
        .and_then(|i| args.get(i + 1));
    is_ssh && args.iter().any(|a| a == "-M") && socket.is_some_and(|s| s.contains("/.mhactl/cp/"))
}

fn fleet_ctrl_c_and_overlapping_runs(subnets: Vec<Subnet>) {
    crate::interrupt::require_sigint_not_ignored();
    let (lab, nets, inv) = crate::fleet::pairs_up(&subnets);
    let (a, b) = (format!("lab{}", nets[0]), format!("lab{}", nets[1]));

    // 1. Ctrl-C of a fleet bootstrap once both clusters' runs hold their locks.
    let scratch = PathBuf::from(format!("/tmp/mhactl-fs{}", nets[0]));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch).unwrap();
    let mut run = Run::start_with_tmp(
        &["bootstrap", &inv, "--forks", "2", "--output", "json"],
        &scratch,
    );
    assert!(
        wait_locked(&lab.dir, &[1, 2], Duration::from_secs(180)),
        "the clusters' runs never took their locks:\n{}",
        run.seen.join("\n")
    );
    assert!(run.signal("INT"), "the fleet run ended before SIGINT");
    let (status, out) = run.finish(Duration::from_secs(600));
    assert_eq!(status.code(), Some(130), "{out}");
    let start = out.find('{').expect("a JSON document");
    let end = out.rfind('}').expect("a JSON document");
    let doc: serde_json::Value = serde_json::from_str(&out[start..=end])
        .unwrap_or_else(|e| panic!("not one JSON document ({e}):\n{out}"));
    assert_eq!(doc["exit_code"], 130, "{doc:#}");
    assert_eq!(doc["ok"], false);
    for (c, name) in doc["clusters"].as_array().unwrap().iter().zip([&a, &b]) {
        assert_eq!(c["cluster"], name.as_str());
        assert_eq!(c["exit_code"], 130, "{c:#}");
        let error = c["error"].as_str().unwrap_or_default();
        assert!(
            error.contains("every step is either done or not started")
                && error.contains("interrupted by SIGINT"),
            "{name} did not stop cleanly: {c:#}"
        );
    }
    for pair in [1, 2] {
        for node in ["node-a", "node-b"] {
            assert_eq!(
                lock_owner(&lab.dir, pair, node),
                "",
                "pair{pair} {node} is still locked after the run stopped"
            );
        }
    }
    assert_eq!(
        processes_with_tmp(&scratch),
        Vec::<u32>::new(),
        "a cluster's run outlived the fleet run"
    );
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().flatten().collect();
    assert!(left.is_empty(), "private directories left: {left:?}");
    let _ = std::fs::remove_dir_all(&scratch);

    // 2. A fleet run on cluster A holds its locks; a second fleet run over both fails A
    //    (locked, naming the holder) and converges B.
    let first = Run::start(&["bootstrap", &inv, "--limit", &a, "--output", "json"]);
    assert!(
        wait_locked(&lab.dir, &[1], Duration::from_secs(180)),
        "the first run never locked {a}:\n{}",
        first.seen.join("\n")
    );
    let first_pid = first.child.id();
    let out = mhactl(&["bootstrap", &inv, "--output", "json"]);
    let doc = json(&out, "the second, overlapping fleet run");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(doc["exit_code"], 1);
    let (ca, cb) = (&doc["clusters"][0], &doc["clusters"][1]);
    assert_eq!(ca["cluster"], a.as_str());
    assert!(
        ca["ok"] == false && ca["exit_code"] == 1,
        "{a} ran although the first run held it (it ended too early? the test proved \
         nothing): {ca:#}"
    );
    // The refusal is its `connect` step's failure (a failed step, not an `error:` line).
    let refused = ca["result"]["steps"].as_array().is_some_and(|steps| {
        steps.iter().any(|s| {
            let detail = s["detail"].as_str().unwrap_or_default();
            s["step"] == "connect"
                && s["status"] == "failed"
                && detail.contains("is in use by another mhactl run")
                && detail.contains("mhactl bootstrap by ")
        })
    });
    assert!(refused, "{a}'s refusal does not name the holder: {ca:#}");
    assert_eq!(cb["cluster"], b.as_str());
    assert_eq!(cb["ok"], true, "{b} did not converge: {cb:#}");
    let (status, out) = first.finish(Duration::from_secs(600));
    assert!(status.success(), "the first run (pid {first_pid}): {out}");

    // 3. Everything converged: a re-run of the fleet changes nothing.
    let out = mhactl(&["bootstrap", &inv]);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    for name in [&a, &b] {
        let line = all
            .lines()
            .find(|l| l.starts_with(name.as_str()))
            .unwrap_or("");
        assert!(
            line.contains(" ok ") && line.contains("changed=0 "),
            "{all}"
        );
    }
}

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario::new(
        module_path!(),
        "fleet_ctrl_c_and_overlapping_runs",
        crate::support::Needs::Subnets(2, fleet_ctrl_c_and_overlapping_runs),
    )]
}
