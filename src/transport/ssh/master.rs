//! The ssh master connection (ControlMaster) of one node, and its reuse across runs
//! (issue 21), as Ansible does it (`ControlMaster=auto`, `ControlPersist=60s`, sockets
//! in `~/.ansible/cp`).
//!
//! With `ssh.persist_s` above 0 (the default, 60), a master is left running after the
//! run for that many idle seconds, its control socket under `~/.mhactl/cp/HASH/`, where
//! HASH names everything the master was launched with (user, host, port, config file,
//! key, known_hosts file, host-key policy, connect timeout, idle time): the next run with
//! the same settings finds it there, checks that it answers, and skips the TCP
//! connection, the key exchange and the authentication (about 6 round trips per node).
//! A master launched with other settings is never reused (another HASH), and a socket
//! whose master is gone is removed and a new master launched. `persist_s: 0` is the
//! behaviour before: a master in the run's private directory, ended with the run.
//!
//! Host keys: a reused master does not check the host key again; it still talks to the
//! host whose key it checked when it connected (the connection's keys are bound to it),
//! and it ends at most `persist_s` seconds after the last run used it, so a host whose
//! key changed meets the strict check again by then. A changed `known_hosts` path or
//! policy in the inventory launches a new master at once (another HASH).
//!
//! A persisted master is a process on the control host, not something mhactl injected on
//! a node: SIGINT/SIGTERM leave it (it ends by itself when idle); `lab down` ends the
//! lab's masters ([`close_masters_using`]).

use crate::inventory::{HostKeyCheck, ResolvedSsh};
use anyhow::{bail, Context, Result};
use openssh::{KnownHosts, Session, SessionBuilder};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The longest control socket path this module makes: the kernel's limit for a unix
/// socket path is 108 bytes, and ssh binds a temporary name first (the path plus a dot
/// and 16 characters), then renames it.
const MAX_SOCKET_PATH: usize = 108 - 18;

/// The name of the directory the `openssh` crate makes for each master (then random
/// characters), holding its socket `master` and its log `log`.
const MASTER_DIR_PREFIX: &str = ".ssh-connection";

/// How a node's master was opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opened {
    /// A new master, ended with the run (`persist_s: 0`, or no usable control directory).
    ForThisRun,
    /// A new master, left running for the next run.
    Launched,
    /// A live master an earlier run left.
    Reused,
}

impl Opened {
    /// For the counters (`MHACTL_STATS_FILE`'s `ssh_master`).
    pub fn name(self) -> &'static str {
        match self {
            Opened::ForThisRun => "this-run",
            Opened::Launched => "launched",
            Opened::Reused => "reused",
        }
    }

    /// For messages.
    pub fn describe(self) -> &'static str {
        match self {
            Opened::ForThisRun => "new connection",
            Opened::Launched => "new connection, kept for the next run",
            Opened::Reused => "connection reused",
        }
    }
}

/// The ssh master's settings: only what the inventory sets, so the user's ssh config
/// (`User`, `Port`, `IdentityFile`, `ProxyJump`, ...) applies to everything else. Two
/// settings are always given: strict host-key checking (unless `accept-new`) and a
/// connect timeout, mhactl's safe defaults.
pub fn session_builder(ssh: &ResolvedSsh, control_dir: &Path) -> SessionBuilder {
    let mut builder = SessionBuilder::default();
    if let Some(user) = &ssh.user {
        builder.user(user.clone());
    }
    if let Some(port) = ssh.port {
        builder.port(port);
    }
    if let Some(config) = &ssh.config_file {
        builder.config_file(config);
    }
    // A master for this run only outlives mhactl briefly if mhactl is killed (the
    // default, Forever, would leave one ssh process per node behind).
    let idle = ssh.persist.as_secs().max(10) as usize;
    builder
        .connect_timeout(ssh.connect_timeout)
        .server_alive_interval(Duration::from_secs(5))
        .control_directory(control_dir)
        .control_persist(openssh::ControlPersist::IdleFor(
            std::num::NonZeroUsize::new(idle).expect("at least 10"),
        ))
        .known_hosts_check(match ssh.host_key_check {
            HostKeyCheck::Strict => KnownHosts::Strict,
            HostKeyCheck::AcceptNew => KnownHosts::Add,
        });
    if let Some(key) = &ssh.identity_file {
        builder.keyfile(key);
    }
    if let Some(known) = &ssh.known_hosts {
        builder.user_known_hosts_file(known);
    }
    builder
}

