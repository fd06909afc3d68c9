//! `mhactl bootstrap`: connect to both nodes, then run the steps of [`steps`] through
//! the engine (both nodes in parallel, step by step), and report.

pub mod steps;

use crate::cli::{BootstrapArgs, GlobalArgs, OutputFormat};
use crate::engine::{self, Cluster, NodeHandle, StepReport, StepStatus};
use crate::inventory::{self, Flavor, Inventory, Secrets};
use crate::report::{self, Progress};
use crate::transport::ssh::{SshTarget, SshTransport};
use crate::transport::{ForwardTarget, RemoteCommand, Transport};
use anyhow::{Context, Result};
use std::io::IsTerminal;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

/// Run `mhactl bootstrap`.
pub fn run(args: &BootstrapArgs, global: &GlobalArgs) -> Result<ExitCode> {
    let path = args
        .inventory_file
        .clone()
        .unwrap_or_else(|| global.inventory.clone());
    let inv = inventory::load(&path)?;
    for warning in inv.warnings() {
        tracing::warn!("{warning}");
        eprintln!("warning: {warning}");
    }
    let secrets = Secrets::resolve(&inv, std::io::stdin().is_terminal())?;
    let started = Instant::now();
    let progress = Progress::new(
        global,
        &inv.nodes.iter().map(|n| n.name.clone()).collect::<Vec<_>>(),
    );
    let (cluster, mut reports) = connect(&inv, &secrets, global.accept_new_host_keys, &progress);
    let ok_connect = reports.iter().all(|r| r.status != StepStatus::Failed);
    if ok_connect {
        let cluster = cluster.expect("connected");
        let ctx = Arc::new(steps::Ctx { inv, secrets });
        let ops = steps::all(ctx);
        reports.extend(engine::run(&cluster, &ops, args.dry_run, &progress));
    }
    progress.finish();
    let ok = reports.iter().all(|r| r.status != StepStatus::Failed);
    let changed = reports
        .iter()
        .filter(|r| r.status == StepStatus::Changed)
        .count();
    match global.output {
        OutputFormat::Json => report::print_json(ok, changed, &reports),
        OutputFormat::Text => {
            report::print_summary("bootstrap", args.dry_run, &reports, started.elapsed())
        }
    }
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Step 1: one multiplexed SSH connection per node, both at once.
pub fn connect(
    inv: &Inventory,
    secrets: &Secrets,
    accept_new_host_keys: bool,
    progress: &Progress,
) -> (Option<Cluster>, Vec<StepReport>) {
    let results: Vec<(StepReport, Option<Arc<SshTransport>>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..inv.nodes.len())
            .map(|i| {
                scope.spawn(move || {
                    let name = inv.nodes[i].name.clone();
                    engine::Observer::started(progress, &name, "connect");
                    let t0 = Instant::now();
                    let mut ssh = inv.ssh_for(i);
                    if accept_new_host_keys {
                        ssh.host_key_check = crate::inventory::HostKeyCheck::AcceptNew;
                    }
                    let target = SshTarget {
                        node: name.clone(),
                        host: ssh.host.to_string(),
                        user: ssh.user.clone(),
                        port: ssh.port,
                        identity_file: ssh.identity_file.clone(),
                        known_hosts: ssh.known_hosts.clone(),
                        host_key_check: ssh.host_key_check,
                        connect_timeout: ssh.connect_timeout,
                    };
                    let result = SshTransport::connect(target);
                    let report = StepReport {
                        node: name.clone(),
                        step: "connect".into(),
                        status: if result.is_ok() {
                            StepStatus::Unchanged
                        } else {
                            StepStatus::Failed
                        },
                        detail: match &result {
                            Ok(_) => format!(
                                "{}@{}:{} (strict host keys: {:?})",
                                ssh.user, ssh.host, ssh.port, ssh.host_key_check
                            ),
                            Err(e) => format!("{e:#}"),
                        },
                        diff: None,
                        ms: t0.elapsed().as_millis(),
                    };
                    engine::Observer::finished(progress, &report);
                    (report, result.ok())
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("connect thread panicked"))
            .collect()
    });
    let mut reports = Vec::new();
    let mut transports = Vec::new();
    for (report, transport) in results {
        reports.push(report);
        transports.push(transport);
    }
    if transports.iter().any(Option::is_none) {
        return (None, reports);
    }
    let nodes = transports
        .into_iter()
        .enumerate()
        .map(|(i, t)| {
            let t: Arc<dyn Transport> = t.expect("checked");
            let connector_transport = Arc::clone(&t);
            // MariaDB's root uses socket authentication; MySQL's the inventory's root
            // password when it gives one (else `auth_socket`, as Debian packages it).
            let root_password = match inv.mysql.flavor {
                Flavor::Mysql => secrets.root_password.clone(),
                Flavor::Mariadb => None,
            };
            let connector: engine::SqlConnector = Box::new(move || {
                let socket = find_server_socket(connector_transport.as_ref())?;
                let login = crate::sql::Login {
                    user: "root".into(),
                    password: root_password.clone(),
                };
                Ok(Box::new(crate::sql::MysqlConn::connect(
                    &connector_transport,
                    &ForwardTarget::UnixSocket(socket.into()),
                    &login,
                )?) as Box<dyn engine::SqlConn>)
            });
            NodeHandle::new(i, &inv.nodes[i].name, t, Some(connector))
        })
        .collect();
    let cluster = Cluster {
        nodes,
        secrets: secrets.values().into_iter().map(str::to_string).collect(),
    };
    (Some(cluster), reports)
}

/// The server's unix socket: what its configuration says, else the first packaged
/// default that exists.
pub(crate) fn find_server_socket(t: &dyn Transport) -> Result<String> {
    let script = "s=$(my_print_defaults mysqld 2>/dev/null | sed -n 's/^--socket=//p' | tail -n 1); \
                  for c in \"$s\" /run/mysqld/mysqld.sock /var/lib/mysql/mysql.sock /var/run/mysqld/mysqld.sock /tmp/mysql.sock; do \
                    [ -n \"$c\" ] && [ -S \"$c\" ] && { echo \"$c\"; exit 0; }; done; exit 1";
    let out = t.run(&RemoteCommand::new(script))?;
    let socket = out.stdout.trim().to_string();
    if !out.success() || socket.is_empty() {
        return Err(anyhow::anyhow!(
            "{}: the database server's unix socket was not found (is it running?)",
            t.node()
        ))
        .context("looking for the server socket");
    }
    Ok(socket)
}
