//! The risks of a hand-built pair's keepalived (part of [`super::risks`]): its
//! configuration and state, IPVS blocks, notify scripts that stop keepalived, VRRP
//! authentication, `nopreempt`, a missing health check.

use super::discover::NodeFindings;
use super::risks::{risk, Risk, Severity};

pub(super) fn keepalived_risks(n: &NodeFindings, out: &mut Vec<Risk>) {
    let name = n.name.as_str();
    let k = &n.keepalived;
    let Some(conf) = &k.conf else {
        risk(
            out,
            "no-keepalived",
            Severity::High,
            name,
            "no /etc/keepalived/keepalived.conf".into(),
            "this node cannot take the VIP",
            "bootstrap installs and configures keepalived",
        );
        return;
    };
    if k.running == Some(false) {
        risk(
            out,
            "keepalived-stopped",
            Severity::High,
            name,
            "keepalived is not running".into(),
            "this node cannot take the VIP when its peer fails",
            "bootstrap starts keepalived with mhactl's configuration",
        );
    }
    for vs in &conf.virtual_servers {
        risk(
            out,
            "ipvs-virtual-server",
            Severity::Medium,
            name,
            format!(
                "virtual_server {vs} (IPVS){}",
                if conf.obsolete_keywords.is_empty() {
                    String::new()
                } else {
                    format!(
                        ", with keywords current keepalived does not know: {}",
                        conf.obsolete_keywords.join(", ")
                    )
                }
            ),
            "an IPVS load balancer in front of a single writer: keepalived's checker needs the \
             ip_vs module and rejects or ignores the runbook's nb_get_retry; its TCP_CHECK only \
             sees a port, not a working server",
            "bootstrap replaces keepalived.conf with VRRP only and a health check that logs in",
        );
    }
    for s in &k.notify_scripts {
        if s.stops_keepalived == Some(true) {
            risk(
                out,
                "notify-pkill",
                Severity::High,
                name,
                format!("{} {} stops keepalived with pkill", s.keyword, s.path),
                "one failed TCP check kills keepalived for good: the node leaves VRRP and never \
                 comes back by itself, and a flapping check kills it on a healthy node",
                "bootstrap replaces it with a track_script health check and mhactl's write \
                 fence; keepalived keeps running",
            );
        }
    }
    for inst in &conf.instances {
        if inst
            .auth_type
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case("pass"))
        {
            risk(out, "auth-pass", Severity::Info, name,
                format!("vrrp_instance {}: auth_type PASS", inst.name),
                "the VRRP password travels in clear text in every advertisement and protects \
                 nothing; keepalived 2.x warns about it",
                "bootstrap renders mhactl's keepalived.conf (its authentication per docs/failover.md)");
        }
        if inst.nopreempt
            && inst
                .state
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("backup"))
        {
            risk(
                out,
                "backup-nopreempt",
                Severity::Info,
                name,
                format!("vrrp_instance {}: state BACKUP with nopreempt", inst.name),
                "the VIP stays wherever it went; with no health check it stays on a node whose \
                 MySQL is down",
                "bootstrap keeps one VIP holder at a time and moves it only by switchover or \
                 a failed health check",
            );
        }
        if inst.track_scripts.is_empty() {
            risk(
                out,
                "no-health-check",
                Severity::High,
                name,
                format!("vrrp_instance {} tracks no script", inst.name),
                "keepalived keeps the VIP on a node whose MySQL is down or hung",
                "bootstrap adds mhactl's health check (a login and a query) as track_script",
            );
        }
    }
}
