//! Reads that are more than one command and a parser: the temporary root password
//! (several error logs in turn), `@@server_id` through the VIP (a separate login from
//! the peer), and the TCP probe's parser and the messages built on it.

use crate::engine::{Cluster, NodeHandle};
use crate::inventory::Inventory;
use crate::os::OsTarget;
use crate::transport::RemoteCommand;
use anyhow::Result;

/// The error logs to search for `mysqld --initialize`'s temporary root password (the
/// server's configured `log-error`, the inventory's `mysql.log_error`, then the
/// packaged default), and the password found in them, if any (the last one of the
/// first log that has one; the logs are then just that one, the log it came from).
/// The password travels on stdout only, never in a command line.
pub fn temporary_root_password(
    node: &NodeHandle,
    target: &OsTarget,
    inventory_log: Option<&str>,
) -> Result<(Vec<String>, Option<String>)> {
    let configured = node
        .transport
        .run(&RemoteCommand::new(
            crate::os::error_log::CONFIGURED_LOG_QUERY,
        ))?
        .stdout
        .trim()
        .to_string();
    let mut logs: Vec<String> = Vec::new();
    for path in [
        Some(configured.as_str()),
        inventory_log,
        target.error_log_path(),
    ]
    .into_iter()
    .flatten()
    {
        if path.starts_with('/') && !logs.iter().any(|l| l == path) {
            logs.push(path.to_string());
        }
    }
    for log in &logs {
        let out = node.transport.run(&RemoteCommand::new(
            crate::os::error_log::temporary_password_query(log),
        ))?;
        if let Some(pw) = crate::dialect::parse_temporary_password(&out.stdout) {
            // The configured log first: the packaged one may hold an older password.
            return Ok((vec![log.clone()], Some(pw)));
        }
    }
    Ok((logs, None))
}

/// `@@server_id` of whichever server answers on the VIP, asked from the node that does
/// *not* hold it (`holder`'s peer): by that node's own client with its client-list login
/// (a command: in verify it shares the round's batch), else logging in with the
/// replication account, which the holder allows from exactly there (a pair mhactl has
/// not set up yet has no client-list login).
pub fn server_id_through_vip(
    cluster: &Cluster,
    inv: &Inventory,
    replication_password: &secrecy::SecretString,
    holder: usize,
) -> Result<String> {
    let from = cluster.peer(holder);
    if let Some(arg) = by_client_arg(from, inv) {
        if let Ok(Some(id)) = super::get::<super::through_vip::ServerIdByClient>(from, &arg[..]) {
            return Ok(id);
        }
    }
    let login = crate::sql::Login {
        user: inv.mysql.replication_user.clone(),
        password: Some(replication_password.clone()),
        // Over TLS once the cluster has its CA (the holder's account requires TLS then).
        tls_ca: crate::tls::ca_path(inv).filter(|p| p.exists()),
    };
    let target = crate::transport::ForwardTarget::Tcp(inv.vip.address.to_string(), inv.mysql.port);
    let mut conn = from.login(&target, &login)?;
    let rows = conn.query(crate::dialect::server_id_sql())?;
    Ok(rows
        .first()
        .and_then(|r| crate::sql::get(r, "id"))
        .unwrap_or("?")
        .to_string())
}

/// [`server_id_through_vip`] by the peer's own client as this run read it ahead (a
/// volatile fact: from the run's batch while nothing changed, else asked now); `None`
/// when the peer cannot ask that way. For a step that only confirms what it sees (`vip`).
pub fn server_id_through_vip_ahead(
    cluster: &Cluster,
    inv: &Inventory,
    holder: usize,
) -> Result<Option<String>> {
    let from = cluster.peer(holder);
    match by_client_arg(from, inv) {
        Some(arg) => super::get::<super::through_vip::ServerIdByClientAhead>(from, &arg[..]),
        None => Ok(None),
    }
}

/// The peer's client-list option file, the VIP and the port.
fn by_client_arg(from: &crate::engine::NodeHandle, inv: &Inventory) -> Option<[String; 3]> {
    let (target, _) = super::os_target(from, inv.mysql.flavor).ok()?;
    Some([
        crate::os::client_list::option_file_path(&target),
        inv.vip.address.to_string(),
        inv.mysql.port.to_string(),
    ])
}

/// Seconds a [`tcp_probe`] waits for a TCP connection before calling the port filtered.
pub const TCP_PROBE_TIMEOUT_S: u32 = 5;

/// What a TCP connection attempt from a node to an address found ([`parse_tcp_probe`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TcpProbe {
    /// The connection was accepted: something listens and nothing blocks it.
    Open,
    /// Refused (RST): nothing listens there, or a firewall rejects the connection.
    Refused,
    /// No answer within the timeout (seconds): a firewall drops the packets, or the
    /// address is down.
    TimedOut(u32),
    /// Another error from the node's network stack ("No route to host", ...).
    Failed(String),
    /// The node could not probe (no `bash` or `timeout` there); says nothing.
    Unknown(String),
}

