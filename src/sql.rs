//! SQL to a node's server through the SSH connection: a local unix socket forwarded to
//! the server's socket on the node (the `mysql` crate talks to the local end). The
//! database port is never exposed, and passwords stay inside the encrypted channel.
//!
//! On MariaDB, root logs in with `unix_socket` authentication: the server sees the
//! forwarded connection coming from sshd, which runs as root, so no root password is
//! needed at all. For SQL *through the VIP*, a TCP forward from a node is used instead.

use crate::sql_error::SqlError;
use crate::transport::stats::Event;
use crate::transport::{ForwardTarget, Transport};
use anyhow::{Context, Result};
use mysql::prelude::Queryable;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A SQL connection to a node's server (through the SSH tunnel in production).
pub trait SqlConn: Send {
    /// Run a query and return its rows as (column, value) pairs.
    fn query(&mut self, sql: &str) -> Result<Vec<Row>>;
    /// Run a statement that returns no rows.
    fn exec(&mut self, sql: &str) -> Result<()>;
    /// Run several queries, each one's rows or error in order: sent at once (one round
    /// trip) where the connection can, else one after the other (the default).
    fn query_batch(&mut self, queries: &[String]) -> Vec<Result<Vec<Row>>> {
        queries.iter().map(|q| self.query(q)).collect()
    }
}

/// One result row: column names with their values (NULL as `None`), in order.
pub type Row = Vec<(String, Option<String>)>;

/// Opens SQL connections on demand (the server may not exist before a step installs it).
pub type SqlConnector = Box<dyn Fn() -> Result<Box<dyn SqlConn>> + Send + Sync>;

/// Opens a SQL connection to `target` on a node as a given login; with `true`, in
/// expired-password mode (only `ALTER USER` works). Production uses
/// [`MysqlConn`]; tests install a fake with [`crate::engine::NodeHandle::with_login_connector`].
pub type LoginConnector =
    Box<dyn Fn(&ForwardTarget, &Login, bool) -> Result<Box<dyn SqlConn>> + Send + Sync>;

/// Who to log in as.
#[derive(Clone)]
pub struct Login {
    /// User name.
    pub user: String,
    /// Password; `None` for socket authentication.
    pub password: Option<secrecy::SecretString>,
    /// Log in over TLS, verifying the server's certificate against this CA (a file on
    /// the control host): the replication account requires TLS (issue 19). The host
    /// name is not checked: the connection goes through a forwarded local port.
    pub tls_ca: Option<PathBuf>,
}

/// An open connection to one server.
pub struct MysqlConn {
    conn: mysql::Conn,
    /// Its node's transport, whose counters count its round trips (issue 21).
    transport: Arc<dyn Transport>,
    /// Checked with the first round trip ([`MysqlConn::expecting_socket`]).
    expect: Option<SocketCheck>,
}

/// What a connection made through a remembered socket checks with its first round trip:
/// the server's own `@@socket` is `path` (it is the server configured there, not another
/// one listening on an old path; `/var/run/X` and `/run/X` are the same). When it is
/// not, that round trip's answers are thrown away, `relogin` gives the connection it
/// should have been, and the queries run again there: the caller sees nothing of it.
pub struct SocketCheck {
    /// The socket the connection went through.
    pub path: String,
    /// Looks the socket up and logs in there.
    pub relogin: Box<dyn FnOnce() -> Result<MysqlConn> + Send>,
}

/// `/var/run/X` as `/run/X` (one directory on every current distribution).
fn same_socket(a: &str, b: &str) -> bool {
    let plain = |p: &str| {
        p.strip_prefix("/var")
            .filter(|r| r.starts_with("/run/"))
            .unwrap_or(p)
            .to_string()
    };
    plain(a) == plain(b)
}

/// The `max_allowed_packet` the client assumes (the protocol's largest, 1 GiB): given,
/// the `mysql` crate does not ask the server for it at every login (a round trip); the
/// server still enforces its own limit on what it receives.
const CLIENT_MAX_PACKET: usize = 1024 * 1024 * 1024;

impl MysqlConn {
    /// Check `check` with the first round trip (its query rides with the first batch:
    /// no round trip of its own).
    pub fn expecting_socket(mut self, check: SocketCheck) -> MysqlConn {
        self.expect = Some(check);
        self
    }

