//! End-to-end on the lab: `mysql.datadir` puts the data on another directory (the
//! runbook's "data on another partition"): created, initialised, used, idempotent; a
//! non-empty directory that holds no database is refused and left untouched.

mod common;

use common::{lab_available, mhactl, TestLab};

const SUBNET: u8 = 245;

#[test]
fn bootstrap_uses_a_custom_data_directory_and_never_initialises_over_files() {
    if !lab_available("datadir_e2e") {
        return;
    }
    let lab = TestLab::up(SUBNET);
    let inv = lab.inventory();
    let text = std::fs::read_to_string(&inv).unwrap();
    let with_datadir = text.replace(
        "  flavor: mariadb\n",
        "  flavor: mariadb\n  datadir: /data/mysql\n",
    );
    std::fs::write(&inv, &with_datadir).unwrap();

    let out = mhactl(&["bootstrap", &inv, "--no-progress", "--output", "json"]);
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["ok"], true, "{report}");
    let steps = report["steps"].as_array().unwrap();
    assert!(
        steps
            .iter()
            .any(|s| s["step"] == "data-directory" && s["status"] == "changed"),
        "{report}"
    );
    for node in ["node-a", "node-b"] {
        assert_eq!(
            lab.ssh_ok(node, "mysql -N -B -e 'SELECT @@datadir'").trim(),
            "/data/mysql/"
        );
        assert_eq!(
            lab.ssh_ok(node, "stat -c '%U %a' /data/mysql").trim(),
            "mysql 750"
        );
    }
    // Replication works on the new data directories, both ways.
    lab.ssh_ok("node-a", "mysql -e 'CREATE DATABASE d; CREATE TABLE d.t (id INT PRIMARY KEY); INSERT INTO d.t VALUES (1)'");
    lab.ssh_ok("node-b", "mysql -e 'INSERT INTO d.t VALUES (2)'");
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert_eq!(
        lab.ssh_ok("node-a", "mysql -N -B -e 'SELECT COUNT(*) FROM d.t'")
            .trim(),
        "2"
    );
    let again = mhactl(&["bootstrap", &inv, "--no-progress", "--output", "json"]);
    let again: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["changed"], 0, "{again}");

    // A directory with files but no database is never initialised over.
    lab.ssh_ok(
        "node-b",
        "mkdir -p /data/other && echo keep > /data/other/precious.txt",
    );
    std::fs::write(&inv, with_datadir.replace("/data/mysql", "/data/other")).unwrap();
    let out = mhactl(&["bootstrap", &inv, "--no-progress"]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{all}");
    assert!(
        all.contains("node-b") && all.contains("/data/other is not empty and holds no database"),
        "{all}"
    );
    assert_eq!(
        lab.ssh_ok("node-b", "cat /data/other/precious.txt").trim(),
        "keep"
    );
    assert_eq!(
        lab.ssh_ok("node-b", "mysql -N -B -e 'SELECT @@datadir'")
            .trim(),
        "/data/mysql/"
    );
}
