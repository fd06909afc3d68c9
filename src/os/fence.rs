//! Where the write fence lives on a node (`writes: vip-holder`, issue 16 item 1) and the
//! shell commands around it: mhactl's runtime directory, the fence agent keepalived runs
//! (`vrrp_notify_fifo_script`), keepalived's notify FIFO, the agent's option file (its
//! login), whether the agent runs, and whether its login works.

use super::OsTarget;
use crate::transport::shell_quote;

/// mhactl's runtime directory on every node (root:root 0755; tmpfs, so it is gone after
/// a reboot: whoever needs it first creates it — the agent when it starts).
pub const RUN_DIR: &str = "/run/mhactl";

/// The agent's record of the last takeover (when it first held the VIP read-only, its
/// backlog, when it became writable), overwritten at each takeover; failover-test reads it.
pub const TAKEOVER_PATH: &str = "/run/mhactl/fence-takeover";

/// The agent's log of keepalived's transitions (`<epoch seconds> MASTER|BACKUP|FAULT|STOP`,
/// one a line, the 1000 before in `.1`): the nodes may have no syslog for keepalived's own.
pub const EVENTS_PATH: &str = "/run/mhactl/fence-events";

/// Prints [`TAKEOVER_PATH`] (nothing when no takeover happened since boot or no agent runs).
pub fn read_takeover_command() -> String {
    format!("cat {} 2>/dev/null || true", shell_quote(TAKEOVER_PATH))
}

/// The directory of the agent. keepalived's `enable_script_security` refuses a script
/// that a non-root user could replace, through the file or any directory above it.
pub const AGENT_DIR: &str = "/usr/local/libexec/mhactl";

/// The fence agent (root 0755).
pub const AGENT_PATH: &str = "/usr/local/libexec/mhactl/fence-agent";

/// keepalived's VRRP notify FIFO. Directly in /run, not in [`RUN_DIR`]: keepalived
/// creates the FIFO itself (never its directory) before it starts the agent, so after a
/// reboot a missing directory would leave the node without its agent.
pub const NOTIFY_FIFO: &str = "/run/mhactl-keepalived.fifo";

/// The agent's option file (its login: `mhactl_fence`, root 0600), outside every
/// directory servers and clients read by default (it must never become their login).
pub fn option_file_path(target: &OsTarget) -> &'static str {
    if target.family.is_el() {
        "/etc/mhactl-fence.cnf"
    } else {
        "/etc/mysql/mhactl-fence.cnf"
    }
}

/// The option file's text: the agent's login, `[client]` group.
pub fn option_file_content(user: &str, password: &str) -> anyhow::Result<String> {
    let mut text = String::from(
        "# Managed by mhactl: the write fence agent's login (root only). Never edit.\n",
    );
    text.push_str(&super::client_login::client_option_file(
        user,
        Some(password),
    )?);
    Ok(text)
}

/// Creates the agent's directory, root-owned and writable by root only (every directory
/// above it must be so too, which a packaged /usr/local/libexec is).
pub fn agent_dir_command() -> String {
    format!(
        "install -d -o root -g root -m 0755 {}",
        shell_quote(AGENT_DIR)
    )
}

/// Removes the agent and its directory (`writes: both`), leaving anything else there.
pub fn remove_agent_command() -> String {
    format!(
        "rm -f {}; rmdir {} 2>/dev/null; true",
        shell_quote(AGENT_PATH),
        shell_quote(AGENT_DIR)
    )
}

/// Prints the pids of running fence agents, one a line (none: empty). keepalived runs
/// the agent as `/bin/bash AGENT FIFO` (its `#!` line); anchored, so this command's own
/// shell never matches.
pub fn agent_running_command() -> String {
    format!(
        "pgrep -f {} || true",
        shell_quote(&format!("^/bin/bash {AGENT_PATH}( |$)"))
    )
}

/// Whether [`agent_running_command`]'s output names a process.
pub fn parse_agent_running(stdout: &str) -> bool {
    stdout.lines().any(|l| l.trim().parse::<u32>().is_ok())
}

/// Logs in with the agent's option file and runs `ping` (the dialect's liveness query):
/// exit 0 when the login works (the file exists, the account exists with that
/// password), 3 without the file.
pub fn login_works_command(option_file: &str, ping: &str) -> String {
    format!(
        "[ -r {f} ] || exit 3; {} --defaults-extra-file={f} --connect-timeout=5 -N -B -e {} >/dev/null 2>&1",
        super::client_login::CLIENT,
        shell_quote(ping),
        f = shell_quote(option_file)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agent_running_parses_pids_only() {
        assert!(parse_agent_running("1234\n"));
        assert!(!parse_agent_running(""));
        assert!(!parse_agent_running("pgrep: unknown\n"));
        assert!(agent_running_command()
            .starts_with("pgrep -f '^/bin/bash /usr/local/libexec/mhactl/fence-agent"));
    }

    #[test]
    fn the_option_file_holds_the_login_and_is_outside_default_directories() {
        let t = option_file_content("mhactl_fence", "Fe-abc.q7").unwrap();
        assert!(t.contains("[client]\nuser=mhactl_fence\npassword=\"Fe-abc.q7\"\n"));
        assert!(
            login_works_command("/etc/mysql/mhactl-fence.cnf", "SELECT 1")
                .contains("--defaults-extra-file='/etc/mysql/mhactl-fence.cnf'")
                || login_works_command("/etc/mysql/mhactl-fence.cnf", "SELECT 1")
                    .contains("--defaults-extra-file=/etc/mysql/mhactl-fence.cnf")
        );
    }
}
