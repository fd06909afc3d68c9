//! End-to-end on the lab (issue 21 items 2-3): `lab up --pairs 2` writes a fleet
//! inventory; bootstrap converges every pair in one run (one summary line per cluster,
//! one JSON object per cluster), verify and status cover the fleet on one screen,
//! `--limit` selects one cluster or CLUSTER/NODE, a one-pair command refuses a fleet
//! without a limit, a failure in one cluster does not stop the other (and the exit code
//! says so), a re-run changes nothing, and `lab down` removes every pair.

use crate::support::{json, mhactl, text, Scenario, Subnet};
use std::path::{Path, PathBuf};

/// A lab of pairs, brought down on drop (also when the scenario panics).
pub(crate) struct Pairs {
    pub(crate) dir: PathBuf,
    _tmp: tempfile::TempDir,
}

/// `lab up --pairs N` on `subnets` (one pair each) in a private directory: the lab, the
/// subnets' numbers, and the fleet inventory's path.
pub(crate) fn pairs_up(subnets: &[Subnet]) -> (Pairs, Vec<String>, String) {
    let tmp = tempfile::Builder::new()
        .prefix("mhactl-e2e-")
        .tempdir()
        .unwrap();
    let lab = Pairs {
        dir: tmp.path().join("lab"),
        _tmp: tmp,
    };
    let nets: Vec<String> = subnets.iter().map(|n| n.number.to_string()).collect();
    let out = mhactl(&[
        "lab",
        "up",
        "--pairs",
        &nets.len().to_string(),
        "--pair-subnets",
        &nets.join(","),
        "--dir",
        s(&lab.dir),
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let inv = lab.dir.join("inventory.yaml").display().to_string();
    (lab, nets, inv)
}

impl Drop for Pairs {
    fn drop(&mut self) {
        let _ = mhactl(&["lab", "down", "--dir", self.dir.to_str().unwrap()]);
    }
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Run `args` (exit 0): each cluster's summary line holds every one of `words`.
fn every_line_says(args: &[&str], clusters: &[&str], words: &[&str]) {
    let out = mhactl(args);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(0), "{all}");
    for name in clusters {
        let line = all.lines().find(|l| l.starts_with(name)).unwrap_or("");
        assert!(words.iter().all(|w| line.contains(w)), "{words:?}: {all}");
    }
}

fn fleet_of_two_pairs(subnets: Vec<Subnet>) {
    let (lab, nets, inv) = pairs_up(&subnets);
    let dir = s(&lab.dir).to_string();
    let (a, b) = (format!("lab{}", nets[0]), format!("lab{}", nets[1]));

    // lab status shows both pairs; its VIPs and router ids differ.
    let out = mhactl(&["lab", "status", "--dir", &dir, "--output", "json"]);
    let st = json(&out, "lab status");
    assert_eq!(st["pairs"].as_array().map(Vec::len), Some(2), "{st:#}");
    assert_ne!(st["pairs"][0]["vip"], st["pairs"][1]["vip"]);
    let vrid = |i: usize| {
        let t = std::fs::read_to_string(lab.dir.join(format!("pair{i}/inventory.yaml"))).unwrap();
        t.lines()
            .find(|l| l.contains("virtual_router_id"))
            .unwrap()
            .to_string()
    };
    assert_ne!(vrid(1), vrid(2));

    // A one-pair command refuses a fleet without --limit, before anything runs.
    let out = mhactl(&["switchover", &inv, "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        text(&out).contains("select one with --limit CLUSTER"),
        "{}",
        text(&out)
    );

    // Bootstrap of the fleet in one run: both converge, one JSON object per cluster.
    let out = mhactl(&["bootstrap", &inv, "--output", "json", "--forks", "2"]);
    let doc = json(&out, "bootstrap of the fleet");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(doc["schema"], 1);
    assert!(doc["mhactl_version"].is_string());
    let clusters = doc["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 2);
    for (c, name) in clusters.iter().zip([&a, &b]) {
        assert_eq!(c["cluster"], name.as_str());
        assert_eq!(c["ok"], true, "{c:#}");
        assert_eq!(c["result"]["command"], "bootstrap");
        assert!(c["result"]["changed"].as_u64().unwrap() > 0, "{c:#}");
    }

    // A re-run reports 0 changed on each line.
    every_line_says(&["bootstrap", &inv], &[&a, &b], &[" ok ", "changed=0 "]);

    // verify and status of the fleet: one line per cluster.
    let out = mhactl(&["verify", &inv]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    every_line_says(
        &["status", &inv],
        &[&a, &b],
        &["holder=node-", "running lag"],
    );

    // --limit one cluster, and CLUSTER/NODE.
    let out = mhactl(&["verify", &inv, "--limit", &b, "--output", "json"]);
    let doc = json(&out, "verify --limit");
    assert_eq!(doc["clusters"].as_array().map(Vec::len), Some(1), "{doc:#}");
    assert_eq!(doc["clusters"][0]["cluster"], b.as_str());
    let limit = format!("{a}/node-b");
    let out = mhactl(&["status", &inv, "--limit", &limit, "--output", "json"]);
    let doc = json(&out, "status --limit CLUSTER/NODE");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(doc["clusters"][0]["node"], "node-b");
    assert_eq!(doc["clusters"][0]["result"]["limit"], "node-b");
    let out = mhactl(&["verify", &inv, "--limit", "nosuch*"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));

    // A failure in one cluster: pair A's node-b server stopped. The other cluster is
    // still verified (ok), and the exit code is the failure's.
    let pair_a = lab.dir.join("pair1");
    let stop = mhactl(&[
        "lab",
        "ssh",
        "--dir",
        s(&pair_a),
        "node-b",
        "--",
        "sh",
        "-c",
        "service mariadb stop || /etc/init.d/mariadb stop",
    ]);
    assert!(stop.status.success(), "{}", text(&stop));
    let out = mhactl(&["verify", &inv, "--output", "json"]);
    let doc = json(&out, "verify with one pair broken");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert_eq!(doc["ok"], false);
    assert_eq!(doc["clusters"][0]["ok"], false, "{doc:#}");
    assert_eq!(doc["clusters"][1]["ok"], true, "{doc:#}");
    let out = mhactl(&["verify", &inv]);
    let all = text(&out);
    assert!(
        all.contains(&format!("{a} (FAILED):")),
        "no failure details: {all}"
    );
    assert!(all.contains("1 ok, 1 not ok"), "{all}");

    // A re-run repairs pair A only.
    let out = mhactl(&["bootstrap", &inv]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));

    // lab down removes every pair.
    let out = mhactl(&["lab", "down", "--dir", &dir]);
    assert!(out.status.success(), "{}", text(&out));
    for n in &nets {
        assert!(!Path::new(&format!("/run/netns/mhactl{n}-node-a")).exists());
    }
    assert!(!lab.dir.join("inventory.yaml").exists());
}

pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario::new(
        module_path!(),
        "fleet_of_two_pairs",
        crate::support::Needs::Subnets(2, fleet_of_two_pairs),
    )]
}
