//! The SSH transport: the system `ssh` through the `openssh` crate, one multiplexed
//! master connection per node (ControlMaster, reused across runs: [`master`]), strict
//! host-key checking by default. The node lock is in [`lock`], commands whose data flows
//! while they run in [`streams`].
//!
//! openssh is async; mhactl's engine is plain threads (the `mysql` crate is blocking),
//! so each call blocks on a shared tokio runtime. That is fine: each node's work runs
//! on its own thread and a node's commands are sequential anyway.

mod lock;
pub mod master;
mod streams;

pub use master::{session_builder, Opened};

use super::privilege::{self, Privilege};
use super::stats::Event;
use super::{CommandOutput, ForwardTarget, RemoteCommand, Transport};
use crate::inventory::ResolvedSsh;
use anyhow::{anyhow, Context, Result};
use openssh::{ForwardType, Session, Socket, Stdio};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use tokio::io::AsyncWriteExt;

/// Everything needed to reach one node.
#[derive(Debug, Clone)]
pub struct SshTarget {
    /// Node name, for messages.
    pub node: String,
    /// Where and how to connect, as the inventory resolved it for this node. A remote
    /// user other than root runs commands through sudo ([`Privilege`]).
    pub ssh: ResolvedSsh,
    /// The sudo password of a non-root user whose sudo asks for one (from the
    /// inventory's `ssh.become_password_*`).
    pub become_password: Option<secrecy::SecretString>,
}

/// A live, multiplexed SSH connection to one node.
pub struct SshTransport {
    target: SshTarget,
    session: Arc<Session>,
    /// Whether the master is new, kept for the next run, or reused ([`master`]).
    opened: Opened,
    /// The forwards asked of the master (local socket, target), closed at the end when
    /// the master outlives the run.
    forwarded: std::sync::Mutex<Vec<(PathBuf, ForwardTarget)>>,
    /// How commands become root on this node (probed at connect).
    privilege: Privilege,
    /// The user ssh logged in as (for messages).
    login: String,
    /// The relays of the server's socket for a non-root user (aborted on drop).
    relays: std::sync::Mutex<Vec<tokio::task::AbortHandle>>,
    /// The remote process holding the node lock (see [`Transport::lock`]).
    lock_holder: std::sync::Mutex<Option<openssh::Child<Arc<Session>>>>,
    /// Private directory (mode 0700) for the forwarded sockets, and for the control
    /// socket of a master that ends with the run.
    socket_dir: crate::interrupt::PrivateDir,
    /// Names the forwarded sockets (`fwd0.sock`, ...).
    forwards: AtomicU32,
    /// What this connection cost (benchmarks, `-vv`: [`super::stats`]).
    stats: super::stats::TransportStats,
    /// Set while the run plans ahead ([`Transport::speculation`]).
    speculation: std::sync::atomic::AtomicBool,
    /// Commands read ahead ([`super::ReadAhead`]).
    read_ahead: super::ReadAhead,
}

/// The runtime every SSH call blocks on.
pub(crate) fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("cannot start the async runtime")
    })
}

impl SshTransport {
    /// Open the master connection, or reuse a live one an earlier run left
    /// ([`master::open`]). Host-key problems become an error naming the node and the
    /// known_hosts file, with ssh's own words.
    pub fn connect(target: SshTarget) -> Result<Arc<SshTransport>> {
        // ssh limits socket paths to ~108 bytes: a short private directory.
        let socket_dir = crate::interrupt::PrivateDir::new("mhactl-")
            .context("cannot create a private directory for the SSH control socket")?;
        let (session, opened) = runtime()
            .block_on(master::open(&target.ssh, socket_dir.path()))
            .map_err(|e| super::ssh_errors::connect_error(&target, e))?;
        tracing::debug!(node = %target.node, "ssh master: {}", opened.describe());
        let session = Arc::new(session);
        let (privilege, login) = runtime().block_on(privilege::probe(&session, &target))?;
        let stats = super::stats::TransportStats::default();
        stats.set_ssh_master(opened.name());
        Ok(Arc::new(SshTransport {
            target,
            session,
            opened,
            forwarded: Default::default(),
            privilege,
            login,
            relays: std::sync::Mutex::new(Vec::new()),
            lock_holder: std::sync::Mutex::new(None),
            socket_dir,
            forwards: AtomicU32::new(0),
            stats,
            speculation: Default::default(),
            read_ahead: Default::default(),
        }))
    }

