//! SQL to a node's server through the SSH connection: a local unix socket forwarded to
//! the server's socket on the node (the `mysql` crate talks to the local end). The
//! database port is never exposed, and passwords stay inside the encrypted channel.
//!
//! On MariaDB, root logs in with `unix_socket` authentication: the server sees the
//! forwarded connection coming from sshd, which runs as root, so no root password is
//! needed at all. For SQL *through the VIP*, a TCP forward from a node is used instead.

use crate::engine::{Row, SqlConn};
use crate::transport::{ForwardTarget, Transport};
use anyhow::{Context, Result};
use mysql::prelude::Queryable;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Who to log in as.
#[derive(Clone)]
pub struct Login {
    /// User name.
    pub user: String,
    /// Password; `None` for socket authentication.
    pub password: Option<secrecy::SecretString>,
}

/// An open connection to one server.
pub struct MysqlConn {
    conn: mysql::Conn,
}

impl MysqlConn {
    /// Connect to `target` on the node behind `transport`, as `login`.
    pub fn connect(
        transport: &Arc<dyn Transport>,
        target: &ForwardTarget,
        login: &Login,
    ) -> Result<MysqlConn> {
        let local: PathBuf = transport.forward(target)?;
        let mut opts = mysql::OptsBuilder::new()
            .socket(Some(local.to_string_lossy().into_owned()))
            // The crate would otherwise look up @@socket and reconnect to that path on
            // *this* machine: wrong server, or none (see shared crate notes).
            .prefer_socket(false)
            .user(Some(login.user.clone()))
            .read_timeout(Some(Duration::from_secs(60)))
            .tcp_connect_timeout(Some(Duration::from_secs(10)));
        if let Some(pw) = &login.password {
            opts = opts.pass(Some(secrecy::ExposeSecret::expose_secret(pw).to_string()));
        }
        let conn = mysql::Conn::new(opts).with_context(|| {
            format!(
                "{}: cannot log in to the server as {} through {target:?}",
                transport.node(),
                login.user
            )
        })?;
        Ok(MysqlConn { conn })
    }
}

impl SqlConn for MysqlConn {
    fn query(&mut self, sql: &str) -> Result<Vec<Row>> {
        let rows: Vec<mysql::Row> = self.conn.query(sql)?;
        Ok(rows.into_iter().map(row_to_pairs).collect())
    }

    fn exec(&mut self, sql: &str) -> Result<()> {
        self.conn.query_drop(sql)?;
        Ok(())
    }
}

/// Convert a row to (column, text value) pairs.
fn row_to_pairs(row: mysql::Row) -> Row {
    let columns = row.columns();
    let values = row.unwrap();
    columns
        .iter()
        .zip(values)
        .map(|(col, value)| (col.name_str().into_owned(), value_to_string(value)))
        .collect()
}

fn value_to_string(value: mysql::Value) -> Option<String> {
    use mysql::Value;
    match value {
        Value::NULL => None,
        Value::Bytes(b) => Some(String::from_utf8_lossy(&b).into_owned()),
        Value::Int(i) => Some(i.to_string()),
        Value::UInt(u) => Some(u.to_string()),
        Value::Float(f) => Some(f.to_string()),
        Value::Double(d) => Some(d.to_string()),
        other => Some(other.as_sql(true).trim_matches('\'').to_string()),
    }
}

/// The value of `column` in `row`.
pub fn get<'a>(row: &'a Row, column: &str) -> Option<&'a str> {
    row.iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(column))
        .and_then(|(_, v)| v.as_deref())
}
