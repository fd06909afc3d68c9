//! Operations planned from fact values alone (pyinfra's `tests/operations/`): each case
//! puts fact values into the nodes' caches ([`facts::remember`]) and plans one step on
//! nodes whose fake transport and server have no rule at all, so a step that read
//! anything except through a fact would panic; the expected plan is independent of any
//! command's or query's text.

use crate::bootstrap::steps_tests::{ctx, step_of};
use crate::engine::{Cluster, NodeHandle, Plan};
use crate::facts::{self, host, packages};
use crate::os::selinux::CheckScriptLabel;
use crate::os::{OsFamily, OsInfo, PackageManager, ServiceManager};
use crate::transport::fake::{FakeSql, FakeTransport};
use std::sync::Arc;

/// Two nodes that answer nothing, with Debian 12 and SysV already known.
fn silent_pair() -> Cluster {
    pair_of([FakeTransport::new("node-a"), FakeTransport::new("node-b")])
}

/// Two nodes (node-a, node-b) answering through `fakes`, with Debian 12 and SysV already
/// known.
pub(super) fn pair_of(fakes: [FakeTransport; 2]) -> Cluster {
    let nodes = fakes
        .into_iter()
        .zip(["node-a", "node-b"])
        .enumerate()
        .map(|(i, (fake, name))| {
            let node = NodeHandle::new(i, name, Arc::new(fake), Some(FakeSql::new().connector()));
            let debian = OsInfo {
                family: OsFamily::Debian,
                id: "debian".into(),
                version_id: "12".into(),
                pretty_name: "Debian GNU/Linux 12 (bookworm)".into(),
            };
            facts::remember::<host::OsReleaseFact>(&node, &(), Some(debian));
            facts::remember::<host::ServiceManagerFact>(&node, &(), ServiceManager::SysV);
            node
        })
        .collect();
    Cluster {
        nodes,
        secrets: vec![],
    }
}

/// The plan's summary line: `noop: why` or `change: what`.
fn plan(cluster: &Cluster, step: &str) -> String {
    let op = step_of(ctx(), step);
    match facts::cached(|| op.plan(cluster, 0)).expect("plans") {
        Plan::Noop(why) => format!("noop: {why}"),
        Plan::Change(c) => format!("change: {}", c.summary),
    }
}

const WANTED: &[&str] = &["mariadb-server", "mariadb-client", "keepalived"];

#[test]
fn install_packages_from_the_missing_packages_fact() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[],
            "noop: installed: mariadb-server, mariadb-client, keepalived",
        ),
        (&["keepalived"], "change: install keepalived"),
    ];
    for (missing, want) in cases {
        let c = silent_pair();
        facts::remember::<packages::MissingPackages>(
            &c.nodes[0],
            &packages::PackagesArg {
                pm: PackageManager::Apt,
                wanted: WANTED.to_vec(),
            },
            missing.iter().map(|p| p.to_string()).collect(),
        );
        assert_eq!(plan(&c, "install-packages"), *want, "missing {missing:?}");
    }
}

#[test]
fn keepalived_from_its_files_service_and_label_facts() {
    let ctx = ctx();
    let inv = &ctx.inv;
    let target =
        crate::os::OsTarget::new(OsFamily::Debian, crate::inventory::Flavor::Mariadb).unwrap();
    let conf = crate::render::render_keepalived_conf(inv, 0).unwrap();
    let script = crate::render::render_check_script(inv, &target).unwrap();
    let cases: &[(Option<&str>, bool, &str)] = &[
        (
            Some(conf.as_str()),
            true,
            "noop: /etc/keepalived/keepalived.conf up to date; keepalived running",
        ),
        (Some(conf.as_str()), false, "change: start keepalived"),
        (None, true, "change: write /etc/keepalived/keepalived.conf"),
    ];
    for (current, running, want) in cases {
        let c = silent_pair();
        keepalived_facts(&c.nodes[0], *current, &script, *running);
        // A peer without keepalived.conf (bare): nothing to wait for.
        facts::remember::<host::RenderedFile>(
            &c.nodes[1],
            std::path::Path::new(target.keepalived_conf_path()),
            None,
        );
        let got = plan(&c, "keepalived");
        assert!(
            got.starts_with(want),
            "running {running}, conf {}: {got}",
            current.is_some()
        );
    }
}

