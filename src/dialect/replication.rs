//! Re-pointing a replica without moving it past what it executed, and telling whether it
//! has caught up: the SQL texts and result parsing for that, per flavor and version.
//!
//! Facts relied on (MySQL reference manual, `CHANGE REPLICATION SOURCE TO`; MariaDB KB,
//! `CHANGE MASTER TO` and MDEV-19801):
//! - Naming `MASTER_HOST`/`MASTER_PORT` makes the server treat the source as a new one:
//!   without `MASTER_LOG_FILE`/`MASTER_LOG_POS` it silently starts at `''`/4 (the oldest
//!   binary log). So a replica that positions by file and offset is always given its
//!   *executed* coordinates (`Relay_Master_Log_File`/`Exec_Master_Log_Pos`, read with its
//!   threads stopped) explicitly. Its relay logs are discarded, and what it had fetched
//!   but not executed is fetched again.
//! - A replica positioning by GTID (MariaDB `Using_Gtid` `Slave_Pos`/`Current_Pos`, MySQL
//!   `Auto_Position=1`) keeps that mode when the statement names no coordinates: it asks
//!   the source for what follows its own GTID state (`gtid_slave_pos`/`gtid_executed`).
//!   Coordinates would be an error there (MySQL 1776) or switch GTID off (MariaDB 10.10+
//!   infers `MASTER_USE_GTID=no` from coordinates).

use super::{quote_string, BinlogCoordinates, Dialect, Row};
use crate::inventory::ServerFamily;
use anyhow::Result;

/// Where a re-pointed replica continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepointStart {
    /// Positions by file and offset: continue right after what it executed.
    Executed(BinlogCoordinates),
    /// Positions by GTID: the server continues from its own GTID state.
    Gtid,
    /// From now on positions by GTID (MariaDB `MASTER_USE_GTID=slave_pos`, MySQL
    /// `SOURCE_AUTO_POSITION=1`), from the GTID state set before (a new replica).
    UseGtid,
}

/// A replica pointed (again) at its source: the new connection settings and where it
/// continues.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repoint {
    /// Address of the source (the peer node).
    pub host: String,
    /// Source port.
    pub port: u16,
    /// Replication account name.
    pub user: String,
    /// Replication account password.
    pub password: String,
    /// Seconds between reconnection attempts.
    pub connect_retry: u32,
    /// Where it continues.
    pub start: RepointStart,
}

/// What a configured replica has done so far, from its status row: how it positions,
/// which server it last talked to, and how far it executed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaHistory {
    /// How the replica positions by GTID (`Slave_Pos`, `Current_Pos`, `auto-position`),
    /// `None` when it positions by file and offset.
    pub gtid: Option<String>,
    /// `Master_Server_Id`/`Source_Server_Id`: the source's server_id as of its last
    /// connection (0: not connected since the server started).
    pub source_server_id: u32,
    /// `Master_UUID`/`Source_UUID` (MySQL; empty on MariaDB or when unknown).
    pub source_uuid: String,
    /// The source's coordinates up to which it executed (`Relay_Master_Log_File`,
    /// `Exec_Master_Log_Pos`); `None` when it never had a position.
    pub executed: Option<BinlogCoordinates>,
}

/// The identity of a server as replicas see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerIdentity {
    /// `@@server_id`.
    pub server_id: u32,
    /// `@@server_uuid` (MySQL; empty on MariaDB).
    pub server_uuid: String,
}

/// Where a replica keeps its source's password (to tell whether it is the inventory's
/// without a connection attempt).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredPassword {
    /// A query returning it as `password` (MySQL's `mysql.slave_master_info`, the only
    /// repository from 8.3 and the default from 8.0.2; no row: not kept there).
    Query(String),
    /// A file in the data directory (MariaDB's `master.info`; read with
    /// [`parse_info_file_password`]), found by this query returning `datadir`.
    DataDirFile {
        /// The query for the data directory.
        datadir_sql: String,
        /// The file's name in it.
        file: &'static str,
    },
}

/// The password line of a `master.info` file: its first line counts the lines, then come
/// binary log name, position, host, user, password (the format since MySQL 4.1/MariaDB).
/// `None` when the file is too short to have one.
pub fn parse_info_file_password(content: &str) -> Option<String> {
    let lines: Vec<&str> = content.lines().collect();
    let first_is_count = lines
        .first()
        .is_some_and(|l| l.trim().parse::<u32>().is_ok());
    let index = if first_is_count { 5 } else { 4 };
    lines.get(index).map(|l| l.to_string())
}

impl ReplicaHistory {
    /// Did this replica last talk to the server `peer`? True only when the status row
    /// says so (a UUID, else a server_id, seen at its last connection).
    pub fn last_source_was(&self, peer: &ServerIdentity) -> bool {
        if !self.source_uuid.is_empty() && !peer.server_uuid.is_empty() {
            return self.source_uuid == peer.server_uuid;
        }
        self.source_server_id != 0 && self.source_server_id == peer.server_id
    }
}

