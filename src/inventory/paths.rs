//! Path fields that name files on the nodes (`mysql.datadir`, `socket`, `pid_file`,
//! `log_error`): the rules checked before anything runs.
//!
//! Bootstrap creates the directory of each of these paths for the server's user (or,
//! for a file directly in a shared directory like `/var/log`, the file itself), so a
//! path that points into the system would hand a system directory or file to mysql
//! (`log_error: /etc/passwd`, a socket under `/root/.ssh`). Every path must therefore be
//!
//! - absolute and normalised (no `//`, `.` or `..` components; only a directory may end
//!   in `/`), at most 4,095 bytes with components of at most 255;
//! - made of letters, digits and `. _ - + @` only: the path is pasted into my.cnf,
//!   tmpfiles.d (where `%` is a specifier), AppArmor rules (globs) and SELinux file
//!   specs (regular expressions), and none of those quote;
//! - outside the system's own locations, [`SYSTEM_LOCATIONS`] (and never in or at a
//!   credential directory such as `.ssh`, nor a user's home directory itself).
//!
//! The same check is applied on the node to the path as the node resolves it (through
//! symlinks), by `bootstrap::path_safety`, which also enforces the ownership rule: a
//! directory or file mhactl would use must be new or already the server's.

use super::MysqlSettings;
use std::path::Path;

/// Locations that belong to the operating system, its package manager, its services or
/// its administrators. Neither a path of the inventory nor anything below it may be
/// one of them: mhactl would create, own, label or let mysqld write there.
///
/// The principle: the FHS trees the OS owns (`/bin`, `/boot`, `/dev`, `/etc`, `/lib*`,
/// `/proc`, `/sbin`, `/sys`, `/usr` except site directories under `/usr/local`), root's
/// home, the package managers' and systemd's state, the mail and spool trees, and the
/// run-time directories of sshd, systemd and user sessions.
pub const SYSTEM_LOCATIONS: &[&str] = &[
    "/bin",
    "/boot",
    "/dev",
    "/etc",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/proc",
    "/root",
    "/sbin",
    "/snap",
    "/sys",
    "/usr",
    "/var/lib/apt",
    "/var/lib/dpkg",
    "/var/lib/dnf",
    "/var/lib/rpm",
    "/var/lib/yum",
    "/var/lib/systemd",
    "/var/cache",
    "/var/spool",
    "/var/mail",
    "/var/empty",
    "/var/log/journal",
    "/run/systemd",
    "/run/sshd",
    "/run/user",
    "/run/lock",
];

/// Directories under `/usr/local` that are the OS's search paths, not a site's own
/// software (`/usr/local/mysql/data`, a tarball install, is allowed).
const USR_LOCAL_SYSTEM: &[&str] = &[
    "bin", "sbin", "lib", "lib64", "libexec", "include", "share", "etc", "man", "src", "games",
];

/// Directory names that hold credentials wherever they are.
const CREDENTIAL_DIRS: &[&str] = &[".ssh", ".gnupg"];

/// Why `path` (absolute, normalised, without a trailing `/`) is a system location, or
/// `None` when it is not. `/var/run/...` is judged as `/run/...` (a symlink to it).
pub fn system_location(path: &str) -> Option<String> {
    let judged = match path.strip_prefix("/var/run") {
        Some(rest) if rest.is_empty() || rest.starts_with('/') => format!("/run{rest}"),
        _ => path.to_string(),
    };
    let within = |root: &str| judged == root || judged.starts_with(&format!("{root}/"));
    if let Some(rest) = judged.strip_prefix("/usr/local/") {
        let first = rest.split('/').next().unwrap_or("");
        if !USR_LOCAL_SYSTEM.contains(&first) {
            return credential_dir(&judged);
        }
    }
    if let Some(root) = SYSTEM_LOCATIONS.iter().find(|r| within(r)) {
        return Some(format!(
            "it is in {root}, which belongs to the operating system"
        ));
    }
    if let Some(why) = credential_dir(&judged) {
        return Some(why);
    }
    let parts: Vec<&str> = judged.split('/').filter(|s| !s.is_empty()).collect();
    if parts.len() == 2 && parts[0] == "home" {
        return Some(format!(
            "{judged} is a user's home directory (sshd refuses logins when it changes owner)"
        ));
    }
    None
}

