//! Step `server-config`: the server's drop-in option file, applying a change without a
//! restart where every changed option is dynamic (`SET GLOBAL`), and otherwise restarting
//! the servers in a rolling order ([`crate::bootstrap::rolling`]).

use super::shared::Ctx;
use crate::bootstrap::{restart_order, rolling};
use crate::dialect::OptionPath;
use crate::engine::{file_diff, Action, Change, Cluster, NodeHandle, Operation, Plan};
use crate::facts;
use crate::os::option_files::VALIDATE_CONFIG_COMMAND;
use crate::os::ServiceManager;
use crate::transport::RemoteCommand;
use anyhow::{anyhow, bail, Result};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Step 5 (runbook 1.3.1.1): mhactl's my.cnf drop-in; restart only when it changed, or
/// when the running server does not have its settings yet (an interrupted earlier run).
pub(super) struct ServerConfig(pub(super) Arc<Ctx>);

impl Operation for ServerConfig {
    fn name(&self) -> &'static str {
        "server-config"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let (target, services) = facts::os_target(node, inv.mysql.flavor)?;
        // A dry run on a node the server is yet to be installed on.
        if let Some(plan) = super::predicted::server_config(&self.0, node, i, &target)? {
            return Ok(plan);
        }
        let d = facts::dialect(node)?;
        let wanted = crate::render::render_my_cnf(inv, i, &d, &target)?;
        let path = target.config_path();
        let current = facts::host::rendered_file(node, path)?;
        let server_id = facts::variable(node, "server_id")?.unwrap_or_default();
        let offset = facts::variable(node, "auto_increment_offset")?.unwrap_or_default();
        let datadir_ok = match &inv.mysql.datadir {
            None => true,
            Some(want) => {
                let live = facts::variable(node, "datadir")?.unwrap_or_default();
                live.trim_end_matches('/') == want.display().to_string().trim_end_matches('/')
            }
        };
        let charset = facts::variable(node, "character_set_server")?.unwrap_or_default();
        let (want_charset, _) = crate::render::character_set_and_collation(inv, &d);
        // Binary logging too: mhactl's file turns it on and only a restart applies it, and
        // node-a's other checked values are a packaged server's defaults (server_id 1,
        // offset 1), so a run stopped between writing the file and restarting would
        // otherwise look done, and replication would find no binary log.
        let binlog = facts::variable(node, "log_bin")?.unwrap_or_default();
        let binlog_on = matches!(binlog.as_str(), "1" | "ON");
        let live_ok = server_id == inv.server_id(i).to_string()
            && binlog_on
            && offset == inv.auto_increment_offset(i).to_string()
            && datadir_ok
            && crate::inventory::normalize_charset(&charset)
                == crate::inventory::normalize_charset(&want_charset);
        let file_ok = current.as_deref() == Some(wanted.as_str());
        // `read_only`/`super_read_only` (writes: vip-holder) are start-up values only: a
        // file that differs in nothing else is written without a restart (the running
        // values are the fence agent's business; a restart would fence the VIP holder).
        let fence_only = !file_ok && {
            let with = crate::render::render_my_cnf_fenced(inv, i, &d, &target, true)?;
            let without = crate::render::render_my_cnf_fenced(inv, i, &d, &target, false)?;
            current.as_deref() == Some(with.as_str())
                || current.as_deref() == Some(without.as_str())
        };
        // The MySQL RPMs' /etc/my.cnf reads no drop-in directory: add the include once.
        let include = match target.config_include() {
            Some((main, line)) => {
                let text = facts::host::rendered_file(node, main)?;
                match text {
                    Some(t) if crate::os::has_include_line(&t, line) => None,
                    Some(t) => Some((main, line, t)),
                    None => Some((main, line, String::new())),
                }
            }
            None => None,
        };
        // debian.cnf names the server's socket (mysql.socket) before the restart.
        let debian_cnf = crate::bootstrap::paths::debian_cnf_actions(
            inv,
            node.transport.as_ref(),
            &target,
            services,
            true,
        )?;
        // Another option file whose settings win over this one's (a hand-built pair's).
        let overrides = crate::bootstrap::option_overrides::plan(node, inv, &d, path, &wanted)?;
        if file_ok && live_ok && include.is_none() && debian_cnf.is_none() && overrides.is_empty() {
            return Ok(Plan::Noop(format!(
                "{path} up to date; running with server_id {server_id}, auto_increment_offset {offset}, character set {charset}"
            )));
        }
        // Dropping skipped error codes only while the tables are identical (adopt); a
        // step with nothing to do (a re-plan after the restart) compares nothing.
        crate::bootstrap::skip_errors_guard::check(cluster, node, inv, &d)?;
        let service = target.server_service();
        // Which option lines change, and how each reaches the running server.
        let mut changes = rolling::option_changes(&d, current.as_deref(), &wanted);
        if current.is_some() {
            // (A first bootstrap has no file: the packaged server restarts anyway.)
            changes = rolling::credit_running_values(node, &d, changes)?;
        }
        let restarts: Vec<String> = changes
            .iter()
            .filter(|c| c.path == OptionPath::Restart)
            .map(rolling::OptionChange::values)
            .collect();
        let needs_restart = !live_ok
            || include.is_some()
            || debian_cnf.is_some()
            || !restarts.is_empty()
            || !overrides.is_empty();
        if !needs_restart {
            // Only dynamic options (and lines no running server reads): `SET GLOBAL` and
            // the file, no restart.
            let mut listed: Vec<String> = changes
                .iter()
                .map(rolling::OptionChange::describe)
                .collect();
            if listed.is_empty() {
                listed.push("only comments change".into());
            }
            let write = write_config_checked(
                path,
                wanted.clone(),
                current.clone(),
                d.supports_validate_config(),
            );
            return Ok(Plan::Change(Change {
                summary: format!(
                    "write {path} without restarting {service}: {}",
                    listed.join("; ")
                ),
                actions: vec![rolling::set_global_then(&changes, write)?],
                diff: Some(file_diff(path, current.as_deref(), &wanted)),
            }));
        }
        let log = crate::bootstrap::error_log::server_error_log(inv, &target);
        let mut actions = Vec::new();
        let mut diff = String::new();
        let mut what = Vec::new();
        let debian_cnf_edited = debian_cnf.is_some();
        if let Some((debian_what, first)) = debian_cnf {
            actions.extend(first);
            what.push(debian_what);
        }
        if let Some((main, line, text)) = &include {
            let with = crate::os::with_include_line(text, line);
            diff.push_str(&file_diff(main, Some(text), &with));
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::append_include_command(main, line),
            )));
            what.push(format!("add `{line}` to {main}"));
        }
        // The other files' competing lines commented out first; the restart below applies
        // them with mhactl's file, and a server that does not start gets both back.
        let mut undo = Vec::new();
        for edit in &overrides {
            diff.push_str(&edit.diff());
            actions.push(Action::Run(edit.command()));
            what.push(edit.describe());
            undo.push(edit.undo());
        }
        if fence_only && live_ok && !debian_cnf_edited && overrides.is_empty() {
            diff.push_str(&file_diff(path, current.as_deref(), &wanted));
            actions.push(Action::WriteFile {
                path: path.into(),
                content: wanted.clone(),
                mode: 0o644,
            });
            what.push(format!(
                "write {path} (only the start-up write fence changes: no restart)"
            ));
        } else if file_ok && overrides.is_empty() {
            actions.push(restart_server(ServerUnit {
                services,
                service,
                log,
            }));
            if debian_cnf_edited {
                actions.push(Action::Run(RemoteCommand::new(
                    crate::bootstrap::paths::DEBIAN_CNF_FORGET,
                )));
            }
            what.push(format!("restart {service} to apply {path}"));
        } else {
            diff.push_str(&file_diff(path, current.as_deref(), &wanted));
            actions.push(write_config_and_restart(
                path,
                wanted.clone(),
                current.clone(),
                ServerUnit {
                    services,
                    service,
                    log,
                },
                d.supports_validate_config(),
                Companions {
                    undo: debian_cnf_edited
                        .then(|| crate::bootstrap::paths::DEBIAN_CNF_UNDO.to_string())
                        .into_iter()
                        .chain(undo)
                        .collect(),
                    forget: debian_cnf_edited
                        .then(|| crate::bootstrap::paths::DEBIAN_CNF_FORGET.to_string()),
                },
            ));
            what.push(format!("write {path} and restart {service}"));
        }
        // Who restarts when: never the VIP holder while it holds the VIP.
        let role = restart_order::restart_role(cluster, &self.0, i)?;
        let mut why = restarts;
        for edit in &overrides {
            why.push(format!("{} overrides {path}", edit.path));
        }
        if !live_ok {
            why.push(format!(
                "the running server differs from {path} (server_id, binary logging, \
                 auto_increment_offset, datadir or character set)"
            ));
        }
        let why = if why.is_empty() {
            "the running server's files".to_string() // debian.cnf or the include line
        } else {
            why.join("; ")
        };
        match &role {
            restart_order::RestartRole::NoVip => {}
            restart_order::RestartRole::Passive { .. } => {
                restart_order::passive_restart_planned(&self.0, i);
                actions = actions
                    .into_iter()
                    .map(|a| restart_order::failing_passive_restart(self.0.clone(), a))
                    .collect();
                actions.push(restart_order::wait_caught_up(self.0.clone()));
            }
            restart_order::RestartRole::VipHolder { .. } if self.0.limit.is_some() => {
                anyhow::bail!(crate::limit::holder_restart_refused(
                    &cluster.nodes[i].name,
                    &cluster.peer(i).name,
                    &why
                ));
            }
            restart_order::RestartRole::VipHolder { .. } => {
                let ctx = self.0.clone();
                let peer_done = move |cluster: &Cluster, peer: usize| {
                    // Read fresh (no caching scope): the peer is changing under us.
                    let plan = ServerConfig(ctx.clone()).plan(cluster, peer)?;
                    Ok(matches!(plan, Plan::Noop(_)))
                };
                actions.insert(
                    0,
                    restart_order::hand_over_first(self.0.clone(), why.clone(), peer_done),
                );
                actions.push(restart_order::wait_caught_up(self.0.clone()));
            }
        }
        let mut summary = what.join(", ");
        // A first bootstrap (no file yet) restarts in place: nothing more to say.
        if current.is_some() || role != restart_order::RestartRole::NoVip {
            summary = format!("{summary}: {} for {why}", role.label());
            let others: Vec<String> = changes
                .iter()
                .filter(|c| c.path != OptionPath::Restart)
                .map(|c| format!("{} (applied by the restart)", c.describe()))
                .collect();
            if !others.is_empty() {
                summary = format!("{summary}; {}", others.join("; "));
            }
        }
        Ok(Plan::Change(Change {
            summary,
            actions,
            diff: (!diff.is_empty()).then_some(diff),
        }))
    }
}

