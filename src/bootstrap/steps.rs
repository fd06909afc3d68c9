//! The bootstrap steps, in order. Each is an [`Operation`]: it reads facts, then plans
//! `Noop(why)` or a `Change`. Numbers refer to the manual runbook this replaces.

use crate::engine::{file_diff, Action, Change, Cluster, NodeHandle, Operation, Plan};
use crate::facts;
use crate::inventory::{Flavor, Inventory, Secrets};
use crate::os::{ServiceManager, KEEPALIVED_SERVICE};
use crate::transport::{shell_quote, ForwardTarget, RemoteCommand};
use anyhow::{anyhow, bail, Result};
use secrecy::ExposeSecret;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// What every step needs: the inventory and the resolved secrets.
pub struct Ctx {
    /// The validated inventory.
    pub inv: Inventory,
    /// Resolved secrets.
    pub secrets: Secrets,
}

/// All bootstrap steps, in the order they run.
pub fn all(ctx: Arc<Ctx>) -> Vec<Box<dyn Operation>> {
    vec![
        Box::new(DetectOs(ctx.clone())),
        Box::new(super::firewall::Firewall(ctx.clone())),
        Box::new(super::firewall::Selinux(ctx.clone())),
        Box::new(InstallPackages(ctx.clone())),
        Box::new(super::paths::AppArmor(ctx.clone())),
        Box::new(super::paths::ServerPaths(ctx.clone())),
        Box::new(StartServer(ctx.clone())),
        Box::new(AdminAccess(ctx.clone())),
        Box::new(super::paths::DataDirectory(ctx.clone())),
        Box::new(ServerConfig(ctx.clone())),
        Box::new(ReplicationUser(ctx.clone())),
        Box::new(Replication(ctx.clone())),
        Box::new(super::app_users::AppUsers(ctx.clone())),
        Box::new(Keepalived(ctx.clone())),
        Box::new(VipCheck(ctx)),
    ]
}

/// Step 2: OS family, package manager, service manager.
struct DetectOs(Arc<Ctx>);

impl Operation for DetectOs {
    fn name(&self) -> &'static str {
        "detect-os"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let node = &cluster.nodes[i];
        let (target, _) = facts::os_target(node, self.0.inv.mysql.flavor)?;
        Ok(Plan::Noop(format!(
            "{}; {:?} packages",
            facts::describe_os(node),
            target.package_manager()
        )))
    }
}

/// Step 3 (runbook 1.1): server, client and keepalived packages.
struct InstallPackages(Arc<Ctx>);

impl Operation for InstallPackages {
    fn name(&self) -> &'static str {
        "install-packages"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let node = &cluster.nodes[i];
        let (target, _) = facts::os_target(node, self.0.inv.mysql.flavor)?;
        let pm = target.package_manager();
        let wanted = target.all_packages();
        let out = node
            .transport
            .run(&RemoteCommand::new(pm.installed_query_command(&wanted)))?;
        let missing = pm.parse_installed(&out.stdout, &wanted);
        if missing.is_empty() {
            return Ok(Plan::Noop(format!("installed: {}", wanted.join(", "))));
        }
        let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
        Ok(Plan::Change(Change {
            summary: format!("install {}", missing.join(", ")),
            actions: vec![
                Action::Run(RemoteCommand::new(pm.refresh_command())),
                Action::Run(RemoteCommand::new(pm.install_command(&missing))),
            ],
            diff: None,
        }))
    }
}

/// Step 4a (runbook 1.2.1): the server runs and starts at boot.
struct StartServer(Arc<Ctx>);

impl Operation for StartServer {
    fn name(&self) -> &'static str {
        "start-server"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let node = &cluster.nodes[i];
        let (target, services) = facts::os_target(node, self.0.inv.mysql.flavor)?;
        let service = target.server_service();
        if facts::service_active(node, services, service)? {
            return Ok(Plan::Noop(format!("{service} is running")));
        }
        let mut actions = vec![Action::Run(RemoteCommand::new(
            services.enable_command(service),
        ))];
        actions.extend(
            services
                .runtime_dir_command(service)
                .map(|c| Action::Run(RemoteCommand::new(c))),
        );
        actions.push(start_service(services, service));
        Ok(Plan::Change(Change {
            summary: format!("start {service}"),
            actions,
            diff: None,
        }))
    }
}

