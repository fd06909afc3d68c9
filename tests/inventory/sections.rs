//! Sections beyond the basics: character sets, replication filters, access users, server paths, durability, packages.

use super::*;

fn with(extra: &str) -> anyhow::Result<Inventory> {
    inventory::parse(&format!("{}{extra}", good_text()), "inventory.yaml")
}

fn err_of(extra: &str) -> String {
    format!("{:#}", with(extra).unwrap_err())
}

#[test]
fn character_set_defaults_validation_and_utf8_warning() {
    let inv = inventory::parse(&good_text(), "inventory.yaml").unwrap();
    assert_eq!(inv.mysql.character_set, "utf8mb4");
    assert_eq!(inv.mysql.collation, None);
    assert!(inv.warnings().iter().all(|w| !w.contains("character_set")));
    let text = good_text().replace(
        "  replicate_databases: [shop]\n",
        "  replicate_databases: [shop]\n  character_set: utf8\n",
    );
    let inv = inventory::parse(&text, "inventory.yaml").unwrap();
    let w = inv.warnings().join("\n");
    assert!(
        w.contains("3-byte utf8mb3") && w.contains("use `utf8mb4`"),
        "{w}"
    );
    let bad = good_text().replace(
        "  replicate_databases: [shop]\n",
        "  replicate_databases: [shop]\n  character_set: utf8mb4\n  collation: latin1_swedish_ci\n",
    );
    let e = format!(
        "{:#}",
        inventory::parse(&bad, "inventory.yaml").unwrap_err()
    );
    assert!(
        e.contains("mysql.collation") && e.contains("utf8mb4_"),
        "{e}"
    );
    let bad = good_text().replace(
        "  replicate_databases: [shop]\n",
        "  replicate_databases: [shop]\n  character_set: utf8mb5\n",
    );
    let e = format!(
        "{:#}",
        inventory::parse(&bad, "inventory.yaml").unwrap_err()
    );
    assert!(e.contains("did you mean `utf8mb4`"), "{e}");
}

#[test]
fn statement_based_filters_warn_about_the_default_database() {
    let text = good_text().replace(
        "  replicate_databases: [shop]\n",
        "  replicate_databases: [shop]\n  binlog_format: mixed\n",
    );
    let w = inventory::parse(&text, "inventory.yaml")
        .unwrap()
        .warnings()
        .join("\n");
    assert!(
        w.contains("default database") && w.contains("USE other; INSERT INTO shop.t"),
        "{w}"
    );
    // Row-based: no such warning.
    let w = inventory::parse(&good_text(), "inventory.yaml")
        .unwrap()
        .warnings()
        .join("\n");
    assert!(!w.contains("default database"), "{w}");
    // `mysql` is never replicated: listing it is an error, and it is always ignored.
    let text = good_text().replace("[shop]", "[shop, mysql]");
    assert!(format!(
        "{:#}",
        inventory::parse(&text, "inventory.yaml").unwrap_err()
    )
    .contains("never replicated"));
    let inv = inventory::parse(&good_text(), "inventory.yaml").unwrap();
    assert_eq!(inv.ignored_databases(), ["mysql"]);
}

const APP: &str = "access:\n  users:\n    - name: app\n      password_env: APP_PW\n      networks: [10.0.0.0/24, 10.0.1.%]\n      privileges: \"SELECT, INSERT ON shop.*\"\n";

