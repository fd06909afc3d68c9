//! The SSH transport: the system `ssh` through the `openssh` crate, one multiplexed
//! master connection per node (ControlMaster), strict host-key checking by default.
//!
//! openssh is async; mhactl's engine is plain threads (the `mysql` crate is blocking),
//! so each call blocks on a shared tokio runtime. That is fine: each node's work runs
//! on its own thread and a node's commands are sequential anyway.

use super::privilege::{self, Privilege};
use super::stats::Event;
use super::{CommandOutput, ForwardTarget, RemoteCommand, Transport};
use crate::inventory::{HostKeyCheck, ResolvedSsh};
use anyhow::{anyhow, Context, Result};
use openssh::{ForwardType, KnownHosts, Session, SessionBuilder, Socket, Stdio};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;
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
    /// How commands become root on this node (probed at connect).
    privilege: Privilege,
    /// The user ssh logged in as (for messages).
    login: String,
    /// The relays of the server's socket for a non-root user (aborted on drop).
    relays: std::sync::Mutex<Vec<tokio::task::AbortHandle>>,
    /// The remote process holding the node lock (see [`Transport::lock`]).
    lock_holder: std::sync::Mutex<Option<openssh::Child<Arc<Session>>>>,
    /// Private directory (mode 0700) for the control socket and forwarded sockets.
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
fn runtime() -> &'static tokio::runtime::Runtime {
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
    /// Open the master connection. Host-key problems become an error naming the node
    /// and the known_hosts file, with ssh's own words.
    pub fn connect(target: SshTarget) -> Result<Arc<SshTransport>> {
        // ssh limits control socket paths to ~108 bytes: a short private directory.
        let socket_dir = crate::interrupt::PrivateDir::new("mhactl-")
            .context("cannot create a private directory for the SSH control socket")?;
        let builder = session_builder(&target.ssh, socket_dir.path());
        let session = runtime()
            .block_on(builder.connect_mux(target.ssh.host.clone()))
            .map_err(|e| super::ssh_errors::connect_error(&target, e))?;
        let session = Arc::new(session);
        let (privilege, login) = runtime().block_on(privilege::probe(&session, &target))?;
        Ok(Arc::new(SshTransport {
            target,
            session,
            privilege,
            login,
            relays: std::sync::Mutex::new(Vec::new()),
            lock_holder: std::sync::Mutex::new(None),
            socket_dir,
            forwards: AtomicU32::new(0),
            stats: Default::default(),
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
}

/// The ssh master's settings: only what the inventory sets, so the user's ssh config
/// (`User`, `Port`, `IdentityFile`, `ProxyJump`, ...) applies to everything else. Two
/// settings are always given: strict host-key checking (unless `accept-new`) and a
/// connect timeout, mhactl's safe defaults.
pub fn session_builder(ssh: &ResolvedSsh, control_dir: &std::path::Path) -> SessionBuilder {
    let mut builder = SessionBuilder::default();
    if let Some(user) = &ssh.user {
        builder.user(user.clone());
    }
    if let Some(port) = ssh.port {
        builder.port(port);
    }
    if let Some(config) = &ssh.config_file {
        builder.config_file(config);
    }
    builder
        .connect_timeout(ssh.connect_timeout)
        .server_alive_interval(Duration::from_secs(5))
        .control_directory(control_dir)
        // The master outlives mhactl only briefly if mhactl is killed (the default,
        // Forever, would leave one ssh process per node behind).
        .control_persist(openssh::ControlPersist::IdleFor(
            std::num::NonZeroUsize::new(10).expect("nonzero"),
        ))
        .known_hosts_check(match ssh.host_key_check {
            HostKeyCheck::Strict => KnownHosts::Strict,
            HostKeyCheck::AcceptNew => KnownHosts::Add,
        });
    if let Some(key) = &ssh.identity_file {
        builder.keyfile(key);
    }
    if let Some(known) = &ssh.known_hosts {
        builder.user_known_hosts_file(known);
    }
    builder
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
        if let Some(mut stdin) = child.stdin().take() {
            if let Some(prefix) = self.privilege.stdin_prefix() {
                stdin.write_all(&prefix).await?;
            }
            if let Some(input) = &cmd.stdin {
                stdin.write_all(input).await?;
            }
            stdin.shutdown().await?;
            // dropped here: the remote side sees EOF
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

/// Exit status of the lock script when another run holds the lock.
const LOCK_BUSY: i32 = 75;

/// Holds `/run/mhactl.lock` with flock(1) while its stdin stays open; prints `locked`
/// once it has it, or the current owner and exits 75 when another run has it.
///
/// The owner file is written just after the lock is taken and removed just before it is
/// given back, so a refused run never names the previous holder: it finds the current
/// holder's line, or waits up to a second for it to appear.
const LOCK_SCRIPT: &str = r#"exec 9>>/run/mhactl.lock || exit 76
if ! flock -n 9; then
  i=0; o=
  while [ $i -lt 10 ]; do o=$(cat /run/mhactl.owner 2>/dev/null); [ -n "$o" ] && break; sleep 0.1; i=$((i+1)); done
  printf '%s\n' "$o"; exit 75
fi
printf '%s\n' "$1" > /run/mhactl.owner
echo locked
cat >/dev/null
rm -f /run/mhactl.owner"#;

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

    async fn take_lock(&self, owner: &str) -> Result<openssh::Child<Arc<Session>>> {
        use tokio::io::AsyncBufReadExt;
        self.stats.note(Event::Exec(false));
        let mut command = self.owned_command(LOCK_SCRIPT, &["mhactl-lock", owner]);
        command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = command.spawn().await?;
        if let (Some(prefix), Some(stdin)) = (self.privilege.stdin_prefix(), child.stdin().as_mut())
        {
            stdin.write_all(&prefix).await?;
        }
        let stdout = child.stdout().take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut lines = tokio::io::BufReader::new(stdout).lines();
        match lines.next_line().await? {
            Some(line) if line == "locked" => Ok(child),
            first => {
                let mut owner_text = first.unwrap_or_default();
                while let Some(more) = lines.next_line().await? {
                    owner_text.push_str(&more);
                }
                let status = child.wait().await?;
                if status.code() == Some(LOCK_BUSY) {
                    anyhow::bail!(
                        "{} is in use by another mhactl run ({}); wait for it to finish",
                        self.target.node,
                        if owner_text.is_empty() {
                            "owner unknown".into()
                        } else {
                            owner_text
                        }
                    );
                }
                let hint = match self.privilege {
                    Privilege::Root => String::new(),
                    _ => format!(
                        "; {} runs commands through sudo, which must allow it any command as root",
                        self.login
                    ),
                };
                anyhow::bail!(
                    "{}: cannot take the mhactl lock /run/mhactl.lock ({status}){hint}",
                    self.target.node
                )
            }
        }
    }
}

impl SshTransport {
    /// Give the node lock back now (its holder sees EOF and exits), waiting a moment
    /// for it so that a run started right after this one finds the node free. The lock
    /// would go anyway when the connection closes; this makes it prompt.
    pub fn unlock(&self) {
        let Some(mut child) = self.lock_holder.lock().ok().and_then(|mut h| h.take()) else {
            return;
        };
        drop(child.stdin().take());
        let _ = runtime()
            .block_on(async { tokio::time::timeout(Duration::from_secs(3), child.wait()).await });
    }
}

/// A command's stdin on a node, written as data comes (see [`Transport::open_sink`]).
struct SshSink {
    node: String,
    script: String,
    child: Option<openssh::Child<Arc<Session>>>,
    stdin: Option<openssh::ChildStdin>,
}

impl std::io::Write for SshSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| std::io::Error::other("stdin already closed"))?;
        runtime().block_on(tokio::io::AsyncWriteExt::write(stdin, buf))
    }
    fn flush(&mut self) -> std::io::Result<()> {
        match self.stdin.as_mut() {
            Some(stdin) => runtime().block_on(stdin.flush()),
            None => Ok(()),
        }
    }
}

impl super::Sink for SshSink {
    fn finish(mut self: Box<Self>) -> Result<()> {
        let child = self
            .child
            .take()
            .ok_or_else(|| anyhow!("sink already finished"))?;
        let stdin = self.stdin.take();
        let out = runtime().block_on(async move {
            if let Some(mut stdin) = stdin {
                // A command that already exited (an error) makes this fail; its status
                // below says why.
                let _ = stdin.shutdown().await;
            }
            child.wait_with_output().await
        })?;
        let status = out.status.code().unwrap_or(255);
        if status != 0 {
            return Err(super::command_failed(
                &self.node,
                &self.script,
                status,
                &String::from_utf8_lossy(&out.stderr),
                &String::from_utf8_lossy(&out.stdout),
            ));
        }
        Ok(())
    }
}

impl Transport for SshTransport {
    fn node(&self) -> &str {
        &self.target.node
    }

    fn open_sink<'a>(&'a self, cmd: &RemoteCommand) -> Result<Box<dyn super::Sink + 'a>> {
        self.refuse_if_speculating()?;
        let mut child = self.spawn(cmd, Stdio::piped(), Stdio::null())?;
        let mut stdin = child.stdin().take().ok_or_else(|| anyhow!("no stdin"))?;
        self.send_prefix(&mut stdin)?;
        if let Some(input) = &cmd.stdin {
            runtime().block_on(stdin.write_all(input))?;
        }
        Ok(Box::new(SshSink {
            node: self.target.node.clone(),
            script: cmd.script.clone(),
            child: Some(child),
            stdin: Some(stdin),
        }))
    }

    fn stream_into(
        &self,
        cmd: &RemoteCommand,
        sink: &mut dyn super::Sink,
        head: &mut Vec<u8>,
        head_limit: usize,
    ) -> Result<()> {
        use tokio::io::AsyncReadExt;
        let mut child = self.spawn(cmd, self.stdin_for(cmd), Stdio::piped())?;
        if let Some(mut stdin) = child.stdin().take() {
            let prefix = self.privilege.stdin_prefix().unwrap_or_default();
            let input = cmd.stdin.as_deref().unwrap_or_default();
            runtime().block_on(async move {
                stdin.write_all(&prefix).await?;
                stdin.write_all(input).await?;
                stdin.shutdown().await
            })?;
        }
        let mut stdout = child.stdout().take().ok_or_else(|| anyhow!("no stdout"))?;
        // One chunk at a time: read here, write there. Both ends block on the runtime in
        // turn (never nested), and at most one chunk is in memory.
        let mut buf = vec![0u8; 256 * 1024];
        let copied: Result<()> = loop {
            let n = match runtime().block_on(stdout.read(&mut buf)) {
                Ok(0) => break Ok(()),
                Ok(n) => n,
                Err(e) => break Err(e.into()),
            };
            if head.len() < head_limit {
                let take = n.min(head_limit - head.len());
                head.extend_from_slice(&buf[..take]);
            }
            if let Err(e) = sink.write_all(&buf[..n]) {
                break Err(anyhow::Error::from(e).context("the receiving command stopped reading"));
            }
        };
        drop(stdout);
        let out = runtime().block_on(child.wait_with_output())?;
        let status = out.status.code().unwrap_or(255);
        if status != 0 {
            return Err(super::command_failed(
                &self.target.node,
                &cmd.script,
                status,
                &String::from_utf8_lossy(&out.stderr),
                &String::from_utf8_lossy(&out.stdout),
            ));
        }
        copied.with_context(|| {
            format!(
                "{}: copying the output of `{}`",
                self.target.node,
                super::first_line(&cmd.script)
            )
        })
    }

    fn run_watching(
        &self,
        cmd: &RemoteCommand,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<CommandOutput> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt};
        let mut child = self.spawn(cmd, self.stdin_for(cmd), Stdio::piped())?;
        let stdin = child.stdin().take();
        let stdout = child.stdout().take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut stderr = child.stderr().take().ok_or_else(|| anyhow!("no stderr"))?;
        let prefix = self.privilege.stdin_prefix().unwrap_or_default();
        let input = cmd.stdin.as_deref().unwrap_or_default();
        let read = runtime().block_on(async move {
            if let Some(mut stdin) = stdin {
                stdin.write_all(&prefix).await?;
                stdin.write_all(input).await?;
                stdin.shutdown().await?;
            }
            // Both pipes at once: a command that fills stderr must not stall its stdout.
            let lines = async {
                let (mut reader, mut all, mut line) =
                    (tokio::io::BufReader::new(stdout), Vec::new(), Vec::new());
                while reader.read_until(b'\n', &mut line).await? > 0 {
                    on_line(String::from_utf8_lossy(&line).trim_end_matches(['\n', '\r']));
                    all.append(&mut line);
                }
                Ok::<_, std::io::Error>(all)
            };
            let mut err = Vec::new();
            let (out, read_err) = tokio::join!(lines, stderr.read_to_end(&mut err));
            read_err?;
            Ok::<_, std::io::Error>((out?, err))
        });
        let status = runtime().block_on(child.wait());
        let context = || {
            let script = super::first_line(&cmd.script);
            format!("{}: ssh: cannot run `{script}`", self.target.node)
        };
        let (stdout, stderr) = read.with_context(context)?;
        Ok(CommandOutput {
            status: status.with_context(context)?.code().unwrap_or(255),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
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
        self.stats.report(&self.target.node);
    }
}