/// Write the server's config without a restart (only dynamic options or lines no running
/// server reads changed); where the server can check its options
/// (`mysqld --validate-config`), a file it rejects is put back.
fn write_config_checked(
    path: &'static str,
    wanted: String,
    previous: Option<String>,
    validate: bool,
) -> Action {
    let check = if validate {
        ", check it with `mysqld --validate-config`"
    } else {
        ""
    };
    Action::Custom(
        format!("write {path} (mode 644){check}"),
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            node.transport
                .write_file(Path::new(path), wanted.as_bytes(), 0o644)?;
            if validate {
                if let Some(rejection) = validate_config(node)? {
                    restore_file(node, path, previous.as_deref())?;
                    bail!(
                        "`mysqld --validate-config` rejects the new {path} {rejection}; the previous \
                         version was restored and the server was not restarted (the change needs \
                         no restart)"
                    );
                }
            }
            Ok(())
        }),
    )
}

/// `mysqld --validate-config` on the option files as they are now: `None` when the
/// server accepts them, else `(exit N): the errors`. It loads no component, so it calls a
/// component's variable in an option file (`validate_password.policy=0`, as a hand-built
/// MySQL 8+/9.x pair has it) unknown: when those are its only errors and the running
/// server knows every one of them (its component is installed), the files are accepted,
/// as the server accepts them at start.
fn validate_config(node: &NodeHandle) -> Result<Option<String>> {
    let out = node
        .transport
        .run(&RemoteCommand::new(VALIDATE_CONFIG_COMMAND))?;
    if out.success() {
        return Ok(None);
    }
    let rejection = format!(
        "(exit {}): {}",
        out.status,
        validate_config_errors(&out.stderr, &out.stdout)
    );
    let Some(names) =
        crate::os::option_files::unknown_component_variables(&out.stderr, &out.stdout)
    else {
        return Ok(Some(rejection));
    };
    let sql = crate::dialect::known_global_variables_sql(&names);
    let known: Vec<String> = match node.with_sql(|c| c.query(&sql)) {
        Ok(rows) => rows
            .iter()
            .filter_map(|r| r.first().and_then(|(_, v)| v.clone()))
            .map(|n| n.to_ascii_lowercase())
            .collect(),
        // No running server to ask: the rejection stands.
        Err(_) => return Ok(Some(rejection)),
    };
    if names.iter().all(|n| known.contains(n)) {
        Ok(None)
    } else {
        Ok(Some(rejection))
    }
}

