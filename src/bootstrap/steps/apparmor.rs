//! Step `apparmor`: the AppArmor profile's local include allows the inventory's paths.

use super::shared::Ctx;
use crate::bootstrap::paths::{server_paths, PathKind, ServerPath};
use crate::engine::{file_diff, Action, Change, Cluster, Operation, Plan};
use crate::inventory::Inventory;
use crate::os::apparmor::{apparmor_local, APPARMOR_LOCAL};
use crate::transport::{RemoteCommand, Transport};
use anyhow::Result;
use std::path::Path;
use std::sync::Arc;

/// The AppArmor rules for the inventory's paths (empty: the profile covers them).
pub fn apparmor_rules(paths: &[ServerPath]) -> Vec<String> {
    let mut rules = Vec::new();
    for p in paths {
        let access = if p.kind == PathKind::Log { "rw" } else { "rwk" };
        match &p.dir {
            Some(d) => {
                rules.push(format!("{d}/ r,"));
                rules.push(format!("{d}/** {access},"));
            }
            None => {
                rules.push(format!("{} {access},", p.path));
                if p.field == "mysql.socket" {
                    rules.push(format!("{}.lock rwk,", p.path));
                }
            }
        }
    }
    rules
}

/// Step `apparmor`: where AppArmor confines mysqld, the profile's local include
/// allows the inventory's datadir, socket, pid file and error log, and the profile is
/// reloaded. Without AppArmor, or without that profile (MariaDB, EL), nothing to do.
pub struct AppArmor(pub Arc<Ctx>);

impl Operation for AppArmor {
    fn name(&self) -> &'static str {
        "apparmor"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        plan_apparmor(&self.0.inv, cluster.nodes[i].transport.as_ref())
    }
}

/// The `apparmor` plan for one node.
pub fn plan_apparmor(inv: &Inventory, t: &dyn Transport) -> Result<Plan> {
    if !crate::facts::read_on::<crate::facts::security::AppArmorConfinesMysqld>(t, &())? {
        return Ok(Plan::Noop("AppArmor does not confine mysqld".into()));
    }
    let rules = apparmor_rules(&server_paths(inv));
    let current =
        crate::facts::read_on::<crate::facts::host::RenderedFile>(t, Path::new(APPARMOR_LOCAL))?;
    let wanted = apparmor_local(current.as_deref(), &rules);
    if current.as_deref().unwrap_or("") == wanted {
        return Ok(Plan::Noop(if rules.is_empty() {
            "AppArmor: the packaged profile covers the packaged paths".into()
        } else {
            format!("AppArmor: {APPARMOR_LOCAL} allows the inventory's paths")
        }));
    }
    Ok(Plan::Change(Change {
        summary: format!(
            "AppArmor: allow the inventory's paths in {APPARMOR_LOCAL}, reload the profile"
        ),
        diff: Some(file_diff(APPARMOR_LOCAL, current.as_deref(), &wanted)),
        actions: vec![
            Action::WriteFile {
                path: APPARMOR_LOCAL.into(),
                content: wanted,
                mode: 0o644,
            },
            Action::Run(RemoteCommand::new(
                crate::os::apparmor::reload_profile_command(),
            )),
        ],
    }))
}
