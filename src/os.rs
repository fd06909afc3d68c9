//! What differs between OS families (EL7 yum, EL8/9 dnf, Debian/Ubuntu apt; systemd or SysV).
//!
//! This module is the one place that knows OS families: how to recognise one from
//! `/etc/os-release`, which package manager and service manager it uses, what the
//! server packages and services are called, and where files go. Everything is pure:
//! it builds shell commands (for `sh -c` on the node, as root, non-interactive) and
//! parses their output; it never runs anything.

pub mod option_files;

use crate::inventory::Flavor;
use anyhow::{bail, Result};
use std::collections::BTreeMap;

pub mod addresses;
pub mod error_log;
pub mod keepalived;
pub mod mysql_platform;

/// A family of Linux distributions that mhactl handles the same way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OsFamily {
    /// Debian and derivatives that are not Ubuntu (apt).
    Debian,
    /// Ubuntu and its derivatives (apt).
    Ubuntu,
    /// RHEL/CentOS 7 and clones, Amazon Linux 2 (yum).
    El7,
    /// RHEL 8 and clones (dnf).
    El8,
    /// RHEL 9 and later, clones, Fedora, Amazon Linux 2023 (dnf).
    El9,
    /// Anything else: mhactl refuses to guess.
    Unknown,
}

impl OsFamily {
    /// True for the Debian and Ubuntu families.
    pub fn is_debian_like(self) -> bool {
        matches!(self, OsFamily::Debian | OsFamily::Ubuntu)
    }

    /// True for the Enterprise Linux families.
    pub fn is_el(self) -> bool {
        matches!(self, OsFamily::El7 | OsFamily::El8 | OsFamily::El9)
    }
}

/// What `/etc/os-release` says about a node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsInfo {
    /// The family mhactl derives from `ID`, `ID_LIKE` and `VERSION_ID`.
    pub family: OsFamily,
    /// `ID` (e.g. `debian`, `rocky`).
    pub id: String,
    /// `VERSION_ID` (e.g. `12`, `8.9`); empty when absent (Debian sid).
    pub version_id: String,
    /// `PRETTY_NAME`, for messages.
    pub pretty_name: String,
}

/// Parser for `/etc/os-release` (see os-release(5)).
#[derive(Debug, Clone, Copy)]
pub struct OsRelease;

impl OsRelease {
    /// Parses the text of `/etc/os-release`. Never fails: unrecognised systems get
    /// [`OsFamily::Unknown`].
    pub fn parse(text: &str) -> OsInfo {
        let vars = parse_os_release_vars(text);
        let get = |k: &str| vars.get(k).cloned().unwrap_or_default();
        let id = get("ID").to_ascii_lowercase();
        let id_like: Vec<String> = get("ID_LIKE")
            .split_whitespace()
            .map(str::to_ascii_lowercase)
            .collect();
        let version_id = get("VERSION_ID");
        let pretty_name = match get("PRETTY_NAME") {
            p if p.is_empty() => get("NAME"),
            p => p,
        };
        let family = family_of(&id, &id_like, &version_id);
        OsInfo {
            family,
            id,
            version_id,
            pretty_name,
        }
    }
}

fn family_of(id: &str, id_like: &[String], version_id: &str) -> OsFamily {
    let like = |name: &str| id == name || id_like.iter().any(|l| l == name);
    let major: Option<u32> = version_id
        .split('.')
        .next()
        .and_then(|m| m.trim().parse().ok());
    if id == "ubuntu" || (id != "debian" && like("ubuntu")) {
        return OsFamily::Ubuntu;
    }
    if like("debian") {
        return OsFamily::Debian;
    }
    if id == "amzn" {
        return match version_id {
            "2" => OsFamily::El7,
            _ if major.is_some_and(|m| m >= 2022) => OsFamily::El9,
            _ => OsFamily::Unknown,
        };
    }
    if id == "fedora" {
        return OsFamily::El9;
    }
    let el_ids = ["rhel", "centos", "rocky", "almalinux", "ol", "fedora"];
    if el_ids.iter().any(|n| like(n)) {
        return match major {
            Some(7) => OsFamily::El7,
            Some(8) => OsFamily::El8,
            Some(m) if m >= 9 => OsFamily::El9,
            _ => OsFamily::Unknown,
        };
    }
    OsFamily::Unknown
}

/// `KEY=value` pairs of an os-release file, with shell quoting removed.
fn parse_os_release_vars(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim();
        let unquoted = if v.len() >= 2
            && ((v.starts_with('"') && v.ends_with('"'))
                || (v.starts_with('\'') && v.ends_with('\'')))
        {
            let inner = &v[1..v.len() - 1];
            if v.starts_with('"') {
                unescape_double_quoted(inner)
            } else {
                inner.to_string()
            }
        } else {
            v.to_string()
        };
        out.insert(k.trim().to_string(), unquoted);
    }
    out
}

fn unescape_double_quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

pub use crate::transport::shell_quote as sh_quote;

fn sh_words(words: &[&str]) -> String {
    words
        .iter()
        .map(|w| sh_quote(w))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The package manager of an OS family.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PackageManager {
    /// Debian/Ubuntu `apt-get` and `dpkg-query`.
    Apt,
    /// EL7 `yum` and `rpm`.
    Yum,
    /// EL8+ `dnf` and `rpm`.
    Dnf,
}

impl PackageManager {
    /// The package manager for a family (`None` for [`OsFamily::Unknown`]).
    pub fn for_family(family: OsFamily) -> Option<Self> {
        match family {
            OsFamily::Debian | OsFamily::Ubuntu => Some(PackageManager::Apt),
            OsFamily::El7 => Some(PackageManager::Yum),
            OsFamily::El8 | OsFamily::El9 => Some(PackageManager::Dnf),
            OsFamily::Unknown => None,
        }
    }

    /// Refreshes the package index.
    pub fn refresh_command(self) -> String {
        match self {
            // Waits for another apt (e.g. unattended-upgrades, or a run of ours that was
            // interrupted but whose apt still finishes on the node) instead of failing.
            PackageManager::Apt => "apt-get -o DPkg::Lock::Timeout=300 update -q".into(),
            PackageManager::Yum => "yum -y -q makecache".into(),
            PackageManager::Dnf => "dnf -y -q makecache".into(),
        }
    }

    /// Installs packages without prompts.
    pub fn install_command(self, pkgs: &[&str]) -> String {
        let pkgs = sh_words(pkgs);
        match self {
            // `dpkg --configure -a` finishes packages an interrupted install left unpacked,
            // so a re-run after an interruption converges instead of failing.
            // It waits (up to 5 minutes) while another dpkg holds the lock.
            PackageManager::Apt => format!(
                "export DEBIAN_FRONTEND=noninteractive; i=0; \
                 until out=$(dpkg --configure -a 2>&1); do \
                 case \"$out\" in *lock*) i=$((i+1)); [ $i -lt 300 ] || {{ echo \"$out\" >&2; exit 1; }}; sleep 1;; \
                 *) echo \"$out\" >&2; exit 1;; esac; done; \
                 apt-get -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends {pkgs}"
            ),
            PackageManager::Yum => format!("yum -y install {pkgs}"),
            PackageManager::Dnf => format!("dnf -y install {pkgs}"),
        }
    }

    /// Lists which of `pkgs` are installed; feed its stdout to [`Self::parse_installed`].
    /// Always exits 0 (a missing package is reported in the output, not the exit code).
    pub fn installed_query_command(self, pkgs: &[&str]) -> String {
        let pkgs = sh_words(pkgs);
        match self {
            PackageManager::Apt => {
                format!("dpkg-query -W -f='${{Package}} ${{db:Status-Status}}\\n' {pkgs} 2>/dev/null || true")
            }
            PackageManager::Yum | PackageManager::Dnf => format!("rpm -q {pkgs} || true"),
        }
    }

    /// The packages of `pkgs` that the query output shows as not installed, in `pkgs` order.
    pub fn parse_installed(self, output: &str, pkgs: &[&str]) -> Vec<String> {
        match self {
            PackageManager::Apt => {
                let installed: Vec<&str> = output
                    .lines()
                    .filter_map(|l| {
                        let mut w = l.split_whitespace();
                        let name = w.next()?;
                        (w.next() == Some("installed")).then_some(name)
                    })
                    .collect();
                pkgs.iter()
                    .filter(|p| !installed.contains(p))
                    .map(|p| p.to_string())
                    .collect()
            }
            PackageManager::Yum | PackageManager::Dnf => pkgs
                .iter()
                .filter(|p| {
                    let not_installed = format!("package {p} is not installed");
                    let prefix = format!("{p}-");
                    let installed = output.lines().map(str::trim).any(|l| {
                        l != not_installed
                            && l.strip_prefix(&prefix)
                                .is_some_and(|v| v.starts_with(|c: char| c.is_ascii_digit()))
                    });
                    !installed
                })
                .map(|p| p.to_string())
                .collect(),
        }
    }
}

/// How services are started on a node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceManager {
    /// `systemctl` works: systemd is running (PID 1), or a `systemctl` that manages
    /// units without it answers (e.g. Debian's daemonless `systemctl` package in
    /// containers). Services are unit files either way.
    Systemd,
    /// Anything else: the `service` wrapper around init scripts.
    SysV,
}

