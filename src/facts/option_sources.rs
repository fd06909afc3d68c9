//! The option files a running server read and every server setting in them, in the
//! order the server applies them (the compiled-in list and its includes, then the
//! server's command line, then MySQL's `SET PERSIST` file; a later setting wins). Built
//! from facts (the default file list, the files, `!includedir` listings, the pid file,
//! `/proc/PID/cmdline`) with the pure parsers of [`crate::os::option_files`]. Shared by
//! verify's `server-options` check, adopt's report and bootstrap's `server-config` step
//! (which comments out what overrides mhactl's drop-in). While planning ahead the chain
//! and the server's command line are read in one command each ([`super::option_chain`]).

use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use crate::os::option_files::{self, ServerSetting};
use anyhow::Result;
use std::path::Path;

/// How a setting on the server's command line is named (it is no file: nothing to edit).
pub const COMMAND_LINE: &str = "the server's command line";

/// The suffix of the label of MySQL's `SET PERSIST` file (no option file to edit either).
pub const PERSISTED_SUFFIX: &str = " (SET PERSIST)";

/// The option files as the running server read them, then its command line, then MySQL's
/// `SET PERSIST` file, and every server setting in them, in that order.
pub fn collect(node: &NodeHandle, d: &Dialect) -> Result<(Vec<String>, Vec<ServerSetting>)> {
    if node.transport.is_speculating() {
        // Planning ahead: the data directory (for the `SET PERSIST` file) in the same
        // pass as the pid file, not after the walk.
        let _ = super::variable(node, "datadir");
    }
    let cmdline = server_command_line(node).unwrap_or_default();
    let (mut files, mut settings) = files_with(node, d, &cmdline, None)?;
    if !cmdline.settings.is_empty() {
        files.push(COMMAND_LINE.to_string());
        settings.extend(
            cmdline
                .settings
                .into_iter()
                .map(|(key, value)| ServerSetting {
                    path: COMMAND_LINE.to_string(),
                    key,
                    value,
                }),
        );
    }
    let persisted = super::variable(node, "datadir")?.map(|dir| {
        format!(
            "{}/{}",
            dir.trim_end_matches('/'),
            option_files::PERSISTED_FILE
        )
    });
    if let Some(path) = persisted {
        if let Some(text) = super::host::option_file(node, &path)? {
            let label = format!("{path}{PERSISTED_SUFFIX}");
            for (key, value) in option_files::parse_persisted(&text) {
                settings.push(ServerSetting {
                    path: label.clone(),
                    key,
                    value: Some(value),
                });
            }
            files.push(label);
        }
    }
    Ok((files, settings))
}

/// Only the option files (as the server's command line chooses them) and their
/// settings, as they will be once `planned.0` holds `planned.1`: what bootstrap can
/// edit, before it writes its drop-in for the first time.
pub fn option_files_with(
    node: &NodeHandle,
    d: &Dialect,
    planned: Option<(&str, &str)>,
) -> Result<(Vec<String>, Vec<ServerSetting>)> {
    let cmdline = server_command_line(node).unwrap_or_default();
    files_with(node, d, &cmdline, planned)
}

fn files_with(
    node: &NodeHandle,
    d: &Dialect,
    cmdline: &option_files::CommandLine,
    planned: Option<(&str, &str)>,
) -> Result<(Vec<String>, Vec<ServerSetting>)> {
    let v = d.version();
    let reads = |g: &str| option_files::server_reads_group(g, v.flavor, v.major, v.minor);
    // Planning ahead: every level of the chain in one read (facts::option_chain).
    super::option_chain::read_ahead_chain(node)?;
    let defaults = super::get::<super::host::DefaultOptionFiles>(node, &())?;
    option_files::server_settings(
        &option_files::start_files(defaults, cmdline),
        &reads,
        &mut |p| match planned {
            Some((path, text)) if path == p => Ok(Some(text.to_string())),
            // Planning ahead: every file of the list in one batch (facts::prefetch).
            _ => super::get_or_placeholder::<super::host::OptionFile>(node, Path::new(p), None),
        },
        &mut |dir| {
            let listing = super::get_or_placeholder::<super::host::OptionDirListing>(
                node,
                dir,
                String::new(),
            )?;
            Ok(match planned.and_then(|(path, _)| path.rsplit_once('/')) {
                Some((parent, name))
                    if parent == dir.trim_end_matches('/')
                        && !listing.lines().any(|l| l.trim() == name) =>
                {
                    format!("{listing}{name}\n")
                }
                _ => listing,
            })
        },
    )
}

/// Is `source` (an entry of [`collect`]'s file list) an option file mhactl could edit,
/// rather than the command line or the `SET PERSIST` file?
pub fn is_option_file(source: &str) -> bool {
    source != COMMAND_LINE && !source.ends_with(PERSISTED_SUFFIX)
}

/// The running server's command line (from its pid file and `/proc`); `None` when it
/// cannot be read (then only option files are named).
fn server_command_line(node: &NodeHandle) -> Option<option_files::CommandLine> {
    let pid_file = super::variable(node, "pid_file").ok()??;
    // Planning ahead: the pid file and the command line it names in one read.
    super::option_chain::read_ahead_process(node, &pid_file).ok()?;
    let pid = super::host::option_file(node, &pid_file).ok()??;
    let pid = pid.trim();
    if pid.is_empty() || !pid.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let cmdline = super::host::option_file(node, &format!("/proc/{pid}/cmdline")).ok()??;
    Some(option_files::parse_cmdline(&cmdline))
}
