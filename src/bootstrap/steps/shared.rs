//! What the bootstrap steps share: the context every step gets, account statements, and
//! starting a service.

use crate::engine::{Action, Cluster};
use crate::facts;
use crate::inventory::{Inventory, Secrets};
use crate::os::ServiceManager;
use crate::transport::RemoteCommand;
use anyhow::anyhow;
use std::time::Duration;

/// What every step needs: the inventory and the resolved secrets.
pub struct Ctx {
    /// The validated inventory.
    pub inv: Inventory,
    /// Resolved secrets.
    pub secrets: Secrets,
    /// The cluster's certificates, loaded (or made in memory) once per run: both nodes'
    /// plans must see the same CA.
    pki: std::sync::OnceLock<std::result::Result<Option<crate::tls::Pki>, String>>,
    /// `--limit`: the one node whose steps run ([`crate::limit`]); `None`: both.
    pub limit: Option<usize>,
    /// Each node's passive restart in this run, as its VIP holder waits for it
    /// ([`crate::bootstrap::restart_order`]). Kept in the run's context rather than in a
    /// process-wide map keyed by the context's address: a freed context's address is
    /// reused by the next one (tests running in parallel read each other's state).
    pub(crate) passive_restarts:
        std::sync::Mutex<[Option<crate::bootstrap::restart_order::PassiveRestart>; 2]>,
}

impl Ctx {
    /// A context for one run.
    pub fn new(inv: Inventory, secrets: Secrets) -> Ctx {
        Ctx {
            inv,
            secrets,
            pki: std::sync::OnceLock::new(),
            limit: None,
            passive_restarts: std::sync::Mutex::new([None; 2]),
        }
    }

    /// The cluster's certificates (`None`: TLS is off), [`crate::tls::Pki::load`]ed once.
    pub fn pki(&self) -> anyhow::Result<Option<&crate::tls::Pki>> {
        self.pki
            .get_or_init(|| crate::tls::Pki::load(&self.inv).map_err(|e| format!("{e:#}")))
            .as_ref()
            .map(Option::as_ref)
            .map_err(|e| anyhow!("{e}"))
    }
}

/// Error 1819, said plainly: the server's validate_password rejects a password.
pub(super) fn password_policy_error(which: &str) -> anyhow::Error {
    anyhow!(
        "the server's password policy (validate_password) rejects {which} \
         (error 1819): use a longer one mixing upper and lower case letters, \
         digits and special characters; mhactl does not weaken the policy"
    )
}

/// Run account statements (created with the binary log off) on the node, fenced or not
/// ([`crate::engine::NodeHandle::with_admin_write`]), turning the
/// password policy's refusal (1819) into a message naming `which` password it was.
pub(super) fn account_sql(statements: Vec<String>, which: &'static str) -> Action {
    Action::Custom(
        format!("sql: {}", statements.join("; ")),
        Box::new(move |cluster: &Cluster, i| {
            cluster.nodes[i]
                .with_admin_write(|sql| {
                    for statement in &statements {
                        sql.exec(statement)?;
                    }
                    Ok(())
                })
                .map_err(|e| match crate::sql::server_error_code(&e) {
                    Some(1819) => password_policy_error(which),
                    _ => e,
                })
        }),
    )
}

/// A script keepalived runs (the health check, the fence agent): `wanted` written (root
/// 0755) when given, with its diff against `current`; labelled for SELinux when `relabel`
/// (a freshly written file carries its directory's type). Appends to a step's change:
/// (actions, diff, summary parts).
pub(super) fn keepalived_script(
    path: &str,
    current: Option<&str>,
    wanted: Option<String>,
    relabel: bool,
    (actions, diff, what): (&mut Vec<Action>, &mut String, &mut Vec<String>),
) {
    use crate::os::selinux::{check_script_label_command, CHECK_SCRIPT_SELINUX_TYPE};
    if let Some(content) = wanted {
        diff.push_str(&crate::engine::file_diff(path, current, &content));
        actions.push(Action::WriteFile {
            path: path.into(),
            content,
            mode: 0o755,
        });
        what.push(format!("write {path}"));
    }
    if relabel {
        actions.push(Action::Run(RemoteCommand::new(check_script_label_command(
            path,
        ))));
        what.push(format!(
            "label {path} {CHECK_SCRIPT_SELINUX_TYPE} (SELinux)"
        ));
    }
}

/// Start a service and wait until it reports running: init scripts often return before
/// the daemon has written its pid file. With the server's `error_log`, a failure quotes
/// what the server wrote there.
pub(super) fn start_service(
    services: ServiceManager,
    service: &'static str,
    error_log: Option<String>,
) -> Action {
    Action::Custom(
        format!("start {service} and wait until it runs"),
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            let start = || {
                node.transport
                    .run_ok(&RemoteCommand::new(services.start_command(service)))?;
                crate::poll::until(Duration::from_secs(30), || {
                    facts::service_active_fresh(node, services, service)
                })
                .map_err(|_| {
                    anyhow!(
                        "{}: {service} did not report running within 30 s of starting",
                        node.name
                    )
                })
            };
            match &error_log {
                Some(log) => crate::bootstrap::error_log::quoting_errors(
                    node,
                    log,
                    (services == ServiceManager::Systemd).then_some(service),
                    start,
                ),
                None => start(),
            }
        }),
    )
}