impl ServiceManager {
    /// Prints `systemd` when `systemctl` is on the PATH and works, else `sysv`. Feed its
    /// stdout to [`Self::parse_probe`].
    ///
    /// "Works" is sd_booted()'s test (`/run/systemd/system` exists) or, failing that,
    /// `systemctl list-units` succeeding: systemd's own `systemctl` refuses that when
    /// systemd is installed but not PID 1 ("System has not been booted with systemd"),
    /// so such a host stays SysV, while a daemonless `systemctl` that reads unit files
    /// answers it and is used like systemd.
    pub fn probe_command() -> String {
        "if command -v systemctl >/dev/null 2>&1 && { [ -d /run/systemd/system ] || \
         systemctl list-units >/dev/null 2>&1; }; then echo systemd; else echo sysv; fi"
            .into()
    }

    /// Interprets the output of [`Self::probe_command`].
    pub fn parse_probe(output: &str) -> Self {
        if output.trim() == "systemd" {
            ServiceManager::Systemd
        } else {
            ServiceManager::SysV
        }
    }

    fn verb(self, verb: &str, service: &str) -> String {
        let s = sh_quote(service);
        match self {
            ServiceManager::Systemd => format!("systemctl {verb} {s}"),
            ServiceManager::SysV => format!("service {s} {verb}"),
        }
    }

    /// Starts a service.
    pub fn start_command(self, service: &str) -> String {
        self.verb("start", service)
    }

    /// Stops a service.
    pub fn stop_command(self, service: &str) -> String {
        self.verb("stop", service)
    }

    /// Restarts a service.
    pub fn restart_command(self, service: &str) -> String {
        self.verb("restart", service)
    }

    /// Makes a running service re-read its configuration without stopping it
    /// (keepalived keeps its VRRP state; a stop+start would drop the VIP).
    pub fn reload_command(self, service: &str) -> String {
        self.verb("reload", service)
    }

    /// Exits 0 when the service is running (no output).
    pub fn is_active_command(self, service: &str) -> String {
        let s = sh_quote(service);
        match self {
            ServiceManager::Systemd => format!("systemctl is-active --quiet {s}"),
            // The daemon's live pid file is the best witness. Without one, ask the init
            // script, but only if it has a `status` action: Debian's keepalived script has
            // none and exits 0 for anything when its config file is missing.
            ServiceManager::SysV => format!(
                "for f in /run/{service}.pid /var/run/{service}.pid; do \
                 [ -f \"$f\" ] && kill -0 \"$(cat \"$f\")\" 2>/dev/null && exit 0; done; \
                 grep -Eq \"status'?\\)\" /etc/init.d/{s} 2>/dev/null && service {s} status >/dev/null 2>&1"
            ),
        }
    }

    /// Crashes the database server on purpose (failover-test's `kill-mysqld`): SIGKILL to
    /// exactly the server process, found from its own `pid_file` (or, with systemd, the
    /// unit's main PID), and to its `mysqld_safe` parent if it has one (which would
    /// restart it at once), and to nothing else. Refuses (exit 1, saying why) when the pid
    /// names no `mysqld`/`mariadbd` process, so a stale pid file kills nothing.
    pub fn kill_server_command(self, service: &str, pid_file: &str) -> String {
        let main_pid = match self {
            ServiceManager::Systemd => format!(
                "[ -n \"$pid\" ] || pid=$(systemctl show -p MainPID --value {} 2>/dev/null); ",
                sh_quote(service)
            ),
            ServiceManager::SysV => String::new(),
        };
        format!(
            "pid=$(cat {f} 2>/dev/null); {main_pid}\
             case \"$pid\" in ''|0|*[!0-9]*) echo \"no server pid in {f}\" >&2; exit 1;; esac; \
             comm=$(cat /proc/$pid/comm 2>/dev/null); \
             case \"$comm\" in mysqld|mariadbd) ;; *) echo \"pid $pid (from {f}) is ${{comm:-no process}}, not the server: nothing killed\" >&2; exit 1;; esac; \
             ppid=$(sed -n 's/^PPid:[[:space:]]*//p' /proc/$pid/status); \
             if [ \"${{ppid:-1}}\" -gt 1 ] && tr '\\0' ' ' < /proc/$ppid/cmdline 2>/dev/null | grep -q 'mysqld_safe'; then kill -KILL \"$ppid\"; fi; \
             kill -KILL \"$pid\"",
            f = sh_quote(pid_file)
        )
    }

