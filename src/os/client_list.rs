//! Tickle ACKs (issue 17): what the fence agent needs on a node to end its clients' wait
//! after it takes the VIP over from a peer it cannot reach. The login it polls the
//! peer's client list with (an option file naming the peer, root 0600), the list it
//! keeps (`address port` lines, tmpfs) and the script that sends the tickles (Perl core,
//! [`TICKLE_SCRIPT`]). The account and its query are in [`crate::dialect`].

use super::client_login::CLIENT;
use super::OsTarget;
use crate::transport::shell_quote;
use std::net::Ipv4Addr;

/// The peer's client list as the agent last read it: `address port` per line, written
/// whole (a temporary file renamed) once a second while this node does not hold the VIP.
pub const CLIENTS_PATH: &str = "/run/mhactl/peer-clients";

/// The fence agent's record of its last tickle: `<start> <end> <the script's output>`
/// (epoch seconds; `N connections, M segments`, or its error), overwritten at each
/// takeover.
pub const TICKLE_RECORD_PATH: &str = "/run/mhactl/tickle-last";

/// Prints [`TICKLE_RECORD_PATH`] and the list it tickled (nothing when no takeover
/// tickled since boot).
pub fn read_tickle_command() -> String {
    format!(
        "cat {} 2>/dev/null; cat {}.used 2>/dev/null; true",
        shell_quote(TICKLE_RECORD_PATH),
        shell_quote(CLIENTS_PATH)
    )
}

/// The tickle script (root 0755, beside the fence agent).
pub const TICKLE_PATH: &str = "/usr/local/libexec/mhactl/tickle";

/// The tickle script's text (templates/tickle.pl; no variable in it).
pub const TICKLE_SCRIPT: &str = include_str!("../../templates/tickle.pl");

/// The option file the agent polls the peer with (root 0600): the login of
/// `mhactl_clients@<this node's address>` on the peer, and the peer's address and port.
/// Beside the fence agent's ([`super::fence::option_file_path`]), outside every
/// directory servers and clients read.
pub fn option_file_path(target: &OsTarget) -> String {
    option_file_beside(super::fence::option_file_path(target))
}

/// [`option_file_path`] from the fence agent's option file (the agent's template gets
/// only that path).
pub fn option_file_beside(fence_option_file: &str) -> String {
    match fence_option_file.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/mhactl-clients.cnf"),
        None => "mhactl-clients.cnf".into(),
    }
}

/// The option file's text: `[client]` with the login, the peer's address and port
/// (TCP: a host address is never the local socket).
pub fn option_file_content(
    user: &str,
    password: &str,
    peer: Ipv4Addr,
    port: u16,
) -> anyhow::Result<String> {
    let mut text = String::from(
        "# Managed by mhactl: the fence agent's login to its peer's client list (root only). Never edit.\n",
    );
    text.push_str(&super::client_login::client_option_file(
        user,
        Some(password),
    )?);
    text.push_str(&format!("host={peer}\nport={port}\nprotocol=TCP\n"));
    Ok(text)
}

/// Asks `sql` (one value) of whichever server answers on `host:port`, with the node's own
/// client and the client-list login in `option_file` (its host and port overridden):
/// the value alone on stdout. Exit 3 without the option file (a pair mhactl did not
/// set up yet), the client's status when it cannot connect or log in.
pub fn ask_through_command(option_file: &str, host: &str, port: u16, sql: &str) -> String {
    format!(
        "f={f}; [ -r \"$f\" ] || exit 3; c={CLIENT}; [ -n \"$c\" ] || exit 3; \
         \"$c\" --defaults-extra-file=\"$f\" --host={h} --port={port} --protocol=TCP \
         --connect-timeout=5 -N -B -e {q}",
        f = shell_quote(option_file),
        h = shell_quote(host),
        q = shell_quote(sql),
    )
}

/// Removes the option file, the tickle script and the last list (`writes: both`).
pub fn remove_command(option_file: &str) -> String {
    format!(
        "rm -f {} {} {}",
        shell_quote(option_file),
        shell_quote(TICKLE_PATH),
        shell_quote(CLIENTS_PATH)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_option_file_names_the_peer_and_forces_tcp() {
        let t = option_file_content("mhactl_clients", "Pw-1", "10.0.0.11".parse().unwrap(), 3307)
            .unwrap();
        assert!(t.contains(
            "[client]\nuser=mhactl_clients\npassword=\"Pw-1\"\nhost=10.0.0.11\nport=3307\nprotocol=TCP\n"
        ));
    }

    #[test]
    fn the_option_file_lives_beside_the_fence_agents() {
        assert_eq!(
            option_file_beside("/etc/mysql/mhactl-fence.cnf"),
            "/etc/mysql/mhactl-clients.cnf"
        );
        assert_eq!(
            option_file_beside("/etc/mhactl-fence.cnf"),
            "/etc/mhactl-clients.cnf"
        );
    }

    #[test]
    fn the_tickle_script_is_perl_core_only() {
        assert!(TICKLE_SCRIPT.starts_with("#!/usr/bin/perl\n"));
        let uses: Vec<&str> = TICKLE_SCRIPT
            .lines()
            .filter(|l| l.starts_with("use "))
            .collect();
        assert_eq!(
            uses,
            [
                "use strict;",
                "use warnings;",
                "use Socket qw(:DEFAULT IPPROTO_TCP);"
            ]
        );
    }
}
