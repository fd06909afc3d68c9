//! Accounts and grants: what the inventory wants for an `access.users` entry, and what
//! a node has (its hosts for a user name, `SHOW GRANTS`). Read by the `app-users`
//! bootstrap step, the account guard and verify's account checks.

use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use crate::inventory;
use anyhow::{anyhow, Result};
use std::collections::{BTreeMap, BTreeSet};

/// Privileges per object, as the inventory lists them or as SHOW GRANTS shows them.
pub type Grants = BTreeMap<inventory::GrantObject, BTreeSet<String>>;

/// What the inventory wants for `access.users[u]`: its privileges, and one MySQL host
/// pattern per client network. Errors name the field.
pub fn wanted_account(u: usize, user: &inventory::AccessUser) -> Result<(Grants, Vec<String>)> {
    let grants = user
        .privileges
        .iter()
        .map(|g| inventory::parse_grant(g))
        .collect::<std::result::Result<Vec<_>, String>>()
        .map_err(|e| anyhow!("access.users[{u}].privileges: {e}"))?;
    let hosts = user
        .networks
        .iter()
        .map(|n| inventory::parse_network(n).map(|n| n.mysql_host()))
        .collect::<std::result::Result<Vec<_>, String>>()
        .map_err(|e| anyhow!("access.users[{u}].networks: {e}"))?;
    Ok((inventory::wanted_grants(&grants), hosts))
}

/// The hosts that accounts named `user` exist for on the node.
pub fn account_hosts(node: &NodeHandle, user: &str) -> Result<Vec<String>> {
    Ok(node
        .with_sql(|sql| sql.query(&crate::dialect::account_hosts_sql(user)))?
        .iter()
        .filter_map(|r| crate::sql::get(r, "host").map(str::to_string))
        .collect())
}

/// `SHOW GRANTS FOR user@host`, one statement per line.
pub fn grant_lines(node: &NodeHandle, d: &Dialect, user: &str, host: &str) -> Result<Vec<String>> {
    Ok(node
        .with_sql(|sql| sql.query(&d.show_grants_sql(user, host)))?
        .iter()
        .filter_map(|r| r.first().and_then(|(_, v)| v.clone()))
        .collect())
}