/// Put the previous version of `path` back (`None`: there was none, remove ours).
fn restore_file(node: &NodeHandle, path: &str, previous: Option<&str>) -> Result<()> {
    match previous {
        Some(old) => node
            .transport
            .write_file(Path::new(path), old.as_bytes(), 0o644),
        None => node
            .transport
            .run_ok(&RemoteCommand::new(crate::os::files::remove_file_command(
                path,
            )))
            .map(|_| ()),
    }
}

/// Restart the server, then wait until it accepts SQL again.
fn restart_server(unit: ServerUnit) -> Action {
    Action::Custom(
        format!("restart {} and wait for it", unit.service),
        Box::new(move |cluster: &Cluster, i| {
            restart_and_wait(&cluster.nodes[i], unit.services, unit.service, &unit.log)
        }),
    )
}

/// The server's service and the error log it writes: what a restart needs.
struct ServerUnit {
    services: ServiceManager,
    service: &'static str,
    log: String,
}

/// Server restarts of one run never overlap: while one node's server restarts, the
/// other's answers. On a running pair the order is also decided by who holds the VIP
/// ([`rolling`]: the passive node first, never the holder in place); where no node holds
/// it (a first bootstrap) this lock alone makes the two restarts one after the other.
static SERVER_RESTARTS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Restart the server and wait until it answers SQL; a failure quotes the new lines
/// of its error log `log`. Never while the other node's server restarts
/// ([`SERVER_RESTARTS`]).
pub(in crate::bootstrap) fn restart_and_wait(
    node: &NodeHandle,
    services: ServiceManager,
    service: &str,
    log: &str,
) -> Result<()> {
    // A panic elsewhere while holding it leaves nothing to protect: go on.
    let _one_at_a_time = SERVER_RESTARTS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    crate::bootstrap::error_log::quoting_errors(
        node,
        log,
        (services == ServiceManager::Systemd).then_some(service),
        || restart_and_wait_quietly(node, services, service),
    )
}