    /// `queries` in one round trip, with the pending socket check's query first if any;
    /// on a mismatch, again on the connection the check's `relogin` gives.
    fn checked(&mut self, queries: &[String]) -> Result<Vec<Result<Vec<Row>>>> {
        let Some(check) = self.expect.take() else {
            return Ok(self.batch(queries));
        };
        let mut all = vec![crate::dialect::server_socket_sql().to_string()];
        all.extend(queries.iter().cloned());
        let mut results = self.batch(&all);
        let answer = match results.first() {
            Some(Ok(rows)) => rows
                .first()
                .and_then(|r| get(r, "socket"))
                .map(str::to_string),
            _ => None,
        };
        if answer
            .as_deref()
            .is_some_and(|a| same_socket(a, &check.path))
        {
            let _check = results.remove(0);
            return Ok(results);
        }
        tracing::debug!(
            "{}: the server on {} says its socket is {}: logging in again",
            self.transport.node(),
            check.path,
            answer.as_deref().unwrap_or("nothing")
        );
        let fresh = (check.relogin)()?;
        self.conn = fresh.conn;
        Ok(self.batch(queries))
    }

    /// Connect to `target` on the node behind `transport`, as `login`.
    pub fn connect(
        transport: &Arc<dyn Transport>,
        target: &ForwardTarget,
        login: &Login,
    ) -> Result<MysqlConn> {
        let local: PathBuf = transport.forward(target)?;
        let mut opts = mysql::OptsBuilder::new()
            // The crate would otherwise look up @@socket and reconnect to that path on
            // *this* machine: wrong server, or none (see shared crate notes).
            .prefer_socket(false)
            .user(Some(login.user.clone()))
            .max_allowed_packet(Some(CLIENT_MAX_PACKET))
            .read_timeout(Some(Duration::from_secs(60)))
            .tcp_connect_timeout(Some(Duration::from_secs(10)));
        opts = match target {
            ForwardTarget::UnixSocket(_) => opts.socket(Some(local.to_string_lossy().into_owned())),
            // The server sees TCP without TLS. Over a unix socket the crate would send a
            // caching_sha2_password password in clear for a full authentication, which
            // the server refuses on an insecure transport (1045): a TCP hop on this
            // machine makes the crate encrypt it with the server's RSA key instead.
            ForwardTarget::Tcp(..) => opts
                .ip_or_hostname(Some("127.0.0.1"))
                .tcp_port(tcp_relay(local)?),
        };
        if let Some(pw) = &login.password {
            opts = opts.pass(Some(secrecy::ExposeSecret::expose_secret(pw).to_string()));
        }
        if let Some(ca) = &login.tls_ca {
            opts = opts.ssl_opts(Some(
                mysql::SslOpts::default()
                    .with_root_cert_path(Some(ca.clone()))
                    .with_danger_skip_domain_validation(true),
            ));
        }
        let conn = mysql::Conn::new(opts).map_err(SqlError).with_context(|| {
            format!(
                "{}: cannot log in to the server as {} through {target}",
                transport.node(),
                login.user
            )
        })?;
        transport.note(Event::SqlConnection);
        Ok(MysqlConn {
            conn,
            transport: Arc::clone(transport),
            expect: None,
        })
    }
}

/// Listen on a free loopback port and relay the first connection to the unix socket
/// `socket` (the SSH forward's local end); returns the port. One connection only: the
/// listener closes once the client that asked for it has connected.
fn tcp_relay(socket: PathBuf) -> Result<u16> {
    use std::net::{Shutdown, TcpListener};
    use std::os::unix::net::UnixStream;
    let listener = TcpListener::bind(("127.0.0.1", 0)).context("cannot listen on loopback")?;
    let port = listener.local_addr()?.port();
    std::thread::spawn(move || {
        let Ok((tcp, _)) = listener.accept() else {
            return;
        };
        drop(listener);
        let Ok(unix) = UnixStream::connect(&socket) else {
            return;
        };
        let (Ok(mut tcp_in), Ok(mut unix_out)) = (tcp.try_clone(), unix.try_clone()) else {
            return;
        };
        let upstream = std::thread::spawn(move || {
            let _ = std::io::copy(&mut tcp_in, &mut unix_out);
            let _ = unix_out.shutdown(Shutdown::Write);
        });
        let (mut unix_in, mut tcp_out) = (unix, tcp);
        let _ = std::io::copy(&mut unix_in, &mut tcp_out);
        let _ = tcp_out.shutdown(Shutdown::Both);
        let _ = upstream.join();
    });
    Ok(port)
}

