//! Reading a keepalived.conf mhactl did not write (`mhactl adopt`): its VRRP instances,
//! IPVS `virtual_server` blocks, notify scripts and keywords current keepalived does
//! not know, by a pure parser tested on the runbook's file. The `auth_pass` value is a
//! secret: the parser notes that one is set, never what it is.

/// Keywords of old keepalived releases that current ones reject or ignore (the
/// runbook's `TCP_CHECK` uses `nb_get_retry`, renamed `retry` in keepalived 2.0).
pub const OBSOLETE_KEYWORDS: &[&str] = &["nb_get_retry"];

/// Keywords whose value is a script keepalived runs on a state change or a failed check.
const NOTIFY_KEYWORDS: &[&str] = &[
    "notify",
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify_up",
    "notify_down",
    "notify_deleted",
];

/// One `vrrp_instance` block.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct VrrpInstance {
    /// The instance's name (`VI_1`).
    pub name: String,
    /// `state` (MASTER or BACKUP).
    pub state: Option<String>,
    /// `interface`.
    pub interface: Option<String>,
    /// `virtual_router_id`.
    pub virtual_router_id: Option<u8>,
    /// `priority`.
    pub priority: Option<u8>,
    /// `advert_int`, as written.
    pub advert_int: Option<String>,
    /// `nopreempt` is set.
    pub nopreempt: bool,
    /// `auth_type` of the `authentication` block (`PASS`, `AH`).
    pub auth_type: Option<String>,
    /// The addresses of `virtual_ipaddress` with their prefix, if written (`10.0.0.100/24`).
    pub vips: Vec<(String, Option<u8>)>,
    /// Names in `track_script`.
    pub track_scripts: Vec<String>,
}

/// What adopt reads from a keepalived.conf.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct KeepalivedConf {
    /// `router_id` of `global_defs`.
    pub router_id: Option<String>,
    /// Every `vrrp_instance`, in order.
    pub instances: Vec<VrrpInstance>,
    /// The header of every `virtual_server` block (`192.168.182.130 3306`): IPVS.
    pub virtual_servers: Vec<String>,
    /// Scripts keepalived runs on an event (`notify_down /opt/x.sh` gives `/opt/x.sh`),
    /// with the keyword that runs them.
    pub notify_scripts: Vec<(String, String)>,
    /// Obsolete keywords found ([`OBSOLETE_KEYWORDS`]), once each.
    pub obsolete_keywords: Vec<String>,
    /// `include` lines (not followed: the report says so).
    pub includes: Vec<String>,
}

/// Split a line into words, with `{` and `}` as words of their own; comments (`!`, `#`)
/// dropped.
fn words(line: &str) -> Vec<String> {
    let line = line.split(['!', '#']).next().unwrap_or("");
    let spaced = line.replace('{', " { ").replace('}', " } ");
    spaced.split_whitespace().map(str::to_string).collect()
}

/// Parse a keepalived.conf.
pub fn parse(text: &str) -> KeepalivedConf {
    let mut conf = KeepalivedConf::default();
    // The open blocks, outermost first: (keyword, rest of its header).
    let mut stack: Vec<String> = Vec::new();
    // A keyword whose `{` comes on a later line.
    let mut pending: Option<String> = None;
    for line in text.lines() {
        let ws = words(line);
        let mut i = 0;
        while i < ws.len() {
            let w = ws[i].as_str();
            match w {
                "{" => {
                    stack.push(pending.take().unwrap_or_default());
                    i += 1;
                    continue;
                }
                "}" => {
                    stack.pop();
                    pending = None;
                    i += 1;
                    continue;
                }
                _ => {}
            }
            // One statement: this word and the rest of the line up to a brace.
            let end = ws[i..]
                .iter()
                .position(|x| x == "{" || x == "}")
                .map_or(ws.len(), |p| i + p);
            let stmt: Vec<&str> = ws[i..end].iter().map(String::as_str).collect();
            statement(&mut conf, &stack, &stmt);
            pending = Some(stmt[0].to_string());
            i = end;
        }
    }
    conf
}

fn statement(conf: &mut KeepalivedConf, stack: &[String], stmt: &[&str]) {
    let key = stmt[0];
    let arg = stmt.get(1).map(|s| s.trim_matches('"').to_string());
    if OBSOLETE_KEYWORDS.contains(&key) && !conf.obsolete_keywords.iter().any(|k| k == key) {
        conf.obsolete_keywords.push(key.to_string());
    }
    if NOTIFY_KEYWORDS.contains(&key) {
        if let Some(script) = &arg {
            conf.notify_scripts.push((key.to_string(), script.clone()));
        }
    }
    let top = stack.first().map(String::as_str);
    let inner = stack.last().map(String::as_str);
    match (stack.len(), key) {
        (0, "vrrp_instance") => conf.instances.push(VrrpInstance {
            name: arg.unwrap_or_default(),
            ..VrrpInstance::default()
        }),
        (0, "virtual_server") => conf.virtual_servers.push(stmt[1..].join(" ")),
        (0, "include") => conf.includes.extend(arg),
        (1, "router_id") if top == Some("global_defs") => conf.router_id = arg,
        _ if top == Some("vrrp_instance") => {
            if let Some(inst) = conf.instances.last_mut() {
                instance_statement(inst, stack.len(), inner, key, arg);
            }
        }
        _ => {}
    }
}

