//! End-to-end on the lab: verify checks what the running server uses, not only the file
//! mhactl wrote; an unreachable node does not hide the reachable node's checks; and
//! `-q` leaves only the failures and the verdict (verify and failover-test).

use crate::support::{mhactl, mhactl_json, mhactl_ok, Lab, Scenario};
use serde_json::Value;

/// Run verify with `inventory`; return (exit code, JSON report).
fn verify_json(inventory: &str) -> (i32, Value) {
    let (out, report) = mhactl_json(&["-i", inventory, "verify", "--output", "json"]);
    (out.status.code().unwrap_or(-1), report)
}

/// The check `name` on `node`.
fn check<'a>(report: &'a Value, name: &str, node: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == name && c["node"] == node)
        .unwrap_or_else(|| panic!("no {name}/{node} check in {report:#}"))
}

/// `mhactl -q ARGS`: (exit code, stdout, stderr).
fn quiet(args: &[&str]) -> (i32, String, String) {
    let mut all = vec!["-q"];
    all.extend_from_slice(args);
    let out = mhactl(&all);
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn verify_checks_the_running_server_and_survives_an_unreachable_node(lab: Lab) {
    let subnet = lab.subnet;
    let inv = lab.inventory();
    mhactl_ok(&["-i", &inv, "bootstrap"]);

    // -q on a healthy pair: the verdict, nothing else (verify and failover-test).
    let (code, out, err) = quiet(&["-i", &inv, "verify"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.lines().count(),
        1,
        "-q verify printed more than the verdict:\n{out}"
    );
    assert!(out.starts_with("verify: healthy"), "{out}");
    assert!(err.is_empty(), "-q verify wrote to stderr:\n{err}");
    let (code, out, err) = quiet(&["-i", &inv, "failover-test"]);
    assert_eq!(code, 0, "{out}{err}");
    assert_eq!(
        out.trim(),
        "failover-test: OK",
        "-q failover-test printed more than the verdict"
    );
    assert!(err.is_empty(), "-q failover-test wrote to stderr:\n{err}");
    let (code, report) = verify_json(&inv);
    assert_eq!(code, 0, "{report:#}");

    // A runbook's drop-in, read after mhactl's, on the node without the VIP.
    let vip = format!("10.213.{subnet}.100/");
    let spare = if lab
        .ssh_ok("node-a", "ip -4 -o addr show dev eth0")
        .contains(&vip)
    {
        "node-b"
    } else {
        "node-a"
    };
    let runbook = "/etc/mysql/mariadb.conf.d/90-runbook.cnf";
    lab.ssh_ok(
        spare,
        &format!(
            "printf '[mysqld]\\nreplicate-do-db = runbookdb\\nslave_skip_errors = 1062\\n\
             log-bin = runbook-bin\\n' > {runbook} && service mariadb restart >/dev/null"
        ),
    );
    let (code, report) = verify_json(&inv);
    assert_eq!(code, 1, "verify must fail: {report:#}");
    // mhactl's own file is untouched, so the file check alone would pass...
    assert_eq!(check(&report, "my-cnf", spare)["ok"], true, "{report:#}");
    // ...but the values in force are named, with both values and the file.
    let server = check(&report, "server-options", spare);
    assert_eq!(server["ok"], false, "{report:#}");
    let detail = server["detail"].as_str().unwrap();
    for needle in [
        "slave_skip_errors: the server runs with `1062`, the inventory wants `OFF`",
        "replicate_do_db: the server runs with `runbookdb`, the inventory wants `(none)`",
        "log_bin_basename: the server runs with `/var/lib/mysql/runbook-bin`",
        "by /etc/mysql/mariadb.conf.d/90-runbook.cnf, read after mhactl's \
         /etc/mysql/mariadb.conf.d/60-mhactl.cnf",
    ] {
        assert!(detail.contains(needle), "{needle:?} not in:\n{detail}");
    }
    let other = if spare == "node-a" {
        "node-b"
    } else {
        "node-a"
    };
    assert_eq!(
        check(&report, "server-options", other)["ok"],
        true,
        "{report:#}"
    );

    // -q: only failing checks and the verdict.
    let (code, out, _) = quiet(&["-i", &inv, "verify"]);
    assert_eq!(code, 1);
    assert!(out.contains("server-options"), "{out}");
    assert!(
        out.lines().all(|l| !l.contains(" ok ")),
        "-q verify shows passing checks:\n{out}"
    );
    assert!(out
        .trim_end()
        .lines()
        .last()
        .unwrap()
        .starts_with("verify: NOT HEALTHY"));

    // The spare node unreachable (its SSH port refuses): the other node's checks all
    // run; the spare's and the pair's are reported as not run, in text and JSON.
    let down = lab.dir.join("inventory-down.yaml");
    let text = std::fs::read_to_string(&inv).unwrap();
    let address = format!(
        "    address: 10.213.{subnet}.1{}",
        if spare == "node-a" { 1 } else { 2 }
    );
    assert!(text.contains(&address), "{text}");
    std::fs::write(
        &down,
        text.replace(&address, &format!("{address}\n    ssh:\n      port: 1")),
    )
    .unwrap();
    let down = down.display().to_string();
    let (code, report) = verify_json(&down);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(check(&report, "ssh", spare)["ok"], false);
    for name in [
        "root",
        "mysqld",
        "server-id",
        "binlog",
        "replication-user",
        "my-cnf",
        "server-options",
        "keepalived",
        "keepalived-config",
    ] {
        let reached = check(&report, name, other);
        assert_eq!(reached["ok"], true, "{name} on {other}: {reached:#}");
        assert_eq!(reached["not_run"], false, "{reached:#}");
        let skipped = check(&report, name, spare);
        assert_eq!(skipped["ok"], false, "{skipped:#}");
        assert_eq!(skipped["not_run"], true, "{skipped:#}");
        assert!(
            skipped["detail"]
                .as_str()
                .unwrap()
                .contains(&format!("{spare} is unreachable")),
            "{skipped:#}"
        );
    }
    for name in ["vip", "keepalived-pair", "server-id-distinct"] {
        assert_eq!(
            check(&report, name, "cluster")["not_run"],
            true,
            "{report:#}"
        );
    }
    let out = mhactl(&["-i", &down, "verify"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("NOTRUN"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("mysqld") && l.contains(other) && l.contains(" ok ")),
        "{text}"
    );

    // Really gone: the spare's network link down (SSH times out after 3 s).
    let slow = lab.dir.join("inventory-timeout.yaml");
    std::fs::write(
        &slow,
        text_with_timeout(&std::fs::read_to_string(&inv).unwrap()),
    )
    .unwrap();
    let status = std::process::Command::new("ip")
        .args([
            "netns",
            "exec",
            &format!("mhactl{subnet}-{spare}"),
            "ip",
            "link",
            "set",
            "eth0",
            "down",
        ])
        .status()
        .unwrap();
    assert!(status.success());
    let (code, report) = verify_json(&slow.display().to_string());
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(check(&report, "ssh", spare)["ok"], false, "{report:#}");
    for name in ["root", "mysqld", "server-options", "keepalived"] {
        assert_eq!(check(&report, name, other)["ok"], true, "{report:#}");
        assert_eq!(check(&report, name, spare)["not_run"], true, "{report:#}");
    }
}

/// The inventory with a 3 s SSH connect timeout.
fn text_with_timeout(text: &str) -> String {
    text.replace("ssh:\n", "ssh:\n  connect_timeout_s: 3\n")
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        verify_checks_the_running_server_and_survives_an_unreachable_node
    )]
}
