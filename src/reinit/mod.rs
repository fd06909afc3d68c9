//! `mhactl reinit NODE --yes-destroy-data`: rebuild one node from its healthy peer.
//! A pre-flight checks everything it can before anything is stopped ([`preflight`]);
//! then the node's data directory is moved aside (never deleted), a fresh one is
//! initialised without anonymous accounts or a `test` database, the replicated
//! databases are copied from the peer with a consistent dump that records the peer's
//! binary log position, replication is pointed at the right coordinates both ways, and
//! the bootstrap steps converge the rest. Any failure after the pre-flight puts the node
//! back as it was ([`restore_previous`]). This is also how a node that diverged from
//! its peer is repaired.

use crate::os::datadir_swap as commands;
mod preflight;
mod rejoin;
mod report;
mod restore;

pub use report::{Rebuilt, ReinitReport};

pub use restore::{restore_previous, Previous};

mod args;
pub use args::ReinitArgs;

use crate::dialect::BinlogCoordinates;
use crate::engine::{self, Cluster, NodeHandle, StepStatus};
use crate::error::UsageError;
use crate::facts;
use crate::global::{GlobalArgs, OutputFormat};
use crate::inventory::{self, Inventory, Secrets};
use crate::os::KEEPALIVED_SERVICE;
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
    let inv = crate::session::load(&global.inventory)?;
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
             not deleted. Pass --yes (or --yes-destroy-data) to confirm; on a terminal, reinit \
             asks",
            args.node,
            inv.peer(target).name
        ))
        .into());
    }
    let secrets = Secrets::resolve(&inv, std::io::stdin().is_terminal())?;
    if inv.mysql.flavor.fresh_root_password_is_temporary() && secrets.root_password.is_none() {
        // Refused before anything is touched: the fresh data directory starts with a
        // temporary root password, which reinit replaces with the inventory's.
        bail!(
            "reinit on MySQL needs the inventory's root password (credentials.root_password_env, \
             root_password_file or root_password_prompt): the fresh data directory's temporary \
             root password is replaced with it"
        );
    }
    // Locking makes the run cooperative (the session holds the guard): a first
    // SIGINT/SIGTERM only asks reinit to stop between its steps. After the pre-flight that
    // takes the same path as any failure (`restore_previous` puts the node back as it
    // was), and the exit status is 130/143.
    let started = Instant::now();
    let crate::session::Session {
        inv,
        secrets,
        connected,
    } = crate::session::Session::connect(
        inv,
        secrets,
        global,
        &crate::session::Opening {
            lock_for: Some("reinit"),
            show_nodes: true,
            ..Default::default()
        },
    );
    let (cluster, reports, progress) = (connected.cluster, connected.reports, connected.progress);
    let Some(cluster) = cluster else {
        progress.finish();
        let why: Vec<String> = reports
            .iter()
            .filter(|r| r.status == StepStatus::Failed)
            .map(|r| r.detail.clone())
            .collect();
        bail!("cannot connect: {}", why.join("; "));
    };
    // How the pair positions, read before the node's data (and its replica) is gone.
    let mut inv = inv;
    crate::positioning::resolve(&mut inv, &cluster, crate::positioning::Resolve::Refuse)?;
    // Through the progress display: a line written past it is erased by the spinners.
    let say = |line: &str| progress.message(&format!("reinit: {line}"));
    let rebuilt = rebuild(&cluster, &inv, &secrets, target, &say)
        .map_err(|e| anyhow!(cluster.redact(&format!("{e:#}"))))?;
    let (node, peer) = (
        inv.nodes[target].name.clone(),
        inv.peer(target).name.clone(),
    );

    say("converging the pair with the bootstrap steps");
    let ctx = Arc::new(crate::bootstrap::steps::Ctx::new(inv, secrets));
    let steps = engine::run(
        &cluster,
        &crate::bootstrap::steps::all(ctx),
        false,
        &progress,
    );
    progress.finish();
    let ok = steps.iter().all(|r| r.status != StepStatus::Failed);
    match global.output {
        OutputFormat::Json => crate::json_out::print(
            Some(crate::report::step_counts(&steps)),
            &ReinitReport::new(&node, &peer, rebuilt, steps),
        )?,
        OutputFormat::Text => {
            crate::report::print_summary("reinit", false, false, &steps, started.elapsed())
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Rebuild the node: pre-flight, then replace its data; when anything fails after the
/// pre-flight, [`restore_previous`] puts the node back as it was and the error says both
/// what failed (node, step, the tool's own output) and what was restored.
fn rebuild(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    target: usize,
    say: &dyn Fn(&str),
) -> Result<Rebuilt> {
    let node = &cluster.nodes[target];
    say(&format!("pre-flight checks for {}", node.name));
    let plan = preflight::check(
        cluster,
        inv,
        secrets,
        target,
        crate::dialect::show_databases_sql(),
        SYSTEM_SCHEMAS,
    )?;
    crate::interrupt::check()?;
    if plan.reuse_aside {
        say(&format!(
            "an earlier reinit of {} was interrupted: its aside copy {} holds the previous data \
             and is reused; {} (made by that run) is replaced",
            node.name, plan.previous.aside, plan.previous.datadir
        ));
    }
    let Some(failure) = replace_data(cluster, inv, secrets, &plan, say).err() else {
        return finish(node, &plan, say);
    };
    let failure = cluster.redact(&format!("{failure:#}"));
    say(&format!("failed; putting {} back as it was", node.name));
    match restore_previous(cluster, inv, &plan.previous) {
        Ok(restored) => {
            bail!("{failure}\n{restored}. Nothing was lost: fix the cause and run reinit again")
        }
        Err(e) => bail!(
            "{failure}\n{}. The previous data directory is {} (or already back at {}); see \
             docs/runbook.md, \"Rebuild a node from its peer\"",
            cluster.redact(&format!("{e:#}")),
            plan.previous.aside,
            plan.previous.datadir
        ),
    }
}

/// After success: the peer forgets its replication from the node's old binary logs (the
/// bootstrap steps point it at the new ones), the marker goes, and the aside copies of
/// earlier runs are removed, so one aside copy (this run's) stays.
fn finish(node: &NodeHandle, plan: &preflight::Plan, say: &dyn Fn(&str)) -> Result<Rebuilt> {
    node.transport
        .run_ok(&RemoteCommand::new(commands::finish_command(
            &plan.previous.datadir,
            &plan.older_asides,
        )))
        .with_context(|| format!("{}: removing older aside copies", node.name))?;
    for a in &plan.older_asides {
        say(&format!(
            "removed {a}, the aside copy of an earlier reinit of {}",
            node.name
        ));
    }
    say(&format!(
        "{}'s previous data directory is kept as {} (remove it when no longer needed)",
        node.name, plan.previous.aside
    ));
    Ok(Rebuilt {
        databases: plan.databases.clone(),
        reused_aside: plan.reuse_aside,
        previous_datadir: plan.previous.aside.clone(),
        removed_asides: plan.older_asides.clone(),
    })
}

/// Run `script` on `node`; on failure the error carries the command's stderr AND stdout
/// (tools such as mariadb-install-db print their errors on stdout).
pub(crate) fn run_step(node: &NodeHandle, script: &str) -> Result<String> {
    let out = node.transport.run(&RemoteCommand::new(script))?;
    if out.success() {
        return Ok(out.stdout);
    }
    let mut text = String::new();
    for part in [out.stderr.trim(), out.stdout.trim()] {
        if !part.is_empty() {
            if !text.is_empty() {
                text.push_str(" | ");
            }
            text.push_str(part);
        }
    }
    if text.is_empty() {
        text = "(no output)".into();
    }
    bail!("exit {}: {text}", out.status)
}

/// Name the step of a failure: `node-b at step `initialise`: ...`.
fn at_step<T>(node: &NodeHandle, step: &str, r: Result<T>) -> Result<T> {
    r.with_context(|| format!("reinit of {} failed at step `{step}`", node.name))
}

/// Everything after the pre-flight: take the node out of service, replace its data
/// directory with a fresh one holding the peer's copy, and point its replication at the
/// copy's position.
fn replace_data(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    plan: &preflight::Plan,
    say: &dyn Fn(&str),
) -> Result<()> {
    let target = plan.previous.node;
    let node = &cluster.nodes[target];
    let peer = cluster.peer(target);
    let flavor = inv.mysql.flavor;
    let datadir = plan.previous.datadir.as_str();
    let aside = plan.previous.aside.as_str();
    let (node_os, node_services) = facts::os_target(node, flavor)?;
    let server = node_os.server_service();

    // 1. Out of service: keepalived off first, so the node never restarts while it
    //    holds the VIP (it moves to the peer, whose keepalived the pre-flight saw
    //    running), and the peer stops replicating from a node about to lose its binary
    //    logs (stopped, not reset: a restore starts it again where it was).
    if plan.previous.keepalived_active {
        say(&format!(
            "stopping keepalived on {} (the VIP stays on or moves to {})",
            node.name, peer.name
        ));
        at_step(node, "stop-keepalived", {
            run_step(node, &node_services.stop_command(KEEPALIVED_SERVICE)).and_then(|_| {
                crate::poll::until(Duration::from_secs(20), || {
                    let gone = !facts::interface_addresses(node, &inv.vip.interface)?
                        .contains(&inv.vip.address);
                    let served = !plan.node_held_vip
                        || facts::interface_addresses(peer, &inv.vip.interface)?
                            .contains(&inv.vip.address);
                    Ok(gone && served)
                })
                .map_err(|_| {
                    anyhow!(
                        "the VIP did not move from {} to {} within 20 s of stopping keepalived",
                        node.name,
                        peer.name
                    )
                })
            })
        })?;
    }
    if plan.previous.peer_replicating {
        at_step(node, "stop-peer-replication", {
            facts::dialect(peer).and_then(|d| peer.with_sql(|s| s.exec(&d.stop_replica_sql())))
        })?;
    }

    crate::interrupt::check()?;
    // 2. A fresh data directory; the old one is renamed (restored on failure).
    say(&format!(
        "stopping {server} on {}; moving {datadir} aside to {aside}",
        node.name
    ));
    node.reset_sql();
    let stopped = run_step(node, &node_services.stop_command(server));
    if plan.previous.server_active {
        at_step(node, "stop-server", stopped)?;
    }
    let prepare = if plan.reuse_aside {
        commands::fresh_dir_command(datadir)
    } else {
        commands::move_aside_command(datadir, aside)
    };
    at_step(node, "move-aside", run_step(node, &prepare))?;
    let log = crate::bootstrap::paths::initialise_log(inv, &node_os);
    at_step(
        node,
        "initialise",
        run_step(
            node,
            &crate::os::datadir::initialise_command(flavor, datadir, &log),
        ),
    )?;
    if let (true, Some(root_password)) = (
        flavor.fresh_root_password_is_temporary(),
        &secrets.root_password,
    ) {
        // The RPM way: `--initialize` left a random expired root password in the log;
        // replace it with the inventory's before the server starts for real.
        say(&format!(
            "setting root's password on {}'s fresh data directory",
            node.name
        ));
        at_step(
            node,
            "root-password",
            crate::bootstrap::paths::secure_fresh_mysql_datadir(node, datadir, &log, root_password),
        )?;
    }
    say(&format!(
        "starting {server} on {} with an empty data directory",
        node.name
    ));
    at_step(
        node,
        "start-server",
        start_server(node, &node_os, node_services),
    )?;
    at_step(
        node,
        "remove-insecure-defaults",
        remove_insecure_defaults(node),
    )?;

    crate::interrupt::check()?;
    // 3. Copy the replicated databases from the peer: one consistent snapshot, and the
    //    peer's binary log position at that snapshot, so nothing is applied twice or lost.
    let (file, position) = at_step(node, "copy", copy(cluster, inv, secrets, plan, say))?;
    let by_gtid = crate::positioning::by_gtid(inv, &facts::dialect(peer)?);

    crate::interrupt::check()?;
    // 4. The node replicates from the peer from exactly the snapshot's position. The
    //    replication account on the peer (for this node's address) is unchanged; the
    //    node's own account for the peer is created by the bootstrap steps that follow.
    say(&format!(
        "{} replicates from {} starting at {file}:{position}{}",
        node.name,
        peer.name,
        if by_gtid {
            " (its GTID position there)"
        } else {
            ""
        }
    ));
    at_step(
        node,
        "replicate",
        rejoin::replicate_from_snapshot(
            node,
            peer,
            inv,
            secrets,
            target,
            BinlogCoordinates { file, position },
        ),
    )?;
    // Replication must really run before the point of no return: both threads running
    // and the copy's position executed up to the peer's current one, within a bound;
    // otherwise this is a failure like any other, and the node is restored.
    crate::interrupt::check()?;
    at_step(node, "confirm-replication", {
        use crate::replication_confirm::{confirm_replication, SourceEndpoint, CONFIRM_TIMEOUT};
        confirm_replication(
            cluster,
            target,
            &SourceEndpoint::of_node(inv, target),
            "reinit",
            CONFIRM_TIMEOUT,
        )
    })?;

    // 5. The point of no return: the peer forgets the node's old binary log coordinates
    //    (its replication from the node is set up again by the bootstrap steps).
    at_step(node, "reset-peer-replication", {
        facts::dialect(peer).and_then(|d| {
            peer.with_sql(|s| {
                s.exec(&d.stop_replica_sql())?;
                s.exec(&d.reset_replica_all_sql())
            })
        })
    })
}

/// Start the server on the fresh data directory and wait until it answers SQL.
fn start_server(
    node: &NodeHandle,
    os: &crate::os::OsTarget,
    services: crate::os::ServiceManager,
) -> Result<()> {
    let server = os.server_service();
    if let Some(prepare) = services.runtime_dir_command(server) {
        run_step(node, &prepare)?;
    }
    run_step(node, &services.start_command(server))?;
    crate::facts::forget_server(node);
    crate::poll::until(Duration::from_secs(60), || {
        node.reset_sql();
        Ok(node
            .with_sql(|s| s.query(crate::dialect::ping_sql()))
            .is_ok())
    })
    .map_err(|_| anyhow!("{server} did not answer SQL on the fresh data directory within 60 s"))
}

/// What mysql_secure_installation removes (anonymous accounts, the `test` database and
/// its grants to everyone), with the binary log off: this fixes this node only, nothing
/// of it may replicate to the peer (see [`crate::dialect::Dialect::remove_insecure_defaults_sql`]).
/// `--skip-test-db` normally leaves nothing to remove; this also covers init tools
/// without it.
fn remove_insecure_defaults(node: &NodeHandle) -> Result<()> {
    let d = facts::dialect(node)?;
    node.with_admin_write(|s| {
        let anonymous: Vec<(String, String)> = s
            .query(&d.anonymous_accounts_sql())?
            .iter()
            .map(|r| {
                (
                    crate::sql::get(r, "User").unwrap_or_default().to_string(),
                    crate::sql::get(r, "Host").unwrap_or_default().to_string(),
                )
            })
            .collect();
        s.exec(&d.session_no_binlog_sql())?;
        for stmt in d.remove_insecure_defaults_sql(&anonymous) {
            s.exec(&stmt)?;
        }
        Ok(())
    })
}

/// Copy the databases from the peer into the node; the peer's binary log position at
/// the snapshot.
fn copy(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    plan: &preflight::Plan,
    say: &dyn Fn(&str),
) -> Result<(String, u64)> {
    let node = &cluster.nodes[plan.previous.node];
    let peer = cluster.peer(plan.previous.node);
    let databases = &plan.databases;
    // The fresh server starts fenced (my.cnf, `writes: vip-holder`): the copy is
    // mhactl's own write. Restored when this returns, on every path.
    let lifted = node.lift_fence_for_admin()?;
    let copied = copy_unfenced(node, peer, inv, secrets, databases, say);
    let restored = lifted.finish();
    let coordinates = copied?;
    restored?;
    Ok(coordinates)
}

fn copy_unfenced(
    node: &NodeHandle,
    peer: &NodeHandle,
    inv: &Inventory,
    secrets: &Secrets,
    databases: &[String],
    say: &dyn Fn(&str),
) -> Result<(String, u64)> {
    let flavor = inv.mysql.flavor;
    if databases.is_empty() {
        say(&format!("{} has no databases to copy", peer.name));
        let c = facts::binlog_coordinates(peer)?;
        // With GTIDs (MySQL), the fresh node has executed what the peer had, as a dump
        // would have recorded (`--set-gtid-purged`).
        if flavor.gtid_model() == crate::dialect::GtidModel::ServerUuidSets
            && facts::variable(peer, "gtid_mode")?.as_deref() == Some("ON")
        {
            let executed = facts::variable(peer, "gtid_executed")?.unwrap_or_default();
            if !executed.trim().is_empty() {
                node.with_sql(|s| s.exec(&crate::dialect::set_gtid_purged_sql(executed.trim())))?;
            }
        }
        return Ok((c.file, c.position));
    }
    say(&format!(
        "copying {} from {} to {}",
        databases.join(", "),
        peer.name,
        node.name
    ));
    let dbs: Vec<String> = databases.iter().map(|d| shell_quote(d)).collect();
    let peer_dialect = facts::dialect(peer)?;
    let source_data = peer_dialect.dump_binlog_position_option();
    let login = client_login(secrets, flavor)?;
    // The dump streams from the peer through this host into the node's client, one
    // chunk at a time: memory stays bounded whatever the size of the data. It is
    // loaded with the binary log off: the copy must not replicate back to the peer.
    let mut input = login.clone().into_bytes();
    input.extend_from_slice(format!("{};\n", peer_dialect.session_no_binlog_sql()).as_bytes());
    let mut load = node.transport.open_sink(&RemoteCommand::with_stdin(
        crate::os::client_login::with_client_login(crate::os::client_login::CLIENT, ""),
        input,
    ))?;
    let mut head = Vec::new();
    let dumped = peer.transport.stream_into(
            &RemoteCommand::with_stdin(
                crate::os::client_login::with_client_login(
                    crate::os::client_login::DUMP,
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
        );
    // The loader is always waited for: when it fails, the dump only sees a broken pipe,
    // and the loader's own error (the client's stderr) is the cause to report.
    match (dumped, load.finish()) {
        (_, Err(loading)) => {
            return Err(loading.context(format!("{}: loading the copy", node.name)))
        }
        (Err(dumping), Ok(())) => {
            return Err(dumping.context(format!("{}: dumping for {}", peer.name, node.name)))
        }
        (Ok(()), Ok(())) => {}
    }
    crate::dialect::dump_coordinates(&String::from_utf8_lossy(&head)).ok_or_else(|| {
        anyhow!(
            "{}: the dump does not record the binary log position in its first {} KiB",
            peer.name,
            DUMP_HEAD_BYTES / 1024
        )
    })
}

/// The login (three option-file lines) client programs on the nodes use as root: the
/// inventory's root password on MySQL, socket authentication on MariaDB.
pub(crate) fn client_login(secrets: &Secrets, flavor: inventory::Flavor) -> Result<String> {
    let password = if flavor.root_logs_in_with_password() {
        secrets
            .root_password
            .as_ref()
            .map(|p| secrecy::ExposeSecret::expose_secret(p).to_string())
    } else {
        None
    };
    crate::os::client_login::client_option_file("root", password.as_deref())
}

/// How much of the dump's beginning is kept to read the binary log position from: the
/// `CHANGE MASTER TO` comment comes right after the header, well within this.
const DUMP_HEAD_BYTES: usize = 64 * 1024;
