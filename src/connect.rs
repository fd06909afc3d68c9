//! Opening a cluster: one multiplexed SSH connection per node (both at once), and for
//! each node a SQL connector that reaches the server's unix socket through that connection.
//! Shared by every command that talks to the nodes.

use crate::engine::{self, Cluster, NodeHandle, StepReport, StepStatus};
use crate::inventory::{Inventory, Secrets};
use crate::report::Progress;
use crate::transport::ssh::{SshTarget, SshTransport};
use crate::transport::{ForwardTarget, RemoteCommand, Transport};
use anyhow::{Context, Result};
use std::sync::Arc;
use std::time::Instant;

/// How to open the cluster.
#[derive(Debug, Clone, Default)]
pub struct ConnectOptions {
    /// Trust host keys seen for the first time (`--accept-new-host-keys`).
    pub accept_new_host_keys: bool,
    /// Take each node's lock for this command (commands that change the nodes), so
    /// that two runs cannot interleave.
    pub lock_for: Option<&'static str>,
}

/// Who holds a lock, as a second run will be told.
fn lock_owner(command: &str) -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| {
            use std::os::unix::fs::MetadataExt;
            std::fs::metadata("/proc/self")
                .map(|m| format!("uid {}", m.uid()))
                .unwrap_or_else(|_| "?".into())
        });
    let since = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    format!(
        "mhactl {command} by {user}@{} (pid {}) since {since}",
        host.trim(),
        std::process::id()
    )
}

