//! Step `vip`: the VIP answers with its holder's server.

use super::shared::Ctx;
use crate::engine::{Cluster, Operation, Plan};
use crate::facts;
use anyhow::{bail, Result};
use std::sync::Arc;
use std::time::Duration;

/// Step 9 (runbook's "check the VIP"): exactly one node holds the VIP, and MySQL
/// answers through it with the holder's server_id.
pub(super) struct VipCheck(pub(super) Arc<Ctx>);

impl Operation for VipCheck {
    fn name(&self) -> &'static str {
        "vip"
    }
    fn cluster_wide(&self) -> bool {
        true
    }
    fn plan(&self, cluster: &Cluster, _i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let vip = inv.vip.address;
        let mut holders = Vec::new();
        // keepalived needs a few advertisement intervals to elect a holder.
        let waited = crate::poll::until(Duration::from_secs(20), || {
            holders = facts::vip_holders(cluster, inv)?;
            Ok(holders.len() == 1)
        });
        if waited.is_err() {
            if holders.len() > 1 {
                bail!(
                    "split brain: both {} and {} hold the VIP {vip}",
                    cluster.nodes[0].name,
                    cluster.nodes[1].name
                );
            }
            bail!("no node holds the VIP {vip} after 20 s: is keepalived running, and VRRP allowed between the nodes?");
        }
        let holder = holders[0];
        let id = facts::server_id_through_vip(
            cluster,
            inv,
            &self.0.secrets.replication_password,
            holder,
        )?;
        let want = inv.server_id(holder).to_string();
        if id != want {
            bail!(
                "MySQL through the VIP {vip} reports server_id {id}, but the holder {} has {want}",
                cluster.nodes[holder].name
            );
        }
        Ok(Plan::Noop(format!(
            "VIP {vip} on {}; MySQL answers through it (server_id {id})",
            cluster.nodes[holder].name
        )))
    }
}
