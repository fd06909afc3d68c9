//! Facts `mhactl adopt` reads from a hand-built pair and no other command needs: every
//! account, the replicas reading this server, every replication source, the size of
//! the data and every interface address. Queries from `dialect/adopt.rs`, the command
//! from `os/addresses.rs`; all read-only.

use super::accounts::Account;
use super::{Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use crate::os::addresses::InterfaceAddress;
use anyhow::Result;

/// Every account (`mysql.user`), in order.
pub struct AllAccounts;

impl Fact for AllAccounts {
    type Arg = ();
    type Value = Vec<Account>;
    const NAME: &'static str = "all-accounts";
    const KIND: FactKind = FactKind::Accounts;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::adopt::all_accounts_sql().into())
    }
    fn parse(_: &(), raw: &Raw) -> Result<Vec<Account>> {
        Ok(raw
            .rows()?
            .iter()
            .map(|r| Account {
                user: crate::sql::get(r, "user").unwrap_or("").to_string(),
                host: crate::sql::get(r, "host").unwrap_or("").to_string(),
            })
            .collect())
    }
}

/// The hosts of the replicas reading this server's binary log now (the port after a
/// `:` dropped), distinct, in order.
pub struct ReplicaConnections;

impl Fact for ReplicaConnections {
    type Arg = ();
    type Value = Vec<String>;
    const NAME: &'static str = "replica-connections";
    const KIND: FactKind = FactKind::ReplicaStatus;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::adopt::replica_connections_sql().into())
    }
    fn parse(_: &(), raw: &Raw) -> Result<Vec<String>> {
        let mut hosts: Vec<String> = raw
            .rows()?
            .iter()
            .filter_map(|r| crate::sql::get(r, "host"))
            .map(|h| h.rsplit_once(':').map_or(h, |(host, _)| host).to_string())
            .collect();
        hosts.sort();
        hosts.dedup();
        Ok(hosts)
    }
}

/// One replication source of this server: its connection (MariaDB) or channel (MySQL)
/// name and its host.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SourceEntry {
    /// The connection or channel name (empty: the default one).
    pub name: String,
    /// `Master_Host` / `Source_Host`.
    pub host: String,
}

/// Every replication source (every named connection or channel).
pub struct AllSources;

impl Fact for AllSources {
    type Arg = ();
    type Value = Vec<SourceEntry>;
    const NAME: &'static str = "all-sources";
    const KIND: FactKind = FactKind::ReplicaStatus;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(_: &(), d: Option<&Dialect>) -> Source {
        Source::Query(d.expect("NEEDS_SERVER").all_sources_sql())
    }
    fn parse(_: &(), raw: &Raw) -> Result<Vec<SourceEntry>> {
        Ok(raw
            .rows()?
            .iter()
            .map(|r| {
                let get = |cols: &[&str]| {
                    cols.iter()
                        .find_map(|c| crate::sql::get(r, c))
                        .unwrap_or("")
                        .to_string()
                };
                SourceEntry {
                    name: get(&["Connection_name", "Channel_Name"]),
                    host: get(&["Master_Host", "Source_Host"]),
                }
            })
            .collect())
    }
}

/// Data and index size of the databases that are not the server's own, in KiB.
pub struct UserDataSize;

impl Fact for UserDataSize {
    type Arg = ();
    type Value = u64;
    const NAME: &'static str = "user-data-size";
    const KIND: FactKind = FactKind::Tables;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::adopt::user_data_size_kib_sql())
    }
    fn parse(_: &(), raw: &Raw) -> Result<u64> {
        Ok(raw
            .rows()?
            .first()
            .and_then(|r| crate::sql::get(r, "kib"))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0))
    }
}

/// Every IPv4 address of every interface.
pub struct AllInterfaceAddresses;

impl Fact for AllInterfaceAddresses {
    type Arg = ();
    type Value = Vec<InterfaceAddress>;
    const NAME: &'static str = "all-interface-addresses";
    const KIND: FactKind = FactKind::Addresses;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Command {
            script: crate::os::addresses::ALL_ADDRESSES_COMMAND.into(),
            must_succeed: true,
        }
    }
    fn parse(_: &(), raw: &Raw) -> Result<Vec<InterfaceAddress>> {
        Ok(crate::os::addresses::parse_interface_addresses(
            &raw.output()?.stdout,
        ))
    }
}