/// What names a master: every setting it was launched with. Two runs share a master
/// only when all of these are equal.
pub fn settings_hash(ssh: &ResolvedSsh) -> String {
    let path = |p: &Option<PathBuf>| {
        p.as_ref()
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let fields = [
        "mhactl-master-v1".to_string(),
        ssh.host.clone(),
        ssh.user.clone().unwrap_or_default(),
        ssh.port.map(|p| p.to_string()).unwrap_or_default(),
        path(&ssh.config_file),
        path(&ssh.identity_file),
        path(&ssh.known_hosts),
        format!("{:?}", ssh.host_key_check),
        ssh.connect_timeout.as_secs().to_string(),
        ssh.persist.as_secs().to_string(),
    ];
    let mut h = Sha256::new();
    for f in &fields {
        // Length-prefixed: no two lists of fields hash the same text.
        h.update((f.len() as u64).to_le_bytes());
        h.update(f.as_bytes());
    }
    h.finalize()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `~/.mhactl/cp`: where persisted masters' sockets live, like Ansible's `~/.ansible/cp`.
/// `None` without a `$HOME`.
pub fn control_base() -> Option<PathBuf> {
    let home = std::env::var_os("HOME").filter(|h| !h.is_empty())?;
    Some(PathBuf::from(home).join(".mhactl").join("cp"))
}

/// Create `dir` (mode 0700) if missing, and refuse it unless it is a directory (not a
/// link) owned by this user that no one else can enter: the sockets in it are live
/// logins to the nodes.
pub fn private_dir(dir: &Path) -> Result<()> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let meta =
        std::fs::symlink_metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    // /proc/self belongs to the process's effective user.
    let me = std::fs::metadata("/proc/self")
        .map(|m| m.uid())
        .context("cannot read /proc/self")?;
    if !meta.is_dir() {
        bail!(
            "{} is not a directory (a link or a file): mhactl keeps its ssh connections' \
             sockets there; remove it, or set ssh.persist_s: 0",
            dir.display()
        );
    }
    if meta.uid() != me {
        bail!(
            "{} belongs to uid {}, not to you (uid {me}): mhactl keeps its ssh connections' \
             sockets there and uses only a directory of its own; remove it, or set ssh.persist_s: 0",
            dir.display(),
            meta.uid()
        );
    }
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        bail!(
            "{} has mode {mode:04o}: others could reach the ssh connections whose sockets are \
             there; `chmod 700 {}`, or set ssh.persist_s: 0",
            dir.display(),
            dir.display()
        );
    }
    Ok(())
}

/// Where the master for `ssh` lives when persisted: `BASE/HASH`, or `None` when the
/// socket path would be too long for the kernel (then the master is for this run only).
pub fn persisted_dir(base: &Path, ssh: &ResolvedSsh) -> Option<PathBuf> {
    let dir = base.join(settings_hash(ssh));
    // BASE/HASH/.ssh-connectionXXXXXX/master
    let socket_len = dir.as_os_str().len() + 1 + MASTER_DIR_PREFIX.len() + 6 + "/master".len();
    (socket_len <= MAX_SOCKET_PATH).then_some(dir)
}

