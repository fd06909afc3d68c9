//! What the node's keepalived can do, keyed by the version the node reports
//! (`keepalived --version`), so that a feature needing a newer keepalived falls back
//! cleanly on an older one instead of writing a configuration keepalived rejects.
//!
//! Facts (docs/compatibility.md cites them): keepalived's ChangeLog
//! (acassen/keepalived, `ChangeLog` at 9cbce3e2117fd7dfbddf3cd4c45dad6283189176)
//! lists "Add notify FIFO" under keepalived-1.3.6 (2017-09-15) and "Add track_process
//! for vrrp to monitor if another process is running" under keepalived-2.0.11
//! (2019-01-06). The distributions ship: EL7 1.3.5 (`keepalived-1.3.5-*.el7`),
//! EL8 2.1.5, EL9 2.2.8, Debian 12 2.2.7.

use crate::transport::shell_quote;
use anyhow::{anyhow, Result};

/// Prints keepalived's version banner (`Keepalived v2.2.8 (04/04,2023), ...`; older
/// releases print it on stderr). Exit 100 when keepalived is not installed.
pub const VERSION_COMMAND: &str =
    "command -v keepalived >/dev/null 2>&1 || exit 100; keepalived --version 2>&1 | head -n 1";

/// A keepalived release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeepalivedVersion {
    /// Major version.
    pub major: u32,
    /// Minor version.
    pub minor: u32,
    /// Patch level.
    pub patch: u32,
}

impl KeepalivedVersion {
    /// A version from its parts.
    pub const fn new(major: u32, minor: u32, patch: u32) -> Self {
        KeepalivedVersion {
            major,
            minor,
            patch,
        }
    }

    /// Parses [`VERSION_COMMAND`]'s banner: `Keepalived v1.3.5 (03/19,2017), git commit
    /// v1.3.5-6-g6fa32f2` or `Keepalived v2.2.8 (04/04,2023), git commit v2.2.7-154-g...`.
    pub fn parse(banner: &str) -> Result<Self> {
        let word = banner
            .split_whitespace()
            .find_map(|w| w.strip_prefix('v').or_else(|| w.strip_prefix('V')))
            .filter(|w| w.starts_with(|c: char| c.is_ascii_digit()))
            .ok_or_else(|| anyhow!("no keepalived version in {:?}", banner.trim()))?;
        let mut parts = word
            .split(|c: char| !c.is_ascii_digit())
            .take(3)
            .map(|p| p.parse::<u32>().unwrap_or(0));
        let mut next = || parts.next().unwrap_or(0);
        Ok(KeepalivedVersion::new(next(), next(), next()))
    }

    /// What this release supports.
    pub fn capabilities(self) -> KeepalivedCapabilities {
        KeepalivedCapabilities {
            notify_fifo: self >= NOTIFY_FIFO_SINCE,
            track_process: self >= TRACK_PROCESS_SINCE,
            track_file: self >= TRACK_FILE_SINCE,
        }
    }
}

impl std::fmt::Display for KeepalivedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)
    }
}

/// `notify_fifo` (global_defs and vrrp_instance) appeared in 1.3.6.
pub const NOTIFY_FIFO_SINCE: KeepalivedVersion = KeepalivedVersion::new(1, 3, 6);
/// `vrrp_track_process` / `track_process` appeared in 2.0.11.
pub const TRACK_PROCESS_SINCE: KeepalivedVersion = KeepalivedVersion::new(2, 0, 11);

/// `track_file` under that name (switchover's VIP release file): 2.1.0. The feature
/// appeared as `vrrp_track_file` in 2.0.0 (ChangeLog: "Add vrrp_track_file option"
/// under keepalived-2.0.0) and 2.2's keepalived.conf(5) calls that name "a deprecated
/// synonym"; 2.1 is the first release mhactl relies on (EL8's 2.1.5 and later).
pub const TRACK_FILE_SINCE: KeepalivedVersion = KeepalivedVersion::new(2, 1, 0);

/// keepalived features a configuration may use only where the node's release has them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeepalivedCapabilities {
    /// State changes written to a FIFO (`notify_fifo`), in order and without forking.
    pub notify_fifo: bool,
    /// Track a process by name (`vrrp_track_process`), instead of polling a script.
    pub track_process: bool,
    /// Track a file's value (`track_file`): switchover's VIP release file.
    pub track_file: bool,
}

/// The keepalived each distribution ships in its own repositories (what a node has
/// when nothing else was installed), for planning before the node is asked.
pub const DISTRIBUTION_KEEPALIVED: &[(&str, KeepalivedVersion)] = &[
    ("EL7", KeepalivedVersion::new(1, 3, 5)),
    ("EL8", KeepalivedVersion::new(2, 1, 5)),
    ("EL9", KeepalivedVersion::new(2, 2, 8)),
    ("Debian 12", KeepalivedVersion::new(2, 2, 7)),
];

