//! Facts: what mhactl reads from a node, cached per node for one run. Each fact is read
//! by running a command or a query, and parsed by a pure function in [`crate::os`] or
//! [`crate::dialect`], so the parsers are tested on recorded outputs.

use crate::dialect::{BinlogCoordinates, Dialect, ReplicaStatus};
use crate::engine::{Cluster, NodeHandle};
use crate::inventory::{Flavor, Inventory};
use crate::os::{OsInfo, OsRelease, OsTarget, ServiceManager};
use crate::transport::RemoteCommand;
use anyhow::{anyhow, Context, Result};

/// Facts about one node that do not change during a run (cached after the first read).
#[derive(Debug, Default, Clone)]
pub struct NodeFacts {
    /// `/etc/os-release`.
    pub os: Option<OsInfo>,
    /// systemd or SysV.
    pub services: Option<ServiceManager>,
    /// The running server's dialect (after it is installed and started).
    pub dialect: Option<Dialect>,
}

/// The node's OS family with the inventory's flavor: package and service names, paths.
pub fn os_target(node: &NodeHandle, flavor: Flavor) -> Result<(OsTarget, ServiceManager)> {
    let mut facts = node
        .facts
        .lock()
        .map_err(|_| anyhow!("facts lock poisoned"))?;
    if facts.os.is_none() {
        let text = node
            .transport
            .read_file(std::path::Path::new("/etc/os-release"))?
            .ok_or_else(|| {
                anyhow!(
                    "{}: /etc/os-release is missing: cannot tell the OS family",
                    node.name
                )
            })?;
        facts.os = Some(OsRelease::parse(&text));
    }
    if facts.services.is_none() {
        let out = node
            .transport
            .run_ok(&RemoteCommand::new(ServiceManager::probe_command()))?;
        facts.services = Some(ServiceManager::parse_probe(&out));
    }
    let os = facts.os.as_ref().expect("set above");
    let target = OsTarget::new(os.family, flavor)
        .with_context(|| format!("{}: {} ({})", node.name, os.pretty_name, os.id))?;
    Ok((target, facts.services.expect("set above")))
}

/// A one-line description of the OS facts ("Debian GNU/Linux 12, apt, sysv").
pub fn describe_os(node: &NodeHandle) -> String {
    let facts = node.facts.lock().map(|f| f.clone()).unwrap_or_default();
    match (facts.os, facts.services) {
        (Some(os), Some(svc)) => format!("{} ({:?}), {svc:?} services", os.pretty_name, os.family),
        _ => "unknown".into(),
    }
}

/// Is a service running?
pub fn service_active(node: &NodeHandle, services: ServiceManager, service: &str) -> Result<bool> {
    Ok(node
        .transport
        .run(&RemoteCommand::new(services.is_active_command(service)))?
        .success())
}

/// The server's dialect, from `SELECT VERSION()` (cached: the version does not change in a run).
pub fn dialect(node: &NodeHandle) -> Result<Dialect> {
    if let Some(d) = node
        .facts
        .lock()
        .map_err(|_| anyhow!("facts lock poisoned"))?
        .dialect
    {
        return Ok(d);
    }
    let rows = node.with_sql(|sql| sql.query(crate::dialect::version_sql()))?;
    let version = rows
        .first()
        .and_then(|r| crate::sql::get(r, "version"))
        .ok_or_else(|| anyhow!("{}: SELECT VERSION() returned nothing", node.name))?
        .to_string();
    let d = Dialect::from_version_string(&version)?;
    node.facts
        .lock()
        .map_err(|_| anyhow!("facts lock poisoned"))?
        .dialect = Some(d);
    Ok(d)
}

/// A global variable's value (`SELECT @@name`).
pub fn variable(node: &NodeHandle, name: &str) -> Result<Option<String>> {
    let rows = node.with_sql(|sql| sql.query(&crate::dialect::global_variable_sql(name)))?;
    Ok(rows
        .first()
        .and_then(|r| crate::sql::get(r, "value"))
        .map(str::to_string))
}

