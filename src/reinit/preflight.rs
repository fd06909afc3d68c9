//! reinit's pre-flight: everything that can be checked before anything is stopped.
//! Every problem found is reported at once, naming the node; the run is then refused
//! (exit 1) with the node still serving exactly as before.
//!
//! Checked: the peer answers SQL with its binary log on, its dump program runs and can
//! read the databases to copy (`--no-data`), and, when the node holds the VIP, the
//! peer's keepalived runs to take it over; on the node, the data directory exists and
//! can be renamed (not a mount point), its file system has room for a fresh directory
//! plus the copy, the init tool and the client program run. Host name resolution is no
//! longer needed: the init tool is told not to look the host up (see
//! [`crate::os::datadir::initialise_command`]).

use super::commands::{self, Probe};
use super::restore::Previous;
use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::inventory::{Inventory, Secrets};
use crate::os::KEEPALIVED_SERVICE;
use crate::transport::{shell_quote, RemoteCommand};
use anyhow::{bail, Result};

/// Room a fresh data directory takes before any data (InnoDB's system tablespace and
/// redo log, the system schemas), with a margin.
const FRESH_DATADIR_KIB: u64 = 512 * 1024;

/// What the pre-flight found and reinit then acts on.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The state to restore when a later step fails.
    pub previous: Previous,
    /// A killed run's aside copy is reused: the current data directory is that run's
    /// fresh one and is replaced, not moved aside.
    pub reuse_aside: bool,
    /// Aside copies of earlier runs, removed once this run has succeeded.
    pub older_asides: Vec<String>,
    /// The non-system databases to copy from the peer.
    pub databases: Vec<String>,
    /// The node held the VIP when the run started.
    pub node_held_vip: bool,
}

/// Run the pre-flight for rebuilding `cluster.nodes[target]`.
pub fn check(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    target: usize,
    databases_sql: &str,
    system_schemas: &[&str],
) -> Result<Plan> {
    let node = &cluster.nodes[target];
    let peer = cluster.peer(target);
    let flavor = inv.mysql.flavor;
    let mut problems: Vec<String> = Vec::new();

    // The peer: the source of the copy.
    if let Err(e) = facts::binlog_coordinates(peer) {
        problems.push(format!(
            "{} must answer SQL with its binary log on to be copied from: {e:#}",
            peer.name
        ));
    }
    let databases: Vec<String> = match peer.with_sql(|s| s.query(databases_sql)) {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.first().and_then(|(_, v)| v.clone()))
            .filter(|db| !system_schemas.contains(&db.as_str()))
            .collect(),
        Err(e) => {
            problems.push(format!("{}: listing its databases: {e:#}", peer.name));
            Vec::new()
        }
    };
    let data_kib = data_size_kib(peer, &databases).unwrap_or(0);
    if !databases.is_empty() {
        if let Err(e) = dump_schema(peer, secrets, flavor, &databases) {
            problems.push(format!(
                "{}: its databases cannot be dumped: {e:#}",
                peer.name
            ));
        }
    }
    let peer_replicating = facts::replica_status(peer)
        .ok()
        .flatten()
        .is_some_and(|s| s.io_running || s.sql_running);

    // The node: what runs there now (restored as it was on failure).
    let (os, services) = facts::os_target(node, flavor)?;
    let server_active = facts::service_active(node, services, os.server_service())?;
    let keepalived_active = facts::service_active(node, services, KEEPALIVED_SERVICE)?;
    let node_held_vip =
        facts::interface_addresses(node, &inv.vip.interface)?.contains(&inv.vip.address);
    if node_held_vip {
        let (_, peer_services) = facts::os_target(peer, flavor)?;
        if !facts::service_active(peer, peer_services, KEEPALIVED_SERVICE)? {
            problems.push(format!(
                "{} holds the VIP {} and keepalived does not run on {}: stopping {}'s keepalived \
                 would leave nobody serving the VIP (start keepalived on {}, e.g. with \
                 `mhactl bootstrap`, then run reinit again)",
                node.name, inv.vip.address, peer.name, node.name, peer.name
            ));
        }
    }
    let node_replicating = server_active
        && facts::replica_status(node)
            .ok()
            .flatten()
            .is_some_and(|s| s.io_running || s.sql_running);
    let datadir = current_datadir(node, inv, server_active);

    let probe = commands::parse_probe(&node.transport.run_ok(&RemoteCommand::new(
        commands::probe_script(&datadir, commands::init_check(flavor)),
    ))?);
    let reuse = probe
        .marker
        .as_ref()
        .filter(|m| probe.asides.contains(m))
        .cloned();
    problems.extend(node_problems(
        &node.name,
        &datadir,
        &probe,
        reuse.is_some(),
        data_kib,
    ));
    if !problems.is_empty() {
        bail!(
            "reinit of {} refused before anything was changed (the node still serves as before): {}",
            node.name,
            problems.join("; ")
        );
    }
    let (aside, reuse_aside) = match reuse {
        Some(a) => (a, true),
        None => {
            let stamp = node
                .transport
                .run_ok(&RemoteCommand::new(commands::STAMP_QUERY))?
                .trim()
                .to_string();
            (commands::aside_path(&datadir, &stamp), false)
        }
    };
    let older_asides = probe
        .asides
        .iter()
        .filter(|a| **a != aside && commands::is_aside_copy(&datadir, a))
        .cloned()
        .collect();
    Ok(Plan {
        previous: Previous {
            node: target,
            datadir,
            aside,
            // A killed run left the node half-done: its previous state was a serving
            // member of the pair, which is what a restore brings back.
            server_active: server_active || reuse_aside,
            keepalived_active: keepalived_active || reuse_aside,
            node_replicating: node_replicating || reuse_aside,
            peer_replicating,
        },
        reuse_aside,
        older_asides,
        databases,
        node_held_vip,
    })
}

