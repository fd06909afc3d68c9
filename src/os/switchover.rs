//! The files a planned switchover drives on each node, and the shell around them.
//!
//! - [`FENCE_HOLD_PATH`]: while it exists, the fence agent keeps the server fenced and
//!   never unfences it, even as the VIP holder (the contract between switchover and the
//!   agent: templates/fence-agent.sh.tera). Switchover creates it on the old holder
//!   before fencing it and removes it at the end or on rollback.
//! - [`VIP_RELEASE_PATH`]: a keepalived `track_file` (keepalived >= 2.1, weight 0): a
//!   non-zero value puts this node's VRRP instance in FAULT, so the VIP moves to the peer
//!   without breaking anything; 0 (or no file) is normal. keepalived creates it with 0
//!   at start (`init_file`) — but only when its directory exists then: keepalived drops
//!   a track_file whose directory is missing (measured on the lab, keepalived 2.2.7), so
//!   after a reboot (/run is a tmpfs) the directory must be made and keepalived reloaded.
//!   [`RELEASE_TRACKING_PROBE`] tells whether the running keepalived watches it.

use crate::transport::shell_quote;

/// mhactl's runtime directory on every node (one definition, beside the fence agent's).
pub use super::fence::RUN_DIR;
/// While this file exists the fence agent never unfences the server.
pub const FENCE_HOLD_PATH: &str = "/run/mhactl/fence-hold";
/// keepalived's tracked file: non-zero = release the VIP (FAULT), 0 = normal.
pub const VIP_RELEASE_PATH: &str = "/run/mhactl/vip-release";
/// The name of the `track_file` block in keepalived.conf.
pub const VIP_RELEASE_TRACK_NAME: &str = "mhactl_vip_release";
/// keepalived's second tracked file (weight 1): its value is added to this node's
/// priority. Switchover writes [`TAKE_BOOST`] on the node taking the VIP just before the
/// release: a BACKUP's wait after the master's priority-0 advertisement is its skew time,
/// `(256 - priority) / 256 x advert_int`, so at priority 254 it takes over within ms
/// instead of ~0.65 s; `nopreempt` keeps a boosted BACKUP from taking the VIP before.
pub const VIP_TAKE_PATH: &str = "/run/mhactl/vip-take";
/// The name of its `track_file` block.
pub const VIP_TAKE_TRACK_NAME: &str = "mhactl_vip_take";
/// What switchover writes into [`VIP_TAKE_PATH`] (keepalived caps the priority at 254).
pub const TAKE_BOOST: u8 = 254;

/// Creates [`RUN_DIR`] if it is missing (an existing one keeps its owner and mode).
fn ensure_run_dir() -> String {
    format!("mkdir -p -m 0755 {}", shell_quote(RUN_DIR))
}

/// Creates the fence hold file.
pub fn create_hold_command() -> String {
    format!(
        "{} && : > {}",
        ensure_run_dir(),
        shell_quote(FENCE_HOLD_PATH)
    )
}

/// Removes the fence hold file (nothing to do when it is gone).
pub fn remove_hold_command() -> String {
    format!("rm -f {}", shell_quote(FENCE_HOLD_PATH))
}

/// Prints `present` when the fence hold file exists, else `absent`.
pub const HOLD_PROBE: &str =
    "if [ -e /run/mhactl/fence-hold ]; then echo present; else echo absent; fi";

/// Writes `value` into the release file: 1 releases the VIP, 0 is normal. Written in
/// place (keepalived reads the file on each inotify change of its directory).
pub fn set_release_command(value: u8) -> String {
    format!(
        "{} && echo {value} > {}",
        ensure_run_dir(),
        shell_quote(VIP_RELEASE_PATH)
    )
}

/// Writes `value` into the take file (0 is normal).
pub fn set_take_command(value: u8) -> String {
    format!(
        "{} && echo {value} > {}",
        ensure_run_dir(),
        shell_quote(VIP_TAKE_PATH)
    )
}

/// Prints the take file's value (`0` when it is missing or empty).
pub const TAKE_VALUE_PROBE: &str =
    "v=$(cat /run/mhactl/vip-take 2>/dev/null | tr -d '[:space:]'); echo ${v:-0}";

