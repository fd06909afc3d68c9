//! verify's `server-options` check: the values the running server uses, not the file
//! mhactl wrote. Another option file read after mhactl's (a runbook's drop-in), a
//! `SET GLOBAL` or a server not restarted since bootstrap can keep other values in force
//! while mhactl's drop-in still "matches the inventory". For every `[mysqld]` setting
//! mhactl renders, the running value is compared with the rendered one; replication and
//! binary-log filters and skipped errors must be exactly what the inventory asks for
//! (none, unless it asks). A difference names the variable, both values and the option
//! file that sets the running value ([`crate::os::option_files`]).

use super::registry::{CheckKind, Fact, Run, Scope, When};
use super::{Check, Severity};
use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use crate::inventory::Inventory;
use crate::os::option_files::{self, ServerSetting};
use crate::os::OsTarget;
use anyhow::Result;
use std::collections::BTreeSet;

const NAME: &str = SERVER_OPTIONS.name;

/// `server-options`: the running server uses every value mhactl renders.
pub const SERVER_OPTIONS: CheckKind = CheckKind {
    name: "server-options",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[
        Fact::Variables,
        Fact::ReplicaStatus,
        Fact::BinlogStatus,
        Fact::OptionFiles,
    ],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(check(c.host.node, c.host.inv, c.dialect, c.host.target)),
        listed_when_sql_down: true,
    },
};

/// Rendered options that are not server variables (checked elsewhere or not at all).
const NOT_VARIABLES: &[&str] = &["plugin_load_add"];

/// Filters as `SHOW REPLICA STATUS` shows them: (column, the option that sets it).
const REPLICA_FILTERS: &[(&str, &str)] = &[
    ("Replicate_Do_DB", "replicate_do_db"),
    ("Replicate_Ignore_DB", "replicate_ignore_db"),
    ("Replicate_Do_Table", "replicate_do_table"),
    ("Replicate_Ignore_Table", "replicate_ignore_table"),
    ("Replicate_Wild_Do_Table", "replicate_wild_do_table"),
    ("Replicate_Wild_Ignore_Table", "replicate_wild_ignore_table"),
    ("Replicate_Rewrite_DB", "replicate_rewrite_db"),
];

/// Filters as the binary log status shows them.
const BINLOG_FILTERS: &[(&str, &str)] = &[
    ("Binlog_Do_DB", "binlog_do_db"),
    ("Binlog_Ignore_DB", "binlog_ignore_db"),
];

/// The option files the server reads and what they set, for naming an overriding file.
struct Sources {
    /// mhactl's drop-in.
    own: String,
    /// Files read, in order.
    files: Vec<String>,
    /// Server settings, in reading order.
    settings: Vec<ServerSetting>,
    /// Why the files could not be read, if they could not.
    error: Option<String>,
}

use crate::facts::option_sources::COMMAND_LINE;

impl Sources {
    fn read(node: &NodeHandle, d: &Dialect, target: &OsTarget) -> Sources {
        let own = target.config_path().to_string();
        match Self::collect(node, d) {
            Ok((files, settings)) => Sources {
                own,
                files,
                settings,
                error: None,
            },
            Err(e) => Sources {
                own,
                files: Vec::new(),
                settings: Vec::new(),
                error: Some(format!("{e:#}")),
            },
        }
    }

    fn collect(node: &NodeHandle, d: &Dialect) -> Result<(Vec<String>, Vec<ServerSetting>)> {
        crate::facts::option_sources::collect(node, d)
    }

    /// Who sets a single-valued option (the last file that does wins).
    fn explain_single(&self, keys: &[&str]) -> String {
        if let Some(e) = &self.error {
            return format!("cannot tell which option file sets it ({e})");
        }
        let last = self
            .settings
            .iter()
            .rev()
            .find(|s| keys.contains(&s.key.as_str()));
        match last {
            Some(s) if s.path == self.own => format!(
                "mhactl's {} sets the wanted value, so the server was not restarted since, \
                 or it was changed with SET GLOBAL (restart the server)",
                self.own
            ),
            Some(s) => format!(
                "set to `{}` by {}, {}",
                s.value.as_deref().unwrap_or("ON"),
                s.path,
                self.position(&s.path)
            ),
            None => "no option file sets it (the command line or SET GLOBAL does)".to_string(),
        }
    }

