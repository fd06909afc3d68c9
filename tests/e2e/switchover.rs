//! End-to-end on the lab: `mhactl switchover` both ways under a writer through the VIP
//! (0 acknowledged writes lost, the old holder takes nothing after its fence), a dry
//! run and a switch to the current holder change nothing, and a forced timeout before
//! the VIP moved, or a failure after it moved, rolls the pair back exactly as it was.
//! Writes go through the VIP only (the passive node may be read-only).

use crate::support::{mhactl, mhactl_json, text, Lab, Run, Scenario};
use serde_json::Value;
use std::process::{Command, Output};
use std::time::Duration;

/// What a rollback must restore, read on the nodes themselves.
#[derive(Debug, PartialEq)]
struct PairState {
    /// Per node: holds the VIP, `@@read_only`, `fence-hold` when the hold file exists,
    /// the release and take files' values (`release/take`).
    nodes: Vec<(bool, String, String, String)>,
}

fn client(lab: &Lab, flavor: &str, node: &str) -> String {
    if flavor == "mysql" {
        lab.root_option_file(node);
        "mysql --defaults-extra-file=/root/e2e.cnf".into()
    } else {
        "mysql".into()
    }
}

fn state(lab: &Lab, flavor: &str) -> PairState {
    let vip = lab.addr(100);
    let nodes = ["node-a", "node-b"]
        .iter()
        .map(|node| {
            let c = client(lab, flavor, node);
            let out = lab.ssh_ok(
                node,
                &format!(
                    "ip -o -4 addr show | grep -qF ' inet {vip}/' && echo holder || echo passive; \
                     {c} -N -B -e 'SELECT @@GLOBAL.read_only'; \
                     [ -e /run/mhactl/fence-hold ] && echo fence-hold || echo; \
                     echo $(cat /run/mhactl/vip-release 2>/dev/null || echo absent)/$(cat /run/mhactl/vip-take 2>/dev/null || echo absent)"
                ),
            );
            let l: Vec<&str> = out.lines().collect();
            (
                l[0] == "holder",
                l[1].trim().to_string(),
                l[2].trim().to_string(),
                l.get(3).unwrap_or(&"").trim().to_string(),
            )
        })
        .collect();
    PairState { nodes }
}

fn holder(s: &PairState) -> &'static str {
    match (s.nodes[0].0, s.nodes[1].0) {
        (true, false) => "node-a",
        (false, true) => "node-b",
        other => panic!("VIP not on exactly one node: {other:?}"),
    }
}

fn switchover(lab: &Lab, extra: &[&str], fail_at: Option<&str>) -> (Output, Value) {
    let inv = lab.inventory();
    let mut args = vec!["-i", inv.as_str(), "switchover", "--output", "json"];
    args.extend_from_slice(extra);
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mhactl"));
    cmd.args(&args).env("NO_COLOR", "1");
    if let Some(step) = fail_at {
        cmd.env("MHACTL_SWITCHOVER_FAIL_AT", step);
    }
    let out = cmd.output().expect("cannot run mhactl");
    let report = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("switchover {extra:?}: not JSON ({e}):\n{}", text(&out)));
    (out, report)
}

fn healthy(lab: &Lab, what: &str) {
    let out = mhactl(&["-i", &lab.inventory(), "verify", "--wait", "60"]);
    assert!(out.status.success(), "{what}: verify:\n{}", text(&out));
}

