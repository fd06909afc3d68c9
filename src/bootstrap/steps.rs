//! The bootstrap steps, in order. Each is an [`Operation`]: it reads facts, then plans
//! `Noop(why)` or a `Change`. Numbers refer to the manual runbook this replaces.

use crate::engine::{file_diff, Action, Change, Cluster, NodeHandle, Operation, Plan};
use crate::facts;
use crate::inventory::{Inventory, Secrets};
use crate::os::{ServiceManager, KEEPALIVED_SERVICE};
use crate::transport::{ForwardTarget, RemoteCommand};
use anyhow::{anyhow, bail, Result};
use secrecy::ExposeSecret;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub use crate::os::option_files::VALIDATE_CONFIG_COMMAND;
pub use crate::os::selinux::{
    check_script_label_command, check_script_label_probe, parse_check_script_label,
    CheckScriptLabel, CHECK_SCRIPT_SELINUX_TYPE,
};

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
        Box::new(super::replication::Replication(ctx.clone())),
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
        // Before anything runs: the inventory's paths are new or already the server's.
        super::path_safety::check_node(&self.0.inv, node)?;
        Ok(Plan::Noop(format!(
            "{}; {:?} packages",
            facts::describe_os(node),
            target.package_manager()
        )))
    }
}

/// Step 3 (runbook 1.1): server, client and keepalived packages.
///
/// - Nothing to do when every package is installed (the repositories of a host that
///   already has them are left alone).
/// - `packages.repository` (a mirror): write `mhactl.repo`/`mhactl.list` and install
///   from it only.
/// - MySQL on EL: the MySQL Yum repository's setup RPM, exactly the inventory's release
///   series enabled (`mysql.version`; 8.4 LTS by default), and on EL8+ the AppStream
///   `mysql`/`mariadb` modules disabled, as the MySQL Yum repository guide says.
/// - MariaDB on EL8+ with `mysql.version`: the AppStream module stream of that version
///   enabled first, where a module has it (`dnf module enable mariadb:10.11`).
/// - Otherwise the node's own repositories (Debian/Ubuntu, MariaDB on EL).
struct InstallPackages(Arc<Ctx>);