/// Step 4b (runbook 1.2.2): administrative SQL access, through the server's unix socket
/// forwarded over SSH.
///
/// - MariaDB: root logs in by `unix_socket` authentication (the forwarded connection
///   comes from sshd, running as root), so no root password exists anywhere.
/// - MySQL: root logs in with the inventory's root password (or by `auth_socket`, as
///   Debian/Ubuntu packages set it up, when the inventory gives none). When that fails
///   because the server's first start (`mysqld --initialize`, as the RPM packages do it)
///   left a random, expired password in the error log, this step logs in with that one in
///   expired-password mode and sets the inventory's password (`ALTER USER USER()`).
struct AdminAccess(Arc<Ctx>);

impl Operation for AdminAccess {
    fn name(&self) -> &'static str {
        "admin-access"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let node = &cluster.nodes[i];
        let err = match facts::dialect(node) {
            Ok(d) => {
                let how = match (d.flavor(), &self.0.secrets.root_password) {
                    (Flavor::Mysql, Some(_)) => "root with the inventory's root password",
                    _ => "root by socket authentication",
                };
                return Ok(Plan::Noop(format!(
                    "{:?} {}.{}.{}: {how}, through the server's unix socket over SSH",
                    d.flavor(),
                    d.version().major,
                    d.version().minor,
                    d.version().patch
                )));
            }
            Err(err) => err,
        };
        let code = crate::sql::server_error_code(&err);
        // 1045: access denied; 1820/1862: the password is expired.
        if self.0.inv.mysql.flavor != Flavor::Mysql || !matches!(code, Some(1045 | 1820 | 1862)) {
            return Err(err);
        }
        let Some(root_password) = self.0.secrets.root_password.clone() else {
            bail!(
                "root cannot log in through the unix socket (error {}): this MySQL server \
                 needs a root password; set one of credentials.root_password_env, \
                 root_password_file or root_password_prompt",
                code.unwrap_or_default()
            );
        };
        let (target, _) = facts::os_target(node, self.0.inv.mysql.flavor)?;
        let inventory_log = self
            .0
            .inv
            .mysql
            .log_error
            .as_ref()
            .map(|p| p.display().to_string());
        let (logs, temporary) =
            facts::temporary_root_password(node, &target, inventory_log.as_deref())?;
        let Some(temporary) = temporary else {
            bail!(
                "root cannot log in with the inventory's root password (error {}), and the \
                 error log ({}) holds no temporary root password: set the inventory's root \
                 password to root's current one",
                code.unwrap_or_default(),
                logs.join(", ")
            );
        };
        let temporary = secrecy::SecretString::from(temporary);
        Ok(Plan::Change(Change {
            summary: format!(
                "set root's password to the inventory's (the first start left a temporary, \
                 expired one in {})",
                logs.join(", ")
            ),
            actions: vec![Action::Custom(
                "log in with the temporary password and ALTER USER USER() IDENTIFIED BY ***".into(),
                Box::new(move |cluster: &Cluster, i| {
                    let node = &cluster.nodes[i];
                    node.reset_sql();
                    let socket = crate::connect::find_server_socket(node.transport.as_ref())?;
                    crate::sql::set_expired_password(
                        &node.transport,
                        &ForwardTarget::UnixSocket(socket.into()),
                        "root",
                        &temporary,
                        &root_password,
                    )
                    .map_err(|e| match crate::sql::server_error_code(&e) {
                        Some(1819) => password_policy_error("the inventory's root password"),
                        Some(1045) => anyhow!(
                            "the temporary root password from the error log no longer \
                             works (error 1045): root's password was changed since; set the \
                             inventory's root password to root's current one"
                        ),
                        _ => e,
                    })
                }),
            )],
            diff: None,
        }))
    }
}

