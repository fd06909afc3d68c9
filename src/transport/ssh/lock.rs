//! The node lock: `/run/mhactl.lock`, held by a remote flock(1) for as long as the
//! run's channel to it stays open (see [`crate::transport::Transport::lock`]).

use super::{runtime, SshTransport};
use crate::transport::privilege::Privilege;
use crate::transport::stats::Event;
use anyhow::{anyhow, Result};
use openssh::{Session, Stdio};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncWriteExt;

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
    pub(super) async fn take_lock(&self, owner: &str) -> Result<openssh::Child<Arc<Session>>> {
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