impl Operation for InstallPackages {
    fn name(&self) -> &'static str {
        "install-packages"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let (target, _) = facts::os_target(node, inv.mysql.flavor)?;
        let pm = target.package_manager();
        let wanted = target.all_packages();
        let out = node
            .transport
            .run(&RemoteCommand::new(pm.installed_query_command(&wanted)))?;
        let missing = pm.parse_installed(&out.stdout, &wanted);
        let mut actions = Vec::new();
        let mut what = Vec::new();
        let mut diff = None;
        let mirror = inv.packages.repository.as_deref();
        if let Some(url) = mirror {
            let path = crate::os::mirror_repo_path(pm);
            let file = crate::os::mirror_repo_file(pm, url, inv.packages.gpg_key.as_deref());
            let current = node.transport.read_file(Path::new(path))?;
            if current.as_deref() != Some(file.as_str()) {
                diff = Some(file_diff(path, current.as_deref(), &file));
                actions.push(Action::WriteFile {
                    path: path.into(),
                    content: file,
                    mode: 0o644,
                });
                what.push(format!("write {path} ({url})"));
            }
        }
        if missing.is_empty() {
            if actions.is_empty() {
                return Ok(Plan::Noop(format!("installed: {}", wanted.join(", "))));
            }
            return Ok(Plan::Change(Change {
                summary: what.join(", "),
                actions,
                diff,
            }));
        }
        if mirror.is_none()
            && target.family == crate::os::OsFamily::El7
            && inv.mysql.flavor.el7_base_repository_too_old()
        {
            // CentOS/RHEL 7's own repositories carry MariaDB 5.5 only, which has no
            // replication statements mhactl could use (and is long out of support).
            bail!(
                "EL7's own repositories have only MariaDB 5.5, which mhactl does not support: \
                 set packages.repository to a MariaDB 10.x repository (e.g. a mirror of \
                 MariaDB's own yum repository for EL7), or use mysql.flavor: mysql"
            );
        }
        if mirror.is_none()
            && target.family.is_el()
            && inv.mysql.flavor.installs_from_vendor_yum_repository()
        {
            let (more, summary) = plan_mysql_yum_repository(&self.0, node, &target)?;
            actions.extend(more);
            what.extend(summary);
        }
        // MariaDB from AppStream on EL8+: the inventory's version is a module stream
        // (EL8: mariadb:10.3 default, 10.5, 10.11; EL9.4+: mariadb:10.11 next to the
        // non-modular 10.5), which dnf installs only once it is enabled.
        if let (None, crate::os::PackageManager::Dnf, true, Some(v)) = (
            mirror,
            pm,
            inv.mysql.flavor.installs_from_dnf_module_streams(),
            inv.mysql.version.as_deref(),
        ) {
            let state = node
                .transport
                .run_ok(&RemoteCommand::new(crate::os::mariadb_stream_query(v)))?;
            let commands = crate::os::mariadb_stream_commands(&state, v);
            if !commands.is_empty() {
                actions.extend(
                    commands
                        .into_iter()
                        .map(|c| Action::Run(RemoteCommand::new(c))),
                );
                what.push(format!("enable the AppStream module stream mariadb:{v}"));
            }
        }
        let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
        let (refresh, install) = match mirror {
            Some(_) => (
                pm.mirror_refresh_command(),
                pm.mirror_install_command(&missing),
            ),
            None => (pm.refresh_command(), pm.install_command(&missing)),
        };
        actions.push(Action::Run(RemoteCommand::new(refresh)));
        actions.push(Action::Run(RemoteCommand::new(install)));
        what.push(match mirror {
            Some(url) => format!("install {} from {url} only", missing.join(", ")),
            None => format!("install {}", missing.join(", ")),
        });
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions,
            diff,
        }))
    }
}

/// The MySQL Yum repository on an EL node, as its quick guide sets it up: the setup RPM
/// (once), exactly the wanted release series enabled, and on EL8+ the AppStream modules
/// that would mask its packages disabled. Each part is planned from a fact and left out
/// when it is already so.
fn plan_mysql_yum_repository(
    ctx: &Ctx,
    node: &NodeHandle,
    target: &crate::os::OsTarget,
) -> Result<(Vec<Action>, Vec<String>)> {
    use crate::os::{MysqlSeries, PackageManager};
    let pm = target.package_manager();
    let series = MysqlSeries::from_version(ctx.inv.mysql.version.as_deref())
        .map_err(|e| anyhow!("mysql.version: {e:#}"))?;
    let mut actions = Vec::new();
    let mut what = Vec::new();
    let release = node
        .transport
        .run_ok(&RemoteCommand::new(crate::os::MYSQL_RELEASE_RPM_QUERY))?;
    let installed_release = release.lines().map(str::trim).find(|l| !l.is_empty());
    let wanted_id = series.repo_id();
    let (keys, imports) = super::platform::key_imports(&ctx.inv, node, target, series)?;
    actions.extend(keys);
    what.extend(imports);
    match installed_release {
        Some(rpm) => {
            let repos = crate::os::parse_yum_repos(
                &node
                    .transport
                    .run_ok(&RemoteCommand::new(crate::os::YUM_REPOS_QUERY))?,
            );
            if !repos.iter().any(|(id, _)| id == wanted_id) {
                bail!(
 "the installed MySQL repository ({rpm}) has no {wanted_id} repository for mysql.version {}: install a newer mysql*-community-release RPM, or set packages.mysql_release_rpm or packages.repository",
                    ctx.inv.mysql.version.as_deref().unwrap_or("8.4")
                );
            }
            let (disable, enable) = crate::os::mysql_repo_changes(&repos, wanted_id);
            let enable: Vec<&str> = if enable { vec![wanted_id] } else { vec![] };
            let commands = crate::os::repo_toggle_commands(pm, &disable, &enable);
            if !commands.is_empty() {
                what.push(format!("enable only {wanted_id} of the MySQL repository"));
                actions.extend(
                    commands
                        .into_iter()
                        .map(|c| Action::Run(RemoteCommand::new(c))),
                );
            }
        }
        None => {
            let rpm = match &ctx.inv.packages.mysql_release_rpm {
                Some(rpm) => rpm.clone(),
                None => series.release_rpm_url(target.family)?,
            };
            let install = pm.install_command(&[rpm.as_str()]);
            actions.push(Action::Run(RemoteCommand::new(install)));
            what.push(format!("add the MySQL repository ({rpm})"));
            // Which series the new .repo file enables is only known once it is on the
            // node: select it right after installing the RPM.
            actions.push(select_mysql_series(pm, wanted_id));
            what.push(format!("enable only {wanted_id}"));
        }
    }
    if pm == PackageManager::Dnf {
        let modules = node
            .transport
            .run_ok(&RemoteCommand::new(crate::os::module_state_query(
                crate::os::MYSQL_MASKING_MODULES,
            )))?;
        let to_disable = crate::os::modules_to_disable(&modules);
        if !to_disable.is_empty() {
            let names: Vec<&str> = to_disable.iter().map(String::as_str).collect();
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::module_disable_command(&names),
            )));
            what.push(format!(
                "disable the AppStream module(s) {}",
                names.join(", ")
            ));
        }
    }
    Ok((actions, what))
}