    /// Creates the `RuntimeDirectory=` (under /run, with the unit's `User=`/`Group=` and
    /// `RuntimeDirectoryMode=`) of a unit when systemd is not what runs it, exactly as
    /// systemd would (it owns these directories for the unit: the one exception to the
    /// rule that mhactl never changes an owner it did not create, for a path the unit
    /// file fixes and never one from the inventory): systemd
    /// creates it at each start, a daemonless `systemctl` does not, and MySQL's unit
    /// needs `/run/mysqld` owned by mysql for its socket and pid file. A no-op on
    /// systemd-booted hosts, under SysV, and for units without a runtime directory.
    pub fn runtime_dir_command(self, service: &str) -> Option<String> {
        if self != ServiceManager::Systemd {
            return None;
        }
        let unit = sh_quote(&format!("{service}.service"));
        Some(format!(
            "[ -d /run/systemd/system ] && exit 0; \
             for d in /etc/systemd/system /run/systemd/system /usr/local/lib/systemd/system /lib/systemd/system /usr/lib/systemd/system; do \
             f=$d/{unit}; [ -f \"$f\" ] || continue; \
             dirs=$(sed -n 's/^RuntimeDirectory=//p' \"$f\" | tail -n 1); [ -n \"$dirs\" ] || exit 0; \
             user=$(sed -n 's/^User=//p' \"$f\" | tail -n 1); group=$(sed -n 's/^Group=//p' \"$f\" | tail -n 1); \
             mode=$(sed -n 's/^RuntimeDirectoryMode=//p' \"$f\" | tail -n 1); \
             for r in $dirs; do install -d -m \"${{mode:-0755}}\" -o \"${{user:-root}}\" -g \"${{group:-${{user:-root}}}}\" \"/run/$r\"; done; \
             exit 0; done"
        ))
    }

    /// Makes the service start at boot. Under SysV it uses `update-rc.d` (Debian) or
    /// `chkconfig` (EL) when present and is a no-op otherwise.
    pub fn enable_command(self, service: &str) -> String {
        let s = sh_quote(service);
        match self {
            ServiceManager::Systemd => format!("systemctl enable --quiet {s}"),
            ServiceManager::SysV => format!(
                "if command -v update-rc.d >/dev/null 2>&1; then update-rc.d {s} defaults; \
                 elif command -v chkconfig >/dev/null 2>&1; then chkconfig {s} on; fi"
            ),
        }
    }
}

/// keepalived's configuration file (same on every family).
pub const KEEPALIVED_CONF_PATH: &str = "/etc/keepalived/keepalived.conf";
/// The health-check script keepalived runs (root-owned, mode 0755, in a root-owned directory,
/// as `enable_script_security` requires).
pub const CHECK_SCRIPT_PATH: &str = "/etc/keepalived/mhactl-check-mysql.sh";
/// keepalived's service name (same on every family).
pub const KEEPALIVED_SERVICE: &str = "keepalived";

/// An OS family paired with a server flavor: package names, service names and paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OsTarget {
    /// The node's OS family (never [`OsFamily::Unknown`]).
    pub family: OsFamily,
    /// The server flavor to install and configure.
    pub flavor: Flavor,
}

impl OsTarget {
    /// A target for a known family; errors for [`OsFamily::Unknown`].
    pub fn new(family: OsFamily, flavor: Flavor) -> Result<Self> {
        if family == OsFamily::Unknown {
            bail!("unsupported operating system: mhactl knows Debian, Ubuntu and EL 7/8/9");
        }
        Ok(OsTarget { family, flavor })
    }

    /// The package manager of this family.
    pub fn package_manager(&self) -> PackageManager {
        PackageManager::for_family(self.family).unwrap_or(PackageManager::Apt)
    }

    /// Server and client packages (without keepalived).
    pub fn server_packages(&self) -> Vec<&'static str> {
        match (self.family.is_el(), self.flavor) {
            (false, Flavor::Mariadb) => vec!["mariadb-server", "mariadb-client"],
            (true, Flavor::Mariadb) => vec!["mariadb-server", "mariadb"],
            (false, Flavor::Mysql) => vec!["mysql-server", "mysql-client"],
            (true, Flavor::Mysql) => vec!["mysql-community-server", "mysql-community-client"],
        }
    }

    /// Every package a node needs: [`Self::server_packages`] plus `keepalived`.
    pub fn all_packages(&self) -> Vec<&'static str> {
        let mut p = self.server_packages();
        p.push("keepalived");
        p
    }

    /// The database server's service name.
    pub fn server_service(&self) -> &'static str {
        match (self.flavor, self.family.is_el()) {
            (Flavor::Mariadb, _) => "mariadb",
            (Flavor::Mysql, false) => "mysql",
            (Flavor::Mysql, true) => "mysqld",
        }
    }

    /// mhactl's own my.cnf drop-in, named to load after (and override) the packaged files.
    pub fn config_path(&self) -> &'static str {
        match (self.family.is_el(), self.flavor) {
            (false, Flavor::Mariadb) => "/etc/mysql/mariadb.conf.d/60-mhactl.cnf",
            (false, Flavor::Mysql) => "/etc/mysql/mysql.conf.d/zz-mhactl.cnf",
            (true, _) => "/etc/my.cnf.d/zz-mhactl.cnf",
        }
    }

    /// The packaged main option file and the line it needs to read mhactl's drop-in
    /// directory, when it lacks one: the MySQL community RPMs' `/etc/my.cnf` (unlike
    /// the EL MariaDB packages' and Debian's) includes no directory.
    pub fn config_include(&self) -> Option<(&'static str, &'static str)> {
        match (self.family.is_el(), self.flavor) {
            (true, Flavor::Mysql) => Some(("/etc/my.cnf", "!includedir /etc/my.cnf.d")),
            _ => None,
        }
    }

    /// The server's error log when the inventory sets no `mysql.log_error`: the packaged
    /// one, and on Debian's MariaDB (which logs to syslog through mysqld_safe and loses
    /// everything on a host without a syslog daemon) the path its 50-server.cnf suggests
    /// and its logrotate file rotates; mhactl always renders `log-error` (and creates
    /// that directory when the package did not: [`error_log::ensure_dir_command`]).
    /// Always `Some` (an `Option` for the callers that also take the inventory's).
    pub fn error_log_path(&self) -> Option<&'static str> {
        match (self.family.is_el(), self.flavor) {
            (true, Flavor::Mysql) => Some("/var/log/mysqld.log"),
            (true, Flavor::Mariadb) => Some("/var/log/mariadb/mariadb.log"),
            (false, Flavor::Mysql) | (false, Flavor::Mariadb) => Some("/var/log/mysql/error.log"),
        }
    }

    /// The server's default unix socket.
    pub fn socket_path(&self) -> &'static str {
        if self.family.is_el() {
            "/var/lib/mysql/mysql.sock"
        } else {
            "/run/mysqld/mysqld.sock"
        }
    }

    /// Where the packaged default socket lives in newer releases of the same packages:
    /// Debian's MariaDB 11.x (sid) moved it from `/run/mysqld` to
    /// `/run/mariadbd/mysqld.sock` (its tmpfiles.d creates `/run/mariadbd`).
    pub fn socket_path_newer(&self) -> Option<&'static str> {
        match (self.family.is_el(), self.flavor) {
            (false, Flavor::Mariadb) => Some("/run/mariadbd/mysqld.sock"),
            _ => None,
        }
    }

    /// keepalived's configuration file.
    pub fn keepalived_conf_path(&self) -> &'static str {
        KEEPALIVED_CONF_PATH
    }

    /// The health-check script keepalived runs.
    pub fn check_script_path(&self) -> &'static str {
        CHECK_SCRIPT_PATH
    }
}

