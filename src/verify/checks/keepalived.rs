//! keepalived: `keepalived` (running), `keepalived-config` (the files as rendered, the
//! script's SELinux type) and `keepalived-pair` (the two files agree on what makes
//! failover safe). These need no SQL: they run even when the server does not answer.

use crate::facts;
use crate::os::KEEPALIVED_SERVICE;
use crate::verify::keepalived_conf;
use crate::verify::registry::{CheckKind, Fact, NodeCtx, PairCtx, Run, Scope, When};
use crate::verify::{Check, Severity};
use anyhow::{anyhow, Result};

/// `keepalived`: the service is running.
pub const KEEPALIVED: CheckKind = CheckKind {
    name: "keepalived",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::OsRelease, Fact::Service],
    when: When::Always,
    run: Run::Host(|c| Some(keepalived(c))),
};

/// `keepalived-config`: keepalived.conf and the health-check script as rendered.
pub const KEEPALIVED_CONFIG: CheckKind = CheckKind {
    name: "keepalived-config",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::RenderedFile, Fact::SelinuxLabel, Fact::Service],
    when: When::Always,
    run: Run::Host(|c| Some(keepalived_config(c))),
};

/// `keepalived-pair`: both keepalived.conf files agree.
pub const KEEPALIVED_PAIR: CheckKind = CheckKind {
    name: "keepalived-pair",
    severity: Severity::Error,
    scope: Scope::Pair,
    reads: &[Fact::OsRelease, Fact::RenderedFile],
    when: When::Always,
    run: Run::Pair(|c| Some(keepalived_pair(c))),
};

fn keepalived(c: &NodeCtx) -> Result<Check> {
    let (node, n) = (c.node, c.node.name.as_str());
    let services = facts::os_target(node, c.inv.mysql.flavor)?.1;
    Ok(
        if facts::service_active(node, services, KEEPALIVED_SERVICE)? {
            KEEPALIVED.pass(n, "running")
        } else {
            KEEPALIVED.fail(
                n,
                "keepalived is not running: this node cannot take the VIP",
            )
        },
    )
}

fn keepalived_config(c: &NodeCtx) -> Result<Check> {
    let (node, n, target, inv) = (c.node, c.node.name.as_str(), c.target, c.inv);
    let name = KEEPALIVED_CONFIG.name;
    let options = facts::host::keepalived_options(node)?;
    let wanted = crate::render::render_keepalived_conf_with(inv, node.index, &options)?;
    let conf = super::drift_check(name, node, target.keepalived_conf_path(), &wanted)?;
    if !conf.ok {
        return Ok(conf);
    }
    // The health check keepalived runs: the script as rendered, and under SELinux
    // with the type that lets it reach mysqld.
    let script_path = target.check_script_path();
    let script = crate::render::render_check_script(inv, target)?;
    let script_check = super::drift_check(name, node, script_path, &script)?;
    if !script_check.ok {
        return Ok(script_check);
    }
    if let crate::os::selinux::CheckScriptLabel::Enforcing(ty) =
        facts::packages::check_script_label(node, script_path)?
    {
        let want = crate::os::selinux::CHECK_SCRIPT_SELINUX_TYPE;
        if ty != want {
            return Ok(KEEPALIVED_CONFIG.fail(
                n,
                format!(
                    "{script_path} has SELinux type {ty}, not {want}: keepalived runs it \
                     confined and the health check cannot reach mysqld (bootstrap relabels it)"
                ),
            ));
        }
    }
    Ok(KEEPALIVED_CONFIG.pass(
        n,
        format!(
            "{} and {script_path} match the inventory",
            target.keepalived_conf_path()
        ),
    ))
}

/// The two keepalived.conf files as they are on disk (whoever wrote them) agree on
/// what makes failover safe: same router id, distinct priorities, BACKUP + nopreempt,
/// a health check, the inventory's VIP.
fn keepalived_pair(c: &PairCtx) -> Result<Check> {
    let cluster = c.cluster;
    let mut parsed = Vec::new();
    for node in &cluster.nodes {
        let (target, _) = facts::os_target(node, c.inv.mysql.flavor)?;
        let path = target.keepalived_conf_path();
        let text = facts::host::rendered_file(node, path)?
            .ok_or_else(|| anyhow!("{}: {path} is missing", node.name))?;
        parsed.push(
            keepalived_conf::parse(&text)
                .ok_or_else(|| anyhow!("{}: {path} has no vrrp_instance", node.name))?,
        );
    }
    let names = [
        cluster.nodes[0].name.as_str(),
        cluster.nodes[1].name.as_str(),
    ];
    let problems = keepalived_conf::pair_problems(
        &parsed[0],
        &parsed[1],
        names,
        &c.inv.vip.address.to_string(),
    );
    Ok(if problems.is_empty() {
        KEEPALIVED_PAIR.pass(
            "cluster",
            format!(
                "virtual_router_id {}, priorities {} and {}, BACKUP with nopreempt, health check tracked",
                parsed[0].virtual_router_id.unwrap_or(0),
                parsed[0].priority.unwrap_or(0),
                parsed[1].priority.unwrap_or(0)
            ),
        )
    } else {
        KEEPALIVED_PAIR.fail("cluster", problems.join("\n"))
    })
}
