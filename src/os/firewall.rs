//! Host firewalls: detecting firewalld, ufw, nftables and iptables (probes that exit
//! [`NOT_INSTALLED`] without the tool), reading their state, and the commands that open
//! what the pair needs (firewalld rich rules, ufw rules, ufw's before.rules for VRRP).
//! What to open is bootstrap's `firewall` step's decision ([`Opening`]s).

use crate::transport::shell_quote;

/// Exit status of the probes below when the tool is not installed (not 127: ssh reports
/// that as a failure to run the command at all).
pub const NOT_INSTALLED: i32 = 100;

/// Prints `running` when firewalld runs (exit 100: not installed).
pub const FIREWALLD_STATE: &str =
    "command -v firewall-cmd >/dev/null 2>&1 || exit 100; firewall-cmd --state";

/// The zone of an interface, else the default zone.
pub const FIREWALLD_ZONE: &str = "firewall-cmd --get-zone-of-interface=";

/// ufw's state, default policies and rules (exit 100: not installed).
pub const UFW_STATUS: &str = "command -v ufw >/dev/null 2>&1 || exit 100; ufw status verbose";

/// The whole nftables ruleset (exit 100: no nft).
pub const NFT_RULESET: &str = "command -v nft >/dev/null 2>&1 || exit 100; nft list ruleset";

/// iptables' INPUT chain (exit 100: no iptables).
pub const IPTABLES_INPUT: &str =
    "command -v iptables >/dev/null 2>&1 || exit 100; iptables -S INPUT";

/// ufw's rules file that holds rules the ufw command line cannot express (VRRP).
pub const UFW_BEFORE_RULES: &str = "/etc/ufw/before.rules";

/// One thing the pair needs through a node's firewall.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opening {
    /// `None`: VRRP (IP protocol 112); `Some(port)`: that TCP port.
    pub tcp_port: Option<u16>,
    /// Source address or CIDR; `None`: anywhere.
    pub source: Option<String>,
    /// Why (for messages).
    pub why: String,
}

impl Opening {
    /// What and from where, with why (for messages).
    pub fn describe(&self) -> String {
        let what = match self.tcp_port {
            Some(p) => format!("{p}/tcp"),
            None => "VRRP (IP protocol 112)".into(),
        };
        format!(
            "{what} from {} ({})",
            self.source.as_deref().unwrap_or("anywhere"),
            self.why
        )
    }

    /// firewalld's rich rule, in the form firewalld itself prints.
    pub fn rich_rule(&self) -> String {
        let source = self
            .source
            .as_ref()
            .map(|s| format!(" source address=\"{s}\""))
            .unwrap_or_default();
        match self.tcp_port {
            Some(p) => {
                format!("rule family=\"ipv4\"{source} port port=\"{p}\" protocol=\"tcp\" accept")
            }
            None => format!("rule family=\"ipv4\"{source} protocol value=\"vrrp\" accept"),
        }
    }

    /// An nftables rule for a user to add by hand (in `table inet filter`, chain `input`).
    pub fn nft_example(&self) -> String {
        let source = self
            .source
            .as_ref()
            .map(|s| format!("ip saddr {s} "))
            .unwrap_or_default();
        match self.tcp_port {
            Some(p) => format!("nft add rule inet filter input {source}tcp dport {p} accept"),
            None => format!("nft add rule inet filter input {source}ip protocol vrrp accept"),
        }
    }
}

/// The input policy of an `nft list ruleset`: `Some("table inet filter, chain input")`
/// when a chain hooked to input drops by default.
pub fn nft_default_drop(ruleset: &str) -> Option<String> {
    let mut table = String::new();
    let mut chain = String::new();
    for line in ruleset.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("table ") {
            table = rest.trim_end_matches('{').trim().to_string();
        } else if let Some(rest) = line.strip_prefix("chain ") {
            chain = rest.trim_end_matches('{').trim().to_string();
        } else if line.contains("hook input") && line.contains("policy drop") {
            return Some(format!("table {table}, chain {chain}"));
        }
    }
    None
}

/// `iptables -S INPUT`: does the chain drop by default (policy, or a final catch-all)?
pub fn iptables_default_drop(rules: &str) -> bool {
    let lines: Vec<&str> = rules.lines().map(str::trim).collect();
    if lines.contains(&"-P INPUT DROP") {
        return true;
    }
    lines
        .iter()
        .rev()
        .find(|l| l.starts_with("-A INPUT"))
        .is_some_and(|l| *l == "-A INPUT -j DROP" || l.starts_with("-A INPUT -j REJECT"))
}

/// `ufw status verbose`: active, and the default incoming policy (`deny`, `allow`, ...).
pub fn ufw_state(status: &str) -> (bool, String) {
    let active = status.lines().any(|l| l.trim() == "Status: active");
    let incoming = status
        .lines()
        .find_map(|l| l.trim().strip_prefix("Default:"))
        .and_then(|d| {
            d.split(',')
                .find(|p| p.contains("(incoming)"))
                .map(|p| p.replace("(incoming)", "").trim().to_string())
        })
        .unwrap_or_default();
    (active, incoming)
}

