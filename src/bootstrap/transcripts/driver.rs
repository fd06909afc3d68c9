//! Drives one scenario's whole bootstrap over the fakes and turns what the steps asked of
//! the nodes into the transcript text; compares it with its golden file.

use super::recordings::{
    after_applying, after_planning, bare_host, FRESH_TEMP_PASSWORDS, REPL_PASSWORD, ROOT_PASSWORD,
    TEMP_PASSWORDS,
};
use super::scenarios::{ctx, Scenario};
use crate::bootstrap::steps::all;
use crate::engine::{run_nodes, Cluster, NodeHandle, Observer, Plan, StepReport, StepStatus};
use crate::transport::fake::{FakeSql, FakeTransport, Journal, JournalEntry};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Run the whole bootstrap of `s` and return the transcript, unredacted (the caller
/// checks where secrets went, then redacts). The steps run through the engine's own
/// loop ([`crate::engine::run_nodes`]: plan, apply, re-plan, stop at the first failure),
/// node after node so the recorded hosts answer one step at a time; [`Recorder`] hears
/// each phase and writes down what it asked of the nodes.
pub(super) fn run_scenario(s: &Scenario) -> (String, Vec<String>, Vec<Vec<JournalEntry>>) {
    let (out, secrets, entries, _) = bootstrapped(s);
    (out, secrets, entries)
}

/// The pair a scenario's whole bootstrap left (its fakes answering as the converged
/// hosts), with its fakes: [`run_scenario`]'s, and what a re-run runs on
/// (`rerun_budget`).
pub(super) type Bootstrapped = (Cluster, Vec<(Arc<FakeTransport>, FakeSql)>);

/// [`run_scenario`], and the pair it left.
pub(super) fn bootstrapped(
    s: &Scenario,
) -> (String, Vec<String>, Vec<Vec<JournalEntry>>, Bootstrapped) {
    let ctx = ctx(s);
    let journal = Journal::default();
    let fakes: Vec<(Arc<FakeTransport>, FakeSql)> = ["db1", "db2"]
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let t = Arc::new(FakeTransport::new(name));
            t.keep_files();
            let sql = FakeSql::new();
            t.journal(&journal);
            sql.journal(&journal, name);
            bare_host(s, i, &t, &sql);
            (t, sql)
        })
        .collect();
    let nodes = fakes
        .iter()
        .enumerate()
        .map(|(i, (t, sql))| {
            NodeHandle::new(
                i,
                ["db1", "db2"][i],
                t.clone() as Arc<dyn crate::transport::Transport>,
                Some(sql.connector()),
            )
            .with_login_connector(sql.login_connector())
        })
        .collect();
    let mut secrets = vec![
        REPL_PASSWORD.to_string(),
        ROOT_PASSWORD.to_string(),
        secrecy::ExposeSecret::expose_secret(&ctx.secrets.vrrp_password).to_string(),
    ];
    secrets.extend(TEMP_PASSWORDS.iter().map(|p| p.to_string()));
    secrets.extend(FRESH_TEMP_PASSWORDS.iter().map(|p| p.to_string()));
    let cluster = Cluster { nodes, secrets };
    let recorder = Recorder {
        scenario: s,
        fakes: &fakes,
        journal: &journal,
        state: Mutex::new(RecorderState {
            entries: vec![Vec::new(), Vec::new()],
            ..RecorderState::default()
        }),
    };
    let reports = run_nodes(&cluster, &all(ctx.clone()), false, &recorder, true);
    for r in &reports {
        assert!(
            r.status != StepStatus::Failed,
            "{}: {}: {}: {}",
            s.name,
            r.node,
            r.step,
            r.detail
        );
    }
    let state = recorder.state.into_inner().expect("recorder");
    let secrets = cluster.secrets.clone();
    (state.out, secrets, state.entries, (cluster, fakes))
}

/// Hears the engine's phases of each step on each node: takes what the phase asked of
/// the nodes from the journal, and after planning (and applying) a change makes the
/// fakes answer as the host would once the actions ran.
struct Recorder<'a> {
    scenario: &'a Scenario,
    fakes: &'a [(Arc<FakeTransport>, FakeSql)],
    journal: &'a Journal,
    state: Mutex<RecorderState>,
}

/// The transcript so far, and the step being run.
#[derive(Default)]
struct RecorderState {
    out: String,
    /// Everything each node (db1, db2) was asked, in order.
    entries: Vec<Vec<JournalEntry>>,
    /// The step's plan (`unchanged: ...` or `change: ...`) and what planning asked.
    head: String,
    planned: Vec<(String, JournalEntry)>,
    applied: Vec<(String, JournalEntry)>,
    /// The re-plan's reason and what it asked.
    replanned: Option<(String, Vec<(String, JournalEntry)>)>,
}

fn index_of(node: &str) -> usize {
    if node == "db1" {
        0
    } else {
        1
    }
}

