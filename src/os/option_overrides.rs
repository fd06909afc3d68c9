//! Option files that override mhactl's drop-in (a hand-built pair's `60-runbook.cnf`
//! read after `60-mhactl.cnf`, settings in `/etc/mysql/my.cnf`, ...): which of their
//! settings compete with mhactl's, the same file with exactly those lines commented out
//! (a dated `# mhactl:` note on each), and the commands that back the file up beside
//! itself and replace its content without changing its owner, mode or SELinux label.
//!
//! Why comment out lines rather than move the file aside or load mhactl's file last: the
//! user's file usually also holds tuning mhactl knows nothing about (buffer pool sizes,
//! `bind-address`, ...), which must stay; loading mhactl's file last would still leave
//! the filters (`replicate-do-db`, which accumulate over every file) and the skipped
//! errors mhactl renders no line for (`slave_skip_errors` when the inventory lists no
//! code) in force. The decision is pure; bootstrap's `server-config` step applies it and
//! verify's `server-options` check reports what is left.

use super::option_files::ServerSetting;
use crate::transport::shell_quote;
use std::collections::BTreeSet;

/// Options that accumulate over every file (each line adds a value).
pub const MULTI_VALUED: &[&str] = &[
    "replicate_do_db",
    "replicate_ignore_db",
    "replicate_do_table",
    "replicate_ignore_table",
    "replicate_wild_do_table",
    "replicate_wild_ignore_table",
    "replicate_rewrite_db",
    "binlog_do_db",
    "binlog_ignore_db",
];

/// Skipped replication errors, under either name: mhactl decides them even when it
/// renders no line (the inventory's `mysql.skip_errors` is empty: none).
pub const SKIP_ERRORS: &[&str] = &["slave_skip_errors", "replica_skip_errors"];

/// Names that set the same thing as a rendered option (the server takes either).
const ALIASES: &[&[&str]] = &[
    &["log_bin", "skip_log_bin", "disable_log_bin"],
    &[
        "binlog_expire_logs_seconds",
        "expire_logs_days",
        "binlog_expire_logs_days",
    ],
    &["log_slave_updates", "log_replica_updates"],
    &["slave_skip_errors", "replica_skip_errors"],
];

/// The keys a rendered option stands for (itself and its aliases).
fn family(key: &str) -> Vec<&str> {
    ALIASES
        .iter()
        .find(|names| names.contains(&key))
        .map(|names| names.to_vec())
        .unwrap_or_else(|| vec![key])
}

/// The settings of other option files that compete with mhactl's drop-in `own`.
///
/// `files` and `settings` are the server's, in reading order (see
/// [`super::option_files::server_settings`]); `rendered` is what mhactl's file sets (in
/// the groups the server reads, keys normalised); `skip_codes` the error codes the
/// inventory lets the replica skip. A setting in another file competes when:
/// - it is a filter ([`MULTI_VALUED`]) with a value mhactl does not render (filters
///   accumulate: wherever the file is read, the value is in force);
/// - it sets skipped errors ([`SKIP_ERRORS`]) to other codes than the inventory's and
///   either mhactl renders no such line or the file is read after mhactl's;
/// - it sets any other option mhactl renders (or an alias of it) and is read after
///   mhactl's file, so its value wins; also when the value is the same today, because
///   the next inventory change would silently not take effect.
///
/// Files read before mhactl's (the packaged `50-server.cnf`) lose anyway and are left
/// alone. Nothing competes when the server does not read `own` at all (other checks say
/// so). The command line and `SET PERSIST` are returned too: the caller decides what it
/// can edit.
pub fn competing(
    own: &str,
    files: &[String],
    settings: &[ServerSetting],
    rendered: &[(String, Option<String>)],
    skip_codes: &BTreeSet<String>,
) -> Vec<ServerSetting> {
    let Some(own_at) = files.iter().rposition(|f| f == own) else {
        return Vec::new();
    };
    let after_own = |path: &str| {
        files
            .iter()
            .rposition(|f| f == path)
            .is_some_and(|at| at > own_at)
    };
    let rendered_keys: BTreeSet<&str> = rendered.iter().flat_map(|(k, _)| family(k)).collect();
    settings
        .iter()
        .filter(|s| s.path != own)
        .filter(|s| {
            let key = s.key.as_str();
            if MULTI_VALUED.contains(&key) {
                let value = s.value.as_deref().unwrap_or("").trim();
                !rendered
                    .iter()
                    .any(|(k, v)| k == key && v.as_deref().map(str::trim) == Some(value))
            } else if SKIP_ERRORS.contains(&key) {
                let codes = error_codes(s.value.as_deref().unwrap_or(""));
                codes != *skip_codes && (after_own(&s.path) || !rendered_keys.contains(key))
            } else {
                rendered_keys.contains(key) && after_own(&s.path)
            }
        })
        .cloned()
        .collect()
}

