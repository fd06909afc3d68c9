//! Step `install-packages`: the server, client and keepalived packages, and on EL the MySQL Yum repository.

use super::shared::Ctx;
use crate::engine::{file_diff, Action, Change, Cluster, NodeHandle, Operation, Plan};
use crate::facts;
use crate::os::failed_init;
use crate::transport::RemoteCommand;
use anyhow::{anyhow, bail, Result};
use std::sync::Arc;

/// Step 3 (runbook 1.1): server, client and keepalived packages.
///
/// - Nothing to do when every package is installed (the repositories of a host that
///   already has them are left alone).
/// - `packages.repository` (a mirror): write `mhactl.repo`/`mhactl.list` and install
///   from it only.
/// - MySQL on EL: the MySQL Yum repository's setup RPM, exactly the inventory's release
///   series enabled (`mysql.version`; 8.4 LTS by default), and on EL8+ the AppStream
///   `mysql`/`mariadb` modules disabled, as the MySQL Yum repository guide says.
/// - MariaDB on EL8+ with `mysql.version`: the AppStream module stream of that version
///   enabled first, where a module has it (`dnf module enable mariadb:10.11`).
/// - Otherwise the node's own repositories (Debian/Ubuntu, MariaDB on EL).
pub(super) struct InstallPackages(pub(super) Arc<Ctx>);

impl Operation for InstallPackages {
    fn name(&self) -> &'static str {
        "install-packages"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let (target, _) = facts::os_target(node, inv.mysql.flavor)?;
        let pm = target.package_manager();
        let wanted = target.all_packages();
        let missing = facts::packages::missing_packages(node, pm, &wanted)?;
        let mut actions = Vec::new();
        let mut what = Vec::new();
        let mut diff = None;
        let mirror = inv.packages.repository.as_deref();
        if let Some(url) = mirror {
            let path = crate::os::mirror_repo_path(pm);
            let file = crate::os::mirror_repo_file(pm, url, inv.packages.gpg_key.as_deref());
            let current = facts::host::rendered_file(node, path)?;
            if current.as_deref() != Some(file.as_str()) {
                diff = Some(file_diff(path, current.as_deref(), &file));
                actions.push(Action::WriteFile {
                    path: path.into(),
                    content: file,
                    mode: 0o644,
                });
                what.push(format!("write {path} ({url})"));
            }
        }
        if missing.is_empty() {
            if actions.is_empty() {
                return Ok(Plan::Noop(format!("installed: {}", wanted.join(", "))));
            }
            return Ok(Plan::Change(Change {
                summary: what.join(", "),
                actions,
                diff,
            }));
        }
        if mirror.is_none()
            && target.family == crate::os::OsFamily::El7
            && inv.mysql.flavor.el7_base_repository_too_old()
        {
            // CentOS/RHEL 7's own repositories carry MariaDB 5.5 only, which has no
            // replication statements mhactl could use (and is long out of support).
            bail!(
                "EL7's own repositories have only MariaDB 5.5, which mhactl does not support: \
                 set packages.repository to a MariaDB 10.x repository (e.g. a mirror of \
                 MariaDB's own yum repository for EL7), or use mysql.flavor: mysql"
            );
        }
        if mirror.is_none()
            && target.family.is_el()
            && inv.mysql.flavor.installs_from_vendor_yum_repository()
        {
            let (more, summary) = plan_mysql_yum_repository(&self.0, node, &target)?;
            actions.extend(more);
            what.extend(summary);
        }
        // MariaDB from AppStream on EL8+: the inventory's version is a module stream
        // (EL8: mariadb:10.3 default, 10.5, 10.11; EL9.4+: mariadb:10.11 next to the
        // non-modular 10.5), which dnf installs only once it is enabled.
        if let (None, crate::os::PackageManager::Dnf, true, Some(v)) = (
            mirror,
            pm,
            inv.mysql.flavor.installs_from_dnf_module_streams(),
            inv.mysql.version.as_deref(),
        ) {
            let state = facts::get::<facts::packages::MariadbModuleState>(node, v)?;
            let commands = crate::os::mariadb_stream_commands(&state, v);
            if !commands.is_empty() {
                actions.extend(
                    commands
                        .into_iter()
                        .map(|c| Action::Run(RemoteCommand::new(c))),
                );
                what.push(format!("enable the AppStream module stream mariadb:{v}"));
            }
        }
        let missing: Vec<&str> = missing.iter().map(String::as_str).collect();
        let (refresh, install) = match mirror {
            Some(_) => (
                pm.mirror_refresh_command(),
                pm.mirror_install_command(&missing),
            ),
            None => (pm.refresh_command(), pm.install_command(&missing)),
        };
        actions.push(Action::Run(RemoteCommand::new(refresh)));
        // Debian's server package initialises its data directory in its configure script,
        // which MySQL 9.7 sometimes fails: set such a failure aside and configure again,
        // but only for a directory seen empty before (crate::os::failed_init).
        let retry_failed_init = pm == crate::os::PackageManager::Apt
            && target.server_packages().iter().any(|p| missing.contains(p));
        if retry_failed_init {
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::failed_init::note_empty_datadir_command(),
            )));
        }
        actions.push(install_action(
            pm,
            install,
            target.error_log_path(),
            retry_failed_init,
        ));
        if retry_failed_init {
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::failed_init::forget_empty_datadir_command(),
            )));
        }
        what.push(match mirror {
            Some(url) => format!("install {} from {url} only", missing.join(", ")),
            None => format!("install {}", missing.join(", ")),
        });
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions,
            diff,
        }))
    }
}

