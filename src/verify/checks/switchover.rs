//! `switchover-tracking` (issue 16): keepalived on the node tracks the files
//! `mhactl switchover` drives (docs/switchover.md), in its configuration *and* in the
//! running process. A warning, not an error: the pair serves without it, but a node
//! whose keepalived.conf lacks them cannot be switched over (switchover refuses), and a
//! keepalived that does not watch them yet needs a reload first.
//!
//! keepalived >= 2.1: the instance's `track_file` block names the release and take files,
//! and a running keepalived watches `/run/mhactl` with inotify (what it does for a
//! `track_file` there: /proc/PID/fdinfo, the probe switchover's pre-flight uses). That is
//! the running configuration: a keepalived started, or last reloaded, before the
//! file had the blocks or before the directory existed (/run is a tmpfs) has no watch.
//! keepalived < 2.1 (EL7's 1.3.5): a `vrrp_script` runs the health-check script's
//! `release` mode every second, which reads the file itself; the configuration is all
//! there is to check (keepalived-config checks the script).

use crate::facts;
use crate::os::keepalived::KeepalivedVersion;
use crate::os::switchover::{
    ReleaseTracking, VIP_RELEASE_PATH, VIP_RELEASE_TRACK_NAME, VIP_TAKE_PATH, VIP_TAKE_TRACK_NAME,
};
use crate::os::KEEPALIVED_SERVICE;
use crate::verify::keepalived_conf;
use crate::verify::registry::{CheckKind, Fact, NodeCtx, Run, Scope, When};
use crate::verify::{Check, Severity};
use anyhow::Result;

/// `switchover-tracking`: keepalived tracks switchover's files, running (a warning).
pub const SWITCHOVER_TRACKING: CheckKind = CheckKind {
    name: "switchover-tracking",
    severity: Severity::Warning,
    scope: Scope::Node,
    reads: &[Fact::OsRelease, Fact::RenderedFile, Fact::Service],
    when: When::Always,
    run: Run::Host(|c| Some(switchover_tracking(c))),
};

/// What one node shows of the tracking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tracking {
    /// keepalived's release (`None`: not installed).
    pub version: Option<KeepalivedVersion>,
    /// keepalived.conf as it is on disk (`None`: missing).
    pub conf: Option<String>,
    /// keepalived runs.
    pub running: bool,
    /// What the running keepalived watches (asked only with track_file support).
    pub watched: Option<ReleaseTracking>,
}

fn switchover_tracking(c: &NodeCtx) -> Result<Check> {
    let node = c.node;
    let (target, services) = facts::os_target(node, c.inv.mysql.flavor)?;
    let version = facts::keepalived_version(node)?;
    let running = facts::service_active(node, services, KEEPALIVED_SERVICE)?;
    let conf = facts::host::rendered_file(node, target.keepalived_conf_path())?;
    // The probe only when it can change the verdict (a configuration to compare with).
    let watched = match version {
        Some(v) if running && conf.is_some() && v.capabilities().track_file => {
            Some(facts::get::<facts::host::ReleaseTrackingFact>(node, &())?)
        }
        _ => None,
    };
    Ok(tracking_verdict(
        &node.name,
        target.keepalived_conf_path(),
        &Tracking {
            version,
            conf,
            running,
            watched,
        },
    ))
}

