//! Whether an account's stored hash is a given password's, where the server can tell
//! (MariaDB's `PASSWORD()`): bootstrap's `replication-user` step re-sets the replication
//! password when it is not the inventory's. A fact (issue 21) so that it comes in the
//! run's batches instead of a query of its own after them.
//!
//! Its query carries the password, as the query it replaces did ([`Fact::SOURCE_HAS_SECRET`]):
//! it goes only to the node's SQL connection (a forwarded socket, never an argv); the
//! cache key is the account alone (`account-password:repl@10.0.0.12`), which is what the
//! prefetch's debug log shows. One password per account per run (the inventory's).

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
    const SOURCE_HAS_SECRET: bool = true;
    fn source(a: &AccountPassword, d: Option<&Dialect>) -> Source {
        let (user, host) = (&a.account.user, &a.account.host);
        Source::Query(
            d.expect("NEEDS_SERVER")
                .password_matches_sql(user, host, a.password.expose_secret())
                .expect("asked only where the server compares passwords (MariaDB)"),
        )
    }
    fn parse(_: &AccountPassword, raw: &Raw) -> Result<bool> {
        Ok(raw.rows()?.first().and_then(|r| crate::sql::get(r, "n")) == Some("1"))
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
        assert!(sql.contains("PASSWORD('s3cret')"), "{sql}");
        let row = vec![("n".to_string(), Some("1".to_string()))];
        assert!(PasswordMatches::parse(&arg, &Raw::Rows(vec![row])).unwrap());
        assert!(!PasswordMatches::parse(&arg, &Raw::Rows(vec![])).unwrap());
    }
}