impl Observer for Recorder<'_> {
    fn planned(&self, node: &str, step: &str, plan: &Plan) {
        let mut st = self.state.lock().expect("recorder");
        st.head = match plan {
            Plan::Noop(why) => format!("unchanged: {why}"),
            Plan::Change(c) => format!("change: {}", c.summary),
        };
        st.planned = take(self.journal);
        if let Plan::Change(_) = plan {
            let i = index_of(node);
            let (t, sql) = &self.fakes[i];
            after_planning(self.scenario, step, i, t, sql);
        }
    }

    fn applied(&self, node: &str, step: &str) {
        self.state.lock().expect("recorder").applied = take(self.journal);
        after_applying(step, &self.fakes[index_of(node)].0);
    }

    fn replanned(&self, _node: &str, _step: &str, plan: &Plan) {
        if let Plan::Noop(why) = plan {
            self.state.lock().expect("recorder").replanned =
                Some((why.clone(), take(self.journal)));
        }
    }

    fn finished(&self, report: &StepReport) {
        if report.status == StepStatus::Failed {
            // The run stops here; run_scenario reports it.
            return;
        }
        let mut st = self.state.lock().expect("recorder");
        let st = &mut *st;
        // A cluster-wide step runs on db1.
        let me = if report.node == "cluster" {
            "db1"
        } else {
            report.node.as_str()
        };
        st.out.push_str(&format!(
            "\n== {} {}: {}\n",
            report.node, report.step, st.head
        ));
        st.out.push_str(&render_entries(&st.planned, me));
        if !st.applied.is_empty() {
            st.out.push_str("-- apply\n");
            st.out.push_str(&render_entries(&st.applied, me));
        }
        if let Some((why, entries)) = st.replanned.take() {
            st.out.push_str(&format!("-- re-plan: unchanged: {why}\n"));
            st.out.push_str(&render_entries(&entries, me));
            st.applied.extend(entries);
        }
        for (node, e) in std::mem::take(&mut st.planned)
            .into_iter()
            .chain(std::mem::take(&mut st.applied))
        {
            st.entries[index_of(&node)].push(e);
        }
    }
}

pub(super) fn take(j: &Journal) -> Vec<(String, JournalEntry)> {
    std::mem::take(&mut *j.lock().expect("journal"))
}

/// One line per entry; entries that happened on another node than `me` (the peer's
/// binlog position, a login from the peer) start with `[that node]`.
/// A `&'static str` for recorded rows built at run time (tests only; a few bytes).
pub(super) fn render_entries(entries: &[(String, JournalEntry)], me: &str) -> String {
    let mut out = String::new();
    for (node, e) in entries {
        if node != me {
            out.push_str(&format!("[{node}] "));
        }
        match e {
            JournalEntry::Command { script, stdin } => {
                out.push_str(&format!("$ {script}\n"));
                if let Some(input) = stdin {
                    for line in input.lines() {
                        out.push_str(&format!("  | {line}\n"));
                    }
                }
            }
            JournalEntry::Sql(sql) => out.push_str(&format!("sql> {sql}\n")),
            JournalEntry::Login {
                user,
                target,
                expired,
            } => out.push_str(&format!(
                "login {user} @ {target}{}\n",
                if *expired {
                    " (expired-password mode: CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS)"
                } else {
                    ""
                }
            )),
        }
    }
    out
}

pub(super) fn golden(name: &str, actual: &str) {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden/transcripts")
        .join(format!("{name}.txt"));
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let diff = similar::TextDiff::from_lines(expected.as_str(), actual)
            .unified_diff()
            .header("golden", "actual")
            .to_string();
        panic!(
            "{} differs from this run's transcript; run with UPDATE_GOLDEN=1 if intended:\n{diff}",
            path.display()
        );
    }
}

pub(super) fn transcript(s: &Scenario) -> (String, Vec<Vec<JournalEntry>>) {
    let (raw, secrets, entries) = run_scenario(s);
    // Secrets go only on stdin or into SQL, never into a command line.
    for node in &entries {
        for e in node {
            if let JournalEntry::Command { script, .. } = e {
                for secret in &secrets {
                    assert!(
                        !script.contains(secret.as_str()),
                        "{}: a secret in a command line: {script}",
                        s.name
                    );
                }
            }
        }
    }
    // Temporary passwords travel nowhere but the SSH channel of the login itself.
    for pw in TEMP_PASSWORDS.iter().chain(&FRESH_TEMP_PASSWORDS) {
        assert!(!raw.contains(pw), "{}: a temporary password shows", s.name);
    }
    let header = format!(
        "# mhactl bootstrap transcript: {} (golden; UPDATE_GOLDEN=1 rewrites it)\n\
         # Recorded host: {}, {}, systemd, firewalld, SELinux enforcing.\n\
         # Every command ($), SQL statement (sql>) and login each step runs on each node, in order;\n\
         # `-- apply` starts what the step's change ran, `-- re-plan` the engine's check that the step\n\
         # is now satisfied; `[db2]` marks what a step of db1 ran on its peer. Secrets are shown as ***.\n",
        s.name,
        crate::os::OsRelease::parse(s.os_release).pretty_name,
        if s.mariadb() {
            format!(
                "MariaDB {} from AppStream (module stream mariadb:{})",
                s.server_version.trim_end_matches("-MariaDB"),
                s.version
            )
        } else {
            format!("MySQL {} from the MySQL Yum repository", s.server_version)
        },
    );
    let text = crate::engine::redact(&format!("{header}{raw}"), &secrets);
    for secret in &secrets {
        assert!(
            !text.contains(secret.as_str()),
            "{}: a secret shows",
            s.name
        );
    }
    (text, entries)
}

pub(super) fn sql_of(entries: &[JournalEntry]) -> Vec<&str> {
    entries
        .iter()
        .filter_map(|e| match e {
            JournalEntry::Sql(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

pub(super) fn scripts_of(entries: &[JournalEntry]) -> Vec<&str> {
    entries
        .iter()
        .filter_map(|e| match e {
            JournalEntry::Command { script, .. } => Some(script.as_str()),
            _ => None,
        })
        .collect()
}
