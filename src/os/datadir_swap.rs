//! The shell commands that swap a data directory for reinit on the node it rebuilds
//! (move it aside, create a fresh one, put it back, clean up), as pure functions of the
//! paths involved (so they are unit-tested here and read the same in the runbook), and
//! the parsing of the pre-flight probe's output.
//!
//! Names on the node: the data directory `D` is moved aside to `D.mhactl-<UTC stamp>`;
//! while a run is between that move and its end, `D.mhactl-reinit` (a file) names the
//! aside copy, so a run that was killed can be recognised and its aside copy reused.

use crate::transport::shell_quote;

/// The file next to the data directory that names the aside copy of a run in progress.
pub fn marker_path(datadir: &str) -> String {
    format!("{datadir}.mhactl-reinit")
}

/// The aside copy's name for a run that started at `stamp` (`date -u +%Y%m%dT%H%M%SZ`).
pub fn aside_path(datadir: &str, stamp: &str) -> String {
    format!("{datadir}.mhactl-{stamp}")
}

/// Prints the UTC stamp that names a run's aside copy (see [`aside_path`]).
pub const STAMP_QUERY: &str = "date -u +%Y%m%dT%H%M%SZ";

/// Exits 0 when the aside copy `aside` is there (a directory).
pub fn aside_exists_command(aside: &str) -> String {
    format!("[ -d {} ]", shell_quote(aside))
}

/// Is `path` an aside copy of `datadir` that reinit made (`D.mhactl-YYYYMMDDTHHMMSSZ`)?
/// Only these are ever removed, never anything else next to the data directory.
pub fn is_aside_copy(datadir: &str, path: &str) -> bool {
    let Some(stamp) = path.strip_prefix(&format!("{datadir}.mhactl-")) else {
        return false;
    };
    let b = stamp.as_bytes();
    b.len() == 16
        && b[8] == b'T'
        && b[15] == b'Z'
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit)
}

/// What the pre-flight probe found on the node (see [`probe_script`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Probe {
    /// The data directory exists.
    pub datadir_exists: bool,
    /// The data directory is the top of a file system (it cannot be renamed).
    pub mount_point: bool,
    /// Free KiB on the file system holding the data directory.
    pub free_kib: Option<u64>,
    /// The aside copy a killed run left (the marker's content), if any.
    pub marker: Option<String>,
    /// Aside copies of earlier runs (`D.mhactl-<stamp>` directories).
    pub asides: Vec<String>,
    /// The init tool, when found and runnable (`--help`/`--version` exits 0).
    pub init_tool: Option<String>,
    /// The init tool's output when it was found but does not run.
    pub init_tool_error: Option<String>,
    /// The client program (mariadb / mysql), when found.
    pub client: Option<String>,
}

/// One script that reads everything the pre-flight needs on the node, one `key=value`
/// line each (values never contain a newline; the init tool's error is flattened).
/// `init_check` runs the init tool harmlessly (`--help`, which exits 1 on MariaDB, so its
/// output is checked; `mysqld --version`).
pub fn probe_script(datadir: &str, init_check: &str) -> String {
    let d = shell_quote(datadir);
    let m = shell_quote(&marker_path(datadir));
    format!(
        "d={d}; parent=$(dirname \"$d\"); \
         if [ -d \"$d\" ]; then echo exists=1; \
           [ \"$(stat -c %d \"$d\")\" = \"$(stat -c %d \"$parent\")\" ] || echo mount_point=1; fi; \
         echo free_kib=$(df -Pk \"$parent\" | awk 'NR==2 {{print $4}}'); \
         if [ -f {m} ]; then echo marker=$(head -n 1 {m}); fi; \
         for a in \"$d\".mhactl-*; do [ -d \"$a\" ] && echo aside=$a; done; \
         {init_check}; \
         c=$(command -v mariadb || command -v mysql) && echo client=$c; true"
    )
}

