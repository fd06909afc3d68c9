//! One lab node: an overlay root over the base image, started in its own PID, mount and
//! UTS namespaces inside its network namespace, with sshd as its first process.
//!
//! Every mount a node needs (the overlay, /proc, /sys, /dev, /run) is made *inside* the
//! node's private mount namespace, so nothing is mounted on the host: when the node's
//! PID 1 dies, the kernel tears the mounts down with the namespace.

use super::host;
use super::network::{netns_exists, netns_pids, LabNetwork};
use anyhow::{bail, Context, Result};
use std::fs;
use std::net::{SocketAddr, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Runs as the node's PID 1 (on the host's filesystem, before the chroot): mounts the
/// node's root and the kernel filesystems in the node's own mount namespace, then
/// becomes sshd inside the root. Arguments: node directory, base image, hostname.
const BOOT_SCRIPT: &str = r#"#!/bin/sh
# mhactl lab node boot: PID 1 of the node's PID namespace, in its own mount namespace.
set -eu
node_dir=$1 base=$2 name=$3
root=$node_dir/root
mount -t overlay overlay -o "lowerdir=$base,upperdir=$node_dir/upper,workdir=$node_dir/work" "$root"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/dev/shm"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount -t tmpfs -o mode=755 tmpfs "$root/run"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
hostname "$name"
mkdir -p "$root/run/sshd" "$root/run/lock"
exec chroot "$root" /usr/sbin/sshd -D -e
"#;

/// MariaDB 11 flavor only: what systemd, had it been PID 1, would have done for sid's
/// mariadb-server and the daemonless `systemctl` does not. apt runs this hook after dpkg:
/// - the packaged unit's `ExecStartPost=!/etc/mysql/debian-start` (`!`: full privileges)
///   is refused by the daemonless systemctl ("Exec is not an absolute path"): a copy of
///   the unit without the prefix goes to /etc/systemd/system, which takes precedence;
/// - the runtime directory of the socket and pid file (`/run/mariadbd` in 11.x) comes
///   from the package's tmpfiles.d entry, applied by systemd-tmpfiles at boot and at
///   package installation: the hook creates the `d` lines' directories.
const MARIADB11_SYSTEMD_HOOK: &str = r##"#!/bin/sh
# mhactl lab (flavor mariadb11): what systemd would do for mariadb-server, see docs/lab.md.
set -eu
unit=/usr/lib/systemd/system/mariadb.service
[ -e "$unit" ] || exit 0
if [ ! -e /etc/systemd/system/mariadb.service ]; then
    mkdir -p /etc/systemd/system
    { echo "# mhactl lab: $unit without the '!' prefix the daemonless systemctl refuses."
      sed 's/^\(Exec[A-Za-z]*=\)[!+]*/\1/' "$unit"; } > /etc/systemd/system/mariadb.service
fi
for conf in /usr/lib/tmpfiles.d/mariadb.conf; do
    [ -e "$conf" ] || continue
    awk '$1 == "d" { print $2, $3, $4, $5 }' "$conf" | while read -r path mode user group; do
        [ -d "$path" ] || install -d -m "$mode" -o "$user" -g "$group" "$path"
    done
done
"##;

/// MySQL flavor only: make the node's Debian `mysql-server` behave like the MySQL RPMs
/// on EL, whose first start (`mysqld_pre_systemd`) initializes an empty datadir with
/// `mysqld --initialize` (a random, *expired* root password in the error log) and an
/// init file installing the validate_password component (policy MEDIUM). Debian's
/// postinst instead runs `--initialize-insecure` with root on `auth_socket`, which would
/// hide the path most EL users meet. apt runs this hook after dpkg: once mysql-server is
/// configured (its `debian-5.7.flag` exists) and the server is not running, it replaces
/// Debian's datadir by an RPM-style one, once. The server is not started (neither
/// package starts it on a node without systemd as PID 1): bootstrap does.
const RPM_FIRST_START_HOOK: &str = r#"#!/bin/sh
# mhactl lab (flavor mysql): the MySQL RPMs' first-start initialization, see docs/lab.md.
set -eu
done=/var/lib/mhactl-lab/rpm-first-start.done
[ -e "$done" ] && exit 0
[ -e /var/lib/mysql/debian-5.7.flag ] || exit 0
pgrep -x mysqld >/dev/null 2>&1 && exit 0
mkdir -p /var/lib/mhactl-lab
find /var/lib/mysql -mindepth 1 -delete
/usr/sbin/mysqld --initialize --user=mysql >/dev/null 2>&1
# The RPMs install validate_password with an init file; in 9.x that must run on a
# started (not an initializing) server: a private, network-less start that shuts down.
init=$(mktemp /var/lib/mysql-files/install-validate-password.XXXXXX.sql)
printf "SET @@SESSION.SQL_LOG_BIN=0;\nINSTALL COMPONENT 'file://component_validate_password';\nSHUTDOWN;\n" > "$init"
chown mysql:mysql "$init"
/usr/sbin/mysqld --user=mysql --init-file="$init" --skip-networking --mysqlx=OFF --skip-log-bin \
    --socket=/var/lib/mysql-files/init.sock --pid-file=/var/lib/mysql-files/init.pid >/dev/null 2>&1
