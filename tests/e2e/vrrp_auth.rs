//! End-to-end on the lab (issue 19, item 4): mhactl no longer writes VRRPv2's
//! `auth_type PASS` block. A pair whose keepalived.conf still has it (what an older
//! mhactl rendered for `vip.advert_int_s`) converges on a re-run: keepalived reloads on
//! both nodes (same processes), the VIP stays on its holder the whole time, and the old
//! password is printed nowhere.

use crate::rolling::VipWatch;
use crate::support::{changed_steps, mhactl_json, Lab, Scenario};
use std::time::Duration;

const CONF: &str = "/etc/keepalived/keepalived.conf";
/// The password the older mhactl's block carried (a secret: never printed).
const OLD_PASS: &str = "Old7Pass";

fn an_old_auth_pass_block_goes_away_with_a_reload_and_the_vip_stays(lab: Lab) {
    let inv = lab.inventory();
    // VRRPv2 (whole-second adverts): the only configuration that ever had the block.
    crate::secrets::use_vrrpv2(&lab);
    lab.bootstrap_ok();
    // The older mhactl's file: the PASS block where the comment is now, on both nodes,
    // loaded by both keepalived (reloaded together: a node drops advertisements whose
    // auth type differs from its own).
    let old_style = format!(
        "sed -i '/No authentication block: VRRPv2/,+2d' {CONF} && \
         sed -i 's/^    advert_int 1$/    advert_int 1\\n    authentication {{\\n        \
         auth_type PASS\\n        auth_pass {OLD_PASS}\\n    }}/' {CONF} && \
         grep -q 'auth_pass {OLD_PASS}' {CONF}"
    );
    for node in ["node-a", "node-b"] {
        lab.ssh_ok(node, &old_style);
    }
    for node in ["node-a", "node-b"] {
        lab.ssh_ok(node, "service keepalived reload");
    }
    std::thread::sleep(Duration::from_secs(5));
    let (holder, passive) = lab.vip_holder();
    let pids = |node: &str| lab.ssh_ok(node, "pgrep -o keepalived").trim().to_string();
    let before = [pids("node-a"), pids("node-b")];

    let watch = VipWatch::start(&lab, holder);
    let (out, report) = mhactl_json(&["-i", &inv, "bootstrap", "--diff", "--output", "json"]);
    std::thread::sleep(Duration::from_secs(4));
    let (samples, wrong, holders) = watch.stop();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "bootstrap failed:\n{printed}");
    assert!(
        !printed.contains(OLD_PASS),
        "the old auth_pass printed:\n{printed}"
    );
    assert!(
        printed.contains("-        auth_pass ***(old)"),
        "no masked removal of auth_pass in the diff:\n{printed}"
    );
    let changed = changed_steps(&report);
    for node in ["node-a", "node-b"] {
        assert!(
            changed.contains(&format!("{node}/keepalived")),
            "{node}: keepalived not changed: {changed:?}"
        );
        let conf = lab.ssh_ok(node, &format!("cat {CONF}"));
        assert!(!conf.contains("auth_"), "{node}: {conf}");
    }
    let step = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["step"] == "keepalived")
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(step.contains("reload keepalived"), "{step}");
    // A reload, not a restart: the same keepalived processes, and the VIP never moved.
    assert_eq!(
        before,
        [pids("node-a"), pids("node-b")],
        "keepalived restarted"
    );
    assert!(samples >= 5, "only {samples} VIP samples");
    assert!(wrong.is_empty(), "VIP on both nodes: {wrong:?}");
    assert_eq!(holders, vec![holder], "the VIP moved (passive {passive})");
    assert_eq!(lab.vip_holder().0, holder);

    // Converged: the next run changes nothing, verify passes.
    let (out, report) = mhactl_json(&["-i", &inv, "bootstrap", "--output", "json"]);
    assert!(out.status.success());
    assert!(changed_steps(&report).is_empty(), "{report:#}");
    let (out, _) = mhactl_json(&["-i", &inv, "verify", "--output", "json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        an_old_auth_pass_block_goes_away_with_a_reload_and_the_vip_stays
    )]
}
