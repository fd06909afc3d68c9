//! `arbiter`: split-brain protection (`vip.arbiter`). A warning, not an error: the pair
//! works without it, but a VIP holder cut off from the network while its link stays up
//! then keeps the VIP next to the peer that took it (docs/failover.md, "Split brain").
//! With `vip.arbiter` set, each node must reach it with keepalived's own probe (ping):
//! a node that cannot has no way to tell "my peer is gone" from "I am cut off".

use crate::facts;
use crate::os::arbiter::Reach;
use crate::verify::registry::{CheckKind, Fact, PairCtx, Run, Scope, When};
use crate::verify::{Check, Severity};

/// `arbiter`: `vip.arbiter` is set and both nodes reach it (a warning).
pub const ARBITER: CheckKind = CheckKind {
    name: "arbiter",
    severity: Severity::Warning,
    scope: Scope::Pair,
    reads: &[Fact::Arbiter],
    when: When::Always,
    run: Run::Pair(|c| Some(Ok(arbiter(c)))),
};

fn arbiter(c: &PairCtx) -> Check {
    let Some(address) = c.inv.vip.arbiter else {
        return arbiter_from(None, &[]);
    };
    let address = address.to_string();
    let answers: Vec<(String, Reach)> = std::thread::scope(|scope| {
        let handles: Vec<_> = c
            .cluster
            .nodes
            .iter()
            .map(|node| {
                let address = address.as_str();
                scope.spawn(move || {
                    // Its own thread (both nodes at once), so it declares again.
                    let reach = ARBITER
                        .declared(|| facts::get::<facts::host::ArbiterReach>(node, address))
                        .unwrap_or_else(|e| Reach::NoAnswer(format!("{e:#}")));
                    (node.name.clone(), reach)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("arbiter thread"))
            .collect()
    });
    arbiter_from(Some(&address), &answers)
}

/// `arbiter` on the inventory's address and each node's answer.
pub fn arbiter_from(address: Option<&str>, answers: &[(String, Reach)]) -> Check {
    let Some(address) = address else {
        return ARBITER.warn(
            "cluster",
            "no vip.arbiter: a VIP holder cut off from the network (link up) keeps the VIP \
             while its peer takes it too (split brain); set vip.arbiter to an address both \
             nodes and the clients reach, e.g. the clients' gateway",
        );
    };
    let problems: Vec<String> = answers
        .iter()
        .filter_map(|(node, reach)| match reach {
            Reach::Answers => None,
            Reach::NoPing => Some(format!(
                "{node} has no `ping` (install iputils-ping or iputils): keepalived's \
                 chk_arbiter passes without it, so a cut-off {node} keeps the VIP"
            )),
            Reach::NoAnswer(why) => Some(format!(
                "{node} gets no answer from {address} ({why}): if it loses its peer too, \
                 it gives up the VIP; let ICMP echo from the nodes reach the arbiter"
            )),
        })
        .collect();
    if problems.is_empty() {
        ARBITER.pass("cluster", format!("both nodes reach the arbiter {address}"))
    } else {
        ARBITER.warn("cluster", problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arbiter_verdicts() {
        let unset = arbiter_from(None, &[]);
        assert!(
            !unset.ok && unset.detail.contains("no vip.arbiter"),
            "{unset:?}"
        );
        let both = [
            ("node-a".to_string(), Reach::Answers),
            ("node-b".to_string(), Reach::Answers),
        ];
        assert!(arbiter_from(Some("10.0.0.1"), &both).ok);
        let one = [
            ("node-a".to_string(), Reach::Answers),
            ("node-b".to_string(), Reach::NoPing),
        ];
        let c = arbiter_from(Some("10.0.0.1"), &one);
        assert!(!c.ok && c.detail.contains("node-b has no `ping`"), "{c:?}");
    }
}
