use super::*;
use crate::os::option_files;

fn sh(script: &str) -> String {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(script)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The settings the Rust walk finds from `reads` alone (a path it lacks is an error).
fn walk(reads: &OptionFileReads, defaults: Vec<String>) -> Vec<(String, String)> {
    let (_, settings) = option_files::server_settings(
        &defaults,
        &|g| g == "mysqld",
        &mut |p| {
            reads
                .files
                .get(p)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("not read ahead: {p}"))
        },
        &mut |d| {
            reads
                .listings
                .get(d)
                .cloned()
                .ok_or_else(|| anyhow::anyhow!("not listed ahead: {d}"))
        },
    )
    .unwrap();
    settings
        .into_iter()
        .map(|s| (s.path, format!("{}={}", s.key, s.value.unwrap_or_default())))
        .collect()
}

/// The real script on this machine's shell: every level of the chain in one run, and
/// the Rust walk needs nothing else.
#[test]
fn the_chain_script_reads_every_level_in_one_run() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().display().to_string();
    let w = |p: &str, text: &str| {
        let path = format!("{root}/{p}");
        std::fs::create_dir_all(std::path::Path::new(&path).parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    w(
        "my.cnf",
        &format!(
            "[mysqld]\nport=3306\n  !includedir {root}/conf.d/  \n!include {root}/extra.cnf\n"
        ),
    );
    w(
        "conf.d/50-server.cnf",
        "[mysqld]\nserver_id=1\n# !include /nowhere\n",
    );
    w(
        "conf.d/zz-mhactl.cnf",
        &format!("[mysqld]\nserver_id=2\n!includedir {root}/deeper\n"),
    );
    w("conf.d/README", "!include /not-a-cnf\n");
    w("deeper/a.cnf", "[mysqld]\nread_only=ON\n");
    w("extra.cnf", "[client]\nport=1\n[mysqld]\nsync_binlog=1\n");
    let list = format!("echo {root}/my.cnf {root}/missing.cnf");
    let reads = parse(&sh(&chain_script(&list)));
    assert_eq!(
        reads.defaults.as_deref(),
        Some(format!("{root}/my.cnf {root}/missing.cnf\n").as_str())
    );
    assert_eq!(reads.files.get(&format!("{root}/missing.cnf")), Some(&None));
    assert!(!reads.files.contains_key("/nowhere"));
    assert!(!reads.files.contains_key("/not-a-cnf"));
    let defaults = option_files::parse_default_files(reads.defaults.as_deref().unwrap());
    let got = walk(&reads, defaults);
    let want: Vec<(String, String)> = [
        ("my.cnf", "port=3306"),
        ("conf.d/50-server.cnf", "server_id=1"),
        ("conf.d/zz-mhactl.cnf", "server_id=2"),
        ("deeper/a.cnf", "read_only=ON"),
        ("extra.cnf", "sync_binlog=1"),
    ]
    .iter()
    .map(|(p, s)| (format!("{root}/{p}"), s.to_string()))
    .collect();
    assert_eq!(got, want);
}

/// A loop of includes ends (the server stops at 10 levels; so does the script).
#[test]
fn an_include_loop_ends() {
    let tmp = tempfile::tempdir().unwrap();
    let a = tmp.path().join("a.cnf").display().to_string();
    let b = tmp.path().join("b.cnf").display().to_string();
    std::fs::write(&a, format!("!include {b}\n")).unwrap();
    std::fs::write(&b, format!("!include {a}\n")).unwrap();
    let reads = parse(&sh(&chain_script(&format!("echo {a}"))));
    assert_eq!(reads.files.len(), 2);
}

/// No list from the server binary: the fallback list, as `parse_default_files` has it.
#[test]
fn without_a_list_the_script_reads_the_fallback_files() {
    let script = chain_script("true");
    assert!(script.contains("/etc/mysql/my.cnf"));
    let reads = parse(&sh(&script));
    for f in option_files::FALLBACK_DEFAULT_FILES {
        assert!(reads.files.contains_key(*f), "{f}: {reads:?}");
    }
}

/// The pid file and the command line it names, NUL bytes and all.
#[test]
fn the_process_command_reads_the_pid_file_and_the_command_line() {
    let tmp = tempfile::tempdir().unwrap();
    let pid_file = tmp.path().join("mysqld.pid").display().to_string();
    let pid = std::process::id();
    std::fs::write(&pid_file, format!("{pid}\n")).unwrap();
    let reads = parse(&sh(&process_command(&pid_file)));
    assert_eq!(reads.files[&pid_file], Some(format!("{pid}\n")));
    let cmdline = reads.files[&format!("/proc/{pid}/cmdline")]
        .clone()
        .unwrap();
    assert_eq!(
        cmdline,
        std::fs::read_to_string(format!("/proc/{pid}/cmdline")).unwrap()
    );
    std::fs::write(&pid_file, "not a pid\n").unwrap();
    assert_eq!(parse(&sh(&process_command(&pid_file))).files.len(), 1);
    let gone = tmp.path().join("gone.pid").display().to_string();
    assert_eq!(parse(&sh(&process_command(&gone))).files[&gone], None);
}

#[test]
fn records_come_back_as_rendered_and_a_cut_record_is_dropped() {
    let mut reads = OptionFileReads {
        defaults: Some("/etc/my.cnf ~/.my.cnf\n".into()),
        ..Default::default()
    };
    reads.files.insert(
        "/etc/my.cnf".into(),
        Some("[mysqld]\né=1\n@mhactl-cnf x\n".into()),
    );
    reads.files.insert("/etc/a b.cnf".into(), None);
    reads
        .listings
        .insert("/etc/my.cnf.d/".into(), "zz.cnf\n".into());
    let text = render(&reads);
    assert_eq!(parse(&text), reads);
    let cut = parse(&text[..text.len() - 3]);
    assert!(cut.listings.is_empty());
    assert_eq!(cut.files, reads.files);
    assert_eq!(parse("garbage\n"), OptionFileReads::default());
}

/// Both commands are one line each, so a batch of them reads back (fakes answer a batch
/// command by command), and neither looks like a batch itself.
#[test]
fn the_commands_batch_like_any_other() {
    let scripts = vec![
        chain_command(),
        process_command("/run/mysqld/mysqld.pid"),
        "id -u".into(),
    ];
    let batch = crate::os::batch::script(&scripts);
    assert_eq!(crate::os::batch::scripts_of(&batch).unwrap(), scripts);
    assert!(crate::os::batch::scripts_of(&scripts[0]).is_none());
    assert!(crate::os::batch::scripts_of(&scripts[1]).is_none());
}
