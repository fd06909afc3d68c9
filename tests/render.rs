//! Golden-file tests for the rendered my.cnf, keepalived.conf and health-check script.
//!
//! Run with `UPDATE_GOLDEN=1` to rewrite `tests/golden/*` after an intended change,
//! then review the diff.

use mhactl::dialect::Dialect;
use mhactl::inventory::{Flavor, Inventory};
use mhactl::os::{OsFamily, OsTarget};
use mhactl::render::{
    render_check_script, render_fence_agent, render_keepalived_conf, render_keepalived_conf_with,
    render_my_cnf, KeepalivedOptions,
};

#[path = "common/render_inventory.rs"]
mod render_inventory;
use render_inventory::{golden, inventory, shop_yaml};

/// The shop pair on MariaDB with replication filters and skipped errors.
fn mariadb_yaml() -> String {
    shop_yaml(
        "",
        "  flavor: mariadb\n  version: \"10.11\"\n  binlog_format: mixed\n  \
         replicate_databases: [shop, mysql, GBIAP]\n  ignore_databases: [scratch]\n  \
         skip_errors: [1062]\n",
    )
}

const MYSQL_YAML: &str = r#"
cluster: billing
nodes:
  - name: db1
    address: 192.168.10.21
    server_id: 21
    priority: 150
  - name: db2
    address: 192.168.10.22
    server_id: 22
    priority: 120
vip:
  address: 192.168.10.20
  prefix: 25
  interface: ens192
  virtual_router_id: 77
  advert_int_s: 2
mysql:
  flavor: mysql
  version: "8.4"
  port: 3307
  binlog_expire_days: 3
credentials:
  replication_password_file: secrets.yaml#repl
"#;

/// Where the fence agent's option file will live (bootstrap does not install it yet).
const FENCE_OPTION_FILE: &str = "/etc/mysql/mhactl-fence.cnf";

struct Case {
    inv: Inventory,
    dialect: Dialect,
    os: OsTarget,
}

fn mariadb() -> Case {
    Case {
        inv: inventory(&mariadb_yaml()),
        dialect: Dialect::from_version_string("10.11.18-MariaDB-0+deb12u1").unwrap(),
        os: OsTarget::new(OsFamily::Debian, Flavor::Mariadb).unwrap(),
    }
}

fn mysql() -> Case {
    Case {
        inv: inventory(MYSQL_YAML),
        dialect: Dialect::from_version_string("8.4.2").unwrap(),
        os: OsTarget::new(OsFamily::El9, Flavor::Mysql).unwrap(),
    }
}

fn my_cnf(c: &Case, node: usize) -> String {
    render_my_cnf(&c.inv, node, &c.dialect, &c.os).unwrap()
}

/// `name = value` lines of a rendered my.cnf (comments and section headers dropped).
fn options(cnf: &str) -> Vec<(String, String)> {
    cnf.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('['))
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.trim().to_string(), v.trim().to_string())
        })
        .collect()
}

fn values<'a>(opts: &'a [(String, String)], key: &str) -> Vec<&'a str> {
    opts.iter()
        .filter(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
        .collect()
}

#[test]
fn golden_mariadb_10_11() {
    let c = mariadb();
    golden("mariadb-node-a.cnf", &my_cnf(&c, 0));
    golden("mariadb-node-b.cnf", &my_cnf(&c, 1));
    golden(
        "mariadb-node-a-keepalived.conf",
        &render_keepalived_conf(&c.inv, 0).unwrap(),
    );
    golden(
        "mariadb-node-b-keepalived.conf",
        &render_keepalived_conf(&c.inv, 1).unwrap(),
    );
    golden(
        "mariadb-check-mysql.sh",
        &render_check_script(&c.inv, &c.os).unwrap(),
    );
    golden(
        "mariadb-fence-agent.sh",
        &render_fence_agent(&c.inv, &c.dialect, FENCE_OPTION_FILE).unwrap(),
    );
}

