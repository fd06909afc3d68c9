//! `checksum` (`verify --checksum`): after both nodes caught up with each other,
//! `CHECKSUM TABLE ... EXTENDED` of every replicated table is equal on both (the
//! comparison itself is [`crate::table_compare`]'s, shared with adopt and bootstrap).

use crate::engine::NodeHandle;
use crate::facts;
use crate::inventory::Inventory;
use crate::table_compare::{compare_common, wait_caught_up};
use crate::verify::registry::{CheckKind, Fact, PairCtx, Run, Scope, When};
use crate::verify::{Check, Severity};
use anyhow::Result;

/// `checksum`: the replicated tables are identical (only with a VIP holder list read).
pub const CHECKSUM: CheckKind = CheckKind {
    name: "checksum",
    severity: Severity::Error,
    scope: Scope::Pair,
    reads: &[Fact::BinlogStatus, Fact::ReplicaStatus, Fact::Tables],
    when: When::Checksum,
    run: Run::Pair(|c| match super::pair::holders(c) {
        Ok(_) => Some(checksum(c)),
        Err(_) => None,
    }),
};

/// Databases whose tables are compared (the replicated ones, never system schemas).
fn replicated_tables(node: &NodeHandle, inv: &Inventory) -> Result<Vec<String>> {
    let mut excluded = vec![
        "mysql".to_string(),
        "information_schema".into(),
        "performance_schema".into(),
        "sys".into(),
    ];
    excluded.extend(inv.ignored_databases());
    facts::get::<facts::tables::BaseTables>(
        node,
        &facts::tables::TablesArg {
            excluded,
            only: inv.mysql.replicate_databases.clone(),
        },
    )
}

fn checksum(c: &PairCtx) -> Result<Check> {
    let (cluster, inv) = (c.cluster, c.inv);
    wait_caught_up(cluster)?;
    let tables = replicated_tables(&cluster.nodes[0], inv)?;
    let other_tables = replicated_tables(&cluster.nodes[1], inv)?;
    let names = [
        cluster.nodes[0].name.as_str(),
        cluster.nodes[1].name.as_str(),
    ];
    let mut problems = Vec::new();
    for t in tables.iter().filter(|t| !other_tables.contains(t)) {
        problems.push(format!("{t} exists only on {}", names[0]));
    }
    for t in other_tables.iter().filter(|t| !tables.contains(t)) {
        problems.push(format!("{t} exists only on {}", names[1]));
    }
    let common: Vec<&String> = tables.iter().filter(|t| other_tables.contains(t)).collect();
    problems.extend(compare_common(cluster, &common)?);
    Ok(checksum_from(common.len(), &problems))
}

/// `checksum` on the number of tables compared and the problems found.
pub fn checksum_from(compared: usize, problems: &[String]) -> Check {
    if problems.is_empty() {
        CHECKSUM.pass(
            "cluster",
            format!("{compared} tables identical on both nodes"),
        )
    } else {
        CHECKSUM.fail(
            "cluster",
            format!("data differs between the nodes:\n{}", problems.join("\n")),
        )
    }
}
