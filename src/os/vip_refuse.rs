//! The VIP refusal: an nftables rule on each node that answers a TCP connection to the
//! VIP's server port with a reset while the node does not hold the VIP
//! (`fib daddr type != local`, evaluated per packet). In a failover no node holds the
//! VIP for a few milliseconds, and clients' ARP caches point at the old holder a little
//! longer: without the rule the old holder drops a new connection's SYN and the client
//! waits for TCP's retransmission (1 s); with it the client is refused at once and
//! connects again. The same table holds the set a hung server's node puts the VIP in
//! while it gives the VIP up (the health check), refused at once as well. This module
//! owns the ruleset's path, the commands that load, read and remove it, where it can
//! run, and the parser of `nft list table`.

use super::firewall::NOT_INSTALLED;
use super::OsFamily;
use std::net::Ipv4Addr;

/// The ruleset file bootstrap writes and the fence agent loads when keepalived starts.
pub const RULESET_PATH: &str = "/etc/keepalived/mhactl-vip-refuse.nft";

/// mhactl's own nftables table (family `ip`): nothing else lives in it.
pub const TABLE: &str = "mhactl";

/// The chain, named for what it does (it shows in `nft list ruleset`).
pub const CHAIN: &str = "refuse_vip_when_not_holder";

/// The rule's match: TCP to the VIP's server port, on a node where the VIP is not local.
pub fn rule_match(vip: Ipv4Addr, port: u16) -> String {
    format!("ip daddr {vip} tcp dport {port} fib daddr type != local")
}

/// The set the health check puts the VIP in, with a timeout, when it finds the server
/// hung while this node holds the VIP: refused at once although still local, for a
/// moment ([`DRAIN_SECONDS`]), while the VIP moves to the peer.
pub const DRAIN_SET: &str = "draining";

/// How long the VIP stays in [`DRAIN_SET`]: keepalived gives the VIP up within
/// milliseconds of the failed check, after which the first rule refuses by itself; the
/// timeout only makes sure a refusal nobody removes ends.
pub const DRAIN_SECONDS: u32 = 2;

/// The second rule's match: TCP to the server port of an address in [`DRAIN_SET`].
pub fn drain_match(port: u16) -> String {
    format!("ip daddr @{DRAIN_SET} tcp dport {port}")
}

/// Whether the family's kernel runs the rule. EL7's 3.10 kernel has no nftables `fib`
/// expression (Linux 4.10); every other supported family has it.
pub fn supported(family: OsFamily) -> bool {
    match family {
        OsFamily::El7 | OsFamily::Unknown => false,
        OsFamily::El8 | OsFamily::El9 | OsFamily::Debian | OsFamily::Ubuntu => true,
    }
}

/// Why nothing is refused on EL7 (bootstrap's step and verify's check say it alike).
pub const NOT_ON_EL7: &str = "EL7's kernel (3.10) has no nftables fib expression: connections \
     to the VIP that reach this node without it are dropped, not refused";

/// Why nothing is refused without `nft` (bootstrap's step and verify's check say it alike).
pub const WITHOUT_NFT: &str = "the nftables tools are not installed: connections to the VIP \
     that reach this node without it are dropped, not refused";

/// Lists mhactl's table (exit [`NOT_INSTALLED`] without nft, like the firewall probes;
/// empty output: no table).
pub const TABLE_COMMAND: &str =
    "command -v nft >/dev/null 2>&1 || exit 100; nft list table ip mhactl 2>/dev/null; exit 0";

/// Loads the ruleset file (atomically: the file flushes and refills mhactl's table).
pub fn load_command() -> String {
    format!("nft -f {RULESET_PATH}")
}

/// What `nft list table ip mhactl` says of the refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// No `nft` on the node.
    NoNft,
    /// The table holds exactly these rules in the refusal chain (counters dropped).
    Rules(Vec<String>),
}

impl Loaded {
    /// The refusal chain holds exactly the rules `wanted` ([`listed_rules`]), nothing else.
    pub fn refuses_exactly(&self, wanted: &[String]) -> bool {
        matches!(self, Loaded::Rules(rules) if rules == wanted)
    }
}

/// Parses [`TABLE_COMMAND`]'s output: the refusal chain's rules, counters removed, so a
/// loaded rule compares equal whatever it counted.
pub fn parse_table(status: i32, stdout: &str) -> Loaded {
    if status == NOT_INSTALLED {
        return Loaded::NoNft;
    }
    let mut rules = Vec::new();
    let mut in_chain = false;
    for line in stdout.lines().map(str::trim) {
        if line.starts_with("chain ") {
            in_chain = line == format!("chain {CHAIN} {{");
            continue;
        }
        if !in_chain || line.is_empty() || line == "}" || line.starts_with("type ") {
            continue;
        }
        rules.push(drop_counter(line));
    }
    Loaded::Rules(rules)
}

/// `... counter packets 3 bytes 180 reject ...` → `... counter reject ...`.
fn drop_counter(rule: &str) -> String {
    let words: Vec<&str> = rule.split_whitespace().collect();
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        out.push(words[i]);
        if words[i] == "counter" && words.get(i + 1) == Some(&"packets") {
            i += 5;
        } else {
            i += 1;
        }
    }
    out.join(" ")
}

/// The refusal chain's rules as `nft list` prints them once loaded (counters dropped).
pub fn listed_rules(vip: Ipv4Addr, port: u16) -> Vec<String> {
    [rule_match(vip, port), drain_match(port)]
        .into_iter()
        .map(|m| format!("{m} counter reject with tcp reset"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As nft 1.0.6 (bookworm) lists the loaded ruleset, the VIP draining.
    const LISTED: &str = "table ip mhactl {\n\
        \tset draining {\n\
        \t\ttype ipv4_addr\n\
        \t\tflags timeout\n\
        \t\telements = { 10.213.5.100 timeout 2s expires 1s540ms }\n\
        \t}\n\n\
        \tchain refuse_vip_when_not_holder {\n\
        \t\ttype filter hook prerouting priority mangle; policy accept;\n\
        \t\tip daddr 10.213.5.100 tcp dport 3306 fib daddr type != local counter packets 2 bytes 120 reject with tcp reset\n\
        \t\tip daddr @draining tcp dport 3306 counter packets 1 bytes 60 reject with tcp reset\n\
        \t}\n}\n";

    #[test]
    fn loaded_rules_compare_equal_whatever_they_counted() {
        let vip: Ipv4Addr = "10.213.5.100".parse().unwrap();
        let loaded = parse_table(0, LISTED);
        assert_eq!(loaded, Loaded::Rules(listed_rules(vip, 3306)));
        assert!(loaded.refuses_exactly(&listed_rules(vip, 3306)));
        assert!(!loaded.refuses_exactly(&listed_rules(vip, 3307)));
    }

    #[test]
    fn no_table_and_no_nft_are_told_apart() {
        assert_eq!(parse_table(0, ""), Loaded::Rules(vec![]));
        assert_eq!(parse_table(NOT_INSTALLED, ""), Loaded::NoNft);
    }

    #[test]
    fn another_chain_in_the_table_is_not_the_refusal() {
        let text = "table ip mhactl {\n\tchain other {\n\t\tip daddr 1.2.3.4 drop\n\t}\n}\n";
        assert_eq!(parse_table(0, text), Loaded::Rules(vec![]));
    }

    #[test]
    fn el7_has_no_fib_expression() {
        assert!(!supported(OsFamily::El7));
        assert!(supported(OsFamily::El9) && supported(OsFamily::Debian));
    }
}
