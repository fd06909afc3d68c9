//! The bootstrap steps, in order. Each is an [`Operation`]: it reads facts, then plans
//! `Noop(why)` or a `Change`. Numbers refer to the manual runbook this replaces.
//!
//! One file per step (its `Operation` type and its private helpers), named after the
//! step; [`all`] lists them in the order they run. `shared` holds what several steps use:
//! [`Ctx`], account statements, starting a service, running a read-only probe.

pub(super) mod admin_access;
pub mod app_users;
pub(super) mod apparmor;
pub(super) mod client_list;
pub(super) mod data_directory;
pub(super) mod detect_os;
pub(super) mod fence_agent;
pub(super) mod firewall;
pub(super) mod gtid_conversion;
mod gtid_conversion_mysql;
mod gtid_conversion_mysql_actions;
mod gtid_history;
pub(super) mod install_packages;
#[cfg(test)]
mod install_packages_tests;
pub(super) mod keepalived;
mod keepalived_owner;
#[cfg(test)]
mod keepalived_owner_tests;
#[cfg(test)]
mod plans_from_facts_tests;
mod predicted;
pub mod replication;
#[cfg(test)]
mod replication_tests;
pub(super) mod replication_tls;
pub(super) mod replication_user;
pub(super) mod selinux;
pub(super) mod semi_sync;
pub(super) mod server_config;
#[cfg(test)]
mod server_config_tests;
pub(super) mod server_paths;
mod shared;
pub(super) mod start_server;
pub(super) mod tls_files;
pub(super) mod vip_check;
pub(super) mod vip_refuse;
pub(super) mod write_fencing;

use crate::engine::Operation;
use std::sync::Arc;

#[cfg(test)]
pub(super) use server_config::restart_and_wait;
pub use server_config::validate_config_errors;
pub use shared::Ctx;

pub use crate::os::option_files::VALIDATE_CONFIG_COMMAND;
pub use crate::os::selinux::{
    check_script_label_command, check_script_label_probe, parse_check_script_label,
    CheckScriptLabel, CHECK_SCRIPT_SELINUX_TYPE,
};

/// `mhactl rotate-certs`: the node certificates installed (and loaded online), then the
/// replicas' TLS confirmed.
pub fn certificate_rotation(ctx: Arc<Ctx>) -> Vec<Box<dyn Operation>> {
    vec![
        Box::new(tls_files::TlsFiles(ctx.clone())),
        Box::new(replication_tls::ReplicationTls(
            ctx,
            replication_tls::Phase::AfterReplication,
        )),
    ]
}

/// All bootstrap steps, in the order they run.
pub fn all(ctx: Arc<Ctx>) -> Vec<Box<dyn Operation>> {
    vec![
        Box::new(detect_os::DetectOs(ctx.clone())),
        Box::new(firewall::Firewall(ctx.clone())),
        Box::new(selinux::Selinux(ctx.clone())),
        Box::new(install_packages::InstallPackages(ctx.clone())),
        Box::new(apparmor::AppArmor(ctx.clone())),
        Box::new(server_paths::ServerPaths(ctx.clone())),
        Box::new(start_server::StartServer(ctx.clone())),
        Box::new(admin_access::AdminAccess(ctx.clone())),
        Box::new(data_directory::DataDirectory(ctx.clone())),
        Box::new(tls_files::TlsFiles(ctx.clone())),
        Box::new(replication_tls::ReplicationTls(
            ctx.clone(),
            replication_tls::Phase::BeforeServerConfig,
        )),
        Box::new(server_config::ServerConfig(ctx.clone())),
        Box::new(replication_user::ReplicationUser(ctx.clone())),
        Box::new(replication::Replication(ctx.clone())),
        Box::new(gtid_conversion::GtidConversion(ctx.clone())),
        Box::new(replication_tls::ReplicationTls(
            ctx.clone(),
            replication_tls::Phase::AfterReplication,
        )),
        Box::new(semi_sync::SemiSync(ctx.clone())),
        Box::new(app_users::AppUsers(ctx.clone())),
        Box::new(fence_agent::FenceAgent(ctx.clone())),
        Box::new(client_list::ClientList(ctx.clone())),
        Box::new(vip_refuse::VipRefuse(ctx.clone())),
        Box::new(keepalived::Keepalived(ctx.clone())),
        Box::new(vip_check::VipCheck(ctx.clone())),
        Box::new(write_fencing::WriteFencing(ctx)),
    ]
}
