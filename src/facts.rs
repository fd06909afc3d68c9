//! Facts: what mhactl reads from a node, cached per node for one run. Each fact is read
//! by running a command or a query, and parsed by a pure function in [`crate::os`] or
//! [`crate::dialect`], so the parsers are tested on recorded outputs.

use crate::dialect::{BinlogCoordinates, Dialect, ReplicaStatus};
use crate::engine::NodeHandle;
use crate::inventory::Flavor;
use crate::os::{OsInfo, OsRelease, OsTarget, ServiceManager};
use crate::transport::{shell_quote, RemoteCommand};
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
    let rows = node.with_sql(|sql| sql.query("SELECT VERSION() AS version"))?;
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
    let rows = node.with_sql(|sql| sql.query(&format!("SELECT @@GLOBAL.{name} AS value")))?;
    Ok(rows
        .first()
        .and_then(|r| crate::sql::get(r, "value"))
        .map(str::to_string))
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
    let out = node.transport.run_ok(&RemoteCommand::new(format!(
        "ip -4 -o addr show dev {}",
        shell_quote(interface)
    )))?;
    Ok(crate::lab::network::parse_addresses(&out))
}

/// The error logs to search for `mysqld --initialize`'s temporary root password (the
/// server's configured `log-error`, the inventory's `mysql.log_error`, then the
/// packaged default), and the password found in them, if any (the last one of the
/// first log that has one). The password travels on stdout only, never in a command line.
pub fn temporary_root_password(
    node: &NodeHandle,
    target: &OsTarget,
    inventory_log: Option<&str>,
) -> Result<(Vec<String>, Option<String>)> {
    let configured = node
        .transport
        .run(&RemoteCommand::new(
            "my_print_defaults mysqld 2>/dev/null | sed -n 's/^--log[-_]error=//p' | tail -n 1",
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
    let mut found = None;
    for log in &logs {
        let out = node.transport.run(&RemoteCommand::new(format!(
            "grep -F {} {} 2>/dev/null || true",
            shell_quote(crate::dialect::TEMPORARY_PASSWORD_MARKER),
            shell_quote(log)
        )))?;
        if let Some(pw) = crate::dialect::parse_temporary_password(&out.stdout) {
            // The configured log first: the packaged one may hold an older password.
            found = Some(pw);
            break;
        }
    }
    Ok((logs, found))
}

/// `@@server_id` of whichever server answers on the VIP, asked from the node that does
/// *not* hold it (`holder`'s peer), logging in with the replication account: the holder
/// allows exactly that account from exactly that address, so no extra account is needed.
pub fn server_id_through_vip(
    cluster: &crate::engine::Cluster,
    inv: &crate::inventory::Inventory,
    replication_password: &secrecy::SecretString,
    holder: usize,
) -> Result<String> {
    let login = crate::sql::Login {
        user: inv.mysql.replication_user.clone(),
        password: Some(replication_password.clone()),
    };
    let target = crate::transport::ForwardTarget::Tcp(inv.vip.address.to_string(), inv.mysql.port);
    let mut conn =
        crate::sql::MysqlConn::connect(&cluster.peer(holder).transport, &target, &login)?;
    let rows = crate::engine::SqlConn::query(&mut conn, "SELECT @@server_id AS id")?;
    Ok(rows
        .first()
        .and_then(|r| crate::sql::get(r, "id"))
        .unwrap_or("?")
        .to_string())
}