/// Error codes of a skipped-errors value (`OFF` and empty: none).
pub fn error_codes(v: &str) -> BTreeSet<String> {
    if v.trim().eq_ignore_ascii_case("off") {
        return BTreeSet::new();
    }
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

/// `text` (an option file) with the lines that set `competing` (settings of this file:
/// key and value, in a group `reads_group` accepts) commented out, each as
/// `# mhactl: LINE  -- NOTE`. Lines are matched by group, normalised key and value, so
/// the same key in a group the server does not read (`[client]`) stays.
pub fn comment_out(
    text: &str,
    competing: &[ServerSetting],
    reads_group: &dyn Fn(&str) -> bool,
    note: &str,
) -> String {
    let mut out = String::with_capacity(text.len() + 128);
    let mut group = String::new();
    for raw in text.split_inclusive('\n') {
        let line = raw.trim();
        let body = raw.trim_end_matches(['\n', '\r']);
        let ending = &raw[body.len()..];
        if let Some(g) = super::option_files::group_header(line) {
            group = g;
        } else if !line.is_empty() && !line.starts_with(['#', ';', '!']) && reads_group(&group) {
            // The same parse as the server's reading (option_files::parse) for one line.
            let setting = super::option_files::parse(&format!("[{group}]\n{line}\n"));
            if let Some(super::option_files::Line::Setting { key, value, .. }) = setting.first() {
                let hit = competing.iter().any(|c| c.key == *key && c.value == *value);
                if hit {
                    out.push_str(&format!("# mhactl: {}  -- {note}{ending}", body.trim()));
                    continue;
                }
            }
        }
        out.push_str(raw);
    }
    out
}

/// The note on each commented-out line: when, why, and where the original is.
pub fn note(date: &str, own: &str, backup: &str) -> String {
    format!("commented out {date}: mhactl's {own} sets it (the original file is {backup})")
}

/// The backup beside `path` (`60-runbook.cnf.mhactl-20261127T091500Z`): its name does not
/// end in `.cnf`, so an `!includedir` never reads it.
pub fn backup_path(path: &str, stamp: &str) -> String {
    format!("{path}.mhactl-{stamp}")
}

/// Copy `path` to `backup` (owner, mode, times and label kept), then replace the content
/// of the file `path` names (a symlink's target: `/etc/mysql/my.cnf` is one on Debian)
/// with the command's stdin, through a copy of it renamed over it, so its owner, mode and
/// SELinux label stay and a reader never sees half a file.
pub fn backup_and_replace_command(path: &str, backup: &str) -> String {
    format!(
        "f=$(readlink -f -- {p}) && cp -a -- \"$f\" {b} && cp -a -- \"$f\" \"$f.mhactl-new\" \
         && cat > \"$f.mhactl-new\" && mv -f -- \"$f.mhactl-new\" \"$f\"",
        p = shell_quote(path),
        b = shell_quote(backup),
    )
}

/// Put `backup` back as the content of the file `path` names (owner, mode and label of
/// the backup, which are the original's).
pub fn restore_backup_command(path: &str, backup: &str) -> String {
    format!(
        "f=$(readlink -f -- {p}) && cp -a -- {b} \"$f.mhactl-new\" && mv -f -- \"$f.mhactl-new\" \"$f\"",
        p = shell_quote(path),
        b = shell_quote(backup),
    )
}

#[cfg(test)]
#[path = "option_overrides_tests.rs"]
mod tests;
