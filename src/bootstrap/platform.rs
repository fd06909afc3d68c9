//! Before any step runs: is the inventory's MySQL series published for each node's OS
//! release ([`crate::os::mysql_platform`])? A refusal stops bootstrap with exit 2,
//! naming `mysql.version` and the node; a warning is printed and bootstrap goes on.
//! Also the signing keys install-packages imports before yum checks the MySQL
//! repository's packages ([`key_imports`]).

use crate::cli::UsageError;
use crate::engine::{Action, Cluster, NodeHandle};
use crate::facts;
use crate::inventory::{Flavor, Inventory};
use crate::os::mysql_platform::{
    import_key_command, keys_to_import, mysql_series_on, PlatformVerdict,
};
use crate::os::{MysqlSeries, OsTarget};
use crate::transport::{shell_quote, RemoteCommand};
use anyhow::Result;

/// The warnings to print; an error (exit 2) when a node's OS cannot have the series.
/// A node whose OS cannot be read is left to the steps (detect-os names the problem).
pub fn check(cluster: &Cluster, inv: &Inventory) -> Result<Vec<String>> {
    if inv.mysql.flavor != Flavor::Mysql {
        return Ok(Vec::new());
    }
    let own_source = inv.packages.repository.is_some() || inv.packages.mysql_release_rpm.is_some();
    let mut warnings = Vec::new();
    let mut refusals = Vec::new();
    for node in &cluster.nodes {
        let Ok((target, _)) = facts::os_target(node, inv.mysql.flavor) else {
            continue;
        };
        match mysql_series_on(target.family, inv.mysql.version.as_deref(), own_source) {
            PlatformVerdict::Fine => {}
            PlatformVerdict::Warn(w) => warnings.push(format!("{}: {w}", node.name)),
            PlatformVerdict::Refuse(r) => refusals.push(format!("{}: {r}", node.name)),
        }
    }
    if !refusals.is_empty() {
        return Err(UsageError(format!("nothing was changed: {}", refusals.join("; "))).into());
    }
    Ok(warnings)
}

/// The keys the MySQL repository's packages are signed with but its setup RPM's `.repo`
/// does not list (EL7, 5.7.37+), when the node has not imported them: the actions and
/// what they do.
pub fn key_imports(
    inv: &Inventory,
    node: &NodeHandle,
    target: &OsTarget,
    series: MysqlSeries,
) -> Result<(Vec<Action>, Vec<String>)> {
    let mut actions = Vec::new();
    let mut what = Vec::new();
    for (rpm_name, source) in
        keys_to_import(target.family, series, inv.packages.mysql_gpg_key.as_deref())
    {
        let have = node.transport.run(&RemoteCommand::new(format!(
            "rpm -q {} >/dev/null 2>&1",
            shell_quote(rpm_name)
        )))?;
        if !have.success() {
            actions.push(Action::Run(RemoteCommand::new(import_key_command(
                rpm_name, &source,
            ))));
            what.push(format!(
                "import the MySQL signing key {rpm_name} ({source})"
            ));
        }
    }
    Ok((actions, what))
}
