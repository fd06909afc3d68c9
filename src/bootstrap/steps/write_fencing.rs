//! Step `write-fencing` (after `vip`): the write fence in force. `writes: vip-holder`:
//! the VIP holder writable, the other node read-only (MySQL: also `super_read_only`), the
//! fence agent running on both; the agent decides (it makes the holder writable only once
//! it applied what it received), this step waits for it and fences a passive node itself
//! (always safe). `writes: both`: both writable, and what an earlier `vip-holder` run
//! installed (agent, option file, account) removed once keepalived no longer runs it.

use super::shared::Ctx;
use crate::engine::{Action, Change, Cluster, NodeHandle, Operation, Plan};
use crate::facts;
use crate::facts::fence::FenceLogin;
use crate::inventory::{Inventory, WriteMode};
use crate::os::fence::AGENT_PATH;
use crate::transport::RemoteCommand;
use anyhow::{anyhow, Result};
use std::sync::Arc;
use std::time::Duration;

/// How long bootstrap waits for the agent to act: its catch-up bound plus a few seconds.
const AGENT_WAIT: Duration = Duration::from_secs(crate::render::FENCE_CATCH_UP_TIMEOUT_S + 5);

/// The `write-fencing` step.
pub(super) struct WriteFencing(pub(super) Arc<Ctx>);

/// The fence as one node shows it.
struct FenceState {
    holds_vip: bool,
    /// `read_only` is ON.
    read_only: bool,
    /// Every fence variable is ON (MySQL: `super_read_only` too).
    fully_fenced: bool,
    agent_running: bool,
}

fn fence_state(node: &NodeHandle, inv: &Inventory, fresh: bool) -> Result<FenceState> {
    let d = facts::dialect(node)?;
    let var = |name: &str| -> Result<bool> {
        let v = if fresh {
            facts::fresh::<facts::server::Variable>(node, name)?
        } else {
            facts::variable(node, name)?
        };
        Ok(matches!(v.as_deref(), Some("1" | "ON")))
    };
    let mut fully_fenced = true;
    for o in d.fence_options() {
        fully_fenced &= var(o.name)?;
    }
    let (holds_vip, agent_running) = if fresh {
        (
            facts::fresh::<facts::host::InterfaceAddresses>(node, &inv.vip.interface)?
                .contains(&inv.vip.address),
            facts::fresh::<facts::fence::AgentRunning>(node, &())?,
        )
    } else {
        (
            facts::holds_vip(node, inv)?,
            facts::fence::agent_running(node)?,
        )
    };
    Ok(FenceState {
        holds_vip,
        read_only: var("read_only")?,
        fully_fenced,
        agent_running,
    })
}

/// Is the node as `writes: vip-holder` wants it?
fn enforced(s: &FenceState) -> bool {
    s.agent_running
        && if s.holds_vip {
            !s.read_only
        } else {
            s.fully_fenced
        }
}

impl Operation for WriteFencing {
    fn name(&self) -> &'static str {
        "write-fencing"
    }
    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        match self.0.inv.writes {
            WriteMode::VipHolder => plan_vip_holder(&self.0.inv, cluster, i),
            WriteMode::Both => plan_both(&self.0.inv, cluster, i),
        }
    }
}

fn plan_vip_holder(inv: &Inventory, cluster: &Cluster, i: usize) -> Result<Plan> {
    let node = &cluster.nodes[i];
    let mut s = fence_state(node, inv, false)?;
    if !enforced(&s) && s.agent_running {
        // The agent acts by itself within a second (a server that just restarted came up
        // fenced; a holder waits for its SQL thread): its work, not a change of mhactl's,
        // as the `vip` step waits for keepalived's election.
        let started = std::time::Instant::now();
        let limit = if s.holds_vip {
            AGENT_WAIT
        } else {
            Duration::from_secs(3)
        };
        let _ = crate::poll::until(limit, || {
            s = fence_state(node, inv, true)?;
            Ok(enforced(&s) || !s.agent_running)
        });
        if enforced(&s) {
            return Ok(Plan::Noop(format!(
                "{} (the fence agent made it so after {:.1} s); the fence agent runs",
                if s.holds_vip {
                    "holds the VIP: writable"
                } else {
                    "read-only (fenced: the VIP is on the peer)"
                },
                started.elapsed().as_secs_f64()
            )));
        }
        if s.holds_vip && s.agent_running {
            return Err(wait_error(node, &s));
        }
    }
    if enforced(&s) {
        return Ok(Plan::Noop(if s.holds_vip {
            "holds the VIP: writable; the fence agent runs".into()
        } else {
            "read-only (fenced: the VIP is on the peer); the fence agent runs".into()
        }));
    }
    let d = facts::dialect(node)?;
    let mut actions = Vec::new();
    let summary = if s.holds_vip {
        "wait for the fence agent to make the VIP holder writable".to_string()
    } else {
        // Fencing a node that does not hold the VIP is always safe: no need to wait.
        if !s.fully_fenced {
            actions.push(Action::Sql(d.fence_sql()));
        }
        "fence this node (it does not hold the VIP); wait for the fence agent".to_string()
    };
    let inv = inv.clone();
    actions.push(Action::Custom(
        format!(
            "wait up to {} s for the fence agent ({AGENT_PATH}, run by keepalived)",
            AGENT_WAIT.as_secs()
        ),
        Box::new(move |cluster: &Cluster, i| wait_for_agent(&cluster.nodes[i], &inv)),
    ));
    Ok(Plan::Change(Change {
        summary,
        actions,
        diff: None,
    }))
}

