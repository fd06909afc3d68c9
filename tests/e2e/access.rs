//! End-to-end on the lab: an `access.users` application account limited to the lab
//! subnet connects through the VIP from the control host (10.213.N.1) and can do what
//! it was granted and nothing more; the server and its clients use utf8mb4; the lab
//! nodes have no firewall or SELinux, and bootstrap says so; a re-run changes nothing
//! and a privilege granted by hand is revoked.

use crate::support::{changed_steps, mhactl, mhactl_json, Lab, Scenario};
use mysql::prelude::Queryable;

const APP_PASSWORD: &str = "app-Pw-7f3e9c2a41";

fn bootstrap(lab: &Lab) -> serde_json::Value {
    let inv = lab.inventory();
    let out = mhactl(&["bootstrap", &inv, "--no-progress", "--output", "json"]);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stdout.contains(APP_PASSWORD) && !stderr.contains(APP_PASSWORD),
        "the app password leaked into bootstrap's output"
    );
    assert!(
        out.status.success(),
        "bootstrap failed:\n{stdout}\n{stderr}"
    );
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// `verify --output json`'s checks named `name`.
fn verify_checks(lab: &Lab, name: &str) -> Vec<serde_json::Value> {
    let inv = lab.inventory();
    let (_, report) = mhactl_json(&["-i", &inv, "verify", "--output", "json"]);
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["name"] == name)
        .cloned()
        .collect()
}

fn steps<'a>(report: &'a serde_json::Value, step: &str) -> Vec<&'a serde_json::Value> {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == step)
        .collect()
}

fn app_conn(lab: &Lab) -> mysql::Conn {
    let opts = mysql::OptsBuilder::new()
        .ip_or_hostname(Some(lab.addr(100)))
        .tcp_port(3306)
        .prefer_socket(false)
        .user(Some("app"))
        .pass(Some(APP_PASSWORD))
        .tcp_connect_timeout(Some(std::time::Duration::from_secs(5)));
    mysql::Conn::new(opts).expect("the app user connects through the VIP")
}

fn server_error(e: mysql::Error) -> u16 {
    match e {
        mysql::Error::MySqlError(s) => s.code,
        other => panic!("not a server error: {other}"),
    }
}

fn app_user_reaches_the_vip_with_exactly_its_privileges(lab: Lab) {
    let subnet = lab.subnet;
    let inv = lab.inventory();
    let secrets = lab.dir.join("secrets.yaml");
    let mut s = std::fs::read_to_string(&secrets).unwrap();
    s.push_str(&format!("app_password: \"{APP_PASSWORD}\"\n"));
    std::fs::write(&secrets, s).unwrap();
    let mut text = std::fs::read_to_string(&inv).unwrap();
    text.push_str(&format!(
        "access:\n  users:\n    - name: app\n      password_file: secrets.yaml#app_password\n      \
         networks: [10.213.{subnet}.0/24]\n      privileges: \"SELECT, INSERT ON app.*\"\n"
    ));
    std::fs::write(&inv, text).unwrap();

    let report = bootstrap(&lab);
    for s in steps(&report, "firewall") {
        assert!(
            s["status"] == "unchanged" && s["detail"].as_str().unwrap().contains("no firewall"),
            "{s}"
        );
    }
    for s in steps(&report, "selinux") {
        assert_eq!(s["status"], "unchanged", "{s}");
    }
    let app = steps(&report, "app-users");
    assert_eq!(app.len(), 2);
    assert!(app.iter().all(|s| s["status"] == "changed"), "{app:?}");

    // Application data, created by an administrator on one node (it replicates).
    lab.ssh_ok(
        "node-a",
        "mysql -e 'CREATE DATABASE app; CREATE TABLE app.t (id INT AUTO_INCREMENT PRIMARY KEY, s VARCHAR(20))'",
    );
    std::thread::sleep(std::time::Duration::from_millis(500));

    // From the control host, through the VIP.
    let mut c = app_conn(&lab);
    c.query_drop("INSERT INTO app.t (s) VALUES ('caf\u{e9} \u{1f600}')")
        .unwrap();
    let got: Vec<String> = c.query("SELECT s FROM app.t").unwrap();
    assert_eq!(got, ["caf\u{e9} \u{1f600}"], "utf8mb4 round trip");
    let charset: Option<String> = c.query_first("SELECT @@character_set_server").unwrap();
    assert_eq!(charset.as_deref(), Some("utf8mb4"));
    // Nothing more: no UPDATE/DELETE/DDL, no other database, no mysql schema.
    for (sql, code) in [
        ("UPDATE app.t SET s = 'x'", 1142),
        ("DELETE FROM app.t", 1142),
        ("CREATE TABLE app.u (i INT)", 1142),
        ("SELECT * FROM mysql.user", 1142),
        ("CREATE DATABASE other", 1044),
    ] {
        let err = c.query_drop(sql).expect_err(sql);
        assert_eq!(server_error(err), code, "{sql}");
    }
    let grants: Vec<String> = c.query("SHOW GRANTS").unwrap();
    assert!(
        grants
            .iter()
            .any(|g| g.contains("GRANT SELECT, INSERT ON `app`.*")),
        "{grants:?}"
    );
    drop(c);
    // The accounts exist on both nodes, for the subnet only, not for '%'.
    for node in ["node-a", "node-b"] {
        let hosts = lab.ssh_ok(
            node,
            "mysql -N -B -e \"SELECT Host FROM mysql.user WHERE User = 'app'\"",
        );
        assert_eq!(hosts.trim(), format!("10.213.{subnet}.0/255.255.255.0"));
    }
    // Clients on the nodes default to utf8mb4 too ([client] in mhactl's drop-in).
    let client = lab.ssh_ok("node-b", "mysql -N -B -e 'SELECT @@character_set_client'");
    assert_eq!(client.trim(), "utf8mb4");

    // A re-run changes nothing, and verify checks the accounts on both nodes.
    let again = bootstrap(&lab);
    assert_eq!(again["changed"], 0, "{again}");
    let checks = verify_checks(&lab, "access-users");
    assert_eq!(checks.len(), 2, "{checks:?}");
    assert!(checks.iter().all(|c| c["ok"] == true), "{checks:?}");

    // A privilege granted by hand on one node is revoked; only that node changes.
    lab.ssh_ok(
        "node-b",
        &format!(
            "mysql -e \"SET sql_log_bin = 0; GRANT DELETE ON app.* TO 'app'@'10.213.{subnet}.0/255.255.255.0'\""
        ),
    );
    let drift = verify_checks(&lab, "access-users");
    let b = drift.iter().find(|c| c["node"] == "node-b").unwrap();
    assert_eq!(b["ok"], false, "{b}");
    assert!(
        b["detail"].as_str().unwrap().contains("REVOKE DELETE"),
        "{b}"
    );
    let fixed = bootstrap(&lab);
    let changed: Vec<String> = changed_steps(&fixed);
    assert_eq!(changed, ["node-b/app-users"], "{fixed}");
    let grants = lab.ssh_ok(
        "node-b",
        &format!("mysql -N -B -e \"SHOW GRANTS FOR 'app'@'10.213.{subnet}.0/255.255.255.0'\""),
    );
    assert!(!grants.contains("DELETE"), "{grants}");
    assert_eq!(bootstrap(&lab)["changed"], 0);
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        app_user_reaches_the_vip_with_exactly_its_privileges
    )]
}
