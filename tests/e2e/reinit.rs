//! End-to-end on the lab (issue 14, classes 3 and 4): `mhactl reinit` never leaves a
//! node down, and a node it rebuilds is as secure as a packaged one.
//!
//! - Without /etc/hosts (the host name does not resolve) reinit succeeds: the init tool
//!   is told not to look the host up. The rebuilt node (and, before, both nodes whose
//!   `mysql.datadir` bootstrap initialised) has no anonymous accounts, no
//!   `test` database, no grants on `test`/`test\_%`; an application user limited to its
//!   own database cannot create `test.t`; verify is healthy, and fails (naming node and
//!   account) once someone re-creates an anonymous account.
//! - A problem the pre-flight can see (no init tool) is refused before anything stops:
//!   the same server process keeps serving, keepalived and the VIP stay.
//! - A failure after the stop (the init tool fails on the real run) restores the node:
//!   the error quotes the tool's own output, the previous data directory serves again,
//!   replication runs both ways, and two failed tries leave no aside copy; successful
//!   runs keep exactly one.

use crate::support::{converged_rows, mhactl, mhactl_json, Lab, Run, Scenario};
use std::time::{Duration, Instant};

/// Run reinit on `node`; (exit code, stderr, seconds).
fn reinit(lab: &Lab, node: &str) -> (i32, String, f64) {
    let started = Instant::now();
    let out = mhactl(&[
        "-i",
        &lab.inventory(),
        "reinit",
        node,
        "--yes-destroy-data",
        "--no-progress",
    ]);
    let secs = started.elapsed().as_secs_f64();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    eprintln!(
        "reinit {node}: exit {:?} in {secs:.1} s\n{stderr}",
        out.status.code()
    );
    (out.status.code().unwrap_or(-1), stderr, secs)
}

/// Run reinit on `node` and send `signal` (SIGINT or SIGTERM) once it has moved the data
/// directory aside; (exit code, every line it printed).
fn reinit_interrupted(lab: &Lab, node: &str, signal: &str) -> (i32, String) {
    let inv = lab.inventory();
    let mut run = Run::start(&[
        "-i",
        &inv,
        "reinit",
        node,
        "--yes-destroy-data",
        "--no-progress",
    ]);
    let sent = run.wait_line(Duration::from_secs(600), |line| line.contains("aside to"));
    if sent {
        assert!(run.signal(signal), "cannot send {signal}");
    }
    let (status, text) = run.finish(Duration::from_secs(600));
    eprintln!("reinit {node} with {signal}: {status}\n{text}");
    assert!(sent, "reinit never moved the data directory aside:\n{text}");
    (status.code().unwrap_or(-1), text)
}

fn verify_json(lab: &Lab) -> serde_json::Value {
    mhactl_json(&["-i", &lab.inventory(), "verify", "--output", "json"]).1
}

fn failed_checks(report: &serde_json::Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["ok"] == false)
        .map(|c| format!("{}/{}: {}", c["name"], c["node"], c["detail"]))
        .collect()
}

fn expect_healthy(lab: &Lab) {
    // The rejoined replica may need a moment to reconnect.
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    loop {
        let report = verify_json(lab);
        if report["ok"] == true {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "verify not healthy: {:#?}",
            failed_checks(&report)
        );
        std::thread::sleep(std::time::Duration::from_secs(1));
    }
}

/// Rows of e2e.t, identical on both nodes, `want` of them.
fn rows(lab: &Lab, want: usize) -> String {
    converged_rows(lab, "SELECT id, v FROM e2e.t ORDER BY id", want, Lab::sql)
}

fn aside_copies(lab: &Lab, node: &str) -> Vec<String> {
    aside_copies_of(lab, node, "/var/lib/mysql")
}

fn aside_copies_of(lab: &Lab, node: &str, datadir: &str) -> Vec<String> {
    lab.ssh_ok(
        node,
        &format!("for d in {datadir}.mhactl-*; do [ -d \"$d\" ] && echo \"$d\"; done; true"),
    )
    .lines()
    .map(str::to_string)
    .collect()
}

/// Anonymous accounts, `test` databases and `mysql.db` rows for test / test\_%, counted.
fn insecure_leftovers(lab: &Lab, node: &str) -> String {
    lab.sql(
        node,
        "SELECT (SELECT COUNT(*) FROM mysql.user WHERE User = ''), \
         (SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = 'test'), \
         (SELECT COUNT(*) FROM mysql.db WHERE Db LIKE 'test%')",
    )
    .trim()
    .to_string()
}

