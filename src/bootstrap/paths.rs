//! The server's own paths (runbook 1.4, "data on another partition", and its ERROR 2002
//! fix): steps `apparmor`, `server-paths` and `data-directory`.
//!
//! - `server-paths`: the directories of the inventory's `socket`, `pid_file` and
//!   `log_error` exist and belong to the server's user; on systemd hosts a
//!   `tmpfiles.d` entry recreates directories under `/run` at boot. (Debian's
//!   `debian.cnf`, which the SysV script pings the server with, is pointed at the same
//!   socket by `server-config` as it restarts the server: [`debian_cnf_actions`].)
//! - `data-directory`: the inventory's `datadir` exists, belongs to mysql and holds an
//!   initialised database. An empty directory is initialised (`mariadb-install-db`, or
//!   `mysqld --initialize` whose temporary root password is replaced at once by the
//!   inventory's); a non-empty one that holds no database is never touched.
//! - `apparmor`: where AppArmor confines mysqld (Ubuntu's MySQL), the profile's local
//!   include allows the inventory's paths.
//!
//! SELinux file contexts for the same paths are the `selinux` step's
//! ([`super::firewall::plan_selinux`]), which runs before anything is installed.

use super::steps::Ctx;
use crate::engine::{file_diff, Action, Change, Cluster, NodeHandle, Operation, Plan};
use crate::facts;
use crate::inventory::Inventory;
use crate::os::ServiceManager;
use crate::transport::{ForwardTarget, RemoteCommand, Transport};
use anyhow::{anyhow, bail, Context as _, Result};
use std::path::Path;
use std::sync::Arc;

pub use crate::os::apparmor::{apparmor_local, APPARMOR_ENABLED, APPARMOR_LOCAL, APPARMOR_PROFILE};
pub use crate::os::client_login::{client_option_file, with_client_login};
pub use crate::os::datadir::{datadir_state_command, initialise_command};
pub use crate::os::debian_cnf::{
    debian_cnf_socket_command, debian_cnf_socket_ok, DEBIAN_CNF, DEBIAN_CNF_FORGET,
    DEBIAN_CNF_SAVED, DEBIAN_CNF_SOCKETS, DEBIAN_CNF_UNDO,
};

/// Directories shared with the rest of the system: mhactl never creates, chowns or
/// labels them as a whole (a file of the inventory's directly in one is handled alone).
pub const SYSTEM_DIRS: &[&str] = &[
    "/", "/tmp", "/var/tmp", "/run", "/var/run", "/var", "/var/log", "/var/lib", "/etc", "/usr",
    "/opt", "/srv", "/home", "/root", "/data", "/mnt",
];

/// Directories the packages create, own and label themselves.
pub const PACKAGED_DIRS: &[&str] = &[
    "/var/lib/mysql",
    "/run/mysqld",
    "/var/run/mysqld",
    "/run/mariadbd",
    "/var/log/mysql",
    "/var/log/mariadb",
];

/// What a path of the inventory's is for (its SELinux type, its directory's mode).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// `datadir`: mysqld_db_t, mode 750.
    Data,
    /// `socket`, `pid_file`: mysqld_var_run_t, mode 755 (clients reach the socket).
    Run,
    /// `log_error`: mysqld_log_t, mode 750.
    Log,
}

impl PathKind {
    /// The SELinux type mysqld's policy expects.
    pub fn selinux_type(self) -> &'static str {
        match self {
            PathKind::Data => "mysqld_db_t",
            PathKind::Run => "mysqld_var_run_t",
            PathKind::Log => "mysqld_log_t",
        }
    }
    /// The mode of a directory of this kind.
    pub fn dir_mode(self) -> &'static str {
        match self {
            PathKind::Run => "755",
            PathKind::Data | PathKind::Log => "750",
        }
    }
}

