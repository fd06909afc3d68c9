//! Commands whose input or output flows while they run: a sink (a command's stdin
//! written as data comes), a stream (a command's stdout copied in chunks) and a watched
//! command (its stdout handed over line by line).

use super::{runtime, SshTransport};
use crate::transport::{CommandOutput, RemoteCommand, Transport};
use anyhow::{anyhow, Context, Result};
use openssh::{Session, Stdio};
use std::sync::Arc;
use tokio::io::AsyncWriteExt;

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

impl crate::transport::Sink for SshSink {
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
            return Err(crate::transport::command_failed(
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

impl SshTransport {
    pub(super) fn sink<'a>(
        &'a self,
        cmd: &RemoteCommand,
    ) -> Result<Box<dyn crate::transport::Sink + 'a>> {
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

    pub(super) fn stream(
        &self,
        cmd: &RemoteCommand,
        sink: &mut dyn crate::transport::Sink,
        head: &mut Vec<u8>,
        head_limit: usize,
    ) -> Result<()> {
        use tokio::io::AsyncReadExt;
        let mut child = self.spawn(cmd, self.stdin_for(cmd), Stdio::piped())?;
        if let Some(stdin) = child.stdin().take() {
            runtime().block_on(self.feed(stdin, cmd))?;
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
            return Err(crate::transport::command_failed(
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
                crate::transport::first_line(&cmd.script)
            )
        })
    }

    pub(super) fn watch(
        &self,
        cmd: &RemoteCommand,
        on_line: &mut dyn FnMut(&str),
    ) -> Result<CommandOutput> {
        use tokio::io::{AsyncBufReadExt, AsyncReadExt};
        let mut child = self.spawn(cmd, self.stdin_for(cmd), Stdio::piped())?;
        let stdin = child.stdin().take();
        let stdout = child.stdout().take().ok_or_else(|| anyhow!("no stdout"))?;
        let mut stderr = child.stderr().take().ok_or_else(|| anyhow!("no stderr"))?;
        let read = runtime().block_on(async move {
            if let Some(stdin) = stdin {
                self.feed(stdin, cmd).await?;
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
            let script = crate::transport::first_line(&cmd.script);
            format!("{}: ssh: cannot run `{script}`", self.target.node)
        };
        let (stdout, stderr) = read.with_context(context)?;
        Ok(CommandOutput {
            status: status.with_context(context)?.code().unwrap_or(255),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: String::from_utf8_lossy(&stderr).into_owned(),
        })
    }
}
