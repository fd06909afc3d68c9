//! End-to-end on the lab: verify passes on a healthy pair, changes nothing, and each
//! injected fault is caught by the right check with a useful detail.

use crate::support::{mhactl, mhactl_json, mhactl_ok, Lab, Scenario};
use serde_json::Value;

/// Run verify; return (exit code, JSON report).
fn verify(lab: &Lab, extra: &[&str]) -> (i32, Value) {
    let inv = lab.inventory();
    let mut args = vec!["-i", inv.as_str(), "verify", "--output", "json"];
    args.extend_from_slice(extra);
    let (out, report) = mhactl_json(&args);
    (out.status.code().unwrap_or(-1), report)
}

/// The failing checks as "name/node: detail".
fn failures(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| {
            format!(
                "{}/{}: {}",
                c["name"].as_str().unwrap(),
                c["node"].as_str().unwrap(),
                c["detail"].as_str().unwrap()
            )
        })
        .collect()
}

/// Verify must fail with exactly one failing check `name` on `node` whose detail has `needle`.
fn expect_failure(lab: &Lab, extra: &[&str], name: &str, node: &str, needle: &str) {
    let (code, report) = verify(lab, extra);
    let failed = failures(&report);
    assert_eq!(code, 1, "verify should fail for {name}: {failed:#?}");
    assert_eq!(report["ok"], false);
    let hit = failed
        .iter()
        .find(|f| f.starts_with(&format!("{name}/{node}:")));
    assert!(
        hit.is_some_and(|f| f.contains(needle)),
        "expected {name}/{node} with {needle:?}, got {failed:#?}"
    );
}

fn expect_healthy(lab: &Lab) {
    let (code, report) = verify(lab, &["--checksum"]);
    assert_eq!(code, 0, "{:#?}", failures(&report));
    assert_eq!(report["ok"], true);
}

/// Everything verify could possibly change: binlog positions, config files.
fn node_state(lab: &Lab, node: &str) -> String {
    lab.ssh_ok(
        node,
        "mysql -N -B -e 'SHOW MASTER STATUS; SELECT COUNT(*) FROM mysql.user'; \
         md5sum /etc/mysql/mariadb.conf.d/60-mhactl.cnf /etc/keepalived/keepalived.conf",
    )
}

