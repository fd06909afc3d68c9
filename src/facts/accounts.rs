//! Facts about the server's accounts: the hosts a user name exists for, whether one
//! account exists, and its `SHOW GRANTS`. Queries from `dialect/accounts.rs`; the
//! decisions on them are `accounts`' and the `dialect`'s (`grants_cover_replication`).
//! Volatile: bootstrap's account steps change them (the engine drops them after).

use super::{get, Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use anyhow::Result;

/// A user name and a host: one account ([`AccountExists`], [`GrantLines`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    /// The user name.
    pub user: String,
    /// The host pattern.
    pub host: String,
}

impl super::cache::FactArg for Account {
    fn key(&self) -> String {
        format!("{}@{}", self.user, self.host)
    }
}

/// The account `user@host`.
pub fn account(user: &str, host: &str) -> Account {
    Account {
        user: user.into(),
        host: host.into(),
    }
}

/// The hosts that accounts named `user` exist for.
pub struct AccountHosts;

impl Fact for AccountHosts {
    type Arg = str;
    type Value = Vec<String>;
    const NAME: &'static str = "account-hosts";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(user: &str, _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::account_hosts_sql(user))
    }
    fn parse(_: &str, raw: &Raw) -> Result<Vec<String>> {
        Ok(raw
            .rows()?
            .iter()
            .filter_map(|r| crate::sql::get(r, "host").map(str::to_string))
            .collect())
    }
}

/// Does the account `user@host` exist?
pub struct AccountExists;

impl Fact for AccountExists {
    type Arg = Account;
    type Value = bool;
    const NAME: &'static str = "account-exists";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(a: &Account, d: Option<&Dialect>) -> Source {
        Source::Query(d.expect("NEEDS_SERVER").count_account_sql(&a.user, &a.host))
    }
    fn parse(_: &Account, raw: &Raw) -> Result<bool> {
        Ok(raw.rows()?.first().and_then(|r| crate::sql::get(r, "n")) == Some("1"))
    }
}

/// `SHOW GRANTS FOR user@host`, one statement per line.
pub struct GrantLines;

impl Fact for GrantLines {
    type Arg = Account;
    type Value = Vec<String>;
    const NAME: &'static str = "grants";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(a: &Account, d: Option<&Dialect>) -> Source {
        Source::Query(d.expect("NEEDS_SERVER").show_grants_sql(&a.user, &a.host))
    }
    fn parse(_: &Account, raw: &Raw) -> Result<Vec<String>> {
        Ok(raw
            .rows()?
            .iter()
            .filter_map(|r| r.first().and_then(|(_, v)| v.clone()))
            .collect())
    }
}

/// The hosts that accounts named `user` exist for on the node.
pub fn account_hosts(node: &NodeHandle, user: &str) -> Result<Vec<String>> {
    get::<AccountHosts>(node, user)
}

/// Does `user@host` exist on the node?
pub fn account_exists(node: &NodeHandle, user: &str, host: &str) -> Result<bool> {
    get::<AccountExists>(node, &account(user, host))
}

/// `SHOW GRANTS FOR user@host` on the node, one statement per line.
pub fn grant_lines(node: &NodeHandle, user: &str, host: &str) -> Result<Vec<String>> {
    get::<GrantLines>(node, &account(user, host))
}

/// `SHOW DATABASES`: every database's name.
pub struct Databases;

impl Fact for Databases {
    type Arg = ();
    type Value = Vec<String>;
    const NAME: &'static str = "databases";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::show_databases_sql().into())
    }
    fn parse(_: &(), raw: &Raw) -> Result<Vec<String>> {
        Ok(raw
            .rows()?
            .iter()
            .filter_map(|r| r.first().and_then(|(_, v)| v.clone()))
            .collect())
    }
}

/// Every database on the node (`SHOW DATABASES`).
pub fn databases(node: &NodeHandle) -> Result<Vec<String>> {
    get::<Databases>(node, &())
}

/// Rows of (user, host) from a query that selects them as `User`/`user` and
/// `Host`/`host` (column names are matched without case).
fn user_host_rows(raw: &Raw) -> Result<Vec<(String, String)>> {
    Ok(raw
        .rows()?
        .iter()
        .map(|r| {
            (
                crate::sql::get(r, "user").unwrap_or_default().to_string(),
                crate::sql::get(r, "host").unwrap_or_default().to_string(),
            )
        })
        .collect())
}

/// The anonymous accounts (`''@host`) a fresh install leaves: (user, host).
pub struct AnonymousAccounts;

impl Fact for AnonymousAccounts {
    type Arg = ();
    type Value = Vec<(String, String)>;
    const NAME: &'static str = "anonymous-accounts";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(_: &(), d: Option<&Dialect>) -> Source {
        Source::Query(d.expect("NEEDS_SERVER").anonymous_accounts_sql())
    }
    fn parse(_: &(), raw: &Raw) -> Result<Self::Value> {
        user_host_rows(raw)
    }
}

/// What is left of the `test` database a fresh install creates (the database, the
/// grants on `test\_%`), one description each.
pub struct TestDatabase;

impl Fact for TestDatabase {
    type Arg = ();
    type Value = Vec<String>;
    const NAME: &'static str = "test-database";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(_: &(), d: Option<&Dialect>) -> Source {
        Source::Query(d.expect("NEEDS_SERVER").test_database_sql())
    }
    fn parse(_: &(), raw: &Raw) -> Result<Vec<String>> {
        Ok(raw
            .rows()?
            .iter()
            .filter_map(|r| crate::sql::get(r, "what").map(str::to_string))
            .collect())
    }
}

/// The accounts of an exact user name (failover-test's probe account): (user, host).
pub struct UserAccounts;

impl Fact for UserAccounts {
    type Arg = str;
    type Value = Vec<(String, String)>;
    const NAME: &'static str = "user-accounts";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(user: &str, _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::probe_accounts_sql(user))
    }
    fn parse(_: &str, raw: &Raw) -> Result<Self::Value> {
        user_host_rows(raw)
    }
}

/// Does a database of this exact name exist (`SHOW DATABASES LIKE`)?
pub struct DatabaseExists;

impl Fact for DatabaseExists {
    type Arg = str;
    type Value = bool;
    const NAME: &'static str = "database-exists";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(db: &str, _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::probe_database_exists_sql(db))
    }
    fn parse(_: &str, raw: &Raw) -> Result<bool> {
        Ok(!raw.rows()?.is_empty())
    }
}
