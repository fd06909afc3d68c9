//! `server-config`'s part in other option files: a hand-built pair's own file read after
//! mhactl's drop-in (the runbook's `60-runbook.cnf`), or settings in `/etc/mysql/my.cnf`,
//! keep `slave_skip_errors`, `binlog_format=mixed`, ... in force over mhactl's values.
//! Bootstrap comments out exactly the competing lines ([`crate::os::option_overrides`],
//! which says why this and not moving the file or loading mhactl's last), each with a
//! dated `# mhactl:` note, after copying the file beside itself; owner, mode and label
//! stay. The edit is part of the step's change, so it shows in `--dry-run` as a diff and
//! reaches the server through the step's rolling restart (never the VIP holder while it
//! holds the VIP); when the server does not start with it, the file is put back with
//! mhactl's own.

use crate::dialect::Dialect;
use crate::engine::{file_diff, NodeHandle};
use crate::facts;
use crate::inventory::Inventory;
use crate::os::option_files::{self, ServerSetting};
use crate::os::option_overrides;
use anyhow::Result;
use std::collections::BTreeSet;

/// One option file to edit.
pub(crate) struct FileEdit {
    /// The file as the server names it.
    pub path: String,
    /// Its content now and with the competing lines commented out.
    pub before: String,
    pub after: String,
    /// Where the original is copied.
    pub backup: String,
    /// What is commented out (`binlog_format=mixed`).
    pub lines: Vec<String>,
}

impl FileEdit {
    /// The diff `--dry-run` and the summary show (secrets masked by `file_diff`).
    pub fn diff(&self) -> String {
        file_diff(&self.path, Some(&self.before), &self.after)
    }

    /// Back the file up, then write the edited content (content on stdin).
    pub fn command(&self) -> crate::transport::RemoteCommand {
        crate::transport::RemoteCommand::with_stdin(
            option_overrides::backup_and_replace_command(&self.path, &self.backup),
            self.after.clone().into_bytes(),
        )
    }

    /// Put the original back (the restart with the new files failed).
    pub fn undo(&self) -> String {
        option_overrides::restore_backup_command(&self.path, &self.backup)
    }

    /// For the step's summary: `comment out binlog_format=mixed, ... in FILE, ...`.
    pub fn describe(&self) -> String {
        format!(
            "comment out {} in {}, which would override mhactl's drop-in (the original is kept as {})",
            self.lines.join(", "),
            self.path,
            self.backup
        )
    }
}

/// The edits that leave mhactl's drop-in `own` (to hold `wanted`) the file whose values
/// the server runs with. Settings on the server's command line or in MySQL's
/// `SET PERSIST` file are not files mhactl edits: verify's `server-options` names them.
pub(crate) fn plan(
    node: &NodeHandle,
    inv: &Inventory,
    d: &Dialect,
    own: &str,
    wanted: &str,
) -> Result<Vec<FileEdit>> {
    let (files, settings) = facts::option_sources::option_files_with(node, d, Some((own, wanted)))?;
    let v = d.version();
    let reads = |g: &str| option_files::server_reads_group(g, v.flavor, v.major, v.minor);
    let rendered = rendered_settings(wanted, &reads);
    let skip: BTreeSet<String> = inv.mysql.skip_errors.iter().map(u32::to_string).collect();
    let competing: Vec<ServerSetting> =
        option_overrides::competing(own, &files, &settings, &rendered, &skip)
            .into_iter()
            .filter(|s| facts::option_sources::is_option_file(&s.path))
            .collect();
    let now = time::OffsetDateTime::now_utc();
    let date = format!(
        "{:04}-{:02}-{:02}",
        now.year(),
        u8::from(now.month()),
        now.day()
    );
    let stamp = format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    );
    let mut paths: Vec<&str> = competing.iter().map(|s| s.path.as_str()).collect();
    paths.dedup();
    let mut edits = Vec::new();
    for path in paths {
        let Some(before) = facts::host::option_file(node, path)? else {
            continue;
        };
        let mine: Vec<ServerSetting> = competing
            .iter()
            .filter(|s| s.path == path)
            .cloned()
            .collect();
        let backup = option_overrides::backup_path(path, &stamp);
        let note = option_overrides::note(&date, own, &backup);
        let after = option_overrides::comment_out(&before, &mine, &reads, &note);
        if after == before {
            continue;
        }
        let lines = mine
            .iter()
            .map(|s| match &s.value {
                Some(v) => format!("{}={v}", s.key),
                None => s.key.clone(),
            })
            .collect();
        edits.push(FileEdit {
            path: path.to_string(),
            before,
            after,
            backup,
            lines,
        });
    }
    Ok(edits)
}

/// What mhactl's file sets in the groups the server reads (keys normalised).
pub(crate) fn rendered_settings(
    text: &str,
    reads: &dyn Fn(&str) -> bool,
) -> Vec<(String, Option<String>)> {
    option_files::parse(text)
        .into_iter()
        .filter_map(|l| match l {
            option_files::Line::Setting { group, key, value } if reads(&group) => {
                Some((key, value))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
#[path = "option_overrides_tests.rs"]
mod tests;
