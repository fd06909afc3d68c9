//! End-to-end on the lab: bootstrap re-points replication without losing a row, and
//! fails when replication breaks after it started.
//!
//! - A pair built by hand the runbook's way (scripts/baseline-runbook.sh, replication
//!   account `hadoop`), with a writer inserting through the VIP the whole time: bootstrap
//!   takes it over, and afterwards every acknowledged row is on both nodes and the tables
//!   are identical (issue 14, class 12: the replicas were re-pointed at their peer's
//!   *current* position, skipping what they had not executed yet).
//! - A replica whose SQL thread stops on an event a moment after bootstrap started it:
//!   bootstrap fails, naming the node, the step and the server's error (class 5: it said
//!   "changed, 0 failed").

use crate::runbook_sql::{field, mysql_sql, replica_status, root_client, root_sql};
use crate::support::{mhactl, mhactl_ok, step_lines, text, Lab, Scenario};
use mysql::prelude::Queryable;
use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The writer's account (test-only; it exists only on the lab).
const WRITER_PASSWORD: &str = "e2e-writer-pw";

/// Build the pair the runbook's way, replicating with the account `hadoop`.
pub(crate) fn runbook_pair(lab: &Lab) {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/baseline-runbook.sh");
    let out = std::process::Command::new("bash")
        .arg(script)
        .arg(lab.dir_str())
        .env("REPL_USER", "hadoop")
        .output()
        .expect("running scripts/baseline-runbook.sh");
    assert!(
        out.status.success(),
        "baseline-runbook.sh failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The application's table and the writer's account, created on node-a and replicated
/// (either flavor's runbook pair).
pub(crate) fn app_schema(lab: &Lab) {
    let ddl = format!(
        "CREATE DATABASE app; \
         CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, n INT NOT NULL UNIQUE, \
         server_id INT NOT NULL); \
         CREATE USER 'writer'@'%' IDENTIFIED BY '{WRITER_PASSWORD}'; \
         GRANT ALL ON app.* TO 'writer'@'%';"
    );
    let out = lab.ssh_stdin("node-a", root_client(lab), &ddl);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_app_table_on_b(lab, root_sql);
}

/// Wait (up to 30 s) until the `app` schema's table, created on node-a, has replicated to
/// node-b; `sql` asks node-b (root's login differs between the flavors).
fn wait_app_table_on_b(lab: &Lab, sql: impl Fn(&Lab, &str, &str) -> String) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while sql(
        lab,
        "node-b",
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'app'",
    )
    .trim()
        != "1"
    {
        assert!(
            Instant::now() < deadline,
            "app.t did not replicate to node-b"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Inserts through the VIP until stopped; `acked` collects every `n` whose INSERT the
/// server acknowledged (autocommit: committed). Errors (a restart, the VIP moving) drop
/// the connection and retry with the next `n`.
///
/// An INSERT that timed out is not necessarily dead: sent while the VIP was moving
/// (keepalived reloads), its TCP segment is retransmitted and still reaches the server
/// after the VIP is back, which executes it although the writer gave up on it seconds
/// earlier. [`end_writer_sessions`] stops that before the nodes are compared.
struct Writer {
    stop: Arc<AtomicBool>,
    acked: Arc<Mutex<Vec<u32>>>,
    /// When each acknowledgement arrived (for the longest gap between two).
    acked_at: Arc<Mutex<Vec<Instant>>>,
    errors: Arc<Mutex<Vec<String>>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Writer {
    fn start(vip: &str) -> Writer {
        let stop = Arc::new(AtomicBool::new(false));
        let acked = Arc::new(Mutex::new(Vec::new()));
        let errors = Arc::new(Mutex::new(Vec::new()));
        let acked_at = Arc::new(Mutex::new(Vec::new()));
        let opts = mysql::OptsBuilder::new()
            .ip_or_hostname(Some(vip.to_string()))
            .tcp_port(3306)
            .user(Some("writer"))
            .pass(Some(WRITER_PASSWORD))
            .tcp_connect_timeout(Some(Duration::from_secs(2)))
            .read_timeout(Some(Duration::from_secs(5)))
            .write_timeout(Some(Duration::from_secs(5)))
            .prefer_socket(false);
        let (s, a, e, at) = (
            stop.clone(),
            acked.clone(),
            errors.clone(),
            acked_at.clone(),
        );
        let handle = std::thread::spawn(move || {
            let mut n: u32 = 0;
            let mut conn: Option<mysql::Conn> = None;
            while !s.load(Ordering::SeqCst) {
                if conn.is_none() {
                    match mysql::Conn::new(opts.clone()) {
                        Ok(c) => conn = Some(c),
                        Err(err) => {
                            e.lock().unwrap().push(format!("connect: {err}"));
                            std::thread::sleep(Duration::from_millis(100));
                            continue;
                        }
                    }
                }
                n += 1;
                let c = conn.as_mut().expect("connected");
                match c.exec_drop(
                    "INSERT INTO app.t (n, server_id) VALUES (?, @@server_id)",
                    (n,),
                ) {
                    Ok(()) => {
                        a.lock().unwrap().push(n);
                        at.lock().unwrap().push(Instant::now());
                    }
                    Err(err) => {
                        e.lock().unwrap().push(format!("insert {n}: {err}"));
                        conn = None;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                }
            }
        });
        Writer {
            stop,
            acked,
            acked_at,
            errors,
            handle: Some(handle),
        }
    }

    fn acked_count(&self) -> usize {
        self.acked.lock().unwrap().len()
    }

    /// The longest time between two acknowledgements that arrived after `from` (the
    /// write gap a client of the VIP sees), and how long after `from` it began.
    fn longest_gap_since(&self, from: Instant) -> (Duration, Duration) {
        let at = self.acked_at.lock().unwrap();
        let after: Vec<Instant> = at.iter().copied().filter(|t| *t >= from).collect();
        after
            .windows(2)
            .map(|w| (w[1] - w[0], w[0] - from))
            .max()
            .unwrap_or_default()
    }

    fn finish(mut self) -> (Vec<u32>, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            h.join().expect("writer thread");
        }
        let acked = self.acked.lock().unwrap().clone();
        let errors = self.errors.lock().unwrap().clone();
        (acked, errors)
    }
}

/// End every server-side session of the writer's account on both nodes and wait until
/// none is left. After [`Writer::finish`] the client has closed its sockets, but the
/// server may still hold a session whose last INSERT is in flight (see [`Writer`]): it
/// would commit after the comparison read one node and before it read the other, a row
/// on one node only that replicates a moment later (seen as "16983 vs 16984 rows", the
/// late row only on the node read second). A killed session's late segment is refused.
fn end_writer_sessions(lab: &Lab) {
    let query = "SELECT id FROM information_schema.processlist WHERE user = 'writer'";
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut left = 0;
        for node in ["node-a", "node-b"] {
            for id in root_sql(lab, node, query).split_whitespace() {
                left += 1;
                // The session may end by itself meanwhile (1094 Unknown thread id).
                let kill = format!("{} -e 'KILL CONNECTION {id}'", root_client(lab));
                let _ = lab.ssh(node, &kill);
            }
        }
        if left == 0 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the writer's sessions did not end"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Wait (up to `secs`) until both nodes' replicas run and have executed everything their
/// peer logged; panic with both statuses if not.
fn wait_caught_up(lab: &Lab, secs: u64) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        let mut done = true;
        let mut seen = String::new();
        for (node, peer) in [("node-a", "node-b"), ("node-b", "node-a")] {
            let (file, pos) = crate::runbook_sql::binlog_position(lab, peer);
            let status = replica_status(lab, node);
            let field = |name: &str| field(&status, name);
            let ok = field("Slave_IO_Running") == "Yes"
                && field("Slave_SQL_Running") == "Yes"
                && field("Relay_Master_Log_File") == file
                && field("Exec_Master_Log_Pos") == pos;
            done &= ok;
            seen.push_str(&format!("{node}: peer at {file}:{pos}\n{status}\n"));
        }
        if done {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "replication did not catch up:\n{seen}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
}

fn rows(lab: &Lab, node: &str) -> Vec<String> {
    root_sql(lab, node, "SELECT id, n, server_id FROM app.t ORDER BY id")
        .lines()
        .map(str::to_string)
        .collect()
}

/// Issue 14, class 12. Before the fix, bootstrap re-pointed each replica at its peer's
/// current binary log position, so whatever a replica had fetched or not yet fetched but
/// not executed was skipped: rows acknowledged through the VIP were missing on one node.
fn bootstrap_takes_over_a_runbook_pair_under_writes_without_losing_a_row(lab: Lab) {
    runbook_pair(&lab);
    app_schema(&lab);
    takes_over_under_writes(&lab, &lab.inventory());
}

/// bootstrap with inventory `inv` takes over the runbook pair (with its `app` schema)
/// while a writer inserts through the VIP: no acknowledged row lost, the tables equal,
/// one VIP move, the replicas on the inventory's account (`repl`), a re-run leaves
/// replication alone. Also run on the inventory `mhactl adopt` writes (tests/e2e/adopt.rs).
/// Returns the longest write gap seen through the VIP during bootstrap.
pub(crate) fn takes_over_under_writes(lab: &Lab, inv: &str) -> Duration {
    let inv = inv.to_string();
    // A dry run changes nothing and shows every change, the replicas' re-point too
    // (planned past server-config's pending restart from the replicas as they are).
    let dry = mhactl(&["bootstrap", &inv, "--dry-run", "--no-progress"]);
    assert!(dry.status.success(), "{}", text(&dry));
    let dry = text(&dry);
    for (node, peer) in [("node-a", "node-b"), ("node-b", "node-a")] {
        let shown = dry.lines().any(|l| {
            l.contains(&format!(" {node} "))
                && l.contains(" replication  ")
                && l.contains(&format!("would re-point replication from {peer}"))
                && l.contains("as repl (was hadoop@")
                && l.contains("keeping the position it executed up to")
        });
        assert!(
            shown,
            "{node}: the dry run does not show the re-point:\n{dry}"
        );
    }
    assert_eq!(
        field(&replica_status(lab, "node-b"), "Master_User"),
        "hadoop"
    );
    let vip = format!("10.213.{}.100", lab.subnet);
    let writer = Writer::start(&vip);
    let deadline = Instant::now() + Duration::from_secs(30);
    while writer.acked_count() < 300 {
        assert!(
            Instant::now() < deadline,
            "the writer got no acknowledgements"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = writer.acked_count();
    // node-a (the runbook's priority 100) holds the VIP. The servers restart one at a
    // time and never node-a while it holds the VIP: bootstrap hands the VIP to node-b
    // first, by stopping node-a's hand-built keepalived (it tracks no file of mhactl's).
    let watch = crate::rolling::VipWatch::start(lab, "node-a");
    let timeline = crate::vip_gaps::VipTimeline::start(lab);
    let started = Instant::now();
    // -v: the hand-over's switchover steps with their times (where the gap comes from).
    let out = mhactl(&["bootstrap", &inv, "--no-progress", "-v"]);
    // What it said: the step lines (stderr) and the totals (stdout).
    let said = text(&out);
    for line in said.lines().filter(|l| l.contains("hand-over at")) {
        eprintln!("{line}");
    }
    // Writes go on a little after bootstrap, then stop.
    std::thread::sleep(Duration::from_secs(2));
    let (gap, gap_at) = writer.longest_gap_since(started);
    eprintln!(
        "write gap: longest {:.2} s between two acknowledged writes through the VIP, \
         {:.1} s into bootstrap",
        gap.as_secs_f64(),
        gap_at.as_secs_f64()
    );
    let (acked, errors) = writer.finish();
    let (samples, both, holders) = watch.stop();
    eprintln!("VIP: holders {holders:?} in {samples} samples");
    crate::vip_gaps::assert_off_within(&timeline.stop(), &said);
    assert!(
        both.is_empty(),
        "the VIP was on both nodes: {both:?}\n{said}"
    );
    // Exactly one move: keepalived's conversion to mhactl's configuration afterwards
    // keeps the VIP on node-b (node-a's keepalived starts after node-b's).
    assert_eq!(holders, ["node-a", "node-b"], "{said}");
    assert!(
        said.contains("restart (passive first: node-a holds the VIP)")
            && said.contains("restart after switchover by stopping its keepalived"),
        "{said}"
    );
    eprintln!(
        "writer: {} acknowledged ({before} before bootstrap), {} errors{}",
        acked.len(),
        errors.len(),
        errors
            .iter()
            .take(5)
            .map(|e| format!("\n  {e}"))
            .collect::<String>()
    );
    // What changed, with the time each step took: where a write gap comes from.
    for line in said.lines().filter(|l| l.contains(" changed ")) {
        eprintln!("{line}");
    }
    assert!(out.status.success(), "bootstrap failed:\n{said}");
    assert!(
        said.contains("replicate from node-b") || said.contains("re-point"),
        "{said}"
    );
    // No write may land after this point, so "caught up" means the tables are final.
    end_writer_sessions(lab);
    wait_caught_up(lab, 60);
    let a = rows(lab, "node-a");
    let b = rows(lab, "node-b");
    for (node, rows) in [("node-a", &a), ("node-b", &b)] {
        let present: BTreeSet<u32> = rows
            .iter()
            .filter_map(|r| r.split('\t').nth(1)?.parse().ok())
            .collect();
        let missing: Vec<u32> = acked
            .iter()
            .copied()
            .filter(|n| !present.contains(n))
            .collect();
        assert!(
            missing.is_empty(),
            "{node} lacks {} acknowledged rows (of {}), e.g. n = {:?}\nbootstrap said:\n{said}",
            missing.len(),
            acked.len(),
            &missing[..missing.len().min(20)]
        );
    }
    if a != b {
        // Which rows differ says why (an unacknowledged write on one node only, a row
        // applied twice, ...): name them, with the writer's errors.
        let only_a: Vec<&String> = a.iter().filter(|r| !b.contains(r)).take(20).collect();
        let only_b: Vec<&String> = b.iter().filter(|r| !a.contains(r)).take(20).collect();
        panic!(
            "the nodes' app.t differ: {} vs {} rows\nonly on node-a (id, n, server_id): {only_a:?}\n\
             only on node-b: {only_b:?}\nwriter errors: {errors:?}\nbootstrap said:\n{said}",
            a.len(),
            b.len()
        );
    }
    // The replicas now use the inventory's account.
    for node in ["node-a", "node-b"] {
        let status = replica_status(lab, node);
        assert_eq!(field(&status, "Master_User"), "repl", "{node}: {status}");
    }
    // A re-run leaves replication alone.
    let again = mhactl_ok(&["bootstrap", &inv, "--no-progress"]);
    for line in again.lines().filter(|l| l.contains(" replication ")) {
        assert!(line.contains(" ok "), "{line}");
    }
    gap
}

/// Issue 14, class 5. node-b's replica was stopped; meanwhile node-a logged 500 inserts
/// and then one of a row node-b already has (inserted there with the binary log off).
/// bootstrap starts node-b's replica, whose SQL thread stops with error 1062 a moment
/// later, on that event. (A conflicting CREATE TABLE would not do: MariaDB replicas run
/// DDL idempotently by default, `slave_ddl_exec_mode`.) Before the fix bootstrap reported the replication step as
/// changed (or, when the re-plan caught the stopped thread, a "bug" without the cause);
/// now it fails naming the node, the step and the server's error.
fn bootstrap_fails_naming_the_error_when_replication_breaks_after_it_started(lab: Lab) {
    let inv = lab.inventory();
    mhactl_ok(&["bootstrap", &inv, "--no-progress"]);
    lab.sql(
        "node-a",
        "CREATE DATABASE app; CREATE TABLE app.t (n INT PRIMARY KEY)",
    );
    wait_app_table_on_b(&lab, Lab::sql);
    lab.sql("node-b", "STOP SLAVE");
    lab.sql(
        "node-b",
        "SET SESSION sql_log_bin = 0; INSERT INTO app.t VALUES (501)",
    );
    lab.ssh_ok(
        "node-a",
        "for i in $(seq 500); do echo \"INSERT INTO app.t VALUES ($i);\"; done | mysql && \
         mysql -e 'INSERT INTO app.t VALUES (501), (502)'",
    );
    let out = mhactl(&["bootstrap", &inv, "--no-progress"]);
    let said = text(&out);
    eprintln!("{said}");
    assert_eq!(out.status.code(), Some(1), "{said}");
    let line = step_lines(&out)
        .into_iter()
        .find(|l| l.starts_with("node-b") && l.contains(" replication ") && l.contains("FAILED"))
        .unwrap_or_else(|| panic!("no failed replication step on node-b:\n{said}"));
    assert!(
        line.contains("node-b: replication: replication from node-a broke after it started: its SQL thread stopped with error 1062")
            && line.contains("Duplicate entry '501'"),
        "{line}"
    );
    // The replica executed the 500 inserts before the conflicting event, and stays stopped
    // there for the DBA (mhactl skipped nothing): 500 replicated rows and its own 501.
    assert_eq!(
        lab.sql("node-b", "SELECT COUNT(*) FROM app.t").trim(),
        "501"
    );
}

/// `statement` as root on either MySQL node: the passive node is fenced
/// (`super_read_only`, `writes: vip-holder`), so the administrator this test plays lifts
/// only `super_read_only` and restores it to `read_only` after, as mhactl does for its own
/// writes. The test is about re-pointing replicas, not about fencing.
fn mysql_admin_write(lab: &Lab, node: &str, statement: &str) -> String {
    mysql_sql(
        lab,
        node,
        &format!(
            "SET GLOBAL super_read_only = OFF; {statement}; SET GLOBAL super_read_only = @@GLOBAL.read_only"
        ),
    )
}

/// Issue 14, class 12 on MySQL (9.7, GTIDs on, replication by file and position): a pair
/// whose replicas were switched by hand to the account `hadoop`, with node-b's applier
/// stopped (`STOP REPLICA SQL_THREAD`: a lagging replica) while node-a commits 1,000
/// rows. Re-pointing node-b at node-a's current position (main) skipped all of them; now
/// it continues from what it executed, and bootstrap confirms it caught up.
fn bootstrap_on_mysql_repoints_a_lagging_replica_at_what_it_executed(lab: Lab) {
    let inv = lab.inventory();
    mhactl_ok(&["bootstrap", &inv, "--no-progress"]);
    for node in ["node-a", "node-b"] {
        lab.root_option_file(node);
        mysql_admin_write(
            &lab,
            node,
            "SET sql_log_bin = 0; CREATE USER 'hadoop'@'%' IDENTIFIED BY 'Hadoop-e2e-pw1'; \
             GRANT REPLICATION SLAVE ON *.* TO 'hadoop'@'%'",
        );
    }
    for node in ["node-a", "node-b"] {
        // Naming no host keeps the position: the hand-made switch of the account.
        mysql_sql(
            &lab,
            node,
            "STOP REPLICA; CHANGE REPLICATION SOURCE TO SOURCE_USER = 'hadoop', \
             SOURCE_PASSWORD = 'Hadoop-e2e-pw1'; START REPLICA",
        );
    }
    mysql_admin_write(
        &lab,
        "node-a",
        "CREATE DATABASE app; CREATE TABLE app.t (n INT PRIMARY KEY)",
    );
    wait_app_table_on_b(&lab, mysql_sql);
    mysql_sql(&lab, "node-b", "STOP REPLICA SQL_THREAD");
    lab.ssh_ok(
        "node-a",
        "{ echo 'SET GLOBAL super_read_only = OFF;'; \
         for i in $(seq 1000); do echo \"INSERT INTO app.t VALUES ($i);\"; done; \
         echo 'SET GLOBAL super_read_only = @@GLOBAL.read_only;'; } | \
         mysql --defaults-extra-file=/root/e2e.cnf",
    );
    let out = mhactl(&["bootstrap", &inv, "--no-progress"]);
    for line in step_lines(&out)
        .iter()
        .filter(|l| l.contains(" replication "))
    {
        eprintln!("{line}");
    }
    assert!(out.status.success(), "{}", text(&out));
    for node in ["node-a", "node-b"] {
        assert_eq!(
            mysql_sql(&lab, node, "SELECT COUNT(*) FROM app.t").trim(),
            "1000",
            "{node} lacks rows node-a committed\n{}",
            text(&out)
        );
    }
    assert_eq!(
        mysql_sql(&lab, "node-a", "SELECT @@GLOBAL.gtid_executed"),
        mysql_sql(&lab, "node-b", "SELECT @@GLOBAL.gtid_executed")
    );
}

/// The inventory's replication password changes. The replication-user step sets it on
/// each node; each replica, still connected, kept the old one and would fail with 1045 at
/// its next reconnect. bootstrap re-points them with the new password at the position they
/// executed: after node-a's server restarts, node-b reconnects and replicates. (Before,
/// the replication step said "replicating" and node-b broke at the restart.)
fn a_changed_replication_password_reaches_the_replicas(lab: Lab) {
    let inv = lab.inventory();
    mhactl_ok(&["bootstrap", &inv, "--no-progress"]);
    let secrets = lab.dir.join("secrets.yaml");
    let text = std::fs::read_to_string(&secrets).unwrap();
    let rotated: String = text
        .lines()
        .map(|l| {
            if l.starts_with("replication_password:") {
                "replication_password: \"rotated-e2e-Pw-2\"".to_string()
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&secrets, rotated + "\n").unwrap();
    let out = mhactl_ok(&["bootstrap", &inv, "--no-progress"]);
    for line in out.lines().filter(|l| l.contains("replication")) {
        eprintln!("{line}");
    }
    // node-b must reconnect to node-a with the new password.
    lab.ssh_ok("node-a", "service mariadb restart >/dev/null 2>&1");
    lab.sql(
        "node-a",
        "CREATE DATABASE app; CREATE TABLE app.t (n INT PRIMARY KEY); INSERT INTO app.t VALUES (1)",
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let status = lab.ssh_ok("node-b", "mysql -e 'SHOW SLAVE STATUS\\G'");
        let rows = lab.sql(
            "node-b",
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'app'",
        );
        if status.contains("Slave_IO_Running: Yes") && rows.trim() == "1" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "node-b does not replicate from node-a after its restart:\n{status}"
        );
        std::thread::sleep(Duration::from_millis(500));
    }
    assert!(
        out.contains(&format!(
            "re-point replication from node-a ({a}) as repl (was repl@{a}:3306 with another password)",
            a = lab.addr(11)
        )),
        "{out}"
    );
    assert!(
        !out.contains("rotated-e2e-Pw-2"),
        "the password leaked:\n{out}"
    );
    let again = mhactl_ok(&["bootstrap", &inv, "--no-progress"]);
    for line in again.lines().filter(|l| l.contains(" replication ")) {
        assert!(line.contains(" ok "), "{line}");
    }
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(bootstrap_takes_over_a_runbook_pair_under_writes_without_losing_a_row),
        scenario!(bootstrap_fails_naming_the_error_when_replication_breaks_after_it_started),
        scenario!(bootstrap_on_mysql_repoints_a_lagging_replica_at_what_it_executed)
            .flavor("mysql"),
        scenario!(a_changed_replication_password_reaches_the_replicas),
    ]
}