/// A path of the inventory's, seen as what mhactl manages for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerPath {
    /// Inventory field (`mysql.socket`).
    pub field: &'static str,
    /// What it is for.
    pub kind: PathKind,
    /// The directory mhactl manages for it (created, owned by mysql, labelled), or
    /// `None` when the file sits directly in a system or packaged directory.
    pub dir: Option<String>,
    /// The file itself (the datadir: the directory).
    pub path: String,
}

fn trimmed(p: &Path) -> String {
    let s = p.display().to_string();
    let t = s.trim_end_matches('/');
    if t.is_empty() {
        "/".into()
    } else {
        t.to_string()
    }
}

/// The inventory's non-default paths: the datadir, then the directories of the socket,
/// pid file and error log (a directory shared by two of them is listed once, with the
/// first one's kind). Files directly in a system or packaged directory get no directory.
pub fn server_paths(inv: &Inventory) -> Vec<ServerPath> {
    let m = &inv.mysql;
    let mut out: Vec<ServerPath> = Vec::new();
    if let Some(d) = &m.datadir {
        let d = trimmed(d);
        if !PACKAGED_DIRS.contains(&d.as_str()) {
            out.push(ServerPath {
                field: "mysql.datadir",
                kind: PathKind::Data,
                dir: Some(d.clone()),
                path: d,
            });
        }
    }
    for (field, kind, p) in [
        ("mysql.socket", PathKind::Run, &m.socket),
        ("mysql.pid_file", PathKind::Run, &m.pid_file),
        ("mysql.log_error", PathKind::Log, &m.log_error),
    ] {
        let Some(p) = p else { continue };
        let path = trimmed(p);
        let parent = Path::new(&path)
            .parent()
            .map(trimmed)
            .unwrap_or_else(|| "/".into());
        let dir = (!SYSTEM_DIRS.contains(&parent.as_str())
            && !PACKAGED_DIRS.contains(&parent.as_str()))
        .then_some(parent);
        // A file inside the data directory (or another listed directory) needs nothing more.
        let covered = out.iter().any(|o| {
            o.dir.as_ref().is_some_and(|d| {
                dir.as_ref()
                    .map_or(path.starts_with(&format!("{d}/")), |x| x == d)
            })
        });
        if covered {
            continue;
        }
        // Packaged files (the default socket, pid file or error log) need nothing at all.
        if dir.is_none()
            && PACKAGED_DIRS
                .iter()
                .any(|d| path.starts_with(&format!("{d}/")))
        {
            continue;
        }
        out.push(ServerPath {
            field,
            kind,
            dir,
            path,
        });
    }
    out
}

/// debian.cnf, when it does not name the server's socket yet: what to do (a summary and
/// the actions), run by `server-config` right before it writes the config and restarts
/// the server. Under SysV the running server is stopped first, while debian.cnf still
/// names its current socket: Debian's script stops the server by pinging it through
/// debian.cnf, and starts it by waiting for the same ping to answer on the new socket.
pub fn debian_cnf_actions(
    inv: &Inventory,
    t: &dyn Transport,
    target: &crate::os::OsTarget,
    services: ServiceManager,
    server_running: bool,
) -> Result<Option<(String, Vec<Action>)>> {
    let socket = crate::render::server_socket(inv, target);
    let listing = t.run(&RemoteCommand::new(DEBIAN_CNF_SOCKETS))?;
    if listing.status == super::firewall::NOT_INSTALLED
        || debian_cnf_socket_ok(&listing.stdout, &socket, inv.mysql.socket.is_some())
    {
        return Ok(None);
    }
    let mut actions = Vec::new();
    let service = target.server_service();
    if services == ServiceManager::SysV && server_running {
        actions.push(Action::Run(RemoteCommand::new(
            services.stop_command(service),
        )));
    }
    actions.push(Action::Run(RemoteCommand::new(
        crate::os::debian_cnf::save_command(),
    )));
    actions.push(Action::Run(RemoteCommand::new(debian_cnf_socket_command(
        &socket,
    ))));
    Ok(Some((format!("point {DEBIAN_CNF} at {socket}"), actions)))
}