/// Error 1819, said plainly: the server's validate_password rejects a password.
fn password_policy_error(which: &str) -> anyhow::Error {
    anyhow!(
        "the server's password policy (validate_password) rejects {which} \
         (error 1819): use a longer one mixing upper and lower case letters, \
         digits and special characters; mhactl does not weaken the policy"
    )
}

/// Run account statements (created with the binary log off) on the node, turning the
/// password policy's refusal (1819) into a message naming `which` password it was.
pub(super) fn account_sql(statements: Vec<String>, which: &'static str) -> Action {
    Action::Custom(
        format!("sql: {}", statements.join("; ")),
        Box::new(move |cluster: &Cluster, i| {
            cluster.nodes[i]
                .with_sql(|sql| {
                    for statement in &statements {
                        sql.exec(statement)?;
                    }
                    Ok(())
                })
                .map_err(|e| match crate::sql::server_error_code(&e) {
                    Some(1819) => password_policy_error(which),
                    _ => e,
                })
        }),
    )
}

/// Step 5 (runbook 1.3.1.1): mhactl's my.cnf drop-in; restart only when it changed, or
/// when the running server does not have its settings yet (an interrupted earlier run).
struct ServerConfig(Arc<Ctx>);

impl Operation for ServerConfig {
    fn name(&self) -> &'static str {
        "server-config"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let (target, services) = facts::os_target(node, inv.mysql.flavor)?;
        let d = facts::dialect(node)?;
        let wanted = crate::render::render_my_cnf(inv, i, &d, &target)?;
        let path = target.config_path();
        let current = node.transport.read_file(Path::new(path))?;
        let server_id = facts::variable(node, "server_id")?.unwrap_or_default();
        let offset = facts::variable(node, "auto_increment_offset")?.unwrap_or_default();
        let datadir_ok = match &inv.mysql.datadir {
            None => true,
            Some(want) => {
                let live = facts::variable(node, "datadir")?.unwrap_or_default();
                live.trim_end_matches('/') == want.display().to_string().trim_end_matches('/')
            }
        };
        let charset = facts::variable(node, "character_set_server")?.unwrap_or_default();
        let (want_charset, _) = crate::render::character_set_and_collation(inv, &d);
        let live_ok = server_id == inv.server_id(i).to_string()
            && offset == inv.auto_increment_offset(i).to_string()
            && datadir_ok
            && crate::inventory::normalize_charset(&charset)
                == crate::inventory::normalize_charset(&want_charset);
        let file_ok = current.as_deref() == Some(wanted.as_str());
        // debian.cnf names the server's socket (mysql.socket) before the restart.
        let debian_cnf = super::paths::debian_cnf_actions(
            inv,
            node.transport.as_ref(),
            &target,
            services,
            true,
        )?;
        if file_ok && live_ok && debian_cnf.is_none() {
            return Ok(Plan::Noop(format!(
                "{path} up to date; running with server_id {server_id}, auto_increment_offset {offset}, character set {charset}"
            )));
        }
        let service = target.server_service();
        let mut actions = Vec::new();
        let mut prefix = String::new();
        if let Some((what, first)) = debian_cnf {
            actions.extend(first);
            prefix = format!("{what}, ");
        }
        actions.push(if file_ok {
            restart_server(services, service)
        } else {
            write_config_and_restart(path, wanted.clone(), current.clone(), services, service)
        });
        Ok(Plan::Change(Change {
            summary: if file_ok {
                format!(
                    "{prefix}restart {} to apply {path}",
                    target.server_service()
                )
            } else {
                format!(
                    "{prefix}write {path} and restart {}",
                    target.server_service()
                )
            },
            actions,
            diff: (!file_ok).then(|| file_diff(path, current.as_deref(), &wanted)),
        }))
    }
}