impl BinlogCoordinates {
    /// True when these coordinates are at or after `target` in the same server's binary
    /// log (files compared by their numeric extension, `mysql-bin.000010` after
    /// `mysql-bin.000009`). Files of different base names are not comparable: false.
    pub fn reached(&self, target: &BinlogCoordinates) -> bool {
        fn split(file: &str) -> Option<(&str, u64)> {
            let (base, n) = file.rsplit_once('.')?;
            Some((base, n.parse().ok()?))
        }
        match (split(&self.file), split(&target.file)) {
            (Some((base, n)), Some((target_base, target_n))) if base == target_base => {
                (n, self.position) >= (target_n, target.position)
            }
            _ => self.file == target.file && self.position >= target.position,
        }
    }
}

impl std::fmt::Display for BinlogCoordinates {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.position)
    }
}

fn optional<'a>(row: &'a Row<'_>, names: &[&str]) -> Option<&'a str> {
    row.find(names).ok().flatten().map(str::trim)
}

impl Dialect {
    /// The statement naming the source and its options, shared by the first pointing
    /// ([`Dialect::change_source_sql`]) and re-pointing: `coordinates` `None` leaves the
    /// position to the server's GTID state.
    pub(super) fn source_statement(
        &self,
        host: &str,
        port: u16,
        user: &str,
        password: &str,
        coordinates: Option<&BinlogCoordinates>,
        connect_retry: u32,
    ) -> String {
        let v = self.v();
        let (stmt, p) = if v.mysql_at_least(8, 0, 23) {
            ("CHANGE REPLICATION SOURCE TO", "SOURCE")
        } else {
            ("CHANGE MASTER TO", "MASTER")
        };
        let mut opts = vec![
            format!("{p}_HOST={}", quote_string(host)),
            format!("{p}_PORT={port}"),
            format!("{p}_USER={}", quote_string(user)),
            format!("{p}_PASSWORD={}", quote_string(password)),
        ];
        if let Some(c) = coordinates {
            opts.push(format!("{p}_LOG_FILE={}", quote_string(&c.file)));
            opts.push(format!("{p}_LOG_POS={}", c.position));
        }
        opts.push(format!("{p}_CONNECT_RETRY={connect_retry}"));
        // MySQL 8.0 accounts default to caching_sha2_password; without TLS the replica
        // must fetch the source's RSA key.
        if v.mysql_at_least(8, 0, 23) {
            opts.push("GET_SOURCE_PUBLIC_KEY=1".into());
        } else if v.mysql_at_least(8, 0, 4) {
            opts.push("GET_MASTER_PUBLIC_KEY=1".into());
        }
        format!("{stmt} {}", opts.join(", "))
    }

    /// Points an existing replica at `r.host` with new credentials, continuing exactly
    /// where it executed up to (see the module docs for why each form keeps the position).
    pub fn repoint_source_sql(&self, r: &Repoint) -> String {
        let coordinates = match &r.start {
            RepointStart::Executed(c) => Some(c),
            RepointStart::Gtid | RepointStart::UseGtid => None,
        };
        let statement = self.source_statement(
            &r.host,
            r.port,
            &r.user,
            &r.password,
            coordinates,
            r.connect_retry,
        );
        match r.start {
            RepointStart::UseGtid => format!("{statement}, {}", self.use_gtid_option()),
            _ => statement,
        }
    }

