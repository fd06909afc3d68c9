use super::*;

fn set(path: &str, key: &str, value: &str) -> ServerSetting {
    ServerSetting {
        path: path.into(),
        key: key.into(),
        value: Some(value.into()),
    }
}

const OWN: &str = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
const RUNBOOK: &str = "/etc/mysql/mariadb.conf.d/60-runbook.cnf";
const PACKAGED: &str = "/etc/mysql/mariadb.conf.d/50-server.cnf";

fn files() -> Vec<String> {
    ["/etc/mysql/my.cnf", PACKAGED, OWN, RUNBOOK]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

fn rendered() -> Vec<(String, Option<String>)> {
    [
        ("server_id", "1"),
        ("log_bin", "mysql-bin"),
        ("binlog_format", "ROW"),
        ("binlog_expire_logs_seconds", "604800"),
        ("replicate_ignore_db", "mysql"),
        ("bind_address", "0.0.0.0"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), Some(v.to_string())))
    .collect()
}

#[test]
fn a_later_file_competes_for_what_mhactl_renders_and_nothing_else() {
    let settings = vec![
        set(PACKAGED, "bind_address", "127.0.0.1"),
        set(PACKAGED, "expire_logs_days", "10"),
        set(OWN, "server_id", "1"),
        set(OWN, "binlog_format", "ROW"),
        set(RUNBOOK, "server_id", "1"),
        set(RUNBOOK, "binlog_format", "mixed"),
        set(RUNBOOK, "expire_logs_days", "7"),
        set(RUNBOOK, "binlog_cache_size", "1M"),
        set(RUNBOOK, "slave_skip_errors", "1062"),
        set(RUNBOOK, "replicate_ignore_db", "mysql"),
        set(RUNBOOK, "replicate_do_db", "app"),
    ];
    let got: Vec<String> = competing(OWN, &files(), &settings, &rendered(), &BTreeSet::new())
        .into_iter()
        .map(|s| format!("{}={}", s.key, s.value.unwrap_or_default()))
        .collect();
    // The packaged file is read first and loses; binlog_cache_size is not mhactl's; the
    // same filter value mhactl renders is harmless.
    assert_eq!(
        got,
        [
            "server_id=1",
            "binlog_format=mixed",
            "expire_logs_days=7",
            "slave_skip_errors=1062",
            "replicate_do_db=app",
        ]
    );
}

#[test]
fn skipped_errors_compete_wherever_mhactl_renders_none() {
    let settings = vec![set(PACKAGED, "slave_skip_errors", "1062")];
    let got = competing(OWN, &files(), &settings, &rendered(), &BTreeSet::new());
    assert_eq!(got.len(), 1);
    // The inventory lists the same codes: nothing to change.
    let codes: BTreeSet<String> = ["1062".to_string()].into();
    assert!(competing(OWN, &files(), &settings, &rendered(), &codes).is_empty());
    // A server that does not read mhactl's file: nothing is judged here.
    assert!(competing(
        "/nowhere.cnf",
        &files(),
        &settings,
        &rendered(),
        &BTreeSet::new()
    )
    .is_empty());
}

#[test]
fn only_the_competing_lines_are_commented_out_with_a_note() {
    let text =
        "# the runbook\n[mysqld]\nserver_id=1\nbinlog_format = mixed\nbinlog_cache_size=1M\n\
                slave-skip-errors=1062\n\n[client]\nbinlog_format=mixed\n";
    let competing = vec![
        set(RUNBOOK, "binlog_format", "mixed"),
        set(RUNBOOK, "slave_skip_errors", "1062"),
    ];
    let reads = |g: &str| g == "mysqld";
    let out = comment_out(text, &competing, &reads, "NOTE");
    assert_eq!(
        out,
        "# the runbook\n[mysqld]\nserver_id=1\n# mhactl: binlog_format = mixed  -- NOTE\n\
         binlog_cache_size=1M\n# mhactl: slave-skip-errors=1062  -- NOTE\n\n[client]\nbinlog_format=mixed\n"
    );
    // Idempotent: nothing is left to comment out in the result.
    let parsed = crate::os::option_files::parse(&out);
    assert!(!parsed.iter().any(|l| matches!(l,
        crate::os::option_files::Line::Setting { group, key, .. }
            if group == "mysqld" && key == "binlog_format")));
    assert_eq!(comment_out(&out, &competing, &reads, "NOTE"), out);
}

#[test]
fn the_backup_is_beside_the_file_and_never_read_by_an_includedir() {
    let b = backup_path(RUNBOOK, "20261127T091500Z");
    assert_eq!(b, format!("{RUNBOOK}.mhactl-20261127T091500Z"));
    let files = crate::os::option_files::included_dir_files(
        "/etc/mysql/mariadb.conf.d",
        "60-runbook.cnf\n60-runbook.cnf.mhactl-20261127T091500Z\n60-runbook.cnf.mhactl-new\n",
    );
    assert_eq!(files, [RUNBOOK]);
    let cmd = backup_and_replace_command(RUNBOOK, &b);
    assert!(
        cmd.starts_with(
            "f=$(readlink -f -- /etc/mysql/mariadb.conf.d/60-runbook.cnf) && cp -a -- \"$f\" /etc/"
        ),
        "{cmd}"
    );
    assert!(cmd.ends_with("mv -f -- \"$f.mhactl-new\" \"$f\""), "{cmd}");
}
