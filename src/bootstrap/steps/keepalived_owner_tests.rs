//! The `keepalived` step's conversion on the VIP holder (keepalived_owner.rs), planned
//! from facts and the fresh reads it makes: the address owner's file first, then the
//! node's own, checked, moved and reloaded in one command; only while the peer's
//! keepalived is stopped.

use super::plans_from_facts_tests::{keepalived_facts, owner_conf, pair_of};
use crate::bootstrap::steps_tests::{ctx, step_of};
use crate::engine::Plan;
use crate::facts;
use crate::os::OsFamily;
use crate::transport::fake::FakeTransport;

/// node-b holds the VIP under the runbook's keepalived (running); node-a's keepalived is
/// `peer_running`. The plan of node-b's `keepalived` step, one line per action.
fn holder_plan(peer_running: bool, owner_on_disk: bool) -> (String, Vec<String>) {
    let ctx = ctx();
    let inv = &ctx.inv;
    let fakes = [FakeTransport::new("node-a"), FakeTransport::new("node-b")];
    let vip_line = format!("2: eth0    inet {}/24 scope global eth0\n", inv.vip.address);
    fakes[1].on("ip -4 -o addr show dev eth0", 0, &vip_line);
    fakes[0].on("keepalived", if peer_running { 0 } else { 3 }, "");
    let c = pair_of(fakes);
    let target =
        crate::os::OsTarget::new(OsFamily::Debian, crate::inventory::Flavor::Mariadb).unwrap();
    let script = crate::render::render_check_script(inv, &target).unwrap();
    let runbook = "vrrp_instance VI_1 {\n    state BACKUP\n    interface eth0\n}\n".to_string();
    let owner = owner_conf(inv);
    let current = if owner_on_disk { owner } else { runbook };
    keepalived_facts(&c.nodes[1], Some(&current), &script, true);
    let op = step_of(ctx.clone(), "keepalived");
    match facts::cached(|| op.plan(&c, 1)).expect("plans") {
        Plan::Change(ch) => (
            ch.summary,
            ch.actions.iter().map(|a| a.describe()).collect(),
        ),
        Plan::Noop(why) => panic!("noop: {why}"),
    }
}

#[test]
fn the_holder_loads_the_owners_file_then_its_own() {
    // Also where a run interrupted before the owner's reload left the owner's file.
    for owner_on_disk in [false, true] {
        holder_loads_the_owners_file_then_its_own(owner_on_disk);
    }
}

fn holder_loads_the_owners_file_then_its_own(owner_on_disk: bool) {
    let (summary, actions) = holder_plan(false, owner_on_disk);
    assert!(
        summary.contains("as the VIP's owner first")
            && summary.contains("then its own /etc/keepalived/keepalived.conf (the VIP stays)"),
        "{summary}"
    );
    let at = |needle: &str| {
        actions
            .iter()
            .position(|a| a.contains(needle))
            .unwrap_or_else(|| panic!("no `{needle}` in {actions:#?}"))
    };
    let owner = at("write /etc/keepalived/keepalived.conf.mhactl-owner");
    let owner_loaded = at("wait until keepalived took the VIP as its owner");
    let last = at("mv -f /etc/keepalived/keepalived.conf.mhactl-new");
    assert!(owner < owner_loaded && owner_loaded < last, "{actions:#?}");
    // The final file is checked, moved and reloaded in one command.
    assert!(
        actions[last].contains("keepalived -t -f")
            && actions[last].ends_with("service keepalived reload")
    );
    // No reload of its own besides the two.
    assert_eq!(reloads(&actions), 2, "{actions:#?}");
}

#[test]
fn with_the_peers_keepalived_running_the_holder_reloads_once() {
    let (summary, actions) = holder_plan(true, false);
    // A dry run before the hand-over: this, and what the hand-over would change.
    assert!(
        summary.starts_with(
            "write /etc/keepalived/keepalived.conf and reload keepalived (if server-config hands \
             the VIP over"
        ),
        "{summary}"
    );
    assert!(
        actions
            .iter()
            .any(|a| a.contains("mv -f") && a.ends_with("&& service keepalived reload")),
        "{actions:#?}"
    );
    assert_eq!(reloads(&actions), 1, "{actions:#?}");
}

/// How many of the actions reload keepalived.
fn reloads(actions: &[String]) -> usize {
    actions
        .iter()
        .filter(|a| a.contains("service keepalived reload"))
        .count()
}
