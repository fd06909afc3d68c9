//! Facts about the password a replica keeps for its source (the `replication` step
//! re-points a replica whose kept password is not the inventory's): MySQL's
//! `mysql.slave_master_info` row, MariaDB's `master.info` in the data directory. Facts,
//! not reads of their own, so that they come in the run's batches (issue 21). Volatile:
//! a `CHANGE MASTER` (this run's or anyone's) rewrites them; the engine drops them after
//! every change. The values are secrets: kept as [`SecretString`], compared in memory,
//! never shown (the cache's keys are the fact and the file's path only).

use super::{Fact, FactKind, Lifetime, Raw, Source};
use crate::dialect::{Dialect, StoredPassword};
use anyhow::Result;
use secrecy::SecretString;
use std::path::Path;

/// The password MySQL keeps for the replica's source (`mysql.slave_master_info`, the only
/// repository from 8.3 and the default from 8.0.2); `None`: no row, not kept there.
pub struct StoredSourcePassword;

impl Fact for StoredSourcePassword {
    type Arg = ();
    type Value = Option<SecretString>;
    const NAME: &'static str = "stored-source-password";
    const KIND: FactKind = FactKind::ReplicaStatus;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    const NEEDS_SERVER: bool = true;
    fn source(_: &(), d: Option<&Dialect>) -> Source {
        Source::Query(match d.expect("NEEDS_SERVER").stored_source_password() {
            StoredPassword::Query(sql) => sql,
            // MariaDB keeps it in a file ([`InfoFilePassword`]); its callers read that
            // instead. Its data directory's query has no `password` column: `None`.
            StoredPassword::DataDirFile { datadir_sql, .. } => datadir_sql,
        })
    }
    fn parse(_: &(), raw: &Raw) -> Result<Self::Value> {
        Ok(raw
            .rows()?
            .first()
            .and_then(|r| crate::sql::get(r, "password"))
            .map(|p| SecretString::from(p.to_string())))
    }
}

/// The password line of an `master.info` file (MariaDB's replica, in its data
/// directory); `None` when the file does not exist or has no such line.
pub struct InfoFilePassword;

impl Fact for InfoFilePassword {
    type Arg = Path;
    type Value = Option<SecretString>;
    const NAME: &'static str = "info-file-password";
    const KIND: FactKind = FactKind::ReplicaStatus;
    const LIFETIME: Lifetime = Lifetime::Volatile;
    fn source(path: &Path, _: Option<&Dialect>) -> Source {
        Source::File(path.to_path_buf())
    }
    fn parse(_: &Path, raw: &Raw) -> Result<Self::Value> {
        Ok(raw
            .file()?
            .and_then(crate::dialect::parse_info_file_password)
            .map(SecretString::from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn the_info_file_s_password_line_is_read_and_a_missing_file_has_none() {
        let info = "33\nmysql-bin.000001\n328\n10.0.0.12\nrepl\ns3cret pw\n3306\n2\n";
        let p = Path::new("/var/lib/mysql/master.info");
        let got = InfoFilePassword::parse(p, &Raw::File(Some(info.into()))).unwrap();
        assert_eq!(got.unwrap().expose_secret(), "s3cret pw");
        assert!(InfoFilePassword::parse(p, &Raw::File(None))
            .unwrap()
            .is_none());
    }

    #[test]
    fn mysql_s_row_gives_the_password_and_no_row_none() {
        let row = vec![("password".to_string(), Some("pw".to_string()))];
        let got = StoredSourcePassword::parse(&(), &Raw::Rows(vec![row])).unwrap();
        assert_eq!(got.unwrap().expose_secret(), "pw");
        assert!(StoredSourcePassword::parse(&(), &Raw::Rows(vec![]))
            .unwrap()
            .is_none());
    }
}
