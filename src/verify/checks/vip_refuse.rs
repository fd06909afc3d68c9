//! `vip-refuse`: the nftables rule by which the node without the VIP refuses connections
//! to it is loaded (bootstrap's `vip-refuse` step; docs/failover.md). A warning, not an
//! error: the pair serves without it, but a client that connects during a failover's
//! moment without a VIP holder then waits a second for TCP's retry. Typically lost when
//! `nftables.service` restarted with a `flush ruleset` configuration.

use crate::facts;
use crate::os::vip_refuse::{listed_rules, supported, Loaded, NOT_ON_EL7, TABLE, WITHOUT_NFT};
use crate::verify::registry::{CheckKind, Fact, NodeCtx, Run, Scope, When};
use crate::verify::{Check, Severity};
use anyhow::Result;

/// `vip-refuse`: the refusal rule is loaded (a warning).
pub const VIP_REFUSE: CheckKind = CheckKind {
    name: "vip-refuse",
    severity: Severity::Warning,
    scope: Scope::Node,
    reads: &[Fact::OsRelease, Fact::Service],
    when: When::Always,
    run: Run::Host(|c| Some(vip_refuse(c))),
};

fn vip_refuse(c: &NodeCtx) -> Result<Check> {
    let node = c.node;
    let (target, _) = facts::os_target(node, c.inv.mysql.flavor)?;
    if !supported(target.family) {
        return Ok(VIP_REFUSE.pass(&node.name, NOT_ON_EL7));
    }
    let loaded = facts::get::<facts::security::VipRefuseTable>(node, &())?;
    Ok(verdict(
        &node.name,
        &loaded,
        &listed_rules(c.inv.vip.address, c.inv.mysql.port),
    ))
}

/// The verdict on what `nft list table ip mhactl` showed (pure, unit-tested).
pub fn verdict(node: &str, loaded: &Loaded, wanted: &[String]) -> Check {
    match loaded {
        Loaded::NoNft => VIP_REFUSE.pass(
            node,
            format!("{WITHOUT_NFT} (install nftables and re-run bootstrap to refuse them)"),
        ),
        _ if loaded.refuses_exactly(wanted) => VIP_REFUSE.pass(
            node,
            format!("nftables table ip {TABLE} refuses connections to the VIP while this node does not hold it"),
        ),
        Loaded::Rules(rules) if rules.is_empty() => VIP_REFUSE.warn(
            node,
            format!(
                "the rule refusing connections to the VIP is not loaded (table ip {TABLE}; \
                 an nftables restart with `flush ruleset`?): a client connecting during a \
                 failover waits 1 s for TCP's retry; run `mhactl bootstrap`"
            ),
        ),
        Loaded::Rules(rules) => VIP_REFUSE.warn(
            node,
            format!(
                "table ip {TABLE} holds other rules than the inventory's ({}): run `mhactl bootstrap`",
                rules.join("; ")
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loaded_missing_and_stale_rules() {
        let wanted = listed_rules("10.0.0.100".parse().unwrap(), 3306);
        let ok = verdict("a", &Loaded::Rules(wanted.clone()), &wanted);
        assert!(ok.ok, "{ok:?}");
        let missing = verdict("a", &Loaded::Rules(vec![]), &wanted);
        assert!(!missing.ok && missing.severity == Severity::Warning);
        assert!(missing.detail.contains("not loaded"), "{missing:?}");
        let old = listed_rules("10.0.0.99".parse().unwrap(), 3306);
        let stale = verdict("a", &Loaded::Rules(old), &wanted);
        assert!(stale.detail.contains("10.0.0.99"), "{stale:?}");
        // A table loaded before the draining rule existed (an older mhactl's).
        let older = verdict("a", &Loaded::Rules(wanted[..1].to_vec()), &wanted);
        assert!(
            !older.ok && older.detail.contains("other rules"),
            "{older:?}"
        );
        assert!(stale.detail.contains("10.0.0.99"), "{stale:?}");
        assert!(verdict("a", &Loaded::NoNft, &wanted).ok);
    }
}
