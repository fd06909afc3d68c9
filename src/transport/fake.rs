//! A fake [`Transport`] for unit tests: it records every command and answers from a
//! table of (script substring → output) rules, so operations can be tested without hosts.
//!
//! Both fakes fail loudly: a command or query that no rule matches panics, naming it and
//! the rules the fake had, so a changed command cannot pass a test by getting an empty
//! success it was never told to give. (A panic, not an error: code under test may
//! legitimately treat a failed probe as "absent" and carry on.)

use super::{CommandOutput, ForwardTarget, RemoteCommand, Transport};
use anyhow::{bail, Result};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};
use std::sync::Mutex;

/// One ordered record of what fake nodes were asked to do, shared by their
/// [`FakeTransport`]s and [`FakeSql`]s (see [`FakeTransport::journal`]): commands, SQL
/// and logins, each with the node's name, in the order they happened.
pub type Journal = std::sync::Arc<Mutex<Vec<(String, JournalEntry)>>>;

/// One thing a fake node was asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JournalEntry {
    /// A shell command (its stdin, if any, lossily decoded).
    Command {
        /// The script.
        script: String,
        /// Standard input.
        stdin: Option<String>,
    },
    /// A SQL query or statement on the admin connection.
    Sql(String),
    /// A separate login (`expired`: in expired-password mode).
    Login {
        /// Account name.
        user: String,
        /// Where to.
        target: String,
        /// Expired-password mode.
        expired: bool,
    },
}

/// Records commands; answers the first rule whose pattern the script contains.
#[derive(Default)]
pub struct FakeTransport {
    name: String,
    rules: Mutex<Vec<(String, CommandOutput)>>,
    /// Rules answered once each, before [`Self::rules`] (oldest first): a command that
    /// fails and then succeeds when run again.
    once: Mutex<Vec<(String, CommandOutput)>>,
    log: Mutex<Vec<RemoteCommand>>,
    journal: Mutex<Option<Journal>>,
    files: Mutex<Option<std::collections::BTreeMap<PathBuf, String>>>,
    /// Set while a run plans ahead ([`Transport::speculation`]).
    speculation: std::sync::atomic::AtomicBool,
    /// What it ran, counted as the SSH transport counts (round-trip budgets in tests).
    stats: super::stats::TransportStats,
}

impl FakeTransport {
    /// A fake node called `name` with no rules: every command panics until a rule
    /// ([`Self::on`]) answers it.
    pub fn new(name: &str) -> FakeTransport {
        FakeTransport {
            name: name.into(),
            ..Default::default()
        }
    }

    /// Answer scripts containing `pattern` with `stdout` and exit `status`.
    /// Later rules take precedence over earlier ones.
    pub fn on(&self, pattern: &str, status: i32, stdout: &str) -> &Self {
        assert!(!pattern.is_empty(), "a fake rule must name what it matches");
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

    /// Answer scripts containing `pattern` with exit `status`, `stdout` and `stderr`.
    pub fn on_full(&self, pattern: &str, status: i32, stdout: &str, stderr: &str) -> &Self {
        assert!(!pattern.is_empty(), "a fake rule must name what it matches");
        self.rules.lock().expect("rules").insert(
            0,
            (
                pattern.into(),
                CommandOutput {
                    status,
                    stdout: stdout.into(),
                    stderr: stderr.into(),
                },
            ),
        );
        self
    }

    /// Answer the next script containing `pattern` (once; oldest such rule first) with
    /// exit `status` and `stderr`, before any [`Self::on`] rule: a retried command.
    pub fn once(&self, pattern: &str, status: i32, stderr: &str) -> &Self {
        assert!(!pattern.is_empty(), "a fake rule must name what it matches");
        self.once.lock().expect("once").push((
            pattern.into(),
            CommandOutput {
                status,
                stdout: String::new(),
                stderr: stderr.into(),
            },
        ));
        self
    }

    /// Every command run so far.
    pub fn commands(&self) -> Vec<RemoteCommand> {
        self.log.lock().expect("log").clone()
    }

    /// Keep the files written with [`Transport::write_file`] and answer
    /// [`Transport::read_file`] with them (the commands are still recorded), so a step
    /// re-planned after writing finds its file. The fake is then a file store: a write
    /// no rule matches succeeds, and a read of a kept file needs no rule (a rule that
    /// matches a write still decides its outcome, e.g. a full disk).
    pub fn keep_files(&self) -> &Self {
        *self.files.lock().expect("files") = Some(Default::default());
        self
    }

    /// A file kept by [`Self::keep_files`].
    pub fn kept_file(&self, path: &str) -> Option<String> {
        self.files
            .lock()
            .expect("files")
            .as_ref()
            .and_then(|f| f.get(std::path::Path::new(path)).cloned())
    }

    /// Put a file in the kept files without running anything (what a command the fake
    /// does not interpret, such as `mv`, left on the node).
    pub fn put_file(&self, path: &str, content: &str) -> &Self {
        if let Some(files) = self.files.lock().expect("files").as_mut() {
            files.insert(path.into(), content.into());
        }
        self
    }

    /// Also append every command to `journal` (shared with a [`FakeSql`]).
    pub fn journal(&self, journal: &Journal) -> &Self {
        *self.journal.lock().expect("journal") = Some(journal.clone());
        self
    }
}

impl Transport for FakeTransport {
    fn node(&self) -> &str {
        &self.name
    }