/// Checks the candidate configuration `candidate` with keepalived itself (`-t`) and only
/// then moves it over `conf`; a rejected candidate is removed and keepalived's
/// complaint goes to stderr.
pub fn install_checked_config_command(candidate: &str, conf: &str) -> String {
    format!(
        "out=$(keepalived -t -f {c} 2>&1) || {{ echo \"$out\" >&2; rm -f {c}; exit 1; }}; mv -f {c} {f}",
        c = shell_quote(candidate),
        f = shell_quote(conf)
    )
}

/// [`install_checked_config_command`], then `reload` (the service manager's keepalived
/// reload), in one remote command: an interrupted run does not leave the new file on disk
/// with the old configuration still running (a re-run would find the file up to date and
/// not reload).
pub fn install_checked_and_reload_command(candidate: &str, conf: &str, reload: &str) -> String {
    format!(
        "{} && {reload}",
        install_checked_config_command(candidate, conf)
    )
}

/// Lists the IPv4 multicast groups each interface is a member of (the kernel's
/// `/proc/net/igmp`, of the node's network namespace): read by
/// [`speaks_multicast_vrrp`].
pub const MULTICAST_GROUPS_COMMAND: &str = "cat /proc/net/igmp";

/// VRRP's IPv4 multicast group 224.0.0.18 as `/proc/net/igmp` prints it (the address in
/// the host's byte order, hexadecimal: little- and big-endian).
const VRRP_GROUP_HEX: [&str; 2] = ["120000E0", "E0000012"];

/// Whether `interface` is a member of VRRP's multicast group in `igmp` (the output of
/// [`MULTICAST_GROUPS_COMMAND`]): a keepalived with a multicast instance there joined it
/// (the runbook's); one with only unicast instances (mhactl's) is not a member (it leaves
/// the group when a reload removes its last multicast instance: keepalived 2.2.7 and
/// 2.3.4 on the lab).
pub fn speaks_multicast_vrrp(igmp: &str, interface: &str) -> bool {
    let mut on_interface = false;
    for line in igmp.lines() {
        if !line.starts_with(char::is_whitespace) {
            // "2\teth0      :     2      V3": an interface's header.
            on_interface = line
                .split_whitespace()
                .nth(1)
                .is_some_and(|dev| dev == interface);
        } else if on_interface {
            let group = line.split_whitespace().next().unwrap_or_default();
            if VRRP_GROUP_HEX.iter().any(|g| g.eq_ignore_ascii_case(group)) {
                return true;
            }
        }
    }
    false
}

/// The file the address-owner configuration of keepalived's conversion
/// ([`OWNER_MARKER_NOTIFY`]) creates when its instance enters MASTER: the witness that
/// keepalived loaded it (a reload is a signal, processed later) before the node's own
/// configuration replaces it.
pub const OWNER_MARKER_PATH: &str = "/run/mhactl/keepalived-owner";

/// keepalived's `notify_master` in that configuration (a program and its argument, run
/// by keepalived without a shell). `/usr/bin/touch`, not `/bin/touch`: keepalived 2.3's
/// script security refuses a path through a symbolic link ("Wrong file type found in
/// script path '/bin/touch'", /bin being a link to usr/bin on Debian 12 and sid and on EL;
/// seen on the lab, keepalived 2.3.4; 2.2.7 ran it).
pub const OWNER_MARKER_NOTIFY: &str = "/usr/bin/touch /run/mhactl/keepalived-owner";

/// Removes [`OWNER_MARKER_PATH`] (before the reload that should create it, and after).
pub fn clear_owner_marker_command() -> String {
    format!("rm -f {}", shell_quote(OWNER_MARKER_PATH))
}

