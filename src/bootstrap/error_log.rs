//! The server's error log in bootstrap: its directory exists before the server is
//! told to write there (`server-paths`), and when the server does not start or
//! restart, the failure quotes what the server itself wrote to it (node, file, last
//! lines, masked by [`crate::os::error_log::quotable_lines`]).

use crate::engine::{Action, NodeHandle};
use crate::inventory::Inventory;
use crate::os::error_log;
use crate::os::OsTarget;
use crate::transport::{RemoteCommand, Transport};
use anyhow::{anyhow, Result};
use std::path::Path;

/// The error log the rendered my.cnf names: the inventory's `mysql.log_error`, else
/// this system's default ([`OsTarget::error_log_path`]).
pub fn server_error_log(inv: &Inventory, target: &OsTarget) -> String {
    super::paths::initialise_log(inv, target)
}

/// Without `mysql.log_error`, the default error log's directory when it is missing
/// (Debian's MariaDB packages create no `/var/log/mysql`): what to do about it. The
/// inventory's own paths are `server-paths`' business ([`super::paths::server_paths`]).
pub fn default_dir_action(
    inv: &Inventory,
    t: &dyn Transport,
    target: &OsTarget,
) -> Result<Option<(String, Action)>> {
    if inv.mysql.log_error.is_some() {
        return Ok(None);
    }
    let log = server_error_log(inv, target);
    let Some(dir) = Path::new(&log).parent().map(|d| d.display().to_string()) else {
        return Ok(None);
    };
    // A file directly in /var/log: nothing to create.
    if super::paths::SYSTEM_DIRS.contains(&dir.as_str()) {
        return Ok(None);
    }
    let probe = t.run(&RemoteCommand::new(error_log::dir_exists_command(&dir)))?;
    if probe.success() {
        return Ok(None);
    }
    Ok(Some((
        format!("create {dir} for the server's error log {log}"),
        Action::Run(RemoteCommand::new(error_log::ensure_dir_command(&dir))),
    )))
}

/// The error log's size now, so that a failure quotes only what came after.
pub fn size(node: &NodeHandle, log: &str) -> u64 {
    node.transport
        .run(&RemoteCommand::new(error_log::size_command(log)))
        .ok()
        .and_then(|o| o.stdout.trim().parse().ok())
        .unwrap_or(0)
}

/// What the server wrote to `log` since it was `since` bytes long, as a sentence to
/// add to a failure: never fails (a failure to read the log is said instead).
pub fn excerpt(node: &NodeHandle, log: &str, since: u64) -> String {
    let out = node
        .transport
        .run(&RemoteCommand::new(error_log::tail_since_command(
            log, since,
        )));
    match out {
        Ok(o) if o.stdout.trim() == "mhactl: no such file" => format!(
            "the server wrote no error log: {log} does not exist on {}",
            node.name
        ),
        Ok(o) => match error_log::quotable_lines(&o.stdout) {
            Some(lines) => format!(
                "last lines of the server's error log {log} on {}:\n    {}",
                node.name,
                lines.join("\n    ")
            ),
            None => format!(
                "the server's error log {log} on {} has no new lines",
                node.name
            ),
        },
        Err(e) => format!("cannot read the error log {log} on {}: {e:#}", node.name),
    }
}

/// Run `start` (a start or restart of the server), quoting the error log's new lines
/// when it fails.
pub fn quoting_errors(
    node: &NodeHandle,
    log: &str,
    start: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let since = size(node, log);
    start().map_err(|e| anyhow!("{e:#}; {}", excerpt(node, log, since)))
}
