//! Fixture tests of the option-file chain: default list, includes, groups, values.

use super::*;
use std::collections::HashMap;

const HELP_LINE: &str = "/etc/my.cnf /etc/mysql/my.cnf ~/.my.cnf \n";

#[test]
fn default_files_from_the_servers_help() {
    assert_eq!(
        parse_default_files(HELP_LINE),
        vec!["/etc/my.cnf", "/etc/mysql/my.cnf", "/root/.my.cnf"]
    );
    assert_eq!(parse_default_files(""), FALLBACK_DEFAULT_FILES);
}

#[test]
fn includedir_reads_cnf_files_sorted() {
    let listing = "60-mhactl.cnf\n50-server.cnf\nREADME\n90-runbook.cnf\nold.cnf.bak\n";
    assert_eq!(
        included_dir_files("/etc/mysql/mariadb.conf.d/", listing),
        vec![
            "/etc/mysql/mariadb.conf.d/50-server.cnf",
            "/etc/mysql/mariadb.conf.d/60-mhactl.cnf",
            "/etc/mysql/mariadb.conf.d/90-runbook.cnf",
        ]
    );
}

#[test]
fn lines_groups_and_values() {
    let text = "# comment\n[client-server]\nsocket = /run/mysqld/mysqld.sock\n\n\
                !includedir /etc/mysql/conf.d/\n[MYSQLD]\nloose-Replicate-Do-Db = \"db one\"\n\
                skip-name-resolve\nslave_skip_errors=1062 # the runbook said so\n; x = 1\n\
                !include /etc/mysql/extra.cnf\n";
    let lines = parse(text);
    let setting = |group: &str, key: &str, value: Option<&str>| Line::Setting {
        group: group.into(),
        key: key.into(),
        value: value.map(str::to_string),
    };
    assert_eq!(
        lines,
        vec![
            setting("client-server", "socket", Some("/run/mysqld/mysqld.sock")),
            Line::IncludeDir("/etc/mysql/conf.d/".into()),
            setting("mysqld", "replicate_do_db", Some("db one")),
            setting("mysqld", "skip_name_resolve", None),
            setting("mysqld", "slave_skip_errors", Some("1062")),
            Line::Include("/etc/mysql/extra.cnf".into()),
        ]
    );
}

#[test]
fn groups_the_server_reads() {
    use crate::inventory::Flavor::{Mariadb, Mysql};
    for g in [
        "mysqld",
        "server",
        "mariadb",
        "mariadbd",
        "client-server",
        "mariadb-10.11",
    ] {
        assert!(server_reads_group(g, Mariadb, 10, 11), "{g}");
    }
    for g in [
        "client",
        "mysqld_safe",
        "mariadb-10.6",
        "mysql",
        "mysqldump",
    ] {
        assert!(!server_reads_group(g, Mariadb, 10, 11), "{g}");
    }
    assert!(server_reads_group("mysqld-8.4", Mysql, 8, 4));
    assert!(!server_reads_group("mariadb", Mysql, 8, 4));
    assert!(!server_reads_group("client-server", Mysql, 8, 4));
}

/// Debian's MariaDB layout, with a runbook drop-in after mhactl's.
#[test]
fn settings_in_reading_order_follow_the_include_chain() {
    let files: HashMap<&str, &str> = HashMap::from([
        (
            "/etc/mysql/my.cnf",
            "[client-server]\nsocket = /run/mysqld/mysqld.sock\n\
             !includedir /etc/mysql/conf.d/\n!includedir /etc/mysql/mariadb.conf.d/\n",
        ),
        ("/etc/mysql/conf.d/mysql.cnf", "[mysql]\n"),
        (
            "/etc/mysql/mariadb.conf.d/50-server.cnf",
            "[mysqld]\nexpire_logs_days = 10\n",
        ),
        (
            "/etc/mysql/mariadb.conf.d/60-mhactl.cnf",
            "[mysqld]\nlog-bin = mysql-bin\n[client]\npassword = x\n",
        ),
        (
            "/etc/mysql/mariadb.conf.d/90-runbook.cnf",
            "[mysqld]\nlog-bin = runbook-bin\nreplicate-do-db = app\n!include /etc/mysql/loop.cnf\n",
        ),
        ("/etc/mysql/loop.cnf", "!include /etc/mysql/loop.cnf\n"),
    ]);
    let dirs: HashMap<&str, &str> = HashMap::from([
        ("/etc/mysql/conf.d/", "mysql.cnf\n"),
        (
            "/etc/mysql/mariadb.conf.d/",
            "90-runbook.cnf\n60-mhactl.cnf\n50-server.cnf\n",
        ),
    ]);
    let defaults = parse_default_files(HELP_LINE);
    let reads = |g: &str| server_reads_group(g, crate::inventory::Flavor::Mariadb, 10, 11);
    let (read_files, settings) = server_settings(
        &defaults,
        &reads,
        &mut |p| Ok(files.get(p).map(|t| t.to_string())),
        &mut |d| Ok(dirs.get(d).copied().unwrap_or("").to_string()),
    )
    .unwrap();
    assert_eq!(read_files[0], "/etc/mysql/my.cnf");
    assert!(read_files.contains(&"/etc/mysql/loop.cnf".to_string()));
    let keys: Vec<(&str, &str, Option<&str>)> = settings
        .iter()
        .map(|s| {
            (
                s.path.rsplit('/').next().unwrap(),
                s.key.as_str(),
                s.value.as_deref(),
            )
        })
        .collect();
    assert_eq!(
        keys,
        vec![
            ("my.cnf", "socket", Some("/run/mysqld/mysqld.sock")),
            ("50-server.cnf", "expire_logs_days", Some("10")),
            ("60-mhactl.cnf", "log_bin", Some("mysql-bin")),
            ("90-runbook.cnf", "log_bin", Some("runbook-bin")),
            ("90-runbook.cnf", "replicate_do_db", Some("app")),
        ]
    );
}