/// After the MySQL setup RPM is installed: read the `.repo` files it brought and enable
/// exactly `wanted` of its server series.
fn select_mysql_series(pm: crate::os::PackageManager, wanted: &'static str) -> Action {
    Action::Custom(
        format!("enable only {wanted} of the MySQL server repositories (yum-config-manager / dnf config-manager)"),
        Box::new(move |cluster: &Cluster, i| {
            let t = &cluster.nodes[i].transport;
            let repos = crate::os::parse_yum_repos(
                &t.run_ok(&RemoteCommand::new(crate::os::YUM_REPOS_QUERY))?,
            );
            if !repos.iter().any(|(id, _)| id == wanted) {
                bail!(
 "{}: the MySQL repository RPM brought no {wanted} repository: set packages.mysql_release_rpm to one that has it",
                    cluster.nodes[i].name
                );
            }
            let (disable, enable) = crate::os::mysql_repo_changes(&repos, wanted);
            let enable: Vec<&str> = if enable { vec![wanted] } else { vec![] };
            for c in crate::os::repo_toggle_commands(pm, &disable, &enable) {
                t.run_ok(&RemoteCommand::new(c))?;
            }
            Ok(())
        }),
    )
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
        let log = super::error_log::server_error_log(&self.0.inv, &target);
        actions.push(start_service(services, service, Some(log)));
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
                if let Some(problem) = d
                    .version()
                    .mismatch(self.0.inv.mysql.flavor, self.0.inv.mysql.version.as_deref())
                {
                    bail!("{problem}");
                }
                let how = match (
                    d.flavor().root_logs_in_with_password(),
                    &self.0.secrets.root_password,
                ) {
                    (true, Some(_)) => "root with the inventory's root password",
                    _ => "root by socket authentication",
                };
                return Ok(Plan::Noop(format!(
                    "{}: {how}, through the server's unix socket over SSH",
                    d.version()
                )));
            }
            Err(err) => err,
        };
        let code = crate::sql::server_error_code(&err);
        // 1045: access denied; 1820/1862: the password is expired.
        if !self.0.inv.mysql.flavor.root_logs_in_with_password()
            || !matches!(code, Some(1045 | 1820 | 1862))
        {
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
                    node.set_expired_password(
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
                    })?;
                    forget_first_password_change(node)
                }),
            )],
            diff: None,
        }))
    }
}