/// Prints the release file's value (`0` when it is missing or empty).
pub const RELEASE_VALUE_PROBE: &str =
    "v=$(cat /run/mhactl/vip-release 2>/dev/null | tr -d '[:space:]'); echo ${v:-0}";

/// Prints `tracked` when a running keepalived process watches [`RUN_DIR`] with inotify
/// (which it does for a `track_file` in it: /proc/PID/fdinfo lists the watched inode),
/// `untracked` when none does, `no-dir` when the directory is missing.
pub const RELEASE_TRACKING_PROBE: &str =
    "d=/run/mhactl; [ -d \"$d\" ] || { echo no-dir; exit 0; }; \
ino=$(printf '%x' \"$(stat -c %i \"$d\")\"); \
for p in $(pidof keepalived); do \
grep -qs \"^inotify.* ino:$ino \" /proc/\"$p\"/fdinfo/* && { echo tracked; exit 0; }; \
done; echo untracked";

/// Makes [`RUN_DIR`] and the release file (0) exist when missing: keepalived resolves a
/// track_file's path when it reads its configuration, and `keepalived -t` rejects one
/// that does not exist ("realpath() error 2"), while a running keepalived ignores it
/// (lab, keepalived 2.2.7). An existing file keeps its value.
pub fn ensure_release_file_command() -> String {
    let (f, t) = (shell_quote(VIP_RELEASE_PATH), shell_quote(VIP_TAKE_PATH));
    format!(
        "{} && {{ [ -e {f} ] || echo 0 > {f}; }} && {{ [ -e {t} ] || echo 0 > {t}; }}",
        ensure_run_dir()
    )
}

/// [`ensure_release_file_command`], then `reload` (the service manager's keepalived
/// reload, which keeps VRRP state) so that keepalived tracks the file.
pub fn track_release_command(reload: &str) -> String {
    format!("{} && {reload}", ensure_release_file_command())
}

/// What [`RELEASE_TRACKING_PROBE`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReleaseTracking {
    /// keepalived watches the release file's directory.
    Tracked,
    /// The directory exists but no keepalived watches it (started before it existed, or
    /// a configuration without the track_file).
    Untracked,
    /// The directory is missing (e.g. after a reboot).
    NoDir,
}

impl ReleaseTracking {
    /// Parses [`RELEASE_TRACKING_PROBE`]'s output.
    pub fn parse(out: &str) -> ReleaseTracking {
        match out.trim() {
            "tracked" => ReleaseTracking::Tracked,
            "no-dir" => ReleaseTracking::NoDir,
            _ => ReleaseTracking::Untracked,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_name_the_contract_paths() {
        assert_eq!(
            create_hold_command(),
            "mkdir -p -m 0755 /run/mhactl && : > /run/mhactl/fence-hold"
        );
        assert_eq!(remove_hold_command(), "rm -f /run/mhactl/fence-hold");
        assert_eq!(
            set_release_command(1),
            "mkdir -p -m 0755 /run/mhactl && echo 1 > /run/mhactl/vip-release"
        );
        assert_eq!(
            ensure_release_file_command(),
            "mkdir -p -m 0755 /run/mhactl && { [ -e /run/mhactl/vip-release ] || echo 0 > /run/mhactl/vip-release; } \
             && { [ -e /run/mhactl/vip-take ] || echo 0 > /run/mhactl/vip-take; }"
        );
        assert_eq!(
            set_take_command(254),
            "mkdir -p -m 0755 /run/mhactl && echo 254 > /run/mhactl/vip-take"
        );
        assert!(TAKE_VALUE_PROBE.contains(VIP_TAKE_PATH));
        assert!(HOLD_PROBE.contains(FENCE_HOLD_PATH));
        assert!(RELEASE_VALUE_PROBE.contains(VIP_RELEASE_PATH));
        assert!(RELEASE_TRACKING_PROBE.contains(RUN_DIR));
    }

    #[test]
    fn tracking_probe_output_parses() {
        assert_eq!(
            ReleaseTracking::parse("tracked\n"),
            ReleaseTracking::Tracked
        );
        assert_eq!(ReleaseTracking::parse("no-dir\n"), ReleaseTracking::NoDir);
        assert_eq!(
            ReleaseTracking::parse("untracked"),
            ReleaseTracking::Untracked
        );
        assert_eq!(ReleaseTracking::parse(""), ReleaseTracking::Untracked);
    }
}