fn switch_and_check(lab: &Lab, flavor: &str, from: &str, to: &str) {
    let (out, r) = switchover(lab, &["--measure"], None);
    eprintln!("{flavor} {from} -> {to}: {r}");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(r["outcome"], "switched", "{r}");
    assert_eq!(r["old_holder"], from, "{r}");
    assert_eq!(r["new_holder"], to, "{r}");
    let m = &r["measure"];
    assert_eq!(m["writes_lost"], 0, "acknowledged writes lost: {r}");
    assert_eq!(
        m["writes_on_old_after_fence"], 0,
        "the old holder took writes after its fence: {r}"
    );
    assert!(m["writes_acked"].as_u64().unwrap() > 20, "{r}");
    assert!(m["write_gap_s"].as_f64().unwrap() < 10.0, "{r}");
    // Proved: the same position, or (MySQL with GTIDs) the old holder's whole GTID set.
    let exec = r["peer_executed_position"]
        .as_str()
        .expect("proved position");
    assert!(r["captured_position"].is_string(), "{r}");
    if !exec.contains("GTID") {
        assert_eq!(r["captured_position"], exec, "{r}");
    }
    let names: Vec<&str> = r["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    for step in [
        "preflight",
        "hold",
        "fence",
        "capture",
        "wait",
        "prove",
        "release",
        "move-vip",
        "unfence",
        "sessions",
        "canary",
        "finish",
    ] {
        assert!(names.contains(&step), "{step} missing: {names:?}");
    }
    // The nodes agree: the VIP on `to`, which is writable; no hold file, release 0.
    let s = state(lab, flavor);
    assert_eq!(holder(&s), to, "{s:?}");
    let i = if to == "node-a" { 0 } else { 1 };
    assert_eq!(s.nodes[i].1, "0", "new holder not writable: {s:?}");
    for n in &s.nodes {
        assert_eq!(n.2, "", "fence hold left in /run/mhactl: {s:?}");
        assert_eq!(n.3, "0/0", "release or take file not reset: {s:?}");
    }
    healthy(lab, &format!("after {from} -> {to}"));
}

/// verify's `switchover-tracking` on `node`: ok, and the detail when it is not.
fn tracking(lab: &Lab, node: &str) -> (bool, String) {
    let (_, report) = mhactl_json(&["-i", &lab.inventory(), "verify", "--output", "json"]);
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "switchover-tracking" && c["node"] == node)
        .unwrap_or_else(|| panic!("no switchover-tracking check for {node}: {report}"))
        .clone();
    let ok = check["ok"] == true;
    let detail = if ok {
        String::new()
    } else {
        check["detail"].as_str().unwrap().to_string()
    };
    (ok, detail)
}