/// Start a service and wait until it reports running: init scripts often return before
/// the daemon has written its pid file.
fn start_service(services: ServiceManager, service: &'static str) -> Action {
    Action::Custom(
        format!("start {service} and wait until it runs"),
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            node.transport
                .run_ok(&RemoteCommand::new(services.start_command(service)))?;
            crate::poll::until(Duration::from_secs(30), || {
                facts::service_active(node, services, service)
            })
            .map_err(|_| {
                anyhow!(
                    "{}: {service} did not report running within 30 s of starting",
                    node.name
                )
            })
        }),
    )
}

/// Restart the server, then wait until it accepts SQL again.
fn restart_server(services: ServiceManager, service: &'static str) -> Action {
    Action::Custom(
        format!("restart {service} and wait for it"),
        Box::new(move |cluster: &Cluster, i| {
            restart_and_wait(&cluster.nodes[i], services, service)
        }),
    )
}

fn restart_and_wait(node: &NodeHandle, services: ServiceManager, service: &str) -> Result<()> {
    node.reset_sql();
    if let Some(prepare) = services.runtime_dir_command(service) {
        node.transport.run_ok(&RemoteCommand::new(prepare))?;
    }
    node.transport
        .run_ok(&RemoteCommand::new(services.restart_command(service)))?;
    crate::poll::until(Duration::from_secs(60), || {
        node.reset_sql();
        match node.with_sql(|sql| sql.query("SELECT 1")) {
            Ok(_) => Ok(true),
            // It answered: on a fresh MySQL data directory root's password is the new
            // temporary one until admin access is established again.
            Err(e) if matches!(crate::sql::server_error_code(&e), Some(1045 | 1820 | 1862)) => {
                Ok(true)
            }
            Err(e) => Err(e),
        }
    })
    .map_err(|_| {
        anyhow!(
            "{}: {service} did not accept connections within 60 s after restart",
            node.name
        )
    })
}

/// Write the server's config and restart it; if it does not come back, put the previous
/// file back (or remove ours) and restart again, so a bad option never leaves the node
/// without a database server.
fn write_config_and_restart(
    path: &'static str,
    wanted: String,
    previous: Option<String>,
    services: ServiceManager,
    service: &'static str,
) -> Action {
    Action::Custom(
        format!("write {path} (mode 644) and restart {service}, restoring the previous file if it does not start"),
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            node.transport.write_file(Path::new(path), wanted.as_bytes(), 0o644)?;
            let Err(failure) = restart_and_wait(node, services, service) else {
                return Ok(());
            };
            match &previous {
                Some(old) => node.transport.write_file(Path::new(path), old.as_bytes(), 0o644)?,
                None => {
                    node.transport.run_ok(&RemoteCommand::new(format!("rm -f {}", shell_quote(path))))?;
                }
            }
            match restart_and_wait(node, services, service) {
                Ok(()) => bail!(
                    "{service} did not start with the new {path}, so the previous version was restored and \
                     {service} restarted with it; the pair is not converged. Cause: {failure:#}"
                ),
                Err(again) => bail!(
                    "{service} did not start with the new {path}; the previous version was restored, but {service} \
                     does not start with it either: {again:#} (first failure: {failure:#})"
                ),
            }
        }),
    )
}

/// Step 6 (runbook 1.3.1.2): the replication account, allowed only from the peer's
/// address, with replication privileges only. Managed with the binary log off for the
/// session: each node has its own account (for its own peer), which must not replicate.
struct ReplicationUser(Arc<Ctx>);