/// Data directory, socket, error log and pid file from the inventory: `[mysqld]` names
/// them, `[client]` gets the socket (local clients connect without -S: ERROR 2002),
/// `[mysqld_safe]` keeps Debian's SysV start from sending the log to syslog, and the
/// health check uses the socket.
#[test]
fn golden_custom_paths() {
    let mut c = mariadb();
    c.inv.mysql.datadir = Some("/data/mysql".into());
    c.inv.mysql.socket = Some("/var/run/custom/mysql.sock".into());
    c.inv.mysql.log_error = Some("/var/log/custom/mysql.err".into());
    c.inv.mysql.pid_file = Some("/var/run/custom/mysqld.pid".into());
    let cnf = my_cnf(&c, 0);
    golden("mariadb-node-a-paths.cnf", &cnf);
    let opts = options(&cnf);
    assert_eq!(
        values(&opts, "socket"),
        ["/var/run/custom/mysql.sock", "/var/run/custom/mysql.sock"]
    );
    assert_eq!(
        values(&opts, "log-error"),
        ["/var/log/custom/mysql.err", "/var/log/custom/mysql.err"]
    );
    assert_eq!(values(&opts, "pid-file"), ["/var/run/custom/mysqld.pid"]);
    let client = cnf.split("[client]").nth(1).unwrap();
    assert!(client.contains("socket = /var/run/custom/mysql.sock"));
    golden(
        "mariadb-check-mysql-paths.sh",
        &render_check_script(&c.inv, &c.os).unwrap(),
    );
    // Without them, no socket or pid file is written; the error log is still a file
    // (Debian's MariaDB would log to syslog), for mysqld and for mysqld_safe.
    let plain = my_cnf(&mariadb(), 0);
    for word in ["socket", "pid-file"] {
        assert!(!plain.contains(word), "{word} in\n{plain}");
    }
    assert_eq!(
        values(&options(&plain), "log-error"),
        ["/var/log/mysql/error.log", "/var/log/mysql/error.log"]
    );
    let plain_sections = sections(&plain);
    assert_eq!(
        in_section(&plain_sections, "mysqld_safe", "skip-syslog"),
        [""]
    );
    // A path with a space cannot be written.
    c.inv.mysql.socket = Some("/var/run/my sql.sock".into());
    assert!(render_my_cnf(&c.inv, 0, &c.dialect, &c.os).is_err());
}

#[test]
fn golden_mysql_8_4() {
    let c = mysql();
    golden("mysql84-db1.cnf", &my_cnf(&c, 0));
    golden("mysql84-db2.cnf", &my_cnf(&c, 1));
    golden(
        "mysql84-db1-keepalived.conf",
        &render_keepalived_conf(&c.inv, 0).unwrap(),
    );
    golden(
        "mysql84-db2-keepalived.conf",
        &render_keepalived_conf(&c.inv, 1).unwrap(),
    );
    golden(
        "mysql84-check-mysql.sh",
        &render_check_script(&c.inv, &c.os).unwrap(),
    );
    golden(
        "mysql84-fence-agent.sh",
        &render_fence_agent(&c.inv, &c.dialect, FENCE_OPTION_FILE).unwrap(),
    );
}

#[test]
fn offsets_and_server_ids() {
    for c in [mariadb(), mysql()] {
        let a = options(&my_cnf(&c, 0));
        let b = options(&my_cnf(&c, 1));
        assert_eq!(values(&a, "auto_increment_increment"), ["2"]);
        assert_eq!(values(&b, "auto_increment_increment"), ["2"]);
        assert_eq!(values(&a, "auto_increment_offset"), ["1"]);
        assert_eq!(values(&b, "auto_increment_offset"), ["2"]);
        let (ida, idb) = (values(&a, "server_id"), values(&b, "server_id"));
        assert_eq!(ida.len(), 1);
        assert_ne!(ida, idb);
    }
    let c = mariadb();
    assert_eq!(values(&options(&my_cnf(&c, 0)), "server_id"), ["1"]);
    assert_eq!(values(&options(&my_cnf(&c, 1)), "server_id"), ["2"]);
}