    /// The user ssh logged in as, where (the port when the inventory sets one) and, for
    /// a user other than root, how commands become root: `root@10.0.0.11:22`,
    /// `deploy@db1 via sudo`.
    pub fn describe(&self) -> String {
        format!(
            "{}@{}{}{}",
            self.login,
            self.target.ssh.host,
            self.target
                .ssh
                .port
                .map(|p| format!(":{p}"))
                .unwrap_or_default(),
            match self.privilege {
                Privilege::Root => String::new(),
                _ => format!(" via {}", self.privilege.describe()),
            }
        )
    }

    /// Whether the master is new, kept for the next run, or reused.
    pub fn opened(&self) -> Opened {
        self.opened
    }
}

impl SshTransport {
    /// How many commands this connection has run.
    pub fn commands_run(&self) -> u64 {
        self.stats.remote_commands()
    }

    async fn run_async(&self, cmd: &RemoteCommand) -> Result<CommandOutput> {
        let mut command = self.owned_command(&cmd.script, &[]);
        command
            .stdin(self.stdin_for(cmd))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().await?;
        if let Some(stdin) = child.stdin().take() {
            self.feed(stdin, cmd).await?;
        }
        let out = child.wait_with_output().await?;
        self.stats.note(Event::BytesOut(
            cmd.stdin.as_ref().map_or(0, |i| i.len() as u64),
        ));
        self.stats
            .note(Event::BytesIn((out.stdout.len() + out.stderr.len()) as u64));
        Ok(CommandOutput {
            status: out.status.code().unwrap_or(255),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        })
    }
}

impl SshTransport {
    /// `sh -c SCRIPT ARGS...` on the node as root (through sudo for a non-root user:
    /// [`Privilege::argv`]), owning its session so the child can outlive this borrow
    /// (sinks, the lock).
    fn owned_command(&self, script: &str, args: &[&str]) -> openssh::OwningCommand<Arc<Session>> {
        let argv = self.privilege.argv(script, args);
        let mut c = Arc::clone(&self.session).arc_command(&argv[0]);
        c.args(&argv[1..]);
        c
    }

    /// Piped when the command has input or sudo needs its password line, else null
    /// (the remote side sees EOF at once).
    fn stdin_for(&self, cmd: &RemoteCommand) -> Stdio {
        if cmd.stdin.is_some() || self.privilege.stdin_prefix().is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        }
    }

    /// Write a started command's whole input and close it (the remote side sees EOF):
    /// the sudo password line, if any, then the command's own input.
    async fn feed(
        &self,
        mut stdin: openssh::ChildStdin,
        cmd: &RemoteCommand,
    ) -> std::io::Result<()> {
        if let Some(prefix) = self.privilege.stdin_prefix() {
            stdin.write_all(&prefix).await?;
        }
        if let Some(input) = &cmd.stdin {
            stdin.write_all(input).await?;
        }
        stdin.shutdown().await
    }

    /// Write the sudo password line, if any, first thing on a started command's stdin.
    fn send_prefix(&self, stdin: &mut openssh::ChildStdin) -> Result<()> {
        if let Some(prefix) = self.privilege.stdin_prefix() {
            runtime().block_on(stdin.write_all(&prefix))?;
        }
        Ok(())
    }

    /// Start `cmd` for streaming (stderr piped for the error message), counted like
    /// [`Transport::run`]'s commands.
    fn spawn(
        &self,
        cmd: &RemoteCommand,
        stdin: Stdio,
        stdout: Stdio,
    ) -> Result<openssh::Child<Arc<Session>>> {
        self.refuse_if_speculating()?;
        self.stats.note(Event::Exec(true));
        tracing::debug!(node = %self.target.node, script = %cmd.script, "spawn");
        let mut command = self.owned_command(&cmd.script, &[]);
        command.stdin(stdin).stdout(stdout).stderr(Stdio::piped());
        runtime().block_on(command.spawn()).with_context(|| {
            format!(
                "{}: ssh: cannot start `{}`",
                self.target.node,
                super::first_line(&cmd.script)
            )
        })
    }
}

impl Transport for SshTransport {
    fn node(&self) -> &str {
        &self.target.node
    }

