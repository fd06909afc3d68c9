//! Step `fence-agent` (`writes: vip-holder`): what keepalived's write fence needs on the
//! node before keepalived.conf names it: the agent's local account
//! `mhactl_fence@localhost` (least privileges: set `read_only`/`super_read_only`, read the
//! replica status), its option file (the login, root 0600; the password is generated
//! here and exists only in that file and the server), and the agent itself (root 0755 in
//! a root-only directory, as keepalived's `enable_script_security` demands). With
//! `writes: both` nothing: step `write-fencing` removes what an earlier run installed,
//! once keepalived no longer runs the agent.

use super::shared::Ctx;
use crate::engine::{file_diff, Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::facts::fence::FenceLogin;
use crate::inventory::WriteMode;
use crate::os::fence::{AGENT_PATH, NOTIFY_FIFO};
use crate::os::selinux::{CheckScriptLabel, CHECK_SCRIPT_SELINUX_TYPE};
use crate::os::KEEPALIVED_SERVICE;
use crate::transport::RemoteCommand;
use anyhow::Result;
use std::path::Path;
use std::sync::Arc;

/// The `fence-agent` step.
pub(super) struct FenceAgent(pub(super) Arc<Ctx>);

impl Operation for FenceAgent {
    fn name(&self) -> &'static str {
        "fence-agent"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        if inv.writes == WriteMode::Both {
            return Ok(Plan::Noop(
                "writes: both: no fence agent (both nodes writable by design)".into(),
            ));
        }
        let node = &cluster.nodes[i];
        let (target, services) = facts::os_target(node, inv.mysql.flavor)?;
        // A dry run on a node the server is yet to be installed on.
        if let Some(plan) = super::predicted::fence_agent(&self.0, node, &target)? {
            return Ok(plan);
        }
        let d = facts::dialect(node)?;
        let option_file = crate::os::fence::option_file_path(&target);
        let agent = crate::render::render_fence_agent(inv, &d, option_file)?;
        let current_agent = facts::host::rendered_file(node, AGENT_PATH)?;
        let agent_ok = current_agent.as_deref() == Some(agent.as_str());
        let login = crate::facts::fence::login(node, option_file)?;
        let user = crate::dialect::FENCE_USER;
        let exists = facts::accounts::account_exists(node, user, "localhost")?;
        let grants_ok =
            exists && d.fence_grants_cover(&facts::accounts::grant_lines(node, user, "localhost")?);
        let label = facts::packages::check_script_label(node, AGENT_PATH)?;
        let label_ok = match &label {
            CheckScriptLabel::NotEnforcing => true,
            CheckScriptLabel::Enforcing(ty) => agent_ok && ty == CHECK_SCRIPT_SELINUX_TYPE,
        };
        let account = crate::dialect::quote_account(user, "localhost");
        if agent_ok && label_ok && login == FenceLogin::Works && grants_ok {
            return Ok(Plan::Noop(format!(
                "{AGENT_PATH} up to date; {account} logs in with {option_file}"
            )));
        }
        let mut actions = Vec::new();
        let mut diff = String::new();
        let mut what = Vec::new();
        if login != FenceLogin::Works || !exists {
            // A new password, never shown: in the SQL sent over the SSH channel and in
            // the root-only file, nowhere else (the action's text names neither).
            let password = crate::accounts::random_password()?;
            let content = crate::os::fence::option_file_content(user, &password)?;
            diff.push_str(&file_diff(option_file, None, &content));
            let statements = d.fence_account_sql(&password, exists);
            actions.push(Action::Custom(
                format!(
                    "{} {account} with a new generated password (binary log off), grant {}; \
                     write {option_file} (root 0600)",
                    if exists {
                        "set the password of"
                    } else {
                        "create"
                    },
                    d.fence_privileges().join(", ")
                ),
                Box::new(move |cluster: &Cluster, i| {
                    let node = &cluster.nodes[i];
                    node.with_admin_write(|sql| {
                        for s in &statements {
                            sql.exec(s)?;
                        }
                        Ok(())
                    })?;
                    node.transport
                        .write_file(Path::new(option_file), content.as_bytes(), 0o600)
                }),
            ));
            what.push(format!(
                "{} {account}, write {option_file}",
                if exists { "new password for" } else { "create" }
            ));
        } else if !grants_ok {
            actions.push(Action::Sql(d.fence_grant_sql()));
            what.push(format!(
                "grant {} to {account}",
                d.fence_privileges().join(", ")
            ));
        }
        if !agent_ok {
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::fence::agent_dir_command(),
            )));
        }
        super::shared::keepalived_script(
            AGENT_PATH,
            current_agent.as_deref(),
            (!agent_ok).then_some(agent),
            !label_ok,
            (&mut actions, &mut diff, &mut what),
        );
        // A running agent is the old script: keepalived starts the new one on a reload
        // (the old one leaves a VIP holder writable when it is terminated).
        let conf = facts::host::rendered_file(node, target.keepalived_conf_path())?;
        let runs_agent = conf.as_deref().is_some_and(|c| {
            c.contains(&format!("vrrp_notify_fifo_script {AGENT_PATH}")) && c.contains(NOTIFY_FIFO)
        });
        if !agent_ok && runs_agent && facts::service_active(node, services, KEEPALIVED_SERVICE)? {
            actions.push(Action::Run(RemoteCommand::new(
                services.reload_command(KEEPALIVED_SERVICE),
            )));
            what.push("reload keepalived (it restarts the agent)".into());
        }
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions,
            diff: (!diff.is_empty()).then_some(diff),
        }))
    }
}