/// The node's keepalived release (`None`: not installed), for features that need a
/// newer one than EL7's 1.3.5 ([`crate::os::keepalived::KeepalivedVersion::capabilities`]).
pub fn keepalived_version(
    node: &NodeHandle,
) -> Result<Option<crate::os::keepalived::KeepalivedVersion>> {
    let out = node
        .transport
        .run(&RemoteCommand::new(crate::os::keepalived::VERSION_COMMAND))?;
    crate::os::keepalived::parse_version_probe(out.status, &out.stdout)
        .map_err(|e| anyhow!("{}: {e:#}", node.name))
}

/// The replica threads' state; `None` when no replication source is configured.
pub fn replica_status(node: &NodeHandle) -> Result<Option<ReplicaStatus>> {
    let d = dialect(node)?;
    let rows = node.with_sql(|sql| sql.query(&d.replica_status_sql()))?;
    ReplicaStatus::from_rows(&rows)
}

/// The node's current binary log position.
pub fn binlog_coordinates(node: &NodeHandle) -> Result<BinlogCoordinates> {
    let d = dialect(node)?;
    let rows = node.with_sql(|sql| sql.query(&d.binlog_status_sql()))?;
    BinlogCoordinates::from_rows(&rows)?
        .ok_or_else(|| anyhow!("{}: the binary log is off (no binlog status)", node.name))
}

/// IPv4 addresses on an interface (`ip -4 -o addr show dev IF`).
pub fn interface_addresses(node: &NodeHandle, interface: &str) -> Result<Vec<std::net::Ipv4Addr>> {
    let out = node.transport.run_ok(&RemoteCommand::new(
        crate::os::host::interface_addresses_command(interface),
    ))?;
    Ok(crate::os::addresses::parse_addresses(&out))
}

/// Whether `node` holds the VIP now: the VIP's address is on the inventory's VIP
/// interface. The one definition status, verify, failover and bootstrap's VIP check use.
pub fn holds_vip(node: &NodeHandle, inv: &Inventory) -> Result<bool> {
    Ok(interface_addresses(node, &inv.vip.interface)?.contains(&inv.vip.address))
}

/// The nodes holding the VIP now (one on a healthy pair), by index; the first node that
/// cannot be asked makes it an error.
pub fn vip_holders(cluster: &Cluster, inv: &Inventory) -> Result<Vec<usize>> {
    let mut holders = Vec::new();
    for node in &cluster.nodes {
        if holds_vip(node, inv)? {
            holders.push(node.index);
        }
    }
    Ok(holders)
}

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
/// *not* hold it (`holder`'s peer), logging in with the replication account: the holder
/// allows exactly that account from exactly that address, so no extra account is needed.
pub fn server_id_through_vip(
    cluster: &Cluster,
    inv: &Inventory,
    replication_password: &secrecy::SecretString,
    holder: usize,
) -> Result<String> {
    let login = crate::sql::Login {
        user: inv.mysql.replication_user.clone(),
        password: Some(replication_password.clone()),
    };
    let target = crate::transport::ForwardTarget::Tcp(inv.vip.address.to_string(), inv.mysql.port);
    let mut conn = cluster.peer(holder).login(&target, &login)?;
    let rows = conn.query(crate::dialect::server_id_sql())?;
    Ok(rows
        .first()
        .and_then(|r| crate::sql::get(r, "id"))
        .unwrap_or("?")
        .to_string())
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

/// Can `node` open a TCP connection to `host:port`? Asked on the node itself (the path
/// replication takes), waiting at most [`TCP_PROBE_TIMEOUT_S`].
pub fn tcp_probe(node: &NodeHandle, host: &str, port: u16) -> Result<TcpProbe> {
    let out = node.transport.run(&RemoteCommand::new(tcp_probe_script(
        host,
        port,
        TCP_PROBE_TIMEOUT_S,
    )))?;
    Ok(parse_tcp_probe(&out.stdout, TCP_PROBE_TIMEOUT_S))
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
