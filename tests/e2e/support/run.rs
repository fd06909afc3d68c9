//! Running the mhactl binary under test: plain, required to succeed, and reading its
//! output as text or JSON.

use std::process::{Command, Output};

/// Run mhactl with `args`.
pub fn mhactl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("cannot run mhactl")
}

/// Run mhactl and require success; return what it printed, standard output then standard
/// error (issue 20: step lines go to standard error as they finish, the totals and the
/// verdict to standard output; callers look for either).
pub fn mhactl_ok(args: &[&str]) -> String {
    let out = mhactl(args);
    assert!(
        out.status.success(),
        "mhactl {} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    text(&out)
}

/// Standard output then standard error, as one text (what a user sees in a terminal).
pub fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The step lines a text-mode run showed as its steps finished (issue 20: once each, on
/// standard error, not again on standard output), without their `[  12.3s] ` stamps:
/// `node-a   install-packages  changed   install ...` and their continuation lines.
pub fn step_lines(out: &Output) -> Vec<String> {
    String::from_utf8_lossy(&out.stderr)
        .lines()
        .map(
            |l| match l.strip_prefix('[').and_then(|r| r.split_once("s] ")) {
                Some((stamp, rest)) if stamp.trim().parse::<f64>().is_ok() => rest.to_string(),
                _ => l.to_string(),
            },
        )
        .collect()
}

/// Standard output parsed as JSON; `what` names the command in the failure, which
/// shows both streams.
pub fn json(out: &Output, what: &str) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{what}: output is not JSON ({e}):\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Run mhactl with `args` (which ask for `--output json`): the output and its JSON report.
pub fn mhactl_json(args: &[&str]) -> (Output, serde_json::Value) {
    let out = mhactl(args);
    let report = json(&out, &format!("mhactl {}", args.join(" ")));
    (out, report)
}

/// The entries of a bootstrap JSON report's steps that say "changed".
fn changed(report: &serde_json::Value) -> impl Iterator<Item = &serde_json::Value> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "changed")
}

/// The changed steps with their details, for a failure's message.
pub fn changed_with_detail(report: &serde_json::Value) -> Vec<String> {
    changed(report)
        .map(|s| format!("{}/{}: {}", s["node"], s["step"], s["detail"]))
        .collect()
}

/// The steps a bootstrap JSON report says it changed, as "node/step".
pub fn changed_steps(report: &serde_json::Value) -> Vec<String> {
    changed(report)
        .map(|s| {
            format!(
                "{}/{}",
                s["node"].as_str().unwrap(),
                s["step"].as_str().unwrap()
            )
        })
        .collect()
}

/// `mhactl -q -i INV failover-test --mode MODE --duration SECS --output json` on `lab`:
/// the process output (exit status, stderr) and the JSON report. The scenarios that
/// inject a fault (failover, fencing, semi-sync, isolate) run it this one way.
pub fn failover_test_json_for(
    lab: &super::Lab,
    mode: &str,
    secs: u32,
) -> (Output, serde_json::Value) {
    let inv = lab.inventory();
    let secs = secs.to_string();
    mhactl_json(&[
        "-q",
        "-i",
        &inv,
        "failover-test",
        "--mode",
        mode,
        "--duration",
        &secs,
        "--output",
        "json",
    ])
}

/// [`failover_test_json_for`] with 6 s of faults (enough for every mode to move the VIP).
pub fn failover_test_json(lab: &super::Lab, mode: &str) -> (Output, serde_json::Value) {
    failover_test_json_for(lab, mode, 6)
}
