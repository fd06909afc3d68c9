//! Step `start-server`: the server runs and starts at boot.

use super::shared::{start_service, Ctx};
use crate::engine::{Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::transport::RemoteCommand;
use anyhow::Result;
use std::sync::Arc;

/// Step 4a (runbook 1.2.1): the server runs and starts at boot.
pub(super) struct StartServer(pub(super) Arc<Ctx>);

impl Operation for StartServer {
    fn name(&self) -> &'static str {
        "start-server"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let node = &cluster.nodes[i];
        let (target, services) = facts::os_target(node, self.0.inv.mysql.flavor)?;
        let service = target.server_service();
        if facts::service_active(node, services, service)? {
            return Ok(Plan::Noop(format!("{service} is running")));
        }
        let mut actions = vec![Action::Run(RemoteCommand::new(
            services.enable_command(service),
        ))];
        actions.extend(
            services
                .runtime_dir_command(service)
                .map(|c| Action::Run(RemoteCommand::new(c))),
        );
        let log = crate::bootstrap::error_log::server_error_log(&self.0.inv, &target);
        actions.push(start_service(services, service, Some(log)));
        Ok(Plan::Change(Change {
            summary: format!("start {service}"),
            actions,
            diff: None,
        }))
    }
}
