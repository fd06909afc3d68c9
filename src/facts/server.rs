//! Facts read through the node's SQL connection: the server's version (its dialect),
//! global variables and status, the replica status and the binary log position. The
//! query texts come from `dialect/`, the parsers are `dialect/`'s row parsers.

use super::{get, Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::{BinlogCoordinates, Dialect, ReplicaStatus};
use crate::engine::NodeHandle;
use crate::sql::Row;
use anyhow::{anyhow, Result};

/// `SELECT VERSION()`: the running server's [`Dialect`]; `None` when it returned no row.
/// Run-long: the version of a running server does not change under mhactl (reinit,
/// which swaps the data directory, forgets it: [`forget_server`]).
pub struct ServerVersion;

impl Fact for ServerVersion {
    type Arg = ();
    type Value = Option<Dialect>;
    const NAME: &'static str = "server-version";
    const KIND: FactKind = FactKind::ServerVersion;
    const LIFETIME: Lifetime = Lifetime::Run;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::version_sql().into())
    }
    fn parse(_: &(), raw: &Raw) -> Result<Option<Dialect>> {
        raw.rows()?
            .first()
            .and_then(|r| crate::sql::get(r, "version"))
            .map(Dialect::from_version_string)
            .transpose()
    }
}

/// `SELECT @@GLOBAL.name`: a global variable's value (`None`: NULL or no row).
pub struct Variable;

impl Fact for Variable {
    type Arg = str;
    type Value = Option<String>;
    const NAME: &'static str = "variable";
    const KIND: FactKind = FactKind::Variables;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(name: &str, _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::global_variable_sql(name))
    }
    fn parse(_: &str, raw: &Raw) -> Result<Option<String>> {
        Ok(raw
            .rows()?
            .first()
            .and_then(|r| crate::sql::get(r, "value"))
            .map(str::to_string))
    }
}

/// `SHOW GLOBAL STATUS WHERE Variable_name IN (..)`: each asked name with its value
/// (`None`: the server does not have it).
pub struct GlobalStatus;

