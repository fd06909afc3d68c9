//! Running commands on a node: the [`Transport`] trait, the SSH implementation
//! ([`ssh::SshTransport`], one multiplexed connection per node) and a fake that records
//! commands for unit tests ([`fake::FakeTransport`]).
//!
//! Secrets never travel in a command line: a command's script is plain text that may be
//! logged, and anything secret goes on its standard input.

pub mod fake;
pub mod ssh;

use anyhow::{bail, Result};
use std::path::{Path, PathBuf};

/// A shell script to run on a node with `sh -c`, as root (through `sudo -n` for a
/// non-root SSH user), and optional bytes for its standard input.
#[derive(Clone, Default)]
pub struct RemoteCommand {
    /// The script. Never put a secret here: it is visible in the node's process list.
    pub script: String,
    /// Standard input (file contents, SQL, secrets).
    pub stdin: Option<Vec<u8>>,
}

impl std::fmt::Debug for RemoteCommand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // stdin may hold secrets: show only its size.
        f.debug_struct("RemoteCommand")
            .field("script", &self.script)
            .field("stdin_bytes", &self.stdin.as_ref().map(Vec::len))
            .finish()
    }
}

impl RemoteCommand {
    /// A script with no input.
    pub fn new(script: impl Into<String>) -> RemoteCommand {
        RemoteCommand {
            script: script.into(),
            stdin: None,
        }
    }
    /// A script that reads `input` on its standard input.
    pub fn with_stdin(script: impl Into<String>, input: impl Into<Vec<u8>>) -> RemoteCommand {
        RemoteCommand {
            script: script.into(),
            stdin: Some(input.into()),
        }
    }
}

/// What a command left behind.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommandOutput {
    /// Exit status (255 for "killed by a signal" or lost connections).
    pub status: i32,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl CommandOutput {
    /// Did it exit 0?
    pub fn success(&self) -> bool {
        self.status == 0
    }
}

/// Where a forwarded connection should go on the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardTarget {
    /// A unix socket on the node (e.g. mysqld's; peer credentials are then sshd's, root).
    UnixSocket(PathBuf),
    /// A TCP address as seen from the node (e.g. its loopback, or the VIP).
    Tcp(String, u16),
}

/// How mhactl reaches one node.
pub trait Transport: Send + Sync {
    /// The node's name (for messages).
    fn node(&self) -> &str;

    /// Run a command and return its output, whatever its exit status.
    fn run(&self, cmd: &RemoteCommand) -> Result<CommandOutput>;

    /// Forward a local unix socket (created by the transport in a private directory)
    /// to `target` on the node, and return the local socket's path.
    fn forward(&self, target: &ForwardTarget) -> Result<PathBuf>;

    /// Take this node's mhactl lock for as long as the transport lives, so two runs that
    /// change the same cluster cannot interleave. `owner` says who holds it (shown to a
    /// second run). The lock dies with the connection, so a killed run never leaves it
    /// behind. The default (fakes) takes no lock.
    fn lock(&self, _owner: &str) -> Result<()> {
        Ok(())
    }

    /// Run a command and fail, naming the node, the script and its stderr, unless it exits 0.
    fn run_ok(&self, cmd: &RemoteCommand) -> Result<String> {
        let out = self.run(cmd)?;
        if !out.success() {
            bail!(
                "{}: command failed (exit {}): {}\n  stderr: {}",
                self.node(),
                out.status,
                first_line(&cmd.script),
                out.stderr.trim()
            );
        }
        Ok(out.stdout)
    }

    /// Write `content` to `path` atomically (temporary file in the same directory, then
    /// rename) with `mode`, owned by root. The content travels on stdin, never in argv.
    fn write_file(&self, path: &Path, content: &[u8], mode: u32) -> Result<()> {
        self.run_ok(&write_file_command(path, content, mode))?;
        Ok(())
    }

    /// Read a file; `None` when it does not exist.
    fn read_file(&self, path: &Path) -> Result<Option<String>> {
        let out = self.run(&read_file_command(path))?;
        read_file_result(self.node(), path, out)
    }
}

/// The command [`Transport::write_file`] runs: the content on stdin, a temporary file in
/// the same directory, `chmod`, then an atomic rename.
pub fn write_file_command(path: &Path, content: &[u8], mode: u32) -> RemoteCommand {
    let path = path.display().to_string();
    let quoted = shell_quote(&path);
    let script = format!(
        "set -e; umask 077; dir=$(dirname {quoted}); mkdir -p \"$dir\"; \
         tmp=$(mktemp \"$dir/.mhactl.XXXXXX\"); cat > \"$tmp\"; \
         chmod {mode:o} \"$tmp\"; mv -f \"$tmp\" {quoted}"
    );
    RemoteCommand::with_stdin(script, content)
}

/// The command [`Transport::read_file`] runs (exit 3: no such file).
pub fn read_file_command(path: &Path) -> RemoteCommand {
    let quoted = shell_quote(&path.display().to_string());
    RemoteCommand::new(format!(
        "if [ -e {quoted} ]; then cat {quoted}; else exit 3; fi"
    ))
}

/// What [`read_file_command`]'s output means: the content, `None` (exit 3), or an error
/// naming the node and the file.
pub fn read_file_result(node: &str, path: &Path, out: CommandOutput) -> Result<Option<String>> {
    match out.status {
        0 => Ok(Some(out.stdout)),
        3 => Ok(None),
        code => bail!(
            "{node}: cannot read {} (exit {code}): {}",
            path.display(),
            out.stderr.trim()
        ),
    }
}

/// The first line of a script, for error messages (scripts may be long).
pub fn first_line(script: &str) -> String {
    let line = script.lines().next().unwrap_or("");
    if script.lines().count() > 1 {
        format!("{line} ...")
    } else {
        line.to_string()
    }
}

/// Quote a word for a POSIX shell.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:@,+%".contains(c))
    {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::shell_quote;

    #[test]
    fn quotes_shell_words() {
        assert_eq!(shell_quote("hostname"), "hostname");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
