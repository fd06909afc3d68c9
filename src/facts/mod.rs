//! Facts: everything mhactl reads from a node, the pyinfra way. A fact is a type
//! implementing [`Fact`]: where its raw text comes from (a [`Source`]: a shell command
//! from `os/`, a SQL query from `dialect/`, or a file to read) and a *pure* parser from
//! that raw output to a typed value (the parsers live in `os/` and `dialect/`, or here
//! when they are only glue). Operations (bootstrap steps), verify checks, status,
//! failover and reinit read node state through [`get`] / [`fresh`] (or the named
//! wrappers below), never by running a read themselves; what changes a node (actions)
//! stays with them.
//!
//! Caching ([`Lifetime`], the cache in [`cache`]): each node keeps the facts read during
//! one run, keyed by fact name and argument (`variable:read_only`).
//!
//! - [`Lifetime::Run`] facts (OS release, service manager, user id, server version)
//!   cannot change during a run: read once, served from the cache everywhere. The one
//!   exception is a server swapped under the run (reinit's fresh data directory), which
//!   forgets the version explicitly ([`forget_server`]).
//! - [`Lifetime::Volatile`] facts (variables, replica status, addresses, files, ...)
//!   are served from the cache only inside a [`cached`] scope: while the engine plans an
//!   operation, and during one round of verify. Every read outside such a scope goes to
//!   the node (and refreshes the cache), so wait loops, actions (including the engine's
//!   custom actions that poll), failover and status always see the node as it is now.
//!   Inside a scope, a loop that waits for a change calls [`fresh`].
//! - Invalidation: the engine calls [`changed`] after applying a change on a node, which
//!   drops the volatile facts of *both* nodes (a change on one can change what its peer
//!   reports: replica status, who holds the VIP); the re-plan and the later steps read
//!   them again. verify drops them at the start of each round (`verify --wait`).
//! - Errors are never cached: a failed read is tried again next time.
//!
//! Verify enforces what each check declares it reads: [`scope::declare`] marks the
//! check running on this thread, and a fact read of a [`FactKind`] the check did not
//! declare is a bug (a panic in debug builds, so the golden tests fail). See
//! docs/architecture.md, "Facts".

pub mod accounts;
pub mod adopt;
pub mod cache;
pub mod fence;
pub mod host;
pub mod option_chain;
pub mod option_sources;
pub mod packages;
pub mod prefetch;
pub mod probes;
pub mod remembered;
pub mod replica_source;
pub mod scope;
pub mod security;
pub mod server;
pub mod stored_hash;
pub mod tables;
pub mod through_vip;
pub mod tls;

#[cfg(test)]
mod fixture_tests;

use crate::engine::{Cluster, NodeHandle};
use crate::sql::Row;
use crate::transport::{CommandOutput, RemoteCommand};
use anyhow::{anyhow, Result};

pub use cache::FactCache;
pub use host::{
    describe_os, holds_vip, interface_addresses, keepalived_version, os_target, service_active,
    service_active_fresh, tcp_probe, vip_holders,
};
pub use probes::{
    io_error_may_be_network, parse_tcp_probe, peer_unreachable_message, server_id_through_vip,
    server_id_through_vip_ahead, tcp_probe_script, temporary_root_password, TcpProbe,
    TCP_PROBE_TIMEOUT_S,
};
pub use server::{
    binlog_coordinates, binlog_coordinates_fresh, dialect, forget_server, replica_status,
    replica_status_fresh, variable,
};

/// The per-node cache's old name (NodeHandle's `facts` field).
pub type NodeFacts = FactCache;