fn wait_for_agent(node: &NodeHandle, inv: &Inventory) -> Result<()> {
    let mut last = None;
    let done = crate::poll::until(AGENT_WAIT, || {
        let s = fence_state(node, inv, true)?;
        let ok = enforced(&s);
        last = Some(s);
        Ok(ok)
    });
    match (done, last) {
        (Ok(_), _) => Ok(()),
        (Err(e), None) => Err(e),
        (Err(_), Some(s)) => Err(wait_error(node, &s)),
    }
}

/// Why the fence is not as wanted after waiting for the agent.
fn wait_error(node: &NodeHandle, s: &FenceState) -> anyhow::Error {
    match s {
        s if !s.agent_running => anyhow!(
            "{}: keepalived does not run the fence agent {AGENT_PATH} (see keepalived's log: \
             a script it refuses under enable_script_security, or the notify FIFO {})",
            node.name,
            crate::os::fence::NOTIFY_FIFO
        ),
        s if s.holds_vip => anyhow!(
            "{}: holds the VIP but is still read-only after {} s: the fence agent waits until \
             the SQL thread has executed the relay log it received (check replication: \
             `mhactl verify`); it makes the node writable as soon as it has",
            node.name,
            AGENT_WAIT.as_secs()
        ),
        _ => anyhow!(
            "{}: not fenced within {} s although it does not hold the VIP",
            node.name,
            AGENT_WAIT.as_secs()
        ),
    }
}

fn plan_both(inv: &Inventory, cluster: &Cluster, i: usize) -> Result<Plan> {
    let node = &cluster.nodes[i];
    let d = facts::dialect(node)?;
    let (target, _) = facts::os_target(node, inv.mysql.flavor)?;
    let option_file = crate::os::fence::option_file_path(&target);
    let agent_file = facts::host::rendered_file(node, AGENT_PATH)?.is_some();
    let login = facts::fence::login(node, option_file)?;
    let account = facts::accounts::account_exists(node, crate::dialect::FENCE_USER, "localhost")?;
    let s = fence_state(node, inv, false)?;
    let mut what = Vec::new();
    let mut actions = Vec::new();
    if s.agent_running {
        // keepalived's reload (step `keepalived`) terminates it; it may take a moment.
        actions.push(Action::Custom(
            "wait until keepalived no longer runs the fence agent".into(),
            Box::new(|cluster: &Cluster, i| {
                let node = &cluster.nodes[i];
                crate::poll::until(Duration::from_secs(10), || {
                    Ok(!facts::fresh::<facts::fence::AgentRunning>(node, &())?)
                })
                .map_err(|_| {
                    anyhow!(
                        "{}: the fence agent still runs 10 s after keepalived's reload",
                        node.name
                    )
                })
            }),
        ));
        what.push("wait for the fence agent to stop".to_string());
    }
    // Until keepalived's reload ends it, the agent of a passive node switches its
    // semi-sync source side off a few seconds after its fence (its own timer), which can
    // land after step `semi-sync` switched it on (seen at load 30: the next run changed
    // it again). Once the agent is gone (waited for above), on for good.
    let source_off = if d.semi_sync_source_follows_vip(inv.mysql.semi_sync, WriteMode::VipHolder) {
        let name = d.semi_sync_names().source_enabled;
        let on = matches!(facts::variable(node, name)?.as_deref(), Some("1" | "ON"));
        (s.agent_running || !on).then_some(name)
    } else {
        None
    };
    if s.read_only || s.fully_fenced || s.agent_running {
        actions.push(Action::Sql(d.unfence_sql()));
        what.push("make the server writable (writes: both)".into());
    }
    if let Some(name) = source_off {
        actions.push(Action::Sql(vec![d.set_semi_sync_sql(name, "ON")?]));
        what.push(format!(
            "{name} = ON (the fence agent switched it until it stopped)"
        ));
    }
    if account {
        actions.push(Action::Sql(d.drop_fence_account_sql()));
        what.push(format!(
            "drop {}",
            crate::dialect::quote_account(crate::dialect::FENCE_USER, "localhost")
        ));
    }
    if agent_file || login != FenceLogin::NoFile {
        actions.push(Action::Run(RemoteCommand::new(format!(
            "{}; {}",
            crate::os::fence::remove_agent_command(),
            crate::os::files::remove_file_command(option_file)
        ))));
        what.push(format!("remove {AGENT_PATH} and {option_file}"));
    }
    if what.is_empty() {
        return Ok(Plan::Noop(
            "writes: both: writable, no fence agent (both nodes writable by design)".into(),
        ));
    }
    Ok(Plan::Change(Change {
        summary: what.join(", "),
        actions,
        diff: None,
    }))
}
