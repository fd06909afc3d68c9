//! `vip.detection`: the timers keepalived.conf gets (VRRPv3 without authentication,
//! `track_process` only where keepalived and the kernel allow it, the older
//! `vip.advert_int_s` still working), and the check script's `watch` and health-check
//! modes run for real with sh: a crashed server's stale socket file, a hung client.

use mhactl::inventory::Inventory;
use mhactl::os::keepalived::KeepalivedVersion;
use mhactl::os::{OsFamily, OsTarget};
use mhactl::render::{
    render_check_script, render_keepalived_conf, render_keepalived_conf_with, KeepalivedOptions,
};
use std::path::Path;
use std::process::Command;
use std::time::Instant;

const YAML: &str = r#"
cluster: shop
nodes:
  - name: node-a
    address: 10.213.0.11
  - name: node-b
    address: 10.213.0.12
vip:
  address: 10.213.0.100
  interface: eth0
  virtual_router_id: 51
credentials:
  replication_password_env: MHA_REPL
"#;

fn inventory(yaml: &str) -> Inventory {
    serde_yaml_ng::from_str(yaml).expect("test inventory parses")
}

fn os() -> OsTarget {
    OsTarget::new(OsFamily::Debian, mhactl::inventory::Flavor::Mariadb).unwrap()
}

#[test]
fn default_is_vrrpv3_every_0_3_s_without_authentication() {
    let conf = render_keepalived_conf(&inventory(YAML), 1).unwrap();
    assert!(
        conf.contains("    version 3\n    advert_int 0.3\n"),
        "{conf}"
    );
    assert!(!conf.contains("auth_type"), "{conf}");
    assert!(!conf.contains("s3cret"), "{conf}");
    // The inventory's priorities (100, 90) only rank the nodes: keepalived gets 254 and
    // 253. The peer (254) takes over 3 x 0.3 + 2/256 x 0.3 = 0.90 s after the last
    // advertisement, and 0.002 s after the holder's priority-0 one.
    assert!(
        conf.contains(
            "    priority 253
"
        ),
        "{conf}"
    );
    assert!(conf.contains("the peer takes the VIP 0.90 s"), "{conf}");
    assert!(conf.contains("0.002 s (its skew)"), "{conf}");
    assert!(conf.contains("vrrp_script chk_mysql_process {"), "{conf}");
    assert!(
        conf.contains("    track_script {\n        chk_mysql\n        chk_mysql_process\n"),
        "{conf}"
    );
    assert!(!conf.contains("track_process"), "{conf}");
}

#[test]
fn levels_and_the_older_advert_int_s() {
    let fast = YAML.replace(
        "  virtual_router_id: 51\n",
        "  virtual_router_id: 51\n  detection: fast\n",
    );
    let conf = render_keepalived_conf(&inventory(&fast), 0).unwrap();
    assert!(conf.contains("    advert_int 0.1\n"), "{conf}");
    let relaxed = YAML.replace(
        "  virtual_router_id: 51\n",
        "  virtual_router_id: 51\n  detection: relaxed\n",
    );
    let conf = render_keepalived_conf(&inventory(&relaxed), 0).unwrap();
    assert!(conf.contains("    version 3\n    advert_int 1\n"), "{conf}");
    // vip.advert_int_s keeps working: whole seconds over VRRPv2, without authentication
    // (PASS sends its password in clear; unicast to the peer is the protection).
    let legacy = YAML.replace(
        "  virtual_router_id: 51\n",
        "  virtual_router_id: 51\n  advert_int_s: 2\n",
    );
    let conf = render_keepalived_conf(&inventory(&legacy), 0).unwrap();
    assert!(conf.contains("    version 2\n    advert_int 2\n"), "{conf}");
    assert!(!conf.contains("authentication {"), "{conf}");
    assert!(!conf.contains("auth_"), "{conf}");
    // Both: refused, with the way out.
    let both = legacy.replace(
        "  advert_int_s: 2\n",
        "  advert_int_s: 2\n  detection: fast\n",
    );
    let err = format!(
        "{:#}",
        mhactl::inventory::parse(&both, "inventory.yaml").unwrap_err()
    );
    assert!(
        err.contains("vip.advert_int_s") && err.contains("remove advert_int_s"),
        "{err}"
    );
    let bad = YAML.replace(
        "  virtual_router_id: 51\n",
        "  virtual_router_id: 51\n  detection: quick\n",
    );
    assert!(mhactl::inventory::parse(&bad, "inventory.yaml").is_err());
}

