//! End-to-end on the MySQL lab (Debian sid's mysql-server 9.x, a daemonless systemctl,
//! the first start done the RPM way): bootstrap takes root over from the temporary,
//! expired password, builds a dual-master pair with caching_sha2_password replication,
//! converges (a re-run changes nothing), and replication survives a restart of both
//! servers (the caching_sha2_password cache is flushed then).

use crate::support::{converged_rows, json, mhactl, mhactl_json, text, Lab, Scenario};
use std::time::Instant;

fn bootstrap_json(lab: &Lab) -> serde_json::Value {
    let inv = lab.inventory();
    let out = mhactl(&["bootstrap", &inv, "--no-progress", "--output", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for key in ["replication_password", "root_password"] {
        let s = lab.secret(key);
        assert!(
            !stdout.contains(&s) && !stderr.contains(&s),
            "the {key} leaked into bootstrap's output"
        );
    }
    assert!(
        out.status.success(),
        "bootstrap failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// SQL as root with the inventory's root password (in a 0600 option file, not argv).
fn sql_result(lab: &Lab, node: &str, statement: &str) -> std::process::Output {
    lab.ssh(
        node,
        &format!("mysql --defaults-extra-file=/root/e2e.cnf -N -B -e \"{statement}\""),
    )
}

fn sql(lab: &Lab, node: &str, statement: &str) -> String {
    let out = sql_result(lab, node, statement);
    assert!(
        out.status.success(),
        "on {node}: {statement}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `statement` as root on either node: the passive node is fenced (`super_read_only`,
/// `writes: vip-holder`; after a restart both start fenced until the agent unfences the
/// VIP holder), so an administrator lifts only `super_read_only` for it and restores it to
/// `read_only` after, as mhactl does for its own writes. This test is about replication
/// in both directions, not about fencing (tests/e2e/fencing.rs).
fn admin_write(lab: &Lab, node: &str, statement: &str) -> String {
    sql(
        lab,
        node,
        &format!(
            "SET GLOBAL super_read_only = OFF; {statement}; SET GLOBAL super_read_only = @@GLOBAL.read_only"
        ),
    )
}

fn mysql_lab_bootstrap_from_rpm_style_first_start(lab: Lab) {
    let subnet = lab.subnet;
    let t0 = Instant::now();
    let inv = std::fs::read_to_string(lab.inventory()).unwrap();
    assert!(inv.contains("flavor: mysql"), "{inv}");
    assert!(inv.contains("root_password_file"), "{inv}");
    // Bare nodes: no server yet; a systemctl that answers like a real host's.
    lab.ssh_ok(
        "node-a",
        "! command -v mysqld && systemctl list-units >/dev/null",
    );

    // A dry run on the bare nodes shows every file, the drop-in for the candidate
    // mysql-server; it is the one the real run writes.
    let my_cnf = "/etc/mysql/mysql.conf.d/zz-mhactl.cnf";
    let predicted = crate::bootstrap::bare_dry_run_shows_every_file(&lab, my_cnf);

    let t1 = Instant::now();
    let report = bootstrap_json(&lab);
    assert_eq!(
        crate::bootstrap::created_content(&predicted),
        lab.ssh_ok("node-a", &format!("cat {my_cnf}")),
        "the bare dry run predicted another {my_cnf}"
    );
    eprintln!(
        "mysql: bootstrap from bare in {:.1} s",
        t1.elapsed().as_secs_f64()
    );
    assert_eq!(report["ok"], true);
    let steps = report["steps"].as_array().unwrap();
    for node in ["node-a", "node-b"] {
        let admin = steps
            .iter()
            .find(|s| s["node"] == node && s["step"] == "admin-access")
            .unwrap();
        assert_eq!(admin["status"], "changed", "{admin}");
        assert!(
            admin["detail"].as_str().unwrap().contains("temporary"),
            "{admin}"
        );
    }

    // root's password is now the inventory's; the validate_password policy is intact.
    for node in ["node-a", "node-b"] {
        lab.root_option_file(node);
    }
    assert_eq!(
        sql(&lab, "node-a", "SELECT @@validate_password.policy").trim(),
        "MEDIUM"
    );
    // Lifting super_read_only first (node-a may be the fenced passive node); `-f` so the
    // restore runs after the refused statement.
    let weak = lab.ssh(
        "node-a",
        "mysql --defaults-extra-file=/root/e2e.cnf -f -N -B -e \"SET GLOBAL super_read_only = OFF; \
         CREATE USER weak@localhost IDENTIFIED BY 'abc'; SET GLOBAL super_read_only = @@GLOBAL.read_only\"",
    );
    assert!(
        String::from_utf8_lossy(&weak.stderr).contains("1819"),
        "{weak:?}"
    );
    assert!(sql(&lab, "node-a", "SELECT VERSION()").starts_with('9'));
    // The replication accounts use caching_sha2_password.
    assert_eq!(
        sql(
            &lab,
            "node-a",
            &format!(
                "SELECT plugin FROM mysql.user WHERE User='repl' AND Host='10.213.{subnet}.12'"
            )
        )
        .trim(),
        "caching_sha2_password"
    );

    // Rows written on either node reach the other; auto-increment ids interleave.
    admin_write(&lab, "node-a", "CREATE DATABASE e2e; CREATE TABLE e2e.t (id INT AUTO_INCREMENT PRIMARY KEY, origin VARCHAR(10))");
    admin_write(&lab, "node-a", "INSERT INTO e2e.t (origin) VALUES ('a')");
    converged_rows(&lab, "SELECT id, origin FROM e2e.t ORDER BY id", 1, sql);
    admin_write(&lab, "node-b", "INSERT INTO e2e.t (origin) VALUES ('b')");
    assert_eq!(
        converged_rows(&lab, "SELECT id, origin FROM e2e.t ORDER BY id", 2, sql),
        "1\ta\n2\tb\n"
    );

    // A re-run on the converged pair changes nothing.
    let t2 = Instant::now();
    let report = bootstrap_json(&lab);
    eprintln!(
        "mysql: converged re-run in {:.1} s",
        t2.elapsed().as_secs_f64()
    );
    assert_eq!(report["changed"], 0, "{report}");

    // verify finds the pair healthy, GTID sets included: the first password change of
    // each freshly initialised server is not a transaction the peer never got.
    let inv = lab.inventory();
    let (_, verify) = mhactl_json(&["-i", &inv, "verify", "--checksum", "--output", "json"]);
    assert_eq!(verify["ok"], true, "{verify}");
    let gtid: Vec<_> = verify["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == "gtid")
        .collect();
    assert!(
        gtid.len() == 2 && gtid.iter().all(|c| c["ok"] == true),
        "{gtid:?}"
    );

    // Restart both servers: the caching_sha2_password cache is gone, so the replicas
    // must log in with a full authentication (GET_SOURCE_PUBLIC_KEY=1) again.
    for node in ["node-a", "node-b"] {
        lab.ssh_ok(node, "systemctl restart mysql");
    }
    admin_write(&lab, "node-a", "INSERT INTO e2e.t (origin) VALUES ('a2')");
    admin_write(&lab, "node-b", "INSERT INTO e2e.t (origin) VALUES ('b2')");
    let rows = converged_rows(&lab, "SELECT origin FROM e2e.t ORDER BY id", 4, sql);
    assert!(rows.contains("a2") && rows.contains("b2"), "{rows}");
    for node in ["node-a", "node-b"] {
        let status = lab.ssh_ok(
            node,
            "mysql --defaults-extra-file=/root/e2e.cnf -E -e 'SHOW REPLICA STATUS'",
        );
        assert!(
            status.contains("Replica_IO_Running: Yes")
                && status.contains("Replica_SQL_Running: Yes"),
            "{node}: {status}"
        );
    }
    // ...and bootstrap still finds nothing to do.
    let report = bootstrap_json(&lab);
    assert_eq!(report["changed"], 0, "{report}");

    // `mysqld --validate-config` before anything is applied: with an option file the
    // server rejects (an unknown variable, in another drop-in) and mhactl's own file
    // edited by hand, server-config fails naming the node, the step and the server's
    // error, and puts the edited file back; the running mysqld is the same process.
    // (The edit is a comment: since rolling changes (issue 16) such a change is written
    // without a restart, so it is refused on that path, not before a restart.)
    let drop_in = "/etc/mysql/mysql.conf.d/zz-mhactl.cnf";
    lab.ssh_ok(
        "node-a",
        &format!(
            "echo '# edited by hand' >> {drop_in}; \
             printf '[mysqld]\\nbogus_option = 1\\n' > /etc/mysql/mysql.conf.d/zz-zz-bad.cnf"
        ),
    );
    let pid = lab.ssh_ok("node-a", "pidof mysqld");
    // The dry run names the path: a comment is written without a restart.
    let dry = mhactl(&["bootstrap", &lab.inventory(), "--dry-run", "--no-progress"]);
    let dry = text(&dry);
    assert!(
        dry.lines().any(|l| l.contains("node-a")
            && l.contains("server-config")
            && l.contains("without restarting mysql: only comments change")),
        "{dry}"
    );
    let out = mhactl(&[
        "bootstrap",
        &lab.inventory(),
        "--no-progress",
        "--output",
        "json",
    ]);
    assert!(!out.status.success());
    let report = json(&out, "bootstrap");
    let step = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["node"] == "node-a" && s["step"] == "server-config")
        .unwrap()
        .clone();
    assert_eq!(step["status"], "failed", "{step}");
    let detail = step["detail"].as_str().unwrap();
    assert!(
        detail.contains(&format!(
            "node-a: server-config: `mysqld --validate-config` rejects the new {drop_in}"
        )) && detail.contains("unknown variable 'bogus_option=1'")
            && detail.contains(
                "the previous version was restored and the server was not restarted \
                 (the change needs no restart)"
            ),
        "{detail}"
    );

    assert!(lab
        .ssh_ok("node-a", &format!("tail -n 1 {drop_in}"))
        .contains("# edited by hand"));
    assert_eq!(lab.ssh_ok("node-a", "pidof mysqld"), pid);
    // Without the bad file, bootstrap writes mhactl's file again and converges.
    lab.ssh_ok("node-a", "rm /etc/mysql/mysql.conf.d/zz-zz-bad.cnf");
    let report = bootstrap_json(&lab);
    assert_eq!(report["changed"], 1, "{report}");

    // The VIP fails over on MySQL too (the probe account must pass validate_password),
    // and no acknowledged write is lost.
    let (_, failover) = mhactl_json(&[
        "-i",
        &inv,
        "failover-test",
        "--mode",
        "stop-mysqld",
        "--output",
        "json",
    ]);
    assert_eq!(failover["ok"], true, "{failover}");
    assert_eq!(failover["writes_lost"], 0, "{failover}");
    eprintln!("mysql: total {:.1} s", t0.elapsed().as_secs_f64());
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(mysql_lab_bootstrap_from_rpm_style_first_start).flavor("mysql")]
}
