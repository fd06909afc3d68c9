//! Step `firewall`: the MySQL port and VRRP open where firewalld or ufw runs (see [`crate::bootstrap::firewall`]).

use super::shared::Ctx;
use crate::bootstrap::firewall::openings;
use crate::engine::{file_diff, Action, Change, Cluster, Operation, Plan};
use crate::facts::read_on;
use crate::facts::security::{
    FirewalldRule, FirewalldRunning, FirewalldTarget, FirewalldZone, IptablesDefaultDrop,
    NftDefaultDrop, RuleArg, UfwStatus,
};
use crate::inventory::{FirewallMode, Inventory};
use crate::os::firewall::{
    ufw_allows, ufw_before_rules_with_vrrp, ufw_state, ufw_vrrp_line, Opening, UFW_BEFORE_RULES,
};
use crate::transport::{RemoteCommand, Transport};
use anyhow::{bail, Result};
use std::sync::Arc;

use crate::os::firewall;

/// The `firewall` step.
pub struct Firewall(pub Arc<Ctx>);

impl Operation for Firewall {
    fn name(&self) -> &'static str {
        "firewall"
    }

    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        plan_firewall(&self.0.inv, cluster.nodes[i].transport.as_ref(), i)
    }
}

/// Plan the firewall of node `i` (pure apart from the read-only commands it runs).
pub fn plan_firewall(inv: &Inventory, t: &dyn Transport, i: usize) -> Result<Plan> {
    if inv.firewall == FirewallMode::Manual {
        return Ok(Plan::Noop(
            "firewall: manual in the inventory: not checked or changed".into(),
        ));
    }
    let wanted = openings(inv, i);
    if read_on::<FirewalldRunning>(t, &())? {
        return plan_firewalld(inv, t, &wanted);
    }
    if let Some(ufw) = read_on::<UfwStatus>(t, &())? {
        let (active, incoming) = ufw_state(&ufw);
        if active {
            return plan_ufw(inv, t, i, &ufw, &incoming, &wanted);
        }
    }
    let drop = read_on::<NftDefaultDrop>(t, &())?.map(|c| format!("nftables ruleset ({c})"));
    let drop = match drop {
        Some(d) => Some(d),
        None => read_on::<IptablesDefaultDrop>(t, &())?.then(firewall::iptables_input_chain),
    };
    if let Some(what) = drop {
        let list: Vec<String> = wanted
            .iter()
            .map(|o| format!("  - {}", o.describe()))
            .collect();
        let examples: Vec<String> = wanted
            .iter()
            .map(|o| format!("  {}", o.nft_example()))
            .collect();
        bail!(
            "{} drops incoming traffic by default ({what}) and is not managed by firewalld \
             or ufw, so mhactl does not edit it. Open these, then re-run bootstrap (or set \
             `firewall: manual` in the inventory once they are open):\n{}\nfor example, \
             with nftables:\n{}",
            t.node(),
            list.join("\n"),
            examples.join("\n")
        );
    }
    Ok(Plan::Noop(
        "no firewall: firewalld and ufw are not active and no nftables/iptables input \
         policy drops; nothing to open"
            .into(),
    ))
}

fn plan_firewalld(inv: &Inventory, t: &dyn Transport, wanted: &[Opening]) -> Result<Plan> {
    let Some(zone) = read_on::<FirewalldZone>(t, &inv.vip.interface)? else {
        bail!(
            "firewalld runs, but neither the zone of {} nor the default zone is known",
            inv.vip.interface
        );
    };
    let target = read_on::<FirewalldTarget>(t, &zone)?;
    if target == "ACCEPT" {
        return Ok(Plan::Noop(format!(
            "firewalld zone {zone} accepts all traffic (target ACCEPT): nothing to open"
        )));
    }
    let mut actions = Vec::new();
    let mut what = Vec::new();
    let mut fine = Vec::new();
    for o in wanted {
        let rule = o.rich_rule();
        let mut missing = Vec::new();
        for (label, permanent) in [("runtime", false), ("permanent", true)] {
            let present = read_on::<FirewalldRule>(
                t,
                &RuleArg {
                    zone: zone.clone(),
                    rule: rule.clone(),
                    permanent,
                },
            )?;
            if !present {
                actions.push(Action::Run(RemoteCommand::new(
                    firewall::firewalld_add_rule_command(&zone, &rule, permanent),
                )));
                missing.push(label);
            }
        }
        if missing.is_empty() {
            fine.push(o.describe());
        } else {
            what.push(format!(
                "allow {} ({})",
                o.describe(),
                missing.join(" and ")
            ));
        }
    }
    if actions.is_empty() {
        return Ok(Plan::Noop(format!(
            "firewalld zone {zone} allows {}",
            fine.join("; ")
        )));
    }
    Ok(Plan::Change(Change {
        summary: format!("firewalld zone {zone}: {}", what.join("; ")),
        actions,
        diff: None,
    }))
}

fn plan_ufw(
    inv: &Inventory,
    t: &dyn Transport,
    i: usize,
    status: &str,
    incoming: &str,
    wanted: &[Opening],
) -> Result<Plan> {
    if incoming == "allow" {
        return Ok(Plan::Noop(firewall::ufw_allows_incoming_by_default()));
    }
    let mut actions = Vec::new();
    let mut what = Vec::new();
    let mut fine = Vec::new();
    let mut diff = None;
    for o in wanted {
        match o.tcp_port {
            Some(port) => {
                if ufw_allows(status, port, o.source.as_deref()) {
                    fine.push(o.describe());
                    continue;
                }
                actions.push(Action::Run(RemoteCommand::new(
                    firewall::ufw_allow_tcp_command(
                        port,
                        o.source.as_deref(),
                        &format!("mhactl: {}", o.why),
                    ),
                )));
                what.push(format!("allow {}", o.describe()));
            }
            None => {
                // The ufw command line has no VRRP: a line in before.rules.
                let peer = inv.peer(i).address.to_string();
                let current = read_on::<crate::facts::host::RenderedFile>(
                    t,
                    std::path::Path::new(UFW_BEFORE_RULES),
                )?
                .unwrap_or_default();
                match ufw_before_rules_with_vrrp(&current, &peer) {
                    None if current.lines().any(|l| l.trim() == ufw_vrrp_line(&peer)) => {
                        fine.push(o.describe());
                    }
                    None => bail!(firewall::ufw_no_commit_line(&peer)),
                    Some(new) => {
                        diff = Some(file_diff(UFW_BEFORE_RULES, Some(&current), &new));
                        actions.push(Action::WriteFile {
                            path: UFW_BEFORE_RULES.into(),
                            content: new,
                            mode: 0o640,
                        });
                        actions.push(Action::Run(RemoteCommand::new(firewall::UFW_RELOAD)));
                        what.push(format!("allow {} in {UFW_BEFORE_RULES}", o.describe()));
                    }
                }
            }
        }
    }
    if actions.is_empty() {
        return Ok(Plan::Noop(firewall::ufw_allows_all(&fine.join("; "))));
    }
    Ok(Plan::Change(Change {
        summary: format!("ufw: {}", what.join("; ")),
        actions,
        diff,
    }))
}