/// Step 1: one multiplexed SSH connection per node, both at once; then, for commands
/// that lock, each node's lock in one fixed order, all or nothing (see [`lock_all`]).
pub fn connect(
    inv: &Inventory,
    secrets: &Secrets,
    options: &ConnectOptions,
    progress: &Progress,
) -> (Option<Cluster>, Vec<StepReport>) {
    let accept_new_host_keys = options.accept_new_host_keys;
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
                    let result = crate::inventory::become_password(inv, i).and_then(|pw| {
                        SshTransport::connect(SshTarget {
                            node: name.clone(),
                            ssh: ssh.clone(),
                            become_password: pw,
                        })
                    });
                    let report = StepReport {
                        node: name.clone(),
                        step: "connect".into(),
                        status: if result.is_ok() {
                            StepStatus::Unchanged
                        } else {
                            StepStatus::Failed
                        },
                        detail: match &result {
                            Ok(t) => format!(
                                "{} (host keys: {})",
                                t.describe(),
                                match ssh.host_key_check {
                                    crate::inventory::HostKeyCheck::Strict => "strict",
                                    crate::inventory::HostKeyCheck::AcceptNew => "accept-new",
                                }
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
    // The nodes (and their first SQL logins, read-only) before the locks: the logins'
    // round trips overlap the locks'. A refused lock drops them (joined, not left behind).
    let nodes: Vec<NodeHandle> = transports
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let t: Arc<dyn Transport> = Arc::clone(t.as_ref().expect("checked")) as _;
            node_handle(inv, secrets, i, t)
        })
        .collect();
    if let Some(command) = options.lock_for {
        let connected: Vec<&SshTransport> = transports.iter().flatten().map(|t| &**t).collect();
        let order = lock_order(inv);
        if let Err((node, err)) = lock_all(&connected, &order, &lock_owner(command)) {
            for (i, report) in reports.iter_mut().enumerate() {
                report.status = StepStatus::Failed;
                report.detail = if i == node {
                    format!("{err:#}")
                } else {
                    format!(
                        "not locked: {} could not be locked, and mhactl locks both nodes or neither",
                        inv.nodes[node].name
                    )
                };
            }
            // Dropping the transports gives back any lock already taken.
            return (None, reports);
        }
    }
    (Some(cluster_of(nodes, secrets)), reports)
}

/// Like [`connect`], for commands that still have something to say with one node down
/// (verify): a node that cannot be reached gets a transport on which every command
/// fails with the reason. `None` only when no node can be reached. The indices of the
/// unreachable nodes come with the reports.
pub fn connect_reachable(
    inv: &Inventory,
    secrets: &Secrets,
    options: &ConnectOptions,
    progress: &Progress,
) -> (Option<Cluster>, Vec<StepReport>, Vec<usize>) {
    let (all, reports) = connect(inv, secrets, options, progress);
    if all.is_some() {
        return (all, reports, Vec::new());
    }
    let failed: Vec<usize> = reports
        .iter()
        .enumerate()
        .filter(|(_, r)| r.status == StepStatus::Failed)
        .map(|(i, _)| i)
        .collect();
    if failed.len() == reports.len() {
        return (None, reports, failed);
    }
    // Connect the reachable ones again (connect dropped them when one failed): cheap,
    // ssh's control master is still there.
    let nodes = (0..inv.nodes.len())
        .map(|i| {
            let name = &inv.nodes[i].name;
            if failed.contains(&i) {
                let down = Arc::new(Unreachable {
                    node: name.clone(),
                    reason: reports[i].detail.clone(),
                });
                let sql_down = Arc::clone(&down);
                let connector: engine::SqlConnector = Box::new(move || Err(sql_down.error()));
                return Ok(NodeHandle::new(i, name, down, Some(connector)));
            }
            let target = SshTarget {
                node: name.clone(),
                become_password: crate::inventory::become_password(inv, i)?,
                ssh: {
                    let mut ssh = inv.ssh_for(i);
                    if options.accept_new_host_keys {
                        ssh.host_key_check = crate::inventory::HostKeyCheck::AcceptNew;
                    }
                    ssh
                },
            };
            let t: Arc<dyn Transport> = SshTransport::connect(target)?;
            Ok(node_handle(inv, secrets, i, t))
        })
        .collect::<Result<Vec<NodeHandle>>>();
    match nodes {
        Ok(nodes) => (Some(cluster_of(nodes, secrets)), reports, failed),
        Err(_) => (None, reports, failed),
    }
}

fn cluster_of(nodes: Vec<NodeHandle>, secrets: &Secrets) -> Cluster {
    Cluster {
        nodes,
        secrets: secrets.values().into_iter().map(str::to_string).collect(),
    }
}

/// The account mhactl's own SQL sessions log in as (through the server's unix socket):
/// the one definition, so that code which must tell mhactl's sessions from the
/// application's (switchover ending the old holder's sessions) names the same account.
pub const ADMIN_USER: &str = "root";

/// A node with its SQL connector: the server's unix socket through the SSH connection.
///
/// The first login starts at once, on a thread of its own ([`early_login`]), so its
/// round trips (the socket probe, the forward's channel, the handshake: about 7 at a
/// distance) overlap the run's first batch of reads instead of following it; the first
/// connector call takes that connection (waiting for it if need be), or logs in again
/// when it failed (no server yet on a bare node). Every later call logs in anew.
fn node_handle(inv: &Inventory, secrets: &Secrets, i: usize, t: Arc<dyn Transport>) -> NodeHandle {
    // MariaDB's root uses socket authentication; MySQL's the inventory's root
    // password when it gives one (else `auth_socket`, as Debian packages it).
    let root_password = match inv.mysql.flavor.family() {
        crate::inventory::ServerFamily::Mysql => secrets.root_password.clone(),
        crate::inventory::ServerFamily::Mariadb => None,
    };
    let place = format!("{} socket", inv.nodes[i].name);
    let login = move |t: &Arc<dyn Transport>| -> Result<Box<dyn engine::SqlConn>> {
        let login = crate::sql::Login {
            user: ADMIN_USER.into(),
            password: root_password.clone(),
            tls_ca: None,
        };
        // The socket the last run found: logged in to at once, no probe; the server's
        // own @@socket is checked with the first batch of queries (another server may
        // listen on an old path), and a mismatch looks the socket up and logs in there.
        let last = crate::facts::remembered::current().and_then(|r| r.place(&place));
        if let Some(socket) = last {
            let target = ForwardTarget::UnixSocket(socket.clone().into());
            if let Ok(conn) = crate::sql::MysqlConn::connect(t, &target, &login) {
                let (t, login, place) = (Arc::clone(t), login.clone(), place.clone());
                let relogin = Box::new(move || login_where_probed(&t, &login, &place));
                let check = crate::sql::SocketCheck {
                    path: socket,
                    relogin,
                };
                return Ok(Box::new(conn.expecting_socket(check)) as Box<dyn engine::SqlConn>);
            }
        }
        Ok(Box::new(login_where_probed(t, &login, &place)?) as Box<dyn engine::SqlConn>)
    };
    let early = EarlyLogin(std::sync::Mutex::new(Some(early_login(
        Arc::clone(&t),
        login.clone(),
    ))));
    let connector_transport = Arc::clone(&t);
    let connector: engine::SqlConnector = Box::new(move || {
        let first = early.0.lock().ok().and_then(|mut e| e.take());
        if let Some(Ok(conn)) = first.map(|h| {
            h.join()
                .unwrap_or_else(|_| Err(anyhow::anyhow!("panicked")))
        }) {
            return Ok(conn);
        }
        login(&connector_transport)
    });
    NodeHandle::new(i, &inv.nodes[i].name, t, Some(connector))
}

/// Look the server's socket up on the node, remember it as `place` for the next run
/// ([`crate::facts::remembered`]) and log in there.
fn login_where_probed(
    t: &Arc<dyn Transport>,
    login: &crate::sql::Login,
    place: &str,
) -> Result<crate::sql::MysqlConn> {
    let socket = find_server_socket(t.as_ref())?;
    if let Some(r) = crate::facts::remembered::current() {
        r.note_place(place, &socket);
    }
    crate::sql::MysqlConn::connect(t, &ForwardTarget::UnixSocket(socket.into()), login)
}

/// The early login's thread, joined when the connector goes (if nothing took it): the
/// thread holds the node's transport, which must end with the run (it removes the run's
/// private directory and writes the counters when dropped).
struct EarlyLogin(std::sync::Mutex<Option<EarlyHandle>>);

type EarlyHandle = std::thread::JoinHandle<Result<Box<dyn engine::SqlConn>>>;

impl Drop for EarlyLogin {
    fn drop(&mut self) {
        if let Some(handle) = self.0.lock().ok().and_then(|mut h| h.take()) {
            let _ = handle.join();
        }
    }
}

/// Log in on a thread of its own, exempt from the run's planning ahead (its socket probe
/// and forward are real even while a plan speculates: [`crate::transport::exempt`]).
fn early_login<F>(t: Arc<dyn Transport>, login: F) -> EarlyHandle
where
    F: Fn(&Arc<dyn Transport>) -> Result<Box<dyn engine::SqlConn>> + Send + 'static,
{
    std::thread::spawn(move || {
        crate::transport::exempt();
        login(&t)
    })
}

/// A node that could not be reached: every command fails, saying why.
struct Unreachable {
    node: String,
    reason: String,
}

impl Unreachable {
    fn error(&self) -> anyhow::Error {
        anyhow::anyhow!("{} is unreachable: {}", self.node, self.reason)
    }
}

impl Transport for Unreachable {
    fn node(&self) -> &str {
        &self.node
    }
    fn run(&self, _cmd: &RemoteCommand) -> Result<crate::transport::CommandOutput> {
        Err(self.error())
    }
    fn forward(&self, _target: &ForwardTarget) -> Result<std::path::PathBuf> {
        Err(self.error())
    }
}

/// The order every run takes the node locks in: by SSH address and port, whatever the
/// inventory's order, so two runs (even of inventories listing the nodes differently)
/// contend for the same node first and never hold one node each.
fn lock_order(inv: &Inventory) -> Vec<usize> {
    let mut order: Vec<usize> = (0..inv.nodes.len()).collect();
    order.sort_by_key(|&i| {
        let ssh = inv.ssh_for(i);
        (ssh.host, ssh.port, i)
    });
    order
}

/// Lock every node, or none: all at once first (one lock's round trips, not one per
/// node); when one is refused, give back those taken and lock them one by one in
/// `order`, so that of two runs that each took one node at once, one wins (both give
/// back, then the first to take the first node in the order gets both). Returns the
/// refusing node's index and error (which names the run holding it).
fn lock_all(
    nodes: &[&SshTransport],
    order: &[usize],
    owner: &str,
) -> Result<(), (usize, anyhow::Error)> {
    let at_once: Vec<Result<()>> = std::thread::scope(|s| {
        let handles: Vec<_> = nodes.iter().map(|n| s.spawn(|| n.lock(owner))).collect();
        handles
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(anyhow::anyhow!("lock thread panicked")))
            })
            .collect()
    });
    if at_once.iter().all(Result::is_ok) {
        return Ok(());
    }
    for (i, taken) in at_once.iter().enumerate() {
        if taken.is_ok() {
            nodes[i].unlock();
        }
    }
    lock_in_order(nodes, order, owner)
}