/// Run the install command, saying on the step's progress line what the package
/// manager is doing ([`crate::os::package_progress`]); a failure quotes what the server
/// wrote to its default error log meanwhile (a package's configure script that starts the server hides
/// the server's own words). With `retry_failed_init`, a failure that left files in a
/// data directory mhactl saw empty before is set aside and the install run again (up
/// to [`failed_init::RETRIES`] times; see [`crate::os::failed_init`]). Described like a
/// plain command in dry runs.
fn install_action(
    pm: crate::os::PackageManager,
    install: String,
    error_log: Option<&'static str>,
    retry_failed_init: bool,
) -> Action {
    let describe = Action::Run(RemoteCommand::new(install.clone())).describe();
    Action::Custom(
        describe,
        Box::new(move |cluster: &Cluster, i: usize| {
            let node = &cluster.nodes[i];
            let run_once = || {
                let run = || watched_install(node, pm, &install);
                match error_log {
                    Some(log) => {
                        crate::bootstrap::error_log::quoting_new_server_errors(node, log, run)
                    }
                    None => run(),
                }
            };
            let mut result = run_once();
            let mut set_aside = Vec::new();
            while retry_failed_init && result.is_err() && set_aside.len() < failed_init::RETRIES {
                let out = node.transport.run_ok(&RemoteCommand::new(
                    failed_init::set_aside_failed_init_command(),
                ))?;
                match failed_init::parse_set_aside(&out) {
                    failed_init::SetAside::MovedTo(dir) => set_aside.push(dir),
                    // Nothing of a failed initialisation there (e.g. a repository
                    // error), or not known to be one: configuring again cannot help.
                    _ => break,
                }
                result = run_once();
            }
            if set_aside.is_empty() {
                return result;
            }
            let what = format!(
                "the server package's data directory initialisation failed {} time(s) on an \
                 empty {} (a known intermittent failure of the package's configure script); \
                 what each attempt left is in {}",
                set_aside.len(),
                failed_init::PACKAGED_DATADIR,
                set_aside.join(", ")
            );
            match result {
                Ok(()) => {
                    crate::log_eprintln!(
                        "warning: {}: install-packages: {what}; configured again, it worked",
                        node.name
                    );
                    Ok(())
                }
                Err(e) => Err(e.context(format!("{what}; it failed again"))),
            }
        }),
    )
}

/// Run `install` on `node`, reporting each progress line of its output as the step's
/// activity; fails like [`crate::transport::Transport::run_ok`], without apt's status
/// lines in the quoted output (dpkg's own lines say what failed).
fn watched_install(node: &NodeHandle, pm: crate::os::PackageManager, install: &str) -> Result<()> {
    use crate::os::package_progress::{is_status_line, parse_progress_line};
    let cmd = RemoteCommand::new(install);
    let out = node.transport.run_watching(&cmd, &mut |line| {
        if let Some(text) = parse_progress_line(pm, line) {
            crate::engine::activity::report(&text);
        }
    })?;
    if out.success() {
        return Ok(());
    }
    let stdout: Vec<&str> = out
        .stdout
        .lines()
        .filter(|l| !is_status_line(pm, l))
        .collect();
    Err(crate::transport::command_failed(
        &node.name,
        &cmd.script,
        out.status,
        &out.stderr,
        &stdout.join("\n"),
    ))
}

