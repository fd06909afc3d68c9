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
//!
//! The three steps are in `steps/{server_paths,apparmor,data_directory}.rs`; this file keeps
//! what they share with other steps and with reinit (the inventory's paths, `tmpfiles.d`,
//! `debian.cnf`, securing a fresh MySQL data directory), and re-exports the steps.

use crate::engine::{Action, NodeHandle};
use crate::inventory::Inventory;
use crate::os::ServiceManager;
use crate::transport::{ForwardTarget, RemoteCommand, Transport};
use anyhow::{anyhow, Context as _, Result};
use std::path::Path;

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

pub(super) fn trimmed(p: &Path) -> String {
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

pub use super::steps::apparmor::{apparmor_rules, plan_apparmor, AppArmor};
pub use super::steps::data_directory::DataDirectory;
pub use super::steps::server_paths::{plan_server_paths, ServerPaths};

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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Plan;
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
