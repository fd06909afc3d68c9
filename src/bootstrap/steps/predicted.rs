//! Dry-run plans on a node whose server install-packages has yet to install
//! ([`crate::engine::predicting`]): the files `server-config` and `fence-agent` would
//! write, rendered for the server package's candidate version (the repositories'
//! metadata), in full, secrets masked. What only a running server can tell (its live
//! values, whether an account exists) is named in the summary instead of read.
//!
//! Such a plan is never applied: a dry run stops after planning, and a real run plans
//! every step on the node as it is by then.

use super::shared::Ctx;
use crate::dialect::Dialect;
use crate::engine::{file_diff, Action, Change, Cluster, NodeHandle, Plan};
use crate::facts;
use crate::os::OsTarget;
use anyhow::{anyhow, bail, Result};

/// The server's dialect while predicting and no server answers yet: the candidate of
/// the flavor's server package, with a few words saying where it comes from. `None`
/// when not predicting, or when a server answers (plan as usual then).
pub(super) fn dialect(node: &NodeHandle, target: &OsTarget) -> Result<Option<(Dialect, String)>> {
    if !crate::engine::predicting() || facts::dialect(node).is_ok() {
        return Ok(None);
    }
    let (d, package, candidate) =
        facts::packages::predicted_dialect(node, target)?.ok_or_else(|| {
            anyhow!(
                "the server's version: no repository offers {} yet (install-packages \
                 configures the repositories and installs it)",
                target.server_packages().join(", ")
            )
        })?;
    Ok(Some((
        d,
        format!("{package} {candidate}, the repositories' candidate"),
    )))
}

/// A description-only action: shown by the dry run, never run.
fn never_run(what: String) -> Action {
    Action::Custom(
        what,
        Box::new(|_: &Cluster, _| bail!("a dry run's predicted plan is never applied")),
    )
}

/// `server-config` before the server is installed: mhactl's drop-in in full, then the
/// (re)start that loads it.
pub(super) fn server_config(
    ctx: &Ctx,
    node: &NodeHandle,
    i: usize,
    target: &OsTarget,
) -> Result<Option<Plan>> {
    let Some((d, from)) = dialect(node, target)? else {
        return Ok(None);
    };
    let wanted = crate::render::render_my_cnf(&ctx.inv, i, &d, target)?;
    let path = target.config_path();
    let current = facts::host::rendered_file(node, path)?;
    let service = target.server_service();
    Ok(Some(Plan::Change(Change {
        summary: format!(
            "write {path} (for {from}), restart {service} to load it; the running \
             server's values are compared once it runs"
        ),
        actions: vec![
            Action::WriteFile {
                path: path.into(),
                content: wanted.clone(),
                mode: 0o644,
            },
            never_run(format!("restart {service}")),
        ],
        diff: Some(file_diff(path, current.as_deref(), &wanted)),
    })))
}

/// `fence-agent` before the server is installed: the agent and its option file in full
/// (the password is generated when the account is created), the account to create.
pub(super) fn fence_agent(ctx: &Ctx, node: &NodeHandle, target: &OsTarget) -> Result<Option<Plan>> {
    let Some((d, from)) = dialect(node, target)? else {
        return Ok(None);
    };
    use crate::os::fence::{option_file_content, option_file_path, AGENT_PATH};
    let option_file = option_file_path(target);
    let agent = crate::render::render_fence_agent(&ctx.inv, &d, option_file)?;
    let current_agent = facts::host::rendered_file(node, AGENT_PATH)?;
    let user = crate::dialect::FENCE_USER;
    let account = crate::dialect::quote_account(user, "localhost");
    // The diff masks the password line whatever it holds: no password exists yet.
    let login = option_file_content(user, "generated-when-the-account-is-created")?;
    let mut diff = file_diff(option_file, None, &login);
    diff.push_str(&file_diff(AGENT_PATH, current_agent.as_deref(), &agent));
    Ok(Some(Plan::Change(Change {
        summary: format!(
            "create {account} with a generated password and grant {} (once start-server \
             has started the server), write {option_file}, write {AGENT_PATH} (for {from})",
            d.fence_privileges().join(", ")
        ),
        actions: vec![
            never_run(format!("create {account}; write {option_file} (root 0600)")),
            Action::WriteFile {
                path: AGENT_PATH.into(),
                content: agent,
                mode: 0o755,
            },
        ],
        diff: Some(diff),
    })))
}