    /// Who adds values to a multi-valued option (filters accumulate over all files).
    fn explain_multi(&self, key: &str, unwanted: &BTreeSet<String>) -> String {
        if let Some(e) = &self.error {
            return format!("cannot tell which option file sets it ({e})");
        }
        let by: Vec<String> = self
            .settings
            .iter()
            .filter(|s| s.key == key && s.path != self.own)
            .filter(|s| {
                s.value
                    .as_deref()
                    .is_some_and(|v| unwanted.iter().any(|u| u == v.trim()))
            })
            .map(|s| {
                format!(
                    "`{}` by {}, {}",
                    s.value.as_deref().unwrap_or(""),
                    s.path,
                    self.position(&s.path)
                )
            })
            .collect();
        if by.is_empty() {
            "no option file but mhactl's sets it (the command line, CHANGE REPLICATION FILTER \
             or a server not restarted since)"
                .to_string()
        } else {
            format!("set {}", by.join("; "))
        }
    }

    fn position(&self, path: &str) -> String {
        if path == COMMAND_LINE {
            return "which wins over every option file".to_string();
        }
        let at = |p: &str| self.files.iter().rposition(|f| f == p);
        match (at(path), at(&self.own)) {
            (Some(a), Some(b)) if a > b => format!("read after mhactl's {}", self.own),
            (Some(_), Some(_)) => format!("read before mhactl's {}", self.own),
            (_, None) => format!("and the server does not read mhactl's {}", self.own),
            (None, _) => "an option file".to_string(),
        }
    }
}

/// Which option file sets the running value of an option mhactl does not render (named
/// by its normalised `keys`), for other checks' details.
pub fn who_sets(node: &NodeHandle, d: &Dialect, target: &OsTarget, keys: &[&str]) -> String {
    Sources::read(node, d, target).explain_single(keys)
}

/// One value compared.
enum Wanted {
    /// A plain value (`ON` and `1` alike, numbers by value, case ignored).
    Value(String),
    /// A log's base name (`mysql-bin`) against the server's `*_basename` path.
    BaseName(String),
    /// A path (trailing `/` ignored).
    Path(String),
    /// `slave_skip_errors`' codes (`OFF`: none).
    ErrorCodes(BTreeSet<String>),
}