/// Exits 0 when [`OWNER_MARKER_PATH`] exists.
pub fn owner_marker_probe() -> String {
    format!("test -e {}", shell_quote(OWNER_MARKER_PATH))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caps(banner: &str) -> KeepalivedCapabilities {
        KeepalivedVersion::parse(banner).unwrap().capabilities()
    }

    #[test]
    fn parses_banners_of_old_and_new_releases() {
        assert_eq!(
            KeepalivedVersion::parse(
                "Keepalived v1.3.5 (03/19,2017), git commit v1.3.5-6-g6fa32f2"
            )
            .unwrap(),
            KeepalivedVersion::new(1, 3, 5)
        );
        assert_eq!(
            KeepalivedVersion::parse(
                "Keepalived v2.2.8 (04/04,2023), git commit v2.2.7-154-g292b299e+\n"
            )
            .unwrap(),
            KeepalivedVersion::new(2, 2, 8)
        );
        assert_eq!(
            KeepalivedVersion::parse("Keepalived v2.1.5 (07/13,2020)")
                .unwrap()
                .to_string(),
            "2.1.5"
        );
        assert!(KeepalivedVersion::parse("keepalived: command not found").is_err());
    }

    #[test]
    fn el7_has_neither_notify_fifo_nor_track_process() {
        let el7 = caps("Keepalived v1.3.5 (03/19,2017), git commit v1.3.5-6-g6fa32f2");
        assert!(
            !el7.notify_fifo && !el7.track_process && !el7.track_file,
            "{el7:?}"
        );
        assert!(!caps("Keepalived v2.0.20").track_file);
        assert!(caps("Keepalived v2.1.0").track_file);
        // The boundaries themselves.
        assert!(caps("Keepalived v1.3.6").notify_fifo);
        assert!(!caps("Keepalived v1.3.6").track_process);
        assert!(!caps("Keepalived v2.0.10").track_process);
        assert!(caps("Keepalived v2.0.11").track_process);
        // EL8 and EL9 have both.
        for (_, v) in &DISTRIBUTION_KEEPALIVED[1..] {
            let c = v.capabilities();
            assert!(
                c.notify_fifo && c.track_process && c.track_file,
                "{v}: {c:?}"
            );
        }
        assert_eq!(DISTRIBUTION_KEEPALIVED[0].1.capabilities(), el7);
    }
}

/// The node's keepalived from [`VERSION_COMMAND`]'s exit status and output: `None` when
/// it is not installed (exit 100); an error when it answers something that is no version.
pub fn parse_version_probe(status: i32, stdout: &str) -> Result<Option<KeepalivedVersion>> {
    if status == 100 {
        return Ok(None);
    }
    KeepalivedVersion::parse(stdout).map(Some)
}

#[cfg(test)]
mod probe_tests {
    use super::*;

    /// The candidate is checked, moved and reloaded in one command; a rejected candidate
    /// stops it before the move.
    #[test]
    fn install_and_reload_checks_before_it_moves_and_reloads() {
        let cmd = install_checked_and_reload_command(
            "/etc/keepalived/k.conf.new",
            "/etc/keepalived/k.conf",
            "service keepalived reload",
        );
        let check = cmd
            .find("keepalived -t -f /etc/keepalived/k.conf.new")
            .unwrap();
        let mv = cmd.find("mv -f /etc/keepalived/k.conf.new").unwrap();
        assert!(check < mv, "{cmd}");
        assert!(cmd.contains("exit 1; }; mv -f"), "{cmd}");
        assert!(
            cmd.ends_with("/etc/keepalived/k.conf && service keepalived reload"),
            "{cmd}"
        );
    }

    /// `/proc/net/igmp` as the lab's nodes showed it with the runbook's multicast
    /// keepalived, then after a reload into a unicast configuration (2.2.7 and 2.3.4).
    #[test]
    fn reads_the_vrrp_multicast_membership_per_interface() {
        let multicast = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n\
            1\tlo        :     1      V3\n\t\t\t\t010000E0     1 0:00000000\t\t0\n\
            2\teth0      :     2      V3\n\t\t\t\t120000E0     1 0:00000000\t\t0\n\
            \t\t\t\t010000E0     1 0:00000000\t\t0\n";
        let unicast = "Idx\tDevice    : Count Querier\tGroup    Users Timer\tReporter\n\
            1\tlo        :     1      V3\n\t\t\t\t010000E0     1 0:00000000\t\t0\n\
            2\teth0      :     1      V3\n\t\t\t\t010000E0     1 0:00000000\t\t0\n";
        assert!(speaks_multicast_vrrp(multicast, "eth0"));
        assert!(!speaks_multicast_vrrp(multicast, "lo"));
        assert!(!speaks_multicast_vrrp(multicast, "eth1"));
        assert!(!speaks_multicast_vrrp(unicast, "eth0"));
        assert!(!speaks_multicast_vrrp("", "eth0"));
    }

    #[test]
    fn reads_the_version_probe() {
        let v = parse_version_probe(
            0,
            "Keepalived v1.3.5 (03/19,2017), git commit v1.3.5-6-g6fa32f2\n",
        )
        .unwrap()
        .unwrap();
        assert!(!v.capabilities().track_process);
        assert_eq!(parse_version_probe(100, "").unwrap(), None);
        let err = parse_version_probe(0, "sh: 1: keepalived: Permission denied\n").unwrap_err();
        assert!(
            format!("{err:#}").starts_with("no keepalived version"),
            "{err:#}"
        );
    }
}