#[test]
fn track_process_only_with_keepalived_2_0_11_and_process_events() {
    let inv = inventory(YAML);
    let render = |o: KeepalivedOptions| render_keepalived_conf_with(&inv, 0, &o).unwrap();
    let v = |a, b, c| Some(KeepalivedVersion::new(a, b, c));
    let with = KeepalivedOptions::for_keepalived(v(2, 2, 8))
        .with_track_process(v(2, 2, 8), Some("mariadbd"));
    let conf = render(with);
    assert!(
        conf.contains("vrrp_track_process mhactl_server_process {\n    process mariadbd\n    quorum 1\n    weight 0\n}"),
        "{conf}"
    );
    assert!(
        conf.contains("    track_process {\n        mhactl_server_process\n    }"),
        "{conf}"
    );
    // EL7's 1.3.5 and 2.0.10 have no track_process; a node without process events
    // (a container, the lab's network namespaces) would be in FAULT for good.
    for (version, name) in [
        (v(1, 3, 5), Some("mysqld")),
        (v(2, 0, 10), Some("mysqld")),
        (v(2, 2, 8), None),
    ] {
        let o = KeepalivedOptions::for_keepalived(version).with_track_process(version, name);
        assert_eq!(o.track_process, None, "{version:?}");
        assert!(!render(o).contains("track_process"));
    }
}

/// The rendered check script with its state and log in `dir` and `socket` as the
/// server's socket; `bin` first on PATH (fake clients).
fn script(dir: &Path, socket: &Path, bin: Option<&Path>) -> std::path::PathBuf {
    let text = render_check_script(&inventory(YAML), &os()).unwrap();
    let path = match bin {
        Some(b) => format!("PATH={}:/usr/bin:/bin", b.display()),
        None => "PATH=/usr/bin:/bin".into(),
    };
    let text: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with("PATH=") {
                path.clone()
            } else if l.starts_with("RUN_DIR=") {
                format!("RUN_DIR={}", dir.join("run").display())
            } else if l.starts_with("LOG=") {
                format!("LOG={}", dir.join("run/detection.log").display())
            } else if l.starts_with("SOCKET=") {
                format!("SOCKET={}", socket.display())
            } else if l.starts_with("[ -S \"$SOCKET\" ] || SOCKET=") {
                String::new()
            } else {
                l.to_string()
            }
        })
        .collect();
    let p = dir.join("check.sh");
    std::fs::write(&p, text.join("\n")).unwrap();
    p
}

fn run(script: &Path, arg: Option<&str>) -> (i32, f64) {
    let started = Instant::now();
    let mut c = Command::new("bash");
    c.arg(script);
    if let Some(a) = arg {
        c.arg(a);
    }
    let status = c.status().unwrap();
    (status.code().unwrap_or(-1), started.elapsed().as_secs_f64())
}

