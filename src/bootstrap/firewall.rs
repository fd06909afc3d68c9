//! Steps `firewall` and `selinux` (the runbook turns both off; mhactl leaves them on).
//!
//! `firewall` detects firewalld (`firewall-cmd --state`), ufw (`ufw status verbose`) or a
//! plain nftables/iptables ruleset whose input policy drops. With firewalld or ufw it
//! opens exactly what the pair needs, querying before adding: the MySQL port over TCP
//! from the peer and from the `access.users` networks, and VRRP (IP protocol 112) from
//! the peer. A raw default-drop ruleset is not edited: the step stops with the list of
//! what to open. Without a firewall it is a Noop. `firewall: manual` skips all of it.
//!
//! `selinux` detects `getenforce`; in enforcing mode the packaged contexts cover the
//! default datadir and port 3306, a non-default port is labelled `mysqld_port_t`, and
//! the inventory's datadir, socket, pid file and error log get `semanage fcontext`
//! rules and are relabelled ([`selinux_labels`]).

use super::steps::Ctx;
use crate::engine::{file_diff, Action, Change, Cluster, Operation, Plan};
use crate::inventory::{FirewallMode, Inventory, Network};
use crate::transport::{RemoteCommand, Transport};
use anyhow::{bail, Result};
use std::sync::Arc;

use crate::os::firewall;
pub use crate::os::firewall::{
    iptables_default_drop, nft_default_drop, ufw_allows, ufw_before_rules_with_vrrp, ufw_state,
    ufw_vrrp_line, Opening, FIREWALLD_STATE, IPTABLES_INPUT, NFT_RULESET, NOT_INSTALLED,
    UFW_BEFORE_RULES, UFW_STATUS,
};
use crate::os::selinux::port_is_mysqld_default;
pub use crate::os::selinux::{
    context_type, contexts_command, datadir_context_spec, fcontext_listed, fcontext_rule_command,
    semanage_port_labelled, GETENFORCE, SEMANAGE_FCONTEXT_LOCAL, SEMANAGE_PORTS,
};

/// The packaged datadir, whose SELinux context (mysqld_db_t) the policy already sets.
pub const DEFAULT_DATADIR: &str = "/var/lib/mysql";

/// What node `i` needs open: the MySQL port and VRRP from the peer, and the MySQL port
/// from every `access.users` network (clients reach either node through the VIP).
pub fn openings(inv: &Inventory, i: usize) -> Vec<Opening> {
    let peer = inv.peer(i);
    let port = inv.mysql.port;
    let mut v = vec![
        Opening {
            tcp_port: Some(port),
            source: Some(peer.address.to_string()),
            why: format!("replication from {}", peer.name),
        },
        Opening {
            tcp_port: None,
            source: Some(peer.address.to_string()),
            why: format!("keepalived on {}", peer.name),
        },
    ];
    for u in &inv.access.users {
        for n in &u.networks {
            let Ok(net) = crate::inventory::parse_network(n) else {
                continue;
            };
            let source = net.firewall_source();
            if matches!(net, Network::Host(a) if a == peer.address) {
                continue;
            }
            if let Some(o) = v
                .iter_mut()
                .find(|o| o.tcp_port == Some(port) && o.source == source)
            {
                if !o.why.contains(&u.name) && o.why.starts_with("clients") {
                    o.why.push_str(&format!(", {}", u.name));
                }
                continue;
            }
            v.push(Opening {
                tcp_port: Some(port),
                source,
                why: format!("clients of access.users {}", u.name),
            });
        }
    }
    v
}

