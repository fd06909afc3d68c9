//! verify's `access-defaults` check: no anonymous accounts and no `test` database (nor
//! grants opening `test` / `test\_%` to everyone) on the node — what a packaged install
//! or mysql_secure_installation leaves, and what mhactl's own initialisation leaves. An
//! anonymous account lets anyone in; the `test` grants let any account create tables
//! that replicate to the peer and can stop its replication.

use super::registry::{CheckKind, Fact, Run, Scope, When};
use super::{Check, Severity};
use crate::dialect::{quote_account, Dialect};
use crate::engine::NodeHandle;
use anyhow::Result;

/// `access-defaults`: no anonymous accounts, no `test` database or grants on it.
pub const ACCESS_DEFAULTS: CheckKind = CheckKind {
    name: "access-defaults",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::Accounts],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(access_defaults_check(c.host.node, c.dialect)),
        // Left out, not listed as not run, when the server does not answer: so it was
        // before the registry (issue 15 changes no output); the lead may list it.
        listed_when_sql_down: false,
    },
};

/// The check for one node.
pub fn access_defaults_check(node: &NodeHandle, d: &Dialect) -> Result<Check> {
    let n = node.name.as_str();
    use crate::facts::accounts::{AnonymousAccounts, TestDatabase};
    let anonymous = crate::facts::get::<AnonymousAccounts>(node, &())?;
    let test = crate::facts::get::<TestDatabase>(node, &())?;
    let found: Vec<String> = anonymous
        .iter()
        .map(|(user, host)| format!("anonymous account {}", quote_account(user, host)))
        .chain(test)
        .collect();
    Ok(if found.is_empty() {
        Check::pass(
            "access-defaults",
            n,
            "no anonymous accounts, no test database, no grants on test/test\\_%",
        )
    } else {
        Check::fail(
            "access-defaults",
            n,
            format!(
                "{} (usually left by {}); remove them as mysql_secure_installation does, with \
                 `{}` first: {}",
                found.join(", "),
                d.insecure_defaults_origin(),
                d.session_no_binlog_sql(),
                d.remove_insecure_defaults_sql(&anonymous).join("; ")
            ),
        )
    })
}