#[test]
fn mysql_schema_is_never_replicated() {
    for c in [mariadb(), mysql()] {
        for node in 0..2 {
            let o = options(&my_cnf(&c, node));
            assert!(!values(&o, "replicate-do-db").contains(&"mysql"));
            assert!(!values(&o, "binlog-do-db").contains(&"mysql"));
            assert_eq!(
                values(&o, "replicate-ignore-db")
                    .iter()
                    .filter(|d| **d == "mysql")
                    .count(),
                1
            );
        }
    }
    let o = options(&my_cnf(&mariadb(), 0));
    // failover-test's probe database joins an explicit list (it must replicate).
    assert_eq!(
        values(&o, "replicate-do-db"),
        ["shop", "GBIAP", "mhactl_probe"]
    );
    assert_eq!(
        values(&o, "binlog-do-db"),
        ["shop", "GBIAP", "mhactl_probe"]
    );
    assert_eq!(values(&o, "replicate-ignore-db"), ["scratch", "mysql"]);
}

#[test]
fn dialect_chooses_option_names() {
    let o = options(&my_cnf(&mysql(), 0));
    assert!(values(&o, "expire_logs_days").is_empty());
    assert_eq!(values(&o, "binlog_expire_logs_seconds"), ["259200"]);
    assert_eq!(values(&o, "log_replica_updates"), ["ON"]);
    assert!(values(&o, "log_slave_updates").is_empty());
    assert!(
        values(&o, "replica_skip_errors").is_empty(),
        "no skip errors by default"
    );
    assert_eq!(values(&o, "port"), ["3307"]);

    let o = options(&my_cnf(&mariadb(), 0));
    assert_eq!(values(&o, "log_slave_updates"), ["ON"]);
    assert_eq!(values(&o, "slave_skip_errors"), ["1062"]);
    assert_eq!(values(&o, "binlog_expire_logs_seconds"), ["604800"]);

    let mut c = mysql();
    c.dialect = Dialect::from_version_string("5.7.44-log").unwrap();
    let o = options(&my_cnf(&c, 0));
    assert_eq!(values(&o, "expire_logs_days"), ["3"]);
    assert_eq!(values(&o, "collation-server"), ["utf8mb4_general_ci"]);
}

#[test]
fn writes_vip_holder_fences_at_start_up_and_runs_the_agent_writes_both_does_neither() {
    for c in [mariadb(), mysql()] {
        let fenced = my_cnf(&c, 0);
        assert_eq!(values(&options(&fenced), "read_only"), ["ON"]);
        let conf = render_keepalived_conf(&c.inv, 0).unwrap();
        assert!(
            conf.contains("    vrrp_notify_fifo /run/mhactl-keepalived.fifo\n"),
            "{conf}"
        );
        assert!(
            conf.contains("    vrrp_notify_fifo_script /usr/local/libexec/mhactl/fence-agent\n"),
            "{conf}"
        );
        let mut both = c.inv.clone();
        both.writes = mhactl::inventory::WriteMode::Both;
        let open = render_my_cnf(&both, 0, &c.dialect, &c.os).unwrap();
        assert!(!open.contains("read_only"), "{open}");
        let conf = render_keepalived_conf(&both, 0).unwrap();
        assert!(!conf.contains("notify_fifo"), "{conf}");
    }
    // MySQL also starts with super_read_only (it stops accounts with SUPER).
    assert_eq!(
        values(&options(&my_cnf(&mysql(), 1)), "super_read_only"),
        ["ON"]
    );
    assert!(values(&options(&my_cnf(&mariadb(), 1)), "super_read_only").is_empty());
}

