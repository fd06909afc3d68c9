//! Step `client-list` (`writes: vip-holder`, after `fence-agent`): what a node's fence
//! agent needs to tickle its peer's clients when it takes the VIP over from a peer it
//! cannot reach (issue 17, docs/failover.md "Tickle ACKs"). For node i: the account
//! `mhactl_clients@<the peer's address>` on i's server (PROCESS only, binary log off),
//! the peer's option file naming i (its login to i's client list; the password is
//! generated here and exists only in that file and i's server), and i's tickle script.
//! With `writes: both` (no fence agent) it removes what an earlier run installed.

use super::shared::Ctx;
use crate::dialect::{quote_account, CLIENT_LIST_USER};
use crate::engine::{file_diff, Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::facts::fence::FenceLogin;
use crate::inventory::WriteMode;
use crate::os::client_list::{option_file_content, option_file_path, TICKLE_PATH, TICKLE_SCRIPT};
use crate::transport::RemoteCommand;
use anyhow::Result;
use std::path::Path;
use std::sync::Arc;

/// The `client-list` step.
pub(super) struct ClientList(pub(super) Arc<Ctx>);

impl Operation for ClientList {
    fn name(&self) -> &'static str {
        "client-list"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let peer = &cluster.nodes[1 - i];
        let peer_address = inv.nodes[1 - i].address;
        let host = peer_address.to_string();
        let account = quote_account(CLIENT_LIST_USER, &host);
        let d = facts::dialect(node)?;
        let (peer_target, _) = facts::os_target(peer, inv.mysql.flavor)?;
        let option_file = option_file_path(&peer_target);
        let exists = facts::accounts::account_exists(node, CLIENT_LIST_USER, &host)?;
        let script = facts::host::rendered_file(node, TICKLE_PATH)?;
        let login = facts::fence::login(peer, &option_file)?;
        if inv.writes == WriteMode::Both {
            return Ok(plan_both(
                &d,
                &account,
                &host,
                &option_file,
                exists,
                script.is_some(),
                login,
            ));
        }
        let script_ok = script.as_deref() == Some(TICKLE_SCRIPT);
        // The peer's file must name this node as it is now (an address or port change).
        let names_us = facts::host::rendered_file(peer, &option_file)?.is_some_and(|t| {
            t.contains(&format!(
                "\nhost={}\nport={}\n",
                inv.nodes[i].address, inv.mysql.port
            ))
        });
        let grants_ok = exists
            && d.client_list_grants_cover(&facts::accounts::grant_lines(
                node,
                CLIENT_LIST_USER,
                &host,
            )?);
        if script_ok && login == FenceLogin::Works && names_us && grants_ok {
            return Ok(Plan::Noop(format!(
                "{TICKLE_PATH} up to date; {} logs in to {account} with {option_file}",
                peer.name
            )));
        }
        let mut actions = Vec::new();
        let mut diff = String::new();
        let mut what = Vec::new();
        if login != FenceLogin::Works || !exists || !names_us {
            // A new password, never shown: in the SQL sent over the SSH channel and in
            // the peer's root-only file, nowhere else (the action's text names neither).
            let password = crate::accounts::random_password()?;
            let content = option_file_content(
                CLIENT_LIST_USER,
                &password,
                inv.nodes[i].address,
                inv.mysql.port,
            )?;
            diff.push_str(&file_diff(
                &format!("{}:{option_file}", peer.name),
                None,
                &content,
            ));
            let statements = d.client_list_account_sql(&host, &password, exists);
            let peer_index = 1 - i;
            let file = option_file.clone();
            actions.push(Action::Custom(
                format!(
                    "{} {account} with a new generated password (binary log off), grant {}; \
                     write {option_file} on {} (root 0600)",
                    if exists {
                        "set the password of"
                    } else {
                        "create"
                    },
                    d.client_list_privileges().join(", "),
                    peer.name
                ),
                Box::new(move |cluster: &Cluster, i| {
                    run_admin_statements(cluster, i, &statements)?;
                    cluster.nodes[peer_index].transport.write_file(
                        Path::new(&file),
                        content.as_bytes(),
                        0o600,
                    )
                }),
            ));
            what.push(format!(
                "{} {account}, write {option_file} on {}",
                if exists { "new password for" } else { "create" },
                peer.name
            ));
        } else if !grants_ok {
            actions.push(admin_statements(
                format!("grant PROCESS to {account} (binary log off)"),
                d.client_list_account_grant_sql(&host),
            ));
            what.push(format!("grant PROCESS to {account}"));
        }
        if !script_ok {
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::fence::agent_dir_command(),
            )));
            diff.push_str(&file_diff(TICKLE_PATH, script.as_deref(), TICKLE_SCRIPT));
            actions.push(Action::WriteFile {
                path: TICKLE_PATH.into(),
                content: TICKLE_SCRIPT.into(),
                mode: 0o755,
            });
            what.push(format!("write {TICKLE_PATH}"));
        }
        Ok(Plan::Change(Change {
            summary: what.join(", "),
            actions,
            diff: (!diff.is_empty()).then_some(diff),
        }))
    }
}

/// `writes: both`: no fence agent, so no poller and no tickle; what a `vip-holder` run
/// installed goes (the account on this node, the peer's login file, this node's script).
fn plan_both(
    d: &crate::dialect::Dialect,
    account: &str,
    host: &str,
    option_file: &str,
    exists: bool,
    script: bool,
    login: FenceLogin,
) -> Plan {
    let mut actions = Vec::new();
    let mut what = Vec::new();
    if exists {
        actions.push(admin_statements(
            format!("drop {account} (binary log off)"),
            d.drop_client_list_account_sql(host),
        ));
        what.push(format!("drop {account}"));
    }
    if script || login != FenceLogin::NoFile {
        let command = crate::os::client_list::remove_command(option_file);
        actions.push(Action::Custom(
            format!("remove {TICKLE_PATH} and the peer's {option_file}"),
            Box::new(move |cluster: &Cluster, i| {
                for n in [&cluster.nodes[i], &cluster.nodes[1 - i]] {
                    n.transport.run(&RemoteCommand::new(command.clone()))?;
                }
                Ok(())
            }),
        ));
        what.push(format!("remove {TICKLE_PATH} and the peer's {option_file}"));
    }
    if what.is_empty() {
        return Plan::Noop("writes: both: no fence agent, nothing to tickle with".into());
    }
    Plan::Change(Change {
        summary: what.join(", "),
        actions,
        diff: None,
    })
}

/// Statements through this node's admin session, which may write on a fenced server.
fn run_admin_statements(cluster: &Cluster, i: usize, statements: &[String]) -> Result<()> {
    cluster.nodes[i].with_admin_write(|sql| {
        for s in statements {
            sql.exec(s)?;
        }
        Ok(())
    })
}

/// An action that runs `statements` with [`run_admin_statements`].
fn admin_statements(what: String, statements: Vec<String>) -> Action {
    Action::Custom(
        what,
        Box::new(move |cluster: &Cluster, i| run_admin_statements(cluster, i, &statements)),
    )
}