fn credential_dir(path: &str) -> Option<String> {
    path.split('/')
        .find(|c| CREDENTIAL_DIRS.contains(c))
        .map(|c| format!("it is in a `{c}` directory, which holds credentials"))
}

/// The syntax problem of a node path, if any: absolute, normalised, allowed characters,
/// length. `dir` allows one trailing `/`.
pub fn path_syntax_problem(text: &str, dir: bool) -> Option<String> {
    if text.is_empty() {
        return Some("must not be empty".into());
    }
    if !text.starts_with('/') {
        return Some(format!(
            "{text:?} must be an absolute path (it is a path on the nodes)"
        ));
    }
    if text.len() > 4095 {
        return Some(format!(
            "is {} bytes long; paths on Linux are at most 4095",
            text.len()
        ));
    }
    if let Some(bad) = text
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "/._-+@".contains(*c)))
    {
        let what = match bad {
            ' ' => "a space".to_string(),
            c if c.is_whitespace() || c.is_control() => "a control character".to_string(),
            c => format!("`{c}`"),
        };
        return Some(format!(
            "{text:?} contains {what}: spaces, quotes and other special characters are not \
             allowed in paths (only letters, digits and `/ . _ - + @`), because the path is \
             written unquoted into my.cnf, tmpfiles.d, AppArmor and SELinux rules"
        ));
    }
    let body = text.strip_suffix('/').filter(|_| dir).unwrap_or(text);
    if body.is_empty() || body == "/" {
        return Some("must not be the root directory".into());
    }
    if !dir && text.ends_with('/') {
        return Some(format!(
            "{text:?} ends in `/`, which names a directory; give the file's path"
        ));
    }
    let parts: Vec<&str> = body[1..].split('/').collect();
    if parts
        .iter()
        .any(|p| p.is_empty() || *p == "." || *p == "..")
    {
        let normal: Vec<&str> = parts
            .iter()
            .copied()
            .filter(|p| !p.is_empty() && *p != ".")
            .collect();
        let hint = if parts.contains(&"..") {
            "`..` is not allowed: write the path it means".to_string()
        } else {
            format!("write it as \"/{}\"", normal.join("/"))
        };
        return Some(format!("{text:?} is not a normalised path; {hint}"));
    }
    if let Some(long) = parts.iter().find(|p| p.len() > 255) {
        return Some(format!(
            "the component {:?}... is longer than 255 bytes",
            &long[..20]
        ));
    }
    None
}

/// Every problem with the server's path fields, as (field, message): syntax, system
/// locations, the locations the server's directories would take over, the socket's
/// length limit, and files that coincide with each other or with the data directory.
pub fn check_server_paths(m: &MysqlSettings) -> Vec<(String, String)> {
    let mut p = Vec::new();
    for (field, path, is_dir) in [
        ("mysql.datadir", &m.datadir, true),
        ("mysql.socket", &m.socket, false),
        ("mysql.log_error", &m.log_error, false),
        ("mysql.pid_file", &m.pid_file, false),
    ] {
        let Some(path) = path else { continue };
        let text = path.to_string_lossy();
        if let Some(msg) = path_syntax_problem(&text, is_dir) {
            p.push((field.to_string(), msg));
            continue;
        }
        if let Some(why) = location_problem(&text, is_dir) {
            p.push((field.to_string(), why));
        } else if is_dir && SHARED_DIRS.contains(&text.trim_end_matches('/')) {
            p.push((
                field.to_string(),
                format!(
                    "{text:?} is a system directory; use a directory of its own (e.g. /data/mysql)"
                ),
            ));
        }
    }
    if let Some(s) = &m.socket {
        // sun_path holds 108 bytes with the terminating NUL.
        if s.as_os_str().len() > 107 {
            p.push((
                "mysql.socket".into(),
                format!(
                    "{:?} is longer than 107 bytes, the limit of a unix socket path",
                    s.display()
                ),
            ));
        }
    }
    let files = [
        ("mysql.socket", &m.socket),
        ("mysql.log_error", &m.log_error),
        ("mysql.pid_file", &m.pid_file),
    ];
    let norm = |p: &Path| p.to_string_lossy().trim_end_matches('/').to_string();
    for (i, (field, path)) in files.iter().enumerate() {
        let Some(path) = path else { continue };
        if m.datadir.as_ref().is_some_and(|d| norm(path) == norm(d)) {
            p.push((
                field.to_string(),
                "must be a file, not the data directory".into(),
            ));
        }
        for (other, other_path) in &files[i + 1..] {
            if other_path.as_ref().is_some_and(|o| norm(o) == norm(path)) {
                p.push((field.to_string(), format!("must differ from {other}")));
            }
        }
    }
    p
}

