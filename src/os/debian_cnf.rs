//! Debian's `/etc/mysql/debian.cnf` (Debian and Ubuntu): the SysV script and
//! `debian-start` ping the server through it, so it must name the server's socket. Reading
//! its socket lines, pointing them at another socket on the node, saving and restoring it.

use crate::transport::shell_quote;

/// `debian.cnf` (Debian and Ubuntu): the SysV script and `debian-start` ping the server
/// with `--defaults-file` this file, so it must name the server's socket.
pub const DEBIAN_CNF: &str = "/etc/mysql/debian.cnf";

/// debian.cnf as it was before mhactl pointed it at another socket, kept (same owner and
/// mode) until the server has started with the new configuration, so that a rollback
/// of my.cnf can put it back too.
pub const DEBIAN_CNF_SAVED: &str = "/etc/mysql/debian.cnf.mhactl-old";

/// Put the saved debian.cnf back (when there is one).
pub const DEBIAN_CNF_UNDO: &str = "if [ -e /etc/mysql/debian.cnf.mhactl-old ]; then \
     mv -f /etc/mysql/debian.cnf.mhactl-old /etc/mysql/debian.cnf; fi";

/// The new configuration runs: the saved debian.cnf is not needed any more.
pub const DEBIAN_CNF_FORGET: &str = "rm -f /etc/mysql/debian.cnf.mhactl-old";

/// Section headers and `socket` lines of debian.cnf (exit 100: no such file).
pub const DEBIAN_CNF_SOCKETS: &str = "[ -f /etc/mysql/debian.cnf ] || exit 100; \
     grep -E '^[[:space:]]*(\\[|socket[[:space:]]*=)' /etc/mysql/debian.cnf; true";

/// Does debian.cnf (its headers and socket lines, from [`DEBIAN_CNF_SOCKETS`]) point
/// its `[client]` and `[mysql_upgrade]` sections at `want`? With the packaged socket
/// (`custom` false) a section without a socket line is fine too.
pub fn debian_cnf_socket_ok(listing: &str, want: &str, custom: bool) -> bool {
    // /var/run is a link to /run.
    let norm = |p: &str| {
        p.strip_prefix("/var")
            .filter(|r| r.starts_with("/run/"))
            .unwrap_or(p)
            .to_string()
    };
    let want = norm(want);
    let mut section = String::new();
    let mut seen: Vec<(String, bool)> = Vec::new();
    for line in listing.lines().map(str::trim) {
        if line.starts_with('[') {
            section = line.to_string();
            if matches!(section.as_str(), "[client]" | "[mysql_upgrade]") {
                seen.push((section.clone(), false));
            }
        } else if let Some((_, v)) = line.split_once('=') {
            if matches!(section.as_str(), "[client]" | "[mysql_upgrade]") {
                if norm(v.trim()) != want {
                    return false;
                }
                if let Some(s) = seen.iter_mut().rev().find(|(s, _)| *s == section) {
                    s.1 = true;
                }
            }
        }
    }
    !custom || seen.iter().all(|(_, has)| *has)
}

/// Sets `socket = SOCKET` in debian.cnf's `[client]` and `[mysql_upgrade]` sections
/// (replacing a socket line there, or adding one), on the node: the file holds a
/// password on some systems, so it never travels to mhactl. Owner and mode are kept.
pub fn debian_cnf_socket_command(socket: &str) -> String {
    set_socket_command(DEBIAN_CNF, socket)
}

fn set_socket_command(file: &str, socket: &str) -> String {
    format!(
        "set -e; f={file}; awk -v s={s} '\
         function put() {{ if (want && !done) print \"socket   = \" s; done = 1 }} \
         /^[[:space:]]*\\[/ {{ put(); want = ($0 ~ /^[[:space:]]*\\[(client|mysql_upgrade)\\]/); done = 0; print; next }} \
         want && /^[[:space:]]*socket[[:space:]]*=/ {{ put(); next }} \
         want && /^[[:space:]]*$/ {{ put() }} \
         {{ print }} END {{ put() }}' \"$f\" > \"$f.mhactl-new\"; \
         cat \"$f.mhactl-new\" > \"$f\"; rm -f \"$f.mhactl-new\"",
        file = shell_quote(file),
        s = shell_quote(socket)
    )
}

/// Keeps debian.cnf as it is (owner and mode too) in [`DEBIAN_CNF_SAVED`], once.
pub fn save_command() -> String {
    format!("[ -e {DEBIAN_CNF_SAVED} ] || cp -p {DEBIAN_CNF} {DEBIAN_CNF_SAVED}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debian_cnf_check_and_edit() {
        let packaged = "[client]\n[mysql_upgrade]\n";
        let custom = "/var/run/custom/mysql.sock";
        assert!(debian_cnf_socket_ok(
            packaged,
            "/run/mysqld/mysqld.sock",
            false
        ));
        assert!(!debian_cnf_socket_ok(packaged, custom, true));
        // Debian's MySQL names /var/run/..., the same as /run/...
        let mysql = "[client]\nsocket   = /var/run/mysqld/mysqld.sock\n[mysql_upgrade]\nsocket   = /var/run/mysqld/mysqld.sock\n";
        assert!(debian_cnf_socket_ok(
            mysql,
            "/run/mysqld/mysqld.sock",
            false
        ));
        assert!(!debian_cnf_socket_ok(mysql, custom, true));
        // Back to the packaged socket after a custom one.
        let edited = format!("[client]\nsocket = {custom}\n[mysql_upgrade]\nsocket = {custom}\n");
        assert!(debian_cnf_socket_ok(&edited, custom, true));
        assert!(!debian_cnf_socket_ok(
            &edited,
            "/run/mysqld/mysqld.sock",
            false
        ));

        // The edit, run with the local sh and awk on MariaDB's and MySQL's files.
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("debian.cnf");
        for (original, want) in [
            (
                "# comment\n[client]\nhost     = localhost\nuser     = root\n[mysql_upgrade]\nhost     = localhost\nuser     = root\n# end\n",
                "# comment\n[client]\nhost     = localhost\nuser     = root\nsocket   = /var/run/custom/mysql.sock\n[mysql_upgrade]\nhost     = localhost\nuser     = root\n# end\nsocket   = /var/run/custom/mysql.sock\n",
            ),
            (
                "[client]\nhost     = localhost\nsocket   = /var/run/mysqld/mysqld.sock\n\n[mysql_upgrade]\nsocket   = /var/run/mysqld/mysqld.sock\n[other]\nsocket = /x\n",
                "[client]\nhost     = localhost\nsocket   = /var/run/custom/mysql.sock\n\n[mysql_upgrade]\nsocket   = /var/run/custom/mysql.sock\n[other]\nsocket = /x\n",
            ),
        ] {
            std::fs::write(&file, original).unwrap();
            let script = set_socket_command(file.to_str().unwrap(), custom);
            let out = std::process::Command::new("sh").arg("-c").arg(&script).output().unwrap();
            assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
            let edited = std::fs::read_to_string(&file).unwrap();
            assert_eq!(edited, want);
            // Run again: the same file.
            std::process::Command::new("sh").arg("-c").arg(&script).output().unwrap();
            assert_eq!(std::fs::read_to_string(&file).unwrap(), want);
            let listing: String = edited
                .lines()
                .filter(|l| l.starts_with('[') || l.starts_with("socket"))
                .map(|l| format!("{l}\n"))
                .collect();
            assert!(debian_cnf_socket_ok(&listing, custom, true), "{edited}");
        }
    }
}
