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

/// Where the error log and the journal stand now, so that a failure quotes only what
/// came after: (bytes in the file, the node's clock in epoch seconds).
pub fn mark(node: &NodeHandle, log: &str) -> (u64, u64) {
    node.transport
        .run(&RemoteCommand::new(error_log::size_command(log)))
        .map(|o| error_log::parse_size(&o.stdout))
        .unwrap_or((0, 0))
}

/// What the server wrote to `log` since it was `since` bytes long (its errors, or its
/// last lines: [`error_log::quotable_lines`]), as a sentence to
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
                "the server's error log {log} on {} says (its errors and last line since the attempt):\n    {}",
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

/// The journal's lines for `unit` since `since` (epoch seconds), as a sentence, or
/// `None` when it has none (or no journal).
fn journal_excerpt(node: &NodeHandle, unit: &str, since: u64) -> Option<String> {
    let out = node
        .transport
        .run(&RemoteCommand::new(error_log::journal_since_command(
            unit, since,
        )))
        .ok()?;
    let lines = error_log::quotable_lines(&out.stdout)?;
    Some(format!(
        "journal of {unit} on {}:\n    {}",
        node.name,
        lines.join("\n    ")
    ))
}

/// Run `start` (a start or restart of the server), quoting the error log's new lines
/// when it fails, and with `journal_unit` (systemd hosts) the unit's new journal lines.
pub fn quoting_errors(
    node: &NodeHandle,
    log: &str,
    journal_unit: Option<&str>,
    start: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let (size, clock) = mark(node, log);
    start().map_err(|e| {
        let mut said = format!("{e:#}; {}", excerpt(node, log, size));
        if let Some(journal) = journal_unit.and_then(|u| journal_excerpt(node, u, clock)) {
            said.push_str("; ");
            said.push_str(&journal);
        }
        anyhow!(said)
    })
}