#[test]
fn access_users_parse_and_validate() {
    let inv = with(APP).unwrap();
    assert_eq!(inv.access.users[0].privileges, ["SELECT, INSERT ON shop.*"]);
    assert!(inv.warnings().iter().all(|w| !w.contains("access")));
    // A list of grants is fine too.
    let inv = with(&APP.replace(
        "privileges: \"SELECT, INSERT ON shop.*\"",
        "privileges: [\"SELECT ON shop.*\", \"SELECT ON logs.*\"]",
    ))
    .unwrap();
    assert_eq!(inv.access.users[0].privileges.len(), 2);
    for (from, to, want) in [
        ("name: app", "name: root", "reserved"),
        ("name: app", "name: repl", "replication account"),
        ("10.0.0.0/24, ", "'%', ", "allow_any_host"),
        ("10.0.0.0/24", "10.0.0.5/24", "host bits"),
        ("10.0.0.0/24", "app.example.com", "skip_name_resolve"),
        (
            "SELECT, INSERT ON shop.*",
            "ALL PRIVILEGES ON *.*",
            "admin: true",
        ),
        (
            "SELECT, INSERT ON shop.*",
            "SELECT ON shop.* WITH GRANT OPTION",
            "admin: true",
        ),
        (
            "SELECT, INSERT ON shop.*",
            "SELECT ON mysql.*",
            "admin: true",
        ),
        (
            "SELECT, INSERT ON shop.*",
            "SELCT ON shop.*",
            "did you mean SELECT",
        ),
        (
            "password_env: APP_PW",
            "password_prompt: false",
            "no password source",
        ),
    ] {
        let e = err_of(&APP.replace(from, to));
        assert!(
            e.contains("access.users[0]") && e.contains(want),
            "{to}: {e}"
        );
    }
    let both = APP.replace(
        "password_env: APP_PW",
        "password_env: APP_PW\n      password_file: s.yaml#app",
    );
    assert!(err_of(&both).contains("both given"));
    // `%` with allow_any_host, and admin: true, are allowed with a warning.
    let inv = with(&APP.replace("10.0.0.0/24, ", "'%', ").replace(
        "      privileges:",
        "      allow_any_host: true\n      admin: true\n      privileges:",
    ))
    .unwrap();
    let w = inv.warnings().join("\n");
    assert!(
        w.contains("any host") && w.contains("administrative"),
        "{w}"
    );
}

#[test]
fn access_user_passwords_are_secrets() {
    std::env::set_var("MHACTL_TEST_REPL_PW", "repl-secret");
    std::env::set_var("MHACTL_TEST_APP_PW", "app-secret");
    let inv = with(&APP.replace("APP_PW", "MHACTL_TEST_APP_PW")).unwrap();
    let s = Secrets::resolve(&inv, false).unwrap();
    assert_eq!(s.user_passwords.len(), 1);
    assert!(s.values().contains(&"app-secret"));
    let inv = with(&APP.replace("APP_PW", "MHACTL_TEST_APP_PW_UNSET")).unwrap();
    let e = format!("{:#}", Secrets::resolve(&inv, false).unwrap_err());
    assert!(
        e.contains("access.users[0].password_env") && e.contains("MHACTL_TEST_APP_PW_UNSET"),
        "{e}"
    );
}

/// Runbook 1.4: the data directory, socket, error log and pid file (both flavors).
#[test]
fn server_paths_parse_and_validate() {
    let paths = "  datadir: /data/mysql\n  socket: /var/run/custom/mysql.sock\n  \
                 log_error: /var/log/custom/mysql.err\n  pid_file: /var/run/custom/mysqld.pid\n";
    let add = |extra: &str| {
        good_text().replace(
            "  replicate_databases: [shop]\n",
            &format!("  replicate_databases: [shop]\n{extra}"),
        )
    };
    for flavor in ["mariadb", "mysql"] {
        let text = add(paths)
            .replace("flavor: mariadb", &format!("flavor: {flavor}"))
            .replace("  version: \"10.11\"\n", "");
        let inv = inventory::parse(&text, "inventory.yaml").unwrap();
        assert_eq!(
            inv.mysql.socket.as_deref(),
            Some(std::path::Path::new("/var/run/custom/mysql.sock"))
        );
        assert_eq!(
            inv.mysql.log_error.as_deref(),
            Some(std::path::Path::new("/var/log/custom/mysql.err"))
        );
        assert_eq!(
            inv.mysql.pid_file.as_deref(),
            Some(std::path::Path::new("/var/run/custom/mysqld.pid"))
        );
    }
    let err = |extra: &str| {
        format!(
            "{:#}",
            inventory::parse(&add(extra), "inventory.yaml").unwrap_err()
        )
    };
    let e = err("  socket: run/mysql.sock\n");
    assert!(
        e.contains("mysql.socket") && e.contains("absolute path"),
        "{e}"
    );
    let e = err("  log_error: \"/var/log/my log.err\"\n");
    assert!(e.contains("mysql.log_error") && e.contains("spaces"), "{e}");
    let e = err(&format!("  socket: /{}/mysql.sock\n", "d".repeat(110)));
    assert!(e.contains("mysql.socket") && e.contains("107 bytes"), "{e}");
    let e = err("  socket: /var/run/custom/x\n  pid_file: /var/run/custom/x\n");
    assert!(
        e.contains("mysql.socket: must differ from mysql.pid_file"),
        "{e}"
    );
    let e = err("  datadir: /data/mysql\n  log_error: /data/mysql/\n");
    assert!(
        e.contains("mysql.log_error: must be a file, not the data directory"),
        "{e}"
    );
    let e = err("  pid_file: /\n");
    assert!(
        e.contains("mysql.pid_file") && e.contains("root directory"),
        "{e}"
    );
    let e = err("  sock: /tmp/mysql.sock\n");
    assert!(e.contains("did you mean `socket`"), "{e}");
}