/// Error 1819, said plainly: the server's validate_password rejects a password.
/// After the first `ALTER USER` of a freshly initialised server with GTIDs on: drop that
/// one transaction from the binary log and the GTID set.
///
/// An expired session cannot turn binary logging off for itself (anything but
/// `ALTER USER` fails with 1820), so the password change is a GTID of this node's own.
/// Replication later starts at the peer's current position, so the peer never receives
/// it, and the two GTID sets would differ forever (verify's `gtid` check, and any later
/// `SOURCE_AUTO_POSITION`, would trip on it). Accounts are per node anyway. Only when
/// that transaction is the server's entire history is anything reset.
fn forget_first_password_change(node: &NodeHandle) -> Result<()> {
    let d = facts::dialect(node)?;
    let Some(gtid_state) = d.gtid_state_sql() else {
        return Ok(());
    };
    let rows = node.with_sql(|s| s.query(&gtid_state))?;
    let Some(row) = rows.first() else {
        return Ok(());
    };
    let get = |k| {
        crate::sql::get(row, k)
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    if get("mode") == "ON" && get("executed") == format!("{}:1", get("uuid")) {
        node.with_sql(|s| s.exec(&d.reset_binary_logs_sql()))?;
    }
    Ok(())
}

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
        // The MySQL RPMs' /etc/my.cnf reads no drop-in directory: add the include once.
        let include = match target.config_include() {
            Some((main, line)) => {
                let text = node.transport.read_file(Path::new(main))?;
                match text {
                    Some(t) if crate::os::has_include_line(&t, line) => None,
                    Some(t) => Some((main, line, t)),
                    None => Some((main, line, String::new())),
                }
            }
            None => None,
        };
        // debian.cnf names the server's socket (mysql.socket) before the restart.
        let debian_cnf = super::paths::debian_cnf_actions(
            inv,
            node.transport.as_ref(),
            &target,
            services,
            true,
        )?;
        if file_ok && live_ok && include.is_none() && debian_cnf.is_none() {
            return Ok(Plan::Noop(format!(
                "{path} up to date; running with server_id {server_id}, auto_increment_offset {offset}, character set {charset}"
            )));
        }
        let service = target.server_service();
        let log = super::error_log::server_error_log(inv, &target);
        let mut actions = Vec::new();
        let mut diff = String::new();
        let mut what = Vec::new();
        let debian_cnf_edited = debian_cnf.is_some();
        if let Some((debian_what, first)) = debian_cnf {
            actions.extend(first);
            what.push(debian_what);
        }
        if let Some((main, line, text)) = &include {
            let with = crate::os::with_include_line(text, line);
            diff.push_str(&file_diff(main, Some(text), &with));
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::append_include_command(main, line),
            )));
            what.push(format!("add `{line}` to {main}"));
        }
        if file_ok {
            actions.push(restart_server(ServerUnit {
                services,
                service,
                log,
            }));
            if debian_cnf_edited {
                actions.push(Action::Run(RemoteCommand::new(
                    super::paths::DEBIAN_CNF_FORGET,
                )));
            }
            what.push(format!("restart {service} to apply {path}"));
        } else {
            diff.push_str(&file_diff(path, current.as_deref(), &wanted));
            actions.push(write_config_and_restart(
                path,
                wanted.clone(),
                current.clone(),
                ServerUnit {
                    services,
                    service,
                    log,
                },
                d.supports_validate_config(),
                debian_cnf_edited.then_some((
                    super::paths::DEBIAN_CNF_UNDO,
                    super::paths::DEBIAN_CNF_FORGET,
                )),
            ));
            what.push(format!("write {path} and restart {service}"));
        }
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions,
            diff: (!diff.is_empty()).then_some(diff),
        }))
    }
}

