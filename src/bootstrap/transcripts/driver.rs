//! Drives one scenario's whole bootstrap over the fakes and turns what the steps asked of
//! the nodes into the transcript text; compares it with its golden file.

use super::recordings::{
    after_applying, after_planning, bare_host, FRESH_TEMP_PASSWORDS, REPL_PASSWORD, ROOT_PASSWORD,
    TEMP_PASSWORDS,
};
use super::scenarios::{ctx, Scenario};
use crate::bootstrap::steps::all;
use crate::engine::{Cluster, NodeHandle, Plan};
use crate::transport::fake::{FakeSql, FakeTransport, Journal, JournalEntry};
use std::path::PathBuf;
use std::sync::Arc;

pub(super) fn run_scenario(s: &Scenario) -> (String, Vec<String>, Vec<Vec<JournalEntry>>) {
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
    let mut out = String::new();
    let mut all_entries = vec![Vec::new(), Vec::new()];
    for op in all(ctx.clone()) {
        let targets: Vec<usize> = if op.cluster_wide() {
            vec![0]
        } else {
            vec![0, 1]
        };
        for i in targets {
            let (t, sql) = &fakes[i];
            let who = if op.cluster_wide() {
                "cluster".to_string()
            } else {
                cluster.nodes[i].name.clone()
            };
            let plan = op
                .plan(&cluster, i)
                .unwrap_or_else(|e| panic!("{}: {who}: {}: {e:#}", s.name, op.name()));
            let head = match &plan {
                Plan::Noop(why) => format!("unchanged: {why}"),
                Plan::Change(c) => format!("change: {}", c.summary),
            };
            let me = cluster.nodes[i].name.clone();
            let mut planned_entries = take(&journal);
            let mut applied_entries = Vec::new();
            let mut replanned = None;
            if let Plan::Change(change) = &plan {
                after_planning(s, op.name(), i, t, sql);
                for action in &change.actions {
                    crate::engine::execute(&cluster, &cluster.nodes[i], action).unwrap_or_else(
                        |e| {
                            panic!(
                                "{}: {who}: {}: {}: {e:#}",
                                s.name,
                                op.name(),
                                action.describe()
                            )
                        },
                    );
                }
                applied_entries = take(&journal);
                after_applying(op.name(), t);
                // As the engine does: plan again; a correct step has nothing left to do.
                match op.plan(&cluster, i) {
                    Ok(Plan::Noop(why)) => replanned = Some((why, take(&journal))),
                    Ok(Plan::Change(again)) => panic!(
                        "{}: {who}: {}: not converged after applying: would now {}",
                        s.name,
                        op.name(),
                        again.summary
                    ),
                    Err(e) => panic!("{}: {who}: {}: re-plan: {e:#}", s.name, op.name()),
                }
            }
            out.push_str(&format!("\n== {who} {}: {head}\n", op.name()));
            out.push_str(&render_entries(&planned_entries, &me));
            if !applied_entries.is_empty() {
                out.push_str("-- apply\n");
                out.push_str(&render_entries(&applied_entries, &me));
            }
            if let Some((why, entries)) = replanned {
                out.push_str(&format!("-- re-plan: unchanged: {why}\n"));
                out.push_str(&render_entries(&entries, &me));
                applied_entries.extend(entries);
            }
            for (node, e) in planned_entries.drain(..).chain(applied_entries.drain(..)) {
                let n = if node == "db1" { 0 } else { 1 };
                all_entries[n].push(e);
            }
        }
    }
    (out, cluster.secrets.clone(), all_entries)
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