fn restart_and_wait_quietly(
    node: &NodeHandle,
    services: ServiceManager,
    service: &str,
) -> Result<()> {
    node.reset_sql();
    if let Some(prepare) = services.runtime_dir_command(service) {
        node.transport.run_ok(&RemoteCommand::new(prepare))?;
    }
    node.transport
        .run_ok(&RemoteCommand::new(services.restart_command(service)))?;
    crate::poll::until(Duration::from_secs(60), || {
        node.reset_sql();
        match node.with_sql(|sql| sql.query(crate::dialect::ping_sql())) {
            Ok(_) => Ok(true),
            // It answered: on a fresh MySQL data directory root's password is the new
            // temporary one until admin access is established again.
            Err(e) if matches!(crate::sql::server_error_code(&e), Some(1045 | 1820 | 1862)) => {
                Ok(true)
            }
            Err(e) => Err(e),
        }
    })
    .map_err(|_| {
        anyhow!(
            "{}: {service} did not accept connections within 60 s after restart",
            node.name
        )
    })
}

/// Other files changed together with mhactl's (debian.cnf pointed at a new socket, the
/// competing lines of another option file commented out): the commands that put them
/// back with the rollback, and the one run once the server started.
struct Companions {
    undo: Vec<String>,
    forget: Option<String>,
}