impl Fact for GlobalStatus {
    type Arg = [&'static str];
    type Value = Vec<(String, Option<String>)>;
    const NAME: &'static str = "global-status";
    const KIND: FactKind = FactKind::GlobalStatus;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(names: &[&'static str], _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::show_global_status_sql(names))
    }
    fn parse(names: &[&'static str], raw: &Raw) -> Result<Self::Value> {
        let rows = raw.rows()?;
        Ok(names
            .iter()
            .map(|name| {
                let value = rows
                    .iter()
                    .find(|r| crate::sql::get(r, "Variable_name") == Some(name))
                    .and_then(|r| crate::sql::get(r, "Value"))
                    .map(str::to_string);
                (name.to_string(), value)
            })
            .collect())
    }
}

/// The replica status (`SHOW SLAVE|REPLICA STATUS`, by version).
#[derive(Debug, Clone)]
pub struct ReplicaState {
    /// The threads' state; `None` when no replication source is configured; `Err` (as
    /// text) when the row lacks a column mhactl needs, which only the readers of the
    /// threads' state report (server-options reads the filter columns of the same row).
    pub status: std::result::Result<Option<ReplicaStatus>, String>,
    /// MariaDB's `Using_Gtid` column (`None` elsewhere or without a replica).
    pub using_gtid: Option<String>,
    /// The rows as read, for parsers of the replica's history (`Dialect::replica_history`).
    pub rows: Vec<Row>,
}

/// `SHOW REPLICA STATUS` (or `SLAVE`): [`ReplicaState`].
pub struct ReplicaStatusFact;

impl Fact for ReplicaStatusFact {
    type Arg = ();
    type Value = ReplicaState;
    const NAME: &'static str = "replica-status";
    const KIND: FactKind = FactKind::ReplicaStatus;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(_: &(), d: Option<&Dialect>) -> Source {
        Source::Query(d.expect("NEEDS_SERVER").replica_status_sql())
    }
    fn parse(_: &(), raw: &Raw) -> Result<ReplicaState> {
        let rows = raw.rows()?;
        Ok(ReplicaState {
            status: ReplicaStatus::from_rows(rows).map_err(|e| format!("{e:#}")),
            using_gtid: rows
                .first()
                .and_then(|r| crate::sql::get(r, "Using_Gtid"))
                .map(str::to_string),
            rows: rows.to_vec(),
        })
    }
}

/// The binary log status (`SHOW MASTER STATUS` or its successor).
#[derive(Debug, Clone)]
pub struct BinlogState {
    /// File and position; `None` when the binary log is off; `Err` (as text) when the
    /// row lacks a column mhactl needs, which only the readers of the position report.
    pub coordinates: std::result::Result<Option<BinlogCoordinates>, String>,
    /// The rows as read (server-options reads the binary log filters from them).
    pub rows: Vec<Row>,
}

/// `SHOW MASTER STATUS` (or its successor): [`BinlogState`].
pub struct BinlogStatus;

impl Fact for BinlogStatus {
    type Arg = ();
    type Value = BinlogState;
    const NAME: &'static str = "binlog-status";
    const KIND: FactKind = FactKind::BinlogStatus;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(_: &(), d: Option<&Dialect>) -> Source {
        Source::Query(d.expect("NEEDS_SERVER").binlog_status_sql())
    }
    fn parse(_: &(), raw: &Raw) -> Result<BinlogState> {
        let rows = raw.rows()?;
        Ok(BinlogState {
            coordinates: BinlogCoordinates::from_rows(rows).map_err(|e| format!("{e:#}")),
            rows: rows.to_vec(),
        })
    }
}

/// The server's dialect, from `SELECT VERSION()` (cached for the run).
pub fn dialect(node: &NodeHandle) -> Result<Dialect> {
    get::<ServerVersion>(node, &())?
        .ok_or_else(|| anyhow!("{}: SELECT VERSION() returned nothing", node.name))
}

/// The server under `node` was replaced (reinit's fresh data directory, or its previous
/// one back): forget its version, read again on next use.
pub fn forget_server(node: &NodeHandle) {
    if let Ok(mut c) = node.facts.lock() {
        c.forget::<ServerVersion>();
    }
}

/// A global variable's value (`SELECT @@name`).
pub fn variable(node: &NodeHandle, name: &str) -> Result<Option<String>> {
    // Planning ahead (facts::prefetch): a plan reads variables one after the other;
    // with a placeholder it goes on, and all of them come in one SQL round trip.
    super::get_or_placeholder::<Variable>(node, name, None)
}

/// The replica threads' state; `None` when no replication source is configured.
pub fn replica_status(node: &NodeHandle) -> Result<Option<ReplicaStatus>> {
    get::<ReplicaStatusFact>(node, &())?
        .status
        .map_err(|e| anyhow!(e))
}

/// [`replica_status`] read from the node now, whatever is cached (waits).
pub fn replica_status_fresh(node: &NodeHandle) -> Result<Option<ReplicaStatus>> {
    super::fresh::<ReplicaStatusFact>(node, &())?
        .status
        .map_err(|e| anyhow!(e))
}

/// The node's current binary log position.
pub fn binlog_coordinates(node: &NodeHandle) -> Result<BinlogCoordinates> {
    get::<BinlogStatus>(node, &())?
        .coordinates
        .map_err(|e| anyhow!(e))?
        .ok_or_else(|| anyhow!("{}: the binary log is off (no binlog status)", node.name))
}

/// [`binlog_coordinates`] read from the node now, whatever is cached (a wait's target).
pub fn binlog_coordinates_fresh(node: &NodeHandle) -> Result<BinlogCoordinates> {
    super::fresh::<BinlogStatus>(node, &())?
        .coordinates
        .map_err(|e| anyhow!(e))?
        .ok_or_else(|| anyhow!("{}: the binary log is off (no binlog status)", node.name))
}

/// `GTID_SUBSET(peer_set, @@GLOBAL.gtid_executed)`: does this node hold every
/// transaction of `peer_set` (`Some("1")`)?
pub struct GtidSubset;

impl Fact for GtidSubset {
    type Arg = str;
    type Value = Option<String>;
    const NAME: &'static str = "gtid-subset";
    const KIND: FactKind = FactKind::Variables;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(peer_set: &str, _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::gtid_subset_of_executed_sql(peer_set))
    }
    fn parse(_: &str, raw: &Raw) -> Result<Option<String>> {
        Ok(raw
            .rows()?
            .first()
            .and_then(|r| crate::sql::get(r, "s"))
            .map(str::to_string))
    }
}

/// MySQL: this node's errant transactions given its peer's `gtid_executed` (see
/// [`crate::dialect::errant_gtids_sql`]): a GTID set, empty when there are none.
pub struct ErrantGtids;

impl Fact for ErrantGtids {
    type Arg = str;
    type Value = Option<String>;
    const NAME: &'static str = "errant-gtids";
    const KIND: FactKind = FactKind::Variables;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(peer_set: &str, _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::errant_gtids_sql(peer_set))
    }
    fn parse(_: &str, raw: &Raw) -> Result<Option<String>> {
        Ok(raw
            .rows()?
            .first()
            .and_then(|r| crate::sql::get(r, "errant"))
            .map(|s| s.replace('\n', "")))
    }
}

/// The server's own pid file, made absolute against `@@datadir` (`None`: it names none).
pub struct PidFile;

impl Fact for PidFile {
    type Arg = ();
    type Value = Option<String>;
    const NAME: &'static str = "pid-file";
    const KIND: FactKind = FactKind::Variables;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(_: &(), _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::pid_file_sql().into())
    }
    fn parse(_: &(), raw: &Raw) -> Result<Option<String>> {
        let Some(row) = raw.rows()?.first() else {
            return Ok(None);
        };
        let file = crate::sql::get(row, "pid_file").unwrap_or_default();
        let datadir = crate::sql::get(row, "datadir").unwrap_or_default();
        Ok(match file {
            "" => None,
            f if f.starts_with('/') => Some(f.to_string()),
            f => Some(format!("{}/{f}", datadir.trim_end_matches('/'))),
        })
    }
}
