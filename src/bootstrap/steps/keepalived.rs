//! Step `keepalived`: keepalived's configuration, the health-check script, keepalived running.

use super::shared::{start_service, Ctx};
use crate::engine::{file_diff, Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::os::selinux::{CheckScriptLabel, CHECK_SCRIPT_SELINUX_TYPE};
use crate::os::KEEPALIVED_SERVICE;
use crate::transport::RemoteCommand;
use anyhow::Result;
use std::sync::Arc;

/// Step 8 (runbook's keepalived part): keepalived.conf (validated with `keepalived -t`
/// before it replaces the old one) and the health-check script; keepalived running.
pub(super) struct Keepalived(pub(super) Arc<Ctx>);

impl Operation for Keepalived {
    fn name(&self) -> &'static str {
        "keepalived"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let (target, services) = facts::os_target(node, inv.mysql.flavor)?;
        let conf_path = target.keepalived_conf_path();
        let script_path = target.check_script_path();
        // The release file switchover drives needs keepalived >= 2.1 (track_file).
        let options = facts::host::keepalived_options(node)?;
        let conf = crate::render::render_keepalived_conf_with(inv, i, &options)?;
        let script = crate::render::render_check_script(inv, &target)?;
        let current_conf = facts::host::rendered_file(node, conf_path)?;
        let current_script = facts::host::rendered_file(node, script_path)?;
        let running = facts::service_active(node, services, KEEPALIVED_SERVICE)?;
        let conf_ok = current_conf.as_deref() == Some(conf.as_str());
        let script_ok = current_script.as_deref() == Some(script.as_str());
        let label = facts::packages::check_script_label(node, script_path)?;
        // Under SELinux a freshly written script carries its directory's type: label it
        // again after every write.
        let label_ok = match &label {
            CheckScriptLabel::NotEnforcing => true,
            CheckScriptLabel::Enforcing(ty) => script_ok && ty == CHECK_SCRIPT_SELINUX_TYPE,
        };
        if conf_ok && script_ok && running && label_ok {
            return Ok(Plan::Noop(format!(
                "{conf_path} up to date; keepalived running"
            )));
        }
        let mut actions = Vec::new();
        let mut diff = String::new();
        let mut what = Vec::new();
        super::shared::keepalived_script(
            script_path,
            current_script.as_deref(),
            (!script_ok).then_some(script),
            !label_ok,
            (&mut actions, &mut diff, &mut what),
        );
        // This node's keepalived.conf is not mhactl's final one: a pair built by hand, or
        // the owner's file of a conversion interrupted before its reload (keepalived may
        // still run the hand-built one: loading the owner's again keeps the VIP either way).
        let own_foreign = current_conf.is_some() && !is_mhactls_final(current_conf.as_deref());
        // The VIP holder's conversion, its peer's keepalived stopped: through the
        // address owner's configuration, so that the VIP stays (keepalived_owner.rs).
        let owner_first = running
            && !conf_ok
            && super::keepalived_owner::applies(cluster, inv, i, own_foreign, &options)?;
        // A running keepalived whose file is not mhactl's final one (the hand-built one,
        // or the owner's of a conversion interrupted half-way): the new file is checked,
        // moved and reloaded in one command, so that no interruption leaves it on disk
        // unloaded (a re-run would find it up to date and not reload).
        let converting = running
            && !conf_ok
            && options.release_file
            && current_conf.is_some()
            && !is_mhactls_final(current_conf.as_deref());
        if !conf_ok {
            diff.push_str(&file_diff(conf_path, current_conf.as_deref(), &conf));
            // keepalived -t rejects a track_file that does not exist: switchover's
            // release file (and its directory in /run) first.
            if options.release_file {
                actions.push(Action::Run(RemoteCommand::new(
                    crate::os::switchover::ensure_release_file_command(),
                )));
            }
            if owner_first {
                let owner = crate::render::KeepalivedOptions {
                    address_owner: true,
                    ..options
                };
                let owner_conf = crate::render::render_keepalived_conf_with(inv, i, &owner)?;
                actions.extend(super::keepalived_owner::load_owner_first(
                    conf_path, owner_conf, services,
                ));
                what.push(format!(
                    "load {conf_path} as the VIP's owner first (keeps the VIP through the \
                     conversion)"
                ));
            }
            if converting {
                // The node's own configuration, checked, moved and reloaded at once.
                actions.extend(super::keepalived_owner::load_final(
                    conf_path, conf, services,
                ));
                what.push(if owner_first {
                    format!("then its own {conf_path} (the VIP stays)")
                } else {
                    // What a dry run on a hand-built pair shows before server-config's
                    // hand-over (which stops the holder's keepalived) changes the picture.
                    format!(
                        "write {conf_path} and reload keepalived (if server-config hands the \
                         VIP over by stopping a node's keepalived, the node then holding the \
                         VIP loads this file as the VIP's owner first and then its own, \
                         keeping the VIP, and the other node starts keepalived only once that \
                         is loaded)"
                    )
                });
            } else {
                // Validate the candidate with keepalived itself before it replaces the
                // live file.
                let candidate = format!("{conf_path}.mhactl-new");
                actions.push(Action::WriteFile {
                    path: candidate.clone().into(),
                    content: conf,
                    mode: 0o600,
                });
                actions.push(Action::Run(RemoteCommand::new(
                    crate::os::keepalived::install_checked_config_command(&candidate, conf_path),
                )));
                what.push(format!("write {conf_path}"));
            }
        }
        actions.push(Action::Run(RemoteCommand::new(
            services.enable_command(KEEPALIVED_SERVICE),
        )));
        // A running keepalived re-reads its files on reload (SIGHUP) and keeps its VRRP
        // state; a restart would drop the VIP and, with SysV scripts that do not wait for
        // the old daemon to exit, could even leave the old configuration running.
        if converting {
            // Reloaded above.
        } else if running {
            actions.push(Action::Run(RemoteCommand::new(
                services.reload_command(KEEPALIVED_SERVICE),
            )));
            what.push("reload keepalived".into());
        } else {
            // The peer holds the VIP under a keepalived.conf mhactl did not write (a pair
            // built by hand, whose holder handed the VIP over by stopping its keepalived
            // in server-config): that keepalived speaks multicast VRRP, which this
            // node's (unicast to the peer) does not hear, so starting now could put the
            // VIP on both nodes. Start once the peer runs mhactl's configuration and
            // holds the VIP again; then this node stays BACKUP (nopreempt). Whatever this
            // node's own file is: a re-run after a conversion that failed half-way finds
            // mhactl's file here already. (A pair mhactl built runs mhactl's on both.)
            let peer = cluster.peer(i);
            let peer_unconverted = |peer| -> Result<bool> {
                let (t, _) = facts::os_target(peer, inv.mysql.flavor)?;
                let conf = facts::host::rendered_file(peer, t.keepalived_conf_path())?;
                Ok(conf.is_some() && !is_mhactls_final(conf.as_deref()))
            };
            // (A node without keepalived.conf is a first bootstrap: no conversion.)
            if current_conf.is_some() && peer_unconverted(peer)? && facts::holds_vip(peer, inv)? {
                let ctx = self.0.clone();
                actions.push(Action::Custom(
                    format!(
                        "wait until {} runs mhactl's keepalived configuration and holds the VIP \
                         again (at most {} s)",
                        peer.name,
                        PEER_CONVERTED_WAIT.as_secs()
                    ),
                    Box::new(move |cluster: &Cluster, i| wait_peer_converted(cluster, &ctx, i)),
                ));
                what.push(format!(
                    "start keepalived once {} runs mhactl's keepalived.conf (it still runs one \
                     mhactl did not write: the two would not hear each other)",
                    peer.name
                ));
            } else if inv.priority(i) < inv.priority(1 - i)
                && !facts::holds_vip(node, inv)?
                && !facts::holds_vip(peer, inv)?
            {
                // The first election: both nodes start as BACKUP and the first whose
                // master-down timer runs out takes the VIP. Their priorities (254 and 253)
                // part those timers by 2 ms only, less than two parallel starts part, so
                // the node the inventory ranks lower starts once its peer holds the VIP.
                let ctx = self.0.clone();
                actions.push(Action::Custom(
                    format!(
                        "wait until {} holds the VIP (at most {} s; then start anyway)",
                        peer.name,
                        FIRST_ELECTION_WAIT.as_secs()
                    ),
                    Box::new(move |cluster: &Cluster, i| wait_peer_elected(cluster, &ctx, i)),
                ));
                what.push(format!(
                    "start keepalived once {} holds the VIP (the inventory ranks it first)",
                    peer.name
                ));
            } else {
                what.push("start keepalived".into());
            }
            actions.push(start_service(services, KEEPALIVED_SERVICE, None));
        }
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions,
            diff: (!diff.is_empty()).then_some(diff),
        }))
    }
}

