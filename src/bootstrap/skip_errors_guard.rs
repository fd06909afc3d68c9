//! Removing `slave_skip_errors` (`replica_skip_errors`) only while the tables are the
//! same on both nodes. A pair built by the runbook skips duplicate-key errors (1062):
//! the events it skipped may have left the nodes different, and once the setting is gone
//! the next event touching such a row stops replication. So before the `server-config`
//! step drops error codes the running server skips (the inventory's `mysql.skip_errors`
//! no longer lists them), the tables are compared (`CHECKSUM TABLE`, as `mhactl adopt`
//! does) and bootstrap refuses while any differs, naming them and how to repair them.

use crate::dialect::Dialect;
use crate::engine::{Cluster, NodeHandle};
use crate::facts;
use crate::inventory::Inventory;
use anyhow::{bail, Result};
use std::collections::BTreeSet;
use std::time::Duration;

/// The codes the server skips now (`running`: the variable's value, `OFF` for none)
/// that `wanted` no longer lists, in order.
pub fn removed_codes(running: &str, wanted: &[u32]) -> Vec<String> {
    if running.trim().is_empty() || running.trim().eq_ignore_ascii_case("off") {
        return Vec::new();
    }
    let wanted: BTreeSet<String> = wanted.iter().map(u32::to_string).collect();
    running
        .split(',')
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty() && !wanted.contains(c))
        .collect()
}

/// Refuse (an error naming the node, the setting, the tables and the repair) when the
/// running server skips error codes the inventory drops and the tables differ.
pub fn check(cluster: &Cluster, node: &NodeHandle, inv: &Inventory, d: &Dialect) -> Result<()> {
    let option = d.skip_errors_option();
    let running = facts::variable(node, option)?.unwrap_or_default();
    let removed = removed_codes(&running, &inv.mysql.skip_errors);
    if removed.is_empty() {
        return Ok(());
    }
    // One comparison at a time, and at most one that matches per run: both nodes plan
    // this step at once, and the passive node restarts as soon as its own plan is made.
    // The plan that waits here finds the tables matched by the other and compares
    // nothing; so the comparison is made while both servers run, before either restarts
    // (CI saw the VIP holder compare while its peer restarted with stricter durability
    // settings and fell behind the writer for good).
    let _one_at_a_time = COMPARING.lock().unwrap_or_else(|e| e.into_inner());
    if matched_this_run(node) {
        return Ok(());
    }
    // The peer may be restarting anyway (a re-run after an interrupted one): wait for it
    // to answer and catch up rather than refuse.
    let mut found = crate::table_compare::TableComparison::default();
    crate::poll::until_interruptible(Duration::from_secs(90), Duration::from_secs(1), || {
        found = crate::table_compare::compare_tables(cluster)?;
        Ok(found.skipped.is_none())
    })?;
    if let Some(why) = found.skipped {
        bail!(
            "{}: refusing to remove {option}={running} (mysql.skip_errors does not list {}): \
             cannot tell whether the tables are identical ({why}); run bootstrap again when \
             replication has caught up",
            node.name,
            removed.join(",")
        );
    }
    if found.differing.is_empty() {
        // Tables written during the comparison (`found.changing`) are not judged: a pair
        // under traffic is not refused for its own writes in flight.
        for n in &cluster.nodes {
            facts::remember::<TablesMatched>(n, &(), true);
        }
        return Ok(());
    }
    let tables: Vec<String> = found.differing;
    let holder = facts::vip_holders(cluster, inv)
        .ok()
        .and_then(|h| h.first().copied());
    let (good, other) = match holder {
        Some(h) => (
            cluster.nodes[h].name.clone(),
            cluster.nodes[1 - h].name.clone(),
        ),
        None => ("the VIP holder".into(), "the other node".into()),
    };
    bail!(
        "{}: refusing to remove {option}={running} (mysql.skip_errors does not list {}) while \
         tables differ between the nodes: {}. The skipped errors hid these differences, and \
         without the setting the next change to such a row stops replication. Repair them \
         first: `pt-table-sync --execute --sync-to-master h={other_addr}` for the differing \
         tables (copies {good}'s rows to {other}), or `mhactl reinit {other} \
         --yes-destroy-data` (copies all of {good}); then run bootstrap again. To keep \
         skipping meanwhile, list the codes in mysql.skip_errors (docs/adopt.md)",
        node.name,
        removed.join(","),
        tables.join("; "),
        other_addr = other_address(inv, &other),
    )
}

