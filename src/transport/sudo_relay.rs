//! The server's unix socket for a non-root ssh user: a relay started with sudo, so
//! the server sees root as the peer of the connection.
//!
//! sshd forwards a unix socket as the ssh user; MariaDB's `root@localhost` logs in by
//! `unix_socket` authentication (the peer's uid must be 0), so a forwarded socket would
//! be refused (ERROR 1698) for any user but root. Instead, each connection to the local
//! socket starts a small relay on the node through the same privilege as every other
//! command (`sudo`): it connects to the server's socket as root and copies bytes between
//! it and the ssh channel's stdin/stdout. Nothing secret is in its argv (the sudo
//! password, if any, is the first line of its stdin), no listening socket is left on the
//! node, and it works unchanged for MySQL's root (a password, sent inside the protocol
//! stream like any other client's) and MariaDB's (`unix_socket`).
//!
//! The relay is perl (Essential on Debian and Ubuntu, a dependency of the server
//! packages on EL), else python3, else socat.

use super::privilege::Privilege;
use anyhow::{Context, Result};
use openssh::{Session, Stdio};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Connects to the socket in `$1` and copies stdin to it and its replies to stdout
/// until the server closes the connection (stdin's end only half-closes it, so the
/// server's last bytes still arrive).
pub const RELAY_SCRIPT: &str = r#"sock=$1
if command -v perl >/dev/null 2>&1; then exec perl -MIO::Socket::UNIX -MIO::Select -e '
my $s = IO::Socket::UNIX->new(Peer => $ARGV[0]) or die "mhactl relay: cannot connect to $ARGV[0]: $!\n";
my $sel = IO::Select->new(\*STDIN, $s); my $buf;
while ($sel->count) { for my $h ($sel->can_read) {
  my $n = sysread($h, $buf, 65536); die "mhactl relay: read: $!\n" unless defined $n;
  my $up = fileno($h) == fileno(STDIN);
  if ($n == 0) { exit 0 unless $up; shutdown($s, 1); $sel->remove($h); next; }
  my $out = $up ? $s : \*STDOUT; my $off = 0;
  while ($off < $n) { my $w = syswrite($out, $buf, $n - $off, $off); die "mhactl relay: write: $!\n" unless defined $w; $off += $w; }
} }' "$sock"; fi
if command -v python3 >/dev/null 2>&1; then exec python3 -c '
import os, select, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); fds = [0, s.fileno()]
while True:
    for f in select.select(fds, [], [])[0]:
        d = os.read(f, 65536)
        if f == 0:
            if not d: s.shutdown(socket.SHUT_WR); fds.remove(0)
            else: s.sendall(d)
        elif not d: sys.exit(0)
        else:
            while d: d = d[os.write(1, d):]
' "$sock"; fi
if command -v socat >/dev/null 2>&1; then exec socat STDIO UNIX-CONNECT:"$sock"; fi
echo "mhactl: the node has neither perl, python3 nor socat to reach the server's socket as root" >&2
exit 127"#;

/// Listen on `local` and relay each connection to the node's `socket` as root, on the
/// transport's runtime, until the returned handle is aborted (the transport's drop).
pub(super) fn start(
    runtime: &tokio::runtime::Runtime,
    session: Arc<Session>,
    privilege: Privilege,
    socket: &Path,
    local: &Path,
    node: &str,
) -> Result<tokio::task::AbortHandle> {
    let listener = {
        let _entered = runtime.enter();
        tokio::net::UnixListener::bind(local)
            .with_context(|| format!("{node}: cannot listen on {}", local.display()))?
    };
    let socket: PathBuf = socket.to_path_buf();
    let node = node.to_string();
    let task = runtime.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (session, privilege, socket, node) = (
                Arc::clone(&session),
                privilege.clone(),
                socket.clone(),
                node.clone(),
            );
            tokio::spawn(async move {
                if let Err(e) = serve(stream, session, &privilege, &socket).await {
                    tracing::warn!(node = %node, "relay to the server's socket: {e:#}");
                }
            });
        }
    });
    Ok(task.abort_handle())
}

/// One client connection: a relay on the node, bytes copied both ways.
async fn serve(
    stream: tokio::net::UnixStream,
    session: Arc<Session>,
    privilege: &Privilege,
    socket: &Path,
) -> Result<()> {
    let socket_arg = socket.display().to_string();
    let argv = privilege.argv(RELAY_SCRIPT, &["mhactl-relay", &socket_arg]);
    let mut command = session.arc_command(&argv[0]);
    command
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().await?;
    let mut to_node = child.stdin().take().context("no stdin")?;
    let mut from_node = child.stdout().take().context("no stdout")?;
    let mut errors = child.stderr().take().context("no stderr")?;
    if let Some(prefix) = privilege.stdin_prefix() {
        to_node.write_all(&prefix).await?;
    }
    let (mut client_read, mut client_write) = stream.into_split();
    let up = async {
        let copied = tokio::io::copy(&mut client_read, &mut to_node).await;
        // The client is done: end the relay's stdin (it half-closes the server side).
        let _ = to_node.shutdown().await;
        copied
    };
    let down = async {
        let copied = tokio::io::copy(&mut from_node, &mut client_write).await;
        let _ = client_write.shutdown().await;
        copied
    };
    let mut said = String::new();
    let (_, _, _) = tokio::join!(up, down, errors.read_to_string(&mut said));
    let status = child.wait().await?;
    if !status.success() {
        anyhow::bail!("exit {}: {}", status.code().unwrap_or(255), said.trim());
    }
    Ok(())
}