/// A pair built by hand whose VIP holder handed the VIP over by stopping its keepalived
/// (server-config): node-a's keepalived (the runbook's configuration, stopped) starts
/// only once node-b, which holds the VIP under the runbook's multicast configuration,
/// runs mhactl's unicast one; the two would not hear each other and both take the VIP.
#[test]
fn keepalived_of_a_hand_built_pair_starts_after_the_peer_holding_the_vip_is_converted() {
    let ctx = ctx();
    let inv = &ctx.inv;
    let target =
        crate::os::OsTarget::new(OsFamily::Debian, crate::inventory::Flavor::Mariadb).unwrap();
    let mhactls = crate::render::render_keepalived_conf(inv, 1).unwrap();
    let runbook = "vrrp_instance VI_1 {\n    state BACKUP\n    nopreempt\n}\n";
    let script = crate::render::render_check_script(inv, &target).unwrap();
    // (this node's file, the peer's file, waits): a re-run after a conversion that failed
    // half-way finds mhactl's file here already; the peer's address owner's file (a
    // conversion interrupted half-way) is not its final one.
    let owner = owner_conf(inv);
    let cases = [
        (runbook, runbook, true),
        (runbook, mhactls.as_str(), false),
        (mhactls.as_str(), runbook, true),
        (runbook, owner.as_str(), true),
    ];
    for (own, peer_conf, want_wait) in cases {
        let c = silent_pair();
        keepalived_facts(&c.nodes[0], Some(own), &script, false);
        facts::remember::<host::RenderedFile>(
            &c.nodes[1],
            std::path::Path::new(target.keepalived_conf_path()),
            Some(peer_conf.to_string()),
        );
        facts::remember::<host::InterfaceAddresses>(
            &c.nodes[1],
            &inv.vip.interface,
            vec![inv.vip.address],
        );
        let got = plan(&c, "keepalived");
        let waits = "start keepalived once node-b runs mhactl's keepalived.conf";
        assert_eq!(got.contains(waits), want_wait, "{got}");
        assert!(
            got.starts_with("change: write /etc/keepalived/keepalived.conf, ")
                || (own == mhactls && got.starts_with("change: start keepalived")),
            "{got}"
        );
    }
}

/// The first election: on bare nodes both keepalived start at once and whichever
/// master-down timer runs out first takes the VIP (254 and 253 part them by 2 ms), so the
/// node the inventory ranks lower (node-b) starts once node-a holds the VIP; with the VIP
/// already held anywhere it starts at once.
#[test]
fn keepalived_of_the_lower_node_starts_after_the_first_election() {
    let ctx = ctx();
    let inv = &ctx.inv;
    let target =
        crate::os::OsTarget::new(OsFamily::Debian, crate::inventory::Flavor::Mariadb).unwrap();
    let script = crate::render::render_check_script(inv, &target).unwrap();
    let conf = crate::render::render_keepalived_conf(inv, 1).unwrap();
    let waits = "start keepalived once node-a holds the VIP (the inventory ranks it first)";
    for (vip_on, node, want_wait) in [
        (None, 1, true),
        (Some(0), 1, false),
        (Some(1), 1, false),
        (None, 0, false),
    ] {
        let c = silent_pair();
        for n in 0..2 {
            keepalived_facts(&c.nodes[n], Some(conf.as_str()), &script, false);
            let addresses = if vip_on == Some(n) {
                vec![inv.vip.address]
            } else {
                vec![]
            };
            facts::remember::<host::InterfaceAddresses>(&c.nodes[n], &inv.vip.interface, addresses);
        }
        let op = step_of(ctx.clone(), "keepalived");
        let got = match facts::cached(|| op.plan(&c, node)).expect("plans") {
            Plan::Change(ch) => ch.summary,
            Plan::Noop(why) => panic!("noop: {why}"),
        };
        assert_eq!(
            got.contains(waits),
            want_wait,
            "VIP on {vip_on:?}, node {node}: {got}"
        );
    }
}

/// What the `keepalived` step reads on node `n` (Debian, MariaDB, keepalived 2.2.7, no
/// SELinux): its keepalived.conf `conf`, the check script `script`, keepalived `running`.
pub(super) fn keepalived_facts(n: &NodeHandle, conf: Option<&str>, script: &str, running: bool) {
    let target =
        crate::os::OsTarget::new(OsFamily::Debian, crate::inventory::Flavor::Mariadb).unwrap();
    let file = |path: &str, v: Option<&str>| {
        facts::remember::<host::RenderedFile>(n, std::path::Path::new(path), v.map(str::to_string))
    };
    file(target.keepalived_conf_path(), conf);
    file(target.check_script_path(), Some(script));
    facts::remember::<host::ServiceActive>(
        n,
        &host::ServiceArg {
            services: ServiceManager::SysV,
            service: crate::os::KEEPALIVED_SERVICE.into(),
        },
        running,
    );
    facts::remember::<packages::CheckScriptLabelFact>(
        n,
        target.check_script_path(),
        CheckScriptLabel::NotEnforcing,
    );
    facts::remember::<host::KeepalivedVersionFact>(
        n,
        &(),
        Ok(Some(crate::os::keepalived::KeepalivedVersion::new(2, 2, 7))),
    );
    // In a network namespace of its own (like the lab): no process events.
    facts::remember::<host::TrackProcessFact>(n, &(), None);
}

