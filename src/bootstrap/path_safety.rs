//! The ownership rule for the server's paths, on the node: **mhactl never changes the
//! owner or mode of a file or directory it did not create**, except the data directory
//! it initialises itself.
//!
//! Before anything runs (step `detect-os`), and again when `server-paths` and
//! `data-directory` plan, each path bootstrap would use for the inventory's `datadir`,
//! `socket`, `pid_file` and `log_error` ([`super::paths::server_paths`]) is probed
//! ([`probe_command`]) and judged ([`judge`]):
//!
//! - a directory of the server's (socket, pid file or error log directory) must be
//!   missing (mhactl creates it, create-only, for mysql) or a directory owned by mysql;
//! - a file directly in a shared directory (`/var/log/mysqld.log`, `/tmp/mysql.sock`)
//!   must be missing or owned by mysql;
//! - the data directory must be missing, owned by mysql, or an empty directory owned by
//!   root (which mhactl then initialises and gives to mysql);
//! - wherever a path leads through symlinks, it must not end in a system location
//!   ([`crate::inventory::system_location`]).
//!
//! Anything else is refused naming the field, the node and the path; nothing is changed.

use super::paths::{server_paths, PathKind, ServerPath};
use crate::engine::NodeHandle;
use crate::inventory::Inventory;
use crate::transport::{RemoteCommand, Transport};
use anyhow::{bail, Result};

pub use crate::os::ownership::{
    create_dir_command, create_file_command, probe_command, PROBE_MARKER,
};

/// What a path is on the node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// Nothing there.
    Missing,
    /// A symlink to nothing.
    Dangling,
    /// A directory, its owner, and whether it is empty.
    Dir {
        /// `stat -c %U` (of the target, through symlinks).
        owner: String,
        /// Nothing in it (not even hidden files).
        empty: bool,
    },
    /// A regular file and its owner.
    File {
        /// `stat -c %U`.
        owner: String,
    },
    /// A socket, FIFO or device, and its owner.
    Other {
        /// `stat -c %U`.
        owner: String,
    },
}

/// One probed path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The path as the inventory gives it.
    pub path: String,
    /// What is there.
    pub found: Found,
    /// The path with every symlink resolved (`realpath -m`).
    pub resolved: String,
}

/// How bootstrap uses a path, which decides what may already be there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// The data directory (initialised by mhactl when empty).
    DataDir,
    /// A directory of the server's own (socket, pid file, error log).
    OwnDir,
    /// A file directly in a shared directory.
    File,
}

/// The path bootstrap probes for `p` and how it uses it.
pub fn role_of(p: &ServerPath) -> (&str, Role) {
    match (&p.dir, p.kind) {
        (_, PathKind::Data) => (p.path.as_str(), Role::DataDir),
        (Some(d), _) => (d.as_str(), Role::OwnDir),
        (None, _) => (p.path.as_str(), Role::File),
    }
}

/// Parse [`probe_command`]'s output (lines it cannot read are skipped: a path without
/// a line is then refused by [`judge`] as unknown).
pub fn parse_probe(out: &str) -> Vec<Probe> {
    out.lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('\t').collect();
            let [path, state, owner, resolved] = f[..] else {
                return None;
            };
            let owner = owner.to_string();
            let found = match state {
                "missing" => Found::Missing,
                "dangling" => Found::Dangling,
                "dir-empty" => Found::Dir { owner, empty: true },
                "dir" => Found::Dir {
                    owner,
                    empty: false,
                },
                "file" => Found::File { owner },
                "other" => Found::Other { owner },
                _ => return None,
            };
            Some(Probe {
                path: path.to_string(),
                found,
                resolved: resolved.to_string(),
            })
        })
        .collect()
}

