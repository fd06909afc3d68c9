//! keepalived's conversion on the VIP holder without the VIP going away (issue 18): the
//! `keepalived` step's path for a node that holds the VIP under a keepalived.conf mhactl
//! did not write (the runbook's, after bootstrap's hand-over stopped the peer's).
//!
//! Why a plain reload takes the VIP away: keepalived carries an instance's state across a
//! reload only to the new instance it takes for the same one, and it matches them by
//! virtual_router_id, interface, address family *and unicast or not* (vrrp.c,
//! `vrrp_exist`); the instance name does not count. The runbook's instance is multicast,
//! mhactl's unicast to the peer, so the reload removes the old instance with its VIP and
//! starts mhactl's as BACKUP (init), MASTER only after its master-down interval: the VIP
//! was on no node for ~1 s, and the fence agent fenced the server from the BACKUP line
//! until the MASTER one (measured on the lab, keepalived 2.2.7, docs/adopt.md).
//!
//! What this does instead: two reloads. The first loads the node's configuration as the
//! address owner (`state MASTER`, priority 255: keepalived makes such an instance MASTER
//! at once, without a BACKUP (init) period), whose `notify_master` creates
//! [`OWNER_MARKER_PATH`]; keepalived removes the runbook's VIP and adds it back in the
//! same pass. Once the marker says keepalived loaded it, the second loads the node's own
//! configuration: the same instance for keepalived (same router id, interface, unicast
//! source), so it stays MASTER and keeps the VIP (no state line for the fence agent).
//! Both files track the same scripts (a script keepalived meets first at a reload starts
//! as "init after reload", which neither faults the instance nor keeps its state from
//! being carried over: keepalived 2.2.7 and 2.3.4, vrrp_track.c); they differ only in the
//! instance's state, priority, notify and the take file, which the owner cannot track
//! with a weight.
//!
//! The peer's keepalived starts only once this node's keepalived no longer speaks
//! multicast VRRP (it left VRRP's multicast group 224.0.0.18 on the VIP's interface, which
//! the peer reads in the kernel's `/proc/net/igmp`): the file on disk is not enough, a
//! reload is a signal keepalived processes later, and the peer's unicast configuration
//! started next to the runbook's would take the VIP too. The owner's configuration is
//! unicast already, so the peer may start while the final reload is still pending. The
//! final file is checked, moved and reloaded in one remote command.
//!
//! Safe because the peer's keepalived is stopped (checked when planning, read fresh):
//! nobody else can hold or claim the VIP while this node is the owner, and no address is
//! ever configured by hand, so an interrupted or failed conversion leaves nothing for
//! anyone to remove: the node keeps the VIP under keepalived, with the owner's
//! configuration until a re-run of bootstrap (or a failure's rollback of the file) loads
//! the final one, and the peer's keepalived does not start before that (its wait checks
//! for the final configuration loaded, whatever the peer's own file is).

use crate::engine::{Action, Cluster, NodeHandle};
use crate::facts;
use crate::inventory::Inventory;
use crate::os::keepalived::{
    clear_owner_marker_command, install_checked_and_reload_command, owner_marker_probe,
    OWNER_MARKER_PATH,
};
use crate::os::{ServiceManager, KEEPALIVED_SERVICE};
use crate::render::KeepalivedOptions;
use crate::transport::RemoteCommand;
use anyhow::Result;
use std::time::Duration;

/// How long the conversion waits for keepalived to load the owner's configuration (a
/// reload on a loaded 2-core machine took up to 0.7 s on the lab); past it the node's own
/// configuration is loaded anyway, which is what a plain reload does (the VIP then comes
/// back after the master-down interval).
const OWNER_LOADED_WAIT: Duration = Duration::from_secs(10);

/// Whether node `i`'s conversion can keep the VIP: its keepalived runs a configuration
/// mhactl did not write, or the owner's of a conversion interrupted before its reload
/// (`own_foreign`), and tracks the release file (keepalived >= 2.1:
/// the address owner's behaviour at a reload was measured on 2.2.7 and 2.3.4), it holds
/// the VIP, and its peer's keepalived is stopped (read now: bootstrap's hand-over stopped
/// it earlier in this run).
pub(super) fn applies(
    cluster: &Cluster,
    inv: &Inventory,
    i: usize,
    own_foreign: bool,
    options: &KeepalivedOptions,
) -> Result<bool> {
    if !own_foreign || !options.release_file {
        return Ok(false);
    }
    let node = &cluster.nodes[i];
    if !facts::fresh::<facts::host::InterfaceAddresses>(node, &inv.vip.interface)?
        .contains(&inv.vip.address)
    {
        return Ok(false);
    }
    let peer = cluster.peer(i);
    let (_, peer_services) = facts::os_target(peer, inv.mysql.flavor)?;
    Ok(!facts::service_active_fresh(
        peer,
        peer_services,
        KEEPALIVED_SERVICE,
    )?)
}

/// The actions that load the owner's configuration `owner_conf` (rendered with
/// [`KeepalivedOptions::address_owner`]) into the running keepalived and wait until it
/// took it; the caller then writes the node's own configuration and reloads as usual,
/// and appends [`clear_marker`].
pub(super) fn load_owner_first(
    conf_path: &str,
    owner_conf: String,
    services: ServiceManager,
) -> Vec<Action> {
    let candidate = format!("{conf_path}.mhactl-owner");
    vec![
        Action::Run(RemoteCommand::new(clear_owner_marker_command())),
        Action::WriteFile {
            path: candidate.clone().into(),
            content: owner_conf,
            mode: 0o600,
        },
        Action::Run(RemoteCommand::new(
            crate::os::keepalived::install_checked_config_command(&candidate, conf_path),
        )),
        Action::Run(RemoteCommand::new(
            services.reload_command(KEEPALIVED_SERVICE),
        )),
        Action::Custom(
            format!(
                "wait until keepalived took the VIP as its owner ({OWNER_MARKER_PATH}; at \
                 most {} s)",
                OWNER_LOADED_WAIT.as_secs()
            ),
            Box::new(|cluster: &Cluster, i| wait_owner_loaded(&cluster.nodes[i])),
        ),
    ]
}

/// The actions that load the node's own configuration `conf` over the owner's: written
/// beside it, then checked, moved over it and reloaded in one remote command (an
/// interrupted run does not leave it on disk unloaded); then the marker goes.
pub(super) fn load_final(conf_path: &str, conf: String, services: ServiceManager) -> Vec<Action> {
    let candidate = format!("{conf_path}.mhactl-new");
    vec![
        Action::WriteFile {
            path: candidate.clone().into(),
            content: conf,
            mode: 0o600,
        },
        Action::Run(RemoteCommand::new(install_checked_and_reload_command(
            &candidate,
            conf_path,
            &services.reload_command(KEEPALIVED_SERVICE),
        ))),
        Action::Run(RemoteCommand::new(clear_owner_marker_command())),
    ]
}

/// Waits (bounded) until the owner's `notify_master` created the marker. A timeout is
/// not an error: the node's own configuration is loaded next either way.
fn wait_owner_loaded(node: &NodeHandle) -> Result<()> {
    let probe = RemoteCommand::new(owner_marker_probe());
    crate::poll::until_interruptible(OWNER_LOADED_WAIT, Duration::from_millis(100), || {
        Ok(node.transport.run(&probe)?.success())
    })?;
    Ok(())
}

/// Whether a keepalived.conf that names mhactl's release track is the node's final one,
/// not the owner's of an unfinished conversion (which names the marker).
pub(super) fn is_final(conf: &str) -> bool {
    !conf.contains(OWNER_MARKER_PATH)
}