/// How long a node waits for its peer's keepalived to be converted ([`wait_peer_converted`]):
/// the peer's reload drops the VIP for its master-down interval (0.9 s at `vip.detection:
/// default`, 3 s + skew at `relaxed`).
const PEER_CONVERTED_WAIT: std::time::Duration = std::time::Duration::from_secs(60);

/// How long the node the inventory ranks lower waits for its peer to win the first
/// election ([`wait_peer_elected`]): the peer's master-down interval (at most 3.3 s with
/// `relaxed`) plus its start.
const FIRST_ELECTION_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

/// Waits (bounded by [`FIRST_ELECTION_WAIT`]) until node `i`'s peer holds the VIP. A peer
/// that does not take it (its checks fail: its server is down) is no reason to fail:
/// this node then starts and may take the VIP itself.
fn wait_peer_elected(cluster: &Cluster, ctx: &Ctx, i: usize) -> Result<()> {
    let peer = cluster.peer(i);
    // A signal ends the wait before this node's keepalived starts; a timeout starts it
    // anyway (the election then takes a little longer, nothing else).
    crate::poll::until_interruptible(
        FIRST_ELECTION_WAIT,
        std::time::Duration::from_millis(200),
        || {
            Ok(
                facts::fresh::<facts::host::InterfaceAddresses>(peer, &ctx.inv.vip.interface)
                    .is_ok_and(|addresses| addresses.contains(&ctx.inv.vip.address)),
            )
        },
    )?;
    Ok(())
}