/// Issue 19: `replication-tls` from the replica's TLS columns and the account's
/// `ssl_type`: the replica first, then `REQUIRE SSL`; nothing once both are right; the
/// `replication-tls-off` place does nothing while TLS is on.
#[test]
fn replication_tls_from_the_replica_status_and_the_accounts_ssl_type() {
    use crate::facts::accounts::Account;
    let ca = "/etc/mysql/mhactl-tls/ca.pem";
    let row = |ssl: &str, file: &str, verify: &str| {
        vec![vec![
            ("Master_SSL_Allowed".to_string(), Some(ssl.to_string())),
            ("Master_SSL_CA_File".to_string(), Some(file.to_string())),
            (
                "Master_SSL_Verify_Server_Cert".to_string(),
                Some(verify.to_string()),
            ),
        ]]
    };
    let cases = [
        (
            row("No", "", "No"),
            "",
            "change: replicate from node-b over TLS, verifying its certificate, \
             'repl'@'10.0.0.12' REQUIRE SSL",
        ),
        (
            row("Yes", ca, "Yes"),
            "",
            "change: 'repl'@'10.0.0.12' REQUIRE SSL",
        ),
        (
            row("Yes", ca, "No"),
            "ANY",
            "change: replicate from node-b over TLS, verifying its certificate",
        ),
        (
            row("Yes", ca, "Yes"),
            "ANY",
            "noop: replicating from node-b over TLS, its certificate verified against \
             /etc/mysql/mhactl-tls/ca.pem; 'repl'@'10.0.0.12' requires TLS",
        ),
    ];
    for (rows, ssl_type, want) in cases {
        let c = silent_pair();
        let n = &c.nodes[0];
        facts::remember::<facts::server::ServerVersion>(
            n,
            &(),
            Some(crate::dialect::Dialect::from_version_string("10.11.6-MariaDB").unwrap()),
        );
        facts::remember::<facts::server::ReplicaStatusFact>(
            n,
            &(),
            facts::server::ReplicaState {
                status: Ok(None),
                using_gtid: None,
                rows,
            },
        );
        facts::remember::<facts::tls::AccountSslType>(
            n,
            &Account {
                user: "repl".into(),
                host: "10.0.0.12".into(),
            },
            Some(ssl_type.into()),
        );
        assert_eq!(plan(&c, "replication-tls"), want, "ssl_type {ssl_type:?}");
        assert_eq!(
            plan(&c, "replication-tls-off"),
            "noop: TLS for replication is on (set up after the replication step)"
        );
    }
}

/// node-b's keepalived.conf as the address owner's of keepalived's conversion.
pub(super) fn owner_conf(inv: &crate::inventory::Inventory) -> String {
    crate::render::render_keepalived_conf_with(
        inv,
        1,
        &crate::render::KeepalivedOptions {
            address_owner: true,
            ..Default::default()
        },
    )
    .unwrap()
}

#[test]
fn write_fencing_back_to_both_switches_the_semi_sync_source_on_after_the_agent() {
    use crate::bootstrap::steps_tests::ctx_with;
    use crate::engine::{Action, Change};
    // (agent running, read_only, source side now) -> does the plan switch it on?
    for (agent_running, read_only, source_now, source_on) in [
        (true, true, "1", true),
        (false, true, "1", false),
        (false, true, "0", true),
        (false, false, "0", true),
        (false, false, "1", false),
    ] {
        let c = silent_pair();
        let n = &c.nodes[0];
        facts::remember::<facts::server::ServerVersion>(
            n,
            &(),
            Some(crate::dialect::Dialect::from_version_string("10.11.6-MariaDB").unwrap()),
        );
        let agent = agent_running.then(|| "#!/bin/bash\n".to_string());
        facts::remember::<host::RenderedFile>(
            n,
            std::path::Path::new(crate::os::fence::AGENT_PATH),
            agent,
        );
        facts::remember::<facts::fence::LoginWorks>(
            n,
            "/etc/mysql/mhactl-fence.cnf",
            facts::fence::FenceLogin::NoFile,
        );
        facts::remember::<facts::accounts::AccountExists>(
            n,
            &facts::accounts::account(crate::dialect::FENCE_USER, "localhost"),
            false,
        );
        let ro = Some(if read_only { "1" } else { "0" }.to_string());
        facts::remember::<facts::server::Variable>(n, "read_only", ro);
        facts::remember::<facts::server::Variable>(
            n,
            "rpl_semi_sync_master_enabled",
            Some(source_now.to_string()),
        );
        facts::remember::<host::InterfaceAddresses>(n, "eth0", vec![]);
        facts::remember::<facts::fence::AgentRunning>(n, &(), agent_running);
        let op = step_of(ctx_with("writes: both\n", ""), "write-fencing");
        let plan = facts::cached(|| op.plan(&c, 0)).expect("plans");
        let sql: Vec<String> = match &plan {
            Plan::Change(Change { actions, .. }) => actions
                .iter()
                .filter_map(|a| match a {
                    Action::Sql(s) => Some(s.clone()),
                    _ => None,
                })
                .flatten()
                .collect(),
            Plan::Noop(_) => vec![],
        };
        assert_eq!(
            sql.iter()
                .any(|s| s == "SET GLOBAL rpl_semi_sync_master_enabled = ON"),
            source_on,
            "agent running {agent_running}, read_only {read_only}, source {source_now}: {sql:?}"
        );
        if read_only {
            assert!(
                sql.contains(&"SET GLOBAL read_only = OFF".to_string()),
                "{sql:?}"
            );
        }
    }
}