/// A live master in `dir` (the newest that answers), if any. On the way, the
/// directories of dead masters (a socket nothing answers on: the master crashed, lost
/// its connection or idled out) are removed; a directory without a socket yet is left
/// while it is young (another run may be launching a master into it).
async fn live_master(dir: &Path) -> Option<Session> {
    let age = |p: &Path| {
        std::fs::metadata(p)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .unwrap_or(Duration::MAX)
    };
    let mut found: Vec<(Duration, PathBuf)> = std::fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .starts_with(MASTER_DIR_PREFIX)
        })
        .map(|e| (age(&e.path()), e.path()))
        .collect();
    found.sort();
    let mut live = None;
    for (age, entry) in found {
        let socket = entry.join("master");
        if !socket.exists() {
            if age > Duration::from_secs(60) {
                let _ = std::fs::remove_dir_all(&entry);
            }
            continue;
        }
        if live.is_some() {
            // Another live one (two runs launched at once): it idles out by itself.
            continue;
        }
        let session = Session::resume_mux(
            socket.into_boxed_path(),
            Some(entry.join("log").into_boxed_path()),
        );
        match session.check().await {
            Ok(()) => live = Some(session),
            Err(e) => {
                tracing::debug!(dir = %entry.display(), "removing a dead ssh master: {e}");
                let _ = std::fs::remove_dir_all(&entry);
            }
        }
    }
    live
}

/// Open the master for `ssh`: reuse a live persisted one, or launch one (persisted when
/// `ssh.persist` is above 0 and `~/.mhactl/cp` is usable, else in `run_dir`, ended with
/// the run).
pub async fn open(ssh: &ResolvedSsh, run_dir: &Path) -> Result<(Session, Opened), openssh::Error> {
    let persisted = match (ssh.persist.is_zero(), control_base()) {
        (false, Some(base)) => persisted_dir(&base, ssh),
        _ => None,
    };
    let Some(dir) = persisted else {
        let session = session_builder(ssh, run_dir)
            .connect_mux(ssh.host.clone())
            .await?;
        return Ok((session, Opened::ForThisRun));
    };
    if let Some(base) = dir.parent() {
        if let Err(e) = private_dir(base).and_then(|()| private_dir(&dir)) {
            return Err(openssh::Error::Master(std::io::Error::other(format!(
                "{e:#}"
            ))));
        }
    }
    let _ = std::fs::write(dir.join(SETTINGS_FILE), describe_settings(ssh));
    if let Some(session) = live_master(&dir).await {
        return Ok((session, Opened::Reused));
    }
    let session = session_builder(ssh, &dir)
        .connect_mux(ssh.host.clone())
        .await?;
    // Detached, the session no longer ends the master when dropped; resumed, it talks
    // to it as before.
    let (socket, log) = session.detach();
    Ok((Session::resume_mux(socket, log), Opened::Launched))
}

/// The file in `BASE/HASH` saying what the masters there reach and with which files
/// (no secret: the host, the port and paths), so that `lab down` can end the masters
/// that use a lab's key or known_hosts, whatever inventory launched them.
const SETTINGS_FILE: &str = "settings";

fn describe_settings(ssh: &ResolvedSsh) -> String {
    let path = |p: &Option<PathBuf>| {
        p.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    };
    format!(
        "host: {}\nport: {}\nuser: {}\nconfig_file: {}\nidentity_file: {}\nknown_hosts: {}\n",
        ssh.host,
        ssh.port.map(|p| p.to_string()).unwrap_or_default(),
        ssh.user.clone().unwrap_or_default(),
        path(&ssh.config_file),
        path(&ssh.identity_file),
        path(&ssh.known_hosts),
    )
}