/// `tmpfiles.d` entry that recreates directories under /run at boot (systemd).
pub const TMPFILES_PATH: &str = "/etc/tmpfiles.d/mhactl-mysql.conf";

/// The tmpfiles.d file for the run directories among `paths` (`None`: none under /run).
pub fn tmpfiles_conf(paths: &[ServerPath]) -> Option<String> {
    let lines: Vec<String> = paths
        .iter()
        .filter(|p| p.kind == PathKind::Run)
        .filter_map(|p| p.dir.as_ref())
        .filter(|d| d.starts_with("/run/") || d.starts_with("/var/run/"))
        .map(|d| format!("d {d} 0755 mysql mysql -\n"))
        .collect();
    (!lines.is_empty()).then(|| {
        format!(
            "# Managed by mhactl: directories of mysqld's socket and pid file (mysql.socket,\n\
             # mysql.pid_file) under /run, which is empty after a reboot.\n{}",
            lines.concat()
        )
    })
}

/// Step `server-paths` (runbook 1.4's ERROR 2002 fix): the directories of the
/// inventory's socket, pid file and error log exist and belong to mysql; an error log
/// directly in a system directory exists and belongs to mysql; on systemd hosts, run
/// directories come back after a reboot.
pub struct ServerPaths(pub Arc<Ctx>);

impl Operation for ServerPaths {
    fn name(&self) -> &'static str {
        "server-paths"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let (target, services) = facts::os_target(node, inv.mysql.flavor)?;
        let plan = plan_server_paths(inv, node.transport.as_ref(), services)?;
        // The default error log's directory, which some packages do not create.
        match super::error_log::default_dir_action(inv, node.transport.as_ref(), &target)? {
            None => Ok(plan),
            Some((what, action)) => Ok(match plan {
                Plan::Noop(_) => Plan::Change(Change {
                    summary: what,
                    actions: vec![action],
                    diff: None,
                }),
                Plan::Change(mut c) => {
                    c.summary = format!("{what}, {}", c.summary);
                    c.actions.insert(0, action);
                    Plan::Change(c)
                }
            }),
        }
    }
}

/// The `server-paths` plan for one node (pure but for the probes it runs on `t`).
pub fn plan_server_paths(
    inv: &Inventory,
    t: &dyn Transport,
    services: ServiceManager,
) -> Result<Plan> {
    let paths: Vec<ServerPath> = server_paths(inv)
        .into_iter()
        .filter(|p| p.kind != PathKind::Data)
        .collect();
    let mut actions = Vec::new();
    let mut what = Vec::new();
    let mut fine = Vec::new();
    let mut diff = String::new();
    // Directories of their own, and files directly in a shared directory: created for
    // mysql when missing, used when already mysql's, refused otherwise (the ownership
    // rule of `path_safety`: mhactl never takes over what it did not create).
    let probes = super::path_safety::check_paths(inv, t.node(), t)?;
    for p in &paths {
        let (item, role) = super::path_safety::role_of(p);
        let missing = probes
            .iter()
            .any(|x| x.path == item && x.found == super::path_safety::Found::Missing);
        if !missing {
            fine.push(format!("{item} ({})", p.field));
            continue;
        }
        // mysqld creates its socket and pid file itself; only its error log must exist
        // (it could not create it in a directory it does not own).
        let command = match (role, p.kind) {
            (super::path_safety::Role::File, PathKind::Run) => continue,
            (super::path_safety::Role::File, _) => super::path_safety::create_file_command(item),
            _ => super::path_safety::create_dir_command(item, p.kind.dir_mode()),
        };
        actions.push(Action::Run(RemoteCommand::new(command)));
        what.push(format!("create {item} for mysql ({})", p.field));
    }
    if services == ServiceManager::Systemd {
        let current = t.read_file(Path::new(TMPFILES_PATH))?;
        match (tmpfiles_conf(&paths), current) {
            (Some(conf), current) if current.as_deref() != Some(conf.as_str()) => {
                diff.push_str(&file_diff(TMPFILES_PATH, current.as_deref(), &conf));
                actions.push(Action::WriteFile {
                    path: TMPFILES_PATH.into(),
                    content: conf,
                    mode: 0o644,
                });
                what.push(format!("write {TMPFILES_PATH}"));
            }
            // The inventory no longer puts a socket or pid file under /run: mhactl's
            // entry would keep recreating a directory nothing uses.
            (None, Some(old)) => {
                diff.push_str(&file_diff(TMPFILES_PATH, Some(&old), ""));
                actions.push(Action::Run(RemoteCommand::new(
                    crate::os::files::remove_file_command(TMPFILES_PATH),
                )));
                what.push(format!(
                    "remove {TMPFILES_PATH} (no run directory in the inventory)"
                ));
            }
            _ => {}
        }
    }
    if actions.is_empty() {
        return Ok(Plan::Noop(if fine.is_empty() {
            "the packaged socket, pid file and error log".into()
        } else {
            format!("owned by mysql: {}", fine.join(", "))
        }));
    }
    Ok(Plan::Change(Change {
        summary: what.join(", "),
        actions,
        diff: (!diff.is_empty()).then_some(diff),
    }))
}

