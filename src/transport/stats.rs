//! The transport's own counters (issue 21): what one node's connection cost a run in
//! round trips and bytes, written to `MHACTL_STATS_FILE` (benchmarks, docs/benchmarks.md)
//! and summarised at `-vv`.
//!
//! What is counted, per node and SSH connection:
//! - `exec_channels`: every channel that runs something on the node (each remote command,
//!   sink, stream, the node lock's holder, a sudo relay): opening one costs a round trip,
//!   running it at least one more;
//! - `remote_commands`: the commands among them run through [`super::Transport::run`],
//!   sinks and streams (the lock's channel is not one);
//! - `batched_facts`: facts read through the batched commands (several per command);
//! - `forwards`: forwarded sockets (each SQL connection opens one: a channel);
//! - `sql_connections`: SQL logins (a handshake: several round trips each);
//! - `sql_round_trips`: queries and statements sent on those connections (a batch of
//!   statements sent at once is one);
//! - `bytes_out` / `bytes_in`: the commands' input, and output (stdout and stderr);
//! - `ssh_master`: how the connection was opened: `this-run` (a master ended with the
//!   run), `launched` (a new master kept for the next run) or `reused` (an earlier run's
//!   master: no TCP connection, key exchange or authentication this run).

use std::sync::atomic::{AtomicU64, Ordering};

/// One node's counters (atomic: the engine's threads share the transport).
#[derive(Debug, Default)]
pub struct TransportStats {
    exec_channels: AtomicU64,
    remote_commands: AtomicU64,
    batched_facts: AtomicU64,
    forwards: AtomicU64,
    sql_connections: AtomicU64,
    sql_round_trips: AtomicU64,
    bytes_out: AtomicU64,
    bytes_in: AtomicU64,
    ssh_master: std::sync::OnceLock<&'static str>,
}

/// Something worth counting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    /// A channel that runs a command (counted also as a remote command when `true`).
    Exec(bool),
    /// `n` facts were read by one batched command.
    BatchedFacts(u64),
    /// A forwarded socket.
    Forward,
    /// A SQL login.
    SqlConnection,
    /// A query or a batch of statements sent at once.
    SqlRoundTrip,
    /// Bytes sent to a command.
    BytesOut(u64),
    /// Bytes a command printed.
    BytesIn(u64),
}

impl TransportStats {
    /// Count `event`.
    pub fn note(&self, event: Event) {
        let (counter, n) = match event {
            Event::Exec(command) => {
                if command {
                    self.remote_commands.fetch_add(1, Ordering::Relaxed);
                }
                (&self.exec_channels, 1)
            }
            Event::BatchedFacts(n) => (&self.batched_facts, n),
            Event::Forward => (&self.forwards, 1),
            Event::SqlConnection => (&self.sql_connections, 1),
            Event::SqlRoundTrip => (&self.sql_round_trips, 1),
            Event::BytesOut(n) => (&self.bytes_out, n),
            Event::BytesIn(n) => (&self.bytes_in, n),
        };
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// Say how the connection was opened (see the module's doc): once.
    pub fn set_ssh_master(&self, how: &'static str) {
        let _ = self.ssh_master.set(how);
    }

    /// Remote commands run so far.
    pub fn remote_commands(&self) -> u64 {
        self.remote_commands.load(Ordering::Relaxed)
    }

    /// Forwarded sockets opened so far.
    pub fn forwards(&self) -> u64 {
        self.forwards.load(Ordering::Relaxed)
    }

    /// The round trips a run waited for on this node, at least: a remote command is a
    /// channel open plus its run (two), a SQL login a forward's channel plus the
    /// handshake (counted as three: greeting, authentication, the client's settings),
    /// each SQL round trip one. An estimate from the counters, for messages and the
    /// benchmark; the delaying proxy (scripts/delay-proxy) measures the wire.
    pub fn round_trips(&self) -> u64 {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        2 * get(&self.exec_channels) + 3 * get(&self.sql_connections) + get(&self.sql_round_trips)
    }

    /// The JSON line `MHACTL_STATS_FILE` receives for node `node`.
    pub fn json(&self, node: &str) -> serde_json::Value {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        serde_json::json!({
            "node": node,
            "ssh_connections": 1,
            "remote_commands": get(&self.remote_commands),
            "forwards": get(&self.forwards),
            "exec_channels": get(&self.exec_channels),
            "batched_facts": get(&self.batched_facts),
            "sql_connections": get(&self.sql_connections),
            "sql_round_trips": get(&self.sql_round_trips),
            "bytes_out": get(&self.bytes_out),
            "bytes_in": get(&self.bytes_in),
            "round_trips": self.round_trips(),
            "ssh_master": self.ssh_master.get().copied().unwrap_or("this-run"),
        })
    }

    /// One line for `-vv`: `node-a: 5 remote commands (12 facts batched), 1 SQL
    /// connection, 4 SQL round trips, ~17 round trips, 3.1 KiB out, 40.2 KiB in`.
    pub fn summary(&self, node: &str) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "{node}: {} remote commands ({} facts batched), {} exec channels, {} forwards, {} SQL \
             connections, {} SQL round trips, ~{} round trips, {:.1} KiB out, {:.1} KiB in",
            get(&self.remote_commands),
            get(&self.batched_facts),
            get(&self.exec_channels),
            get(&self.forwards),
            get(&self.sql_connections),
            get(&self.sql_round_trips),
            self.round_trips(),
            get(&self.bytes_out) as f64 / 1024.0,
            get(&self.bytes_in) as f64 / 1024.0,
        )
    }

    /// Append [`Self::json`] to the file `MHACTL_STATS_FILE` names, if set, and log
    /// [`Self::summary`] at debug level (`-vv`). Best effort: a file that cannot be
    /// written is ignored.
    pub fn report(&self, node: &str) {
        tracing::debug!("{}", self.summary(node));
        let Some(path) = std::env::var_os("MHACTL_STATS_FILE") else {
            return;
        };
        if let Ok(mut file) = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
        {
            let line = format!("{}\n", self.json(node));
            let _ = std::io::Write::write_all(&mut file, line.as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_what_a_run_cost() {
        let s = TransportStats::default();
        s.note(Event::Exec(true));
        s.note(Event::Exec(false));
        s.note(Event::BatchedFacts(7));
        s.note(Event::SqlConnection);
        s.note(Event::SqlRoundTrip);
        s.note(Event::SqlRoundTrip);
        s.note(Event::BytesIn(2048));
        let j = s.json("db1");
        assert_eq!(j["remote_commands"], 1);
        assert_eq!(j["exec_channels"], 2);
        assert_eq!(j["batched_facts"], 7);
        assert_eq!(j["round_trips"], 2 * 2 + 3 + 2);
        assert!(
            s.summary("db1").contains("2.0 KiB in"),
            "{}",
            s.summary("db1")
        );
    }
}
