//! End-to-end on the lab: `mhactl status` on bare nodes, on a bootstrapped pair, and
//! with replication stopped; its JSON has the documented fields; piped output of
//! status and bootstrap holds no control characters.

use crate::support::{Lab, Scenario};
use serde_json::Value;
use std::process::{Command, Output};

/// Run mhactl with piped stdout/stderr and the environment as a user would have it
/// (no NO_COLOR: colours must be off because the streams are not terminals).
fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(args)
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .output()
        .expect("cannot run mhactl")
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_plain(what: &str, out: &Output) {
    let (stdout, stderr) = text(out);
    for (stream, s) in [("stdout", &stdout), ("stderr", &stderr)] {
        assert!(
            !s.contains('\x1b') && !s.contains('\r'),
            "{what}: {stream} has control characters:\n{s:?}"
        );
    }
}

fn status_json(lab: &Lab) -> (i32, Value) {
    let inv = lab.inventory();
    let out = run(&["-i", &inv, "status", "--output", "json"]);
    let (stdout, stderr) = text(&out);
    let v = serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("status output is not JSON ({e}): {stdout}\n{stderr}"));
    (out.status.code().unwrap_or(-1), v)
}

fn status_shows_the_pair_and_fails_when_replication_stops(lab: Lab) {
    let subnet = lab.subnet;
    let inv = lab.inventory();

    // Bare nodes: reachable, no server, no VIP: exit 1 with the reasons.
    let (code, v) = status_json(&lab);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["ok"], false);
    for n in v["nodes"].as_array().unwrap() {
        assert_eq!(n["reachable"], true, "{n:#}");
        assert_eq!(n["server_running"], false, "{n:#}");
    }
    let problems = v["problems"].to_string();
    assert!(problems.contains("does not answer"), "{problems}");
    assert!(problems.contains("no node holds the VIP"), "{problems}");

    // Bootstrap with piped output: plain lines, the table with per-node totals.
    let out = run(&["bootstrap", &inv]);
    let (stdout, stderr) = text(&out);
    assert!(
        out.status.success(),
        "bootstrap failed:\n{stdout}\n{stderr}"
    );
    assert_plain("bootstrap", &out);
    assert!(
        stdout.contains("NODE     CHANGED UNCHANGED FAILED SKIPPED     TIME"),
        "{stdout}"
    );
    assert!(
        stderr.contains("install-packages"),
        "progress lines: {stderr}"
    );

    // A healthy pair.
    let (code, v) = status_json(&lab);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["ok"], true);
    assert_eq!(v["cluster"], format!("lab{subnet}"));
    assert_eq!(v["vip"], format!("10.213.{subnet}.100/24"));
    let holder = v["vip_holder"].as_str().expect("one holder").to_string();
    let nodes = v["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    for (i, n) in nodes.iter().enumerate() {
        let peer = &nodes[1 - i];
        assert_eq!(n["flavor"], "mariadb");
        assert!(n["version"].as_str().unwrap().starts_with("10."), "{n:#}");
        assert_eq!(n["server_id"], i + 1);
        assert_eq!(n["keepalived_running"], true);
        let role = if n["name"] == holder.as_str() {
            "vip-holder"
        } else {
            "standby"
        };
        assert_eq!(n["role"], role);
        let r = &n["replication"];
        assert_eq!(r["io_running"], true, "{n:#}");
        assert_eq!(r["sql_running"], true, "{n:#}");
        assert_eq!(r["source_node"], peer["name"]);
        assert_eq!(r["source_host"], peer["address"]);
        assert!(r["seconds_behind"].is_u64());
    }

    let out = run(&["-i", &inv, "status"]);
    let (stdout, _) = text(&out);
    assert!(out.status.success(), "{stdout}");
    assert_plain("status", &out);
    assert!(stdout.contains("status: OK"), "{stdout}");
    assert!(stdout.contains("node-a -> node-b"), "{stdout}");
    assert!(stdout.contains("node-b -> node-a"), "{stdout}");
    let out = run(&["-i", &inv, "-q", "status"]);
    assert_eq!(text(&out).0.lines().count(), 1, "{}", text(&out).0);

    // Replication stopped on node-b: exit 1, and the problem names it.
    lab.ssh_ok("node-b", "mysql -e 'STOP SLAVE'");
    let (code, v) = status_json(&lab);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["nodes"][1]["replication"]["io_running"], false);
    let problems = v["problems"].to_string();
    assert!(
        problems.contains("node-b: replication IO and SQL threads not running"),
        "{problems}"
    );
    let out = run(&["-i", &inv, "status"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).0.contains("status: NOT HEALTHY"));
    assert_plain("status (unhealthy)", &out);

    // keepalived stopped on the standby: a warning, still exit 0.
    lab.ssh_ok("node-b", "mysql -e 'START SLAVE'");
    let standby = if holder == "node-a" {
        "node-b"
    } else {
        "node-a"
    };
    lab.ssh_ok(
        standby,
        "/etc/init.d/keepalived stop >/dev/null 2>&1 || true",
    );
    // (the init script may return before keepalived has exited: poll)
    let warning = format!("keepalived is not running on {standby}");
    let mut last = Value::Null;
    let mut code = -1;
    for _ in 0..30 {
        (code, last) = status_json(&lab);
        if last["warnings"].to_string().contains(&warning) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    assert!(last["warnings"].to_string().contains(&warning), "{last:#}");
    assert_eq!(code, 0, "{last:#}");
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        status_shows_the_pair_and_fails_when_replication_stops
    )]
}