impl Operation for ReplicationUser {
    fn name(&self) -> &'static str {
        "replication-user"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let d = facts::dialect(node)?;
        let user = &inv.mysql.replication_user;
        let host = inv.peer(i).address.to_string();
        let password = self.0.secrets.replication_password.expose_secret();
        let account = crate::dialect::quote_account(user, &host);
        let exists_sql = format!(
            "SELECT COUNT(*) AS n FROM mysql.user WHERE User = {} AND Host = {}",
            crate::dialect::quote_string(user),
            crate::dialect::quote_string(&host)
        );
        let exists = node
            .with_sql(|sql| sql.query(&exists_sql))?
            .first()
            .and_then(|r| crate::sql::get(r, "n"))
            == Some("1");
        let mut statements = vec![d.session_no_binlog_sql()];
        let mut what = Vec::new();
        if !exists {
            statements.push(d.create_replication_user_sql(user, &host, password));
            what.push(format!("create {account}"));
        } else if !password_matches(cluster, i, &self.0, &d)? {
            statements.push(d.alter_user_password_sql(user, &host, password));
            what.push(format!("set the password of {account}"));
        }
        let grants_ok = exists && {
            let rows = node.with_sql(|sql| sql.query(&d.show_grants_sql(user, &host)))?;
            let lines: Vec<String> = rows
                .iter()
                .filter_map(|r| r.first().and_then(|(_, v)| v.clone()))
                .collect();
            d.grants_cover_replication(&lines)
        };
        if !grants_ok {
            statements.push(d.grant_replication_sql(user, &host));
            what.push(format!("grant replication privileges to {account}"));
        }
        if what.is_empty() {
            return Ok(Plan::Noop(format!(
                "{account} exists with replication privileges only"
            )));
        }
        statements.push("SET SESSION sql_log_bin = 1".into());
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions: vec![account_sql(
                statements,
                "the inventory's replication password",
            )],
            diff: None,
        }))
    }
}

/// Does the replication account on node `i` accept the inventory's password?
///
/// MariaDB can tell from the stored hash (`PASSWORD()`). MySQL's caching_sha2_password
/// hashes are salted and `PASSWORD()` is gone, so mhactl logs in as the account, from
/// the peer (the only address the account allows) to this node's server over TCP: the
/// way replication itself will log in. Access denied (1045) means the password differs.
fn password_matches(
    cluster: &Cluster,
    i: usize,
    ctx: &Ctx,
    d: &crate::dialect::Dialect,
) -> Result<bool> {
    let inv = &ctx.inv;
    let node = &cluster.nodes[i];
    let user = &inv.mysql.replication_user;
    let host = inv.peer(i).address.to_string();
    let password = &ctx.secrets.replication_password;
    if d.flavor() == Flavor::Mysql {
        let login = crate::sql::Login {
            user: user.clone(),
            password: Some(password.clone()),
        };
        let target = ForwardTarget::Tcp(inv.nodes[i].address.to_string(), inv.mysql.port);
        return match crate::sql::MysqlConn::connect(&cluster.peer(i).transport, &target, &login) {
            Ok(_) => Ok(true),
            Err(e) if crate::sql::server_error_code(&e) == Some(1045) => Ok(false),
            Err(e) => Err(e.context(format!(
                "checking the password of {} by logging in from {}",
                crate::dialect::quote_account(user, &host),
                cluster.peer(i).name
            ))),
        };
    }
    let sql = format!(
        "SELECT COUNT(*) AS n FROM mysql.user WHERE User = {} AND Host = {} AND authentication_string = PASSWORD({})",
        crate::dialect::quote_string(user),
        crate::dialect::quote_string(&host),
        crate::dialect::quote_string(password.expose_secret())
    );
    Ok(node
        .with_sql(|s| s.query(&sql))?
        .first()
        .and_then(|r| crate::sql::get(r, "n"))
        == Some("1"))
}

/// Step 7 (runbook 1.3.1.3-1.3.2.4): each node replicates from its peer, starting at the
/// peer's current binary log position; both threads must run.
struct Replication(Arc<Ctx>);

