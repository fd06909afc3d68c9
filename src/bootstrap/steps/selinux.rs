//! Step `selinux`: the MySQL port and the inventory's paths labelled where SELinux enforces.

use super::shared::Ctx;
use crate::bootstrap::firewall::DEFAULT_DATADIR;
use crate::engine::{Action, Change, Cluster, Operation, Plan};
use crate::facts::read_on;
use crate::facts::security::{FileContexts, SelinuxMode, SemanageLocalContexts, SemanagePorts};
use crate::inventory::Inventory;
use crate::os::selinux::{
    context_type, datadir_context_spec, fcontext_listed, fcontext_rule_command,
    semanage_port_labelled,
};
use crate::transport::{RemoteCommand, Transport};
use anyhow::{bail, Result};
use std::sync::Arc;

use crate::os::selinux::port_is_mysqld_default;

/// The `selinux` step.
pub struct Selinux(pub Arc<Ctx>);

impl Operation for Selinux {
    fn name(&self) -> &'static str {
        "selinux"
    }

    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        plan_selinux(&self.0.inv, cluster.nodes[i].transport.as_ref())
    }
}

/// One file context the inventory's paths need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLabel {
    /// Inventory field.
    pub field: &'static str,
    /// `semanage fcontext` file spec (`/data/mysql(/.*)?`, or one file's path).
    pub spec: String,
    /// SELinux type (`mysqld_db_t`).
    pub selinux_type: &'static str,
    /// The path to relabel (a directory, created when missing, or one file).
    pub path: String,
    /// `path` is a directory of its own (else a file in a shared directory).
    pub is_dir: bool,
}

/// The file contexts for the inventory's non-default datadir (mysqld_db_t), socket and
/// pid file directories (mysqld_var_run_t) and error log directory (mysqld_log_t). A
/// file directly in a shared directory (`/tmp/mysql.sock`) is labelled alone.
pub fn selinux_labels(inv: &Inventory) -> Vec<FileLabel> {
    crate::bootstrap::paths::server_paths(inv)
        .into_iter()
        .map(|p| match &p.dir {
            Some(d) => FileLabel {
                field: p.field,
                spec: datadir_context_spec(d),
                selinux_type: p.kind.selinux_type(),
                path: d.clone(),
                is_dir: true,
            },
            None => FileLabel {
                field: p.field,
                spec: p.path.clone(),
                selinux_type: p.kind.selinux_type(),
                path: p.path.clone(),
                is_dir: false,
            },
        })
        .collect()
}

/// Plan SELinux for a node: a non-default `mysql.port` gets mysqld_port_t; the
/// inventory's non-default datadir, socket, pid file and error log get their file
/// contexts ([`selinux_labels`]), and their directories are created (root's, until the
/// later steps give them to mysql) and relabelled, so that what mysqld creates in them
/// inherits the right type.
pub fn plan_selinux(inv: &Inventory, t: &dyn Transport) -> Result<Plan> {
    let Some(mode) = read_on::<SelinuxMode>(t, &())? else {
        return Ok(Plan::Noop("SELinux is not installed".into()));
    };
    if mode != "Enforcing" {
        return Ok(Plan::Noop(format!(
            "SELinux {}: nothing is blocked",
            if mode.is_empty() {
                "state unknown"
            } else {
                mode.as_str()
            }
        )));
    }
    let port = inv.mysql.port;
    let mut actions = Vec::new();
    let mut what = Vec::new();
    if !port_is_mysqld_default(port) {
        let Some(ports) = read_on::<SemanagePorts>(t, &())? else {
            bail!(
                "SELinux is enforcing and mysql.port {port} is not a MySQL port in the policy: \
                 install semanage (policycoreutils-python-utils) so mhactl can label it, or \
                 run `semanage port -a -t mysqld_port_t -p tcp {port}`"
            );
        };
        if !semanage_port_labelled(&ports, "mysqld_port_t", port) {
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::selinux::label_port_command(port),
            )));
            what.push(format!("label tcp port {port} mysqld_port_t"));
        }
    }
    let labels = selinux_labels(inv);
    let mut labelled = Vec::new();
    if !labels.is_empty() {
        let Some(listed) = read_on::<SemanageLocalContexts>(t, &())? else {
            let fields: Vec<&str> = labels.iter().map(|l| l.field).collect();
            bail!(
                "SELinux is enforcing and {} {} not in the policy's MySQL paths: install semanage \
                 (policycoreutils-python-utils) so mhactl can label them, or label them yourself \
                 (`semanage fcontext -a -t {} '{}'`, then `restorecon -R`)",
                fields.join(", "),
                if fields.len() == 1 { "is" } else { "are" },
                labels[0].selinux_type,
                labels[0].spec
            );
        };
        let paths: Vec<String> = labels.iter().map(|l| l.path.clone()).collect();
        let contexts = read_on::<FileContexts>(t, &paths)?;
        for l in &labels {
            let rule_ok = fcontext_listed(&listed, &l.spec, l.selinux_type);
            let current = context_type(&contexts, &l.path);
            // Only the data directory is created here (empty and root's until
            // data-directory initialises it); the server's other directories are created
            // for mysql by server-paths, which labels them (the ownership rule of
            // `path_safety` refuses existing root-owned ones).
            let creates = l.is_dir && l.field == "mysql.datadir";
            let context_ok = match &current {
                Some(ty) => ty == l.selinux_type,
                None => !creates,
            };
            if rule_ok && context_ok {
                labelled.push(format!("{} {}", l.path, l.selinux_type));
                continue;
            }
            if !rule_ok {
                actions.push(Action::Run(RemoteCommand::new(fcontext_rule_command(
                    l.selinux_type,
                    &l.spec,
                ))));
            }
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::selinux::restorecon_command(&l.path, creates, l.is_dir),
            )));
            what.push(format!("label {} {} ({})", l.path, l.selinux_type, l.field));
        }
    }
    if actions.is_empty() {
        let paths = if labelled.is_empty() {
            format!("default contexts apply (datadir {DEFAULT_DATADIR})")
        } else {
            format!("labelled: {}", labelled.join(", "))
        };
        return Ok(Plan::Noop(format!(
            "SELinux enforcing; {paths}; port {port} is mysqld_port_t"
        )));
    }
    Ok(Plan::Change(Change {
        summary: format!("SELinux enforcing: {}", what.join(", ")),
        actions,
        diff: None,
    }))
}
