//! The checks verify's driver runs first, because the others need them: `ssh` (the
//! session opener's), `root`, `os` (reported only when the OS is unknown) and `mysqld`
//! (which gives the dialect of the SQL checks).

use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use crate::inventory::Inventory;
use crate::verify::registry::{CheckKind, Fact, Run, Scope, When};
use crate::verify::{Check, Severity};
use anyhow::Result;

/// `ssh`: one multiplexed SSH connection (reported by `verify::collect` from the session).
pub const SSH: CheckKind = CheckKind {
    name: "ssh",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::Connection],
    when: When::Always,
    run: Run::Driver,
};

/// `root`: commands run as uid 0.
pub const ROOT: CheckKind = CheckKind {
    name: "root",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::UserId],
    when: When::Always,
    run: Run::Driver,
};

/// `os`: the OS family is one mhactl knows (reported only when it is not).
pub const OS: CheckKind = CheckKind {
    name: "os",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::OsRelease],
    when: When::Always,
    run: Run::Driver,
};

/// `mysqld`: the server answers SQL and is the inventory's flavor and version.
pub const MYSQLD: CheckKind = CheckKind {
    name: "mysqld",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::ServerVersion],
    when: When::Always,
    run: Run::Driver,
};

/// Read `id -u` and judge it.
pub fn root(node: &NodeHandle) -> Result<Check> {
    let uid = crate::facts::host::user_id(node)?;
    Ok(root_from_uid(&node.name, &uid))
}

/// `root` on the output of `id -u`.
pub fn root_from_uid(n: &str, uid: &str) -> Check {
    if uid.trim() == "0" {
        ROOT.pass(n, "commands run as root")
    } else {
        ROOT.fail(
            n,
            format!("commands run as uid {} (sudo not working?)", uid.trim()),
        )
    }
}

/// `mysqld` on the version the server reported.
pub fn mysqld(n: &str, d: &Dialect, inv: &Inventory) -> Check {
    match d
        .version()
        .mismatch(inv.mysql.flavor, inv.mysql.version.as_deref())
    {
        None => MYSQLD.pass(n, format!("{} answers SQL", d.version())),
        Some(problem) => MYSQLD.fail(n, problem),
    }
}
