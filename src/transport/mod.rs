//! Running commands on a node: the [`Transport`] trait, the SSH implementation
//! ([`ssh::SshTransport`], one multiplexed connection per node) and a fake that records
//! commands for unit tests ([`fake::FakeTransport`]).
//!
//! Secrets never travel in a command line: a command's script is plain text that may be
//! logged, and anything secret goes on its standard input.

pub mod fake;
pub mod privilege;
mod speculation;
pub mod ssh;
mod ssh_errors;
pub mod stats;
mod sudo_relay;

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};

/// A shell script to run on a node with `sh -c`, as root (through sudo for a non-root
/// SSH user: `privilege`), and optional bytes for its standard input.
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

/// For messages: `the socket /run/mysqld/mysqld.sock`, `10.0.0.100:3306`, `[::1]:3306`.
impl std::fmt::Display for ForwardTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ForwardTarget::UnixSocket(p) => write!(f, "the socket {}", p.display()),
            ForwardTarget::Tcp(host, port) if host.contains(':') => write!(f, "[{host}]:{port}"),
            ForwardTarget::Tcp(host, port) => write!(f, "{host}:{port}"),
        }
    }
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

    /// Start `cmd` on this node with its stdin open for writing: what is written to the
    /// returned sink reaches the command as it goes, and [`Sink::finish`] closes stdin and
    /// waits for it (failing, like [`Transport::run_ok`], unless it exits 0). The default
    /// (fakes) collects the input and runs the command at `finish`.
    fn open_sink<'a>(&'a self, cmd: &RemoteCommand) -> Result<Box<dyn Sink + 'a>> {
        Ok(Box::new(BufferedSink {
            transport: self,
            script: cmd.script.clone(),
            input: cmd.stdin.clone().unwrap_or_default(),
        }))
    }

    /// Run `cmd` on this node and copy its stdout into `sink` in chunks, so memory use
    /// stays bounded however large the output (a database dump); also keep its first
    /// `head_limit` bytes in `head`. Fails, naming the node, unless `cmd` exits 0. The
    /// default (fakes) runs the command to completion first.
    fn stream_into(
        &self,
        cmd: &RemoteCommand,
        sink: &mut dyn Sink,
        head: &mut Vec<u8>,
        head_limit: usize,
    ) -> Result<()> {
        let out = self.run_ok(cmd)?;
        let bytes = out.as_bytes();
        head.extend_from_slice(&bytes[..bytes.len().min(head_limit)]);
        sink.write_all(bytes)
            .with_context(|| format!("{}: writing to the receiving command", self.node()))
    }

    /// [`Transport::run`], handing each line of the command's standard output to
    /// `on_line` as it arrives (a package manager's progress), and returning the whole
    /// output at the end. The default (fakes) hands the lines over once the command is done.
    fn run_watching(
        &self,
        cmd: &RemoteCommand,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<CommandOutput> {
        let out = self.run(cmd)?;
        out.stdout.lines().for_each(&mut *on_line);
        Ok(out)
    }

    /// Is this node being planned for speculatively ([`crate::facts::prefetch`])? Then
    /// nothing may run on it, from any thread. The default (no flag) never is.
    fn speculation(&self) -> Option<&std::sync::atomic::AtomicBool> {
        None
    }

    /// [`Transport::speculation`] is set, or this thread speculates ([`speculating`]).
    fn is_speculating(&self) -> bool {
        if speculation::exempt_from_speculation() {
            return false;
        }
        speculating()
            || self
                .speculation()
                .is_some_and(|f| f.load(std::sync::atomic::Ordering::SeqCst))
    }

    /// `Err(Speculated)` while [`Transport::is_speculating`]: the first line of every
    /// method that reaches the node.
    fn refuse_if_speculating(&self) -> Result<()> {
        if self.is_speculating() {
            return Err(Speculated.into());
        }
        Ok(())
    }

    /// The commands read ahead for this run ([`ReadAhead`]); `None` for transports that
    /// keep none (fakes: every command runs when asked).
    fn read_ahead(&self) -> Option<&ReadAhead> {
        None
    }

    /// This connection's counters ([`stats`]); `None` for transports that keep none.
    fn stats(&self) -> Option<&stats::TransportStats> {
        None
    }

    /// Count `event` in [`Transport::stats`] (SQL connections and round trips are counted
    /// by the SQL layer, which knows them, on its node's transport).
    fn note(&self, event: stats::Event) {
        if let Some(s) = self.stats() {
            s.note(event);
        }
    }

    /// Run a command and fail, naming the node, the script and its stderr, unless it exits 0.
    fn run_ok(&self, cmd: &RemoteCommand) -> Result<String> {
        let out = self.run(cmd)?;
        if !out.success() {
            return Err(command_failed(
                self.node(),
                &cmd.script,
                out.status,
                &out.stderr,
                &out.stdout,
            ));
        }
        Ok(out.stdout)
    }

    /// Write `content` to `path` atomically (temporary file in the same directory, then
    /// rename) with `mode`, owned by root. The content travels on stdin, never in argv.
    /// When writing fails (a full disk, a read-only file system), the temporary file is
    /// removed and the old file is left exactly as it was; the error names the node, the
    /// file and the cause ([`write_failure`]).
    fn write_file(&self, path: &Path, content: &[u8], mode: u32) -> Result<()> {
        let shown = path.display().to_string();
        let out = self.run(&write_file_command(path, content, mode))?;
        if !out.success() {
            bail!(write_failure(self.node(), &shown, out.status, &out.stderr));
        }
        Ok(())
    }

    /// Read a file; `None` when it does not exist.
    fn read_file(&self, path: &Path) -> Result<Option<String>> {
        let out = self.run(&read_file_command(path))?;
        read_file_result(self.node(), path, out)
    }
}