/// Held while the tables are compared (see [`check`]).
static COMPARING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// The tables matched once in this run: the later plans of the step (the other node's,
/// made while its peer restarts; the VIP holder's after the hand-over) do not compare
/// again. Kept in the nodes' fact caches for the run, never read from a node.
struct TablesMatched;

impl facts::Fact for TablesMatched {
    type Arg = ();
    type Value = bool;
    const NAME: &'static str = "skip-errors-guard-tables-matched";
    const KIND: facts::FactKind = facts::FactKind::Tables;
    const LIFETIME: facts::Lifetime = facts::Lifetime::Run;
    fn source(_: &(), _: Option<&Dialect>) -> facts::Source {
        // Never read: only remembered (see `matched_this_run`).
        facts::Source::File("/dev/null".into())
    }
    fn parse(_: &(), _: &facts::Raw) -> Result<bool> {
        Ok(false)
    }
}

fn matched_this_run(node: &NodeHandle) -> bool {
    let key = facts::cache::key::<TablesMatched>(&());
    node.facts
        .lock()
        .ok()
        .and_then(|c| c.get::<TablesMatched>(&key))
        .unwrap_or(false)
}

fn other_address(inv: &Inventory, name: &str) -> String {
    inv.nodes
        .iter()
        .find(|n| n.name == name)
        .map(|n| n.address.to_string())
        .unwrap_or_else(|| name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::transport::fake::{FakeSql, FakeTransport};
    use std::sync::Arc;

    /// A MariaDB pair caught up at mysql-bin.000002:1234 that skips `skip`, with one
    /// table whose checksum is `sums[i]` on node i; node-a holds the VIP.
    fn pair(skip: &str, sums: [&'static str; 2]) -> (Cluster, Vec<FakeSql>) {
        let mut fakes = Vec::new();
        let nodes = ["node-a", "node-b"]
            .iter()
            .enumerate()
            .map(|(i, name)| {
                let t = FakeTransport::new(name);
                let own = format!("2: eth0 inet 10.0.0.1{}/24 scope global eth0\n", i + 1);
                let vip = if i == 0 {
                    "2: eth0 inet 10.0.0.100/24 scope global secondary eth0\n"
                } else {
                    ""
                };
                t.on("ip -4 -o addr show dev eth0", 0, &format!("{own}{vip}"));
                let sql = FakeSql::new();
                sql.on(
                    "SELECT VERSION()",
                    vec![vec![("version", Some("10.11.6-MariaDB"))]],
                );
                sql.on("_skip_errors AS value", vec![vec![("value", Some(skip))]]);
                sql.on(
                    "SHOW BINLOG STATUS",
                    vec![vec![
                        ("File", Some("mysql-bin.000002")),
                        ("Position", Some("1234")),
                    ]],
                );
                sql.on(
                    "SHOW REPLICA STATUS",
                    vec![vec![
                        ("Slave_IO_Running", Some("Yes")),
                        ("Slave_SQL_Running", Some("Yes")),
                        ("Master_Host", Some(["10.0.0.12", "10.0.0.11"][i])),
                        ("Master_Port", Some("3306")),
                        ("Master_User", Some("repl")),
                        ("Master_Log_File", Some("mysql-bin.000002")),
                        ("Read_Master_Log_Pos", Some("1234")),
                        ("Relay_Master_Log_File", Some("mysql-bin.000002")),
                        ("Exec_Master_Log_Pos", Some("1234")),
                        ("Seconds_Behind_Master", Some("0")),
                        ("Last_IO_Errno", Some("0")),
                        ("Last_IO_Error", Some("")),
                        ("Last_SQL_Errno", Some("0")),
                        ("Last_SQL_Error", Some("")),
                    ]],
                );
                sql.on(
                    "information_schema.TABLES",
                    vec![vec![("t", Some("`shop`.`stock`"))]],
                );
                sql.on(
                    "CHECKSUM TABLE",
                    vec![vec![
                        ("Table", Some("shop.stock")),
                        ("Checksum", Some(sums[i])),
                    ]],
                );
                fakes.push(sql.clone());
                NodeHandle::new(i, name, Arc::new(t), Some(sql.connector()))
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

    fn inv(skip_errors: &str) -> Inventory {
        crate::inventory::parse(
            &format!(
                "cluster: t\nnodes:\n  - name: node-a\n    address: 10.0.0.11\n  - name: node-b\n    \
                 address: 10.0.0.12\nvip:\n  address: 10.0.0.100\n  interface: eth0\n  \
                 virtual_router_id: 51\nmysql:\n  skip_errors: {skip_errors}\ncredentials:\n  \
                 replication_password_env: X\n"
            ),
            "inventory.yaml",
        )
        .unwrap()
    }

    fn run(c: &Cluster, inv: &Inventory) -> Result<()> {
        let d = facts::dialect(&c.nodes[1])?;
        check(c, &c.nodes[1], inv, &d)
    }

    #[test]
    fn refuses_to_drop_skipped_errors_while_a_table_differs() {
        let (c, _) = pair("1062", ["111", "222"]);
        let err = format!("{:#}", run(&c, &inv("[]")).unwrap_err());
        for want in [
            "node-b: refusing to remove slave_skip_errors=1062",
            "shop.stock differs (111 on node-a, 222 on node-b)",
            "pt-table-sync --execute --sync-to-master h=10.0.0.12",
            "mhactl reinit node-b --yes-destroy-data",
        ] {
            assert!(err.contains(want), "no `{want}` in {err}");
        }
    }

    #[test]
    fn drops_them_when_the_tables_are_identical_and_compares_once_per_run() {
        let (c, fakes) = pair("1062", ["111", "111"]);
        run(&c, &inv("[]")).unwrap();
        let count = || {
            fakes
                .iter()
                .flat_map(|f| f.statements())
                .filter(|s| s.contains("CHECKSUM"))
                .count()
        };
        let after_first = count();
        assert_eq!(after_first, 2, "one checksum per node");
        // The other node's plan (or a re-plan) in the same run: no second comparison.
        let d = facts::dialect(&c.nodes[0]).unwrap();
        check(&c, &c.nodes[0], &inv("[]"), &d).unwrap();
        assert_eq!(count(), after_first);
    }

    #[test]
    fn both_nodes_planning_at_once_compare_the_tables_once() {
        // Both plans of the step start together; the passive node restarts as soon as
        // its plan is made, so the other plan must not compare again meanwhile.
        for _ in 0..20 {
            let (c, fakes) = pair("1062", ["111", "111"]);
            let inv = inv("[]");
            let start = std::sync::Barrier::new(2);
            std::thread::scope(|s| {
                for i in 0..2 {
                    let (c, inv, start) = (&c, &inv, &start);
                    s.spawn(move || {
                        let d = facts::dialect(&c.nodes[i]).unwrap();
                        start.wait();
                        check(c, &c.nodes[i], inv, &d).unwrap();
                    });
                }
            });
            let checksums = fakes
                .iter()
                .flat_map(|f| f.statements())
                .filter(|s| s.contains("CHECKSUM"))
                .count();
            assert_eq!(checksums, 2, "one comparison: one checksum per node");
        }
    }

    #[test]
    fn compares_nothing_when_nothing_is_dropped() {
        for (skip, wanted) in [("OFF", "[]"), ("1062", "[1062]")] {
            let (c, fakes) = pair(skip, ["111", "222"]);
            run(&c, &inv(wanted)).unwrap();
            let checksums = fakes
                .iter()
                .flat_map(|f| f.statements())
                .filter(|s| s.contains("CHECKSUM"))
                .count();
            assert_eq!(checksums, 0, "{skip} with {wanted}");
        }
    }

    #[test]
    fn removed_codes_are_the_running_ones_the_inventory_drops() {
        for (running, wanted, removed) in [
            ("OFF", vec![], vec![]),
            ("", vec![], vec![]),
            ("1062", vec![], vec!["1062"]),
            ("1062", vec![1062], vec![]),
            ("1032,1062", vec![1062], vec!["1032"]),
            ("all", vec![], vec!["all"]),
        ] {
            assert_eq!(removed_codes(running, &wanted), removed, "{running}");
        }
    }
}
