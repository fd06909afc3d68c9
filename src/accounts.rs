//! Accounts and grants: what the inventory wants for an `access.users` entry, and what
//! a node has (its hosts for a user name, `SHOW GRANTS`). Read by the `app-users`
//! bootstrap step, the account guard and verify's account checks.

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

// What a node has is read through facts (`facts::accounts`); the old paths stay.
pub use crate::facts::accounts::{account_hosts, grant_lines};

/// A random password for an account mhactl makes for itself (failover-test's probe,
/// the fence agent's login): 32 hex digits from the kernel's random
/// source, framed so that MySQL's validate_password accepts it at any policy (upper and
/// lower case, a digit and a special character; 36 characters, no dictionary word).
pub fn random_password() -> anyhow::Result<String> {
    let mut bytes = [0u8; 16];
    std::io::Read::read_exact(&mut std::fs::File::open("/dev/urandom")?, &mut bytes)?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Ok(format!("Pr-{hex}.q7"))
}