/// The `init_check` part of [`probe_script`] for MariaDB's and MySQL's init tools.
pub fn init_check(flavor: crate::inventory::Flavor) -> &'static str {
    match flavor.family() {
        crate::inventory::ServerFamily::Mariadb => {
            "t=$(command -v mariadb-install-db || command -v mysql_install_db); \
             if [ -z \"$t\" ]; then echo 'init_error=neither mariadb-install-db nor mysql_install_db is installed'; \
             else o=$(\"$t\" --help 2>&1); \
               if printf '%s' \"$o\" | grep -q -e --datadir; then echo init_tool=$t; \
               else echo \"init_error=$t --help does not run: $(printf '%s' \"$o\" | tail -n 3 | tr '\\n' ' ')\"; fi; fi"
        }
        crate::inventory::ServerFamily::Mysql => {
            "t=$(command -v mysqld); \
             if [ -z \"$t\" ]; then echo 'init_error=mysqld is not installed'; \
             elif o=$(\"$t\" --version 2>&1); then echo init_tool=$t; \
             else echo \"init_error=$t --version failed: $(printf '%s' \"$o\" | tail -n 3 | tr '\\n' ' ')\"; fi"
        }
    }
}

/// Parse [`probe_script`]'s output.
pub fn parse_probe(out: &str) -> Probe {
    let mut p = Probe::default();
    for line in out.lines() {
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        let v = v.trim().to_string();
        match k {
            "exists" => p.datadir_exists = v == "1",
            "mount_point" => p.mount_point = v == "1",
            "free_kib" => p.free_kib = v.parse().ok(),
            "marker" if !v.is_empty() => p.marker = Some(v),
            "aside" => p.asides.push(v),
            "init_tool" => p.init_tool = Some(v),
            "init_error" => p.init_tool_error = Some(v),
            "client" => p.client = Some(v),
            _ => {}
        }
    }
    p
}

/// Move the data directory aside to `aside` (the marker first, so that a run killed
/// in between is recognised) and make an empty one owned by mysql (same mode; under
/// SELinux with the data directory's context again).
pub fn move_aside_command(datadir: &str, aside: &str) -> String {
    let (d, a, m) = (
        shell_quote(datadir),
        shell_quote(aside),
        shell_quote(&marker_path(datadir)),
    );
    format!(
        "set -e; if [ -e {a} ]; then echo \"{a} exists already\" >&2; exit 1; fi; \
         printf '%s\\n' {a} > {m}; mv {d} {a}; {}",
        fresh_dir_command(datadir)
    )
}

/// Replace the data directory by an empty one owned by mysql. Used on retry, when the
/// current directory is the fresh one a killed run made (its aside copy is kept).
pub fn fresh_dir_command(datadir: &str) -> String {
    let d = shell_quote(datadir);
    format!(
        "rm -rf {d}; mkdir -p {d}; chown mysql:mysql {d}; chmod 750 {d}; \
         if command -v restorecon >/dev/null 2>&1; then restorecon -R {d}; fi"
    )
}

/// Put the aside copy back as the data directory: the fresh directory (reinit made it)
/// is removed, the marker last. Does nothing when the aside copy is gone (already
/// restored), so it can run again.
pub fn restore_dir_command(datadir: &str, aside: &str) -> String {
    let (d, a, m) = (
        shell_quote(datadir),
        shell_quote(aside),
        shell_quote(&marker_path(datadir)),
    );
    format!(
        "set -e; if [ -d {a} ]; then rm -rf {d}; mv {a} {d}; \
         if command -v restorecon >/dev/null 2>&1; then restorecon -R {d}; fi; fi; rm -f {m}"
    )
}