/// What kind of thing a fact reads: the vocabulary verify's checks declare their reads
/// in (`CheckKind::reads`), and what decides whether a check needs SQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FactKind {
    /// The multiplexed SSH connection itself.
    Connection,
    /// `id -u`.
    UserId,
    /// /etc/os-release and the init system.
    OsRelease,
    /// `SELECT VERSION()` through the node's socket.
    ServerVersion,
    /// Global variables (`SELECT @@GLOBAL.x`).
    Variables,
    /// `SHOW GLOBAL STATUS`.
    GlobalStatus,
    /// `SHOW REPLICA STATUS`.
    ReplicaStatus,
    /// The binary log status (file and position).
    BinlogStatus,
    /// Accounts and their grants (mysql.user, `SHOW GRANTS`), databases.
    Accounts,
    /// Tables and their checksums.
    Tables,
    /// The option files the server reads, its command line.
    OptionFiles,
    /// A file mhactl renders (my.cnf drop-in, keepalived.conf, health-check script).
    RenderedFile,
    /// A service's state.
    Service,
    /// The addresses on the VIP's interface.
    Addresses,
    /// The node's clock.
    Clock,
    /// A TCP connection from the node to its peer's port.
    PeerPort,
    /// The SELinux label of the health-check script.
    SelinuxLabel,
    /// SQL through the VIP, from the other node.
    SqlThroughVip,
    /// A ping from the node to `vip.arbiter`.
    Arbiter,
}

impl FactKind {
    /// Is this read made through the node's SQL connection?
    pub fn is_sql(self) -> bool {
        match self {
            FactKind::ServerVersion
            | FactKind::Variables
            | FactKind::GlobalStatus
            | FactKind::ReplicaStatus
            | FactKind::BinlogStatus
            | FactKind::Accounts
            | FactKind::Tables => true,
            FactKind::Connection
            | FactKind::UserId
            | FactKind::OsRelease
            | FactKind::OptionFiles
            | FactKind::RenderedFile
            | FactKind::Service
            | FactKind::Addresses
            | FactKind::Clock
            | FactKind::PeerPort
            | FactKind::SelinuxLabel
            | FactKind::SqlThroughVip
            | FactKind::Arbiter => false,
        }
    }
}

/// How long a fact's value may be reused (see the module doc).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lifetime {
    /// Cannot change during a run: cached everywhere once read.
    Run,
    /// Can change: cached only inside a [`cached`] scope, dropped by [`changed`].
    Volatile,
    /// Never cached (a probe whose answer depends on the moment: a TCP connection).
    Never,
}

/// Where a fact's raw text comes from (serialised in the remembered lists of reads,
/// [`remembered`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A shell command (from `os/`); with `must_succeed`, a non-zero exit is an error
    /// naming the node, the command and its stderr (else the parser sees the status).
    Command {
        /// The script.
        script: String,
        /// Fail unless it exits 0.
        must_succeed: bool,
    },
    /// A SQL query on the node's admin connection (from `dialect/`).
    Query(String),
    /// A file to read (`None` in [`Raw::File`] when it does not exist).
    File(std::path::PathBuf),
}

/// What a [`Source`] returned, the input of [`Fact::parse`].
#[derive(Debug, Clone)]
pub enum Raw {
    /// A command's exit status and output.
    Output(CommandOutput),
    /// A query's rows.
    Rows(Vec<Row>),
    /// A file's content; `None`: it does not exist.
    File(Option<String>),
}

impl Raw {
    /// The command output (a parser of a command fact calls this).
    pub fn output(&self) -> Result<&CommandOutput> {
        match self {
            Raw::Output(o) => Ok(o),
            other => Err(anyhow!("expected a command's output, got {other:?}")),
        }
    }
    /// The rows (a parser of a query fact calls this).
    pub fn rows(&self) -> Result<&[Row]> {
        match self {
            Raw::Rows(r) => Ok(r),
            other => Err(anyhow!("expected rows, got {other:?}")),
        }
    }
    /// The file's content (a parser of a file fact calls this).
    pub fn file(&self) -> Result<Option<&str>> {
        match self {
            Raw::File(f) => Ok(f.as_deref()),
            other => Err(anyhow!("expected a file, got {other:?}")),
        }
    }
}