/// Start a service and wait until it reports running: init scripts often return before
/// the daemon has written its pid file. With the server's `error_log`, a failure quotes
/// what the server wrote there.
fn start_service(
    services: ServiceManager,
    service: &'static str,
    error_log: Option<String>,
) -> Action {
    Action::Custom(
        format!("start {service} and wait until it runs"),
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            let start = || {
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
            };
            match &error_log {
                Some(log) => super::error_log::quoting_errors(
                    node,
                    log,
                    (services == ServiceManager::Systemd).then_some(service),
                    start,
                ),
                None => start(),
            }
        }),
    )
}

/// Restart the server, then wait until it accepts SQL again.
fn restart_server(unit: ServerUnit) -> Action {
    Action::Custom(
        format!("restart {} and wait for it", unit.service),
        Box::new(move |cluster: &Cluster, i| {
            restart_and_wait(&cluster.nodes[i], unit.services, unit.service, &unit.log)
        }),
    )
}

/// The server's service and the error log it writes: what a restart needs.
struct ServerUnit {
    services: ServiceManager,
    service: &'static str,
    log: String,
}

/// Server restarts of one run never overlap: while one node's server restarts, the
/// other's answers. (A re-run that changes the drop-in of a running pair, e.g. after an
/// upgrade of mhactl, restarts both nodes' servers, each step on both nodes at once.)
static SERVER_RESTARTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Restart the server and wait until it answers SQL; a failure quotes the new lines
/// of its error log `log`. Never while the other node's server restarts
/// ([`SERVER_RESTARTS`]).
pub(super) fn restart_and_wait(
    node: &NodeHandle,
    services: ServiceManager,
    service: &str,
    log: &str,
) -> Result<()> {
    // A panic elsewhere while holding it leaves nothing to protect: go on.
    let _one_at_a_time = SERVER_RESTARTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    super::error_log::quoting_errors(
        node,
        log,
        (services == ServiceManager::Systemd).then_some(service),
        || restart_and_wait_quietly(node, services, service),
    )
}