    fn speculation(&self) -> Option<&std::sync::atomic::AtomicBool> {
        Some(&self.speculation)
    }

    fn stats(&self) -> Option<&super::stats::TransportStats> {
        Some(&self.stats)
    }

    fn run(&self, cmd: &RemoteCommand) -> Result<CommandOutput> {
        self.refuse_if_speculating()?;
        self.record(cmd);
        // A batch of reads (facts::prefetch): each command answered as if it ran alone;
        // one with no rule is reported lost (255), which the batch never caches, so the
        // fact's own read later fails the test as an unmatched command would.
        if let Some(inner) = crate::os::batch::scripts_of(&cmd.script) {
            let outputs: Vec<CommandOutput> = inner
                .iter()
                .map(|script| {
                    // The option-file chain in one read: answered from the rules of
                    // its separate reads (os::option_chain).
                    let chain =
                        crate::os::option_chain::simulate(script, &|s| self.answer_alone(s)).map(
                            |stdout| CommandOutput {
                                status: 0,
                                stdout,
                                stderr: String::new(),
                            },
                        );
                    chain
                        .or_else(|| self.answer_alone(script))
                        .unwrap_or(CommandOutput {
                            status: 255,
                            stdout: String::new(),
                            stderr: "fake: no rule for this command".into(),
                        })
                })
                .collect();
            return Ok(CommandOutput {
                status: 0,
                stdout: crate::os::batch::render_output(&outputs),
                stderr: String::new(),
            });
        }
        match self.answer(&cmd.script) {
            Some(out) => Ok(out),
            None => panic!("{}", self.unmatched(&cmd.script)),
        }
    }

    fn write_file(&self, path: &std::path::Path, content: &[u8], mode: u32) -> Result<()> {
        let cmd = super::write_file_command(path, content, mode);
        let keeping = self.files.lock().expect("files").is_some();
        let out = match (self.answer(&cmd.script), keeping) {
            (Some(out), _) => out,
            (None, true) => CommandOutput::default(),
            (None, false) => panic!("{}", self.unmatched(&cmd.script)),
        };
        self.record(&cmd);
        if !out.success() {
            return Err(super::command_failed(
                &self.name,
                &cmd.script,
                out.status,
                &out.stderr,
                &out.stdout,
            ));
        }
        if let Some(files) = self.files.lock().expect("files").as_mut() {
            files.insert(
                path.to_path_buf(),
                String::from_utf8_lossy(content).into_owned(),
            );
        }
        Ok(())
    }

    fn read_file(&self, path: &std::path::Path) -> Result<Option<String>> {
        self.refuse_if_speculating()?;
        let cmd = super::read_file_command(path);
        let kept = self
            .files
            .lock()
            .expect("files")
            .as_ref()
            .and_then(|f| f.get(path).cloned());
        if let Some(kept) = kept {
            self.record(&cmd);
            return Ok(Some(kept));
        }
        let out = self.run(&cmd)?;
        super::read_file_result(&self.name, path, out)
    }

    fn forward(&self, target: &ForwardTarget) -> Result<PathBuf> {
        self.refuse_if_speculating()?;
        bail!(
            "{}: the fake transport cannot forward to {target}",
            self.name
        )
    }
}

impl FakeTransport {
    /// What `script` would answer run alone: a kept file's content for its read, else
    /// the newest matching rule.
    fn answer_alone(&self, script: &str) -> Option<CommandOutput> {
        let kept = self
            .files
            .lock()
            .expect("files")
            .as_ref()
            .and_then(|files| {
                files
                    .iter()
                    .find(|(path, _)| super::read_file_command(path).script == script)
                    .map(|(_, content)| content.clone())
            });
        match kept {
            Some(content) => Some(CommandOutput {
                status: 0,
                stdout: content,
                stderr: String::new(),
            }),
            None => self.answer(script),
        }
    }