/// One thing read from a node: a source and a pure parser.
pub trait Fact: 'static {
    /// What selects one instance (a variable's name, an interface); `()` for most.
    type Arg: ?Sized + cache::FactArg + ToOwned<Owned: Send + 'static>;
    /// The typed value.
    type Value: Clone + Send + 'static;
    /// Stable name, the cache key's first half and the fixture directory's name
    /// (`tests/fixtures/facts/<name>/`).
    const NAME: &'static str;
    /// What verify checks declare to read it.
    const KIND: FactKind;
    /// How long a value may be reused.
    const LIFETIME: Lifetime;
    /// Where the raw text comes from. `server` is the running server's dialect, for
    /// queries whose text depends on the version (`None` for command and file facts:
    /// [`Fact::NEEDS_SERVER`] false).
    fn source(arg: &Self::Arg, server: Option<&crate::dialect::Dialect>) -> Source;
    /// Whether [`Fact::source`] needs the server's dialect.
    const NEEDS_SERVER: bool = false;
    /// Whether [`Fact::source`] carries a secret (a password in its SQL text): then the
    /// source goes only to the node, and is never logged, written down or kept past the
    /// run (the cache key never holds the secret).
    const SOURCE_HAS_SECRET: bool = false;
    /// The typed value from the raw output. Pure: no I/O, the same input gives the same
    /// value (unit-tested on recorded outputs in `tests/fixtures/facts/`).
    fn parse(arg: &Self::Arg, raw: &Raw) -> Result<Self::Value>;
}

/// `F` for `arg` on `node`: from the cache when its [`Lifetime`] allows it here (see the
/// module doc), else read from the node (and cached).
pub fn get<F: Fact>(node: &NodeHandle, arg: &F::Arg) -> Result<F::Value> {
    scope::check_declared::<F>();
    let key = cache::key::<F>(arg);
    let speculating = node.transport.is_speculating();
    let reusable = match F::LIFETIME {
        Lifetime::Run => true,
        Lifetime::Volatile => scope::caching() || speculating,
        Lifetime::Never => false,
    };
    if reusable {
        if let Some(v) = node.facts.lock().ok().and_then(|c| c.get::<F>(&key)) {
            return Ok(v);
        }
    }
    if speculating {
        if F::LIFETIME == Lifetime::Never {
            if let Some(value) = prefetch::moment_read::<F>(node, arg) {
                return value;
            }
        }
        // Planning ahead: note it for the next batch instead of reading it.
        return Err(prefetch::want::<F>(node, arg, key));
    }
    read::<F>(node, arg, key)
}

/// [`get`], except that while planning ahead ([`prefetch`]) a value not read yet is
/// noted for the next batch and `placeholder` stands in for it, so that the plan goes
/// on to the reads that do not depend on it (a list of option files: all of them in one
/// batch, not one per pass). Only for reads whose value decides nothing about which
/// other facts are wanted, beyond what a placeholder makes the plan read anyway.
pub fn get_or_placeholder<F: Fact>(
    node: &NodeHandle,
    arg: &F::Arg,
    placeholder: F::Value,
) -> Result<F::Value> {
    match get::<F>(node, arg) {
        Err(e) if node.transport.is_speculating() && crate::transport::is_speculated(&e) => {
            Ok(placeholder)
        }
        other => other,
    }
}

/// `F` for `arg` read from the node now, whatever the cache holds (wait loops); the
/// cache keeps the new value.
pub fn fresh<F: Fact>(node: &NodeHandle, arg: &F::Arg) -> Result<F::Value> {
    scope::check_declared::<F>();
    // Planning ahead: a read that must be of the moment is neither batched nor read
    // ahead (the transport would note its command).
    if node.transport.is_speculating() {
        // Except in verify's round, whose reads of the moment come in its last batch.
        if let Some(value) = prefetch::moment_read::<F>(node, arg) {
            return value;
        }
        return Err(crate::transport::Speculated.into());
    }
    read::<F>(node, arg, cache::key::<F>(arg))
}

