//! `access-users`: the inventory's `access.users`, one account per client network, none
//! for other hosts, and exactly the listed privileges. (`access-defaults` lives in
//! `verify::access_defaults`.)

use crate::dialect::quote_account;
use crate::verify::registry::{CheckKind, Fact, Run, Scope, SqlCtx, When};
use crate::verify::{Check, Severity};
use anyhow::Result;

/// `access-users`: every listed account as the inventory says, and no other.
pub const ACCESS_USERS: CheckKind = CheckKind {
    name: "access-users",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::Accounts],
    when: When::AccessUsersListed,
    run: Run::Sql {
        check: |c| Some(access_users(c)),
        listed_when_sql_down: true,
    },
};

/// Passwords are not checked: on MySQL that needs a short-lived account (bootstrap's
/// `app-users` step does it), and verify changes nothing.
fn access_users(c: &SqlCtx) -> Result<Check> {
    let (node, inv) = (c.host.node, c.host.inv);
    let mut problems = Vec::new();
    let mut fine = Vec::new();
    for (u, user) in inv.access.users.iter().enumerate() {
        let (wanted, hosts) = crate::accounts::wanted_account(u, user)?;
        let existing = crate::facts::accounts::account_hosts(node, &user.name)?;
        for stale in existing.iter().filter(|h| !hosts.contains(h)) {
            problems.push(format!(
                "{} exists but access.users[{u}].networks does not list it",
                quote_account(&user.name, stale)
            ));
        }
        for host in &hosts {
            let account = quote_account(&user.name, host);
            if !existing.contains(host) {
                problems.push(format!("{account} does not exist"));
                continue;
            }
            let lines = crate::facts::accounts::grant_lines(node, &user.name, host)?;
            let actual = crate::inventory::parse_show_grants(&lines);
            let changes = crate::dialect::grant_changes(&account, &wanted, &actual);
            if changes.is_empty() {
                fine.push(account);
            } else {
                problems.push(format!(
                    "privileges of {account} differ from access.users[{u}].privileges (bootstrap would run: {})",
                    changes.join("; ")
                ));
            }
        }
    }
    Ok(access_users_from(&node.name, &fine, &problems))
}

/// `access-users` on the accounts found right and the problems found.
pub fn access_users_from(n: &str, fine: &[String], problems: &[String]) -> Check {
    if problems.is_empty() {
        ACCESS_USERS.pass(
            n,
            format!(
                "{} with exactly the inventory's privileges",
                fine.join(", ")
            ),
        )
    } else {
        ACCESS_USERS.fail(n, problems.join("; "))
    }
}
