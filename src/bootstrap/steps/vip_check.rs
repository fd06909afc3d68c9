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
        if let Some(plan) = self.settled_by_batched_reads(cluster)? {
            return Ok(plan);
        }
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
        Ok(noop(cluster, inv, holder, &id))
    }
}

impl VipCheck {
    /// Issue 21: the answer from what this run's batches read (a converged re-run: no
    /// `ip addr` of its own, node after node, no question through the VIP of its own),
    /// when the VIP's addresses show one holder and MySQL through the VIP answered with
    /// that holder's server_id. Both are volatile reads: dropped on every change, so they
    /// are from this run and nothing changed since (a snapshot, as a verify round's).
    /// When the peer could not ask with its own client, the login through the VIP is made
    /// now. Anything else (no holder or two in those reads, another server_id, a failed
    /// login: keepalived still electing after a change) is `None`: the fresh reads and the
    /// wait below decide, and report, as before.
    fn settled_by_batched_reads(&self, cluster: &Cluster) -> Result<Option<Plan>> {
        let inv = &self.0.inv;
        let holders = facts::host::vip_holders_cached(cluster, inv)?;
        let [holder] = holders[..] else {
            return Ok(None);
        };
        let asked = match facts::server_id_through_vip_ahead(cluster, inv, holder) {
            Ok(Some(id)) => Ok(id),
            Ok(None) => facts::server_id_through_vip(
                cluster,
                inv,
                &self.0.secrets.replication_password,
                holder,
            ),
            Err(e) => Err(e),
        };
        let id = match asked {
            Ok(id) => id,
            Err(e) if crate::transport::is_speculated(&e) => return Err(e),
            Err(_) => return Ok(None),
        };
        Ok((id == inv.server_id(holder).to_string()).then(|| noop(cluster, inv, holder, &id)))
    }
}

fn noop(cluster: &Cluster, inv: &crate::inventory::Inventory, holder: usize, id: &str) -> Plan {
    Plan::Noop(format!(
        "VIP {} on {}; MySQL answers through it (server_id {id})",
        inv.vip.address, cluster.nodes[holder].name
    ))
}
