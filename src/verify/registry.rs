//! The registry of verify's check kinds, in the spirit of ripgrep's flag registry: each
//! kind is one [`CheckKind`] constant, declared once next to its code (name, severity,
//! scope, what it reads, how it runs), and [`CHECKS`] lists them all in the order
//! verify reports them. verify runs them from this list; `partial` derives from it the
//! checks it reports as not run; a test holds docs/verify.md's tables to it.

use super::checks::{
    access, arbiter, checksum, fencing, host, keepalived, mysqld, pair, replication, switchover,
    tls, vip_refuse,
};
use super::Check;
use super::Severity;
use crate::dialect::Dialect;
use crate::dialect::ReplicaStatus;
use crate::engine::{Cluster, NodeHandle};
use crate::inventory::{Inventory, Secrets};
use crate::os::OsTarget;
use anyhow::Result;
use std::cell::OnceCell;

/// One kind of check: what verify reports under one stable name.
pub struct CheckKind {
    /// Stable name (`replication-threads`): scripts match on it.
    pub name: &'static str,
    /// What a failure of the check means at worst (a failed read is always an error).
    pub severity: Severity,
    /// About one node, or about the pair (node `cluster`).
    pub scope: Scope,
    /// What it reads from the node(s): the only facts it may read (enforced, see
    /// [`Fact`]), and what says whether it needs SQL.
    pub reads: &'static [Fact],
    /// When it applies at all.
    pub when: When,
    /// How verify runs it.
    pub run: Run,
}

/// About one node, or about the pair.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// One result per node.
    Node,
    /// One result for the pair, node `cluster`; not run while a node is unreachable.
    Pair,
}

/// What a check reads: the kinds of facts ([`crate::facts::FactKind`]). Enforced: verify
/// runs each check inside [`crate::facts::scope::declare`] with its `reads`, and a fact of
/// another kind, or a raw read outside any fact, fails every test that runs the check.
pub use crate::facts::FactKind as Fact;

/// When a check applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// Every run.
    Always,
    /// The inventory lists `access.users`.
    AccessUsersListed,
    /// `verify --checksum`.
    Checksum,
}

impl When {
    /// Does the check apply to this run?
    pub fn holds(self, inv: &Inventory, checksum: bool) -> bool {
        match self {
            When::Always => true,
            When::AccessUsersListed => !inv.access.users.is_empty(),
            When::Checksum => checksum,
        }
    }
}

/// What a node check has at hand.
#[derive(Clone, Copy)]
pub struct NodeCtx<'a> {
    /// Both nodes (a check may read the peer).
    pub cluster: &'a Cluster,
    /// The inventory: what the node should be.
    pub inv: &'a Inventory,
    /// The resolved secrets (for rendering files to compare).
    pub secrets: &'a Secrets,
    /// The node's index.
    pub i: usize,
    /// The node checked.
    pub node: &'a NodeHandle,
    /// Its OS and flavor (paths, services).
    pub target: &'a OsTarget,
}

/// What a node check that needs SQL has at hand.
pub struct SqlCtx<'a> {
    /// What every node check has.
    pub host: NodeCtx<'a>,
    /// The running server's dialect.
    pub dialect: &'a Dialect,
    /// `SHOW REPLICA STATUS`, read once for the replication checks.
    pub replica: OnceCell<std::result::Result<Option<ReplicaStatus>, String>>,
}

impl SqlCtx<'_> {
    /// The node's replica status (read on first use; the error as text).
    pub fn replica(&self) -> &std::result::Result<Option<ReplicaStatus>, String> {
        self.replica.get_or_init(|| {
            crate::facts::replica_status(self.host.node).map_err(|e| format!("{e:#}"))
        })
    }
}

/// What a pair check has at hand.
pub struct PairCtx<'a> {
    /// Both nodes.
    pub cluster: &'a Cluster,
    /// The inventory.
    pub inv: &'a Inventory,
    /// The resolved secrets (the replication password, for SQL through the VIP).
    pub secrets: &'a Secrets,
    /// The nodes holding the VIP, read once (the error as text).
    pub holders: OnceCell<std::result::Result<Vec<usize>, String>>,
}

/// How verify runs a kind. `None` from a run function: the check does not apply this
/// time (an earlier one already says why), so nothing is reported.
pub enum Run {
    /// Run by verify's driver before the others, which depend on it (`ssh`, `root`,
    /// `os`, `mysqld`), or outside `check_cluster` (`probe-leftovers`).
    Driver,
    /// A node check that needs no SQL: runs even when the server does not answer.
    Host(fn(&NodeCtx) -> Option<Result<Check>>),
    /// A node check that needs SQL; with the server not answering it is not run (or,
    /// with `listed_when_sql_down` false, left out).
    Sql {
        /// The check.
        check: fn(&SqlCtx) -> Option<Result<Check>>,
        /// Listed as not run when the server does not answer (else left out).
        listed_when_sql_down: bool,
    },
    /// A check about the pair.
    Pair(fn(&PairCtx) -> Option<Result<Check>>),
}