/// The check on one node.
pub fn check(node: &NodeHandle, inv: &Inventory, d: &Dialect, target: &OsTarget) -> Result<Check> {
    let n = node.name.as_str();
    // Without the start-up fence (`read_only`, `super_read_only`): at run time the fence
    // agent sets them, and `write-fencing` checks them against the VIP.
    let rendered = crate::render::render_my_cnf_fenced(inv, node.index, d, target, false)?;
    let v = d.version();
    let wanted: Vec<(String, Option<String>)> = option_files::parse(&rendered)
        .into_iter()
        .filter_map(|l| match l {
            option_files::Line::Setting { group, key, value }
                if option_files::server_reads_group(&group, v.flavor, v.major, v.minor) =>
            {
                Some((key, value))
            }
            _ => None,
        })
        .collect();
    // Which file sets what is read only to explain a difference (it costs a few round
    // trips and `mysqld --verbose --help`; a healthy verify stays fast).
    let sources_cell = std::cell::OnceCell::new();
    let sources = || sources_cell.get_or_init(|| Sources::read(node, d, target));
    if node.transport.is_speculating() {
        // Planning ahead (prefetch): the option-file chain (the default list, the files,
        // their includes) is several reads deep; start it in the first pass that knows
        // the server rather than after the values below.
        let _ = sources();
    }
    let mut problems = Vec::new();
    let mut compared = 0;

    let multi: Vec<&str> = REPLICA_FILTERS
        .iter()
        .chain(BINLOG_FILTERS)
        .map(|(_, k)| *k)
        .collect();
    let skip_keys = ["slave_skip_errors", "replica_skip_errors"];
    // Where semi-sync's source side follows the VIP the fence agent sets it at run time
    // (the file's OFF is for the next start) and `semi-sync` checks it against the VIP.
    let agent_owned = d
        .semi_sync_source_follows_vip(inv.mysql.semi_sync, inv.writes)
        .then(|| d.semi_sync_names().source_enabled);
    // (variable, wanted, the option names that set it), from every rendered setting.
    let mut expected: Vec<(String, Wanted, Vec<String>)> = Vec::new();
    for (key, value) in &wanted {
        let key = key.as_str();
        if NOT_VARIABLES.contains(&key)
            || multi.contains(&key)
            || skip_keys.contains(&key)
            || agent_owned == Some(key)
        {
            continue;
        }
        let value = value.clone().unwrap_or_else(|| "ON".into());
        let (variable, want, keys): (&str, Wanted, Vec<&str>) = match key {
            "log_bin" => (
                "log_bin_basename",
                Wanted::BaseName(value),
                vec!["log_bin", "skip_log_bin", "disable_log_bin"],
            ),
            "relay_log" => ("relay_log_basename", Wanted::BaseName(value), vec![key]),
            "datadir" | "socket" | "log_error" | "pid_file" => {
                (key, Wanted::Path(value), vec![key])
            }
            "binlog_expire_logs_seconds" | "expire_logs_days" => (
                key,
                Wanted::Value(value),
                vec!["binlog_expire_logs_seconds", "expire_logs_days"],
            ),
            _ => (key, Wanted::Value(value), vec![key]),
        };
        let keys = keys.into_iter().map(str::to_string).collect();
        expected.push((variable.to_string(), want, keys));
    }
    // Skipped replication errors: exactly the inventory's (none unless it asks).
    let skip_option = d.skip_errors_option();
    let want_skip: BTreeSet<String> = inv.mysql.skip_errors.iter().map(u32::to_string).collect();
    expected.push((
        skip_option.to_string(),
        Wanted::ErrorCodes(want_skip.clone()),
        skip_keys.iter().map(|k| k.to_string()).collect(),
    ));

    // One query for all of them.
    let names: Vec<String> = expected.iter().map(|(v, _, _)| v.clone()).collect();
    let values = crate::facts::get::<crate::facts::tables::GlobalVariables>(node, &names)?;
    let running_value = |variable: &str| {
        values
            .iter()
            .find(|(name, _)| name == variable)
            .and_then(|(_, value)| value.clone())
    };
    for (variable, want, keys) in &expected {
        compared += 1;
        let Some(running) = running_value(variable) else {
            problems.push(format!(
                "{variable}: the server has no such variable, so it ignores the setting"
            ));
            continue;
        };
        let (ok, shown) = match want {
            Wanted::Value(w) => (same_value(&running, w), w.clone()),
            Wanted::Path(w) => (
                running.trim_end_matches('/') == w.trim_end_matches('/'),
                w.clone(),
            ),
            Wanted::BaseName(w) => {
                let ok = if w.starts_with('/') {
                    running == *w
                } else {
                    running.rsplit('/').next() == Some(w.as_str())
                };
                (ok, format!("<datadir>/{w}"))
            }
            Wanted::ErrorCodes(w) => (
                error_codes(&running) == *w,
                if w.is_empty() {
                    "OFF".to_string()
                } else {
                    w.iter().cloned().collect::<Vec<_>>().join(",")
                },
            ),
        };
        if !ok {
            let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
            problems.push(format!(
                "{variable}: the server runs with `{running}`, the inventory wants `{shown}`; {}",
                sources().explain_single(&keys)
            ));
        }
    }

    // Filters: those in force must be exactly the rendered ones.
    let replica = crate::facts::get::<crate::facts::server::ReplicaStatusFact>(node, &())?.rows;
    let binlog = crate::facts::get::<crate::facts::server::BinlogStatus>(node, &())?.rows;
    for (rows, filters) in [(replica, REPLICA_FILTERS), (binlog, BINLOG_FILTERS)] {
        // No replica or no binary log: other checks fail; there are no filters to read.
        let Some(row) = rows.into_iter().next() else {
            continue;
        };
        for (column, key) in filters {
            let Some(running) = crate::sql::get(&row, column) else {
                continue;
            };
            compared += 1;
            let running = list(running);
            let want: BTreeSet<String> = wanted
                .iter()
                .filter(|(k, _)| k == key)
                .filter_map(|(_, v)| v.as_deref().map(|v| v.trim().to_string()))
                .collect();
            if running != want {
                let unwanted: BTreeSet<String> = running.difference(&want).cloned().collect();
                problems.push(format!(
                    "{key}: the server runs with `{}`, the inventory wants `{}`; {}",
                    join(&running),
                    join(&want),
                    sources().explain_multi(key, &unwanted)
                ));
            }
        }
    }

    // Files that compete with mhactl's drop-in although the running values match today
    // (the same value, a server not restarted since, SET GLOBAL): the next change to the
    // inventory, or the next restart, would not take effect. bootstrap comments these
    // lines out (crate::os::option_overrides).
    let overriding = competing_lines(sources(), &wanted, &want_skip);
    if problems.is_empty() && !overriding.is_empty() {
        return Ok(Check::warn(
            NAME,
            n,
            format!(
                "the server runs with every value mhactl renders ({compared} settings and \
                 filters), but other option files set them too and would win: {}; run \
                 bootstrap (it comments these lines out) or remove them",
                overriding.join("; ")
            ),
        ));
    }
    if !overriding.is_empty() {
        problems.push(format!(
            "option files that override mhactl's {}: {} (bootstrap comments these lines out)",
            sources().own,
            overriding.join("; ")
        ));
    }

    Ok(if problems.is_empty() {
        Check::pass(
            NAME,
            n,
            format!(
                "the server runs with every value mhactl renders ({compared} settings and \
                 filters)"
            ),
        )
    } else {
        Check::fail(NAME, n, problems.join("\n"))
    })
}