/// Set a new password for the logged-in account while its current (temporary) one is
/// expired: the connection announces `CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS` and runs
/// nothing at connect (any statement but `ALTER USER` fails with 1820 in this mode), then
/// `ALTER USER USER() IDENTIFIED BY ...`. Both passwords stay inside the SSH channel.
pub fn set_expired_password(
    transport: &Arc<dyn Transport>,
    target: &ForwardTarget,
    user: &str,
    current: &secrecy::SecretString,
    new: &secrecy::SecretString,
) -> Result<()> {
    use secrecy::ExposeSecret;
    let local: PathBuf = transport.forward(target)?;
    let opts = mysql::OptsBuilder::new()
        .socket(Some(local.to_string_lossy().into_owned()))
        .prefer_socket(false)
        .user(Some(user))
        .pass(Some(current.expose_secret().to_string()))
        .max_allowed_packet(Some(16 * 1024 * 1024))
        .additional_capabilities(
            mysql::consts::CapabilityFlags::CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS,
        )
        .read_timeout(Some(Duration::from_secs(60)))
        .tcp_connect_timeout(Some(Duration::from_secs(10)));
    let mut conn = mysql::Conn::new(opts).map_err(SqlError).with_context(|| {
        format!(
            "{}: cannot log in as {user} with the temporary password",
            transport.node()
        )
    })?;
    transport.note(Event::SqlConnection);
    transport.note(Event::SqlRoundTrip);
    conn.query_drop(alter_own_password_sql(new))
        .map_err(|e| anyhow::Error::new(SqlError(e)))
}

pub use crate::dialect::alter_own_password_sql;

/// mhactl's own writes on `sql` with the write fence lifted for them: `d`'s lift
/// statements, `f`, then `d`'s restore statements whatever `f` returned (see
/// [`crate::engine::NodeHandle::with_admin_write`]). `f`'s error wins over the restore's.
pub fn admin_write<T>(
    sql: &mut dyn SqlConn,
    d: &crate::dialect::Dialect,
    f: impl FnOnce(&mut dyn SqlConn) -> Result<T>,
) -> Result<T> {
    let lift = d.admin_write_lift_sql();
    for s in &lift {
        sql.exec(s)
            .context("lifting the write fence for mhactl's own writes")?;
    }
    let result = f(&mut Relifting { sql, lift: &lift });
    let restored = d
        .admin_write_restore_sql()
        .iter()
        .try_for_each(|s| sql.exec(s))
        .context("restoring the write fence after mhactl's own writes");
    match (result, restored) {
        (Ok(v), Ok(())) => Ok(v),
        (Err(e), _) => Err(e),
        (Ok(_), Err(e)) => Err(e),
    }
}

/// How many times one admin statement is tried while the fence agent keeps fencing.
const RELIFT_ATTEMPTS: usize = 3;

/// The connection [`admin_write`] hands to its writes: a statement the server refuses
/// as read-only (1290) is run again after lifting the fence again. Why: the fence agent
/// fences this node on its own (it just became passive, a switchover moved the VIP
/// away), and its `SET GLOBAL super_read_only = ON` can land between mhactl's lift and
/// its write: seen in a rolling restart, where app-users ran on the new passive node
/// while the agent fenced it. A refused statement did nothing, so running it again is
/// safe; the restore afterwards leaves the node fenced as the agent wants.
struct Relifting<'a> {
    sql: &'a mut dyn SqlConn,
    lift: &'a [String],
}

impl Relifting<'_> {
    fn retry<T>(&mut self, mut run: impl FnMut(&mut dyn SqlConn) -> Result<T>) -> Result<T> {
        let mut attempt = 1;
        loop {
            match run(&mut *self.sql) {
                Err(e)
                    if !self.lift.is_empty()
                        && attempt < RELIFT_ATTEMPTS
                        && server_error_code(&e) == Some(1290) =>
                {
                    attempt += 1;
                    for s in self.lift {
                        self.sql
                            .exec(s)
                            .context("lifting the write fence again for mhactl's own writes")?;
                    }
                }
                other => return other,
            }
        }
    }
}

