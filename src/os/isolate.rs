//! failover-test's `isolate` fault, as shell: firewall rules on the node that drop all
//! its traffic (peer, clients, arbiter) while its link stays up, except loopback and the
//! one SSH connection mhactl's commands arrive on; a dead-man's switch that removes them
//! by itself; and the split-brain writer, a loop on each node that tries one INSERT
//! every 100 ms against the node's own address and logs whether it was accepted.
//! Paths under `/run/mhactl` (the runtime directory the helpers share).

use crate::transport::shell_quote;

/// The runtime directory on every node (root:root 0755), shared with the fence agent
/// and switchover; whoever needs it first creates it.
pub const RUN_DIR: &str = "/run/mhactl";
/// The split-brain writer's client option file (mode 0600: it holds the probe password).
pub const LOCAL_WRITER_CNF: &str = "/run/mhactl/isolate-writer.cnf";
/// The split-brain writer's log: one line per attempt, `START END ok|fail vip|-`.
pub const LOCAL_WRITER_LOG: &str = "/run/mhactl/isolate-writer.log";
/// The split-brain writer's pid (its loop stops by itself; cleanup stops it earlier).
pub const LOCAL_WRITER_PID: &str = "/run/mhactl/isolate-writer.pid";

/// Which firewall tool cuts the node off: nftables (also drops ARP, so the cut-off node
/// cannot answer for the VIP) or iptables (IPv4 only; ARP passes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FirewallTool {
    /// `nft`, in a table of its own.
    Nft,
    /// `iptables`, in a chain of its own jumped to first from INPUT and OUTPUT.
    Iptables,
}

/// Prints `nft`, `iptables` or `none`: the tool [`cut_off_command`] will use.
pub const FIREWALL_TOOL_QUERY: &str = "if command -v nft >/dev/null 2>&1; then echo nft; \
     elif command -v iptables >/dev/null 2>&1; then echo iptables; else echo none; fi";

/// Parses [`FIREWALL_TOOL_QUERY`]'s answer.
pub fn parse_firewall_tool(out: &str) -> Option<FirewallTool> {
    match out.trim() {
        "nft" => Some(FirewallTool::Nft),
        "iptables" => Some(FirewallTool::Iptables),
        _ => None,
    }
}

/// The commands that remove the rules named `name` (each tolerates rules already gone).
pub fn remove_command(tool: FirewallTool, name: &str) -> String {
    match tool {
        FirewallTool::Nft => format!(
            "nft delete table inet {name} 2>/dev/null; nft delete table arp {name} 2>/dev/null; true"
        ),
        FirewallTool::Iptables => format!(
            "iptables -D INPUT -j {name} 2>/dev/null; iptables -D OUTPUT -j {name} 2>/dev/null; \
             iptables -F {name} 2>/dev/null; iptables -X {name} 2>/dev/null; true"
        ),
    }
}

/// Cuts the node off now: every packet in or out is dropped except loopback and this
/// SSH connection (`$SSH_CONNECTION`: mhactl's multiplexed connection, which all its
/// later commands and SQL use), and with nftables every ARP packet except those between
/// the node's own address and the SSH client. Then starts the dead-man's switch: a
/// detached `sleep seconds; remove` (its pid in `/run/mhactl/<name>.pid`), so the node
/// heals itself even if mhactl dies. `name` must be unique per run (a switch left from
/// an earlier run then cannot remove a later run's rules). Prints the switch's pid.
pub fn cut_off_command(tool: FirewallTool, name: &str, seconds: u64) -> String {
    let rules = match tool {
        FirewallTool::Nft => format!(
            "nft -f - <<EOF\n\
             table inet {name} {{\n\
             \x20 chain in {{ type filter hook input priority -300; policy accept;\n\
             \x20   iif \"lo\" accept\n\
             \x20   ip saddr $1 tcp sport $2 ip daddr $3 tcp dport $4 accept\n\
             \x20   drop\n\
             \x20 }}\n\
             \x20 chain out {{ type filter hook output priority -300; policy accept;\n\
             \x20   oif \"lo\" accept\n\
             \x20   ip daddr $1 tcp dport $2 ip saddr $3 tcp sport $4 accept\n\
             \x20   drop\n\
             \x20 }}\n\
             }}\n\
             table arp {name} {{\n\
             \x20 chain in {{ type filter hook input priority 0; policy drop;\n\
             \x20   arp saddr ip $1 arp daddr ip $3 accept\n\
             \x20 }}\n\
             \x20 chain out {{ type filter hook output priority 0; policy drop;\n\
             \x20   arp saddr ip $3 arp daddr ip $1 accept\n\
             \x20 }}\n\
             }}\n\
             EOF\n"
        ),
        FirewallTool::Iptables => format!(
            "iptables -N {name} && \
             iptables -A {name} -i lo -j ACCEPT && iptables -A {name} -o lo -j ACCEPT && \
             iptables -A {name} -p tcp -s \"$1\" --sport \"$2\" -d \"$3\" --dport \"$4\" -j ACCEPT && \
             iptables -A {name} -p tcp -d \"$1\" --dport \"$2\" -s \"$3\" --sport \"$4\" -j ACCEPT && \
             iptables -A {name} -j DROP && \
             iptables -I OUTPUT 1 -j {name} && iptables -I INPUT 1 -j {name}\n"
        ),
    };
    let remove = remove_command(tool, name);
    let pid_file = format!("{RUN_DIR}/{name}.pid");
    format!(
        "set -e\n\
         set -- $SSH_CONNECTION\n\
         case \"$1\" in *:*|'') echo \"isolate needs an IPv4 SSH connection (SSH_CONNECTION='$SSH_CONNECTION')\" >&2; exit 1;; esac\n\
         install -d -m 0755 -o root -g root {RUN_DIR}\n\
         nohup sh -c {switch} >/dev/null 2>&1 </dev/null &\n\
         echo $! > {pid_file}\n\
         echo $!\n\
         {rules}",
        // The switch starts before the rules: whatever happens next, they go again.
        switch = shell_quote(&format!("sleep {seconds}; {remove}; rm -f {pid_file}")),
    )
}

