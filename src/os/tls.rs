//! TLS files on a node (issue 19): where the CA, the server certificate and its key live
//! (beside the server's option files, where AppArmor and SELinux already let the server
//! read), owned by the server's user, and the probe that reports their owner, mode and
//! SHA-256 (never their content: the key is a secret).

use super::server_files::OsTarget;
use crate::quote::shell_quote;
use std::collections::BTreeMap;

/// The CA certificate's file name in [`tls_dir`].
pub const CA_FILE: &str = "ca.pem";
/// The server certificate's file name.
pub const CERT_FILE: &str = "server-cert.pem";
/// The server key's file name.
pub const KEY_FILE: &str = "server-key.pem";
/// The owner of the directory and files: the server's user (the packages' `mysql`).
pub const OWNER: &str = "mysql:mysql";
/// The directory's mode: the server's user only (and its group may list it).
pub const DIR_MODE: &str = "750";

/// The node's TLS directory: beside the server's option files.
pub fn tls_dir(target: &OsTarget) -> &'static str {
    if target.family.is_el() {
        "/etc/my.cnf.d/mhactl-tls"
    } else {
        "/etc/mysql/mhactl-tls"
    }
}

/// `dir/name`.
pub fn tls_path(target: &OsTarget, name: &str) -> String {
    format!("{}/{name}", tls_dir(target))
}

/// The mode each file must have: the key for the server's user only.
pub fn file_mode(name: &str) -> &'static str {
    if name == KEY_FILE {
        "600"
    } else {
        "644"
    }
}

/// Creates the directory (if missing) owned by the server's user.
pub fn prepare_dir_command(dir: &str) -> String {
    let d = shell_quote(dir);
    format!("set -e; mkdir -p -- {d}; chown {OWNER} -- {d}; chmod {DIR_MODE} -- {d}")
}

/// Gives the three files (written by root) to the server's user with their modes, and
/// their SELinux context where SELinux is present (a written file keeps its temporary
/// file's label).
pub fn secure_files_command(dir: &str) -> String {
    let mut s = String::from("set -e; ");
    for name in [CA_FILE, CERT_FILE, KEY_FILE] {
        let p = shell_quote(&format!("{dir}/{name}"));
        s.push_str(&format!(
            "chown {OWNER} -- {p}; chmod {} -- {p}; ",
            file_mode(name)
        ));
    }
    s.push_str(&format!(
        "if command -v restorecon >/dev/null 2>&1; then restorecon -R {}; fi",
        shell_quote(dir)
    ));
    s
}

/// One line per path: `NAME OWNER:GROUP MODE SHA256`, or `NAME missing`; the directory
/// first as `. OWNER:GROUP MODE -`.
pub fn probe_command(dir: &str) -> String {
    let d = shell_quote(dir);
    format!(
        "if [ -d {d} ]; then printf '. %s -\\n' \"$(stat -c '%U:%G %a' {d})\"; else echo '. missing'; fi; \
         for f in {CA_FILE} {CERT_FILE} {KEY_FILE}; do p={d}/$f; \
         if [ -f \"$p\" ]; then printf '%s %s %s\\n' \"$f\" \"$(stat -c '%U:%G %a' \"$p\")\" \
         \"$(sha256sum < \"$p\" | cut -d' ' -f1)\"; else echo \"$f missing\"; fi; done"
    )
}

/// A path as [`probe_command`] saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileState {
    /// `user:group`.
    pub owner: String,
    /// Octal mode (`644`).
    pub mode: String,
    /// SHA-256 of the content, hex (`-` for the directory).
    pub sha256: String,
}

/// Parses [`probe_command`]'s output: name (`.` the directory) → state; a missing path
/// is absent.
pub fn parse_probe(out: &str) -> BTreeMap<String, FileState> {
    out.lines()
        .filter_map(|l| {
            let w: Vec<&str> = l.split_whitespace().collect();
            match w.as_slice() {
                [name, owner, mode, sha] => Some((
                    name.to_string(),
                    FileState {
                        owner: owner.to_string(),
                        mode: mode.to_string(),
                        sha256: sha.to_string(),
                    },
                )),
                _ => None,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_output_parses() {
        let out = ". mysql:mysql 750 -\nca.pem mysql:mysql 644 abc\nserver-cert.pem missing\n\
                   server-key.pem mysql:mysql 600 def\n";
        let m = parse_probe(out);
        assert_eq!(m["."].mode, "750");
        assert_eq!(m["ca.pem"].sha256, "abc");
        assert!(!m.contains_key("server-cert.pem"));
        assert_eq!(m["server-key.pem"].owner, "mysql:mysql");
    }

    #[test]
    fn commands_quote_and_never_print_content() {
        let p = probe_command("/etc/mysql/mhactl-tls");
        assert!(p.contains("sha256sum") && !p.contains("cat "));
        let s = secure_files_command("/etc/mysql/mhactl-tls");
        assert!(
            s.contains("chmod 600 -- /etc/mysql/mhactl-tls/server-key.pem"),
            "{s}"
        );
    }
}