/// The verdict on one node's values (pure, unit-tested).
pub fn tracking_verdict(node: &str, conf_path: &str, t: &Tracking) -> Check {
    let warn = |why: String| SWITCHOVER_TRACKING.warn(node, why);
    let Some(version) = t.version else {
        return warn(
            "keepalived is not installed: this node cannot take part in a switchover; \
                     run `mhactl bootstrap`"
                .into(),
        );
    };
    let Some(settings) = t.conf.as_deref().and_then(keepalived_conf::parse) else {
        return warn(format!(
            "{conf_path} is missing or has no vrrp_instance: `mhactl switchover` cannot move \
             the VIP; run `mhactl bootstrap`"
        ));
    };
    let track_file = version.capabilities().track_file;
    let missing: Vec<&str> = if track_file {
        [VIP_RELEASE_TRACK_NAME, VIP_TAKE_TRACK_NAME]
            .into_iter()
            .filter(|name| !settings.track_files.iter().any(|f| f == name))
            .collect()
    } else {
        [VIP_RELEASE_TRACK_NAME]
            .into_iter()
            .filter(|name| !settings.track_scripts.iter().any(|f| f == name))
            .collect()
    };
    if !missing.is_empty() {
        let block = if track_file {
            "track_file"
        } else {
            "track_script"
        };
        return warn(format!(
            "{conf_path} does not track {} in the vrrp_instance's {block} block (written by an \
             older mhactl or by hand): `mhactl switchover` refuses this node; run `mhactl \
             bootstrap` (it rewrites keepalived.conf and reloads keepalived)",
            missing.join(" and ")
        ));
    }
    if !t.running {
        return warn(
            "keepalived is not running: it tracks nothing, and the node cannot take the VIP".into(),
        );
    }
    if !track_file {
        return SWITCHOVER_TRACKING.pass(
            node,
            format!(
                "keepalived {version} (< 2.1, no track_file): the vrrp_script \
                 {VIP_RELEASE_TRACK_NAME} reads {VIP_RELEASE_PATH} every second"
            ),
        );
    }
    match t.watched {
        Some(ReleaseTracking::Tracked) => SWITCHOVER_TRACKING.pass(
            node,
            format!(
                "the running keepalived watches {VIP_RELEASE_PATH} and {VIP_TAKE_PATH} \
                 (track_file {VIP_RELEASE_TRACK_NAME}, {VIP_TAKE_TRACK_NAME})"
            ),
        ),
        Some(ReleaseTracking::NoDir) => warn(format!(
            "/run/mhactl is missing (after a reboot: /run is a tmpfs), so the running \
             keepalived dropped its track_file blocks; `mhactl switchover` makes the directory \
             and reloads keepalived first (its `track` step); `mhactl bootstrap` or a reload \
             of keepalived after creating {VIP_RELEASE_PATH} repairs it now"
        )),
        _ => warn(format!(
            "{conf_path} tracks {VIP_RELEASE_PATH}, but the running keepalived does not watch \
             it (it read its configuration before the file or its directory existed, or was \
             not reloaded after keepalived.conf changed); `mhactl switchover` reloads \
             keepalived first (its `track` step); a reload of keepalived repairs it now"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONF: &str = include_str!("../../../tests/golden/mariadb-node-a-keepalived.conf");

    fn v(s: &str) -> Option<KeepalivedVersion> {
        KeepalivedVersion::parse(s).ok()
    }

    fn tracking(version: &str, conf: Option<&str>, watched: ReleaseTracking) -> Tracking {
        Tracking {
            version: v(version),
            conf: conf.map(str::to_string),
            running: true,
            watched: Some(watched),
        }
    }

    #[test]
    fn rendered_and_watched_passes() {
        let c = tracking_verdict(
            "node-a",
            "/etc/keepalived/keepalived.conf",
            &tracking("Keepalived v2.2.7", Some(CONF), ReleaseTracking::Tracked),
        );
        assert!(c.ok, "{c:?}");
    }

    #[test]
    fn in_the_file_but_not_running_warns() {
        for (watched, says) in [
            (
                ReleaseTracking::Untracked,
                "the running keepalived does not watch",
            ),
            (ReleaseTracking::NoDir, "/run/mhactl is missing"),
        ] {
            let c = tracking_verdict(
                "node-a",
                "/k.conf",
                &tracking("Keepalived v2.2.7", Some(CONF), watched),
            );
            assert!(!c.ok && c.detail.contains(says), "{c:?}");
        }
    }

    #[test]
    fn a_config_without_the_blocks_warns_with_the_fix() {
        // An older mhactl's file: the instance has no track_file block.
        let old: String = CONF.split("    track_file {").next().unwrap().to_string() + "}\n";
        let c = tracking_verdict(
            "node-b",
            "/k.conf",
            &tracking("Keepalived v2.2.7", Some(&old), ReleaseTracking::Tracked),
        );
        assert!(!c.ok, "{c:?}");
        assert!(
            c.detail.contains("mhactl_vip_release and mhactl_vip_take"),
            "{c:?}"
        );
        assert!(c.detail.contains("run `mhactl bootstrap`"), "{c:?}");
        let missing = tracking_verdict(
            "node-b",
            "/k.conf",
            &tracking("Keepalived v2.2.7", None, ReleaseTracking::Tracked),
        );
        assert!(
            !missing.ok && missing.detail.contains("is missing"),
            "{missing:?}"
        );
    }

    #[test]
    fn old_keepalived_needs_the_release_script() {
        let script = "vrrp_instance VI_x {\n    state BACKUP\n    track_script {\n        chk_mysql\n        mhactl_vip_release\n    }\n}\n";
        let t = Tracking {
            version: v("Keepalived v1.3.5 (03/19,2017)"),
            conf: Some(script.into()),
            running: true,
            watched: None,
        };
        assert!(tracking_verdict("n", "/k.conf", &t).ok);
        // The >= 2.1 form does not help a keepalived that has no track_file.
        let t = Tracking {
            conf: Some(CONF.into()),
            ..t
        };
        let c = tracking_verdict("n", "/k.conf", &t);
        assert!(!c.ok && c.detail.contains("track_script block"), "{c:?}");
    }

    #[test]
    fn stopped_or_missing_keepalived_warns() {
        let mut t = tracking("Keepalived v2.2.7", Some(CONF), ReleaseTracking::Tracked);
        t.running = false;
        assert!(!tracking_verdict("n", "/k.conf", &t).ok);
        t.version = None;
        let c = tracking_verdict("n", "/k.conf", &t);
        assert!(!c.ok && c.detail.contains("not installed"), "{c:?}");
    }
}
