//! End-to-end on the lab: the VIP refusal (bootstrap's `vip-refuse` step). A connection
//! to the VIP that reaches the node without it (here: the host's neighbour entry for the
//! VIP points at the passive node, as a client's ARP cache does for a moment after a
//! failover) is refused at once instead of waiting for TCP's retransmission; keepalived
//! starting (as after a reboot, which empties nftables) loads the rule again; a re-run
//! repairs a rule removed by hand.

use crate::support::{changed_steps, mhactl_json, mhactl_ok, Lab, Scenario};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::time::{Duration, Instant};

/// The MAC address of `node`'s eth0, read through its network namespace.
fn mac(lab: &Lab, node: &str) -> String {
    let out = Command::new("ip")
        .args(["-n", &format!("mhactl{}-{node}", lab.subnet)])
        .args(["-o", "link", "show", "dev", "eth0"])
        .output()
        .expect("ip -n");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_else(|| panic!("no MAC for {node}: {text}"))
        .to_string()
}

/// Connects to the VIP's port 3306 from the host with the VIP's neighbour entry on the
/// lab's bridge pointing at `node`; how it ended and how long it took.
fn connect_via(lab: &Lab, node: &str) -> (std::io::Result<TcpStream>, Duration) {
    let bridge = format!("mhactl{}br", lab.subnet);
    let vip = lab.addr(100);
    let set = Command::new("ip")
        .args(["neigh", "replace", &vip, "lladdr", &mac(lab, node)])
        .args(["dev", &bridge, "nud", "permanent"])
        .status()
        .expect("ip neigh");
    assert!(set.success());
    let addr: SocketAddr = format!("{vip}:3306").parse().unwrap();
    let t = Instant::now();
    let result = TcpStream::connect_timeout(&addr, Duration::from_secs(3));
    let took = t.elapsed();
    let _ = Command::new("ip")
        .args(["neigh", "del", &vip, "dev", &bridge])
        .status();
    (result, took)
}

fn assert_refused_at_once(lab: &Lab, node: &str, when: &str) {
    let (result, took) = connect_via(lab, node);
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {}
        other => {
            panic!("{when}: a connection to the VIP through {node} was not refused: {other:?}")
        }
    }
    assert!(
        took < Duration::from_millis(500),
        "{when}: refused after {took:?}"
    );
}

fn rule_loaded(lab: &Lab, node: &str) -> bool {
    let out = lab.ssh(node, "nft list table ip mhactl 2>/dev/null");
    String::from_utf8_lossy(&out.stdout).contains("reject with tcp reset")
}

/// verify's `vip-refuse` on `node`: ok, and its detail ("ok" when it passed).
fn vip_refuse_check(inv: &str, node: &str) -> (bool, String) {
    let (_, report) = mhactl_json(&["-i", inv, "verify", "--output", "json"]);
    let check = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "vip-refuse" && c["node"] == node)
        .unwrap_or_else(|| panic!("no vip-refuse check for {node}: {report}"))
        .clone();
    let ok = check["ok"] == true;
    let detail = check["detail"].as_str().unwrap_or_default().to_string();
    (ok, if ok { "ok".into() } else { detail })
}

fn the_node_without_the_vip_refuses_connections_to_it_at_once(lab: Lab) {
    lab.bootstrap_ok();
    let (holder, passive) = lab.vip_holder();
    assert_refused_at_once(&lab, passive, "after bootstrap");
    // The holder still serves: its own rule matches nothing while the VIP is local.
    let (result, _) = connect_via(&lab, holder);
    assert!(result.is_ok(), "the VIP holder refused: {result:?}");

    // keepalived starting loads the rule again (a reboot empties nftables): the fence
    // agent it starts does it.
    lab.ssh_ok(passive, "nft delete table ip mhactl");
    // `service keepalived stop` returns before the daemon has exited: wait for it.
    lab.ssh_ok(
        passive,
        "service keepalived stop; i=0; while pgrep -x keepalived >/dev/null && [ $i -lt 100 ]; \
         do sleep 0.1; i=$((i+1)); done; ! pgrep -x keepalived",
    );
    lab.ssh_ok(passive, "service keepalived start");
    let end = Instant::now() + Duration::from_secs(10);
    while !rule_loaded(&lab, passive) {
        assert!(
            Instant::now() < end,
            "keepalived's start did not load the rule on {passive}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_refused_at_once(&lab, passive, "after keepalived started again");

    // Removed by hand: verify warns, a dry run shows it, a re-run loads it, the next
    // changes nothing.
    let inv = lab.inventory();
    assert_eq!(vip_refuse_check(&inv, passive), (true, "ok".to_string()));
    lab.ssh_ok(passive, "nft delete table ip mhactl");
    let (ok, detail) = vip_refuse_check(&inv, passive);
    assert!(!ok && detail.contains("not loaded"), "{detail}");
    let dry = mhactl_ok(&["bootstrap", &inv, "--dry-run", "--no-progress"]);
    assert!(
        dry.contains("1 would change")
            && dry.contains("load /etc/keepalived/mhactl-vip-refuse.nft"),
        "{dry}"
    );
    lab.bootstrap_ok();
    assert_refused_at_once(&lab, passive, "after the re-run");
    let (_, again) = mhactl_json(&["bootstrap", &inv, "--output", "json"]);
    assert!(changed_steps(&again).is_empty(), "{again:#}");
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        the_node_without_the_vip_refuses_connections_to_it_at_once
    )]
}
