//! Network interfaces and the SSH session, as failover-test needs them: cutting a node
//! off (and healing it) for the `partition` fault, seeing the link come back, and the
//! control host's address as a node sees it.

use crate::transport::shell_quote;

/// Takes `interface` down now and up again `seconds` later, detached (`nohup`), so the
/// node heals itself without anyone reaching the node it has just isolated.
pub fn partition_command(interface: &str, seconds: u64) -> String {
    format!(
        "nohup sh -c 'ip link set {i} down; sleep {d}; ip link set {i} up' >/dev/null 2>&1 &",
        i = shell_quote(interface),
        d = seconds
    )
}

/// Exits 0 when `interface` is up.
pub fn link_up_command(interface: &str) -> String {
    format!(
        "ip link show {} | grep -q 'state UP'",
        shell_quote(interface)
    )
}

/// Prints the control host's address as the node sees it (`$SSH_CLIENT`'s first word).
pub const SSH_CLIENT_ADDRESS: &str = "echo ${SSH_CLIENT%% *}";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_commands_quote_the_name() {
        assert_eq!(
            partition_command("eth0", 20),
            "nohup sh -c 'ip link set eth0 down; sleep 20; ip link set eth0 up' >/dev/null 2>&1 &"
        );
        assert_eq!(
            link_up_command("a b"),
            "ip link show 'a b' | grep -q 'state UP'"
        );
    }
}