/// Why `probe` may not be used for `role`, or `None` when it may. `field` and `node`
/// only go into the message.
pub fn judge(field: &str, node: &str, role: Role, probe: &Probe) -> Option<String> {
    let path = &probe.path;
    let resolved = probe.resolved.trim_end_matches('/');
    if !resolved.is_empty() && resolved != path.trim_end_matches('/') {
        if let Some(why) = crate::inventory::system_location(resolved) {
            return Some(format!(
                "{field}: {node}: {path} leads through a symlink to {resolved}, a system \
                 location ({why}); mhactl never hands system files to the server"
            ));
        }
    }
    let mysql = |o: &str| o == "mysql";
    let what = match (&probe.found, role) {
        (Found::Missing, _) => return None,
        (Found::Dir { owner, .. }, Role::DataDir | Role::OwnDir) if mysql(owner) => return None,
        (Found::Dir { owner, empty: true }, Role::DataDir) if owner == "root" => return None,
        (Found::File { owner } | Found::Other { owner }, Role::File) if mysql(owner) => {
            return None
        }
        (Found::Dangling, _) => "is a symlink to nothing".to_string(),
        (Found::Dir { owner, empty }, Role::DataDir) => format!(
            "is {} directory owned by {owner}, not mysql",
            if *empty { "an empty" } else { "a non-empty" }
        ),
        (Found::Dir { owner, .. }, Role::OwnDir) => {
            format!("exists and is owned by {owner}, not mysql")
        }
        (Found::Dir { .. }, Role::File) => "is a directory, not a file".to_string(),
        (Found::File { owner }, _) | (Found::Other { owner }, _) if role != Role::File => {
            format!("is not a directory (a file owned by {owner})")
        }
        (Found::File { owner } | Found::Other { owner }, _) => {
            format!("exists and is owned by {owner}, not mysql")
        }
    };
    let advice = match role {
        Role::DataDir => {
            "use a new or empty directory; if this one holds the server's data, `chown -R \
             mysql:mysql` it yourself"
        }
        Role::OwnDir => {
            "use a new directory for the server; if this one is the server's, `chown \
             mysql:mysql` it yourself"
        }
        Role::File => {
            "use a new file; if this one is the server's, `chown mysql:mysql` it yourself"
        }
    };
    Some(format!(
        "{field}: {node}: {path} {what}; mhactl never changes the owner or mode of a file \
         or directory it did not create: {advice}"
    ))
}