/// The MySQL Yum repository on an EL node, as its quick guide sets it up: the setup RPM
/// (once), exactly the wanted release series enabled, and on EL8+ the AppStream modules
/// that would mask its packages disabled. Each part is planned from a fact and left out
/// when it is already so.
fn plan_mysql_yum_repository(
    ctx: &Ctx,
    node: &NodeHandle,
    target: &crate::os::OsTarget,
) -> Result<(Vec<Action>, Vec<String>)> {
    use crate::os::{MysqlSeries, PackageManager};
    let pm = target.package_manager();
    let series = MysqlSeries::from_version(ctx.inv.mysql.version.as_deref())
        .map_err(|e| anyhow!("mysql.version: {e:#}"))?;
    let mut actions = Vec::new();
    let mut what = Vec::new();
    let installed_release = facts::packages::mysql_release_rpm(node)?;
    let wanted_id = series.repo_id();
    let (keys, imports) = crate::bootstrap::platform::key_imports(&ctx.inv, node, target, series)?;
    actions.extend(keys);
    what.extend(imports);
    match installed_release {
        Some(rpm) => {
            let repos = facts::packages::yum_repos(node)?;
            if !repos.iter().any(|(id, _)| id == wanted_id) {
                bail!(
 "the installed MySQL repository ({rpm}) has no {wanted_id} repository for mysql.version {}: install a newer mysql*-community-release RPM, or set packages.mysql_release_rpm or packages.repository",
                    ctx.inv.mysql.version.as_deref().unwrap_or("8.4")
                );
            }
            let (disable, enable) = crate::os::mysql_repo_changes(&repos, wanted_id);
            let enable: Vec<&str> = if enable { vec![wanted_id] } else { vec![] };
            let commands = crate::os::repo_toggle_commands(pm, &disable, &enable);
            if !commands.is_empty() {
                what.push(format!("enable only {wanted_id} of the MySQL repository"));
                actions.extend(
                    commands
                        .into_iter()
                        .map(|c| Action::Run(RemoteCommand::new(c))),
                );
            }
        }
        None => {
            let rpm = match &ctx.inv.packages.mysql_release_rpm {
                Some(rpm) => rpm.clone(),
                None => series.release_rpm_url(target.family)?,
            };
            let install = pm.install_command(&[rpm.as_str()]);
            actions.push(Action::Run(RemoteCommand::new(install)));
            what.push(format!("add the MySQL repository ({rpm})"));
            // Which series the new .repo file enables is only known once it is on the
            // node: select it right after installing the RPM.
            actions.push(select_mysql_series(pm, wanted_id));
            what.push(format!("enable only {wanted_id}"));
        }
    }
    if pm == PackageManager::Dnf {
        let to_disable = facts::get::<facts::packages::MaskingModules>(node, &())?;
        if !to_disable.is_empty() {
            let names: Vec<&str> = to_disable.iter().map(String::as_str).collect();
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::module_disable_command(&names),
            )));
            what.push(format!(
                "disable the AppStream module(s) {}",
                names.join(", ")
            ));
        }
    }
    Ok((actions, what))
}

/// After the MySQL setup RPM is installed: read the `.repo` files it brought and enable
/// exactly `wanted` of its server series.
fn select_mysql_series(pm: crate::os::PackageManager, wanted: &'static str) -> Action {
    Action::Custom(
        crate::os::repositories::select_mysql_series_description(wanted),
        Box::new(move |cluster: &Cluster, i| {
            let t = &cluster.nodes[i].transport;
            let repos = crate::os::parse_yum_repos(
                &t.run_ok(&RemoteCommand::new(crate::os::YUM_REPOS_QUERY))?,
            );
            if !repos.iter().any(|(id, _)| id == wanted) {
                bail!(
 "{}: the MySQL repository RPM brought no {wanted} repository: set packages.mysql_release_rpm to one that has it",
                    cluster.nodes[i].name
                );
            }
            let (disable, enable) = crate::os::mysql_repo_changes(&repos, wanted);
            let enable: Vec<&str> = if enable { vec![wanted] } else { vec![] };
            for c in crate::os::repo_toggle_commands(pm, &disable, &enable) {
                t.run_ok(&RemoteCommand::new(c))?;
            }
            Ok(())
        }),
    )
}
