//! An account's stored password hash (its authentication plugin and the hash, hex), so
//! that bootstrap's `replication-user` and `app-users` steps can tell whether the
//! account takes the inventory's password ([`crate::dialect::Dialect::stored_password_matches`])
//! without the password in a query, a login or a scratch account (issue 21): a read in
//! the run's batches like any other. Never printed; the remembered reads keep only the
//! query (`facts::remembered`), never a value.

use super::accounts::Account;
use super::{Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use anyhow::Result;

/// What the server stores for an account's password.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    /// `mysql.user.plugin` (empty on an old MariaDB account: native).
    pub plugin: String,
    /// `HEX(authentication_string)`.
    pub hash_hex: String,
}

/// `user@host`'s stored hash; `None` when the account does not exist.
pub struct StoredHash;

impl Fact for StoredHash {
    type Arg = Account;
    type Value = Option<Stored>;
    const NAME: &'static str = "stored-hash";
    const KIND: FactKind = FactKind::Accounts;
    // Volatile: the account steps change it (the engine drops it after).
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(a: &Account, d: Option<&Dialect>) -> Source {
        Source::Query(d.expect("NEEDS_SERVER").account_auth_sql(&a.user, &a.host))
    }
    fn parse(_: &Account, raw: &Raw) -> Result<Option<Stored>> {
        Ok(raw.rows()?.first().map(|row| Stored {
            plugin: crate::sql::get(row, "plugin").unwrap_or("").to_string(),
            hash_hex: crate::sql::get(row, "auth").unwrap_or("").to_string(),
        }))
    }
}

/// Does `user@host` on the node take `password`? `None`: its plugin's hash cannot be
/// compared here (the caller logs in instead); `Some(false)` also when it is missing.
pub fn password_matches(
    node: &crate::engine::NodeHandle,
    account: &Account,
    password: &secrecy::SecretString,
) -> Result<Option<bool>> {
    use secrecy::ExposeSecret;
    let Some(stored) = super::get::<StoredHash>(node, account)? else {
        return Ok(Some(false));
    };
    let d = super::dialect(node)?;
    Ok(d.stored_password_matches(&stored.plugin, &stored.hash_hex, password.expose_secret()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_read_names_the_account_only() {
        let d = Dialect::from_version_string("10.11.6-MariaDB").unwrap();
        let a = Account {
            user: "repl".into(),
            host: "10.0.0.12".into(),
        };
        let Source::Query(sql) = StoredHash::source(&a, Some(&d)) else {
            panic!("a query");
        };
        assert!(
            sql.contains("'repl'") && sql.contains("'10.0.0.12'"),
            "{sql}"
        );
        let row = vec![
            (
                "plugin".to_string(),
                Some("mysql_native_password".to_string()),
            ),
            ("auth".to_string(), Some("2A32".to_string())),
        ];
        assert_eq!(
            StoredHash::parse(&a, &Raw::Rows(vec![row])).unwrap(),
            Some(Stored {
                plugin: "mysql_native_password".into(),
                hash_hex: "2A32".into()
            })
        );
        assert_eq!(StoredHash::parse(&a, &Raw::Rows(vec![])).unwrap(), None);
    }
}
