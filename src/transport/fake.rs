//! A fake [`Transport`] for unit tests: it records every command and answers from a
//! table of (script substring → output) rules, so operations can be tested without hosts.

use super::{CommandOutput, ForwardTarget, RemoteCommand, Transport};
use anyhow::{bail, Result};
use std::path::PathBuf;
use std::sync::Mutex;

/// Records commands; answers the first rule whose pattern the script contains.
#[derive(Default)]
pub struct FakeTransport {
    name: String,
    rules: Mutex<Vec<(String, CommandOutput)>>,
    log: Mutex<Vec<RemoteCommand>>,
}

impl FakeTransport {
    /// A fake node called `name` that answers every command with exit 0 and no output.
    pub fn new(name: &str) -> FakeTransport {
        FakeTransport {
            name: name.into(),
            ..Default::default()
        }
    }

    /// Answer scripts containing `pattern` with `stdout` and exit `status`.
    /// Later rules take precedence over earlier ones.
    pub fn on(&self, pattern: &str, status: i32, stdout: &str) -> &Self {
        self.rules.lock().expect("rules").insert(
            0,
            (
                pattern.into(),
                CommandOutput {
                    status,
                    stdout: stdout.into(),
                    stderr: String::new(),
                },
            ),
        );
        self
    }

    /// Every command run so far.
    pub fn commands(&self) -> Vec<RemoteCommand> {
        self.log.lock().expect("log").clone()
    }
}

impl Transport for FakeTransport {
    fn node(&self) -> &str {
        &self.name
    }

    fn run(&self, cmd: &RemoteCommand) -> Result<CommandOutput> {
        self.log.lock().expect("log").push(cmd.clone());
        let rules = self.rules.lock().expect("rules");
        Ok(rules
            .iter()
            .find(|(pattern, _)| cmd.script.contains(pattern.as_str()))
            .map(|(_, out)| out.clone())
            .unwrap_or_default())
    }

    fn forward(&self, target: &ForwardTarget) -> Result<PathBuf> {
        bail!(
            "{}: the fake transport cannot forward to {target:?}",
            self.name
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_answers() {
        let fake = FakeTransport::new("node-a");
        fake.on("cat /etc/os-release", 0, "ID=debian\n");
        let out = fake
            .run(&RemoteCommand::new("cat /etc/os-release"))
            .unwrap();
        assert_eq!(out.stdout, "ID=debian\n");
        assert!(fake.run_ok(&RemoteCommand::new("true")).is_ok());
        assert_eq!(fake.commands().len(), 2);
    }

    #[test]
    fn write_file_sends_content_on_stdin_not_argv() {
        let fake = FakeTransport::new("node-a");
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
}

/// A recorded answer: queries containing the pattern get these rows.
type SqlRule = (String, Vec<crate::engine::Row>);

/// A fake SQL connection for unit tests: answers queries from (substring → rows) rules
/// and records every statement, shared through an `Arc` so a test can read it back.
#[derive(Clone, Default)]
pub struct FakeSql {
    rules: std::sync::Arc<Mutex<Vec<SqlRule>>>,
    log: std::sync::Arc<Mutex<Vec<String>>>,
}

impl FakeSql {
    /// A server that returns no rows to anything.
    pub fn new() -> FakeSql {
        FakeSql::default()
    }

    /// Answer queries containing `pattern` with `rows` (later rules win). Each row is a
    /// list of (column, value) pairs; `None` is SQL NULL.
    pub fn on(&self, pattern: &str, rows: Vec<Vec<(&str, Option<&str>)>>) -> &Self {
        let rows = rows
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .map(|(c, v)| (c.to_string(), v.map(str::to_string)))
                    .collect()
            })
            .collect();
        self.rules
            .lock()
            .expect("rules")
            .insert(0, (pattern.into(), rows));
        self
    }

    /// Every query and statement so far.
    pub fn statements(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// A connector for [`crate::engine::NodeHandle::new`] that hands out this fake.
    pub fn connector(&self) -> crate::engine::SqlConnector {
        let me = self.clone();
        Box::new(move || Ok(Box::new(me.clone()) as Box<dyn crate::engine::SqlConn>))
    }
}

impl crate::engine::SqlConn for FakeSql {
    fn query(&mut self, sql: &str) -> Result<Vec<crate::engine::Row>> {
        self.log.lock().expect("log").push(sql.to_string());
        let rules = self.rules.lock().expect("rules");
        Ok(rules
            .iter()
            .find(|(p, _)| sql.contains(p.as_str()))
            .map(|(_, rows)| rows.clone())
            .unwrap_or_default())
    }

    fn exec(&mut self, sql: &str) -> Result<()> {
        self.log.lock().expect("log").push(sql.to_string());
        Ok(())
    }
}