    /// Append `cmd` to the log and the journal.
    fn record(&self, cmd: &RemoteCommand) {
        self.stats.note(super::stats::Event::Exec(true));
        self.log.lock().expect("log").push(cmd.clone());
        if let Some(j) = self.journal.lock().expect("journal").as_ref() {
            j.lock().expect("journal").push((
                self.name.clone(),
                JournalEntry::Command {
                    script: cmd.script.clone(),
                    stdin: cmd
                        .stdin
                        .as_ref()
                        .map(|b| String::from_utf8_lossy(b).into_owned()),
                },
            ));
        }
    }

    /// The output of the newest rule whose pattern `script` contains.
    fn answer(&self, script: &str) -> Option<CommandOutput> {
        let mut once = self.once.lock().expect("once");
        if let Some(at) = once.iter().position(|(p, _)| script.contains(p.as_str())) {
            return Some(once.remove(at).1);
        }
        drop(once);
        let rules = self.rules.lock().expect("rules");
        rules
            .iter()
            .find(|(pattern, _)| script.contains(pattern.as_str()))
            .map(|(_, out)| out.clone())
    }

    /// The panic message for a command no rule matches: the command and every rule.
    fn unmatched(&self, script: &str) -> String {
        let rules = self.rules.lock().expect("rules");
        let patterns: Vec<&str> = rules.iter().map(|(p, _)| p.as_str()).collect();
        unmatched_message("fake node", &self.name, "command", script, &patterns)
    }
}

/// "fake node db1: no rule for command `...`; its rules (newest first): ...".
fn unmatched_message(what: &str, name: &str, kind: &str, text: &str, patterns: &[&str]) -> String {
    let who = if name.is_empty() {
        what.to_string()
    } else {
        format!("{what} {name}")
    };
    let mut msg = format!("{who}: no rule for {kind}:\n    {text}\nits rules (newest first):");
    if patterns.is_empty() {
        msg.push_str(" none");
    }
    for p in patterns {
        msg.push_str(&format!("\n    {p:?}"));
    }
    msg
}

#[cfg(test)]
#[path = "fake_tests.rs"]
mod tests;

/// A recorded answer: queries containing the pattern get these rows.
type SqlRule = (String, Vec<crate::sql::Row>);

/// A fake SQL connection for unit tests: answers queries from (substring → rows) rules
/// and records every statement, shared through an `Arc` so a test can read it back.
#[derive(Clone, Default)]
pub struct FakeSql {
    rules: std::sync::Arc<Mutex<Vec<SqlRule>>>,
    log: std::sync::Arc<Mutex<Vec<String>>>,
    refuse: std::sync::Arc<Mutex<Option<(u16, String)>>>,
    journal: std::sync::Arc<Mutex<Option<(Journal, String)>>>,
    fail_exec: std::sync::Arc<Mutex<Vec<(String, u16, String)>>>,
    /// Round trips on its connections, as the real one counts them (issue 21's budgets):
    /// each query or statement one, a batch of queries one.
    round_trips: std::sync::Arc<AtomicU64>,
}

impl FakeSql {
    /// A server with no rules: every query and statement panics until a rule
    /// ([`Self::on`]) answers it.
    pub fn new() -> FakeSql {
        FakeSql::default()
    }