/// The server's pid, keepalived running, and whether the node holds the VIP.
fn serving_state(lab: &Lab, node: &str) -> (String, bool, bool) {
    let pid = lab
        .ssh_ok(node, "pgrep -x mariadbd || true")
        .trim()
        .to_string();
    let keepalived = !lab
        .ssh_ok(node, "pgrep -x keepalived || true")
        .trim()
        .is_empty();
    let vip = lab
        .ssh_ok(node, "ip -4 -o addr show dev eth0")
        .contains(&format!("10.213.{}.100/", lab.subnet));
    (pid, keepalived, vip)
}

fn reinit_without_etc_hosts_gives_a_node_without_anonymous_accounts_or_test_db(lab: Lab) {
    let subnet = lab.subnet;
    // An application user limited to its own database, managed by the inventory (each
    // node keeps its own accounts: the bootstrap steps after the copy create it).
    let secrets = lab.dir.join("secrets.yaml");
    let mut s = std::fs::read_to_string(&secrets).unwrap();
    s.push_str("app_password: \"app-pw-e2e\"\n");
    std::fs::write(&secrets, s).unwrap();
    let mut text = std::fs::read_to_string(lab.inventory()).unwrap();
    text.push_str(&format!(
        "access:\n  users:\n    - name: app\n      password_file: secrets.yaml#app_password\n      \
         networks: [10.213.{subnet}.0/24]\n      privileges: \"ALL PRIVILEGES ON e2e.*\"\n"
    ));
    // bootstrap initialises this data directory itself (its data-directory step).
    let text = text.replace(
        "  flavor: mariadb\n",
        "  flavor: mariadb\n  datadir: /data/mysql\n",
    );
    assert!(text.contains("datadir: /data/mysql"), "{text}");
    std::fs::write(lab.inventory(), text).unwrap();
    lab.bootstrap_ok();
    for node in ["node-a", "node-b"] {
        assert_eq!(
            insecure_leftovers(&lab, node),
            "0\t0\t0",
            "after bootstrap on {node}"
        );
    }
    lab.sql(
        "node-a",
        "CREATE DATABASE e2e; CREATE TABLE e2e.t (id INT PRIMARY KEY, v VARCHAR(20)); \
         INSERT INTO e2e.t VALUES (1, 'one'), (2, 'two')",
    );
    rows(&lab, 2);

    // A host without /etc/hosts: its own name does not resolve (no DNS in the lab).
    lab.ssh_ok("node-b", "rm -f /etc/hosts");
    assert!(
        !lab.ssh("node-b", "getent hosts \"$(uname -n)\"")
            .status
            .success(),
        "node-b's host name still resolves"
    );
    let (code, stderr, secs) = reinit(&lab, "node-b");
    assert_eq!(code, 0, "reinit without /etc/hosts failed:\n{stderr}");
    eprintln!("MEASURED reinit of node-b (2 rows, MariaDB 10.11): {secs:.1} s");
    assert_eq!(aside_copies_of(&lab, "node-b", "/data/mysql").len(), 1);

    // What mysql_secure_installation removes is not there.
    assert_eq!(
        insecure_leftovers(&lab, "node-b"),
        "0\t0\t0",
        "after reinit"
    );
    // The application user, limited to e2e, can use e2e but cannot create test.t.
    let app = |statement: &str| {
        lab.ssh(
            "node-b",
            &format!("mariadb -u app -papp-pw-e2e -h 10.213.{subnet}.12 -N -B -e \"{statement}\""),
        )
    };
    let ok = app("SELECT COUNT(*) FROM e2e.t");
    assert!(
        ok.status.success(),
        "app cannot read e2e.t: {}",
        String::from_utf8_lossy(&ok.stderr)
    );
    let denied = app("CREATE DATABASE IF NOT EXISTS test; CREATE TABLE test.t (id INT)");
    assert!(
        !denied.status.success(),
        "the application user created test.t on the rebuilt node"
    );
    // Replication both ways, and verify is healthy (access-defaults included).
    lab.sql("node-b", "INSERT INTO e2e.t VALUES (3, 'three')");
    lab.sql("node-a", "INSERT INTO e2e.t VALUES (4, 'four')");
    rows(&lab, 4);
    expect_healthy(&lab);

    // Someone re-creates an anonymous account on one node: verify fails, naming both.
    lab.sql(
        "node-a",
        "SET SESSION sql_log_bin = 0; CREATE USER ''@'localhost'",
    );
    let report = verify_json(&lab);
    let failed = failed_checks(&report);
    assert_eq!(
        report["ok"], false,
        "verify passed with an anonymous account"
    );
    assert!(
        failed.iter().any(
            |f| f.starts_with("\"access-defaults\"/\"node-a\"") && f.contains("''@'localhost'")
        ),
        "{failed:#?}"
    );
}