/// The AppArmor rules for the inventory's paths (empty: the profile covers them).
pub fn apparmor_rules(paths: &[ServerPath]) -> Vec<String> {
    let mut rules = Vec::new();
    for p in paths {
        let access = if p.kind == PathKind::Log { "rw" } else { "rwk" };
        match &p.dir {
            Some(d) => {
                rules.push(format!("{d}/ r,"));
                rules.push(format!("{d}/** {access},"));
            }
            None => {
                rules.push(format!("{} {access},", p.path));
                if p.field == "mysql.socket" {
                    rules.push(format!("{}.lock rwk,", p.path));
                }
            }
        }
    }
    rules
}

/// Step `apparmor`: where AppArmor confines mysqld, the profile's local include
/// allows the inventory's datadir, socket, pid file and error log, and the profile is
/// reloaded. Without AppArmor, or without that profile (MariaDB, EL), nothing to do.
pub struct AppArmor(pub Arc<Ctx>);

impl Operation for AppArmor {
    fn name(&self) -> &'static str {
        "apparmor"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        plan_apparmor(&self.0.inv, cluster.nodes[i].transport.as_ref())
    }
}

/// The `apparmor` plan for one node.
pub fn plan_apparmor(inv: &Inventory, t: &dyn Transport) -> Result<Plan> {
    if t.run(&RemoteCommand::new(APPARMOR_ENABLED))?.status != 0 {
        return Ok(Plan::Noop("AppArmor does not confine mysqld".into()));
    }
    let rules = apparmor_rules(&server_paths(inv));
    let current = t.read_file(Path::new(APPARMOR_LOCAL))?;
    let wanted = apparmor_local(current.as_deref(), &rules);
    if current.as_deref().unwrap_or("") == wanted {
        return Ok(Plan::Noop(if rules.is_empty() {
            "AppArmor: the packaged profile covers the packaged paths".into()
        } else {
            format!("AppArmor: {APPARMOR_LOCAL} allows the inventory's paths")
        }));
    }
    Ok(Plan::Change(Change {
        summary: format!(
            "AppArmor: allow the inventory's paths in {APPARMOR_LOCAL}, reload the profile"
        ),
        diff: Some(file_diff(APPARMOR_LOCAL, current.as_deref(), &wanted)),
        actions: vec![
            Action::WriteFile {
                path: APPARMOR_LOCAL.into(),
                content: wanted,
                mode: 0o644,
            },
            Action::Run(RemoteCommand::new(
                crate::os::apparmor::reload_profile_command(),
            )),
        ],
    }))
}

