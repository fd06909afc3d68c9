//! Tests of the fakes themselves: [`super::FakeTransport`]'s rules and batches,
//! [`super::FakeSql`]'s round-trip count.

use super::*;

#[test]
fn records_and_answers() {
    let fake = FakeTransport::new("node-a");
    fake.on("cat /etc/os-release", 0, "ID=debian\n");
    let out = fake
        .run(&RemoteCommand::new("cat /etc/os-release"))
        .unwrap();
    assert_eq!(out.stdout, "ID=debian\n");
    fake.on("true", 0, "");
    assert!(fake.run_ok(&RemoteCommand::new("true")).is_ok());
    assert_eq!(fake.commands().len(), 2);
}

/// A command or query without a rule fails the test, naming it and the rules.
#[test]
fn a_command_without_a_rule_panics_naming_it_and_the_rules() {
    let fake = FakeTransport::new("node-a");
    fake.on("cat /etc/os-release", 0, "ID=debian\n");
    let panic = std::panic::catch_unwind(|| fake.run(&RemoteCommand::new("systemctl stop x")))
        .expect_err("an unmatched command panics");
    let msg = panic.downcast_ref::<String>().expect("a message");
    assert!(
        msg.contains("node-a: no rule for command:\n    systemctl stop x")
            && msg.contains("\"cat /etc/os-release\""),
        "{msg}"
    );
    // A write no rule matches panics too, unless the fake keeps files.
    let write = || fake.write_file(std::path::Path::new("/etc/x"), b"x", 0o644);
    assert!(std::panic::catch_unwind(write).is_err());
    fake.keep_files();
    write().unwrap();
    assert_eq!(
        fake.read_file(std::path::Path::new("/etc/x"))
            .unwrap()
            .as_deref(),
        Some("x")
    );
    let sql = FakeSql::new();
    sql.journal(&Journal::default(), "node-a");
    sql.on("SELECT VERSION()", vec![]);
    let mut conn = sql.clone();
    let panic = std::panic::catch_unwind(move || {
        crate::sql::SqlConn::query(&mut conn, "SHOW REPLICA STATUS")
    })
    .expect_err("an unmatched query panics");
    let msg = panic.downcast_ref::<String>().expect("a message");
    assert!(
        msg.contains("fake server node-a: no rule for query:\n    SHOW REPLICA STATUS"),
        "{msg}"
    );
}

#[test]
fn write_file_sends_content_on_stdin_not_argv() {
    let fake = FakeTransport::new("node-a");
    fake.on("mv -f \"$tmp\" /etc/x.cnf", 0, "");
    fake.write_file(
        std::path::Path::new("/etc/x.cnf"),
        b"password=s3cret",
        0o600,
    )
    .unwrap();
    let cmd = &fake.commands()[0];
    assert!(!cmd.script.contains("s3cret"));
    assert_eq!(cmd.stdin.as_deref(), Some(&b"password=s3cret"[..]));
    assert!(cmd.script.contains("chmod 600"));
}

#[test]
fn failing_command_names_node_and_stderr() {
    let fake = FakeTransport::new("node-b");
    fake.on("apt-get", 100, "");
    let err = fake
        .run_ok(&RemoteCommand::new("apt-get install x"))
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("node-b") && msg.contains("exit 100"), "{msg}");
}

/// Issue 21's budgets count SQL round trips as the real connection makes them: a query
/// or a statement one each, a batch of queries one.
#[test]
fn fake_sql_counts_a_batch_as_one_round_trip() {
    use crate::sql::SqlConn;
    let sql = FakeSql::new();
    sql.on("SELECT", vec![]).on("SET", vec![]);
    let mut conn = sql.clone();
    conn.query("SELECT 1").unwrap();
    conn.exec("SET x = 1").unwrap();
    assert_eq!(sql.round_trips(), 2);
    let batch: Vec<String> = ["SELECT 2", "SELECT 3", "SELECT 4"]
        .map(String::from)
        .into();
    assert!(conn.query_batch(&batch).iter().all(|r| r.is_ok()));
    assert_eq!(sql.round_trips(), 3, "a batch is one round trip");
    assert_eq!(
        sql.statements().len(),
        5,
        "each query of a batch is still recorded"
    );
}