/// After success: the marker goes, and so do the aside copies of earlier runs
/// (`older`, each checked with [`is_aside_copy`] by the caller).
pub fn finish_command(datadir: &str, older: &[String]) -> String {
    let mut script = format!("rm -f {}", shell_quote(&marker_path(datadir)));
    for a in older {
        script.push_str(&format!("; rm -rf {}", shell_quote(a)));
    }
    script
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aside_copies_are_recognised_by_their_exact_name() {
        let d = "/var/lib/mysql";
        assert!(is_aside_copy(d, "/var/lib/mysql.mhactl-20261126T133633Z"));
        assert!(!is_aside_copy(d, "/var/lib/mysql.mhactl-reinit"));
        assert!(!is_aside_copy(
            d,
            "/var/lib/mysql.mhactl-20261126T133633Z.x"
        ));
        assert!(!is_aside_copy(d, "/var/lib/mysql-20261126T133633Z"));
        assert!(!is_aside_copy(d, "/var/lib/other.mhactl-20261126T133633Z"));
    }

    #[test]
    fn probe_output_is_parsed() {
        let p = parse_probe(
            "exists=1\nfree_kib=123456\nmarker=/var/lib/mysql.mhactl-20261126T133633Z\n\
             aside=/var/lib/mysql.mhactl-20261126T133633Z\ninit_tool=/usr/bin/mariadb-install-db\n\
             client=/usr/bin/mariadb\n",
        );
        assert!(p.datadir_exists && !p.mount_point);
        assert_eq!(p.free_kib, Some(123456));
        assert_eq!(
            p.marker.as_deref(),
            Some("/var/lib/mysql.mhactl-20261126T133633Z")
        );
        assert_eq!(p.asides.len(), 1);
        assert_eq!(p.init_tool.as_deref(), Some("/usr/bin/mariadb-install-db"));
        assert_eq!(p.client.as_deref(), Some("/usr/bin/mariadb"));
    }

    /// The init tool's own error text reaches stderr: mariadb-install-db prints its
    /// errors on stdout (the old command sent stdout to /dev/null: "stderr: " was empty).
    #[test]
    fn the_init_tools_stdout_reaches_stderr_in_a_real_shell() {
        let tmp = tempfile::tempdir().unwrap();
        let bin = tmp.path().join("mariadb-install-db");
        std::fs::write(
            &bin,
            "#!/bin/sh\necho \"Neither host 'node-b' nor 'localhost' could be looked up\"\nexit 1\n",
        )
        .unwrap();
        std::process::Command::new("chmod")
            .args(["755", bin.to_str().unwrap()])
            .status()
            .unwrap();
        let script = super::super::datadir::initialise_command(
            crate::inventory::Flavor::Mariadb,
            tmp.path().join("data").to_str().unwrap(),
            "-",
        );
        let out = std::process::Command::new("sh")
            .args(["-c", &script])
            .env("PATH", format!("{}:/usr/bin:/bin", tmp.path().display()))
            .output()
            .unwrap();
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .contains("Neither host 'node-b' nor 'localhost' could be looked up"),
            "{out:?}"
        );
    }

    /// The probe, the move aside and the restore in a real shell on a scratch directory.
    #[test]
    fn probe_move_aside_and_restore_in_a_real_shell() {
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("mysql").display().to_string();
        std::fs::create_dir(&d).unwrap();
        std::fs::write(format!("{d}/ibdata1"), "old").unwrap();
        let sh = |script: &str| {
            let out = std::process::Command::new("sh")
                .args(["-c", script])
                .output()
                .unwrap();
            (
                out.status.success(),
                String::from_utf8_lossy(&out.stdout).into_owned(),
            )
        };
        let probe = parse_probe(&sh(&probe_script(&d, "echo init_tool=/bin/true")).1);
        assert!(probe.datadir_exists && probe.free_kib.is_some() && probe.marker.is_none());
        let aside = aside_path(&d, "20261126T133633Z");
        // chown mysql may fail where there is no mysql user: only the move is checked.
        let _ = sh(&move_aside_command(&d, &aside));
        assert_eq!(
            std::fs::read_to_string(format!("{aside}/ibdata1")).unwrap(),
            "old"
        );
        let probe = parse_probe(&sh(&probe_script(&d, "true")).1);
        assert_eq!(probe.marker.as_deref(), Some(aside.as_str()));
        assert_eq!(probe.asides, vec![aside.clone()]);
        std::fs::create_dir_all(&d).unwrap();
        std::fs::write(format!("{d}/ibdata1"), "fresh").unwrap();
        assert!(sh(&restore_dir_command(&d, &aside)).0);
        assert!(
            sh(&restore_dir_command(&d, &aside)).0,
            "a second restore is a no-op"
        );
        assert_eq!(
            std::fs::read_to_string(format!("{d}/ibdata1")).unwrap(),
            "old"
        );
        let probe = parse_probe(&sh(&probe_script(&d, "true")).1);
        assert!(probe.marker.is_none() && probe.asides.is_empty());
    }
}
