//! What a package manager says it is doing while it installs, one line of its output at
//! a time: apt's status lines (`-o APT::Status-Fd=1`, see
//! [`PackageManager::install_command`]) and dnf/yum's transaction lines. Pure parsers:
//! the install step feeds them the command's output as it arrives and shows the result
//! on the step's progress line.

use super::PackageManager;

/// The activity an output line reports, as shown (`apt: unpacking mariadb-server
/// (31%)`, `dnf: installing mariadb-server-10.5.22-1.el9.x86_64 (3/12)`); `None` for a
/// line that reports none (apt's ordinary output, dnf's tables).
pub fn parse_progress_line(pm: PackageManager, line: &str) -> Option<String> {
    match pm {
        PackageManager::Apt => apt_status(line),
        PackageManager::Yum | PackageManager::Dnf => rpm_transaction(pm, line),
    }
}

/// Is `line` one of apt's status lines, which the install command mixes into its
/// standard output (left out of a failure's quoted output: it says what failed in its
/// own lines)?
pub fn is_status_line(pm: PackageManager, line: &str) -> bool {
    pm == PackageManager::Apt && APT_STATUS_KINDS.iter().any(|k| line.starts_with(k))
}

const APT_STATUS_KINDS: [&str; 5] = [
    "pmstatus:",
    "dlstatus:",
    "pmerror:",
    "pmconffile:",
    "media-change:",
];

/// apt's `pmstatus:PACKAGE:PERCENT:MESSAGE` (dpkg working) and
/// `dlstatus:N:PERCENT:MESSAGE` (downloading), as apt's README.progress-reporting
/// describes them; errors and conffile prompts are not progress.
fn apt_status(line: &str) -> Option<String> {
    let line = line.trim_end();
    let rest = line
        .strip_prefix("pmstatus:")
        .or_else(|| line.strip_prefix("dlstatus:"))?;
    let mut fields = rest.splitn(3, ':');
    let _package_or_file = fields.next()?;
    let percent: f64 = fields.next()?.trim().parse().ok()?;
    let message = fields.next()?.trim();
    if message.is_empty() {
        return None;
    }
    let message = strip_architecture(message);
    Some(format!(
        "apt: {} ({}%)",
        lower_first(message),
        percent.clamp(0.0, 100.0).floor() as u32
    ))
}

/// `Unpacking mariadb-server (amd64)` → `Unpacking mariadb-server`: the architecture
/// says nothing on a one-architecture node, and the percentage follows in parentheses.
fn strip_architecture(message: &str) -> &str {
    match message.rsplit_once(" (") {
        Some((head, arch))
            if arch.ends_with(')')
                && arch[..arch.len() - 1]
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-') =>
        {
            head
        }
        _ => message,
    }
}

/// dnf's and yum's transaction lines, `  Installing       : NAME   3/12` (also
/// `Running scriptlet`, `Verifying`, `Upgrading`, ...) and their download lines,
/// `(3/12): NAME.rpm   1.2 MB/s | 123 kB   00:00`.
fn rpm_transaction(pm: PackageManager, line: &str) -> Option<String> {
    let tool = match pm {
        PackageManager::Yum => "yum",
        _ => "dnf",
    };
    let trimmed = line.trim();
    if let Some(rest) = trimmed.strip_prefix('(') {
        let (count, rest) = rest.split_once("):")?;
        let (done, total) = count_of(count)?;
        let file = rest.split_whitespace().next()?;
        return Some(format!("{tool}: downloading {file} ({done}/{total})"));
    }
    let (verb, rest) = trimmed.split_once(':')?;
    let verb = verb.trim();
    if !RPM_VERBS.contains(&verb) {
        return None;
    }
    let mut words: Vec<&str> = rest.split_whitespace().collect();
    let (done, total) = count_of(words.pop()?)?;
    let what = words.join(" ");
    let verb = verb.to_ascii_lowercase();
    Some(match what.is_empty() {
        true => format!("{tool}: {verb} ({done}/{total})"),
        false => format!("{tool}: {verb} {what} ({done}/{total})"),
    })
}

/// The transaction phases dnf and yum print (`dnf/cli/output.py`'s action names).
const RPM_VERBS: [&str; 12] = [
    "Preparing",
    "Installing",
    "Upgrading",
    "Updating",
    "Reinstalling",
    "Downgrading",
    "Obsoleting",
    "Erasing",
    "Cleanup",
    "Running scriptlet",
    "Verifying",
    "Installed",
];

/// `3/12` → (3, 12).
fn count_of(text: &str) -> Option<(u32, u32)> {
    let (done, total) = text.trim().split_once('/')?;
    Some((done.trim().parse().ok()?, total.trim().parse().ok()?))
}