rm -f "$init"
touch "$done"
"#;

/// The package's keepalived unit with `Type=simple` (see [`prepare`]).
const KEEPALIVED_LAB_UNIT: &str =
    "# mhactl lab: the keepalived package's unit with Type=simple instead of notify:\n\
# keepalived notifies only a real systemd, and the lab's systemctl is daemonless.\n\
[Unit]\n\
Description=Keepalive Daemon (LVS and VRRP)\n\
After=network-online.target\n\
ConditionFileNotEmpty=/etc/keepalived/keepalived.conf\n\
\n\
[Service]\n\
Type=simple\n\
EnvironmentFile=-/etc/default/keepalived\n\
ExecStart=/usr/sbin/keepalived --dont-fork $DAEMON_ARGS\n\
ExecReload=/bin/kill -HUP $MAINPID\n\
\n\
[Install]\n\
WantedBy=multi-user.target\n";

/// Paths of one node's files in the lab directory.
#[derive(Debug, Clone)]
pub struct NodeDirs {
    /// `DIR/nodes/NAME`
    pub dir: PathBuf,
}

impl NodeDirs {
    /// Directories for node `name` under the lab directory.
    pub fn new(lab_dir: &Path, name: &str) -> NodeDirs {
        NodeDirs {
            dir: lab_dir.join("nodes").join(name),
        }
    }
    /// The overlay's writable layer: everything the node changes lands here.
    pub fn upper(&self) -> PathBuf {
        self.dir.join("upper")
    }
    /// The node's console (sshd's log).
    pub fn console(&self) -> PathBuf {
        self.dir.join("console.log")
    }
    /// The node's public host key (for known_hosts).
    pub fn host_public_key(&self) -> PathBuf {
        self.upper().join("etc/ssh/ssh_host_ed25519_key.pub")
    }
}

/// Prepare a node's directories: overlay layers, its own host key, root's authorized key
/// and /etc/hosts naming both nodes. Returns the node's public host key line.
pub fn prepare(
    dirs: &NodeDirs,
    name: &str,
    authorized_key: &str,
    hosts: &str,
    flavor: super::LabFlavor,
) -> Result<String> {
    if dirs.dir.exists() {
        fs::remove_dir_all(&dirs.dir)
            .with_context(|| format!("cannot clear {}", dirs.dir.display()))?;
    }
    for sub in ["upper", "work", "root"] {
        fs::create_dir_all(dirs.dir.join(sub))?;
    }
    let upper = dirs.upper();
    fs::create_dir_all(upper.join("etc/ssh"))?;
    let key = upper.join("etc/ssh/ssh_host_ed25519_key");
    host::ssh_keygen(&key, &format!("root@{name}"))?;
    let ssh_dir = upper.join("root/.ssh");
    fs::create_dir_all(&ssh_dir)?;
    fs::set_permissions(upper.join("root"), fs::Permissions::from_mode(0o700))?;
    fs::set_permissions(&ssh_dir, fs::Permissions::from_mode(0o700))?;
    let auth = ssh_dir.join("authorized_keys");
    fs::write(&auth, authorized_key)?;
    fs::set_permissions(&auth, fs::Permissions::from_mode(0o600))?;
    fs::write(upper.join("etc/hostname"), format!("{name}\n"))?;
    fs::write(upper.join("etc/hosts"), hosts)?;
    if flavor == super::LabFlavor::Mysql {
        let hook = upper.join("usr/local/sbin/mhactl-lab-rpm-first-start");
        fs::create_dir_all(upper.join("usr/local/sbin"))?;
        fs::write(&hook, RPM_FIRST_START_HOOK)?;
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755))?;
        fs::create_dir_all(upper.join("etc/apt/apt.conf.d"))?;
        fs::write(
            upper.join("etc/apt/apt.conf.d/99mhactl-lab-rpm-first-start"),
            "// mhactl lab: MySQL's first start the RPM way (see /usr/local/sbin/mhactl-lab-rpm-first-start)\n\
             DPkg::Post-Invoke { \"/usr/local/sbin/mhactl-lab-rpm-first-start\"; };\n",
        )?;
    }
    if flavor == super::LabFlavor::Mariadb11 {
        let hook = upper.join("usr/local/sbin/mhactl-lab-mariadb-systemd");
        fs::create_dir_all(upper.join("usr/local/sbin"))?;
        fs::write(&hook, MARIADB11_SYSTEMD_HOOK)?;
        fs::set_permissions(&hook, fs::Permissions::from_mode(0o755))?;
        fs::create_dir_all(upper.join("etc/apt/apt.conf.d"))?;
        fs::write(
            upper.join("etc/apt/apt.conf.d/99mhactl-lab-mariadb-systemd"),
            "// mhactl lab: what systemd would do for mariadb-server (see /usr/local/sbin/mhactl-lab-mariadb-systemd)\n\
             DPkg::Post-Invoke { \"/usr/local/sbin/mhactl-lab-mariadb-systemd\"; };\n",
        )?;
    }
    if flavor.uses_systemctl() {
        // keepalived's unit is Type=notify, but keepalived only notifies when its parent
        // is systemd itself: under the daemonless systemctl (which ignores drop-ins),
        // `start` would wait for the notification until its timeout (90 s, twice). A
        // lab-only unit in /etc/systemd/system, which takes precedence over the package's.
        fs::create_dir_all(upper.join("etc/systemd/system"))?;
        fs::write(
            upper.join("etc/systemd/system/keepalived.service"),
            KEEPALIVED_LAB_UNIT,
        )?;
    }
    let public = fs::read_to_string(dirs.host_public_key())?;
    Ok(public
        .split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" "))
}