#[test]
fn persisted_settings_from_mysqld_auto_cnf() {
    let json = r#"{"Version": 2, "mysql_static_variables": {"log_bin_basename": {"Value": "/var/lib/mysql/x", "Metadata": {"Host": "localhost", "User": "root", "Timestamp": 1}}},
        "mysql_dynamic_variables": {"read_only": {"Value": "ON", "Metadata": {"Timestamp": 1}}, "replica-skip-errors": {"Value": "1062", "Metadata": {}}}}"#;
    let mut got = parse_persisted(json);
    got.sort();
    assert_eq!(
        got,
        vec![
            (
                "log_bin_basename".to_string(),
                "/var/lib/mysql/x".to_string()
            ),
            ("read_only".to_string(), "ON".to_string()),
            ("replica_skip_errors".to_string(), "1062".to_string()),
        ]
    );
    assert!(parse_persisted("not json").is_empty());
}

#[test]
fn the_servers_command_line_changes_the_files_and_sets_options() {
    let args = "/usr/sbin/mariadbd\0--defaults-extra-file=/etc/extra.cnf\0--basedir=/usr\0\
                --skip-log-error\0--log-bin=cli-bin\0";
    let cmd = parse_cmdline(args);
    assert_eq!(cmd.extra_file.as_deref(), Some("/etc/extra.cnf"));
    assert_eq!(
        cmd.settings,
        vec![
            ("basedir".to_string(), Some("/usr".to_string())),
            ("skip_log_error".to_string(), None),
            ("log_bin".to_string(), Some("cli-bin".to_string())),
        ]
    );
    let defaults = parse_default_files(HELP_LINE);
    assert_eq!(
        start_files(defaults.clone(), &cmd),
        vec![
            "/etc/my.cnf",
            "/etc/mysql/my.cnf",
            "/etc/extra.cnf",
            "/root/.my.cnf"
        ]
    );
    let only = parse_cmdline("mysqld\0--defaults-file=/etc/only.cnf\0");
    assert_eq!(start_files(defaults.clone(), &only), vec!["/etc/only.cnf"]);
    assert!(start_files(defaults, &parse_cmdline("mysqld\0--no-defaults\0")).is_empty());
}

/// `--validate-config` loads no component: its only complaint about a hand-built MySQL
/// 9.x pair's `validate_password.policy=0` is an unknown variable, which the caller then
/// checks against the running server; any other error is not one of those.
#[test]
fn unknown_component_variables_are_told_apart() {
    let component = "2026-11-27T11:55:03Z 0 [ERROR] [MY-000067] [Server] unknown variable \
                     'validate_password.policy=0'.\n\
                     2026-11-27T11:55:03Z 0 [ERROR] [MY-000067] [Server] unknown variable \
                     'validate-password.length=1'.\n\
                     2026-11-27T11:55:03Z 0 [ERROR] [MY-010119] [Server] Aborting\n";
    assert_eq!(
        unknown_component_variables(component, ""),
        Some(vec![
            "validate_password.policy".to_string(),
            "validate_password.length".to_string()
        ])
    );
    let plain = "0 [ERROR] [MY-000067] [Server] unknown variable 'expire_logs_days=7'.\n";
    assert_eq!(unknown_component_variables(plain, ""), None);
    let mixed = format!("{component}{plain}");
    assert_eq!(unknown_component_variables(&mixed, ""), None);
    let value =
        "0 [ERROR] [MY-000077] [Server] option 'validate_password.length': value '-1' bad\n";
    assert_eq!(unknown_component_variables(value, ""), None);
    assert_eq!(unknown_component_variables("", ""), None);
}