impl SqlConn for Relifting<'_> {
    fn query(&mut self, q: &str) -> Result<Vec<Row>> {
        self.retry(|sql| sql.query(q))
    }
    fn exec(&mut self, s: &str) -> Result<()> {
        self.retry(|sql| sql.exec(s))
    }
}

/// The server's error number (1045 access denied, 1819 password policy, 1820 expired
/// password, ...) anywhere in an error's chain.
pub fn server_error_code(err: &anyhow::Error) -> Option<u16> {
    // Every `mysql` error mhactl reports is wrapped in SqlError (MysqlConn, the fakes).
    err.chain()
        .find_map(|e| e.downcast_ref::<SqlError>()?.server().map(|s| s.code))
}

/// The authentication plugin a failed login was asked for that the `mysql` crate does
/// not speak ([`SqlError::unknown_auth_plugin`]).
pub fn unknown_auth_plugin(err: &anyhow::Error) -> Option<String> {
    err.chain().find_map(|e| {
        e.downcast_ref::<SqlError>()?
            .unknown_auth_plugin()
            .map(str::to_string)
    })
}

impl SqlConn for MysqlConn {
    fn query(&mut self, sql: &str) -> Result<Vec<Row>> {
        if self.expect.is_some() {
            return self
                .checked(&[sql.to_string()])?
                .pop()
                .unwrap_or_else(|| Err(anyhow::anyhow!("no result")));
        }
        self.transport.note(Event::SqlRoundTrip);
        let rows: Vec<mysql::Row> = self.conn.query(sql).map_err(SqlError)?;
        Ok(rows.into_iter().map(row_to_pairs).collect())
    }

    fn exec(&mut self, sql: &str) -> Result<()> {
        if self.expect.is_some() {
            // A statement first (rare): the check gets a round trip of its own.
            self.checked(&[])?;
        }
        self.transport.note(Event::SqlRoundTrip);
        self.conn.query_drop(sql).map_err(SqlError)?;
        Ok(())
    }

    fn query_batch(&mut self, queries: &[String]) -> Vec<Result<Vec<Row>>> {
        self.checked(queries).unwrap_or_else(|e| {
            queries
                .iter()
                .map(|_| Err(anyhow::anyhow!("{e:#}")))
                .collect()
        })
    }
}

impl MysqlConn {
    /// The queries as one multi-statement text (the crate announces
    /// CLIENT_MULTI_STATEMENTS): one round trip, one result set each. A query that holds
    /// a `;` itself (it could return several sets) is run on its own. The server stops at
    /// the first failing statement: that one and the rest get its error.
    fn batch(&mut self, queries: &[String]) -> Vec<Result<Vec<Row>>> {
        let simple: Vec<&str> = queries
            .iter()
            .map(|q| q.trim().trim_end_matches(';').trim())
            .collect();
        if queries.len() < 2 || simple.iter().any(|q| q.contains(';') || q.is_empty()) {
            return queries.iter().map(|q| self.query(q)).collect();
        }
        self.transport.note(Event::SqlRoundTrip);
        let mut out: Vec<Result<Vec<Row>>> = Vec::with_capacity(queries.len());
        let failed = |e: mysql::Error| anyhow::Error::new(SqlError(e));
        match self.conn.query_iter(simple.join(";\n")) {
            Err(e) => {
                let e = failed(e);
                return queries
                    .iter()
                    .map(|_| Err(anyhow::anyhow!("{e:#}")))
                    .collect();
            }
            Ok(mut result) => {
                while let Some(set) = result.iter() {
                    let rows: std::result::Result<Vec<mysql::Row>, mysql::Error> = set.collect();
                    match rows {
                        Ok(rows) => out.push(Ok(rows.into_iter().map(row_to_pairs).collect())),
                        Err(e) => {
                            out.push(Err(failed(e)));
                            break;
                        }
                    }
                }
            }
        }
        while out.len() < queries.len() {
            let e = match out.last() {
                Some(Err(e)) => anyhow::anyhow!("{e:#}"),
                _ => anyhow::anyhow!("no result for this query in the batch"),
            };
            out.push(Err(e));
        }
        out.truncate(queries.len());
        out
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

#[cfg(test)]
#[path = "sql_tests.rs"]
mod tests;
