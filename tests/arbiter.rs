//! `vip.arbiter`: validation, keepalived.conf's `chk_arbiter` (golden files) and the
//! check script's `arbiter` branch, run with bash against a fake `ping`.
//!
//! Run with `UPDATE_GOLDEN=1` to rewrite the golden files after an intended change.

use mhactl::inventory::Inventory;
use mhactl::os::{OsFamily, OsTarget};
use mhactl::render::{render_check_script, render_keepalived_conf};
use std::path::Path;

#[path = "common/render_inventory.rs"]
mod render_inventory;
use render_inventory::{golden, inventory, shop_yaml};
use std::process::Command;

/// The shop pair with the arbiter every test here is about.
fn yaml() -> String {
    shop_yaml("  arbiter: 10.213.0.1\n", "")
}

/// Parsed and validated, as every command reads an inventory.
fn parse(yaml: &str) -> anyhow::Result<Inventory> {
    mhactl::inventory::parse(yaml, "inventory.yaml")
}

fn os() -> OsTarget {
    OsTarget::new(OsFamily::Debian, mhactl::inventory::Flavor::Mariadb).unwrap()
}

#[test]
fn golden_keepalived_with_arbiter() {
    let inv = inventory(&yaml());
    for (i, name) in ["node-a", "node-b"].iter().enumerate() {
        let conf = render_keepalived_conf(&inv, i).unwrap();
        let peer = if i == 0 { "10.213.0.12" } else { "10.213.0.11" };
        assert!(
            conf.contains(&format!(
                "script \"/etc/keepalived/mhactl-check-mysql.sh arbiter {peer}\""
            )),
            "{conf}"
        );
        golden(&format!("arbiter-{name}-keepalived.conf"), &conf);
    }
    golden(
        "arbiter-check-mysql.sh",
        &render_check_script(&inv, &os()).unwrap(),
    );
}

#[test]
fn without_an_arbiter_nothing_changes() {
    let without = yaml().replace("  arbiter: 10.213.0.1\n", "");
    let inv = inventory(&without);
    let conf = render_keepalived_conf(&inv, 0).unwrap();
    assert!(!conf.contains("arbiter"), "{conf}");
    let script = render_check_script(&inv, &os()).unwrap();
    assert!(!script.contains("arbiter"), "{script}");
}

#[test]
fn arbiter_must_be_a_third_usable_address() {
    for (value, expect) in [
        ("10.213.0.100", "the VIP itself"),
        ("10.213.0.12", "address of nodes[1]"),
        ("10.213.0.255", "broadcast address"),
        ("10.213.0.0", "network address"),
        ("127.0.0.1", "not a usable address"),
        ("0.0.0.0", "not a usable address"),
    ] {
        let yaml = yaml().replace("arbiter: 10.213.0.1", &format!("arbiter: {value}"));
        let err = format!("{:#}", parse(&yaml).unwrap_err());
        assert!(
            err.contains("vip.arbiter") && err.contains(expect),
            "{value}: {err}"
        );
    }
    // A gateway on another subnet is fine: it need not be on the VIP's segment.
    let routed = yaml().replace("arbiter: 10.213.0.1", "arbiter: 192.168.1.1");
    parse(&routed).unwrap();
    parse(&yaml()).unwrap();
}

/// Runs the rendered check script's `arbiter` branch with a fake `ping` that answers
/// only the addresses listed in `up` (`None`: no ping on the node at all).
fn run_check(dir: &Path, up: Option<&[&str]>, peer: &str) -> i32 {
    run_check_slow(dir, up, peer, 0.0)
}

