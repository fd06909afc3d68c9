//! Before any step runs: is the inventory's MySQL series published for each node's OS
//! release ([`crate::os::mysql_platform`])? A refusal stops bootstrap with exit 2,
//! naming `mysql.version` and the node; a warning is printed and bootstrap goes on.
//! Also the signing keys install-packages imports before yum checks the MySQL
//! repository's packages ([`key_imports`]).

use crate::engine::{Action, Cluster, NodeHandle};
use crate::error::UsageError;
use crate::facts;
use crate::inventory::Inventory;
use crate::os::mysql_platform::{
    import_key_command, keys_to_import, mysql_series_on, PlatformVerdict,
};
use crate::os::{MysqlSeries, OsTarget};
use crate::transport::RemoteCommand;
use anyhow::Result;

/// The warnings to print; an error (exit 2) when a node's OS cannot have the series.
/// A node whose OS cannot be read is left to the steps (detect-os names the problem).
pub fn check(cluster: &Cluster, inv: &Inventory) -> Result<Vec<String>> {
    if !inv.mysql.flavor.installs_from_vendor_yum_repository() {
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
        if !crate::facts::get::<crate::facts::packages::SigningKeyInstalled>(node, rpm_name)? {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::fake::FakeTransport;
    use crate::transport::Transport;
    use std::sync::Arc;

    fn inventory(version: &str) -> Inventory {
        crate::inventory::parse(
            &format!(
                "cluster: shop\nnodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db2\n    address: 10.0.0.12\n\
                 vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
                 mysql:\n  flavor: mysql\n  version: \"{version}\"\n\
                 credentials:\n  replication_password_env: X\n  root_password_env: Y\n"
            ),
            "inventory.yaml",
        )
        .unwrap()
    }

    fn cluster(os_release: [&str; 2]) -> (Cluster, Vec<Arc<FakeTransport>>) {
        let fakes: Vec<Arc<FakeTransport>> = ["db1", "db2"]
            .iter()
            .zip(os_release)
            .map(|(name, os)| {
                let t = Arc::new(FakeTransport::new(name));
                t.on("/etc/os-release", 0, os);
                t.on("echo systemd; else echo sysv", 0, "systemd\n");
                t
            })
            .collect();
        let nodes = fakes
            .iter()
            .enumerate()
            .map(|(i, t)| {
                NodeHandle::new(i, ["db1", "db2"][i], t.clone() as Arc<dyn Transport>, None)
            })
            .collect();
        (
            Cluster {
                nodes,
                secrets: Vec::new(),
            },
            fakes,
        )
    }

    const CENTOS_7: &str = include_str!("../../tests/fixtures/os/centos-7");
    const ROCKY_8: &str = include_str!("../../tests/fixtures/os/rocky-8");
    const ROCKY_9: &str = include_str!("../../tests/fixtures/os/rocky-9");

    /// MySQL 9.x on an EL7 node: exit 2 (a usage error) naming the node and the field,
    /// having read nothing but the OS facts.
    #[test]
    fn nine_on_el7_is_refused_before_any_step() {
        let (c, fakes) = cluster([CENTOS_7, ROCKY_9]);
        let err = check(&c, &inventory("9.7")).unwrap_err();
        assert!(err.chain().any(|e| e.is::<UsageError>()), "{err:#}");
        let msg = format!("{err:#}");
        assert!(
            msg.starts_with(
                "nothing was changed: db1: mysql.version 9.7: MySQL 9.x is not published for EL7"
            ),
            "{msg}"
        );
        assert!(!msg.contains("db2"), "{msg}");
        for t in fakes {
            for cmd in t.commands() {
                assert!(
                    cmd.script.contains("/etc/os-release") || cmd.script.contains("echo systemd"),
                    "ran more than the OS probes: {}",
                    cmd.script
                );
            }
        }
        // 5.7 and 8.0 on EL7 are fine; 9.x on EL8 is a warning.
        assert!(check(&c, &inventory("5.7")).unwrap().is_empty());
        let (c8, _) = cluster([ROCKY_8, ROCKY_9]);
        let warnings = check(&c8, &inventory("9.7")).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert!(
            warnings[0].starts_with("db1: mysql.version 9.7 on EL8"),
            "{warnings:?}"
        );
    }
}
