//! Step `vip-refuse`: the nftables rule by which a node without the VIP answers a
//! connection to the VIP's server port with a reset ([`crate::os::vip_refuse`] says why).
//! The ruleset file is written and loaded; the fence agent loads it again whenever
//! keepalived starts. Without `nft`, or on a kernel without nftables' `fib` expression
//! (EL7), nothing: clients then wait for TCP's retransmission when they connect in a
//! failover's no-holder moment, as they did before.

use super::shared::Ctx;
use crate::engine::{file_diff, Action, Change, Cluster, Operation, Plan};
use crate::facts;
use crate::os::vip_refuse::{listed_rules, load_command, Loaded, RULESET_PATH, TABLE};
use crate::transport::RemoteCommand;
use anyhow::Result;
use std::sync::Arc;

/// The `vip-refuse` step.
pub(super) struct VipRefuse(pub(super) Arc<Ctx>);

impl Operation for VipRefuse {
    fn name(&self) -> &'static str {
        "vip-refuse"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        let inv = &self.0.inv;
        let node = &cluster.nodes[i];
        let (target, _) = facts::os_target(node, inv.mysql.flavor)?;
        if !crate::os::vip_refuse::supported(target.family) {
            return Ok(Plan::Noop(crate::os::vip_refuse::NOT_ON_EL7.into()));
        }
        let loaded = facts::get::<facts::security::VipRefuseTable>(node, &())?;
        if loaded == Loaded::NoNft {
            return Ok(Plan::Noop(format!(
                "{} (install nftables to refuse them at once)",
                crate::os::vip_refuse::WITHOUT_NFT
            )));
        }
        let wanted = crate::render::render_vip_refuse(inv)?;
        let current = facts::host::rendered_file(node, RULESET_PATH)?;
        let file_ok = current.as_deref() == Some(wanted.as_str());
        let loaded_ok = loaded.refuses_exactly(&listed_rules(inv.vip.address, inv.mysql.port));
        if file_ok && loaded_ok {
            return Ok(Plan::Noop(format!(
                "nftables table ip {TABLE} refuses {}:{} while this node does not hold it",
                inv.vip.address, inv.mysql.port
            )));
        }
        let mut actions = Vec::new();
        if !file_ok {
            actions.push(Action::WriteFile {
                path: RULESET_PATH.into(),
                content: wanted.clone(),
                mode: 0o644,
            });
        }
        actions.push(Action::Run(RemoteCommand::new(load_command())));
        Ok(Plan::Change(Change {
            summary: format!(
                "{}load {RULESET_PATH}: refuse {}:{} with a TCP reset while this node does \
                 not hold the VIP",
                if file_ok { "" } else { "write and " },
                inv.vip.address,
                inv.mysql.port
            ),
            diff: (!file_ok).then(|| file_diff(RULESET_PATH, current.as_deref(), &wanted)),
            actions,
        }))
    }
}