/// [`run_check`] with a `ping` that takes `start_s` to start (a loaded host).
fn run_check_slow(dir: &Path, up: Option<&[&str]>, peer: &str, start_s: f64) -> i32 {
    let inv = inventory(&yaml());
    let script = render_check_script(&inv, &os()).unwrap();
    let bin = dir.join("bin");
    let _ = std::fs::remove_dir_all(&bin);
    std::fs::create_dir_all(&bin).unwrap();
    if let Some(up) = up {
        // The address is the last argument. Like `ping -i 0.1`: a line per answer every
        // 0.1 s until it is killed (the script's `timeout`). For an unreachable one, like
        // iputils: nothing at all (stdio holds even the header back), and with -O a "no
        // answer yet" line for each request when the next is sent.
        let fake = format!(
            "#!/bin/sh\nsleep {start_s}\nfor a; do last=$a; done\ncase \" {} \" in *\" $last \"*)\n\
             echo \"PING $last ($last) 56(84) bytes of data.\"\n\
             i=1; while :; do echo \"64 bytes from $last: icmp_seq=$i ttl=64 time=0.05 ms\"; i=$((i + 1)); sleep 0.1; done;;\n\
             esac\n\
             case \" $* \" in *\" -O \"*) ;; *) exec sleep 5;; esac\n\
             sleep 0.1; echo \"PING $last ($last) 56(84) bytes of data.\"\n\
             i=1; while :; do echo \"no answer yet for icmp_seq=$i\"; i=$((i + 1)); sleep 0.1; done\n",
            up.join(" ")
        );
        let ping = bin.join("ping");
        std::fs::write(&ping, fake).unwrap();
        Command::new("chmod")
            .arg("755")
            .arg(&ping)
            .status()
            .unwrap();
    }
    // The script pins PATH to the system's directories: point it at the fake instead
    // (keeping sh's own tools), and its state and detection log at the test directory.
    let fake_path = format!("PATH={}:/usr/bin:/bin", bin.display());
    let run_dir = format!("RUN_DIR={}", dir.join("run").display());
    let log = format!("LOG={}", dir.join("run/detection.log").display());
    let script = script
        .lines()
        .map(|l| {
            if l.starts_with("PATH=") {
                fake_path.as_str()
            } else if l.starts_with("RUN_DIR=") {
                run_dir.as_str()
            } else if l.starts_with("LOG=") {
                log.as_str()
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let path = dir.join("check.sh");
    std::fs::write(&path, script).unwrap();
    let status = Command::new("bash")
        .arg(&path)
        .arg("arbiter")
        .arg(peer)
        .status()
        .unwrap();
    status.code().unwrap_or(-1)
}

#[test]
fn the_check_fails_only_when_neither_the_arbiter_nor_the_peer_answers() {
    let dir = std::env::temp_dir().join(format!("mhactl-arbiter-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let peer = "10.213.0.12";
    assert_eq!(run_check(&dir, Some(&["10.213.0.1", peer]), peer), 0);
    assert_eq!(
        run_check(&dir, Some(&["10.213.0.1"]), peer),
        0,
        "arbiter only"
    );
    assert_eq!(run_check(&dir, Some(&[peer]), peer), 0, "peer only");
    let started = std::time::Instant::now();
    assert_ne!(run_check(&dir, Some(&[]), peer), 0, "cut off");
    // Within the silence it waits for and one round (0.25 + 0.15 s), not a whole run.
    assert!(
        started.elapsed().as_secs_f64() < 0.9,
        "{:?}",
        started.elapsed()
    );
    let log = std::fs::read_to_string(dir.join("run/detection.log")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert!(
        log.contains(" arbiter no answer from the arbiter 10.213.0.1"),
        "{log}"
    );
    assert_ne!(run_check(&dir, Some(&["10.9.9.9"]), peer), 0, "cut off");
    // Still the same outage: noted once.
    let log = std::fs::read_to_string(dir.join("run/detection.log")).unwrap();
    assert_eq!(log.lines().count(), 1, "{log}");
    assert_eq!(
        run_check(&dir, None, peer),
        0,
        "no ping: never drop the VIP for it"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// On a loaded host starting the two pings can take longer than the probe's wait while
/// the last answer is already the gap between two runs old: the probe counts from ping's
/// first line, so a slow start is not a cut (seen on the 10-pair fleet: healthy nodes in
/// FAULT, "no answer ... for 570 ms").
#[test]
fn a_slow_ping_start_is_not_a_cut() {
    let dir = std::env::temp_dir().join(format!("mhactl-arbiter-slow-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let peer = "10.213.0.12";
    assert_eq!(run_check(&dir, Some(&["10.213.0.1", peer]), peer), 0);
    // The last answer is now older than the silence (0.45 s) when the next run starts.
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert_eq!(
        run_check_slow(&dir, Some(&["10.213.0.1", peer]), peer, 0.35),
        0,
        "a slow start failed the check"
    );
    let log = std::fs::read_to_string(dir.join("run/detection.log")).unwrap_or_default();
    assert!(log.is_empty(), "{log}");
    std::fs::remove_dir_all(&dir).unwrap();
}
