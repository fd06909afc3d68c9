//! End-to-end on the lab (MariaDB and MySQL): write fencing (`writes: vip-holder`, the
//! default). An application user's direct write to the passive node's own address is
//! refused while the VIP holder accepts it; after a failover the new holder is writable
//! and the returning old holder read-only; a re-run changes nothing; a pair built with
//! `writes: both` converges to `vip-holder` without a restart (and back).

use crate::support::{changed_with_detail, failover_test_json, mhactl, mhactl_json, Lab, Scenario};
use mysql::prelude::Queryable;
use std::time::{Duration, Instant};

const APP_PASSWORD: &str = "app-Pw-7f3e9c2a41";

/// The lab's inventory with an application user (SELECT, INSERT on `app`) and, when
/// given, `writes: MODE`.
fn configure(lab: &Lab, writes: Option<&str>) {
    let inv = lab.inventory();
    let secrets = lab.dir.join("secrets.yaml");
    let s = std::fs::read_to_string(&secrets).unwrap();
    if !s.contains("app_password") {
        std::fs::write(&secrets, format!("{s}app_password: \"{APP_PASSWORD}\"\n")).unwrap();
    }
    let text = std::fs::read_to_string(&inv).unwrap();
    let mut text: String = text
        .lines()
        .filter(|l| !l.starts_with("writes:"))
        .map(|l| format!("{l}\n"))
        .collect();
    if !text.contains("\naccess:") {
        text.push_str(&format!(
            "access:\n  users:\n    - name: app\n      password_file: secrets.yaml#app_password\n      \
             networks: [10.213.{}.0/24]\n      privileges: \"SELECT, INSERT ON app.*\"\n",
            lab.subnet
        ));
    }
    if let Some(mode) = writes {
        text.push_str(&format!("writes: {mode}\n"));
    }
    std::fs::write(&inv, text).unwrap();
}

fn bootstrap(lab: &Lab) -> serde_json::Value {
    let (out, report) = mhactl_json(&[
        "bootstrap",
        &lab.inventory(),
        "--no-progress",
        "--output",
        "json",
    ]);
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!all.contains(APP_PASSWORD), "the app password leaked");
    assert!(out.status.success(), "bootstrap failed:\n{all}");
    report
}

fn host_of(node: &str) -> u8 {
    if node == "node-a" {
        11
    } else {
        12
    }
}

/// An application write to `host` (11, 12 or 100, the VIP) from the control host:
/// `Ok` or the server's error code.
fn app_insert(lab: &Lab, host: u8) -> Result<(), u16> {
    let opts = mysql::OptsBuilder::new()
        .ip_or_hostname(Some(lab.addr(host)))
        .tcp_port(3306)
        .prefer_socket(false)
        .user(Some("app"))
        .pass(Some(APP_PASSWORD))
        .tcp_connect_timeout(Some(Duration::from_secs(5)));
    let mut c = mysql::Conn::new(opts).expect("the app user connects");
    match c.query_drop(format!("INSERT INTO app.t (s) VALUES ('via .{host}')")) {
        Ok(()) => Ok(()),
        Err(mysql::Error::MySqlError(e)) => Err(e.code),
        Err(other) => panic!("INSERT through .{host}: {other}"),
    }
}

/// Poll `f` for up to `secs` seconds.
fn within(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        if f() {
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("not within {secs} s: {what}");
}

/// The `write-fencing` check of `verify --output json`.
fn write_fencing_check(lab: &Lab) -> serde_json::Value {
    let (_, report) = mhactl_json(&["-i", &lab.inventory(), "verify", "--output", "json"]);
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "write-fencing")
        .cloned()
        .expect("a write-fencing check")
}

fn fence_vars(lab: &Lab, node: &str) -> String {
    let q = if lab.flavor() == "mysql" {
        "SELECT @@GLOBAL.read_only, @@GLOBAL.super_read_only"
    } else {
        "SELECT @@GLOBAL.read_only"
    };
    lab.root_sql(node, q).trim().to_string()
}

fn fenced(lab: &Lab) -> &'static str {
    if lab.flavor() == "mysql" {
        "1\t1"
    } else {
        "1"
    }
}

fn uptime(lab: &Lab, node: &str) -> u64 {
    let row = lab.root_sql(node, "SHOW GLOBAL STATUS LIKE 'Uptime'");
    row.split_whitespace().nth(1).unwrap().parse().unwrap()
}

/// Application data, created by an administrator on the VIP holder (it replicates).
fn create_app_table(lab: &Lab, holder: &str, passive: &str) {
    lab.root_sql(
        holder,
        "CREATE DATABASE app; CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(20))",
    );
    within(10, "app.t replicated", || {
        lab.root_sql(
            passive,
            "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'app'",
        )
        .trim()
            == "1"
    });
}