/// Run `install` (installing the server package), and when it fails, add what the
/// server wrote to `log` meanwhile, if anything: a package's configure script starts
/// the server to create its datadir (Debian's mysql-server runs `mysqld
/// --initialize-insecure` with its output thrown away), so the error log is the only
/// place that says why. Unlike [`quoting_errors`] it says nothing when the log has no
/// new lines (most install failures are about repositories, not the server).
pub fn quoting_new_server_errors(
    node: &NodeHandle,
    log: &str,
    install: impl FnOnce() -> Result<()>,
) -> Result<()> {
    let (size, _) = mark(node, log);
    install().map_err(|e| {
        let out = node
            .transport
            .run(&RemoteCommand::new(error_log::tail_since_command(log, size)));
        match out.ok().and_then(|o| {
            (o.stdout.trim() != "mhactl: no such file")
                .then(|| error_log::quotable_lines_with_warnings(&o.stdout))
                .flatten()
        }) {
            Some(lines) => anyhow!(
                "{e:#}; the server's error log {log} on {} says (its warnings, errors and last line since the install began):\n    {}",
                node.name,
                lines.join("\n    ")
            ),
            None => e,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::fake::FakeTransport;
    use std::sync::Arc;

    fn node(t: &Arc<FakeTransport>) -> NodeHandle {
        NodeHandle::new(0, "db1", t.clone() as Arc<dyn Transport>, None)
    }

    /// A failed install quotes the server's new error-log lines (Debian's mysql-server
    /// postinst hides `mysqld --initialize-insecure`'s output), and adds nothing when
    /// the server wrote nothing.
    #[test]
    fn a_failed_install_quotes_the_server_errors_only_when_there_are_some() {
        let t = Arc::new(FakeTransport::new("db1"));
        t.on("stat -c %s /var/log/mysql/error.log", 0, "0\n1764165600\n");
        t.on(
            "tail -c +1",
            0,
            "2026-11-26T22:00:00Z 0 [Note] [MY-000000] [Server] nothing to see\n2026-11-26T22:00:00Z 0 [Warning] [MY-010001] [Server] Can't create thread to handle bootstrap (errno: 11)\n2026-11-26T22:00:00Z 0 [ERROR] [MY-010943] [Server] System views initialization failed.\n2026-11-26T22:00:00Z 0 [ERROR] [MY-010119] [Server] Aborting\n",
        );
        let err = quoting_new_server_errors(&node(&t), "/var/log/mysql/error.log", || {
            Err(anyhow!("db1: command failed (exit 100): apt-get install"))
        })
        .unwrap_err();
        let said = format!("{err:#}");
        assert!(said.starts_with("db1: command failed (exit 100)"), "{said}");
        assert!(
            said.contains("error log /var/log/mysql/error.log on db1 says"),
            "{said}"
        );
        assert!(said.contains("Can't create thread"), "{said}");
        assert!(
            said.contains("System views initialization failed"),
            "{said}"
        );
        assert!(!said.contains("nothing to see"), "{said}");

        let t = Arc::new(FakeTransport::new("db1"));
        t.on("stat -c %s /var/log/mysql/error.log", 0, "0\n1764165600\n");
        t.on("tail -c +1", 0, "mhactl: no such file\n");
        let err = quoting_new_server_errors(&node(&t), "/var/log/mysql/error.log", || {
            Err(anyhow!("db1: command failed (exit 100): apt-get install"))
        })
        .unwrap_err();
        assert_eq!(
            format!("{err:#}"),
            "db1: command failed (exit 100): apt-get install"
        );
    }

    /// A failed (re)start names the node, the file, the server's new lines (and on
    /// systemd the unit's journal), never the temporary root password.
    #[test]
    fn a_failed_start_quotes_the_new_lines_of_the_error_log_and_the_journal() {
        let t = Arc::new(FakeTransport::new("db1"));
        t.on("stat -c %s /var/log/mysqld.log", 0, "4096\n1764165600\n");
        t.on(
            "tail -c +4097",
            0,
            "2026-11-26T13:00:00Z 6 [Note] A temporary password is generated for root@localhost: Xy;9secret\n\
             2026-11-26T13:00:01Z 0 [ERROR] [MY-000067] [Server] unknown variable 'bogus=1'.\n",
        );
        t.on(
            "journalctl -u mysqld --since @1764165600",
            0,
            "mysqld: [ERROR] Aborting\n",
        );
        let n = node(&t);
        let err = quoting_errors(&n, "/var/log/mysqld.log", Some("mysqld"), || {
            Err(anyhow!(
                "db1: mysqld did not accept connections within 60 s after restart"
            ))
        })
        .unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.starts_with("db1: mysqld did not accept connections"),
            "{msg}"
        );
        assert!(
            msg.contains("the server's error log /var/log/mysqld.log on db1 says"),
            "{msg}"
        );
        assert!(msg.contains("unknown variable 'bogus=1'."), "{msg}");
        assert!(
            msg.contains("journal of mysqld on db1:\n    mysqld: [ERROR] Aborting"),
            "{msg}"
        );
        assert!(!msg.contains("Xy;9secret"), "{msg}");
        // A success quotes nothing and reads nothing but the mark.
        let t = Arc::new(FakeTransport::new("db1"));
        t.on("stat -c %s /var/log/mysqld.log", 0, "4096\n1764165600\n");
        quoting_errors(&node(&t), "/var/log/mysqld.log", None, || Ok(())).unwrap();
        assert_eq!(t.commands().len(), 1, "{:?}", t.commands());
    }

    #[test]
    fn a_missing_or_unchanged_log_is_said_plainly() {
        let t = Arc::new(FakeTransport::new("db1"));
        t.on("tail -c +1", 0, "mhactl: no such file\n");
        let n = node(&t);
        assert_eq!(
            excerpt(&n, "/var/log/mysql/error.log", 0),
            "the server wrote no error log: /var/log/mysql/error.log does not exist on db1"
        );
        let t = Arc::new(FakeTransport::new("db1"));
        t.on("tail -c +11", 0, "");
        assert_eq!(
            excerpt(&node(&t), "/var/log/mysql/error.log", 10),
            "the server's error log /var/log/mysql/error.log on db1 has no new lines"
        );
    }
}
