//! Facts about TLS for replication (issue 19): the node's TLS files (owner, mode,
//! SHA-256: never the content) and an account's TLS requirement. The replica's TLS
//! settings come from the replica status row (`dialect::ReplicaTls`); the certificate
//! itself (not a secret) is read as a file.

use super::accounts::Account;
use super::{get, Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use crate::engine::NodeHandle;
use crate::os::tls::FileState;
use anyhow::Result;
use std::collections::BTreeMap;

/// The TLS directory and its three files ([`crate::os::tls::probe_command`]).
pub struct TlsFiles;

impl Fact for TlsFiles {
    type Arg = str;
    type Value = BTreeMap<String, FileState>;
    const NAME: &'static str = "tls-files";
    const KIND: FactKind = FactKind::RenderedFile;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(dir: &str, _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::tls::probe_command(dir),
            must_succeed: true,
        }
    }
    fn parse(_: &str, raw: &Raw) -> Result<Self::Value> {
        Ok(crate::os::tls::parse_probe(&raw.output()?.stdout))
    }
}

/// An account's `ssl_type` (`""`: none, `ANY`: REQUIRE SSL, ...; `None`: no account).
pub struct AccountSslType;

impl Fact for AccountSslType {
    type Arg = Account;
    type Value = Option<String>;
    const NAME: &'static str = "account-ssl-type";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(a: &Account, d: Option<&Dialect>) -> Source {
        Source::Query(
            d.expect("NEEDS_SERVER")
                .account_ssl_type_sql(&a.user, &a.host),
        )
    }
    fn parse(_: &Account, raw: &Raw) -> Result<Option<String>> {
        Ok(raw
            .rows()?
            .first()
            .map(|r| crate::sql::get(r, "ssl_type").unwrap_or("").to_string()))
    }
}

/// The TLS files in `dir` on `node`.
pub fn tls_files(node: &NodeHandle, dir: &str) -> Result<BTreeMap<String, FileState>> {
    get::<TlsFiles>(node, dir)
}

/// `user@host`'s `ssl_type` on `node`.
pub fn account_ssl_type(node: &NodeHandle, user: &str, host: &str) -> Result<Option<String>> {
    get::<AccountSslType>(
        node,
        &Account {
            user: user.into(),
            host: host.into(),
        },
    )
}
