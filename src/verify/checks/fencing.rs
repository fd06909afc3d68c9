//! `write-fencing` (issue 16 item 1): with `writes: vip-holder`, exactly one node accepts
//! application writes and it is the VIP holder; the other is read-only (MySQL: also
//! `super_read_only`, which stops accounts with SUPER); the fence agent runs on both.
//! With `writes: both` the check passes with a note: both nodes are writable by design.

use crate::facts;
use crate::inventory::WriteMode;
use crate::verify::registry::{CheckKind, Fact, PairCtx, Run, Scope, When};
use crate::verify::{Check, Severity};

/// `write-fencing`: only the VIP holder is writable (`writes: vip-holder`).
pub const WRITE_FENCING: CheckKind = CheckKind {
    name: "write-fencing",
    severity: Severity::Error,
    scope: Scope::Pair,
    reads: &[
        Fact::ServerVersion,
        Fact::Variables,
        Fact::Addresses,
        Fact::Service,
    ],
    when: When::Always,
    run: Run::Pair(|c| Some(Ok(write_fencing(c)))),
};

/// What one node shows of the fence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFence {
    /// Node name.
    pub name: String,
    /// `read_only` ON.
    pub read_only: bool,
    /// Every fence variable ON (MySQL: `read_only` and `super_read_only`).
    pub fully_fenced: bool,
    /// Which variables fence it (`read_only` or `super_read_only`), for the message.
    pub fence_variables: String,
    /// The fence agent runs.
    pub agent_running: bool,
}

fn write_fencing(c: &PairCtx) -> Check {
    if c.inv.writes == WriteMode::Both {
        return WRITE_FENCING.pass(
            "cluster",
            "skipped: writes: both, so both nodes are writable by design (no fence agent); \
             a client writing to a node's own address can make the pair diverge",
        );
    }
    let holders = match super::pair::holders(c) {
        Ok(h) => h.clone(),
        Err(e) => return WRITE_FENCING.fail("cluster", format!("VIP holders unknown: {e}")),
    };
    let mut nodes = Vec::new();
    for node in &c.cluster.nodes {
        let read = || -> anyhow::Result<NodeFence> {
            let d = facts::dialect(node)?;
            let on = |name: &str| -> anyhow::Result<bool> {
                Ok(matches!(
                    facts::variable(node, name)?.as_deref(),
                    Some("1" | "ON")
                ))
            };
            let mut fully_fenced = true;
            let names: Vec<&str> = d.fence_options().iter().map(|o| o.name).collect();
            for n in &names {
                fully_fenced &= on(n)?;
            }
            Ok(NodeFence {
                name: node.name.clone(),
                read_only: on("read_only")?,
                fully_fenced,
                fence_variables: names.join(" and "),
                agent_running: facts::fence::agent_running(node)?,
            })
        };
        match read() {
            Ok(f) => nodes.push(f),
            Err(e) => {
                return WRITE_FENCING.fail("cluster", format!("{}: {e:#}", node.name));
            }
        }
    }
    write_fencing_from(&nodes, &holders)
}

/// The decision on what both nodes show and who holds the VIP (by index).
pub fn write_fencing_from(nodes: &[NodeFence], holders: &[usize]) -> Check {
    let mut problems = Vec::new();
    for n in nodes.iter().filter(|n| !n.agent_running) {
        problems.push(format!(
            "{}: the fence agent does not run (keepalived stopped, or it refused {}: see \
             keepalived's log; run bootstrap)",
            n.name,
            crate::os::fence::AGENT_PATH
        ));
    }
    let writable: Vec<&str> = nodes
        .iter()
        .filter(|n| !n.read_only)
        .map(|n| n.name.as_str())
        .collect();
    if writable.len() > 1 {
        problems.push(format!(
            "both nodes are writable ({}): a client writing to the passive node's own address \
             makes the pair diverge",
            writable.join(", ")
        ));
    }
    for (i, n) in nodes.iter().enumerate() {
        let holds = holders.contains(&i);
        if holds && n.read_only {
            problems.push(format!(
                "{} holds the VIP but is read-only: writes through the VIP fail (the agent \
                 waits until the SQL thread has executed what it received: check replication)",
                n.name
            ));
        } else if !holds && !n.fully_fenced {
            problems.push(format!(
                "{} does not hold the VIP but is not fenced ({} not all ON)",
                n.name, n.fence_variables
            ));
        }
    }
    if !problems.is_empty() {
        return WRITE_FENCING.fail("cluster", problems.join("; "));
    }
    let holder = holders.first().and_then(|&h| nodes.get(h));
    let passive: Vec<String> = nodes
        .iter()
        .enumerate()
        .filter(|(i, _)| !holders.contains(i))
        .map(|(_, n)| format!("{} read-only ({} ON)", n.name, n.fence_variables))
        .collect();
    WRITE_FENCING.pass(
        "cluster",
        format!(
            "{}; {}; the fence agent runs on both",
            holder.map_or("no VIP holder".to_string(), |h| format!(
                "only {} (the VIP holder) is writable",
                h.name
            )),
            passive.join(", ")
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(name: &str, ro: bool, full: bool, agent: bool) -> NodeFence {
        NodeFence {
            name: name.into(),
            read_only: ro,
            fully_fenced: full,
            fence_variables: "read_only and super_read_only".into(),
            agent_running: agent,
        }
    }

    #[test]
    fn only_the_vip_holder_is_writable() {
        let ok = write_fencing_from(
            &[n("a", false, false, true), n("b", true, true, true)],
            &[0],
        );
        assert!(ok.ok, "{ok:?}");
        assert!(
            ok.detail.contains("only a (the VIP holder) is writable"),
            "{ok:?}"
        );
        let both = write_fencing_from(
            &[n("a", false, false, true), n("b", false, false, true)],
            &[0],
        );
        assert!(
            !both.ok && both.detail.contains("both nodes are writable"),
            "{both:?}"
        );
        let wrong = write_fencing_from(
            &[n("a", true, true, true), n("b", false, false, true)],
            &[0],
        );
        assert!(
            !wrong.ok && wrong.detail.contains("a holds the VIP but is read-only"),
            "{wrong:?}"
        );
        // MySQL: read_only ON but super_read_only OFF (an interrupted admin write).
        let half = write_fencing_from(
            &[n("a", false, false, true), n("b", true, false, true)],
            &[0],
        );
        assert!(
            !half.ok
                && half
                    .detail
                    .contains("b does not hold the VIP but is not fenced"),
            "{half:?}"
        );
        let no_agent = write_fencing_from(
            &[n("a", false, false, true), n("b", true, true, false)],
            &[0],
        );
        assert!(
            !no_agent.ok && no_agent.detail.contains("b: the fence agent does not run"),
            "{no_agent:?}"
        );
    }
}