/// The problems the probe of the node shows (pure: unit-tested).
pub fn node_problems(
    node: &str,
    datadir: &str,
    probe: &Probe,
    reuse: bool,
    data_kib: u64,
) -> Vec<String> {
    let mut problems = Vec::new();
    if !probe.datadir_exists && !reuse {
        problems.push(format!(
            "{node}: the data directory {datadir} does not exist"
        ));
    }
    if probe.mount_point {
        problems.push(format!(
            "{node}: the data directory {datadir} is the top of a file system and cannot be \
             moved aside (use a directory below it as mysql.datadir)"
        ));
    }
    // The load writes about as much as the peer holds, plus index build overhead.
    let needed = FRESH_DATADIR_KIB + data_kib + data_kib / 4;
    match probe.free_kib {
        Some(free) if free >= needed => {}
        Some(free) => problems.push(format!(
            "{node}: the file system holding {datadir} has {} MiB free, the fresh data directory \
             and the copy need about {} MiB (the old directory is kept aside on the same file \
             system){}",
            free / 1024,
            needed / 1024,
            if probe.asides.is_empty() {
                String::new()
            } else {
                format!(
                    "; aside copies of earlier reinit runs you may remove: {}",
                    probe.asides.join(", ")
                )
            }
        )),
        None => problems.push(format!(
            "{node}: cannot read the free space of the file system holding {datadir} (df)"
        )),
    }
    if let Some(e) = &probe.init_tool_error {
        problems.push(format!("{node}: {e}"));
    } else if probe.init_tool.is_none() {
        problems.push(format!(
            "{node}: the data directory init tool was not found"
        ));
    }
    if probe.client.is_none() {
        problems.push(format!(
            "{node}: no client program (mariadb or mysql) to load the copy with"
        ));
    }
    problems
}

/// The data directory the server uses now; when it does not run, the inventory's, else
/// the packaged default.
fn current_datadir(node: &NodeHandle, inv: &Inventory, server_active: bool) -> String {
    let from_server = server_active
        .then(|| {
            node.with_sql(|s| s.query(crate::dialect::datadir_sql()))
                .ok()
                .and_then(|rows| {
                    rows.first()
                        .and_then(|r| crate::sql::get(r, "d"))
                        .map(str::to_string)
                })
        })
        .flatten();
    let dir = from_server
        .or_else(|| inv.mysql.datadir.as_ref().map(|p| p.display().to_string()))
        .unwrap_or_else(|| "/var/lib/mysql".into());
    let trimmed = dir.trim_end_matches('/');
    if trimmed.is_empty() {
        dir
    } else {
        trimmed.to_string()
    }
}

/// KiB of data and indexes the databases hold on `peer`.
fn data_size_kib(peer: &NodeHandle, databases: &[String]) -> Result<u64> {
    if databases.is_empty() {
        return Ok(0);
    }
    let rows = peer.with_sql(|s| s.query(&crate::dialect::databases_size_kib_sql(databases)))?;
    Ok(rows
        .first()
        .and_then(|r| crate::sql::get(r, "kib"))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0))
}

/// Dump the databases' definitions only: proves the dump program, the login and the
/// privileges the real dump needs, without copying data or locking (the dump's default
/// `--lock-tables` would make writers on the peer wait).
fn dump_schema(
    peer: &NodeHandle,
    secrets: &Secrets,
    flavor: crate::inventory::Flavor,
    databases: &[String],
) -> Result<()> {
    let dbs: Vec<String> = databases.iter().map(|d| shell_quote(d)).collect();
    let script = crate::os::client_login::with_client_login(
        crate::os::client_login::DUMP,
        &format!(
            "--no-data --skip-lock-tables --routines --events --triggers --databases {} >/dev/null",
            dbs.join(" ")
        ),
    );
    peer.transport
        .run_ok(&RemoteCommand::with_stdin(
            script,
            super::client_login(secrets, flavor)?,
        ))
        .map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe() -> Probe {
        Probe {
            datadir_exists: true,
            free_kib: Some(10 * 1024 * 1024),
            init_tool: Some("/usr/bin/mariadb-install-db".into()),
            client: Some("/usr/bin/mariadb".into()),
            ..Probe::default()
        }
    }

    #[test]
    fn a_healthy_node_has_no_problems() {
        assert!(node_problems("node-b", "/var/lib/mysql", &probe(), false, 1024).is_empty());
    }

    #[test]
    fn each_problem_names_the_node_and_what_is_missing() {
        let p = Probe {
            datadir_exists: false,
            mount_point: true,
            free_kib: Some(100 * 1024),
            init_tool: None,
            init_tool_error: Some(
                "neither mariadb-install-db nor mysql_install_db is installed".into(),
            ),
            client: None,
            asides: vec!["/var/lib/mysql.mhactl-20261126T133633Z".into()],
            ..Probe::default()
        };
        let problems = node_problems("node-b", "/var/lib/mysql", &p, false, 2048);
        assert_eq!(problems.len(), 5, "{problems:?}");
        assert!(problems.iter().all(|p| p.starts_with("node-b: ")));
        assert!(problems[2].contains("100 MiB free") && problems[2].contains("need about 514 MiB"));
        assert!(problems[2].contains("/var/lib/mysql.mhactl-20261126T133633Z"));
        assert!(problems[3].contains("mariadb-install-db"));
    }
}
