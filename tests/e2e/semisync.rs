//! End-to-end on the lab: with `mysql.semi_sync: true` bootstrap turns on semi-synchronous
//! replication both ways, verify checks it, and a crash of the VIP holder loses no
//! acknowledged write (the guarantee asynchronous replication cannot give).

use crate::support::{failover_test_json, mhactl, mhactl_ok, Lab, Scenario};

fn semi_sync_pair_loses_no_acknowledged_write_when_the_holder_crashes(lab: Lab) {
    let inv = lab.inventory();
    let text = std::fs::read_to_string(&inv).unwrap();
    assert!(text.contains("  flavor: mariadb\n"));
    std::fs::write(
        &inv,
        text.replace(
            "  flavor: mariadb\n",
            "  flavor: mariadb\n  semi_sync: true\n",
        ),
    )
    .unwrap();
    mhactl_ok(&["bootstrap", &inv, "--no-progress"]);

    let report: serde_json::Value =
        serde_json::from_str(&mhactl_ok(&["-i", &inv, "verify", "--output", "json"])).unwrap();
    let semi: Vec<&serde_json::Value> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "semi-sync")
        .collect();
    assert_eq!(semi.len(), 2);
    assert!(
        semi.iter()
            .all(|c| c["ok"] == true && c["detail"].as_str().unwrap().contains("master_status ON")),
        "{semi:?}"
    );

    let (out, r) = failover_test_json(&lab, "kill-mysqld");
    assert_eq!(r["replication"], "semi-sync");
    assert_eq!(r["writes_lost"], 0, "{r}");
    assert_eq!(r["ok"], true, "{r}");
    assert_eq!(out.status.code(), Some(0));

    // verify notices when a node stops waiting for its peer.
    lab.ssh_ok(
        "node-a",
        "mysql -e 'SET GLOBAL rpl_semi_sync_master_enabled = OFF'",
    );
    let out = mhactl(&["-i", &inv, "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("semi-sync") && l.contains("node-a") && l.contains("FAIL")),
        "{table}"
    );
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    // Exclusive: semi-synchronous replication falls back to asynchronous when the
    // peer's acknowledgement takes longer than its timeout; on a loaded machine that
    // fallback, not mhactl, would lose the write the scenario asserts is never lost.
    vec![scenario!(semi_sync_pair_loses_no_acknowledged_write_when_the_holder_crashes).exclusive()]
}