/// Whether a keepalived.conf is one mhactl wrote: it names the release file's track, in
/// either form (track_file, or the check script's release mode before keepalived 2.1).
fn names_release_track(conf: Option<&str>) -> bool {
    conf.is_some_and(|c| c.contains(crate::os::switchover::VIP_RELEASE_TRACK_NAME))
}

/// Whether a keepalived.conf is mhactl's final one for its node: [`names_release_track`],
/// and not the address owner's of an unfinished conversion (keepalived_owner.rs).
fn is_mhactls_final(conf: Option<&str>) -> bool {
    names_release_track(conf) && conf.is_some_and(super::keepalived_owner::is_final)
}

/// Whether `node` runs mhactl's keepalived configuration, read now: its keepalived.conf
/// is mhactl's (its own, or the address owner's of the conversion, both unicast) and its
/// keepalived no longer speaks multicast VRRP on the VIP's interface (a reload is
/// processed after the file is on disk; the runbook's keepalived is a member of VRRP's
/// multicast group, mhactl's is not).
fn runs_mhactls(
    node: &crate::engine::NodeHandle,
    inv: &crate::inventory::Inventory,
) -> Result<bool> {
    let (target, _) = facts::os_target(node, inv.mysql.flavor)?;
    let path = std::path::Path::new(target.keepalived_conf_path());
    if !names_release_track(facts::fresh::<facts::host::RenderedFile>(node, path)?.as_deref()) {
        return Ok(false);
    }
    let groups = node.transport.run(&RemoteCommand::new(
        crate::os::keepalived::MULTICAST_GROUPS_COMMAND,
    ))?;
    Ok(groups.success()
        && !crate::os::keepalived::speaks_multicast_vrrp(&groups.stdout, &inv.vip.interface))
}

/// Waits until node `i`'s peer runs mhactl's keepalived.conf (its own `keepalived`
/// step reloaded it) and holds the VIP again.
fn wait_peer_converted(cluster: &Cluster, ctx: &Ctx, i: usize) -> Result<()> {
    let peer = cluster.peer(i);
    // A signal ends the wait before this node's keepalived starts (interrupted
    // half-way, the re-run finds the same wait). A failed look is "not yet".
    let mut last_error = None;
    let converted = crate::poll::until_interruptible(
        PEER_CONVERTED_WAIT,
        std::time::Duration::from_millis(200),
        || {
            let look = || -> Result<bool> {
                Ok(runs_mhactls(peer, &ctx.inv)?
                    && facts::service_active_fresh(
                        peer,
                        facts::os_target(peer, ctx.inv.mysql.flavor)?.1,
                        KEEPALIVED_SERVICE,
                    )?
                    && facts::fresh::<facts::host::InterfaceAddresses>(
                        peer,
                        &ctx.inv.vip.interface,
                    )?
                    .contains(&ctx.inv.vip.address))
            };
            Ok(look().unwrap_or_else(|e| {
                last_error = Some(format!("{e:#}"));
                false
            }))
        },
    )?;
    if converted {
        return Ok(());
    }
    anyhow::bail!(
        "{}: keepalived: not started: {} does not run mhactl's keepalived.conf with the VIP \
         (its keepalived.conf, its keepalived running, no longer a member of VRRP's multicast \
         group 224.0.0.18 on {}, holding the VIP) after {} s{}; re-run bootstrap once its \
         keepalived step succeeded",
        cluster.nodes[i].name,
        peer.name,
        ctx.inv.vip.interface,
        PEER_CONVERTED_WAIT.as_secs(),
        last_error
            .map(|e| format!(" (last error: {e})"))
            .unwrap_or_default()
    )
}