/// Where `mysqld --initialize` writes its temporary root password on this node: the
/// inventory's error log, else the packaged one (where admin-access also looks).
pub fn initialise_log(inv: &Inventory, target: &crate::os::OsTarget) -> String {
    inv.mysql
        .log_error
        .as_ref()
        .map(|p| p.display().to_string())
        .or_else(|| target.error_log_path().map(str::to_string))
        .unwrap_or_else(|| "/var/log/mysql/error.log".into())
}

/// After `mysqld --initialize` on `dir`: start a private mysqld on it (no network, no
/// binary log, so the password change is no transaction with a GTID, its own socket in
/// `dir`), log in with the temporary password from `log` in
/// expired-password mode, set root's password to `root_password` (the admin-access
/// step's way), and shut it down. The running server is not touched.
pub fn secure_fresh_mysql_datadir(
    node: &NodeHandle,
    dir: &str,
    log: &str,
    root_password: &secrecy::SecretString,
) -> Result<()> {
    let out = node.transport.run(&RemoteCommand::new(
        crate::os::error_log::temporary_password_query(log),
    ))?;
    let temporary = crate::dialect::parse_temporary_password(&out.stdout).ok_or_else(|| {
        anyhow!(
            "{}: mysqld --initialize left no temporary root password in {log}",
            node.name
        )
    })?;
    let temporary = secrecy::SecretString::from(temporary);
    let socket = format!("{}/mhactl-init.sock", dir.trim_end_matches('/'));
    let pid = format!("{}/mhactl-init.pid", dir.trim_end_matches('/'));
    node.transport
        .run_ok(&RemoteCommand::new(
            crate::os::datadir::start_private_server_command(dir, &socket, &pid, log),
        ))
        .with_context(|| format!("{}: starting a private mysqld on {dir}", node.name))?;
    let set = node.set_expired_password(
        &ForwardTarget::UnixSocket(socket.clone().into()),
        "root",
        &temporary,
        root_password,
    );
    let stop = node.transport.run_ok(&RemoteCommand::new(
        crate::os::datadir::stop_private_server_command(&pid),
    ));
    set.map_err(|e| match crate::sql::server_error_code(&e) {
        Some(1819) => anyhow!(
            "the server's password policy (validate_password) rejects the inventory's root \
             password (error 1819)"
        ),
        _ => e,
    })
    .with_context(|| {
        format!(
            "{}: setting root's password on the fresh data directory {dir}",
            node.name
        )
    })?;
    stop?;
    Ok(())
}

/// Step `data-directory` (runbook 1.4: data on another partition): the inventory's data
/// directory exists, belongs to the server's user and holds an initialised database. An
/// empty directory is initialised; a non-empty one that holds no database is never
/// touched. The server moves onto it in `server-config` (its my.cnf names it).
pub struct DataDirectory(pub Arc<Ctx>);

