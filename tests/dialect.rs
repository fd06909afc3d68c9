//! Parsing replica and binlog status rows as MySQL and MariaDB return them.

use mhactl::dialect::{BinlogCoordinates, Dialect, ReplicaStatus};

type Row = Vec<(String, Option<String>)>;

fn row(pairs: &[(&str, Option<&str>)]) -> Row {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.map(str::to_string)))
        .collect()
}

/// A `SHOW SLAVE STATUS` row from MariaDB 10.11 (subset of its columns, real names).
fn mariadb_row() -> Row {
    row(&[
        ("Slave_IO_State", Some("Waiting for master to send event")),
        ("Master_Host", Some("10.213.0.12")),
        ("Master_User", Some("repl")),
        ("Master_Port", Some("3306")),
        ("Connect_Retry", Some("10")),
        ("Master_Log_File", Some("mysql-bin.000002")),
        ("Read_Master_Log_Pos", Some("1021")),
        ("Relay_Log_File", Some("relay-bin.000002")),
        ("Relay_Log_Pos", Some("1320")),
        ("Relay_Master_Log_File", Some("mysql-bin.000002")),
        ("Slave_IO_Running", Some("Yes")),
        ("Slave_SQL_Running", Some("Yes")),
        ("Replicate_Do_DB", Some("")),
        ("Replicate_Ignore_DB", Some("mysql")),
        ("Last_Errno", Some("0")),
        ("Last_Error", Some("")),
        ("Skip_Counter", Some("0")),
        ("Exec_Master_Log_Pos", Some("1021")),
        ("Seconds_Behind_Master", Some("0")),
        ("Last_IO_Errno", Some("0")),
        ("Last_IO_Error", Some("")),
        ("Last_SQL_Errno", Some("0")),
        ("Last_SQL_Error", Some("")),
        ("Master_Server_Id", Some("2")),
        ("Using_Gtid", Some("No")),
    ])
}

/// A `SHOW REPLICA STATUS` row from MySQL 8.4 with the IO thread failing to connect.
fn mysql_row() -> Row {
    row(&[
        ("Replica_IO_State", Some("Connecting to source")),
        ("Source_Host", Some("10.213.0.11")),
        ("Source_User", Some("repl")),
        ("Source_Port", Some("3306")),
        ("Connect_Retry", Some("10")),
        ("Source_Log_File", Some("mysql-bin.000001")),
        ("Read_Source_Log_Pos", Some("158")),
        ("Relay_Log_File", Some("relay-bin.000001")),
        ("Relay_Log_Pos", Some("4")),
        ("Relay_Source_Log_File", Some("mysql-bin.000001")),
        ("Replica_IO_Running", Some("Connecting")),
        ("Replica_SQL_Running", Some("Yes")),
        ("Exec_Source_Log_Pos", Some("158")),
        ("Seconds_Behind_Source", None),
        ("Last_IO_Errno", Some("2061")),
        (
            "Last_IO_Error",
            Some("Error connecting to source 'repl@10.213.0.11:3306'. Authentication requires secure connection."),
        ),
        ("Last_SQL_Errno", Some("0")),
        ("Last_SQL_Error", Some("")),
    ])
}

#[test]
fn parses_mariadb_slave_status() {
    let s = ReplicaStatus::from_columns(&mariadb_row()).unwrap();
    assert!(s.io_running && s.sql_running && s.healthy());
    assert_eq!(s.source_host, "10.213.0.12");
    assert_eq!(s.source_port, 3306);
    assert_eq!(s.source_user, "repl");
    assert_eq!(s.source_log_file, "mysql-bin.000002");
    assert_eq!(s.read_source_log_pos, 1021);
    assert_eq!(s.relay_source_log_file, "mysql-bin.000002");
    assert_eq!(s.exec_source_log_pos, 1021);
    assert_eq!(s.seconds_behind, Some(0));
    assert_eq!(s.last_io_errno, 0);
    assert_eq!(s.last_sql_error, "");
}

#[test]
fn parses_mysql_replica_status() {
    let s = ReplicaStatus::from_columns(&mysql_row()).unwrap();
    assert!(!s.io_running, "Connecting is not running");
    assert!(s.sql_running);
    assert!(!s.healthy());
    assert_eq!(s.source_host, "10.213.0.11");
    assert_eq!(s.read_source_log_pos, 158);
    assert_eq!(s.seconds_behind, None);
    assert_eq!(s.last_io_errno, 2061);
    assert!(s.last_io_error.contains("secure connection"));
}

#[test]
fn empty_result_means_no_replica() {
    assert_eq!(ReplicaStatus::from_rows(&[]).unwrap(), None);
    assert!(ReplicaStatus::from_rows(&[mariadb_row()])
        .unwrap()
        .is_some());
    assert_eq!(BinlogCoordinates::from_rows(&[]).unwrap(), None);
}

#[test]
fn missing_column_is_an_error() {
    let mut r = mariadb_row();
    r.retain(|(k, _)| k != "Master_Host");
    let err = ReplicaStatus::from_columns(&r).unwrap_err().to_string();
    assert!(err.contains("Master_Host or Source_Host"), "{err}");
}

#[test]
fn bad_number_is_an_error() {
    let mut r = mariadb_row();
    for (k, v) in r.iter_mut() {
        if k == "Read_Master_Log_Pos" {
            *v = Some("abc".into());
        }
    }
    assert!(ReplicaStatus::from_columns(&r).is_err());
}

#[test]
fn parses_binlog_status() {
    let r = row(&[
        ("File", Some("mysql-bin.000016")),
        ("Position", Some("475")),
        ("Binlog_Do_DB", Some("")),
        ("Binlog_Ignore_DB", Some("")),
        ("Executed_Gtid_Set", Some("")),
    ]);
    let c = BinlogCoordinates::from_rows(&[r]).unwrap().unwrap();
    assert_eq!(c.file, "mysql-bin.000016");
    assert_eq!(c.position, 475);
}

#[test]
fn dialect_statements_for_lab_servers() {
    let maria = Dialect::from_version_string("10.11.18-MariaDB-0+deb12u1").unwrap();
    assert_eq!(maria.binlog_status_sql(), "SHOW BINLOG STATUS");
    let mysql = Dialect::from_version_string("9.7.4").unwrap();
    assert_eq!(mysql.binlog_status_sql(), "SHOW BINARY LOG STATUS");
    assert_eq!(mysql.replica_status_sql(), "SHOW REPLICA STATUS");
}
