//! Tests of [`super::admin_write`]: the fence lifted around mhactl's own writes, and
//! lifted again when the fence agent fences the node in between.

use super::*;
use crate::dialect::{Dialect, Version};
use crate::inventory::Flavor;
use std::collections::VecDeque;

/// A connection that records statements and refuses the scripted ones as read-only.
struct Scripted {
    log: Vec<String>,
    /// How many more times each statement is refused with 1290.
    refusals: VecDeque<(String, usize)>,
}

fn read_only_error() -> anyhow::Error {
    // As MysqlConn reports it (crate::sql_error::SqlError).
    anyhow::Error::new(crate::sql_error::SqlError(mysql::Error::MySqlError(
        mysql::error::MySqlError {
            state: "HY000".into(),
            message: "The MySQL server is running with the --super-read-only option".into(),
            code: 1290,
        },
    )))
}

impl SqlConn for Scripted {
    fn query(&mut self, sql: &str) -> Result<Vec<Row>> {
        self.exec(sql).map(|()| Vec::new())
    }
    fn exec(&mut self, sql: &str) -> Result<()> {
        self.log.push(sql.to_string());
        for (stmt, left) in self.refusals.iter_mut() {
            if stmt == sql && *left > 0 {
                *left -= 1;
                return Err(read_only_error());
            }
        }
        Ok(())
    }
}

fn mysql() -> Dialect {
    Dialect::new(Version::new(Flavor::Mysql, 8, 4, 3))
}

fn conn(refused: &str, times: usize) -> Scripted {
    Scripted {
        log: Vec::new(),
        refusals: VecDeque::from([(refused.to_string(), times)]),
    }
}

/// The agent fenced the node between the lift and the write: the write is run again
/// after a new lift, and the fence is restored at the end.
#[test]
fn a_write_refused_as_read_only_is_retried_after_lifting_the_fence_again() {
    let mut c = conn("CREATE USER 'app'@'%'", 1);
    admin_write(&mut c, &mysql(), |sql| sql.exec("CREATE USER 'app'@'%'")).unwrap();
    assert_eq!(
        c.log,
        [
            "SET GLOBAL super_read_only = OFF",
            "CREATE USER 'app'@'%'",
            "SET GLOBAL super_read_only = OFF",
            "CREATE USER 'app'@'%'",
            "SET GLOBAL super_read_only = @@GLOBAL.read_only",
        ]
    );
}

/// A node that stays fenced (something keeps setting it) fails after a few attempts
/// with the server's error, and the fence is still restored.
#[test]
fn a_write_still_refused_after_the_last_attempt_fails_with_the_servers_error() {
    let mut c = conn("GRANT SELECT ON *.* TO 'app'@'%'", 99);
    let err = admin_write(&mut c, &mysql(), |sql| {
        sql.exec("GRANT SELECT ON *.* TO 'app'@'%'")
    })
    .unwrap_err();
    assert_eq!(server_error_code(&err), Some(1290));
    let grants = c.log.iter().filter(|s| s.starts_with("GRANT")).count();
    assert_eq!(grants, RELIFT_ATTEMPTS);
    assert_eq!(
        c.log.last().unwrap(),
        "SET GLOBAL super_read_only = @@GLOBAL.read_only"
    );
}

/// MariaDB lifts nothing (root bypasses read_only): a 1290 there is not the fence
/// agent's doing and is not retried.
#[test]
fn mariadb_refusals_are_not_retried() {
    let mut c = conn("CREATE USER 'app'@'%'", 1);
    let d = Dialect::new(Version::new(Flavor::Mariadb, 10, 11, 6));
    let err = admin_write(&mut c, &d, |sql| sql.exec("CREATE USER 'app'@'%'")).unwrap_err();
    assert_eq!(server_error_code(&err), Some(1290));
    assert_eq!(c.log, ["CREATE USER 'app'@'%'"]);
}

/// A server that says `/var/run/mysqld/mysqld.sock` listens on the remembered
/// `/run/mysqld/mysqld.sock` (one directory on current distributions); another path is
/// another socket.
#[test]
fn var_run_and_run_are_the_same_socket() {
    assert!(super::same_socket(
        "/var/run/mysqld/mysqld.sock",
        "/run/mysqld/mysqld.sock"
    ));
    assert!(super::same_socket("/tmp/mysql.sock", "/tmp/mysql.sock"));
    assert!(!super::same_socket(
        "/run/mysqld/mysqld.sock",
        "/run/mysqld/mysqld2.sock"
    ));
    assert!(!super::same_socket("/var/runx/a", "/runx/a"));
}
