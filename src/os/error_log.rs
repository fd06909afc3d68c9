//! The server's error log as a file mhactl can quote: the shell commands that create
//! its default directory, measure it before a (re)start and read what the server
//! wrote since, and the masking applied before any of it reaches a message.
//!
//! Why: Debian's SysV start runs mysqld_safe with `syslog` (50-mysqld_safe.cnf), so on
//! a host without a syslog daemon the server's own explanation of a failed start is
//! lost, and the init script only says "Can't log to error log and syslog at the same
//! time". mhactl renders `log-error` on every flavor and quotes that file's new lines
//! when the server does not come up.

use crate::transport::shell_quote;

/// How many lines of the error log a failure message quotes at most.
pub const QUOTED_LINES: usize = 20;
/// How many of the new lines are read to pick the quoted ones from (a server start
/// writes a few dozen notes before the error that stops it).
const READ_LINES: usize = 400;
/// Longest line quoted (longer ones are cut: a message, not a dump).
const MAX_LINE: usize = 400;

/// Create the error log's directory for the server when it does not exist (Debian's
/// MariaDB 10.11 packages create no `/var/log/mysql`); an existing directory is left as
/// it is (mhactl never changes the owner of what it did not create). Debian's own
/// layout for it is `mysql:adm`, mode 2750 (the adm group reads logs).
pub fn ensure_dir_command(dir: &str) -> String {
    let d = shell_quote(dir);
    format!(
        "[ -d {d} ] || {{ g=mysql; getent group adm >/dev/null && g=adm; \
         install -d -o mysql -g \"$g\" -m 2750 {d}; }}"
    )
}

/// Exit 0 when the directory exists, 100 when it does not.
pub fn dir_exists_command(dir: &str) -> String {
    format!("[ -d {} ] || exit 100", shell_quote(dir))
}

/// The error log's size in bytes (0 when it does not exist yet), then the node's clock
/// (seconds since the epoch), one per line: where a failure's quote starts, in the file
/// and in the journal.
pub fn size_command(path: &str) -> String {
    format!(
        "stat -c %s {} 2>/dev/null || echo 0; date +%s",
        shell_quote(path)
    )
}

/// [`size_command`]'s output: (size, epoch seconds); zeros for what cannot be read.
pub fn parse_size(output: &str) -> (u64, u64) {
    let mut numbers = output.lines().map(|l| l.trim().parse::<u64>().unwrap_or(0));
    (numbers.next().unwrap_or(0), numbers.next().unwrap_or(0))
}

/// The last [`QUOTED_LINES`] lines systemd's journal holds for `unit` since `since`
/// (epoch seconds): under systemd a server that fails while parsing its options writes
/// that to stderr, which goes to the journal, before it opens its error log. Prints
/// nothing where there is no journalctl.
pub fn journal_since_command(unit: &str, since: u64) -> String {
    format!(
        "command -v journalctl >/dev/null 2>&1 || exit 0; \
         journalctl -u {} --since @{since} --no-pager -o cat 2>/dev/null | tail -n {QUOTED_LINES}",
        shell_quote(unit)
    )
}

/// The last [`READ_LINES`] lines written to `path` after its first `since` bytes
/// (all of it when it is shorter now: rotated or truncated). Prints
/// `mhactl: no such file` when the file does not exist.
pub fn tail_since_command(path: &str, since: u64) -> String {
    let f = shell_quote(path);
    format!(
        "f={f}; [ -f \"$f\" ] || {{ echo 'mhactl: no such file'; exit 0; }}; \
         s=$(stat -c %s \"$f\"); \
         if [ \"$s\" -ge {since} ]; then tail -c +{from} \"$f\"; else cat \"$f\"; fi \
         | tail -n {READ_LINES}",
        from = since + 1
    )
}

/// The lines to quote from [`tail_since_command`]'s output: the server's `[ERROR]`
/// (and `[FATAL]`, `[Critical]`) lines and the last line (mysqld_safe's "ended"), or,
/// when there is no such line, the last [`QUOTED_LINES`]; at most [`QUOTED_LINES`].
/// Blank lines dropped, control characters removed, long lines cut, and the temporary
/// root password that `mysqld --initialize` writes replaced by `********` (an error
/// message is no place for a credential, even an expired one). `None` when nothing is
/// left.
pub fn quotable_lines(output: &str) -> Option<Vec<String>> {
    pick_lines(output, ERROR_MARKERS, true)
}

/// Prints the `log-error` the server's option files give `mysqld` (empty: none).
pub const CONFIGURED_LOG_QUERY: &str =
    "my_print_defaults mysqld 2>/dev/null | sed -n 's/^--log[-_]error=//p' | tail -n 1";

/// Prints the lines of the error log `path` that hold the temporary root password
/// `mysqld --initialize` wrote (nothing when there are none, or no such file). Exits 0.
pub fn temporary_password_query(path: &str) -> String {
    format!(
        "grep -F {} {} 2>/dev/null || true",
        shell_quote(crate::dialect::TEMPORARY_PASSWORD_MARKER),
        shell_quote(path)
    )
}

/// The lines to quote when the cause may be in a warning (a failed `--initialize`
/// says only "System views initialization failed" as its error, after the warning that
/// tells why): the server's `[Warning]` and error lines and the last line, at most
/// [`QUOTED_LINES`], cleaned and masked like [`quotable_lines`].
pub fn quotable_lines_with_warnings(output: &str) -> Option<Vec<String>> {
    let mut markers = vec!["[Warning]"];
    markers.extend_from_slice(ERROR_MARKERS);
    pick_lines(output, &markers, false)
}