#[test]
fn keepalived_unicast_is_default_and_optional() {
    let c = mariadb();
    let conf = render_keepalived_conf(&c.inv, 1).unwrap();
    assert!(conf.contains("unicast_src_ip 10.213.0.12"));
    // The second node (inventory priority 90 against 100) ranks lower: 253.
    assert!(conf.contains("priority 253\n"), "{conf}");
    let multicast = render_keepalived_conf_with(
        &c.inv,
        1,
        &KeepalivedOptions {
            unicast: false,
            ..KeepalivedOptions::default()
        },
    )
    .unwrap();
    assert!(!multicast.contains("unicast"));
    assert!(multicast.contains("virtual_ipaddress"));
}

#[test]
fn keepalived_tracks_the_switchover_release_file_only_from_2_1() {
    use mhactl::os::keepalived::KeepalivedVersion;
    let c = mariadb();
    let block = "track_file mhactl_vip_release {\n    file /run/mhactl/vip-release\n    weight 0\n";
    let tracked = "    track_file {\n        mhactl_vip_release\n        mhactl_vip_take\n    }\n}";
    let take = "track_file mhactl_vip_take {\n    file /run/mhactl/vip-take\n    weight 1\n";
    for v in [
        None,
        Some(KeepalivedVersion::new(2, 1, 5)),
        Some(KeepalivedVersion::new(2, 2, 8)),
    ] {
        let conf =
            render_keepalived_conf_with(&c.inv, 0, &KeepalivedOptions::for_keepalived(v)).unwrap();
        assert!(conf.contains(block), "{v:?}: {conf}");
        assert!(conf.contains(tracked), "{v:?}: {conf}");
        assert!(conf.contains(take), "{v:?}: {conf}");
    }
    // EL7's 1.3.5 would reject the block: no track_file; the health-check script's
    // `release` mode as a vrrp_script instead, tracked next to chk_mysql.
    let el7 = KeepalivedOptions::for_keepalived(Some(KeepalivedVersion::new(1, 3, 5)));
    let conf = render_keepalived_conf_with(&c.inv, 0, &el7).unwrap();
    assert!(!conf.contains("track_file {"), "{conf}");
    assert!(!conf.contains("track_file mhactl"), "{conf}");
    assert!(
        conf.contains("vrrp_script mhactl_vip_release {\n    script \"/etc/keepalived/mhactl-check-mysql.sh release\"\n    interval 1\n    weight 0\n    fall 1\n"),
        "{conf}"
    );
    assert!(
        conf.contains(
            "    track_script {\n        chk_mysql\n        chk_mysql_process\n        mhactl_vip_release\n    }"
        ),
        "{conf}"
    );
    let modern = render_keepalived_conf_with(&c.inv, 0, &KeepalivedOptions::default()).unwrap();
    assert!(
        !modern.contains("vrrp_script mhactl_vip_release"),
        "{modern}"
    );
}

/// The health check's `release` mode (keepalived < 2.1) run for real with sh: it fails
/// exactly while the release file holds a value other than 0.
#[test]
fn check_script_release_mode_fails_only_on_a_nonzero_release_file() {
    let c = mariadb();
    let script = render_check_script(&c.inv, &c.os).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("vip-release");
    let path = mhactl::os::switchover::VIP_RELEASE_PATH;
    assert!(script.contains(path), "{script}");
    let script = script.replace(path, &file.display().to_string());
    let run = |content: Option<&str>| {
        match content {
            Some(t) => std::fs::write(&file, t).unwrap(),
            None => {
                let _ = std::fs::remove_file(&file);
            }
        }
        std::process::Command::new("bash")
            .args(["-c", &script, "check", "release"])
            .status()
            .unwrap()
            .success()
    };
    assert!(run(None), "a missing file is normal");
    assert!(run(Some("0\n")), "0 is normal");
    assert!(run(Some("")), "empty is normal");
    assert!(!run(Some("1\n")), "1 releases the VIP");
    assert!(!run(Some("2")), "any other value releases it");
}