impl CheckKind {
    /// A passing result.
    pub fn pass(&self, node: &str, detail: impl Into<String>) -> Check {
        Check::pass(self.name, node, detail)
    }
    /// A failing error-level result.
    pub fn fail(&self, node: &str, detail: impl Into<String>) -> Check {
        Check::fail(self.name, node, detail)
    }
    /// A failing warning-level result.
    pub fn warn(&self, node: &str, detail: impl Into<String>) -> Check {
        Check::warn(self.name, node, detail)
    }
    /// Run `f` (this kind's check) allowed to read only the facts it declares.
    pub fn declared<T>(&self, f: impl FnOnce() -> T) -> T {
        let _declared = crate::facts::scope::declare(self.name, self.reads);
        f()
    }
    /// Does it read through SQL?
    pub fn needs_sql(&self) -> bool {
        self.reads.iter().any(|f| f.is_sql())
    }
}

/// Every check kind, in the order verify reports them: per node (both nodes in
/// parallel), then about the pair, then `probe-leftovers`.
pub const CHECKS: &[&CheckKind] = &[
    &host::SSH,
    &host::ROOT,
    &host::OS,
    &host::MYSQLD,
    &mysqld::SERVER_ID,
    &mysqld::AUTO_INCREMENT,
    &mysqld::BINLOG,
    &mysqld::READ_ONLY,
    &replication::THREADS,
    &replication::SOURCE,
    &replication::LAG,
    &replication::SKIP_ERRORS,
    &replication::GTID,
    &mysqld::SEMI_SYNC,
    &super::durability::DURABILITY,
    &replication::USER,
    &tls::REPLICATION_TLS,
    &tls::TLS_CERTIFICATE,
    &super::access_defaults::ACCESS_DEFAULTS,
    &access::ACCESS_USERS,
    &mysqld::MY_CNF,
    &super::server_options::SERVER_OPTIONS,
    &keepalived::KEEPALIVED,
    &keepalived::KEEPALIVED_CONFIG,
    &switchover::SWITCHOVER_TRACKING,
    &vip_refuse::VIP_REFUSE,
    &pair::SERVER_ID_DISTINCT,
    &pair::CLOCK_SKEW,
    &keepalived::KEEPALIVED_PAIR,
    &arbiter::ARBITER,
    &pair::VIP,
    &pair::VIP_SQL,
    &fencing::WRITE_FENCING,
    &checksum::CHECKSUM,
    &super::leftovers::PROBE_LEFTOVERS,
];

/// Run `f`; an error becomes a failed check of `kind` on `node`.
pub fn guarded(kind: &CheckKind, node: &str, f: impl FnOnce() -> Result<Check>) -> Check {
    f().unwrap_or_else(|e| kind.fail(node, format!("{e:#}")))
}

/// The node checks after the driver's: those that need SQL (run, or with `dialect`
/// `None` reported as not run), then those that do not.
pub fn run_node(ctx: NodeCtx, dialect: Option<&Dialect>, out: &mut Vec<Check>) {
    let n = ctx.node.name.as_str();
    let node_kinds = || {
        CHECKS
            .iter()
            .filter(|k| k.scope == Scope::Node && k.when.holds(ctx.inv, false))
    };
    match dialect {
        Some(dialect) => {
            let sql = SqlCtx {
                host: ctx,
                dialect,
                replica: OnceCell::new(),
            };
            for kind in node_kinds() {
                if let Run::Sql { check, .. } = kind.run {
                    if let Some(r) = kind.declared(|| check(&sql)) {
                        out.push(r.unwrap_or_else(|e| kind.fail(n, format!("{e:#}"))));
                    }
                }
            }
        }
        None => out.extend(sql_not_run(n, ctx.inv)),
    }
    for kind in node_kinds() {
        if let Run::Host(check) = kind.run {
            if let Some(r) = kind.declared(|| check(&ctx)) {
                out.push(r.unwrap_or_else(|e| kind.fail(n, format!("{e:#}"))));
            }
        }
    }
}

/// A node's checks that need SQL, as not run: its server does not answer, which the
/// failed `mysqld` check says.
pub fn sql_not_run(node: &str, inv: &Inventory) -> Vec<Check> {
    CHECKS
        .iter()
        .filter(|k| k.scope == Scope::Node && k.when.holds(inv, false))
        .filter(|k| {
            matches!(
                k.run,
                Run::Sql {
                    listed_when_sql_down: true,
                    ..
                }
            )
        })
        .map(|k| {
            Check::not_run(
                k.name,
                node,
                "not run: it needs SQL, and the server does not answer (see the mysqld check)",
            )
        })
        .collect()
}

/// The checks about the pair.
pub fn run_pair(ctx: &PairCtx, checksum: bool, out: &mut Vec<Check>) {
    for kind in CHECKS
        .iter()
        .filter(|k| k.scope == Scope::Pair && k.when.holds(ctx.inv, checksum))
    {
        if let Run::Pair(check) = kind.run {
            if let Some(r) = kind.declared(|| check(ctx)) {
                out.push(r.unwrap_or_else(|e| kind.fail("cluster", format!("{e:#}"))));
            }
        }
    }
}

/// The pair checks that apply to this run, in order (`partial` reports them as not run).
pub fn pair_checks(
    inv: &Inventory,
    checksum: bool,
) -> impl Iterator<Item = &'static CheckKind> + '_ {
    CHECKS
        .iter()
        .copied()
        .filter(move |k| k.scope == Scope::Pair && k.when.holds(inv, checksum))
}

#[cfg(test)]
#[path = "registry_tests.rs"]
mod tests;
