//! Facts verify's `--checksum` and `server-options` read in bulk: the replicated base
//! tables, their checksums, and several global variables in one query. Never cached
//! where the value is about the moment (checksums are taken after a wait).

use super::{Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::Dialect;
use anyhow::Result;

/// Which databases' base tables ([`BaseTables`]'s argument).
#[derive(Clone)]
pub struct TablesArg {
    /// Databases left out (system schemas, the inventory's ignored ones).
    pub excluded: Vec<String>,
    /// Only these databases (empty: all others).
    pub only: Vec<String>,
}

impl super::cache::FactArg for TablesArg {
    fn key(&self) -> String {
        format!("-{}+{}", self.excluded.join(","), self.only.join(","))
    }
}

/// The base tables (`db.table`) of the databases a [`TablesArg`] selects.
pub struct BaseTables;

impl Fact for BaseTables {
    type Arg = TablesArg;
    type Value = Vec<String>;
    const NAME: &'static str = "base-tables";
    const KIND: FactKind = FactKind::Tables;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(a: &TablesArg, _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::base_tables_sql(&a.excluded, &a.only))
    }
    fn parse(_: &TablesArg, raw: &Raw) -> Result<Vec<String>> {
        Ok(raw
            .rows()?
            .iter()
            .filter_map(|r| crate::sql::get(r, "t"))
            .map(str::to_string)
            .collect())
    }
}

/// `CHECKSUM TABLE list EXTENDED`: (table, checksum) in the server's order. Never
/// cached: taken once both nodes caught up, and only then.
pub struct TableChecksums;

impl Fact for TableChecksums {
    type Arg = str;
    type Value = Vec<(String, Option<String>)>;
    const NAME: &'static str = "table-checksums";
    const KIND: FactKind = FactKind::Tables;
    const LIFETIME: Lifetime = Lifetime::Never;
    fn source(list: &str, _: Option<&Dialect>) -> Source {
        Source::Query(crate::dialect::checksum_table_sql(list))
    }
    fn parse(_: &str, raw: &Raw) -> Result<Self::Value> {
        Ok(raw
            .rows()?
            .iter()
            .map(|r| {
                (
                    crate::sql::get(r, "Table").unwrap_or("").to_string(),
                    crate::sql::get(r, "Checksum").map(str::to_string),
                )
            })
            .collect())
    }
}

/// `SHOW GLOBAL VARIABLES WHERE Variable_name IN (..)`: each asked name with its value
/// (`None`: the server has no such variable), matched without case.
pub struct GlobalVariables;

impl Fact for GlobalVariables {
    type Arg = [String];
    type Value = Vec<(String, Option<String>)>;
    const NAME: &'static str = "global-variables";
    const KIND: FactKind = FactKind::Variables;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(names: &[String], _: Option<&Dialect>) -> Source {
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        Source::Query(crate::dialect::show_global_variables_sql(&names))
    }
    fn parse(names: &[String], raw: &Raw) -> Result<Self::Value> {
        let rows = raw.rows()?;
        Ok(names
            .iter()
            .map(|name| {
                let value = rows
                    .iter()
                    .find(|r| {
                        crate::sql::get(r, "Variable_name")
                            .is_some_and(|n| n.eq_ignore_ascii_case(name))
                    })
                    .map(|r| crate::sql::get(r, "Value").unwrap_or("").to_string());
                (name.clone(), value)
            })
            .collect())
    }
}
