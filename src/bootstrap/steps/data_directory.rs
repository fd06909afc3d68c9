//! Step `data-directory`: the inventory's data directory exists and holds a database.

use super::shared::Ctx;
use crate::bootstrap::paths::{initialise_log, secure_fresh_mysql_datadir, trimmed};
use crate::engine::{Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::os::datadir::datadir_state_command;
use crate::transport::RemoteCommand;
use anyhow::{bail, Result};
use std::sync::Arc;

/// Step `data-directory` (runbook 1.4: data on another partition): the inventory's data
/// directory exists, belongs to the server's user and holds an initialised database. An
/// empty directory is initialised; a non-empty one that holds no database is never
/// touched. The server moves onto it in `server-config` (its my.cnf names it).
pub struct DataDirectory(pub Arc<Ctx>);

impl Operation for DataDirectory {
    fn name(&self) -> &'static str {
        "data-directory"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let Some(datadir) = &inv.mysql.datadir else {
            return Ok(Plan::Noop("the packaged default data directory".into()));
        };
        let dir = trimmed(datadir);
        let state = node
            .transport
            .run_ok(&RemoteCommand::new(datadir_state_command(&dir)))?
            .trim()
            .to_string();
        if state == "initialised mysql" {
            return Ok(Plan::Noop(format!(
                "{dir} holds an initialised database owned by mysql"
            )));
        }
        if state == "filesystem-root" {
            // mysqld --initialize refuses a directory with anything in it, and
            // lost+found belongs to the file system: the usual layout is a subdirectory.
            bail!(
                "mysql.datadir: {dir} is the top of a file system (it holds only lost+found), \
                 which mysqld cannot initialise: set mysql.datadir to a directory below it, \
                 e.g. {}/data",
                dir.trim_end_matches('/')
            );
        }
        if state == "not-a-database" {
            bail!(
                "mysql.datadir: {dir} is not empty and holds no database: mhactl never initialises \
                 over existing files; empty it or choose another mysql.datadir"
            );
        }
        // A database owned by someone else: mhactl did not create it and never changes
        // its owner (`path_safety` refuses it before anything runs, this is the last word).
        if state != "empty" {
            bail!(
                "mysql.datadir: {}: {dir} holds a database owned by {}, not mysql; mhactl never \
                 changes the owner of a directory it did not create: if it is the server's, \
                 `chown -R mysql:mysql {dir}` yourself",
                node.name,
                state.strip_prefix("initialised ").unwrap_or(&state)
            );
        }
        crate::bootstrap::path_safety::check_node(inv, node)?;
        // Moving a running database is a migration, not a setup: refuse when the
        // server's current data directory holds databases of its own.
        let user_dbs: Vec<String> = facts::accounts::databases(node)?
            .into_iter()
            .filter(|db| {
                !["mysql", "information_schema", "performance_schema", "sys"].contains(&db.as_str())
            })
            .collect();
        if !user_dbs.is_empty() {
            bail!(
                "mysql.datadir: the server's current data directory holds databases ({}): mhactl does not \
                 move data. Stop the server, copy its data directory to {dir} (e.g. `rsync -a`), then run \
                 bootstrap again",
                user_dbs.join(", ")
            );
        }
        let flavor = inv.mysql.flavor;
        let (target, _) = facts::os_target(node, flavor)?;
        let log = initialise_log(inv, &target);
        let mut actions = vec![Action::Run(RemoteCommand::new(
            crate::os::datadir::create_and_initialise_command(flavor, &dir, &log),
        ))];
        let mut summary = format!("initialise {dir}");
        if flavor.fresh_root_password_is_temporary() {
            let Some(root_password) = self.0.secrets.root_password.clone() else {
                bail!(
                    "mysql.datadir: a fresh MySQL data directory starts with a temporary root \
                     password, which mhactl replaces with the inventory's: set one of \
                     credentials.root_password_env, root_password_file or root_password_prompt"
                );
            };
            let dir = dir.clone();
            actions.push(Action::Custom(
                format!(
                    "set root's password on {dir} to the inventory's (the temporary one \
                     from {log}, on a private mysqld without network)"
                ),
                Box::new(move |cluster: &Cluster, i| {
                    secure_fresh_mysql_datadir(&cluster.nodes[i], &dir, &log, &root_password)
                }),
            ));
            summary.push_str(" and set root's password there to the inventory's");
        }
        Ok(Plan::Change(Change {
            summary,
            actions,
            diff: None,
        }))
    }
}
