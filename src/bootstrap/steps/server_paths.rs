//! Step `server-paths`: the directories of the inventory's socket, pid file and error log.

use super::shared::Ctx;
use crate::bootstrap::paths::{server_paths, tmpfiles_conf, PathKind, ServerPath, TMPFILES_PATH};
use crate::engine::{file_diff, Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::inventory::Inventory;
use crate::os::ServiceManager;
use crate::transport::{RemoteCommand, Transport};
use anyhow::Result;
use std::path::Path;
use std::sync::Arc;

/// Step `server-paths` (runbook 1.4's ERROR 2002 fix): the directories of the
/// inventory's socket, pid file and error log exist and belong to mysql; an error log
/// directly in a system directory exists and belongs to mysql; on systemd hosts, run
/// directories come back after a reboot.
pub struct ServerPaths(pub Arc<Ctx>);

impl Operation for ServerPaths {
    fn name(&self) -> &'static str {
        "server-paths"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let (target, services) = facts::os_target(node, inv.mysql.flavor)?;
        let plan = plan_server_paths(inv, node.transport.as_ref(), services)?;
        // The default error log's directory, which some packages do not create.
        match crate::bootstrap::error_log::default_dir_action(
            inv,
            node.transport.as_ref(),
            &target,
        )? {
            None => Ok(plan),
            Some((what, action)) => Ok(match plan {
                Plan::Noop(_) => Plan::Change(Change {
                    summary: what,
                    actions: vec![action],
                    diff: None,
                }),
                Plan::Change(mut c) => {
                    c.summary = format!("{what}, {}", c.summary);
                    c.actions.insert(0, action);
                    Plan::Change(c)
                }
            }),
        }
    }
}

/// The `server-paths` plan for one node (pure but for the probes it runs on `t`).
pub fn plan_server_paths(
    inv: &Inventory,
    t: &dyn Transport,
    services: ServiceManager,
) -> Result<Plan> {
    let paths: Vec<ServerPath> = server_paths(inv)
        .into_iter()
        .filter(|p| p.kind != PathKind::Data)
        .collect();
    let mut actions = Vec::new();
    let mut what = Vec::new();
    let mut fine = Vec::new();
    let mut diff = String::new();
    // Directories of their own, and files directly in a shared directory: created for
    // mysql when missing, used when already mysql's, refused otherwise (the ownership
    // rule of `path_safety`: mhactl never takes over what it did not create).
    let probes = crate::bootstrap::path_safety::check_paths(inv, t.node(), t)?;
    for p in &paths {
        let (item, role) = crate::bootstrap::path_safety::role_of(p);
        let missing = probes
            .iter()
            .any(|x| x.path == item && x.found == crate::bootstrap::path_safety::Found::Missing);
        if !missing {
            fine.push(format!("{item} ({})", p.field));
            continue;
        }
        // mysqld creates its socket and pid file itself; only its error log must exist
        // (it could not create it in a directory it does not own).
        let command = match (role, p.kind) {
            (crate::bootstrap::path_safety::Role::File, PathKind::Run) => continue,
            (crate::bootstrap::path_safety::Role::File, _) => {
                crate::bootstrap::path_safety::create_file_command(item)
            }
            _ => crate::bootstrap::path_safety::create_dir_command(item, p.kind.dir_mode()),
        };
        actions.push(Action::Run(RemoteCommand::new(command)));
        what.push(format!("create {item} for mysql ({})", p.field));
    }
    if services == ServiceManager::Systemd {
        let current = t.read_file(Path::new(TMPFILES_PATH))?;
        match (tmpfiles_conf(&paths), current) {
            (Some(conf), current) if current.as_deref() != Some(conf.as_str()) => {
                diff.push_str(&file_diff(TMPFILES_PATH, current.as_deref(), &conf));
                actions.push(Action::WriteFile {
                    path: TMPFILES_PATH.into(),
                    content: conf,
                    mode: 0o644,
                });
                what.push(format!("write {TMPFILES_PATH}"));
            }
            // The inventory no longer puts a socket or pid file under /run: mhactl's
            // entry would keep recreating a directory nothing uses.
            (None, Some(old)) => {
                diff.push_str(&file_diff(TMPFILES_PATH, Some(&old), ""));
                actions.push(Action::Run(RemoteCommand::new(
                    crate::os::files::remove_file_command(TMPFILES_PATH),
                )));
                what.push(format!(
                    "remove {TMPFILES_PATH} (no run directory in the inventory)"
                ));
            }
            _ => {}
        }
    }
    if actions.is_empty() {
        return Ok(Plan::Noop(if fine.is_empty() {
            "the packaged socket, pid file and error log".into()
        } else {
            format!("owned by mysql: {}", fine.join(", "))
        }));
    }
    Ok(Plan::Change(Change {
        summary: what.join(", "),
        actions,
        diff: (!diff.is_empty()).then_some(diff),
    }))
}