fn reinit_refuses_before_stopping_and_restores_after_a_failure(lab: Lab) {
    lab.bootstrap_ok();
    lab.sql(
        "node-a",
        "CREATE DATABASE e2e; CREATE TABLE e2e.t (id INT PRIMARY KEY, v VARCHAR(20)); \
         INSERT INTO e2e.t VALUES (1, 'one'), (2, 'two')",
    );
    rows(&lab, 2);
    let holder = if serving_state(&lab, "node-a").2 {
        "node-a"
    } else {
        "node-b"
    };

    // 1. The pre-flight sees that the init tool is missing on the VIP holder: refused,
    //    nothing stopped (same server process, keepalived and the VIP stay).
    let before = serving_state(&lab, holder);
    assert!(before.1 && before.2 && !before.0.is_empty(), "{before:?}");
    lab.ssh_ok(
        holder,
        "mv /usr/bin/mariadb-install-db /usr/bin/mariadb-install-db.e2e",
    );
    let (code, stderr, _) = reinit(&lab, holder);
    lab.ssh_ok(
        holder,
        "mv /usr/bin/mariadb-install-db.e2e /usr/bin/mariadb-install-db",
    );
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("refused before anything was changed")
            && stderr.contains(&format!("{holder}: neither mariadb-install-db")),
        "{stderr}"
    );
    assert_eq!(serving_state(&lab, holder), before, "the node was touched");
    assert!(aside_copies(&lab, holder).is_empty());
    rows(&lab, 2);

    // 1b. keepalived is down on the peer: stopping the holder's keepalived would leave
    //     nobody serving the VIP, so that is refused too, and the VIP stays.
    let other = if holder == "node-a" {
        "node-b"
    } else {
        "node-a"
    };
    // `service keepalived stop` returns before the daemon has exited: wait for it.
    lab.ssh_ok(
        other,
        "service keepalived stop; i=0; while pgrep -x keepalived >/dev/null && [ $i -lt 100 ]; \
         do sleep 0.1; i=$((i+1)); done; ! pgrep -x keepalived",
    );
    let (code, stderr, _) = reinit(&lab, holder);
    lab.ssh_ok(other, "service keepalived start");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains("refused before anything was changed")
            && stderr.contains(&format!("keepalived does not run on {other}")),
        "{stderr}"
    );
    assert_eq!(serving_state(&lab, holder), before, "the node was touched");

    // 1c. The peer's keepalived runs but hangs (SIGSTOP): the pre-flight cannot see it,
    //     the VIP does not move when the holder's keepalived stops. reinit gives up at
    //     that step and restores: keepalived back, the VIP back, the server never
    //     restarted (same pid).
    lab.ssh_ok(other, "pkill -STOP -x keepalived");
    let (code, stderr, secs) = reinit(&lab, holder);
    lab.ssh_ok(other, "pkill -CONT -x keepalived");
    assert_eq!(code, 1, "{stderr}");
    assert!(
        stderr.contains(&format!(
            "reinit of {holder} failed at step `stop-keepalived`"
        )) && stderr.contains("restored:")
            && stderr.contains("kept running on its data"),
        "{stderr}"
    );
    eprintln!("MEASURED reinit giving up on a hung peer keepalived: {secs:.1} s");
    let (pid, keepalived, _) = serving_state(&lab, holder);
    assert_eq!(
        (pid, keepalived),
        (before.0.clone(), true),
        "{holder} was touched"
    );
    // The VIP is served again (by whichever node VRRP elects once both run).
    let deadline = Instant::now() + std::time::Duration::from_secs(20);
    while serving_state(&lab, holder).2 == serving_state(&lab, other).2 {
        assert!(
            Instant::now() < deadline,
            "no single VIP holder after the restore"
        );
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    let holder_now = if serving_state(&lab, holder).2 {
        holder
    } else {
        other
    };
    eprintln!("after the restore the VIP is on {holder_now}");

    // 2. The init tool runs for the pre-flight but fails on the real run (after the
    //    stop), printing its error on stdout as mariadb-install-db does. Twice.
    lab.ssh_ok(
        holder,
        "mv /usr/bin/mariadb-install-db /usr/bin/mariadb-install-db.e2e && \
         printf '%s\\n' '#!/bin/sh' \
           'case \"$*\" in *--help*) exec /usr/bin/mariadb-install-db.e2e \"$@\";; esac' \
           'echo \"FATAL ERROR: e2e-injected: cannot create the system tables\"; exit 1' \
           > /usr/bin/mariadb-install-db && chmod 755 /usr/bin/mariadb-install-db",
    );
    for attempt in 1..=2 {
        let (code, stderr, secs) = reinit(&lab, holder);
        assert_eq!(code, 1, "attempt {attempt}: {stderr}");
        assert!(
            stderr.contains(&format!("reinit of {holder} failed at step `initialise`"))
                && stderr.contains("FATAL ERROR: e2e-injected: cannot create the system tables")
                && stderr.contains("restored:"),
            "attempt {attempt}: {stderr}"
        );
        eprintln!("MEASURED failed reinit with restore, attempt {attempt}: {secs:.1} s");
        assert!(
            aside_copies(&lab, holder).len() <= 1,
            "attempt {attempt}: {:?}",
            aside_copies(&lab, holder)
        );
        let (pid, keepalived, _) = serving_state(&lab, holder);
        assert!(
            !pid.is_empty() && keepalived,
            "attempt {attempt}: not serving"
        );
    }
    assert!(aside_copies(&lab, holder).is_empty());
    // The previous data serves, replication runs both ways, verify is healthy.
    lab.sql(holder, "INSERT INTO e2e.t VALUES (3, 'three')");
    lab.sql(other, "INSERT INTO e2e.t VALUES (4, 'four')");
    rows(&lab, 4);
    expect_healthy(&lab);

    // 3. With the tool back, reinit succeeds; a second success keeps one aside copy.
    lab.ssh_ok(
        holder,
        "mv /usr/bin/mariadb-install-db.e2e /usr/bin/mariadb-install-db",
    );

    // 2b. SIGINT after the data directory was moved aside: reinit stops before its next
    //     step, puts the node back as it was (like any failure) and exits 130.
    let (code, stderr) = reinit_interrupted(&lab, holder, "SIGINT");
    assert_eq!(code, 130, "{stderr}");
    assert!(stderr.contains("restored:"), "{stderr}");
    assert!(aside_copies(&lab, holder).is_empty(), "{stderr}");
    let (pid, keepalived, _) = serving_state(&lab, holder);
    assert!(!pid.is_empty() && keepalived, "not serving after SIGINT");
    rows(&lab, 4);
    expect_healthy(&lab);

    for attempt in 1..=2 {
        let (code, stderr, secs) = reinit(&lab, holder);
        assert_eq!(code, 0, "success {attempt}: {stderr}");
        eprintln!("MEASURED reinit of {holder} (4 rows): {secs:.1} s");
        assert_eq!(aside_copies(&lab, holder).len(), 1, "success {attempt}");
        if attempt == 2 {
            assert!(
                stderr.contains("the aside copy of an earlier reinit"),
                "{stderr}"
            );
        }
    }
    rows(&lab, 4);
    expect_healthy(&lab);

    // 4. A run killed right after the move (simulated as that run leaves it: keepalived
    //    and the server stopped, the data in a new aside copy named by the marker, an
    //    empty directory in its place): the next run reuses that copy instead of moving
    //    the empty directory aside as well, and one aside copy stays.
    lab.ssh_ok(
        holder,
        "service keepalived stop; service mariadb stop; \
         a=/var/lib/mysql.mhactl-$(date -u +%Y%m%dT%H%M%SZ); \
         echo \"$a\" > /var/lib/mysql.mhactl-reinit && mv /var/lib/mysql \"$a\" && \
         install -d -o mysql -g mysql -m 750 /var/lib/mysql",
    );
    assert_eq!(aside_copies(&lab, holder).len(), 2);
    let (code, stderr, _) = reinit(&lab, holder);
    assert_eq!(code, 0, "after a killed run: {stderr}");
    assert!(stderr.contains("was interrupted"), "{stderr}");
    assert_eq!(aside_copies(&lab, holder).len(), 1, "{stderr}");
    assert!(lab
        .ssh(holder, "test -e /var/lib/mysql.mhactl-reinit")
        .status
        .code()
        .is_some_and(|c| c != 0));
    rows(&lab, 4);
    expect_healthy(&lab);
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(reinit_without_etc_hosts_gives_a_node_without_anonymous_accounts_or_test_db),
        scenario!(reinit_refuses_before_stopping_and_restores_after_a_failure),
    ]
}