/// Shared directories that may hold a server file but never be the data directory.
const SHARED_DIRS: &[&str] = &["/var", "/tmp", "/home"];

/// For a valid path: the system location it or the directory mhactl would manage for
/// it is in, as a message.
fn location_problem(text: &str, is_dir: bool) -> Option<String> {
    let text = text.trim_end_matches('/');
    let why = system_location(text).or_else(|| {
        // A file's directory is what bootstrap creates and gives to mysql.
        let parent = Path::new(text).parent()?.to_string_lossy().to_string();
        (!is_dir).then(|| system_location(&parent)).flatten()
    })?;
    Some(format!(
        "{text} is a system location ({why}); mhactl would create or hand it (or its \
         directory) to the server's user. Use a directory of the server's own, e.g. {}",
        if is_dir {
            "/data/mysql"
        } else {
            "/run/mysqld/... or /var/log/mysql/..."
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_locations() {
        for bad in [
            "/etc/passwd",
            "/etc",
            "/root/.ssh",
            "/root",
            "/usr/bin",
            "/usr/local/bin",
            "/bin",
            "/lib64/x",
            "/proc/1",
            "/var/run/sshd",
            "/run/user/0",
            "/home/alice",
            "/home/alice/.ssh",
            "/data/.ssh/x",
            "/srv/x/.gnupg",
        ] {
            assert!(system_location(bad).is_some(), "{bad}");
        }
        for ok in [
            "/data/mysql",
            "/var/lib/mysql",
            "/run/mysqld",
            "/var/run/custom",
            "/var/log/mysql",
            "/usr/local/mysql/data",
            "/home/alice/db",
            "/srv/db",
            "/tmp",
        ] {
            assert!(system_location(ok).is_none(), "{ok}");
        }
    }

    #[test]
    fn syntax() {
        assert!(path_syntax_problem("/data/mysql", true).is_none());
        assert!(path_syntax_problem("/data/mysql/", true).is_none());
        assert!(path_syntax_problem("/data/mysql/", false)
            .unwrap()
            .contains("names a directory"));
        for bad in [
            "data/x",
            "/data/../etc/x",
            "/data//x",
            "/data/./x",
            "/a b",
            "/a%b",
            "/a*",
            "/a\nb",
            "/",
        ] {
            assert!(path_syntax_problem(bad, false).is_some(), "{bad:?}");
        }
        assert!(path_syntax_problem("/data//x", true)
            .unwrap()
            .contains("\"/data/x\""));
        let long = format!("/{}", "a".repeat(256));
        assert!(path_syntax_problem(&long, false).is_some());
    }

    #[test]
    fn server_path_fields() {
        let m = MysqlSettings {
            log_error: Some("/etc/passwd".into()),
            socket: Some("/root/.ssh/mysql.sock".into()),
            pid_file: Some("/usr/bin/mysqld.pid".into()),
            datadir: Some("/var/lib/dpkg/mysql".into()),
            ..Default::default()
        };
        let p = check_server_paths(&m);
        let fields: Vec<&str> = p.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            [
                "mysql.datadir",
                "mysql.socket",
                "mysql.log_error",
                "mysql.pid_file"
            ]
        );
        // A file directly in a shared directory is fine; its directory is not taken over.
        let m = MysqlSettings {
            log_error: Some("/var/log/mysqld.log".into()),
            socket: Some("/tmp/mysql.sock".into()),
            ..Default::default()
        };
        assert!(check_server_paths(&m).is_empty());
    }
}