/// A MySQL release series of the MySQL Yum repository, chosen by the inventory's
/// `mysql.version` (see the MySQL Yum repository quick guide, "Selecting a Release Series").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MysqlSeries {
    /// 5.7 (EL7 only): repo id `mysql57-community`.
    V57,
    /// 8.0: repo id `mysql80-community`.
    V80,
    /// 8.4 LTS (the default): repo id `mysql-8.4-lts-community`.
    V84Lts,
    /// 9.7 LTS (GA 2026-05, the LTS series after 8.4): repo id `mysql-9.7-lts-community`,
    /// named after the 8.4 one; not yet checked against a live repo.mysql.com.
    V97Lts,
    /// Other 9.x Innovation releases: repo id `mysql-innovation-community`.
    Innovation,
}

/// Every server-series repo id of the MySQL Yum repository that mhactl keeps disabled
/// unless it is the wanted one (the connectors and tools repos are left alone).
pub const MYSQL_SERVER_REPO_IDS: &[&str] = &[
    "mysql55-community",
    "mysql56-community",
    "mysql57-community",
    "mysql80-community",
    "mysql-8.4-lts-community",
    "mysql-9.7-lts-community",
    "mysql-innovation-community",
];

impl MysqlSeries {
    /// The series for the inventory's `mysql.version` (`"5.7"`, `"8.0"`, `"8.4"`,
    /// `"9.1"` ...); 8.4 LTS when it is not set.
    pub fn from_version(version: Option<&str>) -> Result<Self> {
        let Some(v) = version.map(str::trim) else {
            return Ok(MysqlSeries::V84Lts);
        };
        let mut parts = v.split('.');
        let major: u32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        let minor: u32 = parts.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        Ok(match (major, minor) {
            (5, 7) => MysqlSeries::V57,
            (8, 0) => MysqlSeries::V80,
            (8, 4) => MysqlSeries::V84Lts,
            (9, 7) => MysqlSeries::V97Lts,
            (9, _) => MysqlSeries::Innovation,
            _ => bail!("MySQL {v}: the MySQL Yum repository has no such release series (5.7, 8.0, 8.4, 9.x)"),
        })
    }

    /// The repo id in the MySQL Yum repository's `.repo` file.
    pub fn repo_id(self) -> &'static str {
        match self {
            MysqlSeries::V57 => "mysql57-community",
            MysqlSeries::V80 => "mysql80-community",
            MysqlSeries::V84Lts => "mysql-8.4-lts-community",
            MysqlSeries::V97Lts => "mysql-9.7-lts-community",
            MysqlSeries::Innovation => "mysql-innovation-community",
        }
    }

    /// The repository setup RPM from repo.mysql.com for an EL major version: the 5.7
    /// one (EL7 only) for 5.7, the 9.7 one for 9.7 LTS (named like the others, not yet
    /// checked against repo.mysql.com: `packages.mysql_release_rpm` overrides it), else
    /// the 8.4 one, which carries the 8.0, 8.4 LTS and Innovation series (8.4 enabled by
    /// default).
    pub fn release_rpm_url(self, family: OsFamily) -> Result<String> {
        let el = match family {
            OsFamily::El7 => 7,
            OsFamily::El8 => 8,
            OsFamily::El9 => 9,
            _ => bail!("the MySQL Yum repository is for EL7, EL8 and EL9"),
        };
        Ok(match self {
            MysqlSeries::V57 if el == 7 => {
                "https://repo.mysql.com/mysql57-community-release-el7-11.noarch.rpm".into()
            }
            MysqlSeries::V57 => bail!(
                "MySQL 5.7 has no EL{el} packages in the MySQL Yum repository (EL7 only): \
                 choose mysql.version 8.0 or 8.4, or give packages.repository"
            ),
            MysqlSeries::V97Lts => {
                format!("https://repo.mysql.com/mysql97-community-release-el{el}-1.noarch.rpm")
            }
            _ => format!("https://repo.mysql.com/mysql84-community-release-el{el}-1.noarch.rpm"),
        })
    }
}

/// Lists the installed MySQL repository setup RPMs (`mysql84-community-release-el9-1.noarch`);
/// empty output: none. Always exits 0.
pub const MYSQL_RELEASE_RPM_QUERY: &str = "rpm -qa 'mysql*-community-release*' || true";

/// Prints every `.repo` file of yum/dnf (for [`parse_yum_repos`]). Always exits 0.
pub const YUM_REPOS_QUERY: &str = "cat /etc/yum.repos.d/*.repo 2>/dev/null || true";

/// The repo ids in yum `.repo` files with whether each is enabled (`enabled=` absent
/// means enabled, as in yum.conf(5)), in file order.
pub fn parse_yum_repos(text: &str) -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(id) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            out.push((id.trim().to_string(), true));
        } else if let Some((k, v)) = line.split_once('=') {
            if k.trim() == "enabled" {
                if let Some(last) = out.last_mut() {
                    last.1 = matches!(v.trim(), "1" | "yes" | "true" | "True");
                }
            }
        }
    }
    out
}

/// What to change so that exactly `wanted` of the MySQL server-series repos is enabled:
/// (repo ids to disable, whether to enable `wanted`). Empty and `false` when it already is.
pub fn mysql_repo_changes(repos: &[(String, bool)], wanted: &str) -> (Vec<String>, bool) {
    let disable = repos
        .iter()
        .filter(|(id, on)| *on && id != wanted && MYSQL_SERVER_REPO_IDS.contains(&id.as_str()))
        .map(|(id, _)| id.clone())
        .collect();
    let enable = !repos.iter().any(|(id, on)| *on && id == wanted);
    (disable, enable)
}

/// Commands enabling/disabling yum repos persistently: `yum-config-manager` (yum-utils)
/// on EL7, `dnf config-manager` (dnf-plugins-core) on EL8+, each installing its tool
/// first when it is missing. One invocation per direction: `--enable`/`--disable` are
/// switches applying to every repo id named.
pub fn repo_toggle_commands(
    pm: PackageManager,
    disable: &[String],
    enable: &[&str],
) -> Vec<String> {
    let mut out = Vec::new();
    if disable.is_empty() && enable.is_empty() {
        return out;
    }
    let ids = |v: &[&str]| sh_words(v);
    let disable: Vec<&str> = disable.iter().map(String::as_str).collect();
    match pm {
        PackageManager::Yum => {
            out.push(
                "command -v yum-config-manager >/dev/null 2>&1 || yum -y install yum-utils".into(),
            );
            if !disable.is_empty() {
                out.push(format!(
                    "yum-config-manager -q --disable {} >/dev/null",
                    ids(&disable)
                ));
            }
            if !enable.is_empty() {
                out.push(format!(
                    "yum-config-manager -q --enable {} >/dev/null",
                    ids(enable)
                ));
            }
        }
        PackageManager::Dnf => {
            out.push(
                "dnf config-manager --help >/dev/null 2>&1 || dnf -y install dnf-plugins-core"
                    .into(),
            );
            if !disable.is_empty() {
                out.push(format!(
                    "dnf config-manager --set-disabled {}",
                    ids(&disable)
                ));
            }
            if !enable.is_empty() {
                out.push(format!("dnf config-manager --set-enabled {}", ids(enable)));
            }
        }
        PackageManager::Apt => {}
    }
    out
}

/// The dnf modules that mask the MySQL repository's packages on EL8+ unless disabled
/// (the AppStream `mysql` module; `mariadb`, whose packages conflict with MySQL's).
pub const MYSQL_MASKING_MODULES: &[&str] = &["mysql", "mariadb"];