fn instance_statement(
    inst: &mut VrrpInstance,
    depth: usize,
    inner: Option<&str>,
    key: &str,
    arg: Option<String>,
) {
    match (depth, inner, key) {
        (1, _, "state") => inst.state = arg,
        (1, _, "interface") => inst.interface = arg,
        (1, _, "virtual_router_id") => inst.virtual_router_id = arg.and_then(|a| a.parse().ok()),
        (1, _, "priority") => inst.priority = arg.and_then(|a| a.parse().ok()),
        (1, _, "advert_int") => inst.advert_int = arg,
        (1, _, "nopreempt") => inst.nopreempt = true,
        (2, Some("authentication"), "auth_type") => inst.auth_type = arg,
        (2, Some("virtual_ipaddress"), address) => {
            let (addr, prefix) = match address.split_once('/') {
                Some((a, p)) => (a.to_string(), p.parse().ok()),
                None => (address.to_string(), None),
            };
            inst.vips.push((addr, prefix));
        }
        (2, Some("track_script"), name) => inst.track_scripts.push(name.to_string()),
        _ => {}
    }
}

/// Does a script stop keepalived itself (`pkill keepalived`, `killall keepalived`,
/// `systemctl stop keepalived`, `service keepalived stop`)? Comments are ignored.
pub fn script_stops_keepalived(script: &str) -> bool {
    script.lines().any(|line| {
        let line = line.split('#').next().unwrap_or("");
        let w: Vec<&str> = line.split_whitespace().collect();
        let has = |s: &str| w.contains(&s);
        let names_keepalived = w
            .iter()
            .any(|x| x.trim_matches(['"', '\'']) == "keepalived");
        names_keepalived
            && (w
                .iter()
                .any(|x| x.ends_with("pkill") || x.ends_with("killall"))
                || (has("stop")
                    && w.iter()
                        .any(|x| x.ends_with("systemctl") || x.ends_with("service"))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runbook's node-1 file (docs/runbook.md, seed guide 2.2.1), comments and all.
    const RUNBOOK: &str = "! Configuration File for keepalived

global_defs {
    router_id HA_MySQL #标识，双主相同
}
vrrp_instance VI_1 {
     state BACKUP #注意
     interface ens33
     virtual_router_id 51
     priority 100
     advert_int 1
     nopreempt
     authentication {
         auth_type PASS
         auth_pass 1111
     }
     virtual_ipaddress {
         192.168.182.130
     }
}
virtual_server 192.168.182.130 3306 {
     delay_loop 2
     lb_algo wrr
     lb_kind DR
     persistence_timeout 60
     protocol TCP
     real_server 192.168.182.132 3306 {
         weight 3
         notify_down /opt/keepalived/keepalived_shutdown.sh #杀死keepalived
         TCP_CHECK {
             connect_timeout 10
             nb_get_retry 3
             delay_before_retry 3
             connect_port 3306
         }
     }
}
";

    #[test]
    fn reads_the_runbook_file() {
        let c = parse(RUNBOOK);
        assert_eq!(c.router_id.as_deref(), Some("HA_MySQL"));
        assert_eq!(
            c.instances,
            vec![VrrpInstance {
                name: "VI_1".into(),
                state: Some("BACKUP".into()),
                interface: Some("ens33".into()),
                virtual_router_id: Some(51),
                priority: Some(100),
                advert_int: Some("1".into()),
                nopreempt: true,
                auth_type: Some("PASS".into()),
                vips: vec![("192.168.182.130".into(), None)],
                track_scripts: vec![],
            }]
        );
        assert_eq!(c.virtual_servers, vec!["192.168.182.130 3306"]);
        assert_eq!(
            c.notify_scripts,
            vec![(
                "notify_down".to_string(),
                "/opt/keepalived/keepalived_shutdown.sh".to_string()
            )]
        );
        assert_eq!(c.obsolete_keywords, vec!["nb_get_retry"]);
        assert!(!format!("{c:?}").contains("1111"), "the auth_pass leaked");
    }

    #[test]
    fn braces_on_their_own_lines_and_prefixes() {
        let c = parse(
            "vrrp_instance mhactl\n{\n state MASTER\n virtual_ipaddress\n {\n  10.0.0.100/24 dev eth0\n }\n \
             track_script {\n  chk_mysql\n }\n}\ninclude /etc/keepalived/other.conf\n",
        );
        let i = &c.instances[0];
        assert_eq!(i.state.as_deref(), Some("MASTER"));
        assert_eq!(i.vips, vec![("10.0.0.100".to_string(), Some(24))]);
        assert_eq!(i.track_scripts, vec!["chk_mysql"]);
        assert_eq!(c.includes, vec!["/etc/keepalived/other.conf"]);
        assert!(c.virtual_servers.is_empty());
    }

    #[test]
    fn scripts_that_stop_keepalived() {
        for (script, stops) in [
            ("#!/bin/bash\npkill keepalived\n", true),
            ("#!/bin/sh\n/usr/bin/killall keepalived\n", true),
            ("systemctl stop keepalived", true),
            ("service keepalived stop", true),
            ("# pkill keepalived\necho down >> /var/log/x\n", false),
            ("pkill -f mysqld_exporter", false),
            ("", false),
        ] {
            assert_eq!(script_stops_keepalived(script), stops, "{script:?}");
        }
    }
}