fn read<F: Fact>(node: &NodeHandle, arg: &F::Arg, key: String) -> Result<F::Value> {
    // The fact's own reads (and the server version its query text needs) are its
    // business, not the declaring check's.
    let _inside = scope::inside_fact();
    let server = if F::NEEDS_SERVER {
        Some(dialect(node)?)
    } else {
        None
    };
    let raw = read_raw(node, &F::source(arg, server.as_ref()))?;
    // Parse errors pass unchanged: a fact whose message names the node says so itself.
    let value = F::parse(arg, &raw)?;
    if F::LIFETIME != Lifetime::Never {
        if let Ok(mut c) = node.facts.lock() {
            c.put::<F>(key, value.clone());
        }
    }
    Ok(value)
}

/// `F` for `arg` read through a bare transport, uncached: for plans that take a
/// transport rather than a node (the firewall, selinux and apparmor steps). Command and
/// file facts only (a query needs the node's SQL connection).
pub fn read_on<F: Fact>(t: &dyn crate::transport::Transport, arg: &F::Arg) -> Result<F::Value> {
    scope::check_declared::<F>();
    if F::LIFETIME == Lifetime::Never && t.is_speculating() {
        return Err(crate::transport::Speculated.into());
    }
    let _inside = scope::inside_fact();
    let raw = match F::source(arg, None) {
        Source::Query(_) => return Err(anyhow!("{}: {} needs SQL", t.node(), F::NAME)),
        source => read_raw_on(t, &source)?,
    };
    F::parse(arg, &raw)
}

/// Run a [`Source`] on `node`.
fn read_raw(node: &NodeHandle, source: &Source) -> Result<Raw> {
    match source {
        Source::Query(sql) => Ok(Raw::Rows(node.with_sql(|c| c.query(sql))?)),
        other => read_raw_on(node.transport.as_ref(), other),
    }
}

/// Run a command or file [`Source`] through a transport.
pub(super) fn read_raw_on(t: &dyn crate::transport::Transport, source: &Source) -> Result<Raw> {
    Ok(match source {
        Source::Command {
            script,
            must_succeed: true,
        } => {
            let stdout = t.run_ok(&RemoteCommand::new(script.clone()))?;
            Raw::Output(CommandOutput {
                status: 0,
                stdout,
                stderr: String::new(),
            })
        }
        Source::Command { script, .. } => Raw::Output(t.run(&RemoteCommand::new(script.clone()))?),
        Source::Query(_) => unreachable!("queries run on a node's SQL connection"),
        Source::File(path) => Raw::File(t.read_file(path)?),
    })
}

/// Keep `value` as `F` for `arg` on `node`, as if it had been read: how a batched read
/// (several facts in one round trip) fills the cache, and how operation tests plan from
/// fact values alone.
pub fn remember<F: Fact>(node: &NodeHandle, arg: &F::Arg, value: F::Value) {
    if let Ok(mut c) = node.facts.lock() {
        c.put::<F>(cache::key::<F>(arg), value);
    }
}

/// Run `f` with volatile facts cached on this thread (the engine's planning, one verify
/// round). Scopes nest.
pub fn cached<T>(f: impl FnOnce() -> T) -> T {
    let _scope = scope::caching_scope();
    f()
}

/// A change was applied (on any node of `cluster`): drop every node's volatile facts.
pub fn changed(cluster: &Cluster) {
    for node in &cluster.nodes {
        if let Some(r) = node.transport.read_ahead() {
            r.forget();
        }
        if let Ok(mut c) = node.facts.lock() {
            c.forget_volatile();
        }
    }
}

/// A read that is not one typed fact (a separate login through the VIP, the checksum's
/// per-table loop) still declares its kind, so verify's enforcement covers it.
pub fn untyped<T>(kind: FactKind, f: impl FnOnce() -> Result<T>) -> Result<T> {
    scope::check_kind(kind, "(untyped read)");
    let _inside = scope::inside_fact();
    f()
}