/// The settings of other sources that compete with mhactl's drop-in
/// ([`crate::os::option_overrides::competing`]), as `FILE: key=value` (none when the
/// sources could not be read: the differences above say so).
fn competing_lines(
    sources: &Sources,
    wanted: &[(String, Option<String>)],
    skip: &BTreeSet<String>,
) -> Vec<String> {
    if sources.error.is_some() {
        return Vec::new();
    }
    let competing = crate::os::option_overrides::competing(
        &sources.own,
        &sources.files,
        &sources.settings,
        wanted,
        skip,
    );
    let mut by_file: Vec<(String, Vec<String>)> = Vec::new();
    // Only option files, which bootstrap can edit: the command line (mysqld_safe passes
    // its own group's log_error and port from mhactl's file) and the SET PERSIST file
    // compete only when their value differs, which the comparison above reports.
    for s in competing
        .into_iter()
        .filter(|s| crate::facts::option_sources::is_option_file(&s.path))
    {
        let line = match &s.value {
            Some(v) => format!("{}={v}", s.key),
            None => s.key.clone(),
        };
        match by_file.iter_mut().find(|(f, _)| *f == s.path) {
            Some((_, lines)) => lines.push(line),
            None => by_file.push((s.path.clone(), vec![line])),
        }
    }
    by_file
        .into_iter()
        .map(|(file, lines)| format!("{file} ({}): {}", sources.position(&file), lines.join(", ")))
        .collect()
}

/// A comma-separated list as a set.
fn list(v: &str) -> BTreeSet<String> {
    v.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn join(set: &BTreeSet<String>) -> String {
    if set.is_empty() {
        "(none)".to_string()
    } else {
        set.iter().cloned().collect::<Vec<_>>().join(",")
    }
}

/// Error codes of `slave_skip_errors` (`OFF` and empty: none).
fn error_codes(v: &str) -> BTreeSet<String> {
    if v.trim().eq_ignore_ascii_case("off") {
        return BTreeSet::new();
    }
    list(v)
}

/// Do a running value and a rendered one mean the same? (The dialect's comparison, which
/// bootstrap also uses to check a `SET GLOBAL`.)
fn same_value(running: &str, wanted: &str) -> bool {
    crate::dialect::same_running_value(running, wanted)
}

#[cfg(test)]
#[path = "server_options_tests.rs"]
mod fixture_tests;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_compare_as_the_server_means_them() {
        assert!(same_value("ON", "1"));
        assert!(same_value("OFF", "0"));
        assert!(same_value("ROW", "row"));
        assert!(same_value("604800", "0604800"));
        assert!(same_value("7.000000", "7"));
        assert!(!same_value("2", "1"));
        assert!(!same_value("MIXED", "ROW"));
        assert_eq!(error_codes("OFF"), BTreeSet::new());
        assert_eq!(error_codes("1062,1032"), list("1032, 1062"));
    }
}
