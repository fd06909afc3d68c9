//! End-to-end on the lab: `packages.repository` (an air-gapped mirror). The nodes' own
//! apt sources are replaced by one that cannot be reached, so the install succeeds only
//! if bootstrap writes `/etc/apt/sources.list.d/mhactl.list` and installs from the
//! mirror alone; a re-run changes nothing.

use crate::support::{mhactl, Lab, Scenario};

fn bootstrap(inv: &str) -> serde_json::Value {
    let out = mhactl(&["bootstrap", inv, "--no-progress", "--output", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "bootstrap failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

fn bootstrap_installs_from_the_inventory_mirror_only(lab: Lab) {
    for node in ["node-a", "node-b"] {
        // The node's usual source is gone; only the mirror (the lab's offline
        // repository, at file:/srv/mhactl-repo) has the packages.
        lab.ssh_ok(
            node,
            "echo 'deb http://192.0.2.1/debian bookworm main' > /etc/apt/sources.list",
        );
    }
    let inv = lab.inventory();
    let mut text = std::fs::read_to_string(&inv).unwrap();
    text.push_str("packages:\n  repository: file:/srv/mhactl-repo\n");
    std::fs::write(&inv, text).unwrap();

    let report = bootstrap(&inv);
    assert_eq!(report["ok"], true, "{report}");
    for node in ["node-a", "node-b"] {
        let step = report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["node"] == node && s["step"] == "install-packages")
            .unwrap();
        assert_eq!(step["status"], "changed", "{step}");
        let detail = step["detail"].as_str().unwrap();
        assert!(
            detail.contains("write /etc/apt/sources.list.d/mhactl.list (file:/srv/mhactl-repo)")
                && detail.contains("from file:/srv/mhactl-repo only"),
            "{detail}"
        );
        let list = lab.ssh_ok(node, "cat /etc/apt/sources.list.d/mhactl.list");
        assert!(
            list.ends_with("deb [trusted=yes] file:/srv/mhactl-repo ./\n"),
            "{list}"
        );
        lab.ssh_ok(node, "command -v mariadbd && command -v keepalived");
    }
    let again = bootstrap(&inv);
    assert_eq!(again["changed"], 0, "{again}");
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(bootstrap_installs_from_the_inventory_mirror_only)]
}