/// Lock `nodes` in `order`; on the first failure give back the locks already taken and
/// return that node's index and error.
fn lock_in_order(
    nodes: &[&SshTransport],
    order: &[usize],
    owner: &str,
) -> Result<(), (usize, anyhow::Error)> {
    let mut taken: Vec<usize> = Vec::new();
    for &i in order {
        if let Err(e) = nodes[i].lock(owner) {
            for &j in taken.iter().rev() {
                nodes[j].unlock();
            }
            return Err((i, e));
        }
        taken.push(i);
    }
    Ok(())
}

/// The server's unix socket: what its configuration says, else the first packaged
/// default that exists.
pub(crate) fn find_server_socket(t: &dyn Transport) -> Result<String> {
    let out = t.run(&RemoteCommand::new(
        crate::os::server_files::find_socket_command(),
    ))?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::fake::FakeTransport;
    use std::sync::atomic::Ordering;

    /// The early login's reads are real even while the run plans ahead on that node
    /// (its flag refuses every other thread's), and its result is what it logged in with.
    #[test]
    fn the_early_login_runs_while_a_plan_speculates() {
        let fake = Arc::new(FakeTransport::new("node-a"));
        fake.on("mysqld", 0, "/run/mysqld/mysqld.sock\n");
        fake.speculation()
            .expect("the fake has a flag")
            .store(true, Ordering::SeqCst);
        let t: Arc<dyn Transport> = fake.clone();
        assert!(
            t.run(&RemoteCommand::new("mysqld --print-defaults"))
                .is_err(),
            "another thread is refused while speculating"
        );
        let early = early_login(Arc::clone(&t), |t: &Arc<dyn Transport>| {
            let socket = find_server_socket(t.as_ref())?;
            anyhow::bail!("logged in to {socket}")
        });
        let err = match early.join().unwrap() {
            Ok(_) => panic!("the stand-in login fails on purpose"),
            Err(e) => format!("{e:#}"),
        };
        assert_eq!(err, "logged in to /run/mysqld/mysqld.sock");
        assert!(!fake.commands().is_empty(), "the socket probe ran");
    }
}
