//! mhactl as a background process a scenario watches and signals: its output read line
//! by line while it runs (interrupting at a chosen point, holding the node locks while a
//! second run starts), or bounded by a deadline.

use std::io::BufRead;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::{Duration, Instant};

/// mhactl started with both output streams read line by line into a channel.
pub struct Run {
    /// The mhactl process.
    pub child: Child,
    lines: Receiver<String>,
    /// Every line read so far.
    pub seen: Vec<String>,
}

impl Run {
    /// Start mhactl with `args`.
    pub fn start(args: &[&str]) -> Run {
        Run::spawn(Command::new(env!("CARGO_BIN_EXE_mhactl")).args(args))
    }

    /// Start mhactl with `args` and `$TMPDIR` set to `tmp` (to see what it leaves there).
    pub fn start_with_tmp(args: &[&str], tmp: &Path) -> Run {
        Run::spawn(
            Command::new(env!("CARGO_BIN_EXE_mhactl"))
                .args(args)
                .env("TMPDIR", tmp),
        )
    }

    /// Start mhactl with `args` and the environment variables `env` set.
    pub fn start_with_env(args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_mhactl"));
        command.args(args);
        for (k, v) in env {
            command.env(k, v);
        }
        Run::spawn(&mut command)
    }

    fn spawn(command: &mut Command) -> Run {
        let mut child = command
            .env("NO_COLOR", "1")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = channel();
        let out = child.stdout.take().unwrap();
        let err = child.stderr.take().unwrap();
        for stream in [
            Box::new(out) as Box<dyn std::io::Read + Send>,
            Box::new(err) as Box<dyn std::io::Read + Send>,
        ] {
            let tx = tx.clone();
            std::thread::spawn(move || {
                for line in std::io::BufReader::new(stream)
                    .lines()
                    .map_while(Result::ok)
                {
                    let _ = tx.send(line);
                }
            });
        }
        Run {
            child,
            lines,
            seen: Vec::new(),
        }
    }

    /// Wait until a line satisfies `pred` (true) or the process ends / `limit` passes (false).
    pub fn wait_line(&mut self, limit: Duration, pred: impl Fn(&str) -> bool) -> bool {
        let until = Instant::now() + limit;
        while Instant::now() < until {
            match self.lines.recv_timeout(Duration::from_millis(50)) {
                Ok(line) => {
                    let hit = pred(&line);
                    self.seen.push(line);
                    if hit {
                        return true;
                    }
                }
                Err(_) => {
                    if self.child.try_wait().unwrap().is_some() && self.lines.try_recv().is_err() {
                        return false;
                    }
                }
            }
        }
        false
    }

    /// Send `signal` (`INT`, `TERM`, `KILL`) if the process still runs; true if it did.
    pub fn signal(&mut self, signal: &str) -> bool {
        if self.child.try_wait().unwrap().is_some() {
            return false;
        }
        Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .unwrap()
            .success()
    }

    /// Wait for the end (at most `limit`, then SIGKILL and fail); the status and every line.
    pub fn finish(mut self, limit: Duration) -> (ExitStatus, String) {
        let until = Instant::now() + limit;
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            if Instant::now() > until {
                let _ = self.child.kill();
                panic!(
                    "mhactl did not end within {limit:?} after the signal:\n{}",
                    self.seen.join("\n")
                );
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        std::thread::sleep(Duration::from_millis(100));
        while let Ok(line) = self.lines.try_recv() {
            self.seen.push(line);
        }
        (status, self.seen.join("\n"))
    }
}

/// Run mhactl with a deadline: (exit code, stdout + stderr, elapsed); None if killed.
pub fn mhactl_within(args: &[&str], deadline: Duration) -> (Option<i32>, String, Duration) {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let (out_path, err_path) = (dir.path().join("out"), dir.path().join("err"));
    let mut child = Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out_path).unwrap())
        .stderr(std::fs::File::create(&err_path).unwrap())
        .spawn()
        .expect("run mhactl");
    let code = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > deadline {
            child.kill().ok();
            child.wait().ok();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let text = format!(
        "{}{}",
        std::fs::read_to_string(&out_path).unwrap_or_default(),
        std::fs::read_to_string(&err_path).unwrap_or_default()
    );
    (code, text, started.elapsed())
}
