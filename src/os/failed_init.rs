//! A server package whose configure script failed to create its data directory.
//!
//! Debian's mysql-server postinst initialises an empty `/var/lib/mysql` with `mysqld
//! --initialize-insecure` and an init file ending in `SHUTDOWN;`; MySQL 9.7 sometimes
//! fails there ("[MY-010943] System views initialization failed", then MY-013236 "the
//! designated data directory is unusable"), seen about once in 10 to 60 installs on a
//! quiet machine. The package is then half-configured and the directory holds a broken,
//! never-started database, so a plain re-run cannot finish: `dpkg --configure -a`
//! re-runs the postinst, which now finds a non-empty directory and takes its upgrade
//! branch. mhactl notes *before* installing that the directory was empty or absent;
//! only then, after a failed install, does it move what the failed initialisation left
//! into a dated directory beside it (nothing is deleted) and configure the package again.

use crate::transport::shell_quote;

/// The data directory Debian's server packages initialise (their postinst's
/// `mysql_statedir`), whatever `datadir` the inventory sets: mhactl moves its own data
/// directory later (step `data-directory`).
pub const PACKAGED_DATADIR: &str = "/var/lib/mysql";

/// mhactl's note, written before the install, that [`PACKAGED_DATADIR`] was empty or
/// absent: what makes moving a broken one aside safe (it holds no one's data), in this
/// run and in a re-run after it.
pub const EMPTY_BEFORE_INSTALL: &str = "/var/lib/mhactl/datadir-empty-before-install";

/// How often a failed initialisation is set aside and the package configured again
/// before the install fails for good.
pub const RETRIES: usize = 3;

/// Writes [`EMPTY_BEFORE_INSTALL`] when the packaged data directory is absent or
/// empty (`lost+found` aside, as the postinst counts it); leaves an existing note (a
/// re-run after a failed initialisation finds the directory non-empty).
pub fn note_empty_datadir_command() -> String {
    let d = shell_quote(PACKAGED_DATADIR);
    let m = shell_quote(EMPTY_BEFORE_INSTALL);
    format!(
        "if [ ! -e {d} ] || [ -z \"$(ls -A -I lost+found {d} 2>/dev/null)\" ]; then \
         mkdir -p -m 700 /var/lib/mhactl && date -u +%Y-%m-%dT%H:%M:%SZ > {m}; fi"
    )
}

/// Moves what a failed initialisation left in the packaged data directory into
/// `/var/lib/mysql.failed-init-<UTC time>` (the directory itself, its owner and mode
/// stay) and prints that path. Does nothing and prints `mhactl: not empty before` when
/// mhactl's note is missing (the data is not known to be the failed initialisation's),
/// and `mhactl: server running` while a server process runs.
pub fn set_aside_failed_init_command() -> String {
    let d = shell_quote(PACKAGED_DATADIR);
    let m = shell_quote(EMPTY_BEFORE_INSTALL);
    format!(
        "[ -f {m} ] || {{ echo 'mhactl: not empty before'; exit 0; }}; \
         if pgrep -x mysqld >/dev/null || pgrep -x mariadbd >/dev/null; then echo 'mhactl: server running'; exit 0; fi; \
         [ -n \"$(ls -A {d} 2>/dev/null)\" ] || exit 0; \
         t={d}.failed-init-$(date -u +%Y%m%dT%H%M%SZ); mkdir -m 700 \"$t\" && \
         find {d} -mindepth 1 -maxdepth 1 -exec mv -t \"$t\" {{}} + && echo \"$t\""
    )
}

/// What [`set_aside_failed_init_command`] printed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetAside {
    /// The failed initialisation's files are now in this directory.
    MovedTo(String),
    /// The directory was already empty: configuring again may still help.
    NothingThere,
    /// mhactl did not see the directory empty before the install: left alone.
    NotEmptyBefore,
    /// A server process runs: left alone.
    ServerRunning,
}

/// Parses [`set_aside_failed_init_command`]'s output.
pub fn parse_set_aside(stdout: &str) -> SetAside {
    match stdout.trim() {
        "" => SetAside::NothingThere,
        "mhactl: not empty before" => SetAside::NotEmptyBefore,
        "mhactl: server running" => SetAside::ServerRunning,
        path => SetAside::MovedTo(path.lines().last().unwrap_or(path).to_string()),
    }
}

/// Removes mhactl's note once the server package is installed.
pub fn forget_empty_datadir_command() -> String {
    format!(
        "rm -f {}; rmdir /var/lib/mhactl 2>/dev/null || true",
        shell_quote(EMPTY_BEFORE_INSTALL)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_aside_outputs() {
        assert_eq!(parse_set_aside("\n"), SetAside::NothingThere);
        assert_eq!(
            parse_set_aside("mhactl: not empty before\n"),
            SetAside::NotEmptyBefore
        );
        assert_eq!(
            parse_set_aside("mhactl: server running\n"),
            SetAside::ServerRunning
        );
        assert_eq!(
            parse_set_aside("/var/lib/mysql.failed-init-20261127T020000Z\n"),
            SetAside::MovedTo("/var/lib/mysql.failed-init-20261127T020000Z".into())
        );
    }

    /// The note is written only for an absent or empty directory, and the move keeps
    /// the directory itself (its owner and mode are the package's).
    #[test]
    fn commands_guard_what_they_touch() {
        let note = note_empty_datadir_command();
        assert!(note.starts_with(
            "if [ ! -e /var/lib/mysql ] || [ -z \"$(ls -A -I lost+found /var/lib/mysql"
        ));
        let aside = set_aside_failed_init_command();
        assert!(aside.starts_with("[ -f /var/lib/mhactl/datadir-empty-before-install ] ||"));
        assert!(aside.contains("find /var/lib/mysql -mindepth 1 -maxdepth 1 -exec mv -t"));
        assert!(!aside.contains("rm "));
    }
}