#[test]
fn refuses_bad_values() {
    let c = mariadb();
    assert!(render_keepalived_conf(&c.inv, 2).is_err());
    let mut bad = mariadb();
    bad.inv
        .mysql
        .replicate_databases
        .push("evil\nskip-grant-tables".into());
    assert!(render_my_cnf(&bad.inv, 0, &bad.dialect, &bad.os).is_err());
    let mut dup = mariadb();
    dup.inv.nodes[1].server_id = Some(1);
    assert!(render_my_cnf(&dup.inv, 0, &dup.dialect, &dup.os).is_err());
}

/// (section, option, value) triples of a rendered my.cnf; fails on anything that is
/// not a comment, a `[section]` header or an `option = value` line inside a section.
fn sections(cnf: &str) -> Vec<(String, String, String)> {
    let mut section = None;
    let mut out = Vec::new();
    for (n, line) in cnf.lines().enumerate() {
        let l = line.trim();
        if l.is_empty() || l.starts_with('#') {
            continue;
        }
        if let Some(name) = l.strip_prefix('[').and_then(|r| r.strip_suffix(']')) {
            section = Some(name.to_string());
            continue;
        }
        // A bare option word is a flag (mysqld_safe's `skip-syslog` takes no value).
        let (k, v) = match l.split_once(" = ") {
            Some(kv) => kv,
            None if l
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_') =>
            {
                (l, "")
            }
            None => panic!("line {}: not `option = value`: {l:?}", n + 1),
        };
        let s = section
            .clone()
            .unwrap_or_else(|| panic!("line {}: option outside a section", n + 1));
        assert!(
            !k.contains(char::is_whitespace) && (!v.is_empty() || k == l),
            "line {}: {l:?}",
            n + 1
        );
        out.push((s, k.to_string(), v.to_string()));
    }
    out
}

fn in_section<'a>(opts: &'a [(String, String, String)], section: &str, key: &str) -> Vec<&'a str> {
    opts.iter()
        .filter(|(s, k, _)| s == section && k == key)
        .map(|(_, _, v)| v.as_str())
        .collect()
}

#[test]
fn character_set_is_utf8mb4_by_default_for_server_and_clients() {
    for (c, collation) in [
        (mariadb(), "utf8mb4_general_ci"),
        (mysql(), "utf8mb4_0900_ai_ci"),
    ] {
        for node in 0..2 {
            let o = sections(&my_cnf(&c, node));
            assert_eq!(
                in_section(&o, "mysqld", "character-set-server"),
                ["utf8mb4"]
            );
            assert_eq!(in_section(&o, "mysqld", "collation-server"), [collation]);
            assert_eq!(
                in_section(&o, "client", "loose-default-character-set"),
                ["utf8mb4"]
            );
            // Server options stay in [mysqld]; the client section holds only the charset.
            assert_eq!(o.iter().filter(|(s, _, _)| s == "client").count(), 1);
            assert_eq!(in_section(&o, "mysqld", "server_id").len(), 1);
        }
    }
}

#[test]
fn character_set_and_collation_from_the_inventory() {
    let mut c = mysql();
    c.inv.mysql.collation = Some("utf8mb4_unicode_ci".into());
    let o = sections(&my_cnf(&c, 0));
    assert_eq!(
        in_section(&o, "mysqld", "collation-server"),
        ["utf8mb4_unicode_ci"]
    );
    // Another character set without a collation: the server picks that set's default.
    let mut c = mariadb();
    c.inv.mysql.character_set = "latin1".into();
    let o = sections(&my_cnf(&c, 1));
    assert_eq!(in_section(&o, "mysqld", "character-set-server"), ["latin1"]);
    assert!(in_section(&o, "mysqld", "collation-server").is_empty());
    assert_eq!(
        in_section(&o, "client", "loose-default-character-set"),
        ["latin1"]
    );
    let mut bad = mariadb();
    bad.inv.mysql.character_set = "utf8mb4\nskip-grant-tables = ON".into();
    assert!(render_my_cnf(&bad.inv, 0, &bad.dialect, &bad.os).is_err());
}
