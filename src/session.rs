//! The preamble of every command that talks to the nodes, written once: load the
//! inventory, resolve its secrets, connect to both nodes. A command that changes the
//! nodes also takes each node's lock and, from before connecting, lets a signal stop it
//! only between its steps ([`crate::interrupt::Cooperative`]).
//!
//! [`Session::open`] does all of it for the common case; commands with checks of their
//! own between the stages (reinit refuses bad arguments before resolving a secret and a
//! MySQL pair without a root password before connecting) call [`load`],
//! [`resolve_secrets`] and [`Session::connect`] themselves, and read-only commands that
//! connect more than once (verify `--wait`, status) use [`connect`].

use crate::connect::ConnectOptions;
use crate::engine::{Cluster, StepReport};
use crate::global::GlobalArgs;
use crate::interrupt::Cooperative;
use crate::inventory::{self, Inventory, Secrets};
use crate::report::Progress;
use anyhow::Result;
use std::io::IsTerminal;
use std::path::Path;

/// How a command connects.
#[derive(Debug, Clone, Copy, Default)]
pub struct Opening {
    /// Take each node's lock for this command, and make the run cooperative (a signal
    /// stops it between steps): set by every command that changes the nodes.
    pub lock_for: Option<&'static str>,
    /// Show progress per node (a command that runs steps); otherwise the connect step
    /// is not shown.
    pub show_nodes: bool,
    /// With one node unreachable, connect the other anyway (its checks still run):
    /// [`crate::connect::connect_reachable`].
    pub reachable_only: bool,
}

/// An open connection to the pair (or to what answered of it).
pub struct Connected {
    /// Both nodes (with `reachable_only`, also one of them), or `None`.
    pub cluster: Option<Cluster>,
    /// The connect step's report per node.
    pub reports: Vec<StepReport>,
    /// Indices of the nodes that could not be reached (only with `reachable_only`).
    pub unreachable: Vec<usize>,
    /// Where the run's progress goes.
    pub progress: Progress,
    // Last, so that it ends after the connections are dropped.
    _cooperative: Option<Cooperative>,
}

/// A loaded inventory, its secrets, and the connection.
pub struct Session {
    /// The inventory.
    pub inv: Inventory,
    /// Its resolved secrets.
    pub secrets: Secrets,
    /// The connection to the nodes.
    pub connected: Connected,
}

impl Session {
    /// Load the global inventory, resolve its secrets and connect (progress not shown).
    pub fn open(global: &GlobalArgs, lock_for: Option<&'static str>) -> Result<Session> {
        let inv = load(&global.inventory)?;
        let secrets = resolve_secrets(&inv)?;
        let opening = Opening {
            lock_for,
            ..Opening::default()
        };
        Ok(Session::connect(inv, secrets, global, &opening))
    }

    /// Connect with an inventory and secrets already in hand.
    pub fn connect(
        inv: Inventory,
        secrets: Secrets,
        global: &GlobalArgs,
        opening: &Opening,
    ) -> Session {
        let connected = connect(&inv, &secrets, global, opening);
        Session {
            inv,
            secrets,
            connected,
        }
    }
}

/// Load and validate the inventory at `path` for a command that connects to the nodes:
/// also the control host's files ssh needs must exist (errors are usage errors: exit 2).
pub fn load(path: &Path) -> Result<Inventory> {
    let inv = inventory::load(path)?;
    inventory::check_local_files(&inv).map_err(|msg| {
        anyhow::Error::new(crate::error::UsageError(format!(
            "{}: {msg}",
            path.display()
        )))
    })?;
    Ok(inv)
}

/// Resolve the inventory's secrets, prompting only on a terminal.
pub fn resolve_secrets(inv: &Inventory) -> Result<Secrets> {
    Secrets::resolve(inv, std::io::stdin().is_terminal())
}

/// The connect options the global flags and the command's lock give.
pub fn connect_options(global: &GlobalArgs, lock_for: Option<&'static str>) -> ConnectOptions {
    ConnectOptions {
        accept_new_host_keys: global.accept_new_host_keys,
        lock_for,
    }
}

/// Connect to the nodes of `inv` as `opening` says.
pub fn connect(
    inv: &Inventory,
    secrets: &Secrets,
    global: &GlobalArgs,
    opening: &Opening,
) -> Connected {
    // Before connecting: a signal during the connect (or the lock) stops cleanly.
    let cooperative = opening.lock_for.map(|_| Cooperative::begin());
    let progress = if opening.show_nodes {
        let names: Vec<String> = inv.nodes.iter().map(|n| n.name.clone()).collect();
        Progress::new(&global.report_options(), &names)
    } else {
        Progress::new(&global.report_options().quiet(), &[])
    };
    // Before connecting: the first login tries the server's socket of the last run.
    remember_reads(inv, secrets);
    let options = connect_options(global, opening.lock_for);
    let (cluster, reports, unreachable) = if opening.reachable_only {
        crate::connect::connect_reachable(inv, secrets, &options, &progress)
    } else {
        let (cluster, reports) = crate::connect::connect(inv, secrets, &options, &progress);
        (cluster, reports, Vec::new())
    };
    Connected {
        cluster,
        reports,
        unreachable,
        progress,
        _cooperative: cooperative,
    }
}

/// Keep the list of what this command reads on the nodes for its next run
/// ([`crate::facts::remembered`]), in `~/.mhactl/reads`, unless every node's
/// `ssh.persist_s` is 0 (nothing kept between runs) or the directory is not the user's.
fn remember_reads(inv: &Inventory, secrets: &Secrets) {
    let Some(command) = crate::json_out::command() else {
        return;
    };
    let ssh: Vec<_> = (0..inv.nodes.len()).map(|i| inv.ssh_for(i)).collect();
    if ssh.iter().all(|s| s.persist.is_zero()) {
        return;
    }
    let Some(dir) = crate::transport::ssh::master::control_base()
        .and_then(|cp| cp.parent().map(|p| p.join("reads")))
    else {
        return;
    };
    if let Err(e) = crate::transport::ssh::master::private_dir(&dir) {
        tracing::debug!("not remembering this run's reads: {e:#}");
        return;
    }
    let key = std::iter::once(inv.cluster.clone())
        .chain(inv.nodes.iter().zip(&ssh).map(|(n, s)| {
            format!(
                "{} {} {}@{}:{}",
                n.name,
                n.address,
                s.user.as_deref().unwrap_or(""),
                s.host,
                s.port.unwrap_or(22)
            )
        }))
        .collect::<Vec<_>>()
        .join("\n");
    let secrets: Vec<String> = secrets.values().into_iter().map(str::to_string).collect();
    crate::facts::remembered::enable(&dir, command, &key, &secrets);
}