/// Prints `NAME STATE` per module: the `state=` dnf recorded in
/// `/etc/dnf/modules.d/NAME.module` (`enabled`, `disabled`, or empty for a default
/// stream), else `available` when a repository offers the module, else `none`.
pub fn module_state_query(modules: &[&str]) -> String {
    modules
        .iter()
        .map(|m| {
            let m = sh_quote(m);
            format!(
                "if [ -f /etc/dnf/modules.d/{m}.module ]; then echo {m} \"$(sed -n 's/^state=//p' /etc/dnf/modules.d/{m}.module)\"; \
                 elif dnf -q module list {m} >/dev/null 2>&1; then echo {m} available; else echo {m} none; fi"
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The modules of [`module_state_query`]'s output that still need `dnf module disable`
/// (they exist and are not disabled), in output order.
pub fn modules_to_disable(output: &str) -> Vec<String> {
    output
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let name = w.next()?;
            let state = w.next().unwrap_or("");
            (!matches!(state, "disabled" | "none")).then(|| name.to_string())
        })
        .collect()
}

/// The dnf module stream of MariaDB `version` (`"10.11"`) on this node: prints
/// `STREAM STATE` from `/etc/dnf/modules.d/mariadb.module` when dnf recorded a state
/// there (`10.11 enabled`, `10.3 disabled`), else `VERSION available` when a repository
/// offers the stream `mariadb:VERSION`, else `none` (no such stream: EL9's non-modular
/// MariaDB 10.5, Fedora, EL10).
pub fn mariadb_stream_query(version: &str) -> String {
    let f = "/etc/dnf/modules.d/mariadb.module";
    let v = sh_quote(version);
    format!(
        "f={f}; if [ -f \"$f\" ] && [ -n \"$(sed -n 's/^state=//p' \"$f\")\" ]; then \
         echo \"$(sed -n 's/^stream=//p' \"$f\") $(sed -n 's/^state=//p' \"$f\")\"; \
         elif dnf -q module list mariadb:{v} >/dev/null 2>&1; then echo {v} available; else echo none; fi"
    )
}

/// What makes dnf install MariaDB `version` from AppStream, given
/// [`mariadb_stream_query`]'s output: nothing when no module has that stream (the
/// non-modular packages are installed as they are) or when it is enabled already; else
/// `dnf -y module enable mariadb:VERSION`, after `dnf -y module reset mariadb` when
/// another stream is enabled (dnf does not switch enabled streams by itself). Without
/// it, dnf installs the module's default stream (EL8: 10.3) or, on EL9, the
/// non-modular 10.5, whatever the inventory's `mysql.version` says.
pub fn mariadb_stream_commands(state: &str, version: &str) -> Vec<String> {
    let mut w = state.split_whitespace();
    let (stream, st) = (w.next().unwrap_or(""), w.next().unwrap_or(""));
    if stream.is_empty() || stream == "none" || (stream == version && st == "enabled") {
        return Vec::new();
    }
    let mut out = Vec::new();
    if st == "enabled" {
        out.push("dnf -y module reset mariadb".to_string());
    }
    out.push(format!(
        "dnf -y module enable mariadb:{}",
        sh_quote(version)
    ));
    out
}

/// Does option file `text` already have `line` (an `!includedir DIR`, with or without
/// a trailing slash)?
pub fn has_include_line(text: &str, line: &str) -> bool {
    let want = line.trim_end_matches('/');
    text.lines().any(|l| l.trim().trim_end_matches('/') == want)
}

/// `text` with `line` appended (what [`append_include_command`] leaves on the node).
pub fn with_include_line(text: &str, line: &str) -> String {
    let mut out = text.to_string();
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&format!(
        "# Added by mhactl: read the drop-in directory, where mhactl's settings live.\n{line}/\n"
    ));
    out
}

/// Appends `line` to the option file `path` unless it has it (idempotent on the node too).
pub fn append_include_command(path: &str, line: &str) -> String {
    let p = sh_quote(path);
    let pattern = sh_quote(&format!("^{}/?[[:space:]]*$", line.replace('.', "\\.")));
    format!(
        "grep -Eq {pattern} {p} 2>/dev/null || {{ [ ! -s {p} ] || [ -z \"$(tail -c 1 {p})\" ] || echo >> {p}; \
         printf '%s\\n' {comment} {l} >> {p}; }}",
        comment = sh_quote("# Added by mhactl: read the drop-in directory, where mhactl's settings live."),
        l = sh_quote(&format!("{line}/")),
    )
}

/// Where [`mirror_repo_file`] goes.
pub fn mirror_repo_path(pm: PackageManager) -> &'static str {
    match pm {
        PackageManager::Apt => "/etc/apt/sources.list.d/mhactl.list",
        PackageManager::Yum | PackageManager::Dnf => "/etc/yum.repos.d/mhactl.repo",
    }
}

/// The repo id (yum) that [`mirror_repo_file`] defines.
pub const MIRROR_REPO_ID: &str = "mhactl";

/// The repository definition for the inventory's `packages.repository` (a `file:` or
/// `http(s):` URL): a yum repo `[mhactl]` (GPG-checked with `gpg_key` when given;
/// `module_hotfixes=1` on dnf so modular filtering never hides its packages), or a flat
/// apt repository (`deb URL ./`, trusted unless `gpg_key` names a keyring on the node).
pub fn mirror_repo_file(pm: PackageManager, url: &str, gpg_key: Option<&str>) -> String {
    let head = "# Written by mhactl bootstrap from the inventory's packages.repository:\n\
                # bootstrap installs the database server and keepalived from this repository only.\n";
    match pm {
        PackageManager::Apt => {
            let opt = match gpg_key {
                Some(k) => format!(
                    "signed-by={}",
                    k.strip_prefix("file://")
                        .or(k.strip_prefix("file:"))
                        .unwrap_or(k)
                ),
                None => "trusted=yes".into(),
            };
            format!("{head}deb [{opt}] {url} ./\n")
        }
        PackageManager::Yum | PackageManager::Dnf => {
            let mut s = format!(
                "{head}[{MIRROR_REPO_ID}]\nname=mhactl packages.repository\nbaseurl={url}\nenabled=1\n"
            );
            match gpg_key {
                Some(k) => s.push_str(&format!("gpgcheck=1\ngpgkey={k}\n")),
                None => s.push_str("gpgcheck=0\n"),
            }
            if pm == PackageManager::Dnf {
                s.push_str("module_hotfixes=1\n");
            }
            s
        }
    }
}

impl PackageManager {
    /// Refreshes the index of the mirror repository only.
    pub fn mirror_refresh_command(self) -> String {
        match self {
            PackageManager::Apt => format!("apt-get {} update -q", apt_only_mirror()),
            PackageManager::Yum => format!("yum -y -q {} makecache", yum_only_mirror()),
            PackageManager::Dnf => format!("dnf -y -q {} makecache", yum_only_mirror()),
        }
    }

    /// Installs packages from the mirror repository only (every other repository off
    /// for this command).
    pub fn mirror_install_command(self, pkgs: &[&str]) -> String {
        match self {
            PackageManager::Apt => self.install_command(pkgs).replace(
                "apt-get -o DPkg",
                &format!("apt-get {} -o DPkg", apt_only_mirror()),
            ),
            PackageManager::Yum => {
                format!("yum -y {} install {}", yum_only_mirror(), sh_words(pkgs))
            }
            PackageManager::Dnf => {
                format!("dnf -y {} install {}", yum_only_mirror(), sh_words(pkgs))
            }
        }
    }
}