/// Write the boot script into the lab directory (it runs from the host's filesystem).
pub fn write_boot_script(lab_dir: &Path) -> Result<PathBuf> {
    let path = lab_dir.join("boot.sh");
    fs::write(&path, BOOT_SCRIPT)?;
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755))?;
    Ok(path)
}

/// Start the node: `ip netns exec NS unshare --pid --fork --mount --uts ... boot.sh`,
/// detached in its own process group so that Ctrl-C on `lab up` does not kill it.
pub fn start(
    net: &LabNetwork,
    name: &str,
    dirs: &NodeDirs,
    boot: &Path,
    base: &Path,
) -> Result<Child> {
    let console = fs::File::create(dirs.console())?;
    let child = Command::new("ip")
        .args(["netns", "exec", &net.netns(name)])
        .args([
            "unshare",
            "--pid",
            "--fork",
            "--kill-child",
            "--mount",
            "--uts",
        ])
        .args(["--propagation", "private"])
        .arg(boot)
        .arg(&dirs.dir)
        .arg(base)
        .arg(name)
        .stdin(Stdio::null())
        .stdout(console.try_clone()?)
        .stderr(console)
        .process_group(0)
        .spawn()
        .with_context(|| format!("cannot start node {name}"))?;
    Ok(child)
}

/// How long a node gets to start sshd. Booting takes well under a second on an idle
/// machine; the margin is for CI machines busy compiling.
const SSHD_START_TIMEOUT: Duration = Duration::from_secs(90);

/// Wait until the node's sshd accepts TCP connections.
///
/// Whether the node is still alive is judged by its own process (`node`, as returned by
/// [`start`]), not by the processes in its network namespace: right after the spawn,
/// `ip netns exec` may not have entered the namespace yet, and an empty namespace then
/// looked like a dead node (a flake seen under load).
pub fn wait_for_ssh(
    net: &LabNetwork,
    index: usize,
    name: &str,
    dirs: &NodeDirs,
    node: &mut Child,
) -> Result<()> {
    let addr = SocketAddr::from((net.node_address(index), 22));
    let deadline = Instant::now() + SSHD_START_TIMEOUT;
    let mut exited = None;
    while Instant::now() < deadline {
        if TcpStream::connect_timeout(&addr, Duration::from_millis(300)).is_ok() {
            return Ok(());
        }
        if let Ok(Some(status)) = node.try_wait() {
            exited = Some(status);
            break; // the node died: no point in waiting
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let console = fs::read_to_string(dirs.console()).unwrap_or_default();
    let what = match exited {
        Some(status) => format!("node {name} stopped ({status}) before sshd listened on {addr}"),
        None => format!(
            "node {name} did not start sshd on {addr} within {} s",
            SSHD_START_TIMEOUT.as_secs()
        ),
    };
    bail!(
        "{what}; its console ({}) says:\n{}",
        dirs.console().display(),
        console.trim()
    )
}

/// Stop every process of the node (killing PID 1 of its PID namespace ends them all)
/// and wait until the namespace is empty.
pub fn stop(net: &LabNetwork, name: &str) -> Result<()> {
    let ns = net.netns(name);
    if !netns_exists(&ns) {
        return Ok(());
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let pids = netns_pids(&ns);
        if pids.is_empty() {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("processes {pids:?} of node {name} did not exit");
        }
        for pid in pids {
            host::run_quiet("kill", &["-KILL", &pid.to_string()]);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
