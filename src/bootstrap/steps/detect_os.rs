//! Step `detect-os`: OS family, package manager, service manager.

use super::shared::Ctx;
use crate::engine::{Cluster, Operation, Plan};
use crate::facts;
use anyhow::Result;
use std::sync::Arc;

/// Step 2: OS family, package manager, service manager.
pub(super) struct DetectOs(pub(super) Arc<Ctx>);

impl Operation for DetectOs {
    fn name(&self) -> &'static str {
        "detect-os"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let node = &cluster.nodes[i];
        let (target, _) = facts::os_target(node, self.0.inv.mysql.flavor)?;
        // Before anything runs: the inventory's paths are new or already the server's.
        crate::bootstrap::path_safety::check_node(&self.0.inv, node)?;
        Ok(Plan::Noop(format!(
            "{}; {:?} packages",
            facts::describe_os(node),
            target.package_manager()
        )))
    }
}