fn apt_only_mirror() -> String {
    format!(
        "-o Dir::Etc::SourceList={} -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0",
        mirror_repo_path(PackageManager::Apt)
    )
}

fn yum_only_mirror() -> String {
    format!("--disablerepo='*' --enablerepo={MIRROR_REPO_ID}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fam(text: &str) -> OsFamily {
        OsRelease::parse(text).family
    }

    #[test]
    fn families_from_id_and_id_like() {
        assert_eq!(fam("ID=debian\nVERSION_ID=\"12\""), OsFamily::Debian);
        assert_eq!(fam("ID=debian\n"), OsFamily::Debian); // sid has no VERSION_ID
        assert_eq!(
            fam("ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\""),
            OsFamily::Ubuntu
        );
        assert_eq!(
            fam("ID=linuxmint\nID_LIKE=\"ubuntu debian\"\nVERSION_ID=21"),
            OsFamily::Ubuntu
        );
        assert_eq!(fam("ID=raspbian\nID_LIKE=debian\n"), OsFamily::Debian);
        assert_eq!(
            fam("ID=\"centos\"\nID_LIKE=\"rhel fedora\"\nVERSION_ID=\"7\""),
            OsFamily::El7
        );
        assert_eq!(
            fam("ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"8.9\""),
            OsFamily::El8
        );
        assert_eq!(
            fam("ID=\"ol\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"8.10\""),
            OsFamily::El8
        );
        assert_eq!(fam("ID=\"rhel\"\nVERSION_ID=\"10.0\""), OsFamily::El9);
        assert_eq!(fam("ID=fedora\nVERSION_ID=40"), OsFamily::El9);
        assert_eq!(
            fam("ID=\"amzn\"\nID_LIKE=\"centos rhel fedora\"\nVERSION_ID=\"2\""),
            OsFamily::El7
        );
        assert_eq!(
            fam("ID=\"amzn\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"2023\""),
            OsFamily::El9
        );
        assert_eq!(fam("ID=\"centos\"\nVERSION_ID=\"6\""), OsFamily::Unknown);
        assert_eq!(fam("ID=alpine\nVERSION_ID=3.19.1"), OsFamily::Unknown);
        assert_eq!(fam(""), OsFamily::Unknown);
    }

    #[test]
    fn fixtures() {
        let cases = [
            (
                include_str!("../tests/fixtures/os/debian-12"),
                OsFamily::Debian,
                "debian",
                "12",
            ),
            (
                include_str!("../tests/fixtures/os/ubuntu-22.04"),
                OsFamily::Ubuntu,
                "ubuntu",
                "22.04",
            ),
            (
                include_str!("../tests/fixtures/os/centos-7"),
                OsFamily::El7,
                "centos",
                "7",
            ),
            (
                include_str!("../tests/fixtures/os/rocky-8"),
                OsFamily::El8,
                "rocky",
                "8.9",
            ),
            (
                include_str!("../tests/fixtures/os/almalinux-9"),
                OsFamily::El9,
                "almalinux",
                "9.4",
            ),
        ];
        for (text, family, id, version) in cases {
            let info = OsRelease::parse(text);
            assert_eq!(info.family, family, "{id}");
            assert_eq!(info.id, id);
            assert_eq!(info.version_id, version);
            assert!(!info.pretty_name.is_empty());
        }
        assert_eq!(
            OsRelease::parse(include_str!("../tests/fixtures/os/debian-12")).pretty_name,
            "Debian GNU/Linux 12 (bookworm)"
        );
    }

    #[test]
    fn quoting_in_os_release() {
        let i = OsRelease::parse("# c\nPRETTY_NAME=\"A \\\"quoted\\\" name\"\nID='debian'\n");
        assert_eq!(i.pretty_name, "A \"quoted\" name");
        assert_eq!(i.id, "debian");
        assert_eq!(sh_quote("mariadb-server"), "mariadb-server");
        assert_eq!(sh_quote("a b'c"), "'a b'\\''c'");
        assert_eq!(sh_quote(""), "''");
    }

    #[test]
    fn package_commands() {
        let apt = PackageManager::Apt;
        assert_eq!(
            apt.refresh_command(),
            "apt-get -o DPkg::Lock::Timeout=300 update -q"
        );
        let install = apt.install_command(&["mariadb-server", "keepalived"]);
        assert!(
            install.contains("DEBIAN_FRONTEND=noninteractive"),
            "{install}"
        );
        assert!(
            install.contains("until out=$(dpkg --configure -a 2>&1)"),
            "{install}"
        );
        assert!(
            install.ends_with("install -y -q --no-install-recommends mariadb-server keepalived"),
            "{install}"
        );
        assert_eq!(
            apt.installed_query_command(&["mariadb-server"]),
            "dpkg-query -W -f='${Package} ${db:Status-Status}\\n' mariadb-server 2>/dev/null || true"
        );
        assert_eq!(
            PackageManager::Yum.install_command(&["keepalived"]),
            "yum -y install keepalived"
        );
        assert_eq!(PackageManager::Dnf.refresh_command(), "dnf -y -q makecache");
        assert_eq!(
            PackageManager::for_family(OsFamily::El7),
            Some(PackageManager::Yum)
        );
        assert_eq!(
            PackageManager::for_family(OsFamily::El9),
            Some(PackageManager::Dnf)
        );
        assert_eq!(PackageManager::for_family(OsFamily::Unknown), None);
    }

    #[test]
    fn parse_installed_apt() {
        let out = "mariadb-server installed\nkeepalived config-files\n";
        assert_eq!(
            PackageManager::Apt
                .parse_installed(out, &["mariadb-server", "mariadb-client", "keepalived"]),
            ["mariadb-client", "keepalived"]
        );
        assert_eq!(PackageManager::Apt.parse_installed("", &["a"]), ["a"]);
    }

    #[test]
    fn parse_installed_rpm() {
        let out = "mysql-community-server-8.0.36-1.el8.x86_64\n\
                   package mysql-community-client is not installed\n\
                   keepalived-2.2.8-3.el9.x86_64\n";
        assert_eq!(
            PackageManager::Dnf.parse_installed(
                out,
                &[
                    "mysql-community-server",
                    "mysql-community-client",
                    "keepalived",
                    "mariadb"
                ]
            ),
            ["mysql-community-client", "mariadb"]
        );
        // "mariadb" must not match "mariadb-server-...".
        assert_eq!(
            PackageManager::Yum
                .parse_installed("mariadb-server-5.5.68-1.el7.x86_64\n", &["mariadb"]),
            ["mariadb"]
        );
    }

    #[test]
    fn service_commands() {
        assert_eq!(
            ServiceManager::parse_probe("systemd\n"),
            ServiceManager::Systemd
        );
        assert_eq!(ServiceManager::parse_probe("sysv\n"), ServiceManager::SysV);
        assert_eq!(ServiceManager::parse_probe(""), ServiceManager::SysV);
        let sd = ServiceManager::Systemd;
        assert_eq!(sd.start_command("mariadb"), "systemctl start mariadb");
        assert_eq!(
            sd.is_active_command("mysqld"),
            "systemctl is-active --quiet mysqld"
        );
        assert_eq!(
            sd.enable_command("keepalived"),
            "systemctl enable --quiet keepalived"
        );
        let runtime = sd.runtime_dir_command("mysql").unwrap();
        assert!(
            runtime.starts_with("[ -d /run/systemd/system ] && exit 0;"),
            "{runtime}"
        );
        assert!(runtime.contains("f=$d/mysql.service;"), "{runtime}");
        let sv = ServiceManager::SysV;
        assert_eq!(sv.runtime_dir_command("mariadb"), None);
        assert_eq!(sv.stop_command("mariadb"), "service mariadb stop");
        assert_eq!(sv.restart_command("mariadb"), "service mariadb restart");
        let active = sv.is_active_command("keepalived");
        assert!(
            active.starts_with("for f in /run/keepalived.pid"),
            "{active}"
        );
        assert!(active.contains("service keepalived status"), "{active}");
        assert!(active.contains("/run/keepalived.pid"), "{active}");
        assert!(sv
            .enable_command("mariadb")
            .contains("update-rc.d mariadb defaults"));
    }

    #[test]
    fn targets() {
        let t = |f, fl| OsTarget::new(f, fl).unwrap();
        let deb_maria = t(OsFamily::Debian, Flavor::Mariadb);
        assert_eq!(
            deb_maria.all_packages(),
            ["mariadb-server", "mariadb-client", "keepalived"]
        );
        assert_eq!(deb_maria.server_service(), "mariadb");
        assert_eq!(
            deb_maria.config_path(),
            "/etc/mysql/mariadb.conf.d/60-mhactl.cnf"
        );
        assert_eq!(deb_maria.error_log_path(), Some("/var/log/mysql/error.log"));
        assert_eq!(deb_maria.socket_path(), "/run/mysqld/mysqld.sock");
        assert_eq!(
            deb_maria.socket_path_newer(),
            Some("/run/mariadbd/mysqld.sock")
        );
        let el_maria = t(OsFamily::El8, Flavor::Mariadb);
        assert_eq!(el_maria.server_packages(), ["mariadb-server", "mariadb"]);
        assert_eq!(el_maria.server_service(), "mariadb");
        assert_eq!(el_maria.config_path(), "/etc/my.cnf.d/zz-mhactl.cnf");
        let ubu_mysql = t(OsFamily::Ubuntu, Flavor::Mysql);
        assert_eq!(
            ubu_mysql.server_packages(),
            ["mysql-server", "mysql-client"]
        );
        assert_eq!(ubu_mysql.server_service(), "mysql");
        assert_eq!(ubu_mysql.socket_path_newer(), None);
        assert_eq!(
            ubu_mysql.config_path(),
            "/etc/mysql/mysql.conf.d/zz-mhactl.cnf"
        );
        let el_mysql = t(OsFamily::El9, Flavor::Mysql);
        assert_eq!(
            el_mysql.server_packages(),
            ["mysql-community-server", "mysql-community-client"]
        );
        assert_eq!(el_mysql.server_service(), "mysqld");
        assert_eq!(el_mysql.error_log_path(), Some("/var/log/mysqld.log"));
        assert_eq!(el_mysql.package_manager(), PackageManager::Dnf);
        assert_eq!(
            el_mysql.keepalived_conf_path(),
            "/etc/keepalived/keepalived.conf"
        );
        assert_eq!(
            el_mysql.check_script_path(),
            "/etc/keepalived/mhactl-check-mysql.sh"
        );
        assert!(OsTarget::new(OsFamily::Unknown, Flavor::Mysql).is_err());
    }

    #[test]
    fn mysql_series_from_inventory_version() {
        assert_eq!(
            MysqlSeries::from_version(None).unwrap(),
            MysqlSeries::V84Lts
        );
        assert_eq!(
            MysqlSeries::from_version(Some("5.7")).unwrap().repo_id(),
            "mysql57-community"
        );
        assert_eq!(
            MysqlSeries::from_version(Some("8.0")).unwrap().repo_id(),
            "mysql80-community"
        );
        assert_eq!(
            MysqlSeries::from_version(Some("8.4")).unwrap().repo_id(),
            "mysql-8.4-lts-community"
        );
        assert_eq!(
            MysqlSeries::from_version(Some("9.1")).unwrap().repo_id(),
            "mysql-innovation-community"
        );
        assert_eq!(
            MysqlSeries::from_version(Some("9.7")).unwrap().repo_id(),
            "mysql-9.7-lts-community"
        );
        assert!(MysqlSeries::from_version(Some("5.6")).is_err());
        assert_eq!(
            MysqlSeries::V57.release_rpm_url(OsFamily::El7).unwrap(),
            "https://repo.mysql.com/mysql57-community-release-el7-11.noarch.rpm"
        );
        assert_eq!(
            MysqlSeries::V84Lts.release_rpm_url(OsFamily::El9).unwrap(),
            "https://repo.mysql.com/mysql84-community-release-el9-1.noarch.rpm"
        );
        assert_eq!(
            MysqlSeries::V80.release_rpm_url(OsFamily::El8).unwrap(),
            "https://repo.mysql.com/mysql84-community-release-el8-1.noarch.rpm"
        );
        let err = MysqlSeries::V57.release_rpm_url(OsFamily::El9).unwrap_err();
        assert!(format!("{err}").contains("EL7 only"), "{err}");
        assert!(MysqlSeries::V80.release_rpm_url(OsFamily::Debian).is_err());
    }

    #[test]
    fn yum_repo_files_and_series_selection() {
        let repos = parse_yum_repos(include_str!(
            "../tests/fixtures/el/mysql84-community-release-el8-1.repo"
        ));
        assert!(repos.contains(&("mysql-8.4-lts-community".into(), true)));
        assert!(repos.contains(&("mysql80-community".into(), false)));
        assert!(repos.contains(&("mysql-innovation-community".into(), false)));
        // Already as wanted: nothing to change.
        assert_eq!(
            mysql_repo_changes(&repos, "mysql-8.4-lts-community"),
            (vec![], false)
        );
        // 8.0 wanted: turn 8.4 off and 8.0 on; the tools and connectors repos stay.
        let (off, on) = mysql_repo_changes(&repos, "mysql80-community");
        assert_eq!(off, ["mysql-8.4-lts-community"]);
        assert!(on);
        assert_eq!(
            repo_toggle_commands(PackageManager::Dnf, &off, &["mysql80-community"]),
            [
                "dnf config-manager --help >/dev/null 2>&1 || dnf -y install dnf-plugins-core",
                "dnf config-manager --set-disabled mysql-8.4-lts-community",
                "dnf config-manager --set-enabled mysql80-community",
            ]
        );
        assert_eq!(
            repo_toggle_commands(
                PackageManager::Yum,
                &["mysql80-community".into()],
                &["mysql57-community"]
            ),
            [
                "command -v yum-config-manager >/dev/null 2>&1 || yum -y install yum-utils",
                "yum-config-manager -q --disable mysql80-community >/dev/null",
                "yum-config-manager -q --enable mysql57-community >/dev/null",
            ]
        );
        assert!(repo_toggle_commands(PackageManager::Yum, &[], &[]).is_empty());
        let el7 = parse_yum_repos(include_str!(
            "../tests/fixtures/el/mysql57-community-release-el7-11.repo"
        ));
        assert_eq!(
            mysql_repo_changes(&el7, "mysql57-community"),
            (vec![], false)
        );
        // `enabled` absent means enabled; comments and continuation lines are skipped.
        assert_eq!(
            parse_yum_repos("[a]\nname=A\n# enabled=0\n[b]\nenabled = 0\ngpgkey=x\n   y\n"),
            [("a".to_string(), true), ("b".to_string(), false)]
        );
    }

    #[test]
    fn dnf_modules_to_disable() {
        let q = module_state_query(&["mysql", "mariadb"]);
        assert!(q.contains("/etc/dnf/modules.d/mysql.module"), "{q}");
        assert!(q.contains("dnf -q module list mariadb"), "{q}");
        assert_eq!(
            modules_to_disable("mysql available\nmariadb disabled\n"),
            ["mysql"]
        );
        // A default stream has a module file with an empty state.
        assert_eq!(
            modules_to_disable("mysql \nmariadb enabled\n"),
            ["mysql", "mariadb"]
        );
        assert!(modules_to_disable("mysql none\nmariadb none\n").is_empty());
    }

    #[test]
    fn mariadb_module_stream_is_enabled_for_the_inventorys_version() {
        let q = mariadb_stream_query("10.11");
        assert!(q.contains("dnf -q module list mariadb:10.11"), "{q}");
        assert!(q.contains("/etc/dnf/modules.d/mariadb.module"), "{q}");
        // EL9.4+: AppStream's mariadb:10.11 stream, not enabled yet (the plain
        // mariadb-server package would be 10.5).
        assert_eq!(
            mariadb_stream_commands("10.11 available\n", "10.11"),
            ["dnf -y module enable mariadb:10.11"]
        );
        // EL8: the default stream 10.3 is enabled: switch.
        assert_eq!(
            mariadb_stream_commands("10.3 enabled\n", "10.11"),
            [
                "dnf -y module reset mariadb",
                "dnf -y module enable mariadb:10.11"
            ]
        );
        // Disabled (e.g. for the MySQL repository earlier): enable the stream.
        assert_eq!(
            mariadb_stream_commands("10.3 disabled\n", "10.5"),
            ["dnf -y module enable mariadb:10.5"]
        );
        // Already so, or no such stream (EL9's non-modular 10.5, Fedora): nothing.
        assert!(mariadb_stream_commands("10.11 enabled\n", "10.11").is_empty());
        assert!(mariadb_stream_commands("none\n", "10.5").is_empty());
        assert!(mariadb_stream_commands("", "10.11").is_empty());
    }

    #[test]
    fn mirror_repository_files_and_commands() {
        let yum = mirror_repo_file(
            PackageManager::Dnf,
            "http://mirror.local/el9",
            Some("http://mirror.local/KEY"),
        );
        assert!(yum.contains("[mhactl]\nname=mhactl packages.repository\nbaseurl=http://mirror.local/el9\nenabled=1\ngpgcheck=1\ngpgkey=http://mirror.local/KEY\nmodule_hotfixes=1\n"), "{yum}");
        let el7 = mirror_repo_file(PackageManager::Yum, "file:///srv/repo", None);
        assert!(el7.ends_with("gpgcheck=0\n"), "{el7}");
        assert_eq!(
            mirror_repo_path(PackageManager::Yum),
            "/etc/yum.repos.d/mhactl.repo"
        );
        let apt = mirror_repo_file(PackageManager::Apt, "file:/srv/mhactl-repo", None);
        assert!(
            apt.ends_with("deb [trusted=yes] file:/srv/mhactl-repo ./\n"),
            "{apt}"
        );
        let signed = mirror_repo_file(
            PackageManager::Apt,
            "http://m/deb",
            Some("file:///etc/apt/keyrings/m.gpg"),
        );
        assert!(
            signed.ends_with("deb [signed-by=/etc/apt/keyrings/m.gpg] http://m/deb ./\n"),
            "{signed}"
        );
        assert_eq!(
            PackageManager::Dnf.mirror_install_command(&["mysql-community-server", "keepalived"]),
            "dnf -y --disablerepo='*' --enablerepo=mhactl install mysql-community-server keepalived"
        );
        assert_eq!(
            PackageManager::Yum.mirror_refresh_command(),
            "yum -y -q --disablerepo='*' --enablerepo=mhactl makecache"
        );
        let apt_install = PackageManager::Apt.mirror_install_command(&["keepalived"]);
        assert!(apt_install.contains("apt-get -o Dir::Etc::SourceList=/etc/apt/sources.list.d/mhactl.list -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 -o DPkg::Lock::Timeout=300 install -y -q --no-install-recommends keepalived"), "{apt_install}");
        assert_eq!(
            PackageManager::Apt.mirror_refresh_command(),
            "apt-get -o Dir::Etc::SourceList=/etc/apt/sources.list.d/mhactl.list -o Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 update -q"
        );
    }

    #[test]
    fn rpm_my_cnf_gets_the_drop_in_directory() {
        let el = OsTarget::new(OsFamily::El9, Flavor::Mysql).unwrap();
        let (main, line) = el.config_include().unwrap();
        assert_eq!((main, line), ("/etc/my.cnf", "!includedir /etc/my.cnf.d"));
        assert!(OsTarget::new(OsFamily::El9, Flavor::Mariadb)
            .unwrap()
            .config_include()
            .is_none());
        assert!(OsTarget::new(OsFamily::Debian, Flavor::Mysql)
            .unwrap()
            .config_include()
            .is_none());
        let rpm_cnf = "[mysqld]\ndatadir=/var/lib/mysql\nlog-error=/var/log/mysqld.log\n";
        assert!(!has_include_line(rpm_cnf, line));
        let with = with_include_line(rpm_cnf, line);
        assert!(with.ends_with("\n!includedir /etc/my.cnf.d/\n"), "{with}");
        assert!(has_include_line(&with, line));
        assert!(has_include_line("!includedir /etc/my.cnf.d\n", line));
    }

    /// The command really leaves what the diff showed (run twice: idempotent), with a
    /// local `sh` on a scratch file.
    #[test]
    fn include_command_matches_its_preview_and_is_idempotent() {
        let line = "!includedir /etc/my.cnf.d";
        for start in [
            "[mysqld]\ndatadir=/var/lib/mysql\n",
            "[mysqld]\nno-newline",
            "",
        ] {
            let dir = std::env::temp_dir().join(format!("mhactl-include-{}", std::process::id()));
            std::fs::create_dir_all(&dir).unwrap();
            let f = dir.join("my.cnf");
            std::fs::write(&f, start).unwrap();
            let cmd = append_include_command(f.to_str().unwrap(), line);
            for _ in 0..2 {
                let st = std::process::Command::new("sh")
                    .arg("-c")
                    .arg(&cmd)
                    .status()
                    .unwrap();
                assert!(st.success(), "{cmd}");
            }
            assert_eq!(
                std::fs::read_to_string(&f).unwrap(),
                with_include_line(start, line),
                "{start:?}"
            );
            std::fs::remove_dir_all(&dir).unwrap();
        }
    }
}
