//! `mhactl reinit NODE --yes-destroy-data`: rebuild one node from its healthy peer.
//! The node's data directory is moved aside (never deleted), a fresh one is initialised,
//! the replicated databases are copied from the peer with a consistent dump that records
//! the peer's binary log position, replication is pointed at the right coordinates both
//! ways, and the bootstrap steps converge the rest. This is also how a node that diverged
//! from its peer is repaired.

use crate::cli::{GlobalArgs, ReinitArgs, UsageError};
use crate::engine::{self, Cluster, NodeHandle, StepStatus};
use crate::facts;
use crate::inventory::{self, Inventory, Secrets};
use crate::os::KEEPALIVED_SERVICE;
use crate::report::Progress;
use crate::transport::{shell_quote, RemoteCommand};
use anyhow::{anyhow, bail, Context, Result};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Schemas that are never copied: each node keeps its own system tables and accounts.
const SYSTEM_SCHEMAS: &[&str] = &["mysql", "information_schema", "performance_schema", "sys"];

/// Run `mhactl reinit`.
pub fn run(args: &ReinitArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let inv = inventory::load(&global.inventory)?;
    let Some(target) = inv.node_index(&args.node) else {
        let names: Vec<&str> = inv.nodes.iter().map(|n| n.name.as_str()).collect();
        return Err(UsageError(format!(
            "unknown node `{}`; the inventory's nodes are {}",
            args.node,
            names.join(", ")
        ))
        .into());
    };
    if !args.yes_destroy_data {
        return Err(UsageError(format!(
            "reinit replaces {}'s data with a copy of {}'s; the old data directory is moved aside, \
             not deleted. Pass --yes-destroy-data to confirm",
            args.node,
            inv.peer(target).name
        ))
        .into());
    }
    let secrets = Secrets::resolve(&inv, std::io::stdin().is_terminal())?;
    if inv.mysql.flavor == inventory::Flavor::Mysql && secrets.root_password.is_none() {
        // Refused before anything is touched: the fresh data directory starts with a
        // temporary root password, which reinit replaces with the inventory's.
        bail!(
            "reinit on MySQL needs the inventory's root password (credentials.root_password_env, \
             root_password_file or root_password_prompt): the fresh data directory's temporary \
             root password is replaced with it"
        );
    }
    let started = Instant::now();
    let names: Vec<String> = inv.nodes.iter().map(|n| n.name.clone()).collect();
    let progress = Progress::new(global, &names);
    let (cluster, reports) = crate::connect::connect(
        &inv,
        &secrets,
        &crate::connect::ConnectOptions {
            accept_new_host_keys: global.accept_new_host_keys,
            lock_for: Some("reinit"),
        },
        &progress,
    );
    let Some(cluster) = cluster else {
        progress.finish();
        let why: Vec<String> = reports
            .iter()
            .filter(|r| r.status == StepStatus::Failed)
            .map(|r| r.detail.clone())
            .collect();
        bail!("cannot connect: {}", why.join("; "));
    };
    let say = |line: &str| {
        if !global.quiet {
            eprintln!("reinit: {line}");
        }
    };
    rebuild(&cluster, &inv, &secrets, target, &say)
        .map_err(|e| anyhow!(cluster.redact(&format!("{e:#}"))))?;

    say("converging the pair with the bootstrap steps");
    let ctx = Arc::new(crate::bootstrap::steps::Ctx { inv, secrets });
    let steps = engine::run(
        &cluster,
        &crate::bootstrap::steps::all(ctx),
        false,
        &progress,
    );
    progress.finish();
    let ok = steps.iter().all(|r| r.status != StepStatus::Failed);
    crate::report::print_summary("reinit", false, &steps, started.elapsed());
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn sql_rows(node: &NodeHandle, sql: &str) -> Result<Vec<engine::Row>> {
    node.with_sql(|s| s.query(sql))
}

fn rebuild(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    target: usize,
    say: &dyn Fn(&str),
) -> Result<()> {
    let node = &cluster.nodes[target];
    let peer = cluster.peer(target);
    let flavor = inv.mysql.flavor;

    // The peer is the source of truth: it must answer SQL and have its binary log on.
    facts::binlog_coordinates(peer)
        .with_context(|| format!("{} must be healthy to copy from", peer.name))?;
    let (node_os, node_services) = facts::os_target(node, flavor)?;

    // 1. Take the node out of service: keepalived off (the VIP goes to the peer), and the
    //    peer stops replicating from a node that is about to lose its binary logs.
    say(&format!(
        "stopping keepalived on {} (the VIP stays on or moves to {})",
        node.name, peer.name
    ));
    node.transport.run_ok(&RemoteCommand::new(
        node_services.stop_command(KEEPALIVED_SERVICE),
    ))?;
    crate::poll::until(Duration::from_secs(15), || {
        Ok(!facts::interface_addresses(node, &inv.vip.interface)?.contains(&inv.vip.address))
    })
    .map_err(|_| anyhow!("{} still holds the VIP after keepalived stopped", node.name))?;
    let peer_dialect = facts::dialect(peer)?;
    peer.with_sql(|s| {
        s.exec(&peer_dialect.stop_replica_sql())?;
        s.exec(&peer_dialect.reset_replica_all_sql())
    })?;

    // 2. A fresh data directory: the old one is renamed, never deleted.
    let datadir = node
        .with_sql(|s| s.query("SELECT @@datadir AS d"))
        .ok()
        .and_then(|rows| {
            rows.first()
                .and_then(|r| crate::sql::get(r, "d"))
                .map(|d| d.trim_end_matches('/').to_string())
        })
        .unwrap_or_else(|| "/var/lib/mysql".into());
    let stamp = node
        .transport
        .run_ok(&RemoteCommand::new("date -u +%Y%m%dT%H%M%SZ"))?
        .trim()
        .to_string();
    let aside = format!("{datadir}.mhactl-{stamp}");
    say(&format!(
        "stopping {} on {}; moving {datadir} aside to {aside}",
        node_os.server_service(),
        node.name
    ));
    node.reset_sql();
    node.transport.run_ok(&RemoteCommand::new(
        node_services.stop_command(node_os.server_service()),
    ))?;
    let d = shell_quote(&datadir);
    let log = crate::bootstrap::paths::initialise_log(inv, &node_os);
    let init = crate::bootstrap::paths::initialise_command(flavor, &datadir, &log);
    // Under SELinux the new directory gets the data directory's context again.
    node.transport
        .run_ok(&RemoteCommand::new(format!(
            "set -e; mv {d} {a}; mkdir -p {d}; chown mysql:mysql {d}; chmod 750 {d}; \
             if command -v restorecon >/dev/null 2>&1; then restorecon -R {d}; fi; {init}",
            a = shell_quote(&aside)
        )))
        .with_context(|| format!("{}: initialising a fresh data directory", node.name))?;
    if let (inventory::Flavor::Mysql, Some(root_password)) = (flavor, &secrets.root_password) {
        // The RPM way: `--initialize` left a random expired root password in the log;
        // replace it with the inventory's before the server starts for real.
        say(&format!(
            "setting root's password on {}'s fresh data directory",
            node.name
        ));
        crate::bootstrap::paths::secure_fresh_mysql_datadir(node, &datadir, &log, root_password)?;
    }
    say(&format!(
        "starting {} on {} with an empty data directory",
        node_os.server_service(),
        node.name
    ));
    if let Some(prepare) = node_services.runtime_dir_command(node_os.server_service()) {
        node.transport.run_ok(&RemoteCommand::new(prepare))?;
    }
    node.transport.run_ok(&RemoteCommand::new(
        node_services.start_command(node_os.server_service()),
    ))?;
    node.facts
        .lock()
        .map_err(|_| anyhow!("facts lock"))?
        .dialect = None;
    crate::poll::until(Duration::from_secs(60), || {
        node.reset_sql();
        Ok(node.with_sql(|s| s.query("SELECT 1")).is_ok())
    })
    .map_err(|_| {
        anyhow!(
            "{}: the server did not start on the fresh data directory",
            node.name
        )
    })?;

    // 3. Copy the replicated databases from the peer: one consistent snapshot, and the
    //    peer's binary log position at that snapshot, so nothing is applied twice or lost.
    let databases: Vec<String> = sql_rows(peer, "SHOW DATABASES")?
        .iter()
        .filter_map(|r| r.first().and_then(|(_, v)| v.clone()))
        .filter(|db| !SYSTEM_SCHEMAS.contains(&db.as_str()))
        .collect();
    let (file, position) = if databases.is_empty() {
        say(&format!("{} has no databases to copy", peer.name));
        let c = facts::binlog_coordinates(peer)?;
        // With GTIDs (MySQL), the fresh node has executed what the peer had, as a dump
        // would have recorded (`--set-gtid-purged`).
        if flavor == inventory::Flavor::Mysql
            && facts::variable(peer, "gtid_mode")?.as_deref() == Some("ON")
        {
            let executed = facts::variable(peer, "gtid_executed")?.unwrap_or_default();
            if !executed.trim().is_empty() {
                node.with_sql(|s| {
                    s.exec(&format!(
                        "SET @@GLOBAL.gtid_purged = {}",
                        crate::dialect::quote_string(executed.trim())
                    ))
                })?;
            }
        }
        (c.file, c.position)
    } else {
        say(&format!(
            "copying {} from {} to {}",
            databases.join(", "),
            peer.name,
            node.name
        ));
        let dbs: Vec<String> = databases.iter().map(|d| shell_quote(d)).collect();
        // MySQL 8.0.26 renamed --master-data to --source-data (and 8.4 deprecates the old name).
        let v = peer_dialect.version();
        let source_data =
            if flavor == inventory::Flavor::Mysql && (v.major, v.minor, v.patch) >= (8, 0, 26) {
                "--source-data=2"
            } else {
                "--master-data=2"
            };
        let login = client_login(secrets, flavor)?;
        // The dump streams from the peer through this host into the node's client, one
        // chunk at a time: memory stays bounded whatever the size of the data. It is
        // loaded with the binary log off: the copy must not replicate back to the peer.
        let mut input = login.clone().into_bytes();
        input.extend_from_slice(b"SET SESSION sql_log_bin = 0;\n");
        let mut load = node.transport.open_sink(&RemoteCommand::with_stdin(
            crate::bootstrap::paths::with_client_login(
                "$(command -v mariadb || command -v mysql)",
                "",
            ),
            input,
        ))?;
        let mut head = Vec::new();
        peer.transport
            .stream_into(
                &RemoteCommand::with_stdin(
                    crate::bootstrap::paths::with_client_login(
                        "$(command -v mariadb-dump || command -v mysqldump)",
                        &format!(
                            "--single-transaction {source_data} --routines --events --triggers --hex-blob --databases {}",
                            dbs.join(" ")
                        ),
                    ),
                    login,
                ),
                load.as_mut(),
                &mut head,
                DUMP_HEAD_BYTES,
            )
            .with_context(|| format!("{}: dumping for {}", peer.name, node.name))?;
        load.finish()
            .with_context(|| format!("{}: loading the copy", node.name))?;
        let coords = dump_coordinates(&String::from_utf8_lossy(&head)).ok_or_else(|| {
            anyhow!(
                "{}: the dump does not record the binary log position in its first {} KiB",
                peer.name,
                DUMP_HEAD_BYTES / 1024
            )
        })?;
        coords
    };

    // 4. The node replicates from the peer from exactly the snapshot's position. The
    //    replication account on the peer (for this node's address) is unchanged; the
    //    node's own account for the peer is created by the bootstrap steps that follow.
    say(&format!(
        "{} replicates from {} starting at {file}:{position}",
        node.name, peer.name
    ));
    let d = facts::dialect(node)?;
    let change = crate::dialect::ChangeSource {
        host: inv.peer(target).address.to_string(),
        port: inv.mysql.port,
        user: inv.mysql.replication_user.clone(),
        password: secrecy::ExposeSecret::expose_secret(&secrets.replication_password).to_string(),
        log_file: file,
        log_pos: position,
        connect_retry: 2,
    };
    node.with_sql(|s| {
        s.exec(&d.stop_replica_sql())?;
        s.exec(&d.change_source_sql(&change))?;
        s.exec(&d.start_replica_sql())
    })?;
    Ok(())
}

/// The login (three option-file lines) client programs on the nodes use as root: the
/// inventory's root password on MySQL, socket authentication on MariaDB.
fn client_login(secrets: &Secrets, flavor: inventory::Flavor) -> Result<String> {
    let password = match flavor {
        inventory::Flavor::Mysql => secrets
            .root_password
            .as_ref()
            .map(|p| secrecy::ExposeSecret::expose_secret(p).to_string()),
        inventory::Flavor::Mariadb => None,
    };
    crate::bootstrap::paths::client_option_file("root", password.as_deref())
}

/// How much of the dump's beginning is kept to read the binary log position from: the
/// `CHANGE MASTER TO` comment comes right after the header, well within this.
const DUMP_HEAD_BYTES: usize = 64 * 1024;

/// The binary log position a `--master-data=2` / `--source-data=2` dump recorded.
pub fn dump_coordinates(dump: &str) -> Option<(String, u64)> {
    let line = dump
        .lines()
        .take(200)
        .find(|l| l.contains("CHANGE MASTER TO") || l.contains("CHANGE REPLICATION SOURCE TO"))?;
    let value = |key: &str| -> Option<String> {
        let start = line.find(key)? + key.len();
        let rest = line[start..].trim_start_matches(['=', ' ', '\'']);
        Some(
            rest.chars()
                .take_while(|c| *c != '\'' && *c != ',' && *c != ';')
                .collect(),
        )
    };
    let file = value("_LOG_FILE")?;
    let pos = value("_LOG_POS")?.trim().parse().ok()?;
    Some((file, pos))
}

#[cfg(test)]
mod tests {
    use super::dump_coordinates;

    #[test]
    fn reads_the_position_mariadb_dump_records() {
        let dump = "-- MariaDB dump 10.19\n--\n-- Position to start replication or point-in-time recovery from\n--\n\n\
                    -- CHANGE MASTER TO MASTER_LOG_FILE='mysql-bin.000002', MASTER_LOG_POS=1234;\n\nCREATE DATABASE x;\n";
        assert_eq!(
            dump_coordinates(dump),
            Some(("mysql-bin.000002".into(), 1234))
        );
    }

    #[test]
    fn reads_the_position_mysql_8_dump_records() {
        let dump = "-- CHANGE REPLICATION SOURCE TO SOURCE_LOG_FILE='binlog.000007', SOURCE_LOG_POS=157;\n";
        assert_eq!(dump_coordinates(dump), Some(("binlog.000007".into(), 157)));
    }

    #[test]
    fn no_position_is_none() {
        assert_eq!(dump_coordinates("CREATE TABLE t (id INT);\n"), None);
    }
}