/// Probe the inventory's paths on a node and judge each; every problem in one error.
/// Returns the probes (empty when the inventory has no paths of its own).
pub fn check_paths(inv: &Inventory, node: &str, t: &dyn Transport) -> Result<Vec<Probe>> {
    let paths = server_paths(inv);
    if paths.is_empty() {
        return Ok(Vec::new());
    }
    let wanted: Vec<(&str, Role)> = paths.iter().map(role_of).collect();
    let list: Vec<&str> = wanted.iter().map(|(p, _)| *p).collect();
    let probes = parse_probe(&t.run_ok(&RemoteCommand::new(probe_command(&list)))?);
    let mut problems = Vec::new();
    for (p, (path, role)) in paths.iter().zip(&wanted) {
        match probes.iter().find(|x| x.path == *path) {
            Some(probe) => problems.extend(judge(p.field, node, *role, probe)),
            None => problems.push(format!(
                "{}: {node}: could not tell what {path} is (the probe printed nothing for it)",
                p.field
            )),
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(probes)
}

/// [`check_paths`] for a connected node.
pub fn check_node(inv: &Inventory, node: &NodeHandle) -> Result<Vec<Probe>> {
    check_paths(inv, &node.name, node.transport.as_ref())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::fake::FakeTransport;

    fn probe(path: &str, found: Found) -> Probe {
        Probe {
            path: path.into(),
            found,
            resolved: path.into(),
        }
    }
    fn dir(owner: &str, empty: bool) -> Found {
        Found::Dir {
            owner: owner.into(),
            empty,
        }
    }

    #[test]
    fn ownership_rule() {
        let ok = |role, f| judge("f", "n", role, &probe("/data/x", f)).is_none();
        assert!(ok(Role::OwnDir, Found::Missing));
        assert!(ok(Role::OwnDir, dir("mysql", false)));
        assert!(!ok(Role::OwnDir, dir("root", true)));
        assert!(ok(Role::DataDir, dir("root", true)));
        assert!(!ok(Role::DataDir, dir("root", false)));
        assert!(!ok(Role::DataDir, dir("alice", true)));
        assert!(ok(Role::File, Found::Missing));
        let file = |o: &str| Found::File { owner: o.into() };
        assert!(ok(Role::File, file("mysql")));
        assert!(!ok(Role::File, file("root")));
        assert!(!ok(Role::File, dir("mysql", true)));
        assert!(!ok(Role::OwnDir, file("mysql")));
        assert!(!ok(Role::OwnDir, Found::Dangling));
        let m = judge(
            "mysql.log_error",
            "node-a",
            Role::File,
            &probe("/var/log/x.log", file("root")),
        )
        .unwrap();
        assert!(
            m.starts_with("mysql.log_error: node-a: /var/log/x.log exists and is owned by root"),
            "{m}"
        );
        // A harmless-looking path that leads into /root/.ssh.
        let p = Probe {
            path: "/data/run".into(),
            found: Found::Missing,
            resolved: "/root/.ssh/run".into(),
        };
        assert!(judge("mysql.socket", "node-a", Role::OwnDir, &p)
            .unwrap()
            .contains("symlink to /root/.ssh/run"));
    }

    fn inv(mysql: &str) -> Inventory {
        crate::inventory::parse(
            &format!(
                "cluster: t\nnodes:\n  - name: node-a\n    address: 10.0.0.11\n  - name: node-b\n    address: 10.0.0.12\n\
                 vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
                 credentials:\n  replication_password_env: X\n{mysql}"
            ),
            "inventory.yaml",
        )
        .expect("valid inventory")
    }

    /// The probe's answer for `(path, state, owner)`s.
    fn probed(entries: &[(&str, &str, &str)]) -> String {
        entries
            .iter()
            .map(|(p, s, o)| format!("{p}\t{s}\t{o}\t{p}\n"))
            .collect()
    }

    /// Issue 14: an existing file or directory that is not the server's is refused,
    /// naming the field, the node and the path; nothing is planned that would chown it.
    #[test]
    fn server_paths_refuses_what_mysql_does_not_own() {
        let t = FakeTransport::new("node-a");
        t.on(
            PROBE_MARKER,
            0,
            &probed(&[("/var/log/mysqld-a.log", "file", "root")]),
        );
        let log = inv("mysql:\n  log_error: /var/log/mysqld-a.log\n");
        let e = format!(
            "{:#}",
            super::super::paths::plan_server_paths(&log, &t, crate::os::ServiceManager::SysV)
                .unwrap_err()
        );
        assert!(
            e.contains("mysql.log_error: node-a: /var/log/mysqld-a.log exists and is owned by root, not mysql"),
            "{e}"
        );
        let t = FakeTransport::new("node-a");
        t.on(
            PROBE_MARKER,
            0,
            &probed(&[("/srv/run", "dir-empty", "root")]),
        );
        let sock = inv("mysql:\n  socket: /srv/run/mysql.sock\n");
        let e = format!(
            "{:#}",
            super::super::paths::plan_server_paths(&sock, &t, crate::os::ServiceManager::SysV)
                .unwrap_err()
        );
        assert!(
            e.contains("mysql.socket: node-a: /srv/run exists and is owned by root, not mysql"),
            "{e}"
        );
        assert!(t.commands().iter().all(|c| !c.script.contains("chown")));
    }

    /// The probe and the create commands, run by the local shell.
    #[test]
    fn probe_and_create_with_a_real_shell() {
        let tmp = tempfile::tempdir().unwrap();
        let base = tmp.path().to_str().unwrap().to_string();
        let sh = |script: &str| {
            std::process::Command::new("sh")
                .arg("-c")
                .arg(script)
                .output()
                .unwrap()
        };
        std::fs::create_dir(tmp.path().join("full")).unwrap();
        std::fs::write(tmp.path().join("full/f"), "x").unwrap();
        std::fs::create_dir(tmp.path().join("empty")).unwrap();
        std::os::unix::fs::symlink("/nonexistent/x", tmp.path().join("dangling")).unwrap();
        std::os::unix::fs::symlink("/etc", tmp.path().join("to-etc")).unwrap();
        let paths: Vec<String> = ["missing", "full", "empty", "full/f", "dangling", "to-etc/x"]
            .iter()
            .map(|p| format!("{base}/{p}"))
            .collect();
        let refs: Vec<&str> = paths.iter().map(String::as_str).collect();
        let out = sh(&probe_command(&refs));
        let probes = parse_probe(&String::from_utf8_lossy(&out.stdout));
        let states: Vec<String> = probes
            .iter()
            .map(|p| match &p.found {
                Found::Missing => "missing".into(),
                Found::Dangling => "dangling".into(),
                Found::Dir { empty, .. } => format!("dir empty={empty}"),
                Found::File { .. } => "file".into(),
                Found::Other { .. } => "other".into(),
            })
            .collect();
        assert_eq!(
            states,
            [
                "missing",
                "dir empty=false",
                "dir empty=true",
                "file",
                "dangling",
                "missing"
            ]
        );
        assert_eq!(probes[5].resolved, "/etc/x");
        // Create-only: a second create fails and leaves the first alone.
        let file = format!("{base}/new.log");
        let create = create_file_command(&file).replace("chown mysql:mysql", "true");
        assert!(sh(&create).status.success());
        std::fs::write(&file, "kept").unwrap();
        assert!(!sh(&create).status.success());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "kept");
        let d = format!("{base}/a/b");
        let create = create_dir_command(&d, "750").replace("chown mysql:mysql", "true");
        assert!(sh(&create).status.success(), "{create}");
        assert!(!sh(&create).status.success());
    }
}
