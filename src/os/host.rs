//! The host behind a node's SSH session, as failover-test and verify need it: its
//! interfaces (cutting a node off for the `partition` fault and healing it, its IPv4
//! addresses, a TCP probe to a peer), the session (the control host's address as the
//! node sees it, the uid commands run as) and its clock.

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

/// The script behind [`crate::facts::tcp_probe`]: bash's `/dev/tcp` under `timeout`, so it needs no
/// extra package; the last line is always `mhactl-probe: STATUS`.
pub fn tcp_probe_script(host: &str, port: u16, timeout_s: u32) -> String {
    format!(
        "if ! command -v bash >/dev/null 2>&1 || ! command -v timeout >/dev/null 2>&1; then \
         echo 'mhactl-probe: no bash or timeout'; exit 0; fi; \
         timeout {timeout_s} bash -c 'exec 3<>\"/dev/tcp/$0/$1\"' {} {port} 2>&1; \
         echo \"mhactl-probe: $?\"",
        shell_quote(host)
    )
}

/// Prints the IPv4 addresses on `interface`, one `ip -o` line each.
pub fn interface_addresses_command(interface: &str) -> String {
    format!("ip -4 -o addr show dev {}", shell_quote(interface))
}

/// Prints the node's network interfaces, one `ip -o link` line each.
pub const LINKS_COMMAND: &str = "ip -o link show";

/// The interface names in [`LINKS_COMMAND`]'s output (`2: eth0@if12: <...>` gives
/// `eth0`: a veth's peer index is not part of its name).
pub fn parse_link_names(out: &str) -> Vec<String> {
    out.lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|name| name.split('@').next().unwrap_or(name).trim().to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

/// Prints the numeric user id commands run as (`0`: root).
pub const USER_ID_QUERY: &str = "id -u";

/// Prints the node's clock as UTC seconds since the epoch with nanoseconds (`%s.%N`).
pub const CLOCK_QUERY: &str = "date +%s.%N";

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