impl Operation for Replication {
    fn name(&self) -> &'static str {
        "replication"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let peer = cluster.peer(i);
        let d = facts::dialect(node)?;
        let peer_addr = inv.peer(i).address.to_string();
        let status = facts::replica_status(node)?;
        let points_at_peer = status.as_ref().is_some_and(|s| {
            s.source_host == peer_addr
                && s.source_port == inv.mysql.port
                && s.source_user == inv.mysql.replication_user
        });
        if let (true, Some(s)) = (points_at_peer, &status) {
            let mut s = s.clone();
            // The IO thread reconnects by itself after the peer restarted (connect_retry):
            // a transient state, not something to change. Give it a few retries' time.
            if s.sql_running && !s.io_running && s.last_sql_errno == 0 {
                let _ =
                    crate::poll::until(Duration::from_secs(3 * CONNECT_RETRY_S as u64 + 2), || {
                        if let Some(now) = facts::replica_status(node)? {
                            s = now;
                        }
                        Ok(s.io_running)
                    });
            }
            if s.io_running && s.sql_running {
                return Ok(Plan::Noop(format!(
                    "replicating from {} ({peer_addr}); IO and SQL threads running, {} s behind",
                    peer.name,
                    s.seconds_behind
                        .map(|x| x.to_string())
                        .unwrap_or_else(|| "?".into())
                )));
            }
            return Ok(Plan::Change(Change {
                summary: format!("start replication from {}", peer.name),
                actions: vec![
                    Action::Sql(vec![d.start_replica_sql()]),
                    wait_for_replication(),
                ],
                diff: None,
            }));
        }
        let coords = facts::binlog_coordinates(peer)?;
        let change = crate::dialect::ChangeSource {
            host: peer_addr.clone(),
            port: inv.mysql.port,
            user: inv.mysql.replication_user.clone(),
            password: self
                .0
                .secrets
                .replication_password
                .expose_secret()
                .to_string(),
            log_file: coords.file.clone(),
            log_pos: coords.position,
            connect_retry: CONNECT_RETRY_S,
        };
        Ok(Plan::Change(Change {
            summary: format!(
                "replicate from {} ({peer_addr}) starting at {}:{}",
                peer.name, coords.file, coords.position
            ),
            actions: vec![
                Action::Sql(vec![
                    d.stop_replica_sql(),
                    d.change_source_sql(&change),
                    d.start_replica_sql(),
                ]),
                wait_for_replication(),
            ],
            diff: None,
        }))
    }
}

/// Seconds between a replica's attempts to reconnect to its source: short, so a node
/// rejoins quickly after its peer restarts or fails over.
const CONNECT_RETRY_S: u32 = 2;

/// Wait until both replication threads run; fail with the server's own error if not.
fn wait_for_replication() -> Action {
    Action::Custom(
        "wait until the IO and SQL threads run".into(),
        Box::new(|cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            let mut last = None;
            let waited = crate::poll::until(Duration::from_secs(30), || {
                last = facts::replica_status(node)?;
                Ok(last.as_ref().is_some_and(|s| s.io_running && s.sql_running))
            });
            waited.map_err(|_| match last {
                Some(s) => anyhow!(
                    "replication on {} did not start: IO thread {}, SQL thread {}; last IO error {}: {}; last SQL error {}: {}",
                    node.name,
                    if s.io_running { "running" } else { "stopped" },
                    if s.sql_running { "running" } else { "stopped" },
                    s.last_io_errno,
                    s.last_io_error,
                    s.last_sql_errno,
                    s.last_sql_error
                ),
                None => anyhow!("replication on {} is not configured", node.name),
            })
        }),
    )
}

/// Step 8 (runbook's keepalived part): keepalived.conf (validated with `keepalived -t`
/// before it replaces the old one) and the health-check script; keepalived running.
struct Keepalived(Arc<Ctx>);

