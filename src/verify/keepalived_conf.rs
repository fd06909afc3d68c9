//! A small reader of keepalived.conf for verify: the settings of the `vrrp_instance`
//! that decide whether the pair can fail over safely, parsed by a pure function so it is
//! tested on recorded files (healthy and broken), whoever wrote the file.

/// What verify needs from one node's keepalived.conf.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VrrpSettings {
    /// `state` (MASTER or BACKUP).
    pub state: Option<String>,
    /// `nopreempt` present.
    pub nopreempt: bool,
    /// `virtual_router_id`.
    pub virtual_router_id: Option<u8>,
    /// `priority`.
    pub priority: Option<u8>,
    /// Addresses in `virtual_ipaddress` (without prefix or options).
    pub vips: Vec<String>,
    /// Has a `track_script` (a health check that can release the VIP).
    pub tracks_script: bool,
    /// Names in the instance's `track_script` block.
    pub track_scripts: Vec<String>,
    /// Names in the instance's `track_file` block (switchover's tracked files).
    pub track_files: Vec<String>,
}

/// Parse the first `vrrp_instance` block. Comments (`!`, `#`) are ignored.
pub fn parse(text: &str) -> Option<VrrpSettings> {
    let mut settings = VrrpSettings::default();
    // Names of the open blocks, outermost first (`vrrp_instance`, `virtual_ipaddress`).
    let mut stack: Vec<String> = Vec::new();
    let mut found = false;
    for raw in text.lines() {
        let line = raw.split(['!', '#']).next().unwrap_or("").trim();
        let words: Vec<&str> = line
            .split_whitespace()
            .filter(|w| *w != "{" && *w != "}")
            .collect();
        let in_first = found && stack.first().is_some_and(|b| b == "vrrp_instance");
        if stack.is_empty() && words.first() == Some(&"vrrp_instance") && found {
            break; // only the first instance
        }
        if !words.is_empty() && in_first {
            let key = words[0];
            match stack.len() {
                1 => match key {
                    "state" => settings.state = words.get(1).map(|s| s.to_ascii_uppercase()),
                    "nopreempt" => settings.nopreempt = true,
                    "virtual_router_id" => {
                        settings.virtual_router_id = words.get(1).and_then(|v| v.parse().ok())
                    }
                    "priority" => settings.priority = words.get(1).and_then(|v| v.parse().ok()),
                    "track_script" => settings.tracks_script = true,
                    _ => {}
                },
                2 if stack[1] == "virtual_ipaddress" => {
                    settings
                        .vips
                        .push(key.split('/').next().unwrap_or(key).to_string());
                }
                2 if stack[1] == "track_script" => settings.track_scripts.push(key.to_string()),
                2 if stack[1] == "track_file" => settings.track_files.push(key.to_string()),
                _ => {}
            }
        }
        for c in line.chars() {
            match c {
                '{' => {
                    let name = words.first().copied().unwrap_or("").to_string();
                    if stack.is_empty() && name == "vrrp_instance" {
                        found = true;
                    }
                    stack.push(name);
                }
                '}' => {
                    stack.pop();
                }
                _ => {}
            }
        }
    }
    found.then_some(settings)
}

/// Problems with the pair's two settings: anything that allows split brain, flapping,
/// or a VIP that never moves.
pub fn pair_problems(
    a: &VrrpSettings,
    b: &VrrpSettings,
    names: [&str; 2],
    vip: &str,
) -> Vec<String> {
    let mut problems = Vec::new();
    if a.virtual_router_id != b.virtual_router_id {
        problems.push(format!(
            "virtual_router_id differs ({:?} on {}, {:?} on {}): the nodes do not see each other's advertisements (split brain)",
            a.virtual_router_id, names[0], b.virtual_router_id, names[1]
        ));
    }
    if a.priority.is_some() && a.priority == b.priority {
        problems.push(format!(
            "both nodes have priority {:?}: the election falls back to the higher address",
            a.priority
        ));
    }
    for (s, n) in [(a, names[0]), (b, names[1])] {
        if s.state.as_deref() != Some("BACKUP") || !s.nopreempt {
            problems.push(format!(
                "{n}: state {} {}: a recovering node must not take the VIP back (use state BACKUP with nopreempt)",
                s.state.as_deref().unwrap_or("unset"),
                if s.nopreempt { "with nopreempt" } else { "without nopreempt" }
            ));
        }
        if !s.tracks_script {
            problems.push(format!(
                "{n}: no track_script: the VIP does not move when mysqld fails"
            ));
        }
        if !s.vips.iter().any(|v| v == vip) {
            problems.push(format!(
                "{n}: the VIP {vip} is not in virtual_ipaddress ({:?})",
                s.vips
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = include_str!("../../tests/golden/mariadb-node-a-keepalived.conf");

    #[test]
    fn reads_the_rendered_config() {
        let s = parse(GOOD).expect("a vrrp_instance");
        assert_eq!(s.state.as_deref(), Some("BACKUP"));
        assert!(s.nopreempt && s.tracks_script);
        assert!(s.virtual_router_id.is_some() && s.priority == Some(254));
        assert_eq!(s.vips.len(), 1);
    }

    #[test]
    fn flags_the_runbook_style_config() {
        // As in hand-written runbooks: MASTER with preemption, no health check, and the
        // two nodes disagreeing on the router id.
        let a = parse(
            "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 100\n \
             virtual_ipaddress {\n  10.0.0.100\n }\n}\n",
        )
        .unwrap();
        let b = parse(
            "vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n virtual_router_id 52\n priority 100\n \
             virtual_ipaddress {\n  10.0.0.100/24 dev eth0\n }\n}\n",
        )
        .unwrap();
        let problems = pair_problems(&a, &b, ["a", "b"], "10.0.0.100");
        let text = problems.join("\n");
        assert!(text.contains("virtual_router_id differs"), "{text}");
        assert!(text.contains("both nodes have priority"), "{text}");
        assert!(text.contains("a: state MASTER"), "{text}");
        assert!(text.contains("no track_script"), "{text}");
        assert!(!text.contains("is not in virtual_ipaddress"), "{text}");
    }

    #[test]
    fn no_instance_is_none() {
        assert!(parse("global_defs {\n router_id x\n}\n").is_none());
    }
}