/// Write the server's config and restart it; if it does not come back, put the previous
/// file back (or remove ours) and restart again, so a bad option never leaves the node
/// without a database server. Where the server can check its options without starting
/// (`validate`: `mysqld --validate-config`), a file it rejects is put back before any
/// restart, so the running server is never stopped for it.
fn write_config_and_restart(
    path: &'static str,
    wanted: String,
    previous: Option<String>,
    unit: ServerUnit,
    validate: bool,
    companion: Companions,
) -> Action {
    let ServerUnit {
        services,
        service,
        log,
    } = unit;
    let check = if validate {
        ", check it with `mysqld --validate-config`"
    } else {
        ""
    };
    Action::Custom(
        format!("write {path} (mode 644){check} and restart {service}, restoring the previous file if it does not start"),
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            let restore = || -> Result<()> {
                restore_file(node, path, previous.as_deref())?;
                for undo in &companion.undo {
                    node.transport.run_ok(&RemoteCommand::new(undo.clone()))?;
                }
                Ok(())
            };
            node.transport.write_file(Path::new(path), wanted.as_bytes(), 0o644)?;
            if validate {
                if let Some(rejection) = validate_config(node)? {
                    restore()?;
                    bail!(
                        "{}: server-config: mysqld --validate-config rejects the new {path} {rejection}; \
                         the previous version was restored and {service} was not restarted",
                        node.name
                    );
                }
            }
            let Err(failure) = restart_and_wait(node, services, service, &log) else {
                if let Some(forget) = &companion.forget {
                    node.transport.run_ok(&RemoteCommand::new(forget.clone()))?;
                }
                return Ok(());
            };
            restore()?;
            match restart_and_wait(node, services, service, &log) {
                Ok(()) => bail!(
                    "{service} did not start with the new {path}, so the previous version was restored and \
                     {service} restarted with it; the pair is not converged. Cause: {failure:#}"
                ),
                Err(again) => bail!(
                    "{service} did not start with the new {path}; the previous version was restored, but {service} \
                     does not start with it either: {again:#} (first failure: {failure:#})"
                ),
            }
        }),
    )
}

/// The server's own words from `mysqld --validate-config`: its `[ERROR]` lines without
/// the timestamp and thread prefix, minus the closing "Aborting"; all of stderr when
/// there are none.
pub fn validate_config_errors(stderr: &str, stdout: &str) -> String {
    let errors: Vec<String> = stderr
        .lines()
        .chain(stdout.lines())
        .filter_map(|l| l.split_once("[ERROR]").map(|(_, rest)| rest.trim()))
        .map(|rest| {
            // "[MY-000067] [Server] unknown variable 'x=1'." -> keep the code, drop [Server].
            rest.replacen(" [Server]", "", 1)
        })
        .filter(|l| !l.ends_with("Aborting"))
        .collect();
    if errors.is_empty() {
        let all = format!("{}{}", stderr.trim(), stdout.trim());
        if all.is_empty() {
            "no message".into()
        } else {
            all
        }
    } else {
        errors.join("; ")
    }
}