/// Whether `err` is a remote command whose SSH session ended without an exit status
/// (openssh's `RemoteProcessTerminated`): the remote process was killed by a signal, or
/// the session's channel or the connection dropped while it ran. The multiplexing
/// protocol cannot tell these apart (openssh's docs), so a caller may retry a read-only,
/// idempotent command once; with the master gone for good the retry fails the same way.
pub fn session_ended_without_status(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<openssh::Error>(),
            Some(openssh::Error::RemoteProcessTerminated)
        )
    })
}

/// The error for a command that exited non-zero: the node, the exit status, the script's
/// first line and its stderr.
///
/// The last lines of stdout are added when there are any: several tools print their
/// real error there, not on stderr (apt-get shows dpkg's "error processing package" on
/// stdout and only "E: Sub-process /usr/bin/dpkg returned an error code (1)" on stderr;
/// mariadb-install-db prints its errors on stdout).
pub fn command_failed(
    node: &str,
    script: &str,
    status: i32,
    stderr: &str,
    stdout: &str,
) -> anyhow::Error {
    let mut message = format!(
        "{node}: command failed (exit {status}): {}\n  stderr: {}",
        first_line(script),
        stderr.trim()
    );
    let tail = last_lines(stdout, STDOUT_TAIL_LINES);
    if !tail.is_empty() {
        message.push_str(&format!(
            "\n  stdout (last lines): {}",
            tail.replace('\n', "\n    ")
        ));
    }
    anyhow::anyhow!(message)
}

/// How many lines of a failed command's stdout its error quotes.
const STDOUT_TAIL_LINES: usize = 15;

/// The last `n` non-empty lines of `text`, in order.
fn last_lines(text: &str, n: usize) -> String {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// The open stdin of a command running on a node (see [`Transport::open_sink`]).
pub trait Sink: std::io::Write {
    /// Close stdin and wait for the command; an error unless it exits 0.
    fn finish(self: Box<Self>) -> Result<()>;
}

/// [`Transport::open_sink`]'s default: the input is kept and the command runs at the end.
struct BufferedSink<'a, T: Transport + ?Sized> {
    transport: &'a T,
    script: String,
    input: Vec<u8>,
}

impl<T: Transport + ?Sized> std::io::Write for BufferedSink<'_, T> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.input.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<T: Transport + ?Sized> Sink for BufferedSink<'_, T> {
    fn finish(self: Box<Self>) -> Result<()> {
        self.transport
            .run_ok(&RemoteCommand::with_stdin(self.script, self.input))
            .map(|_| ())
    }
}

