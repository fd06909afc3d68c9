//! Checks that cannot run, reported as such: one broken thing must not hide the others.
//! With a node unreachable every check of the reachable node runs, and the unreachable
//! node's checks and the checks about the pair are reported as not run, with the reason;
//! with a node's server not answering SQL, its checks that need SQL are.

use super::Check;
use crate::engine::Cluster;
use crate::inventory::{Inventory, Secrets};

/// Checks with the nodes in `unreachable` (indices) down.
pub fn run(
    cluster: &Cluster,
    inv: &Inventory,
    secrets: &Secrets,
    checksum: bool,
    unreachable: &[usize],
) -> Vec<Check> {
    let reachable: Vec<usize> = (0..cluster.nodes.len())
        .filter(|i| !unreachable.contains(i))
        .collect();
    let mut out: Vec<Check> = std::thread::scope(|scope| {
        let handles: Vec<_> = reachable
            .iter()
            .map(|&i| scope.spawn(move || super::checks::node_checks(cluster, inv, secrets, i)))
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("check thread panicked"))
            .collect()
    });
    // The same checks for the unreachable node, not run.
    let mut names: Vec<String> = Vec::new();
    for c in &out {
        if !names.contains(&c.name) {
            names.push(c.name.clone());
        }
    }
    let down: Vec<&str> = unreachable
        .iter()
        .map(|&i| cluster.nodes[i].name.as_str())
        .collect();
    // The reason itself is in the node's failed `ssh` check, once.
    for &i in unreachable {
        let node = &cluster.nodes[i].name;
        out.extend(names.iter().map(|name| {
            Check::not_run(
                name,
                node,
                format!("not run: {node} is unreachable (see its ssh check)"),
            )
        }));
    }
    let holders: Vec<&str> = reachable
        .iter()
        .filter(|&&i| {
            crate::facts::interface_addresses(&cluster.nodes[i], &inv.vip.interface)
                .is_ok_and(|a| a.contains(&inv.vip.address))
        })
        .map(|&i| cluster.nodes[i].name.as_str())
        .collect();
    // The registry's checks about the pair that apply to this run, in order.
    for name in super::registry::pair_checks(inv, checksum).map(|k| k.name) {
        let mut detail = format!(
            "not run: needs both nodes, and {} is unreachable",
            down.join(", ")
        );
        if name == "vip" {
            detail.push_str(&match holders.as_slice() {
                [] => format!(
                    "; no reachable node holds the VIP {} (clients may have no server)",
                    inv.vip.address
                ),
                h => format!("; {} holds the VIP {}", h.join(", "), inv.vip.address),
            });
        }
        out.push(Check::not_run(name, "cluster", detail));
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::engine::{Cluster, NodeHandle};
    use crate::transport::fake::{FakeSql, FakeTransport};
    use std::sync::Arc;

    /// A Debian MariaDB node whose server refuses SQL, and a healthy-looking peer.
    #[test]
    fn a_server_that_does_not_answer_lists_its_sql_checks_as_not_run() {
        let inv = crate::inventory::parse(
            "cluster: t\nnodes:\n  - name: db1\n    address: 10.0.0.11\n  - name: db2\n    address: 10.0.0.12\n\
             vip:\n  address: 10.0.0.100\n  interface: eth0\n  virtual_router_id: 51\n\
             mysql:\n  flavor: mariadb\n\
             credentials:\n  replication_password_env: MHACTL_TEST_PARTIAL_PW\n",
            "inventory.yaml",
        )
        .unwrap();
        std::env::set_var("MHACTL_TEST_PARTIAL_PW", "Partial-pw-1");
        let secrets = crate::inventory::Secrets::resolve(&inv, false).unwrap();
        let nodes = ["db1", "db2"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let t = FakeTransport::new(name);
                t.on("/etc/os-release", 0, "ID=debian\nVERSION_ID=\"12\"\n");
                t.on("echo systemd; else echo sysv", 0, "sysv\n");
                t.on("id -u", 0, "0\n");
                // What the checks that need no SQL read: keepalived neither running nor
                // configured, the VIP on no interface, a clock that says nothing.
                t.on(
                    "for f in /run/keepalived.pid /var/run/keepalived.pid",
                    1,
                    "",
                );
                t.on("if [ -e /etc/keepalived/keepalived.conf ]", 3, "");
                t.on(
                    "keepalived --version",
                    0,
                    "Keepalived v2.2.8 (04/04,2023)\n",
                );
                t.on(
                    "proc-events",
                    0,
                    "proc-events: no\nserver-process: mariadbd\n",
                );
                t.on("ip -4 -o addr show dev eth0", 0, "");
                t.on("date +%s.%N", 0, "");
                t.on(crate::os::vip_refuse::TABLE_COMMAND, 100, "");
                let sql = FakeSql::new();
                sql.refuse(Some((2002, "Can't connect to local server through socket")));
                NodeHandle::new(i, name, Arc::new(t), Some(sql.connector()))
            })
            .collect();
        let cluster = Cluster {
            nodes,
            secrets: vec![],
        };
        let checks = super::super::check_cluster(&cluster, &inv, &secrets, false);
        let on_db1 = |name: &str| {
            checks
                .iter()
                .find(|c| c.name == name && c.node == "db1")
                .unwrap_or_else(|| panic!("no {name} on db1 in {checks:#?}"))
        };
        assert!(!on_db1("mysqld").ok && !on_db1("mysqld").not_run);
        for name in [
            "server-id",
            "replication-threads",
            "my-cnf",
            "server-options",
        ] {
            let c = on_db1(name);
            assert!(c.not_run && !c.ok && c.is_error(), "{c:?}");
        }
        // Checks that need no SQL still ran.
        assert!(!on_db1("keepalived-config").not_run);
    }
}
