//! Where the server's and keepalived's files live on each family (option files, drop-in,
//! error log, socket, keepalived configuration and check script), the package and service
//! names of a flavor on a family ([`OsTarget`]), and the include line the MySQL RPMs'
//! `/etc/my.cnf` needs to read mhactl's drop-in directory.

use super::{sh_quote, OsFamily, PackageManager};
use crate::inventory::{Flavor, ServerFamily};
use anyhow::{bail, Result};

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
        match (self.family.is_el(), self.flavor.family()) {
            (false, ServerFamily::Mariadb) => "/etc/mysql/mariadb.conf.d/60-mhactl.cnf",
            (false, ServerFamily::Mysql) => "/etc/mysql/mysql.conf.d/zz-mhactl.cnf",
            (true, _) => "/etc/my.cnf.d/zz-mhactl.cnf",
        }
    }

    /// The packaged main option file and the line it needs to read mhactl's drop-in
    /// directory, when it lacks one: the MySQL community RPMs' `/etc/my.cnf` (unlike
    /// the EL MariaDB packages' and Debian's) includes no directory.
    pub fn config_include(&self) -> Option<(&'static str, &'static str)> {
        match (self.family.is_el(), self.flavor.family()) {
            (true, ServerFamily::Mysql) => Some(("/etc/my.cnf", "!includedir /etc/my.cnf.d")),
            _ => None,
        }
    }

    /// The server's error log when the inventory sets no `mysql.log_error`: the packaged
    /// one, and on Debian's MariaDB (which logs to syslog through mysqld_safe and loses
    /// everything on a host without a syslog daemon) the path its 50-server.cnf suggests
    /// and its logrotate file rotates; mhactl always renders `log-error` (and creates
    /// that directory when the package did not: [`super::error_log::ensure_dir_command`]).
    /// Always `Some` (an `Option` for the callers that also take the inventory's).
    pub fn error_log_path(&self) -> Option<&'static str> {
        match (self.family.is_el(), self.flavor.family()) {
            (true, ServerFamily::Mysql) => Some("/var/log/mysqld.log"),
            (true, ServerFamily::Mariadb) => Some("/var/log/mariadb/mariadb.log"),
            (false, _) => Some("/var/log/mysql/error.log"),
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
        match (self.family.is_el(), self.flavor.family()) {
            (false, ServerFamily::Mariadb) => Some("/run/mariadbd/mysqld.sock"),
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

/// Every packaged default unix socket, in the order [`find_socket_command`] tries them:
/// Debian's and Ubuntu's, Debian's newer MariaDB's ([`OsTarget::socket_path_newer`]), EL's,
/// then the older `/var/run` and `/tmp` ones.
pub const DEFAULT_SOCKET_PATHS: &[&str] = &[
    "/run/mysqld/mysqld.sock",
    "/run/mariadbd/mysqld.sock",
    "/var/lib/mysql/mysql.sock",
    "/var/run/mysqld/mysqld.sock",
    "/tmp/mysql.sock",
];

/// Prints the server's unix socket: the `socket` its option files give `mysqld`, else the
/// first of [`DEFAULT_SOCKET_PATHS`] that is a socket; exits 1 when none is.
pub fn find_socket_command() -> String {
    format!(
        "s=$(my_print_defaults mysqld 2>/dev/null | sed -n 's/^--socket=//p' | tail -n 1); \
         for c in \"$s\" {}; do \
         [ -n \"$c\" ] && [ -S \"$c\" ] && {{ echo \"$c\"; exit 0; }}; done; exit 1",
        DEFAULT_SOCKET_PATHS.join(" ")
    )
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

#[cfg(test)]
mod tests {
    use super::*;

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
    fn socket_search_covers_every_packaged_default() {
        assert_eq!(
            find_socket_command(),
            "s=$(my_print_defaults mysqld 2>/dev/null | sed -n 's/^--socket=//p' | tail -n 1); \
             for c in \"$s\" /run/mysqld/mysqld.sock /run/mariadbd/mysqld.sock /var/lib/mysql/mysql.sock /var/run/mysqld/mysqld.sock /tmp/mysql.sock; do \
             [ -n \"$c\" ] && [ -S \"$c\" ] && { echo \"$c\"; exit 0; }; done; exit 1"
        );
        for family in [
            OsFamily::Debian,
            OsFamily::Ubuntu,
            OsFamily::El7,
            OsFamily::El8,
            OsFamily::El9,
        ] {
            for flavor in [Flavor::Mariadb, Flavor::Mysql] {
                let t = OsTarget::new(family, flavor).unwrap();
                assert!(DEFAULT_SOCKET_PATHS.contains(&t.socket_path()), "{t:?}");
                if let Some(newer) = t.socket_path_newer() {
                    assert!(DEFAULT_SOCKET_PATHS.contains(&newer), "{t:?}");
                }
            }
        }
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