fn restart_and_wait_quietly(
    node: &NodeHandle,
    services: ServiceManager,
    service: &str,
) -> Result<()> {
    node.reset_sql();
    if let Some(prepare) = services.runtime_dir_command(service) {
        node.transport.run_ok(&RemoteCommand::new(prepare))?;
    }
    node.transport
        .run_ok(&RemoteCommand::new(services.restart_command(service)))?;
    crate::poll::until(Duration::from_secs(60), || {
        node.reset_sql();
        match node.with_sql(|sql| sql.query(crate::dialect::ping_sql())) {
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
/// without a database server. Where the server can check its options without starting
/// (`validate`: `mysqld --validate-config`), a file it rejects is put back before any
/// restart, so the running server is never stopped for it.
fn write_config_and_restart(
    path: &'static str,
    wanted: String,
    previous: Option<String>,
    unit: ServerUnit,
    validate: bool,
    // Commands that undo / keep another file changed together with this one (debian.cnf
    // pointed at a new socket): run with the rollback / after the server started.
    companion: Option<(&'static str, &'static str)>,
) -> Action {
    let ServerUnit {
        services,
        service,
        log,
    } = unit;
    let check = if validate {
        ", check it with `mysqld --validate-config`"
    } else {
        ""
    };
    Action::Custom(
        format!("write {path} (mode 644){check} and restart {service}, restoring the previous file if it does not start"),
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            let restore = || -> Result<()> {
                match &previous {
                    Some(old) => node.transport.write_file(Path::new(path), old.as_bytes(), 0o644)?,
                    None => {
                        node.transport
                            .run_ok(&RemoteCommand::new(crate::os::files::remove_file_command(path)))?;
                    }
                }
                if let Some((undo, _)) = companion {
                    node.transport.run_ok(&RemoteCommand::new(undo))?;
                }
                Ok(())
            };
            node.transport.write_file(Path::new(path), wanted.as_bytes(), 0o644)?;
            if validate {
                let out = node.transport.run(&RemoteCommand::new(VALIDATE_CONFIG_COMMAND))?;
                if !out.success() {
                    restore()?;
                    let message = validate_config_errors(&out.stderr, &out.stdout);
                    bail!(
                        "{}: server-config: mysqld --validate-config rejects the new {path} (exit {}): {message}; \
                         the previous version was restored and {service} was not restarted",
                        node.name,
                        out.status
                    );
                }
            }
            let Err(failure) = restart_and_wait(node, services, service, &log) else {
                if let Some((_, forget)) = companion {
                    node.transport.run_ok(&RemoteCommand::new(forget))?;
                }
                return Ok(());
            };
            restore()?;
            match restart_and_wait(node, services, service, &log) {
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

/// The server's own words from `mysqld --validate-config`: its `[ERROR]` lines without
/// the timestamp and thread prefix, minus the closing "Aborting"; all of stderr when
/// there are none.
pub fn validate_config_errors(stderr: &str, stdout: &str) -> String {
    let errors: Vec<String> = stderr
        .lines()
        .chain(stdout.lines())
        .filter_map(|l| l.split_once("[ERROR]").map(|(_, rest)| rest.trim()))
        .map(|rest| {
            // "[MY-000067] [Server] unknown variable 'x=1'." -> keep the code, drop [Server].
            rest.replacen(" [Server]", "", 1)
        })
        .filter(|l| !l.ends_with("Aborting"))
        .collect();
    if errors.is_empty() {
        let all = format!("{}{}", stderr.trim(), stdout.trim());
        if all.is_empty() {
            "no message".into()
        } else {
            all
        }
    } else {
        errors.join("; ")
    }
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
        super::account_guard::refuse_foreign_hosts(node, user, &host)?;
        let exists_sql = d.count_account_sql(user, &host);
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
        statements.push(d.session_binlog_sql());
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
    let Some(sql) = d.password_matches_sql(user, &host, password.expose_secret()) else {
        let login = crate::sql::Login {
            user: user.clone(),
            password: Some(password.clone()),
        };
        let target = ForwardTarget::Tcp(inv.nodes[i].address.to_string(), inv.mysql.port);
        return match cluster.peer(i).login(&target, &login) {
            Ok(_) => Ok(true),
            Err(e) if crate::sql::server_error_code(&e) == Some(1045) => Ok(false),
            Err(e) => Err(e.context(format!(
                "checking the password of {} by logging in from {}",
                crate::dialect::quote_account(user, &host),
                cluster.peer(i).name
            ))),
        };
    };
    Ok(node
        .with_sql(|s| s.query(&sql))?
        .first()
        .and_then(|r| crate::sql::get(r, "n"))
        == Some("1"))
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
        let label = parse_check_script_label(
            &node
                .transport
                .run_ok(&RemoteCommand::new(check_script_label_probe(script_path)))?,
            script_path,
        );
        // Under SELinux a freshly written script carries its directory's type: label it
        // again after every write.
        let label_ok = match &label {
            CheckScriptLabel::NotEnforcing => true,
            CheckScriptLabel::Enforcing(ty) => script_ok && ty == CHECK_SCRIPT_SELINUX_TYPE,
        };
        if conf_ok && script_ok && running && label_ok {
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
        if !label_ok {
            actions.push(Action::Run(RemoteCommand::new(check_script_label_command(
                script_path,
            ))));
            what.push(format!(
                "label {script_path} {CHECK_SCRIPT_SELINUX_TYPE} (SELinux)"
            ));
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
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::keepalived::install_checked_config_command(&candidate, conf_path),
            )));
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
            actions.push(start_service(services, KEEPALIVED_SERVICE, None));
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
            holders = facts::vip_holders(cluster, inv)?;
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