fn log(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("run/detection.log")).unwrap_or_default()
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mhactl-detect-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn the_watcher_fails_at_once_on_a_stale_socket_file() {
    let dir = temp_dir("watch");
    let socket = dir.join("mysqld.sock");
    let check = script(&dir, &socket, None);
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let (code, took) = run(&check, Some("watch"));
    assert_eq!(code, 0);
    // It polls for most of the second (0.75 s; that it ends before keepalived's next run
    // is arithmetic, src/os/detection.rs; a loaded test host may stretch the wall time).
    assert!((0.7..2.0).contains(&took), "{took}");
    // A crash: the process is gone, the socket file stays.
    drop(listener);
    assert!(socket.exists());
    let (code, took) = run(&check, Some("watch"));
    assert_eq!(code, 1);
    assert!(took < 0.5, "{took}");
    let l = log(&dir);
    assert_eq!(l.lines().count(), 1, "{l}");
    assert!(l.contains(" process no process listens on "), "{l}");
    // Still down: not noted again; back up: passes, and the next outage is noted.
    assert_eq!(run(&check, Some("watch")).0, 1);
    assert_eq!(log(&dir).lines().count(), 1);
    std::fs::remove_file(&socket).unwrap();
    let listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    assert_eq!(run(&check, Some("watch")).0, 0);
    drop(listener);
    assert_eq!(run(&check, Some("watch")).0, 1);
    assert_eq!(log(&dir).lines().count(), 2);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A fake `mariadb` client: `answer` is its shell body. Also fakes of `ip` (this node
/// does not hold the VIP), `nft` and `ss` (each call noted in `calls.log`): a check
/// must never touch the test machine's own addresses, firewall or sockets.
fn fake_client(dir: &Path, answer: &str) -> std::path::PathBuf {
    fake_tools(dir, answer, "", 0)
}

/// [`fake_client`] with `ip -4 -o addr show` printing `addresses` and `nft` exiting
/// with `nft_status`.
fn fake_tools(dir: &Path, answer: &str, addresses: &str, nft_status: i32) -> std::path::PathBuf {
    let bin = dir.join("bin");
    let _ = std::fs::remove_dir_all(&bin);
    let _ = std::fs::remove_file(dir.join("calls.log"));
    std::fs::create_dir_all(&bin).unwrap();
    let note = "echo \"$(basename \"$0\") $*\" >> \"$(dirname \"$0\")/../calls.log\"";
    for (name, body) in [
        ("mariadb", answer.to_string()),
        ("ip", format!("printf '%s' '{addresses}'")),
        ("nft", format!("{note}\nexit {nft_status}")),
        ("ss", note.to_string()),
    ] {
        let tool = bin.join(name);
        std::fs::write(&tool, format!("#!/bin/sh\n{body}\n")).unwrap();
        Command::new("chmod")
            .arg("755")
            .arg(&tool)
            .status()
            .unwrap();
    }
    bin
}

fn calls(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("calls.log")).unwrap_or_default()
}

/// Issue 17: a hung server's clients wait on requests in flight until their own read
/// timeout, however fast the VIP moves. While the node still holds the VIP, the failing
/// health check refuses new connections to it for a moment and resets the established
/// ones (which only works while the VIP is local), then fails.
#[test]
fn a_hung_vip_holder_resets_its_clients_before_it_gives_the_vip_up() {
    let dir = temp_dir("drain");
    let socket = dir.join("mysqld.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    let holder = "2: eth0    inet 10.213.0.11/24 scope global eth0\n\
                  2: eth0    inet 10.213.0.100/24 scope global secondary eth0\n";
    let bin = fake_tools(&dir, "exec sleep 5", holder, 0);
    let check = script(&dir, &socket, Some(&bin));
    assert_eq!(run(&check, None).0, 1);
    assert_eq!(
        calls(&dir),
        "nft add element ip mhactl draining { 10.213.0.100 timeout 2s }\n\
         ss -K -tnH state established src 10.213.0.100 sport = :3306\n"
    );
    assert!(
        log(&dir).contains("(connections to the VIP reset)"),
        "{}",
        log(&dir)
    );
    // Not the VIP holder (the peer, or the VIP already gone): nothing to reset.
    let _ = std::fs::remove_dir_all(dir.join("run"));
    let other = "2: eth0    inet 10.213.0.11/24 scope global eth0\n\
                 2: eth0    inet 10.213.0.1000/24 scope global secondary eth0\n";
    let bin = fake_tools(&dir, "exec sleep 5", other, 0);
    let check = script(&dir, &socket, Some(&bin));
    assert_eq!(run(&check, None).0, 1);
    assert_eq!(calls(&dir), "");
    // No refusal possible (no mhactl table, no nft): no reset either, or the clients
    // would connect again to the hung server while it still holds the VIP.
    let bin = fake_tools(&dir, "exec sleep 5", holder, 1);
    let check = script(&dir, &socket, Some(&bin));
    assert_eq!(run(&check, None).0, 1);
    assert!(!calls(&dir).contains("ss "), "{}", calls(&dir));
    // A healthy server: nothing of the kind.
    let bin = fake_tools(&dir, "echo 1", holder, 0);
    let check = script(&dir, &socket, Some(&bin));
    assert_eq!(run(&check, None).0, 0);
    assert_eq!(calls(&dir), "");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_health_check_gives_a_hung_server_two_short_attempts() {
    let dir = temp_dir("health");
    let socket = dir.join("mysqld.sock");
    let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
    // The query the script sends carries the server-side limit.
    let bin = fake_client(
        &dir,
        "case \"$*\" in *'max_statement_time = 0.5 FOR SELECT COUNT(*) >= 0 FROM mysql.innodb_table_stats'*) echo 1;; *) echo \"unexpected: $*\" >&2; exit 2;; esac",
    );
    let check = script(&dir, &socket, Some(&bin));
    assert_eq!(run(&check, None).0, 0);
    // A stopped server: the connection is accepted, no answer comes.
    let bin = fake_client(&dir, "exec sleep 5");
    let check = script(&dir, &socket, Some(&bin));
    let (code, took) = run(&check, None);
    assert_eq!(code, 1);
    // Two attempts of 0.5 s, well within keepalived's 3 s timeout.
    assert!((0.9..2.0).contains(&took), "{took}");
    let l = log(&dir);
    assert!(l.contains(" health-check no answer within 0.5 s"), "{l}");
    // One slow answer is not a failure.
    let bin = fake_client(
        &dir,
        &format!(
            "if [ -e {m} ]; then echo 1; else : > {m}; exec sleep 5; fi",
            m = dir.join("slow-once").display()
        ),
    );
    let check = script(&dir, &socket, Some(&bin));
    assert_eq!(run(&check, None).0, 0);
    std::fs::remove_dir_all(&dir).unwrap();
}