    /// The `CHANGE MASTER` option making a replica position by GTID: MariaDB
    /// `MASTER_USE_GTID=slave_pos` (not `current_pos`: the position is what it applied
    /// from its source, never what it wrote itself; MariaDB KB, "GTID"), MySQL
    /// `SOURCE_AUTO_POSITION=1` (`MASTER_AUTO_POSITION` before 8.0.23).
    pub(super) fn use_gtid_option(&self) -> &'static str {
        match self.family() {
            ServerFamily::Mariadb => "MASTER_USE_GTID=slave_pos",
            ServerFamily::Mysql if self.v().mysql_at_least(8, 0, 23) => "SOURCE_AUTO_POSITION=1",
            ServerFamily::Mysql => "MASTER_AUTO_POSITION=1",
        }
    }

    /// Where this server's replica keeps its source's password.
    pub fn stored_source_password(&self) -> StoredPassword {
        match self.family() {
            ServerFamily::Mariadb => StoredPassword::DataDirFile {
                datadir_sql: "SELECT @@GLOBAL.datadir AS datadir".into(),
                file: "master.info",
            },
            ServerFamily::Mysql => StoredPassword::Query(
                "SELECT User_password AS password FROM mysql.slave_master_info \
                 WHERE Channel_name = ''"
                    .into(),
            ),
        }
    }

    /// The query for [`Dialect::parse_server_identity`]: the server_id, and on MySQL the
    /// server_uuid (MariaDB has none).
    pub fn server_identity_sql(&self) -> String {
        match self.family() {
            ServerFamily::Mariadb => "SELECT @@GLOBAL.server_id AS server_id, '' AS server_uuid",
            ServerFamily::Mysql => {
                "SELECT @@GLOBAL.server_id AS server_id, @@GLOBAL.server_uuid AS server_uuid"
            }
        }
        .into()
    }

    /// Parses [`Dialect::server_identity_sql`]'s row.
    pub fn parse_server_identity(
        &self,
        rows: &[Vec<(String, Option<String>)>],
    ) -> Result<ServerIdentity> {
        let cols = rows
            .first()
            .ok_or_else(|| anyhow::anyhow!("no answer to {}", self.server_identity_sql()))?;
        let row = Row(cols);
        Ok(ServerIdentity {
            server_id: row.number(&["server_id"])?,
            server_uuid: row.string(&["server_uuid"])?,
        })
    }

    /// Parses the replica status row (the same one [`super::ReplicaStatus`] reads) for
    /// the replica's history; `None` when no source is configured. Columns a server
    /// version lacks read as unknown.
    pub fn replica_history(
        &self,
        rows: &[Vec<(String, Option<String>)>],
    ) -> Result<Option<ReplicaHistory>> {
        let Some(cols) = rows.first() else {
            return Ok(None);
        };
        let row = Row(cols);
        let gtid = match self.family() {
            // `No`, `Slave_Pos`, `Current_Pos` (10.0.2+).
            ServerFamily::Mariadb => optional(&row, &["Using_Gtid"])
                .filter(|v| !v.is_empty() && !v.eq_ignore_ascii_case("no"))
                .map(str::to_string),
            // `Auto_Position` 1 (5.6+).
            ServerFamily::Mysql => {
                (optional(&row, &["Auto_Position"]) == Some("1")).then(|| "auto-position".into())
            }
        };
        let file = row.string(&["Relay_Master_Log_File", "Relay_Source_Log_File"])?;
        let position: u64 = row.number(&["Exec_Master_Log_Pos", "Exec_Source_Log_Pos"])?;
        Ok(Some(ReplicaHistory {
            gtid,
            source_server_id: optional(&row, &["Master_Server_Id", "Source_Server_Id"])
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            source_uuid: optional(&row, &["Master_UUID", "Source_UUID"])
                .unwrap_or("")
                .to_string(),
            executed: (!file.is_empty()).then_some(BinlogCoordinates { file, position }),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dialect {
        Dialect::from_version_string(s).unwrap()
    }

    fn rows(cols: &[(&str, &str)]) -> Vec<Vec<(String, Option<String>)>> {
        vec![cols
            .iter()
            .map(|(c, v)| (c.to_string(), Some(v.to_string())))
            .collect()]
    }

    fn repoint(start: RepointStart) -> Repoint {
        Repoint {
            host: "10.0.0.12".into(),
            port: 3306,
            user: "repl".into(),
            password: "pw".into(),
            connect_retry: 2,
            start,
        }
    }

    fn at(file: &str, position: u64) -> BinlogCoordinates {
        BinlogCoordinates {
            file: file.into(),
            position,
        }
    }

    #[test]
    fn a_file_position_replica_is_repointed_at_its_executed_coordinates() {
        let sql = d("10.11.18-MariaDB").repoint_source_sql(&repoint(RepointStart::Executed(at(
            "mysql-bin.000002",
            1094,
        ))));
        assert_eq!(
            sql,
            "CHANGE MASTER TO MASTER_HOST='10.0.0.12', MASTER_PORT=3306, MASTER_USER='repl', \
             MASTER_PASSWORD='pw', MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=1094, \
             MASTER_CONNECT_RETRY=2"
        );
        let sql = d("8.4.3")
            .repoint_source_sql(&repoint(RepointStart::Executed(at("binlog.000007", 157))));
        assert!(sql.starts_with("CHANGE REPLICATION SOURCE TO SOURCE_HOST='10.0.0.12'"));
        assert!(sql.contains("SOURCE_LOG_FILE='binlog.000007', SOURCE_LOG_POS=157"));
        assert!(sql.ends_with("GET_SOURCE_PUBLIC_KEY=1"));
    }

    #[test]
    fn a_gtid_replica_is_repointed_without_coordinates() {
        for v in ["10.11.18-MariaDB", "8.4.3", "5.7.44-log"] {
            let sql = d(v).repoint_source_sql(&repoint(RepointStart::Gtid));
            assert!(
                !sql.contains("LOG_FILE") && !sql.contains("LOG_POS"),
                "{sql}"
            );
            assert!(
                !sql.contains("USE_GTID") && !sql.contains("AUTO_POSITION"),
                "{sql}"
            );
        }
    }

    #[test]
    fn a_new_gtid_replica_says_so() {
        let sql = d("10.11.18-MariaDB").repoint_source_sql(&repoint(RepointStart::UseGtid));
        assert!(
            sql.ends_with("MASTER_CONNECT_RETRY=2, MASTER_USE_GTID=slave_pos"),
            "{sql}"
        );
        assert!(!sql.contains("LOG_POS"), "{sql}");
        let sql = d("8.4.3").repoint_source_sql(&repoint(RepointStart::UseGtid));
        assert!(
            sql.ends_with("GET_SOURCE_PUBLIC_KEY=1, SOURCE_AUTO_POSITION=1"),
            "{sql}"
        );
        let sql = d("8.0.22").repoint_source_sql(&repoint(RepointStart::UseGtid));
        assert!(sql.ends_with("MASTER_AUTO_POSITION=1"), "{sql}");
    }

    #[test]
    fn replica_history_reads_gtid_mode_source_and_executed_position() {
        let maria = d("10.11.18-MariaDB");
        let h = maria
            .replica_history(&rows(&[
                ("Relay_Master_Log_File", "mysql-bin.000002"),
                ("Exec_Master_Log_Pos", "1094"),
                ("Using_Gtid", "No"),
                ("Master_Server_Id", "2"),
            ]))
            .unwrap()
            .unwrap();
        assert_eq!(h.gtid, None);
        assert_eq!(h.executed, Some(at("mysql-bin.000002", 1094)));
        assert!(h.last_source_was(&ServerIdentity {
            server_id: 2,
            server_uuid: String::new()
        }));
        let h = maria
            .replica_history(&rows(&[
                ("Relay_Master_Log_File", ""),
                ("Exec_Master_Log_Pos", "0"),
                ("Using_Gtid", "Slave_Pos"),
            ]))
            .unwrap()
            .unwrap();
        assert_eq!(h.gtid.as_deref(), Some("Slave_Pos"));
        assert_eq!(h.executed, None);
        assert!(!h.last_source_was(&ServerIdentity {
            server_id: 0,
            server_uuid: String::new()
        }));
        let mysql = d("8.4.3");
        let h = mysql
            .replica_history(&rows(&[
                ("Relay_Source_Log_File", "binlog.000003"),
                ("Exec_Source_Log_Pos", "157"),
                ("Auto_Position", "1"),
                ("Source_Server_Id", "2"),
                ("Source_UUID", "u-2"),
            ]))
            .unwrap()
            .unwrap();
        assert_eq!(h.gtid.as_deref(), Some("auto-position"));
        // The UUID decides when both sides have one, whatever the server_id.
        assert!(!h.last_source_was(&ServerIdentity {
            server_id: 2,
            server_uuid: "u-other".into()
        }));
        assert!(mysql.replica_history(&[]).unwrap().is_none());
        assert!(mysql.server_identity_sql().contains("server_uuid"));
        assert!(maria.server_identity_sql().contains("'' AS server_uuid"));
    }

    #[test]
    fn stored_password_is_read_from_the_table_or_master_info() {
        assert!(matches!(
            d("8.4.3").stored_source_password(),
            StoredPassword::Query(q) if q.contains("mysql.slave_master_info")
        ));
        assert!(matches!(
            d("10.11.18-MariaDB").stored_source_password(),
            StoredPassword::DataDirFile {
                file: "master.info",
                ..
            }
        ));
        let info = "33\nmysql-bin.000001\n328\n10.0.0.12\nrepl\ns3cret pw\n3306\n2\n";
        assert_eq!(parse_info_file_password(info).as_deref(), Some("s3cret pw"));
        let old = "mysql-bin.000001\n328\n10.0.0.12\nrepl\npw\n3306\n";
        assert_eq!(parse_info_file_password(old).as_deref(), Some("pw"));
        assert_eq!(parse_info_file_password("33\nmysql-bin.000001\n"), None);
        assert_eq!(parse_info_file_password(""), None);
    }

    #[test]
    fn reached_compares_files_by_number() {
        assert!(at("mysql-bin.000010", 4).reached(&at("mysql-bin.000009", 99_999)));
        assert!(at("mysql-bin.000009", 500).reached(&at("mysql-bin.000009", 500)));
        assert!(!at("mysql-bin.000009", 499).reached(&at("mysql-bin.000009", 500)));
        assert!(!at("mysql-bin.000008", 900).reached(&at("mysql-bin.000009", 4)));
        assert!(!at("other-bin.000010", 900).reached(&at("mysql-bin.000009", 4)));
    }
}