fn verify_passes_on_a_healthy_pair_and_catches_each_fault(lab: Lab) {
    let subnet = lab.subnet;
    lab.bootstrap_ok();
    lab.sql("node-a", "CREATE DATABASE e2e; CREATE TABLE e2e.t (id INT PRIMARY KEY, v VARCHAR(10)); INSERT INTO e2e.t VALUES (1, 'one')");

    // Healthy, and read-only: nothing on the nodes changes.
    let before = (node_state(&lab, "node-a"), node_state(&lab, "node-b"));
    expect_healthy(&lab);
    let (code, text) = {
        let out = mhactl(&["-i", &lab.inventory(), "verify"]);
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("verify: healthy"), "{text}");
    assert_eq!(
        before,
        (node_state(&lab, "node-a"), node_state(&lab, "node-b")),
        "verify changed a node"
    );

    // Replication stopped on one node.
    lab.sql("node-b", "STOP SLAVE");
    expect_failure(
        &lab,
        &[],
        "replication-threads",
        "node-b",
        "IO thread NOT running",
    );
    // `--wait` keeps checking until replication is back (started here 3 s later).
    lab.ssh_ok(
        "node-b",
        "setsid sh -c 'sleep 3; mysql -e \"START SLAVE\"' </dev/null >/dev/null 2>&1 &",
    );
    let (code, report) = verify(&lab, &["--wait", "60"]);
    assert_eq!(code, 0, "{:#?}", failures(&report));
    expect_healthy(&lab);

    // A replication error: a conflicting row inserted on one side only.
    lab.sql(
        "node-b",
        "SET SESSION sql_log_bin = 0; INSERT INTO e2e.t VALUES (2, 'two')",
    );
    lab.sql("node-a", "INSERT INTO e2e.t VALUES (2, 'two')");
    std::thread::sleep(std::time::Duration::from_secs(1));
    expect_failure(&lab, &[], "replication-threads", "node-b", "1062");
    // The rows are identical, so skipping the duplicate repairs it.
    lab.sql(
        "node-b",
        "SET GLOBAL sql_slave_skip_counter = 1; START SLAVE",
    );
    std::thread::sleep(std::time::Duration::from_secs(1));
    expect_healthy(&lab);

    // keepalived stopped on the node that does not hold the VIP.
    let (vip_holder, other) = lab.vip_holder();
    // Debian's SysV script returns before the daemon has exited: wait for it.
    lab.ssh_ok(other, "service keepalived stop; for i in $(seq 50); do pidof keepalived >/dev/null || exit 0; sleep 0.1; done; exit 1");
    expect_failure(&lab, &[], "keepalived", other, "not running");
    lab.ssh_ok(other, "service keepalived start");

    // Split brain: the VIP on both nodes.
    lab.ssh_ok(
        other,
        &format!("ip addr add 10.213.{subnet}.100/24 dev eth0"),
    );
    expect_failure(&lab, &[], "vip", "cluster", "split brain");
    lab.ssh_ok(
        other,
        &format!("ip addr del 10.213.{subnet}.100/24 dev eth0"),
    );
    assert_eq!(lab.vip_holder().0, vip_holder);

    // keepalived.conf files that disagree on the router id (not reloaded: on disk only).
    let kc = "/etc/keepalived/keepalived.conf";
    lab.ssh_ok(
        "node-b",
        &format!(
            "cp -p {kc} /root/kc.bak; sed -i 's/virtual_router_id .*/virtual_router_id 199/' {kc}"
        ),
    );
    expect_failure(
        &lab,
        &[],
        "keepalived-pair",
        "cluster",
        "virtual_router_id differs",
    );
    lab.ssh_ok("node-b", &format!("mv /root/kc.bak {kc}"));

    // A drifted my.cnf.
    let cnf = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
    lab.ssh_ok(
        "node-a",
        &format!("cp {cnf} /root/cnf.bak; echo 'max_connections = 7' >> {cnf}"),
    );
    expect_failure(&lab, &[], "my-cnf", "node-a", "+max_connections = 7");
    lab.ssh_ok("node-a", &format!("mv /root/cnf.bak {cnf}"));

    // A health-check script edited by hand (here: made to always pass).
    let script = "/etc/keepalived/mhactl-check-mysql.sh";
    lab.ssh_ok(
        "node-b",
        &format!("cp -p {script} /root/chk.bak; sed -i '2i exit 0' {script}"),
    );
    expect_failure(&lab, &[], "keepalived-config", "node-b", "+exit 0");
    lab.ssh_ok("node-b", &format!("mv /root/chk.bak {script}"));

    // A row changed on one node only: only --checksum sees it, and names the table.
    lab.sql(
        "node-a",
        "SET SESSION sql_log_bin = 0; UPDATE e2e.t SET v = 'uno' WHERE id = 1",
    );
    let (code, _) = verify(&lab, &[]);
    assert_eq!(
        code, 0,
        "without --checksum data differences are not looked for"
    );
    expect_failure(
        &lab,
        &["--checksum"],
        "checksum",
        "cluster",
        "e2e.t differs",
    );
    lab.sql(
        "node-a",
        "SET SESSION sql_log_bin = 0; UPDATE e2e.t SET v = 'one' WHERE id = 1",
    );
    expect_healthy(&lab);

    // A diverged node is rebuilt from its peer with reinit: refused without the explicit
    // flag, then the data is copied, replication rejoins both ways, the old data is kept.
    lab.sql("node-b", "SET SESSION sql_log_bin = 0; UPDATE e2e.t SET v = 'diverged' WHERE id = 1; DELETE FROM e2e.t WHERE id = 2");
    expect_failure(
        &lab,
        &["--checksum"],
        "checksum",
        "cluster",
        "e2e.t differs",
    );
    let refused = mhactl(&["-i", &lab.inventory(), "reinit", "node-b"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--yes-destroy-data"));
    mhactl_ok(&[
        "-i",
        &lab.inventory(),
        "reinit",
        "node-b",
        "--yes-destroy-data",
        "--no-progress",
    ]);
    expect_healthy(&lab);
    assert_eq!(
        lab.sql("node-b", "SELECT id, v FROM e2e.t ORDER BY id"),
        "1\tone\n2\ttwo\n"
    );
    assert!(lab
        .ssh_ok("node-b", "ls -d /var/lib/mysql.mhactl-*")
        .contains("/var/lib/mysql.mhactl-"));
    // Writes on either side replicate again.
    lab.sql("node-b", "INSERT INTO e2e.t VALUES (3, 'three')");
    lab.sql("node-a", "INSERT INTO e2e.t VALUES (4, 'four')");
    std::thread::sleep(std::time::Duration::from_secs(1));
    expect_healthy(&lab);
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        verify_passes_on_a_healthy_pair_and_catches_each_fault
    )]
}