fn fencing_refuses_direct_writes_to_the_passive_node_and_follows_the_vip(lab: Lab) {
    configure(&lab, None);
    bootstrap(&lab);
    let (holder, passive) = lab.vip_holder();
    create_app_table(&lab, holder, passive);
    assert_eq!(fence_vars(&lab, passive), fenced(&lab));
    // 1290: the server runs with --read-only (--super-read-only).
    assert_eq!(
        app_insert(&lab, host_of(passive)),
        Err(1290),
        "passive {passive}"
    );
    assert_eq!(app_insert(&lab, host_of(holder)), Ok(()), "holder {holder}");
    assert_eq!(app_insert(&lab, 100), Ok(()), "through the VIP");
    let check = write_fencing_check(&lab);
    assert_eq!(check["ok"], true, "{check}");

    // A failover: the passive node takes the VIP and becomes writable; the old holder
    // comes back read-only.
    let (out, r) = failover_test_json(&lab, "kill-mysqld");
    eprintln!("failover-test: {r}");
    assert_eq!(r["rejoined"], true, "{r}");
    assert_eq!(r["healthy_after"], true, "{r}");
    assert!(out.status.code().is_some(), "{r}");
    let (new_holder, old_holder) = lab.vip_holder();
    assert_eq!(new_holder, passive, "{r}");
    within(10, "the returning old holder fenced", || {
        fence_vars(&lab, old_holder) == fenced(&lab)
    });
    assert_eq!(app_insert(&lab, host_of(new_holder)), Ok(()), "new holder");
    assert_eq!(
        app_insert(&lab, host_of(old_holder)),
        Err(1290),
        "returning old holder"
    );
    assert_eq!(app_insert(&lab, 100), Ok(()), "through the VIP");
    let check = write_fencing_check(&lab);
    assert_eq!(check["ok"], true, "{check}");

    // A re-run changes nothing.
    let again = bootstrap(&lab);
    assert_eq!(again["changed"], 0, "{:#?}", changed_with_detail(&again));
}

fn an_unfenced_pair_converges_to_vip_holder_without_a_restart_and_back(lab: Lab) {
    configure(&lab, Some("both"));
    bootstrap(&lab);
    for node in ["node-a", "node-b"] {
        assert!(
            fence_vars(&lab, node).split('\t').all(|v| v == "0"),
            "{node}"
        );
        assert!(!lab
            .ssh(node, "test -e /usr/local/libexec/mhactl/fence-agent")
            .status
            .success());
    }
    let check = write_fencing_check(&lab);
    assert_eq!(check["ok"], true, "{check}");
    assert!(
        check["detail"]
            .as_str()
            .unwrap()
            .contains("writable by design"),
        "{check}"
    );
    let (holder, passive) = lab.vip_holder();
    create_app_table(&lab, holder, passive);
    // writes: both means it: the passive node accepts a direct write.
    assert_eq!(app_insert(&lab, host_of(passive)), Ok(()));
    let before = [uptime(&lab, "node-a"), uptime(&lab, "node-b")];

    // Switch to vip-holder: the passive is fenced, the holder stays writable, no restart.
    configure(&lab, Some("vip-holder"));
    let report = bootstrap(&lab);
    let config: Vec<&serde_json::Value> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == "server-config")
        .collect();
    assert!(
        config
            .iter()
            .all(|s| s["status"] == "changed"
                && s["detail"].as_str().unwrap().contains("no restart")),
        "{config:?}"
    );
    let after = [uptime(&lab, "node-a"), uptime(&lab, "node-b")];
    assert!(
        after[0] >= before[0] && after[1] >= before[1],
        "a server restarted: uptime {before:?} -> {after:?}"
    );
    assert_eq!(lab.vip_holder().0, holder, "the VIP moved");
    assert_eq!(fence_vars(&lab, passive), fenced(&lab));
    assert!(fence_vars(&lab, holder).split('\t').all(|v| v == "0"));
    assert_eq!(app_insert(&lab, host_of(passive)), Err(1290));
    assert_eq!(app_insert(&lab, host_of(holder)), Ok(()));
    assert_eq!(write_fencing_check(&lab)["ok"], true);
    let again = bootstrap(&lab);
    assert_eq!(again["changed"], 0, "{:#?}", changed_with_detail(&again));

    // And back to both: the agent, its login and the fence go.
    configure(&lab, Some("both"));
    bootstrap(&lab);
    for node in ["node-a", "node-b"] {
        assert!(
            fence_vars(&lab, node).split('\t').all(|v| v == "0"),
            "{node}"
        );
        let left = lab.ssh(
            node,
            "test -e /usr/local/libexec/mhactl/fence-agent || test -e /etc/mysql/mhactl-fence.cnf \
             || test -e /usr/local/libexec/mhactl/tickle || test -e /etc/mysql/mhactl-clients.cnf",
        );
        assert!(!left.status.success(), "{node}: fence or tickle files left");
        assert_eq!(
            lab.root_sql(
                node,
                "SELECT COUNT(*) FROM mysql.user WHERE User IN ('mhactl_fence', 'mhactl_clients')"
            )
            .trim(),
            "0"
        );
    }
    assert_eq!(app_insert(&lab, host_of(passive)), Ok(()));
    let again = bootstrap(&lab);
    assert_eq!(again["changed"], 0, "{:#?}", changed_with_detail(&again));
    let _ = mhactl(&["-i", &lab.inventory(), "verify"]);
}

fn mysql_fencing_refuses_direct_writes_to_the_passive_node_and_follows_the_vip(lab: Lab) {
    fencing_refuses_direct_writes_to_the_passive_node_and_follows_the_vip(lab)
}

fn mysql_an_unfenced_pair_converges_to_vip_holder_without_a_restart_and_back(lab: Lab) {
    an_unfenced_pair_converges_to_vip_holder_without_a_restart_and_back(lab)
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(fencing_refuses_direct_writes_to_the_passive_node_and_follows_the_vip),
        scenario!(mysql_fencing_refuses_direct_writes_to_the_passive_node_and_follows_the_vip)
            .flavor("mysql"),
        scenario!(an_unfenced_pair_converges_to_vip_holder_without_a_restart_and_back),
        scenario!(mysql_an_unfenced_pair_converges_to_vip_holder_without_a_restart_and_back)
            .flavor("mysql"),
    ]
}