    /// Answer queries containing `pattern` with `rows` (later rules win). Each row is a
    /// list of (column, value) pairs; `None` is SQL NULL. A statement run with `exec`
    /// succeeds when a rule's pattern is in it (or fails, see [`Self::fail_exec`]).
    pub fn on(&self, pattern: &str, rows: Vec<Vec<(&str, Option<&str>)>>) -> &Self {
        assert!(!pattern.is_empty(), "a fake rule must name what it matches");
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

    /// SQL round trips so far, on every connection it handed out (see the field).
    pub fn round_trips(&self) -> u64 {
        self.round_trips.load(SeqCst)
    }

    /// Every query and statement so far.
    pub fn statements(&self) -> Vec<String> {
        self.log.lock().expect("log").clone()
    }

    /// From now on, refuse the admin connection with server error `code` (e.g. 1045
    /// access denied, 1820 expired password) and `message`; `None` accepts it again.
    pub fn refuse(&self, error: Option<(u16, &str)>) -> &Self {
        *self.refuse.lock().expect("refuse") = error.map(|(c, m)| (c, m.to_string()));
        self
    }

    /// Statements containing `pattern` fail with server error `code` and `message` (they
    /// are still recorded).
    pub fn fail_exec(&self, pattern: &str, code: u16, message: &str) -> &Self {
        self.fail_exec
            .lock()
            .expect("fail_exec")
            .push((pattern.into(), code, message.into()));
        self
    }

    /// Also append every query and login to `journal` (shared with a
    /// [`FakeTransport`]) as done on `node`.
    pub fn journal(&self, journal: &Journal, node: &str) -> &Self {
        *self.journal.lock().expect("journal") = Some((journal.clone(), node.to_string()));
        self
    }

    /// The node this fake was journaled as ("" before [`Self::journal`]), for messages.
    fn name(&self) -> String {
        self.journal
            .lock()
            .expect("journal")
            .as_ref()
            .map(|(_, node)| node.clone())
            .unwrap_or_default()
    }

    fn record(&self, entry: JournalEntry) {
        if let JournalEntry::Sql(sql) = &entry {
            self.log.lock().expect("log").push(sql.clone());
        }
        if let Some((j, node)) = self.journal.lock().expect("journal").as_ref() {
            j.lock().expect("journal").push((node.clone(), entry));
        }
    }

    /// A connector for [`crate::engine::NodeHandle::new`] that hands out this fake, or
    /// the server error set with [`Self::refuse`].
    pub fn connector(&self) -> crate::sql::SqlConnector {
        let me = self.clone();
        Box::new(move || {
            if let Some((code, message)) = me.refuse.lock().expect("refuse").clone() {
                return Err(anyhow::Error::new(crate::sql_error::SqlError(
                    mysql::Error::MySqlError(mysql::MySqlError {
                        state: "28000".into(),
                        message,
                        code,
                    }),
                )));
            }
            Ok(Box::new(me.clone()) as Box<dyn crate::sql::SqlConn>)
        })
    }

    /// A login connector for [`crate::engine::NodeHandle::with_login_connector`]: every
    /// login succeeds, is journaled (never its password), and answers from these rules.
    pub fn login_connector(&self) -> crate::sql::LoginConnector {
        let me = self.clone();
        Box::new(move |target, login, expired| {
            me.record(JournalEntry::Login {
                user: login.user.clone(),
                target: match target {
                    super::ForwardTarget::UnixSocket(p) => format!("unix:{}", p.display()),
                    super::ForwardTarget::Tcp(h, p) => format!("{h}:{p}"),
                },
                expired,
            });
            Ok(Box::new(me.clone()) as Box<dyn crate::sql::SqlConn>)
        })
    }

    /// A query's answer, not counted (a batch counts itself once).
    fn answer(&self, sql: &str) -> Result<Vec<crate::sql::Row>> {
        self.record(JournalEntry::Sql(sql.to_string()));
        let rules = self.rules.lock().expect("rules");
        match rules.iter().find(|(p, _)| sql.contains(p.as_str())) {
            Some((_, rows)) => Ok(rows.clone()),
            None => {
                let patterns: Vec<&str> = rules.iter().map(|(p, _)| p.as_str()).collect();
                panic!(
                    "{}",
                    unmatched_message("fake server", &self.name(), "query", sql, &patterns)
                )
            }
        }
    }
}

impl crate::sql::SqlConn for FakeSql {
    fn query(&mut self, sql: &str) -> Result<Vec<crate::sql::Row>> {
        self.round_trips.fetch_add(1, SeqCst);
        self.answer(sql)
    }

    /// One round trip, as the real connection sends it; each answered as if alone.
    fn query_batch(&mut self, queries: &[String]) -> Vec<Result<Vec<crate::sql::Row>>> {
        if !queries.is_empty() {
            self.round_trips.fetch_add(1, SeqCst);
        }
        queries.iter().map(|q| self.answer(q)).collect()
    }

    fn exec(&mut self, sql: &str) -> Result<()> {
        self.round_trips.fetch_add(1, SeqCst);
        self.record(JournalEntry::Sql(sql.to_string()));
        let failures = self.fail_exec.lock().expect("fail_exec");
        if let Some((_, code, message)) = failures.iter().find(|(p, _, _)| sql.contains(p.as_str()))
        {
            return Err(anyhow::Error::new(crate::sql_error::SqlError(
                mysql::Error::MySqlError(mysql::MySqlError {
                    state: "HY000".into(),
                    message: message.clone(),
                    code: *code,
                }),
            )));
        }
        drop(failures);
        // A statement succeeds only when a rule names it (its rows are not used).
        let rules = self.rules.lock().expect("rules");
        if rules.iter().any(|(p, _)| sql.contains(p.as_str())) {
            return Ok(());
        }
        let patterns: Vec<&str> = rules.iter().map(|(p, _)| p.as_str()).collect();
        panic!(
            "{}",
            unmatched_message("fake server", &self.name(), "statement", sql, &patterns)
        )
    }
}