/// The command [`Transport::write_file`] runs: the content on stdin, a temporary file in
/// the same directory, `chmod`, then an atomic rename.
pub fn write_file_command(path: &Path, content: &[u8], mode: u32) -> RemoteCommand {
    RemoteCommand::with_stdin(
        write_file_script(&path.display().to_string(), mode),
        content,
    )
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

/// The script behind [`Transport::write_file`]: a temporary file next to `path`, removed
/// again if anything fails before the rename (so a full disk leaves no debris and the old
/// file untouched), then `mv` over the old file (atomic on one file system).
pub fn write_file_script(path: &str, mode: u32) -> String {
    let quoted = shell_quote(path);
    format!(
        "set -e; umask 077; dir=$(dirname {quoted}); mkdir -p \"$dir\"; \
         tmp=$(mktemp \"$dir/.mhactl.XXXXXX\"); trap 'rm -f \"$tmp\"' EXIT; cat > \"$tmp\"; \
         chmod {mode:o} \"$tmp\"; mv -f \"$tmp\" {quoted}; trap - EXIT"
    )
}

/// The error for a failed [`Transport::write_file`] (pure, so it is unit-tested): names
/// the node and the file, quotes the cause, and for a full disk or a read-only file
/// system says what to do and that the old file is unchanged.
pub fn write_failure(node: &str, path: &str, status: i32, stderr: &str) -> String {
    let dir = Path::new(path)
        .parent()
        .map(|d| d.display().to_string())
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| "/".into());
    // A staged candidate (`FILE.mhactl-new`, validated before it replaces FILE): what
    // stays unchanged is FILE itself.
    let kept = path.strip_suffix(".mhactl-new").unwrap_or(path);
    let cause = stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ");
    let cause = if cause.is_empty() {
        format!("exit {status}")
    } else {
        cause
    };
    let hint =
        if stderr.contains("No space left on device") || stderr.contains("Disk quota exceeded") {
            format!(
            ". The file system holding {dir} is full: free space on {node}:{dir} (`df -h {dir}` \
             there), then run mhactl again; {kept} was not changed"
        )
        } else if stderr.contains("Read-only file system") {
            format!(
            ". {node}:{dir} is on a read-only file system: remount it read-write, then run mhactl \
             again; {kept} was not changed"
        )
        } else if status == 255 {
            // The connection may have dropped after the rename: do not claim anything.
            String::new()
        } else {
            format!("; {kept} was not changed")
        };
    format!("{node}: cannot write {path}: {cause}{hint}")
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

pub use speculation::{
    exempt, exempt_from_speculation, is_speculated, speculate, speculating, ReadAhead, Speculated,
    Speculation,
};

/// Quoting a word for a POSIX shell; defined in the leaf module `quote` so that
/// inventory's messages can quote a path too (inventory sits below transport).
pub use crate::quote::shell_quote;

#[cfg(test)]
mod tests {

    /// A session that ended without an exit status is told apart from a command that
    /// failed, through the context the transport adds.
    #[test]
    fn session_ended_without_status_is_found_through_context() {
        let ended = anyhow::Error::from(openssh::Error::RemoteProcessTerminated)
            .context("node-a: ssh: cannot run `cat /run/mhactl/vip-release`");
        assert!(super::session_ended_without_status(&ended));
        let failed = super::command_failed("node-a", "false", 1, "", "");
        assert!(!super::session_ended_without_status(&failed));
    }
    use super::{shell_quote, write_failure, write_file_script, RemoteCommand, Transport};
    use crate::transport::fake::FakeTransport;

    #[test]
    fn a_failed_command_quotes_the_end_of_its_stdout_where_apt_puts_dpkg_s_error() {
        let stdout = (1..=20)
            .map(|i| format!("line {i}"))
            .chain(["dpkg: error processing package mysql-server (--configure):".into()])
            .collect::<Vec<_>>()
            .join("\n");
        let e = super::command_failed(
            "node-b",
            "apt-get install mysql-server",
            100,
            "E: Sub-process /usr/bin/dpkg returned an error code (1)\n",
            &stdout,
        );
        let text = format!("{e}");
        assert!(text.contains("node-b: command failed (exit 100): apt-get install mysql-server"));
        assert!(text.contains("stderr: E: Sub-process"), "{text}");
        assert!(
            text.contains("dpkg: error processing package mysql-server"),
            "{text}"
        );
        assert!(
            text.contains("line 20") && !text.contains("line 6\n"),
            "{text}"
        );
        let quiet = format!("{}", super::command_failed("n", "true", 1, "", "\n\n"));
        assert!(!quiet.contains("stdout"), "{quiet}");
    }

    #[test]
    fn a_stream_reaches_the_sink_after_its_prefix_and_keeps_a_head() {
        let source = FakeTransport::new("peer");
        source.on("dump", 0, "-- CHANGE MASTER TO x;\nINSERT 1;\n");
        let dest = FakeTransport::new("node");
        dest.on("load", 0, "");
        let mut sink = dest
            .open_sink(&RemoteCommand::with_stdin("load", b"login\n".to_vec()))
            .unwrap();
        let mut head = Vec::new();
        source
            .stream_into(&RemoteCommand::new("dump"), sink.as_mut(), &mut head, 10)
            .unwrap();
        sink.finish().unwrap();
        assert_eq!(head, b"-- CHANGE ");
        let load = dest.commands().pop().unwrap();
        assert_eq!(load.script, "load");
        assert_eq!(
            load.stdin.unwrap(),
            b"login\n-- CHANGE MASTER TO x;\nINSERT 1;\n".to_vec()
        );
    }

    #[test]
    fn a_failed_source_is_an_error_naming_its_node() {
        let source = FakeTransport::new("peer");
        source.on("dump", 2, "");
        let dest = FakeTransport::new("node");
        let mut sink = dest.open_sink(&RemoteCommand::new("load")).unwrap();
        let err = source
            .stream_into(
                &RemoteCommand::new("dump"),
                sink.as_mut(),
                &mut Vec::new(),
                10,
            )
            .unwrap_err();
        assert!(
            format!("{err:#}").starts_with("peer: command failed (exit 2)"),
            "{err:#}"
        );
    }

    #[test]
    fn quotes_shell_words() {
        assert_eq!(shell_quote("hostname"), "hostname");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }

    #[test]
    fn write_file_script_cleans_up_and_renames() {
        let s = write_file_script("/etc/my dir/x.cnf", 0o640);
        assert!(s.contains("'/etc/my dir/x.cnf'"), "{s}");
        assert!(s.contains("trap 'rm -f \"$tmp\"' EXIT"), "{s}");
        assert!(s.contains("chmod 640"), "{s}");
        // The trap is set before anything can fail after mktemp, and cleared after mv.
        let trap = s.find("trap 'rm").unwrap();
        assert!(
            trap < s.find("cat >").unwrap() && s.ends_with("trap - EXIT"),
            "{s}"
        );
    }

    #[test]
    fn a_full_disk_names_node_file_directory_and_what_to_do() {
        let msg = write_failure(
            "node-a",
            "/etc/mysql/mariadb.conf.d/60-mhactl.cnf",
            1,
            "cat: write error: No space left on device\n",
        );
        assert_eq!(
            msg,
            "node-a: cannot write /etc/mysql/mariadb.conf.d/60-mhactl.cnf: cat: write error: No space \
             left on device. The file system holding /etc/mysql/mariadb.conf.d is full: free space on \
             node-a:/etc/mysql/mariadb.conf.d (`df -h /etc/mysql/mariadb.conf.d` there), then run \
             mhactl again; /etc/mysql/mariadb.conf.d/60-mhactl.cnf was not changed"
        );
        let ro = write_failure(
            "node-b",
            "/etc/x",
            1,
            "mktemp: failed: Read-only file system",
        );
        assert!(
            ro.contains("node-b:/etc is on a read-only file system"),
            "{ro}"
        );
        let staged = write_failure(
            "node-a",
            "/etc/keepalived/keepalived.conf.mhactl-new",
            1,
            "cat: write error: No space left on device",
        );
        assert!(
            staged.ends_with("/etc/keepalived/keepalived.conf was not changed"),
            "{staged}"
        );
        let lost = write_failure("node-b", "/etc/x", 255, "");
        assert!(!lost.contains("not changed"), "{lost}");
        let other = write_failure("node-b", "/etc/x", 2, "");
        assert_eq!(
            other,
            "node-b: cannot write /etc/x: exit 2; /etc/x was not changed"
        );
    }
}