/// End every persisted master whose settings name a file under `dir` (`lab down`,
/// before its nodes go: a lab's key and known_hosts are in its directory), and wait
/// (a few seconds at most) for each to exit. Returns how many were ended. Best effort.
pub async fn close_masters_using(dir: &Path) -> usize {
    let Some(base) = control_base() else {
        return 0;
    };
    let Ok(hashes) = std::fs::read_dir(&base) else {
        return 0;
    };
    let needle = dir.display().to_string();
    let mut ended = 0;
    for hash in hashes.flatten() {
        let settings = std::fs::read_to_string(hash.path().join(SETTINGS_FILE)).unwrap_or_default();
        if !settings.lines().any(|l| l.contains(&needle)) {
            continue;
        }
        for entry in std::fs::read_dir(hash.path())
            .into_iter()
            .flatten()
            .flatten()
        {
            let socket = entry.path().join("master");
            if socket.exists() {
                let pid = master_pid(&socket);
                // `ssh -O stop`: the master stops listening and exits, having no session.
                let _ = Session::resume_mux(socket.clone().into_boxed_path(), None)
                    .close()
                    .await;
                if let Some(pid) = pid {
                    let proc_dir = PathBuf::from(format!("/proc/{pid}"));
                    for _ in 0..80 {
                        if !proc_dir.exists() {
                            break;
                        }
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
                ended += 1;
            }
            if entry.file_type().is_ok_and(|t| t.is_dir()) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let _ = std::fs::remove_dir_all(hash.path());
    }
    ended
}

/// The process id of the ssh master listening on `socket`: the `ssh` whose command
/// line names it (`-S SOCKET`).
fn master_pid(socket: &Path) -> Option<u32> {
    let want = socket.as_os_str().as_encoded_bytes();
    std::fs::read_dir("/proc").ok()?.flatten().find_map(|e| {
        let pid: u32 = e.file_name().to_str()?.parse().ok()?;
        let cmdline = std::fs::read(e.path().join("cmdline")).ok()?;
        cmdline
            .split(|&b| b == 0)
            .any(|arg| arg == want)
            .then_some(pid)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ssh() -> ResolvedSsh {
        ResolvedSsh {
            host: "10.0.0.11".into(),
            user: Some("root".into()),
            port: None,
            config_file: None,
            identity_file: Some("/home/dba/keys/id".into()),
            known_hosts: None,
            host_key_check: HostKeyCheck::Strict,
            connect_timeout: Duration::from_secs(10),
            persist: Duration::from_secs(60),
        }
    }

    #[test]
    fn a_master_launched_with_other_settings_has_another_name() {
        let base = settings_hash(&ssh());
        assert_eq!(base.len(), 16);
        assert_eq!(base, settings_hash(&ssh()), "stable");
        let mut others = Vec::new();
        let mut s = ssh();
        s.host_key_check = HostKeyCheck::AcceptNew;
        others.push(s);
        let mut s = ssh();
        s.known_hosts = Some("/tmp/kh".into());
        others.push(s);
        let mut s = ssh();
        s.port = Some(22);
        others.push(s);
        let mut s = ssh();
        s.user = None;
        others.push(s);
        let mut s = ssh();
        s.persist = Duration::from_secs(61);
        others.push(s);
        let mut s = ssh();
        s.identity_file = None;
        s.config_file = Some("/home/dba/keys/id".into());
        others.push(s);
        for o in others {
            assert_ne!(settings_hash(&o), base, "{o:?}");
        }
    }

    #[test]
    fn the_socket_directory_must_be_private_and_the_path_short() {
        use std::os::unix::fs::PermissionsExt;
        let tmp = tempfile::tempdir().unwrap();
        let cp = tmp.path().join("a").join("cp");
        private_dir(&cp).unwrap();
        let mode = std::fs::metadata(&cp).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        std::fs::set_permissions(&cp, std::fs::Permissions::from_mode(0o755)).unwrap();
        let e = format!("{:#}", private_dir(&cp).unwrap_err());
        assert!(e.contains("mode 0755") && e.contains("chmod 700"), "{e}");
        let link = tmp.path().join("link");
        std::os::unix::fs::symlink(&cp, &link).unwrap();
        let e = format!("{:#}", private_dir(&link).unwrap_err());
        assert!(e.contains("not a directory"), "{e}");

        let short = persisted_dir(Path::new("/root/.mhactl/cp"), &ssh()).unwrap();
        assert!(short.starts_with("/root/.mhactl/cp/"));
        let long = format!("/home/{}/.mhactl/cp", "u".repeat(60));
        assert_eq!(persisted_dir(Path::new(&long), &ssh()), None);
    }
}
