//! verify's `durability` check: the running server uses the durability and crash-safe
//! replication settings `mysql.durability` asks for (read with `SELECT @@GLOBAL.x`,
//! not from mhactl's file, which another option file loaded later can override).

use super::registry::{CheckKind, Fact, Run, Scope, When};
use super::{Check, Severity};
use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use crate::facts;
use crate::inventory::{Durability, Inventory};
use anyhow::Result;

/// Check name.
pub const NAME: &str = DURABILITY.name;

/// `durability`: the running server's durability settings are `mysql.durability`'s.
pub const DURABILITY: CheckKind = CheckKind {
    name: "durability",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::Variables],
    when: When::Always,
    run: Run::Sql {
        check: |c| Some(durability_check(c.host.node, c.host.inv, c.dialect)),
        // Left out, not listed as not run, when the server does not answer: so it was
        // before the registry (issue 15 changes no output); the lead may list it.
        listed_when_sql_down: false,
    },
};

/// Compare the server's running values with [`Dialect::durability_options`].
pub fn durability_check(node: &NodeHandle, inv: &Inventory, d: &Dialect) -> Result<Check> {
    let n = node.name.as_str();
    let mut found = Vec::new();
    let mut wrong = Vec::new();
    for o in d.durability_options(inv.mysql.durability) {
        let live = facts::variable(node, o.name)?.unwrap_or_else(|| "(unset)".into());
        found.push(format!("{} {}", o.name, o.value));
        if !live.eq_ignore_ascii_case(o.running) {
            wrong.push(format!("{} is {live}, want {}", o.name, o.value));
        }
    }
    let mode = match inv.mysql.durability {
        Durability::Full => "full",
        Durability::Relaxed => "relaxed",
    };
    Ok(if wrong.is_empty() {
        Check::pass(
            NAME,
            n,
            format!("mysql.durability {mode}: {}", found.join(", ")),
        )
    } else {
        Check::fail(
            NAME,
            n,
            format!(
                "mysql.durability {mode}, but the running server's {}: an option file loaded \
                 after mhactl's overrides it, or the server was not restarted since (bootstrap \
                 restarts it)",
                wrong.join(", ")
            ),
        )
    })
}