impl Operation for Keepalived {
    fn name(&self) -> &'static str {
        "keepalived"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let (target, services) = facts::os_target(node, inv.mysql.flavor)?;
        let conf_path = target.keepalived_conf_path();
        let script_path = target.check_script_path();
        let conf = crate::render::render_keepalived_conf(
            inv,
            i,
            self.0.secrets.vrrp_password.expose_secret(),
        )?;
        let script = crate::render::render_check_script(inv, &target)?;
        let current_conf = node.transport.read_file(Path::new(conf_path))?;
        let current_script = node.transport.read_file(Path::new(script_path))?;
        let running = facts::service_active(node, services, KEEPALIVED_SERVICE)?;
        let conf_ok = current_conf.as_deref() == Some(conf.as_str());
        let script_ok = current_script.as_deref() == Some(script.as_str());
        if conf_ok && script_ok && running {
            return Ok(Plan::Noop(format!(
                "{conf_path} up to date; keepalived running"
            )));
        }
        let mut actions = Vec::new();
        let mut diff = String::new();
        let mut what = Vec::new();
        if !script_ok {
            diff.push_str(&file_diff(script_path, current_script.as_deref(), &script));
            actions.push(Action::WriteFile {
                path: script_path.into(),
                content: script,
                mode: 0o755,
            });
            what.push(format!("write {script_path}"));
        }
        if !conf_ok {
            diff.push_str(&file_diff(conf_path, current_conf.as_deref(), &conf));
            // Validate the candidate with keepalived itself before it replaces the live file.
            let candidate = format!("{conf_path}.mhactl-new");
            actions.push(Action::WriteFile {
                path: candidate.clone().into(),
                content: conf,
                mode: 0o600,
            });
            actions.push(Action::Run(RemoteCommand::new(format!(
                "out=$(keepalived -t -f {c} 2>&1) || {{ echo \"$out\" >&2; rm -f {c}; exit 1; }}; mv -f {c} {f}",
                c = shell_quote(&candidate),
                f = shell_quote(conf_path)
            ))));
            what.push(format!("write {conf_path}"));
        }
        actions.push(Action::Run(RemoteCommand::new(
            services.enable_command(KEEPALIVED_SERVICE),
        )));
        // A running keepalived re-reads its files on reload (SIGHUP) and keeps its VRRP
        // state; a restart would drop the VIP and, with SysV scripts that do not wait for
        // the old daemon to exit, could even leave the old configuration running.
        if running {
            actions.push(Action::Run(RemoteCommand::new(
                services.reload_command(KEEPALIVED_SERVICE),
            )));
            what.push("reload keepalived".into());
        } else {
            actions.push(start_service(services, KEEPALIVED_SERVICE));
            what.push("start keepalived".into());
        }
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions,
            diff: (!diff.is_empty()).then_some(diff),
        }))
    }
}

/// Step 9 (runbook's "check the VIP"): exactly one node holds the VIP, and MySQL
/// answers through it with the holder's server_id.
struct VipCheck(Arc<Ctx>);

impl Operation for VipCheck {
    fn name(&self) -> &'static str {
        "vip"
    }
    fn cluster_wide(&self) -> bool {
        true
    }
    fn plan(&self, cluster: &Cluster, _i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let vip = inv.vip.address;
        let mut holders = Vec::new();
        // keepalived needs a few advertisement intervals to elect a holder.
        let waited = crate::poll::until(Duration::from_secs(20), || {
            holders.clear();
            for node in &cluster.nodes {
                if facts::interface_addresses(node, &inv.vip.interface)?.contains(&vip) {
                    holders.push(node.index);
                }
            }
            Ok(holders.len() == 1)
        });
        if waited.is_err() {
            if holders.len() > 1 {
                bail!(
                    "split brain: both {} and {} hold the VIP {vip}",
                    cluster.nodes[0].name,
                    cluster.nodes[1].name
                );
            }
            bail!("no node holds the VIP {vip} after 20 s: is keepalived running, and VRRP allowed between the nodes?");
        }
        let holder = holders[0];
        let id = facts::server_id_through_vip(
            cluster,
            inv,
            &self.0.secrets.replication_password,
            holder,
        )?;
        let want = inv.server_id(holder).to_string();
        if id != want {
            bail!(
                "MySQL through the VIP {vip} reports server_id {id}, but the holder {} has {want}",
                cluster.nodes[holder].name
            );
        }
        Ok(Plan::Noop(format!(
            "VIP {vip} on {}; MySQL answers through it (server_id {id})",
            cluster.nodes[holder].name
        )))
    }
}