/// Removes the rules now and stops their dead-man's switch (its recorded pid, only if
/// that process is still the switch's `sleep` parent shell).
pub fn heal_command(tool: FirewallTool, name: &str) -> String {
    let pid_file = format!("{RUN_DIR}/{name}.pid");
    format!(
        "{remove}\n\
         if [ -f {pid_file} ]; then pid=$(cat {pid_file}); \
         if grep -q {name_q} /proc/\"$pid\"/cmdline 2>/dev/null; then kill \"$pid\" 2>/dev/null; fi; \
         rm -f {pid_file}; fi; true",
        remove = remove_command(tool, name),
        name_q = shell_quote(name),
    )
}

/// Exits 0 while rules named `name` are in place.
pub fn rules_present_command(tool: FirewallTool, name: &str) -> String {
    match tool {
        FirewallTool::Nft => format!("nft list table inet {name} >/dev/null 2>&1"),
        FirewallTool::Iptables => format!("iptables -n -L {name} >/dev/null 2>&1"),
    }
}

/// Starts the split-brain writer on a node, detached, for `seconds`: every 100 ms one
/// `insert_sql` against `address:port` as the user in [`LOCAL_WRITER_CNF`] (1 s
/// timeout per attempt, so a cut-off peer or a hung server cannot stall the loop), one
/// log line per attempt with the node's clock before and after it. From the node
/// itself, so it keeps running on the node's side of a partition. At its end it removes
/// its option file (the password) itself, so even a killed mhactl leaves it behind for
/// `seconds` at most.
pub fn local_writer_command(
    address: &str,
    port: u16,
    insert_sql: &str,
    seconds: u64,
    vip_interface: &str,
    vip: &str,
) -> String {
    let attempt = format!(
        "timeout 1 \"$client\" --defaults-extra-file={LOCAL_WRITER_CNF} --protocol=TCP \
         -h {address} -P {port} --connect-timeout=1 -N -B -e {sql} >/dev/null 2>&1",
        sql = shell_quote(insert_sql),
    );
    let body = format!(
        "client=$(command -v mariadb || command -v mysql); end=$(($(date +%s) + {seconds})); \
         while [ \"$(date +%s)\" -lt \"$end\" ]; do \
         t0=$(date +%s.%N); if {attempt}; then r=ok; else r=fail; fi; \
         if ip -4 -o addr show dev {dev} | grep -q {vip_word}; then v=vip; else v=-; fi; \
         echo \"$t0 $(date +%s.%N) $r $v\"; sleep 0.1; done; \
         rm -f {LOCAL_WRITER_CNF} {LOCAL_WRITER_PID}",
        dev = shell_quote(vip_interface),
        vip_word = shell_quote(&format!(" {vip}/")),
    );
    format!(
        "install -d -m 0755 -o root -g root {RUN_DIR}; rm -f {LOCAL_WRITER_LOG}; \
         nohup sh -c {} >{LOCAL_WRITER_LOG} 2>&1 </dev/null & echo $! > {LOCAL_WRITER_PID}",
        shell_quote(&body)
    )
}