/// `mysql.durability` (issue 14, class 11): full by default, relaxed on request, nothing else.
#[test]
fn durability_defaults_to_full() {
    use mhactl::inventory::Durability;
    let inv = inventory::parse(&good_text(), "inventory.yaml").unwrap();
    assert_eq!(inv.mysql.durability, Durability::Full);
    let relaxed = good_text().replace(
        "  flavor: mariadb\n",
        "  flavor: mariadb\n  durability: relaxed\n",
    );
    assert_eq!(
        inventory::parse(&relaxed, "inventory.yaml")
            .unwrap()
            .mysql
            .durability,
        Durability::Relaxed
    );
    let bad = good_text().replace(
        "  flavor: mariadb\n",
        "  flavor: mariadb\n  durability: fast\n",
    );
    let err = inventory::parse(&bad, "inventory.yaml").unwrap_err();
    assert!(is_usage(&err), "{err:#}");
    assert!(format!("{err:#}").contains("durability"), "{err:#}");
}

/// `packages.mysql_gpg_key` (issue 14, class 15): the key EL7's 5.7 packages are signed
/// with; a URL or an absolute path, only for MySQL without a mirror.
#[test]
fn mysql_gpg_key_validates() {
    let mysql = good_text()
        .replace("flavor: mariadb", "flavor: mysql")
        .replace("version: \"10.11\"", "version: \"5.7\"");
    let with_key = |key: &str| format!("{mysql}packages:\n  mysql_gpg_key: {key}\n");
    for ok in [
        "https://internal.example/RPM-GPG-KEY-mysql-2022",
        "/root/RPM-GPG-KEY-mysql-2022",
    ] {
        let inv = inventory::parse(&with_key(ok), "inv.yaml").unwrap();
        assert_eq!(inv.packages.mysql_gpg_key.as_deref(), Some(ok));
    }
    for bad in ["ftp://x/key", "\"/root/my key\"", "\"https://x/k;rm\""] {
        let err = inventory::parse(&with_key(bad), "inv.yaml").unwrap_err();
        assert!(is_usage(&err), "{bad}: {err:#}");
        assert!(
            format!("{err:#}").contains("packages.mysql_gpg_key"),
            "{bad}: {err:#}"
        );
    }
    let maria = format!("{}packages:\n  mysql_gpg_key: /root/k\n", good_text());
    let err = format!("{:#}", inventory::parse(&maria, "inv.yaml").unwrap_err());
    assert!(err.contains("only for mysql.flavor mysql"), "{err}");
}

/// `writes` (issue 16 item 1): `vip-holder` by default, `both` on request, anything else
/// refused naming the field.
#[test]
fn writes_defaults_to_vip_holder() {
    use mhactl::inventory::WriteMode;
    let inv = inventory::parse(&good_text(), "inventory.yaml").unwrap();
    assert_eq!(inv.writes, WriteMode::VipHolder);
    let both = format!("{}writes: both\n", good_text());
    assert_eq!(
        inventory::parse(&both, "inventory.yaml").unwrap().writes,
        WriteMode::Both
    );
    let explicit = format!("{}writes: vip-holder\n", good_text());
    assert_eq!(
        inventory::parse(&explicit, "inventory.yaml")
            .unwrap()
            .writes
            .inventory_name(),
        "vip-holder"
    );
    let bad = format!("{}writes: all\n", good_text());
    let err = inventory::parse(&bad, "inventory.yaml").unwrap_err();
    assert!(is_usage(&err), "{err:#}");
    let msg = format!("{err:#}");
    assert!(msg.starts_with("inventory.yaml"), "{msg}");
    assert!(msg.contains("writes"), "{msg}");
}
