//! Step `keepalived`: keepalived's configuration, the health-check script, keepalived running.

use super::shared::{start_service, Ctx};
use crate::engine::{file_diff, Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::os::selinux::{CheckScriptLabel, CHECK_SCRIPT_SELINUX_TYPE};
use crate::os::KEEPALIVED_SERVICE;
use crate::transport::RemoteCommand;
use anyhow::Result;
use secrecy::ExposeSecret;
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
        let conf = crate::render::render_keepalived_conf_with(
            inv,
            i,
            self.0.secrets.vrrp_password.expose_secret(),
            &options,
        )?;
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
        if !conf_ok {
            diff.push_str(&file_diff(conf_path, current_conf.as_deref(), &conf));
            // keepalived -t rejects a track_file that does not exist: switchover's
            // release file (and its directory in /run) first.
            if options.release_file {
                actions.push(Action::Run(RemoteCommand::new(
                    crate::os::switchover::ensure_release_file_command(),
                )));
            }
            // Validate the candidate with keepalived itself before it replaces the live file.
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
        actions.push(Action::Run(RemoteCommand::new(
            services.enable_command(KEEPALIVED_SERVICE),
        )));
        // A running keepalived re-reads its files on reload (SIGHUP) and keeps its VRRP
        // state; a restart would drop the VIP and, with SysV scripts that do not wait for
        // the old daemon to exit, could even leave the old configuration running.
        if running {
            actions.push(Action::Run(RemoteCommand::new(
                services.reload_command(KEEPALIVED_SERVICE),
            )));
            what.push("reload keepalived".into());
        } else {
            actions.push(start_service(services, KEEPALIVED_SERVICE, None));
            what.push("start keepalived".into());
        }
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions,
            diff: (!diff.is_empty()).then_some(diff),
        }))
    }
}