fn run(t: &dyn Transport, script: &str) -> Result<crate::transport::CommandOutput> {
    t.run(&RemoteCommand::new(script))
}

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
    let state = run(t, FIREWALLD_STATE)?;
    if state.success() && state.stdout.trim() == "running" {
        return plan_firewalld(inv, t, &wanted);
    }
    let ufw = run(t, UFW_STATUS)?;
    if ufw.success() {
        let (active, incoming) = ufw_state(&ufw.stdout);
        if active {
            return plan_ufw(inv, t, i, &ufw.stdout, &incoming, &wanted);
        }
    }
    let nft = run(t, NFT_RULESET)?;
    let drop = if nft.success() {
        nft_default_drop(&nft.stdout).map(|c| format!("nftables ruleset ({c})"))
    } else {
        None
    };
    let drop = match drop {
        Some(d) => Some(d),
        None => {
            let ipt = run(t, IPTABLES_INPUT)?;
            (ipt.success() && iptables_default_drop(&ipt.stdout))
                .then(|| "iptables INPUT chain".to_string())
        }
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
    let zone_out = run(t, &firewall::firewalld_zone_command(&inv.vip.interface))?;
    let zone = zone_out.stdout.trim().to_string();
    if zone.is_empty() || !zone_out.success() {
        bail!(
            "firewalld runs, but neither the zone of {} nor the default zone is known",
            inv.vip.interface
        );
    }
    let list = t.run_ok(&RemoteCommand::new(firewall::firewalld_list_command(&zone)))?;
    let target = list
        .lines()
        .find_map(|l| l.trim().strip_prefix("target:"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
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
            let q = run(
                t,
                &firewall::firewalld_query_rule_command(&zone, &rule, permanent),
            )?;
            if !q.success() {
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
        return Ok(Plan::Noop(
            "ufw is active and allows incoming traffic by default: nothing to open".into(),
        ));
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
                let current = t
                    .read_file(std::path::Path::new(UFW_BEFORE_RULES))?
                    .unwrap_or_default();
                match ufw_before_rules_with_vrrp(&current, &peer) {
                    None if current.lines().any(|l| l.trim() == ufw_vrrp_line(&peer)) => {
                        fine.push(o.describe());
                    }
                    None => bail!(
                        "ufw is active but {UFW_BEFORE_RULES} has no COMMIT line to add the \
                         VRRP rule before; allow IP protocol 112 from {peer} by hand"
                    ),
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
        return Ok(Plan::Noop(format!("ufw allows {}", fine.join("; "))));
    }
    Ok(Plan::Change(Change {
        summary: format!("ufw: {}", what.join("; ")),
        actions,
        diff,
    }))
}

/// The `selinux` step.
pub struct Selinux(pub Arc<Ctx>);

impl Operation for Selinux {
    fn name(&self) -> &'static str {
        "selinux"
    }

    fn plan(&self, cluster: &Cluster, i: usize) -> Result<Plan> {
        plan_selinux(&self.0.inv, cluster.nodes[i].transport.as_ref())
    }
}

/// One file context the inventory's paths need.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLabel {
    /// Inventory field.
    pub field: &'static str,
    /// `semanage fcontext` file spec (`/data/mysql(/.*)?`, or one file's path).
    pub spec: String,
    /// SELinux type (`mysqld_db_t`).
    pub selinux_type: &'static str,
    /// The path to relabel (a directory, created when missing, or one file).
    pub path: String,
    /// `path` is a directory of its own (else a file in a shared directory).
    pub is_dir: bool,
}

/// The file contexts for the inventory's non-default datadir (mysqld_db_t), socket and
/// pid file directories (mysqld_var_run_t) and error log directory (mysqld_log_t). A
/// file directly in a shared directory (`/tmp/mysql.sock`) is labelled alone.
pub fn selinux_labels(inv: &Inventory) -> Vec<FileLabel> {
    super::paths::server_paths(inv)
        .into_iter()
        .map(|p| match &p.dir {
            Some(d) => FileLabel {
                field: p.field,
                spec: datadir_context_spec(d),
                selinux_type: p.kind.selinux_type(),
                path: d.clone(),
                is_dir: true,
            },
            None => FileLabel {
                field: p.field,
                spec: p.path.clone(),
                selinux_type: p.kind.selinux_type(),
                path: p.path.clone(),
                is_dir: false,
            },
        })
        .collect()
}

/// Plan SELinux for a node: a non-default `mysql.port` gets mysqld_port_t; the
/// inventory's non-default datadir, socket, pid file and error log get their file
/// contexts ([`selinux_labels`]), and their directories are created (root's, until the
/// later steps give them to mysql) and relabelled, so that what mysqld creates in them
/// inherits the right type.
pub fn plan_selinux(inv: &Inventory, t: &dyn Transport) -> Result<Plan> {
    let out = run(t, GETENFORCE)?;
    if out.status == NOT_INSTALLED {
        return Ok(Plan::Noop("SELinux is not installed".into()));
    }
    let mode = out.stdout.trim().to_string();
    if mode != "Enforcing" {
        return Ok(Plan::Noop(format!(
            "SELinux {}: nothing is blocked",
            if mode.is_empty() {
                "state unknown"
            } else {
                mode.as_str()
            }
        )));
    }
    let port = inv.mysql.port;
    let mut actions = Vec::new();
    let mut what = Vec::new();
    if !port_is_mysqld_default(port) {
        let ports = run(t, SEMANAGE_PORTS)?;
        if ports.status == NOT_INSTALLED {
            bail!(
                "SELinux is enforcing and mysql.port {port} is not a MySQL port in the policy: \
                 install semanage (policycoreutils-python-utils) so mhactl can label it, or \
                 run `semanage port -a -t mysqld_port_t -p tcp {port}`"
            );
        }
        if !semanage_port_labelled(&ports.stdout, "mysqld_port_t", port) {
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::selinux::label_port_command(port),
            )));
            what.push(format!("label tcp port {port} mysqld_port_t"));
        }
    }
    let labels = selinux_labels(inv);
    let mut labelled = Vec::new();
    if !labels.is_empty() {
        let listed = run(t, SEMANAGE_FCONTEXT_LOCAL)?;
        if listed.status == NOT_INSTALLED {
            let fields: Vec<&str> = labels.iter().map(|l| l.field).collect();
            bail!(
                "SELinux is enforcing and {} {} not in the policy's MySQL paths: install semanage \
                 (policycoreutils-python-utils) so mhactl can label them, or label them yourself \
                 (`semanage fcontext -a -t {} '{}'`, then `restorecon -R`)",
                fields.join(", "),
                if fields.len() == 1 { "is" } else { "are" },
                labels[0].selinux_type,
                labels[0].spec
            );
        }
        let paths: Vec<&str> = labels.iter().map(|l| l.path.as_str()).collect();
        let contexts = t.run_ok(&RemoteCommand::new(contexts_command(&paths)))?;
        for l in &labels {
            let rule_ok = fcontext_listed(&listed.stdout, &l.spec, l.selinux_type);
            let current = context_type(&contexts, &l.path);
            // Only the data directory is created here (empty and root's until
            // data-directory initialises it); the server's other directories are created
            // for mysql by server-paths, which labels them (the ownership rule of
            // `path_safety` refuses existing root-owned ones).
            let creates = l.is_dir && l.field == "mysql.datadir";
            let context_ok = match &current {
                Some(ty) => ty == l.selinux_type,
                None => !creates,
            };
            if rule_ok && context_ok {
                labelled.push(format!("{} {}", l.path, l.selinux_type));
                continue;
            }
            if !rule_ok {
                actions.push(Action::Run(RemoteCommand::new(fcontext_rule_command(
                    l.selinux_type,
                    &l.spec,
                ))));
            }
            actions.push(Action::Run(RemoteCommand::new(
                crate::os::selinux::restorecon_command(&l.path, creates, l.is_dir),
            )));
            what.push(format!("label {} {} ({})", l.path, l.selinux_type, l.field));
        }
    }
    if actions.is_empty() {
        let paths = if labelled.is_empty() {
            format!("default contexts apply (datadir {DEFAULT_DATADIR})")
        } else {
            format!("labelled: {}", labelled.join(", "))
        };
        return Ok(Plan::Noop(format!(
            "SELinux enforcing; {paths}; port {port} is mysqld_port_t"
        )));
    }
    Ok(Plan::Change(Change {
        summary: format!("SELinux enforcing: {}", what.join(", ")),
        actions,
        diff: None,
    }))
}