/// The writer's client option file (written with mode 0600; the password never
/// reaches an argv).
pub fn local_writer_cnf(user: &str, password: &str) -> String {
    format!("[client]\nuser={user}\npassword={password}\n")
}

/// Stops the writer (its recorded pid, only while that process is still the loop that
/// reads [`LOCAL_WRITER_CNF`]) and removes its files.
pub const LOCAL_WRITER_CLEANUP: &str =
    "if [ -f /run/mhactl/isolate-writer.pid ]; then pid=$(cat /run/mhactl/isolate-writer.pid); \
     if grep -q isolate-writer.cnf /proc/\"$pid\"/cmdline 2>/dev/null; then kill \"$pid\"; fi; fi; \
     rm -f /run/mhactl/isolate-writer.cnf /run/mhactl/isolate-writer.log /run/mhactl/isolate-writer.pid";

/// One attempt of the split-brain writer: when it started and ended (node clock,
/// seconds since the epoch) and whether the node accepted the write.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LocalAttempt {
    /// Node clock before the attempt.
    pub start: f64,
    /// Node clock after it.
    pub end: f64,
    /// The INSERT was acknowledged.
    pub ok: bool,
    /// The node held the VIP right after the attempt.
    pub vip: bool,
}

/// Parses [`LOCAL_WRITER_LOG`] (lines it cannot read are skipped).
pub fn parse_local_writer_log(text: &str) -> Vec<LocalAttempt> {
    text.lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            let start = w.next()?.parse().ok()?;
            let end = w.next()?.parse().ok()?;
            let ok = match w.next()? {
                "ok" => true,
                "fail" => false,
                _ => return None,
            };
            let vip = w.next() == Some("vip");
            Some(LocalAttempt {
                start,
                end,
                ok,
                vip,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cut_off_keeps_loopback_and_the_ssh_connection_and_heals_itself() {
        let nft = cut_off_command(FirewallTool::Nft, "mhactl_isolate_1", 20);
        assert!(nft.contains("set -- $SSH_CONNECTION"), "{nft}");
        assert!(nft.contains("iif \"lo\" accept"), "{nft}");
        assert!(
            nft.contains("ip saddr $1 tcp sport $2 ip daddr $3 tcp dport $4 accept"),
            "{nft}"
        );
        assert!(nft.contains("table arp mhactl_isolate_1"), "{nft}");
        // The switch is started before the rules exist.
        let switch = nft.find("nohup sh -c 'sleep 20; nft delete table inet mhactl_isolate_1");
        assert!(
            switch.is_some_and(|s| s < nft.find("nft -f -").unwrap()),
            "{nft}"
        );
        let ipt = cut_off_command(FirewallTool::Iptables, "MHACTL-ISO-1", 5);
        assert!(ipt.contains("iptables -I INPUT 1 -j MHACTL-ISO-1"), "{ipt}");
        assert!(
            ipt.contains("sleep 5; iptables -D INPUT -j MHACTL-ISO-1"),
            "{ipt}"
        );
        assert!(heal_command(FirewallTool::Nft, "mhactl_isolate_1")
            .starts_with("nft delete table inet mhactl_isolate_1"));
    }

    #[test]
    fn the_writer_times_out_each_attempt_and_removes_its_password_file_at_its_end() {
        let w = local_writer_command("10.0.0.11", 3306, "INSERT 1", 30, "eth0", "10.0.0.100");
        assert!(w.contains("timeout 1 "), "{w}");
        assert!(
            w.contains("--defaults-extra-file=/run/mhactl/isolate-writer.cnf"),
            "{w}"
        );
        assert!(
            w.contains("done; rm -f /run/mhactl/isolate-writer.cnf /run/mhactl/isolate-writer.pid"),
            "{w}"
        );
        assert!(
            w.contains("echo $! > /run/mhactl/isolate-writer.pid"),
            "{w}"
        );
    }

    #[test]
    fn firewall_tools_and_writer_logs_parse() {
        assert_eq!(parse_firewall_tool("nft\n"), Some(FirewallTool::Nft));
        assert_eq!(
            parse_firewall_tool("iptables"),
            Some(FirewallTool::Iptables)
        );
        assert_eq!(parse_firewall_tool("none"), None);
        let log = "1.0 1.05 ok vip\ngarbage\n1.1 2.1 fail -\n";
        assert_eq!(
            parse_local_writer_log(log),
            vec![
                LocalAttempt {
                    start: 1.0,
                    end: 1.05,
                    ok: true,
                    vip: true
                },
                LocalAttempt {
                    start: 1.1,
                    end: 2.1,
                    ok: false,
                    vip: false
                },
            ]
        );
    }
}