    fn open_sink<'a>(&'a self, cmd: &RemoteCommand) -> Result<Box<dyn super::Sink + 'a>> {
        self.sink(cmd)
    }

    fn stream_into(
        &self,
        cmd: &RemoteCommand,
        sink: &mut dyn super::Sink,
        head: &mut Vec<u8>,
        head_limit: usize,
    ) -> Result<()> {
        self.stream(cmd, sink, head, head_limit)
    }

    fn run_watching(
        &self,
        cmd: &RemoteCommand,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<CommandOutput> {
        self.watch(cmd, on_line)
    }

    fn lock(&self, owner: &str) -> Result<()> {
        self.refuse_if_speculating()?;
        let child = runtime().block_on(self.take_lock(owner))?;
        *self
            .lock_holder
            .lock()
            .map_err(|_| anyhow!("lock poisoned"))? = Some(child);
        Ok(())
    }

    fn run(&self, cmd: &RemoteCommand) -> Result<CommandOutput> {
        if let Some(out) = self.read_ahead.answer(cmd, self.is_speculating())? {
            tracing::debug!(node = %self.target.node, script = %cmd.script, "read ahead");
            return Ok(out);
        }
        self.stats.note(Event::Exec(true));
        tracing::debug!(node = %self.target.node, script = %cmd.script, "run");
        runtime().block_on(self.run_async(cmd)).with_context(|| {
            format!(
                "{}: ssh: cannot run `{}`",
                self.target.node,
                super::first_line(&cmd.script)
            )
        })
    }

    fn stats(&self) -> Option<&super::stats::TransportStats> {
        Some(&self.stats)
    }

    fn speculation(&self) -> Option<&std::sync::atomic::AtomicBool> {
        Some(&self.speculation)
    }

    fn read_ahead(&self) -> Option<&super::ReadAhead> {
        Some(&self.read_ahead)
    }

    fn forward(&self, target: &ForwardTarget) -> Result<PathBuf> {
        self.refuse_if_speculating()?;
        let n = self.forwards.fetch_add(1, Ordering::Relaxed);
        self.stats.note(Event::Forward);
        let local = self.socket_dir.path().join(format!("fwd{n}.sock"));
        if let (ForwardTarget::UnixSocket(path), false) =
            (target, matches!(self.privilege, Privilege::Root))
        {
            // sshd would connect as the ssh user: relay as root instead (sudo_relay).
            let relay = super::sudo_relay::start(
                runtime(),
                Arc::clone(&self.session),
                self.privilege.clone(),
                path,
                &local,
                &self.target.node,
            )?;
            self.relays
                .lock()
                .map_err(|_| anyhow!("relays poisoned"))?
                .push(relay);
            return Ok(local);
        }
        let remote: Socket<'_> = match target {
            ForwardTarget::UnixSocket(path) => Socket::from(path.as_path()),
            ForwardTarget::Tcp(host, port) => Socket::new(host.as_str(), *port),
        };
        runtime()
            .block_on(self.session.request_port_forward(
                ForwardType::Local,
                Socket::from(local.as_path()),
                remote,
            ))
            .with_context(|| {
                format!(
                    "{}: cannot forward a connection to {target}",
                    self.target.node
                )
            })?;
        if let Ok(mut f) = self.forwarded.lock() {
            f.push((local.clone(), target.clone()));
        }
        Ok(local)
    }
}

/// Benchmark hook (scripts/bench, docs/benchmarks.md): when the environment variable
/// `MHACTL_STATS_FILE` names a file, each SSH connection appends one JSON line to it when
/// it closes, which is when mhactl exits (the cluster holds the transports for the whole
/// run): its counters ([`super::stats`]). A run that connects twice writes two lines.
impl Drop for SshTransport {
    fn drop(&mut self) {
        self.unlock();
        for relay in self
            .relays
            .lock()
            .map(|mut r| std::mem::take(&mut *r))
            .unwrap_or_default()
        {
            relay.abort();
        }
        if self.opened != Opened::ForThisRun {
            self.close_forwards();
        }
        self.stats.report(&self.target.node);
    }
}

impl SshTransport {
    /// Ask a master that outlives the run to stop listening on this run's forwarded
    /// sockets (their files go with the run's private directory). Local to the control
    /// host: no round trip.
    fn close_forwards(&self) {
        let forwarded = self
            .forwarded
            .lock()
            .map(|mut f| std::mem::take(&mut *f))
            .unwrap_or_default();
        for (local, target) in forwarded {
            let remote: Socket<'_> = match &target {
                ForwardTarget::UnixSocket(path) => Socket::from(path.as_path()),
                ForwardTarget::Tcp(host, port) => Socket::new(host.as_str(), *port),
            };
            let closed = runtime().block_on(self.session.close_port_forward(
                ForwardType::Local,
                Socket::from(local.as_path()),
                remote,
            ));
            if let Err(e) = closed {
                tracing::debug!(node = %self.target.node, "closing the forward {}: {e}", local.display());
            }
        }
    }
}