impl TcpProbe {
    /// Why the connection failed, for messages (`None` when it did not fail or the
    /// probe could not tell).
    pub fn problem(&self) -> Option<String> {
        match self {
            TcpProbe::Open | TcpProbe::Unknown(_) => None,
            TcpProbe::Refused => Some("connection refused".into()),
            TcpProbe::TimedOut(s) => Some(format!("connect timed out after {s} s")),
            TcpProbe::Failed(why) => Some(why.clone()),
        }
    }
}

pub use crate::os::host::tcp_probe_script;

/// Parses [`tcp_probe_script`]'s output: exit 0 is open, 124 (`timeout`'s) timed out,
/// anything else is bash's `connect:` error ("Connection refused", "No route to host").
pub fn parse_tcp_probe(output: &str, timeout_s: u32) -> TcpProbe {
    let status = output
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("mhactl-probe: "))
        .unwrap_or("no answer");
    match status {
        "0" => TcpProbe::Open,
        "124" => TcpProbe::TimedOut(timeout_s),
        s if s.parse::<i32>().is_ok() => {
            // "bash: connect: Connection refused" (first line), then "bash: line 1:
            // /dev/tcp/...: Connection refused".
            let why = output
                .lines()
                .find_map(|l| l.split_once("connect: ").map(|(_, w)| w.trim()))
                .or_else(|| {
                    output
                        .lines()
                        .find(|l| !l.starts_with("mhactl-probe:") && !l.trim().is_empty())
                        .and_then(|l| l.rsplit(": ").next())
                })
                .unwrap_or("")
                .to_string();
            if why.contains("Connection refused") {
                TcpProbe::Refused
            } else if why.contains("timed out") {
                TcpProbe::TimedOut(timeout_s)
            } else if why.is_empty() {
                TcpProbe::Failed(format!("connect failed (exit {s})"))
            } else {
                TcpProbe::Failed(why)
            }
        }
        other => TcpProbe::Unknown(other.to_string()),
    }
}

/// Replica IO errors that mean "could not connect to the source" (or none yet: a
/// connection attempt that hangs on a filtered port reports nothing until it times out),
/// worth a [`tcp_probe`] to tell a network problem from a refused login.
pub fn io_error_may_be_network(errno: u32) -> bool {
    matches!(errno, 0 | 2002 | 2003 | 2005 | 2006 | 2013)
}

/// The message for a replica that cannot reach its source's port (bootstrap and verify
/// say the same): names both nodes, the address and port, and what to open.
pub fn peer_unreachable_message(
    node: &str,
    peer: &str,
    peer_addr: &str,
    port: u16,
    node_addr: &str,
    problem: &str,
) -> String {
    format!(
        "{node} cannot reach {peer}'s database port {peer_addr}:{port} ({problem}), so its \
         replication IO thread cannot connect; allow TCP {port} from {node} ({node_addr}) to \
         {peer} (firewall, security group, the server's bind-address) and make sure the \
         server runs on {peer}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tcp_probe_outputs() {
        assert_eq!(parse_tcp_probe("mhactl-probe: 0\n", 5), TcpProbe::Open);
        assert_eq!(
            parse_tcp_probe("mhactl-probe: 124\n", 5),
            TcpProbe::TimedOut(5)
        );
        let refused = "bash: connect: Connection refused\n\
                       bash: line 1: /dev/tcp/10.0.0.11/3306: Connection refused\n\
                       mhactl-probe: 1\n";
        assert_eq!(parse_tcp_probe(refused, 5), TcpProbe::Refused);
        let no_route = "bash: connect: No route to host\n\
                        bash: line 1: /dev/tcp/10.0.0.11/3306: No route to host\nmhactl-probe: 1\n";
        assert_eq!(
            parse_tcp_probe(no_route, 5),
            TcpProbe::Failed("No route to host".into())
        );
        assert_eq!(
            parse_tcp_probe(
                "bash: line 1: /dev/tcp/x/1: Permission denied\nmhactl-probe: 1\n",
                5
            ),
            TcpProbe::Failed("Permission denied".into())
        );
        assert!(matches!(
            parse_tcp_probe("mhactl-probe: no bash or timeout\n", 5),
            TcpProbe::Unknown(_)
        ));
        assert!(matches!(parse_tcp_probe("", 5), TcpProbe::Unknown(_)));
        assert_eq!(TcpProbe::Open.problem(), None);
        assert_eq!(
            TcpProbe::TimedOut(5).problem().as_deref(),
            Some("connect timed out after 5 s")
        );
    }

    #[test]
    fn probe_script_quotes_and_bounds() {
        let s = tcp_probe_script("10.0.0.11", 3306, 5);
        assert!(s.contains("timeout 5 bash -c"), "{s}");
        assert!(s.contains("' 10.0.0.11 3306 2>&1"), "{s}");
    }

    #[test]
    fn network_errnos() {
        assert!(io_error_may_be_network(0) && io_error_may_be_network(2003));
        assert!(!io_error_may_be_network(1045) && !io_error_may_be_network(1236));
    }
}