/// Does `ufw status` show an ALLOW rule for `port`/tcp from `source` (`None`: Anywhere)?
pub fn ufw_allows(status: &str, port: u16, source: Option<&str>) -> bool {
    let from = source.unwrap_or("Anywhere");
    status.lines().any(|l| {
        if l.contains("(v6)") {
            return false;
        }
        let words: Vec<&str> = l.split_whitespace().collect();
        let Some(to) = words.first() else {
            return false;
        };
        let port_ok = *to == port.to_string() || *to == format!("{port}/tcp");
        let allow = words.get(1) == Some(&"ALLOW");
        let src = if words.get(2) == Some(&"IN") {
            words.get(3)
        } else {
            words.get(2)
        };
        port_ok && allow && src == Some(&from)
    })
}

/// The line mhactl adds to ufw's before.rules for VRRP from the peer.
pub fn ufw_vrrp_line(peer: &str) -> String {
    format!("-A ufw-before-input -p 112 -s {peer} -j ACCEPT")
}

/// before.rules with the VRRP line inserted before the filter table's `COMMIT`, or
/// `None` when it is already there (or the file has no COMMIT to insert before).
pub fn ufw_before_rules_with_vrrp(current: &str, peer: &str) -> Option<String> {
    let line = ufw_vrrp_line(peer);
    if current.lines().any(|l| l.trim() == line) {
        return None;
    }
    let mut out = String::new();
    let mut done = false;
    for l in current.lines() {
        if !done && l.trim() == "COMMIT" {
            out.push_str(&format!(
                "# mhactl: VRRP (keepalived) from the peer node\n{line}\n"
            ));
            done = true;
        }
        out.push_str(l);
        out.push('\n');
    }
    done.then_some(out)
}

/// The firewalld zone of `interface`, else the default zone.
pub fn firewalld_zone_command(interface: &str) -> String {
    format!(
        "{FIREWALLD_ZONE}{} 2>/dev/null || firewall-cmd --get-default-zone",
        shell_quote(interface)
    )
}

/// Everything firewalld applies in `zone` (its `target:` line says whether it accepts all).
pub fn firewalld_list_command(zone: &str) -> String {
    format!("firewall-cmd --zone={} --list-all", shell_quote(zone))
}

fn permanent_flag(permanent: bool) -> &'static str {
    if permanent {
        "--permanent "
    } else {
        ""
    }
}

/// Exits 0 when `zone` has the rich rule `rule` (runtime, or the `permanent` configuration).
pub fn firewalld_query_rule_command(zone: &str, rule: &str, permanent: bool) -> String {
    format!(
        "firewall-cmd {}--zone={} --query-rich-rule={}",
        permanent_flag(permanent),
        shell_quote(zone),
        shell_quote(rule)
    )
}

/// Adds the rich rule `rule` to `zone` (runtime, or the `permanent` configuration).
pub fn firewalld_add_rule_command(zone: &str, rule: &str, permanent: bool) -> String {
    format!(
        "firewall-cmd {}--zone={} --add-rich-rule={}",
        permanent_flag(permanent),
        shell_quote(zone),
        shell_quote(rule)
    )
}

/// Allows TCP `port` from `source` (`None`: anywhere), with `comment` on the rule.
pub fn ufw_allow_tcp_command(port: u16, source: Option<&str>, comment: &str) -> String {
    let from = source.map(|s| format!("from {s} ")).unwrap_or_default();
    format!(
        "ufw allow proto tcp {from}to any port {port} comment {}",
        shell_quote(comment)
    )
}

/// Makes ufw apply its rules files again (after before.rules changed).
pub const UFW_RELOAD: &str = "ufw reload";

/// What drops in a default-drop iptables ruleset, as the firewall step's refusal names it.
pub fn iptables_input_chain() -> String {
    "iptables INPUT chain".to_string()
}

/// The firewall step's Noop when ufw lets everything in.
pub fn ufw_allows_incoming_by_default() -> String {
    "ufw is active and allows incoming traffic by default: nothing to open".into()
}

/// The firewall step's refusal when `before.rules` has no `COMMIT` line to put the VRRP
/// rule before.
pub fn ufw_no_commit_line(peer: &str) -> String {
    format!(
        "ufw is active but {UFW_BEFORE_RULES} has no COMMIT line to add the \
         VRRP rule before; allow IP protocol 112 from {peer} by hand"
    )
}

/// The firewall step's Noop when ufw already allows every opening (`allowed`, joined).
pub fn ufw_allows_all(allowed: &str) -> String {
    format!("ufw allows {allowed}")
}