/// The markers of the server's error lines.
const ERROR_MARKERS: &[&str] = &["[ERROR]", "[FATAL]", "[Critical]", "[CRITICAL]"];

/// The cleaned lines holding one of `markers`, and the last line; when none holds one,
/// every line (`otherwise_all`) or only the last. At most [`QUOTED_LINES`], the latest.
fn pick_lines(output: &str, markers: &[&str], otherwise_all: bool) -> Option<Vec<String>> {
    let lines = clean_lines(output)?;
    let notable = |l: &str| markers.iter().any(|m| l.contains(m));
    let last = lines.len() - 1;
    let picked: Vec<String> = if otherwise_all && !lines.iter().any(|l| notable(l)) {
        lines
    } else {
        lines
            .iter()
            .enumerate()
            .filter(|(i, l)| notable(l) || *i == last)
            .map(|(_, l)| l.clone())
            .collect()
    };
    let skip = picked.len().saturating_sub(QUOTED_LINES);
    Some(picked.into_iter().skip(skip).collect())
}

fn clean_lines(output: &str) -> Option<Vec<String>> {
    let marker = crate::dialect::TEMPORARY_PASSWORD_MARKER;
    let lines: Vec<String> = output
        .lines()
        .map(|l| l.chars().filter(|c| !c.is_control()).collect::<String>())
        .map(|l| l.trim_end().to_string())
        .filter(|l| !l.is_empty())
        .map(|l| match l.find(marker.trim_end()) {
            Some(at) => format!("{}{marker}********", &l[..at]),
            None => l,
        })
        .map(|l| {
            if l.chars().count() > MAX_LINE {
                let cut: String = l.chars().take(MAX_LINE).collect();
                format!("{cut} [...]")
            } else {
                l
            }
        })
        .collect();
    (!lines.is_empty()).then_some(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_quote_the_path() {
        assert_eq!(
            size_command("/var/log/my log"),
            "stat -c %s '/var/log/my log' 2>/dev/null || echo 0; date +%s"
        );
        assert_eq!(parse_size("1234\n1764165600\n"), (1234, 1764165600));
        assert_eq!(parse_size("garbage"), (0, 0));
        let j = journal_since_command("mysqld", 1764165600);
        assert!(
            j.contains("journalctl -u mysqld --since @1764165600 --no-pager -o cat"),
            "{j}"
        );
        let tail = tail_since_command("/var/log/mysql/error.log", 120);
        assert!(tail.contains("tail -c +121 \"$f\""), "{tail}");
        assert!(tail.contains("tail -n 400"), "{tail}");
        let mk = ensure_dir_command("/var/log/mysql");
        assert!(mk.starts_with("[ -d /var/log/mysql ] ||"), "{mk}");
        assert!(mk.contains("install -d -o mysql -g \"$g\" -m 2750 /var/log/mysql"));
    }

    #[test]
    fn quoted_lines_never_hold_the_temporary_password() {
        let log = "2026-11-26T13:00:00.1Z 6 [Note] [MY-010454] [Server] A temporary password is \
                   generated for root@localhost: s3cr3t;Pw\n\n\
                   2026-11-26T13:00:01.2Z 0 [ERROR] [MY-000067] [Server] unknown variable 'bogus=1'.\x07\n";
        // The error line (also the last one); the note before it is not quoted.
        let lines = quotable_lines(log).unwrap();
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].ends_with("unknown variable 'bogus=1'."),
            "{lines:?}"
        );
        // Without an error line: the last lines, the password masked.
        let notes = "2026-11-26T13:00:00.1Z 6 [Note] [MY-010454] [Server] A temporary password is \
                     generated for root@localhost: s3cr3t;Pw\nsecond note\n";
        let lines = quotable_lines(notes).unwrap();
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(!lines.join("\n").contains("s3cr3t"), "{lines:?}");
        assert!(lines[0].ends_with("root@localhost: ********"), "{lines:?}");
        assert_eq!(quotable_lines("\n \n"), None);
        let long = "x".repeat(1000);
        assert!(quotable_lines(&long).unwrap()[0].ends_with(" [...]"));
    }

    #[test]
    fn a_long_start_up_is_quoted_by_its_errors() {
        let mut start: Vec<String> = (0..60)
            .map(|i| format!("0 [Note] InnoDB: note {i}"))
            .collect();
        start.push("0 [ERROR] /usr/sbin/mariadbd: unknown variable 'x=1'".into());
        start.push("0 [ERROR] Aborting".into());
        start.push(
            "261126 13:59:57 mysqld_safe mysqld from pid file /run/mysqld/mysqld.pid ended".into(),
        );
        let lines = quotable_lines(&start.join("\n")).unwrap();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[0].contains("unknown variable 'x=1'"), "{lines:?}");
        assert!(lines[2].ends_with("ended"), "{lines:?}");
        // Without errors, only the last QUOTED_LINES.
        let notes: Vec<String> = (0..60).map(|i| format!("note {i}")).collect();
        let lines = quotable_lines(&notes.join("\n")).unwrap();
        assert_eq!(lines.len(), QUOTED_LINES);
        assert_eq!(lines.last().unwrap(), "note 59");
    }
}
