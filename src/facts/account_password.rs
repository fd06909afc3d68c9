//! Whether an account's stored hash is a given password's, where the server can tell
//! (MariaDB's `PASSWORD()`): bootstrap's `replication-user` step re-sets the replication
//! password when it is not the inventory's. A fact (issue 21) so that it comes in the
//! run's batches instead of a query of its own after them.
//!
//! Its query reads the account's plugin and stored hash only; the password is compared
//! with it here ([`crate::dialect::native_password_hash_matches`]), never sent in a query (so the read
//! can be remembered and batched like any). The cache key is the account alone
//! (`account-password:repl@10.0.0.12`), which is what the prefetch's debug log shows.
//! One password per account per run (the inventory's).

use super::accounts::Account;
use super::{Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use anyhow::Result;
use secrecy::{ExposeSecret, SecretString};

/// An account and the password to compare its stored hash with.
#[derive(Clone)]
pub struct AccountPassword {
    /// The account.
    pub account: Account,
    /// The password (never in the key).
    pub password: SecretString,
}

impl super::cache::FactArg for AccountPassword {
    fn key(&self) -> String {
        self.account.key()
    }
}

/// Does the account's stored hash match the password? Only where
/// [`Dialect::password_matches_sql`] has a query (MariaDB); elsewhere the caller logs in
/// with the password instead and never asks this fact.
pub struct PasswordMatches;

impl Fact for PasswordMatches {
    type Arg = AccountPassword;
    type Value = bool;
    const NAME: &'static str = "account-password";
    const KIND: FactKind = FactKind::Accounts;
    // Volatile: the account steps change it (the engine drops it after).
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(a: &AccountPassword, d: Option<&Dialect>) -> Source {
        let (user, host) = (&a.account.user, &a.account.host);
        Source::Query(d.expect("NEEDS_SERVER").account_auth_sql(user, host))
    }
    fn parse(a: &AccountPassword, raw: &Raw) -> Result<bool> {
        let Some(row) = raw.rows()?.first().cloned() else {
            return Ok(false);
        };
        let plugin = crate::sql::get(&row, "plugin").unwrap_or("");
        let auth = crate::sql::get(&row, "auth").unwrap_or("");
        // Asked only where the server's own comparison is `PASSWORD()`'s (MariaDB).
        Ok(crate::dialect::native_password_hash_matches(
            plugin,
            auth,
            a.password.expose_secret(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::cache::FactArg;

    #[test]
    fn the_key_names_the_account_and_never_the_password() {
        let arg = AccountPassword {
            account: Account {
                user: "repl".into(),
                host: "10.0.0.12".into(),
            },
            password: SecretString::from("s3cret"),
        };
        assert_eq!(arg.key(), "repl@10.0.0.12");
        let d = Dialect::from_version_string("10.11.6-MariaDB").unwrap();
        let Source::Query(sql) = PasswordMatches::source(&arg, Some(&d)) else {
            panic!("a query");
        };
        assert!(!sql.contains("s3cret"), "{sql}");
        // MariaDB's PASSWORD('password'), as `HEX(authentication_string)` reads it.
        let stored: String = "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
            .bytes()
            .map(|b| format!("{b:02X}"))
            .collect();
        let row = |plugin: &str| {
            vec![
                ("plugin".to_string(), Some(plugin.to_string())),
                ("auth".to_string(), Some(stored.clone())),
            ]
        };
        let password = |pw: &str| AccountPassword {
            password: SecretString::from(pw.to_string()),
            ..arg.clone()
        };
        let rows = |plugin: &str| Raw::Rows(vec![row(plugin)]);
        assert!(
            PasswordMatches::parse(&password("password"), &rows("mysql_native_password")).unwrap()
        );
        assert!(PasswordMatches::parse(&password("password"), &rows("")).unwrap());
        assert!(
            !PasswordMatches::parse(&password("Password"), &rows("mysql_native_password")).unwrap()
        );
        assert!(!PasswordMatches::parse(&password("password"), &rows("ed25519")).unwrap());
        assert!(!PasswordMatches::parse(&arg, &Raw::Rows(vec![])).unwrap());
    }
}