fn lower_first(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines of a real `apt-get -o APT::Status-Fd=1 install` (Debian 12, the lab), with
    /// what each shows.
    const APT: &[(&str, Option<&str>)] = &[
        (
            "dlstatus:1:0:Retrieving file 1 of 40",
            Some("apt: retrieving file 1 of 40 (0%)"),
        ),
        (
            "dlstatus:12:31.9876:Retrieving file 12 of 40",
            Some("apt: retrieving file 12 of 40 (31%)"),
        ),
        (
            "pmstatus:dpkg-exec:0:Running dpkg",
            Some("apt: running dpkg (0%)"),
        ),
        (
            "pmstatus:mariadb-server:12.5:Unpacking mariadb-server (amd64)",
            Some("apt: unpacking mariadb-server (12%)"),
        ),
        (
            "pmstatus:mariadb-server:64.2857:Configuring mariadb-server (amd64)",
            Some("apt: configuring mariadb-server (64%)"),
        ),
        (
            "pmstatus:man-db:98.75:Running post-installation trigger man-db (amd64)",
            Some("apt: running post-installation trigger man-db (98%)"),
        ),
        (
            "pmstatus:libfoo:50:Installing libfoo (x32-abi)",
            Some("apt: installing libfoo (50%)"),
        ),
        (
            "pmerror:/var/cache/apt/archives/x.deb:40:subprocess failed",
            None,
        ),
        (
            "pmconffile:/etc/mysql/my.cnf:50:'/etc/mysql/my.cnf.dpkg-new' 1",
            None,
        ),
        ("Setting up mariadb-server (1:10.11.11-0+deb12u1) ...", None),
        ("pmstatus:broken", None),
        ("pmstatus:x:not-a-number:Unpacking x", None),
        ("", None),
    ];

    #[test]
    fn apt_status_lines() {
        for (line, shown) in APT {
            assert_eq!(
                parse_progress_line(PackageManager::Apt, line).as_deref(),
                *shown,
                "{line}"
            );
        }
        assert!(is_status_line(
            PackageManager::Apt,
            "pmstatus:dpkg-exec:0:Running dpkg"
        ));
        assert!(!is_status_line(PackageManager::Apt, "Setting up x ..."));
        assert!(!is_status_line(PackageManager::Dnf, "pmstatus:x:0:y"));
    }

    /// A whole recorded output (the lab's Debian 12: `apt-get -o APT::Status-Fd=1
    /// install --reinstall socat`), read line by line as the install step reads it.
    #[test]
    fn a_recorded_apt_install() {
        let text = include_str!("../../tests/fixtures/apt/status-fd-reinstall.txt");
        let shown: Vec<String> = text
            .lines()
            .filter_map(|l| parse_progress_line(PackageManager::Apt, l))
            .collect();
        assert_eq!(
            shown,
            [
                "apt: retrieving file 1 of 1 (0%)",
                "apt: retrieving file 1 of 1 (100%)",
                "apt: running dpkg (0%)",
                "apt: preparing socat (0%)",
                "apt: unpacking socat (20%)",
                "apt: installing socat (40%)",
                "apt: running dpkg (40%)",
                "apt: preparing to configure socat (40%)",
                "apt: configuring socat (60%)",
                "apt: installed socat (80%)",
            ]
        );
        let kept = text
            .lines()
            .filter(|l| !is_status_line(PackageManager::Apt, l));
        assert_eq!(
            kept.count(),
            11,
            "apt's own lines stay for a failure's quote"
        );
    }

    /// Lines of `dnf -y install` (EL9) and `yum -y install` (EL7).
    const DNF: &[(&str, Option<&str>)] = &[
        (
            "(3/12): mariadb-server-10.5.22-1.el9_2.x86_64.rpm  9.6 MB/s | 9.9 MB     00:01",
            Some("dnf: downloading mariadb-server-10.5.22-1.el9_2.x86_64.rpm (3/12)"),
        ),
        (
            "  Preparing        :                                                        1/1 ",
            Some("dnf: preparing (1/1)"),
        ),
        (
            "  Installing       : mariadb-connector-c-config-3.2.6-1.el9_0.noarch      1/12 ",
            Some("dnf: installing mariadb-connector-c-config-3.2.6-1.el9_0.noarch (1/12)"),
        ),
        (
            "  Running scriptlet: mariadb-server-3:10.5.22-1.el9_2.x86_64              9/12 ",
            Some("dnf: running scriptlet mariadb-server-3:10.5.22-1.el9_2.x86_64 (9/12)"),
        ),
        (
            "  Verifying        : keepalived-2.2.8-3.el9.x86_64                       12/12 ",
            Some("dnf: verifying keepalived-2.2.8-3.el9.x86_64 (12/12)"),
        ),
        ("Installed:", None),
        ("  keepalived-2.2.8-3.el9.x86_64", None),
        ("Total download size: 21 M", None),
        ("Complete!", None),
    ];

    #[test]
    fn dnf_and_yum_transaction_lines() {
        for (line, shown) in DNF {
            assert_eq!(
                parse_progress_line(PackageManager::Dnf, line).as_deref(),
                *shown,
                "{line}"
            );
        }
        assert_eq!(
            parse_progress_line(
                PackageManager::Yum,
                "  Installing : keepalived-1.3.5-19.el7.x86_64                            3/3"
            )
            .as_deref(),
            Some("yum: installing keepalived-1.3.5-19.el7.x86_64 (3/3)")
        );
    }
}