fn rollback_and_check(lab: &Lab, flavor: &str, fail_at: &str) {
    let before = state(lab, flavor);
    let from = holder(&before);
    let (out, r) = switchover(lab, &["--measure"], Some(fail_at));
    eprintln!("{flavor} rollback at {fail_at}: {r}");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(r["outcome"], "rolled-back", "{r}");
    assert_eq!(r["new_holder"], from, "{r}");
    assert_eq!(r["rollback_problems"], serde_json::json!([]), "{r}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("rolled back"), "{err}");
    assert_eq!(
        state(lab, flavor),
        before,
        "not as before after a rollback at {fail_at}"
    );
    healthy(lab, &format!("after the rollback at {fail_at}"));
}

fn interrupted_and_check(lab: &Lab, flavor: &str, signal: &str, code: i32) {
    let before = state(lab, flavor);
    let inv = lab.inventory();
    let mut run = Run::start_with_env(
        &["-i", &inv, "switchover"],
        &[("MHACTL_SWITCHOVER_PAUSE_AT", "canary")],
    );
    assert!(
        run.wait_line(Duration::from_secs(120), |l| l
            .contains("paused before canary")),
        "never paused:\n{}",
        run.seen.join("\n")
    );
    // The VIP moved to the peer by now.
    assert_ne!(
        holder(&state(lab, flavor)),
        holder(&before),
        "the VIP did not move"
    );
    assert!(run.signal(signal), "ended before SIG{signal}");
    let (status, out) = run.finish(Duration::from_secs(120));
    eprintln!("{flavor} SIG{signal}: {status}\n{out}");
    assert_eq!(status.code(), Some(code), "{out}");
    assert!(out.contains("rolled back"), "{out}");
    assert_eq!(
        state(lab, flavor),
        before,
        "not as before after SIG{signal}"
    );
    healthy(lab, &format!("after SIG{signal}"));
}

fn switchover_both_ways_loses_nothing_and_rolls_back_exactly(lab: Lab, flavor: &str) {
    lab.bootstrap_ok();
    let before = state(&lab, flavor);
    let a = holder(&before);
    let b = if a == "node-a" { "node-b" } else { "node-a" };

    // A dry run prints the plan and changes nothing.
    let (out, r) = switchover(&lab, &["--dry-run"], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(r["outcome"], "dry-run", "{r}");
    assert!(r["plan"].as_array().unwrap().len() >= 8, "{r}");
    assert_eq!(state(&lab, flavor), before, "the dry run changed something");

    // The current holder as target: nothing to do, exit 0, says so.
    let (out, r) = switchover(&lab, &["--to", a], None);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(r["outcome"], "noop", "{r}");
    assert_eq!(state(&lab, flavor), before, "the noop changed something");
    let out = mhactl(&["-i", &lab.inventory(), "switchover", "--to", "nosuch"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("nosuch"), "{}", text(&out));

    // Refused with the node and the reason when a replication thread is stopped:
    // nothing changed, exit 1, the report says `refused`.
    let c = client(&lab, flavor, b);
    let (stop, start) = if flavor == "mysql" {
        ("STOP REPLICA SQL_THREAD", "START REPLICA SQL_THREAD")
    } else {
        ("STOP SLAVE SQL_THREAD", "START SLAVE SQL_THREAD")
    };
    lab.ssh_ok(b, &format!("{c} -e '{stop}'"));
    let (out, r) = switchover(&lab, &[], None);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(r["outcome"], "refused", "{r}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{b}: replication is not running (IO Yes, SQL No)")),
        "{err}"
    );
    assert_eq!(state(&lab, flavor), before, "the refusal changed something");
    lab.ssh_ok(b, &format!("{c} -e '{start}'"));
    healthy(&lab, "after restarting the SQL thread");

    // Rolled back before the VIP moved (the wait times out), then after it moved.
    rollback_and_check(&lab, flavor, "wait");
    rollback_and_check(&lab, flavor, "canary");

    // SIGINT once the VIP moved (paused before the canary): rolled back, exit 130.
    interrupted_and_check(&lab, flavor, "INT", 130);

    // After a reboot /run/mhactl is gone (a tmpfs) and keepalived tracks nothing there:
    // verify warns about that node; the next switchover repairs it (its `track` step).
    assert_eq!(tracking(&lab, b), (true, String::new()), "before");
    // (keepalived's detection checks may make the directory again at once: then it exists
    // but keepalived, which watched the old one, does not watch it.)
    lab.ssh_ok(b, "rm -rf /run/mhactl");
    let (ok, detail) = tracking(&lab, b);
    assert!(
        !ok && (detail.contains("/run/mhactl is missing")
            || detail.contains("the running keepalived does not watch it")),
        "{detail}"
    );

    // Both ways, measured.
    switch_and_check(&lab, flavor, a, b);
    assert_eq!(
        tracking(&lab, b),
        (true, String::new()),
        "after the switchover"
    );
    switch_and_check(&lab, flavor, b, a);

    // Nothing left behind by the probe or the canary.
    let c = client(&lab, flavor, "node-a");
    let left = lab.ssh_ok(
        "node-a",
        &format!("{c} -N -B -e \"SELECT COUNT(*) FROM mysql.user WHERE User='mhactl_probe'; SHOW DATABASES LIKE 'mhactl_probe'\""),
    );
    assert_eq!(left.trim(), "0", "{left}");
}

fn switchover_mariadb(lab: Lab) {
    switchover_both_ways_loses_nothing_and_rolls_back_exactly(lab, "mariadb");
}

fn switchover_mysql(lab: Lab) {
    switchover_both_ways_loses_nothing_and_rolls_back_exactly(lab, "mysql");
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    // Not exclusive: the assertions bound no timing tightly (a write gap under 10 s).
    vec![
        scenario!(switchover_mariadb),
        scenario!(switchover_mysql).flavor("mysql"),
    ]
}