impl Operation for DataDirectory {
    fn name(&self) -> &'static str {
        "data-directory"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let Some(datadir) = &inv.mysql.datadir else {
            return Ok(Plan::Noop("the packaged default data directory".into()));
        };
        let dir = trimmed(datadir);
        let state = node
            .transport
            .run_ok(&RemoteCommand::new(datadir_state_command(&dir)))?
            .trim()
            .to_string();
        if state == "initialised mysql" {
            return Ok(Plan::Noop(format!(
                "{dir} holds an initialised database owned by mysql"
            )));
        }
        if state == "filesystem-root" {
            // mysqld --initialize refuses a directory with anything in it, and
            // lost+found belongs to the file system: the usual layout is a subdirectory.
            bail!(
                "mysql.datadir: {dir} is the top of a file system (it holds only lost+found), \
                 which mysqld cannot initialise: set mysql.datadir to a directory below it, \
                 e.g. {}/data",
                dir.trim_end_matches('/')
            );
        }
        if state == "not-a-database" {
            bail!(
                "mysql.datadir: {dir} is not empty and holds no database: mhactl never initialises \
                 over existing files; empty it or choose another mysql.datadir"
            );
        }
        // A database owned by someone else: mhactl did not create it and never changes
        // its owner (`path_safety` refuses it before anything runs, this is the last word).
        if state != "empty" {
            bail!(
                "mysql.datadir: {}: {dir} holds a database owned by {}, not mysql; mhactl never \
                 changes the owner of a directory it did not create: if it is the server's, \
                 `chown -R mysql:mysql {dir}` yourself",
                node.name,
                state.strip_prefix("initialised ").unwrap_or(&state)
            );
        }
        super::path_safety::check_node(inv, node)?;
        // Moving a running database is a migration, not a setup: refuse when the
        // server's current data directory holds databases of its own.
        let user_dbs: Vec<String> = node
            .with_sql(|sql| sql.query(crate::dialect::show_databases_sql()))?
            .iter()
            .filter_map(|r| r.first().and_then(|(_, v)| v.clone()))
            .filter(|db| {
                !["mysql", "information_schema", "performance_schema", "sys"].contains(&db.as_str())
            })
            .collect();
        if !user_dbs.is_empty() {
            bail!(
                "mysql.datadir: the server's current data directory holds databases ({}): mhactl does not \
                 move data. Stop the server, copy its data directory to {dir} (e.g. `rsync -a`), then run \
                 bootstrap again",
                user_dbs.join(", ")
            );
        }
        let flavor = inv.mysql.flavor;
        let (target, _) = facts::os_target(node, flavor)?;
        let log = initialise_log(inv, &target);
        let mut actions = vec![Action::Run(RemoteCommand::new(
            crate::os::datadir::create_and_initialise_command(flavor, &dir, &log),
        ))];
        let mut summary = format!("initialise {dir}");
        if flavor.fresh_root_password_is_temporary() {
            let Some(root_password) = self.0.secrets.root_password.clone() else {
                bail!(
                    "mysql.datadir: a fresh MySQL data directory starts with a temporary root \
                     password, which mhactl replaces with the inventory's: set one of \
                     credentials.root_password_env, root_password_file or root_password_prompt"
                );
            };
            let dir = dir.clone();
            actions.push(Action::Custom(
                format!(
                    "set root's password on {dir} to the inventory's (the temporary one \
                     from {log}, on a private mysqld without network)"
                ),
                Box::new(move |cluster: &Cluster, i| {
                    secure_fresh_mysql_datadir(&cluster.nodes[i], &dir, &log, &root_password)
                }),
            ));
            summary.push_str(" and set root's password there to the inventory's");
        }
        Ok(Plan::Change(Change {
            summary,
            actions,
            diff: None,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Flavor;
    use crate::transport::fake::FakeTransport;

    fn inv(extra: &str) -> Inventory {
        crate::inventory::parse(
            &format!(
                "cluster: t\nnodes:\n  - name: node-a\n    address: 10.0.0.11\n  - name: node-b\n    address: 10.0.0.12\n\
                 vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
                 credentials:\n  replication_password_env: X\n{extra}"
            ),
            "inventory.yaml",
        )
        .expect("valid inventory")
    }

    const PATHS: &str = "mysql:\n  datadir: /data/mysql\n  socket: /var/run/custom/mysql.sock\n  \
         pid_file: /var/run/custom/mysqld.pid\n  log_error: /var/log/custom/mysql.err\n";

    fn transcript(plan: &Plan) -> Vec<String> {
        match plan {
            Plan::Change(c) => c.actions.iter().map(|a| a.describe()).collect(),
            Plan::Noop(why) => panic!("expected a change, got noop: {why}"),
        }
    }

    #[test]
    fn server_paths_share_directories_and_skip_packaged_and_shared_ones() {
        let p = server_paths(&inv(PATHS));
        let dirs: Vec<(&str, Option<&str>)> =
            p.iter().map(|p| (p.field, p.dir.as_deref())).collect();
        assert_eq!(
            dirs,
            [
                ("mysql.datadir", Some("/data/mysql")),
                ("mysql.socket", Some("/var/run/custom")),
                ("mysql.log_error", Some("/var/log/custom")),
            ]
        );
        // Packaged paths need nothing; a file in /tmp or /var/log is handled alone; a
        // file inside the data directory is covered by it.
        let p = server_paths(&inv(
            "mysql:\n  datadir: /var/lib/mysql\n  socket: /tmp/mysql.sock\n  \
             pid_file: /run/mysqld/mysqld.pid\n  log_error: /var/log/mysqld-a.log\n",
        ));
        assert_eq!(
            p.iter()
                .map(|p| (p.field, p.dir.clone(), p.path.as_str()))
                .collect::<Vec<_>>(),
            [
                ("mysql.socket", None, "/tmp/mysql.sock"),
                ("mysql.log_error", None, "/var/log/mysqld-a.log"),
            ]
        );
        let p = server_paths(&inv(
            "mysql:\n  datadir: /data/mysql\n  log_error: /data/mysql/error.log\n",
        ));
        assert_eq!(p.len(), 1);
    }

    /// The probe's answer for `(path, state, owner)`s.
    fn probed(entries: &[(&str, &str, &str)]) -> String {
        entries
            .iter()
            .map(|(p, s, o)| format!("{p}\t{s}\t{o}\t{p}\n"))
            .collect()
    }

    #[test]
    fn server_paths_creates_directories_for_mysql_then_is_a_noop() {
        use super::super::path_safety::{create_dir_command, create_file_command, PROBE_MARKER};
        let inv = inv(PATHS);
        let t = FakeTransport::new("node-a");
        t.on(
            PROBE_MARKER,
            0,
            &probed(&[
                ("/data/mysql", "missing", "-"),
                ("/var/run/custom", "missing", "-"),
                ("/var/log/custom", "missing", "-"),
            ]),
        );
        let plan = plan_server_paths(&inv, &t, ServiceManager::SysV).unwrap();
        assert_eq!(
            transcript(&plan),
            [
                format!("run: {}", create_dir_command("/var/run/custom", "755")),
                format!("run: {}", create_dir_command("/var/log/custom", "750")),
            ]
        );
        assert!(create_dir_command("/var/run/custom", "755").contains(
            "mkdir -p -- /var/run; mkdir -m 755 -- /var/run/custom; chown mysql:mysql -- /var/run/custom"
        ));
        // systemd: /run is empty after a reboot, so tmpfiles.d recreates the directory.
        t.on(TMPFILES_PATH, 3, ""); // not written yet
        let plan = plan_server_paths(&inv, &t, ServiceManager::Systemd).unwrap();
        let actions = transcript(&plan);
        assert!(
            actions[2].contains("/etc/tmpfiles.d/mhactl-mysql.conf"),
            "{actions:?}"
        );
        let Plan::Change(c) = plan else { panic!() };
        assert!(c
            .diff
            .unwrap()
            .contains("+d /var/run/custom 0755 mysql mysql -"));
        t.on(
            PROBE_MARKER,
            0,
            &probed(&[
                ("/data/mysql", "missing", "-"),
                ("/var/run/custom", "dir", "mysql"),
                ("/var/log/custom", "dir-empty", "mysql"),
            ]),
        );
        t.on(
            TMPFILES_PATH,
            0,
            &tmpfiles_conf(&server_paths(&inv)).unwrap(),
        );
        assert!(matches!(
            plan_server_paths(&inv, &t, ServiceManager::Systemd).unwrap(),
            Plan::Noop(_)
        ));
        // The custom socket taken out of the inventory: mhactl's tmpfiles.d entry goes.
        let plan = plan_server_paths(&self::inv(""), &t, ServiceManager::Systemd).unwrap();
        assert_eq!(
            transcript(&plan),
            ["run: rm -f /etc/tmpfiles.d/mhactl-mysql.conf"]
        );
        // No custom paths: nothing probed, nothing to do.
        let t = FakeTransport::new("node-a");
        assert!(matches!(
            plan_server_paths(&self::inv(""), &t, ServiceManager::SysV).unwrap(),
            Plan::Noop(_)
        ));
        assert!(t.commands().is_empty());
        // An error log directly in /var/log: the file is created (create-only) for mysql.
        let t = FakeTransport::new("node-a");
        t.on(
            PROBE_MARKER,
            0,
            &probed(&[("/var/log/mysqld-a.log", "missing", "-")]),
        );
        let log = self::inv("mysql:\n  log_error: /var/log/mysqld-a.log\n");
        let plan = plan_server_paths(&log, &t, ServiceManager::SysV).unwrap();
        assert_eq!(
            transcript(&plan),
            [format!(
                "run: {}",
                create_file_command("/var/log/mysqld-a.log")
            )]
        );
    }

    #[test]
    fn apparmor_allows_the_inventorys_paths_in_the_local_include() {
        let inv = inv(PATHS);
        let t = FakeTransport::new("node-a");
        // AppArmor off (or no mysqld profile): nothing to do.
        t.on(APPARMOR_ENABLED, 100, "");
        assert!(matches!(plan_apparmor(&inv, &t).unwrap(), Plan::Noop(_)));
        t.on(APPARMOR_ENABLED, 0, "");
        t.on(APPARMOR_LOCAL, 0, "# Site-specific additions\n/srv/x/ r,\n");
        let plan = plan_apparmor(&inv, &t).unwrap();
        assert_eq!(
            transcript(&plan),
            [
                "write /etc/apparmor.d/local/usr.sbin.mysqld (mode 644)",
                "run: apparmor_parser -r /etc/apparmor.d/usr.sbin.mysqld",
            ]
        );
        let Plan::Change(c) = plan else { panic!() };
        let Action::WriteFile { content, .. } = &c.actions[0] else {
            panic!()
        };
        assert_eq!(
            content,
            "# Site-specific additions\n/srv/x/ r,\n\
             # BEGIN mhactl: paths from the inventory (managed, do not edit)\n  \
             /data/mysql/ r,\n  /data/mysql/** rwk,\n  /var/run/custom/ r,\n  /var/run/custom/** rwk,\n  \
             /var/log/custom/ r,\n  /var/log/custom/** rw,\n# END mhactl\n"
        );
        // Applied: nothing more; the site's own lines are kept.
        t.on(APPARMOR_LOCAL, 0, content);
        assert!(matches!(plan_apparmor(&inv, &t).unwrap(), Plan::Noop(_)));
        // Paths removed from the inventory: mhactl's block goes, the rest stays.
        let plan = plan_apparmor(&self::inv(""), &t).unwrap();
        let Plan::Change(c) = plan else { panic!() };
        let Action::WriteFile { content, .. } = &c.actions[0] else {
            panic!()
        };
        assert_eq!(content, "# Site-specific additions\n/srv/x/ r,\n");
    }

    #[test]
    fn initialise_commands() {
        let mysql = initialise_command(Flavor::Mysql, "/data/mysql", "/var/log/custom/mysql.err");
        assert!(mysql.contains(
            "mysqld --initialize --user=mysql --datadir=/data/mysql --log-error=/var/log/custom/mysql.err 2>&1"
        ));
        assert!(mysql.contains("tail -n 20 /var/log/custom/mysql.err >&2"));
        let maria = initialise_command(Flavor::Mariadb, "/data/mysql", "-");
        assert!(
            maria.contains("--auth-root-authentication-method=socket --skip-test-db --force 2>&1")
        );
        let deb_mysql =
            crate::os::OsTarget::new(crate::os::OsFamily::Debian, Flavor::Mysql).unwrap();
        assert_eq!(
            initialise_log(&inv(""), &deb_mysql),
            "/var/log/mysql/error.log"
        );
        assert_eq!(
            initialise_log(&inv(PATHS), &deb_mysql),
            "/var/log/custom/mysql.err"
        );
    }
}
