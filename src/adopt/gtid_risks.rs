//! The GTID risk of a hand-built MySQL pair (part of [`super::risks`]), pure: with
//! `gtid_mode = ON` (the default of 9.x) and replication by file and position, each
//! node's GTID set holds the transactions it ran before its peer's replica started (the
//! runbook's `ALTER USER`, `CREATE USER`, `GRANT`, run on each node by hand). The peer's
//! replica started at a later file and position, so it never receives them: the two
//! GTID sets differ for good. verify's `gtid` check fails on both nodes, and a switch to
//! GTID auto-positioning (or any tool that positions by GTID) fetches and re-runs them
//! (a `CREATE USER` of an account that exists stops replication).
//!
//! Which transactions: the peer's own (its `server_uuid`) that this node lacks and that
//! are *older than the first of them this node executed through replication*: those are
//! behind where its replica started. Newer ones may be in flight. This is the rule of
//! bootstrap's replication step (`bootstrap/steps/gtid_history.rs`), which records exactly
//! these on the node as applied (`gtid_purged += ...`), so the report says what it will do.

use super::discover::NodeFindings;
use super::risks::{risk, Risk, Severity};

/// The sequence intervals of `uuid`'s untagged transactions in the GTID set `set`
/// (`uuid:1-5:7,other:1-3` -> [(1, 5), (7, 7)] for `uuid`), sorted.
fn intervals(set: &str, uuid: &str) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for part in set.split(',') {
        let mut fields = part.split(':').map(str::trim);
        if !fields.next().is_some_and(|s| s.eq_ignore_ascii_case(uuid)) {
            continue;
        }
        for interval in fields {
            let mut ends = interval.splitn(2, '-');
            let lo = ends.next().and_then(|v| v.trim().parse::<u64>().ok());
            let hi = match ends.next() {
                Some(v) => v.trim().parse::<u64>().ok(),
                None => lo,
            };
            // A tag (8.4+ `uuid:tag:1-3`) is not a number: its intervals are another
            // source's, not this one's.
            match (lo, hi) {
                (Some(lo), Some(hi)) if lo <= hi => out.push((lo, hi)),
                _ => break,
            }
        }
    }
    out.sort_unstable();
    out
}

/// `a` minus `b` (both sorted interval lists).
fn subtract(a: &[(u64, u64)], b: &[(u64, u64)]) -> Vec<(u64, u64)> {
    let mut out = Vec::new();
    for &(lo, hi) in a {
        let mut start = lo;
        for &(blo, bhi) in b {
            if bhi < start || blo > hi {
                continue;
            }
            if blo > start {
                out.push((start, blo - 1));
            }
            start = start.max(bhi.saturating_add(1));
            if start > hi {
                break;
            }
        }
        if start <= hi {
            out.push((start, hi));
        }
    }
    out
}

/// The peer's transactions `n` lacks that ran before `n`'s replica started (a GTID set,
/// `uuid:1-3:5`), or `None`.
pub(super) fn pre_replication_gap(n: &NodeFindings, peer: &NodeFindings) -> Option<String> {
    let mysql = |f: &NodeFindings| {
        f.dialect
            .is_some_and(|d| d.family() == crate::inventory::ServerFamily::Mysql)
    };
    let gtid_on = |f: &NodeFindings| f.var("gtid_mode").is_some_and(|m| m == "ON");
    let by_file = n
        .replica
        .as_ref()
        .is_some_and(|r| r.positioning == "file/position");
    if !(mysql(n) && mysql(peer) && gtid_on(n) && gtid_on(peer) && by_file) {
        return None;
    }
    let uuid = peer.var("server_uuid")?;
    let own = intervals(n.var("gtid_executed").unwrap_or(""), uuid);
    // Nothing received yet: no proof of where replication started (bootstrap's step
    // records nothing either).
    let first = own.first()?.0;
    if first <= 1 {
        return None;
    }
    let before: Vec<(u64, u64)> = intervals(peer.var("gtid_executed")?, uuid)
        .into_iter()
        .filter(|&(lo, _)| lo < first)
        .map(|(lo, hi)| (lo, hi.min(first - 1)))
        .collect();
    let gap = subtract(&before, &own);
    if gap.is_empty() {
        return None;
    }
    let ranges: Vec<String> = gap
        .iter()
        .map(|&(lo, hi)| {
            if lo == hi {
                lo.to_string()
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect();
    Some(format!("{uuid}:{}", ranges.join(":")))
}

/// The `gtid-pre-replication` risk of each node of a MySQL pair that lacks its peer's
/// pre-replication transactions.
pub(super) fn gtid_risks(nodes: &[NodeFindings], out: &mut Vec<Risk>) {
    if nodes.len() != 2 {
        return;
    }
    for (i, n) in nodes.iter().enumerate() {
        let peer = &nodes[1 - i];
        let Some(gap) = pre_replication_gap(n, peer) else {
            continue;
        };
        risk(
            out,
            "gtid-pre-replication",
            Severity::Medium,
            &n.name,
            format!(
                "gtid_mode ON, replication by file and position: {}'s transactions {gap} ran \
                 before {}'s replica started (the accounts made by hand on each node) and \
                 never reach it; the two GTID sets differ for good",
                peer.name, n.name
            ),
            "verify's gtid check fails on both nodes (\"lacks transactions\"), and a switch to \
             GTID auto-positioning (or a tool that positions by GTID) would fetch and re-run \
             them: a CREATE USER of an account that exists stops replication",
            "bootstrap's replication step records them on this node as applied (adds \
             them to gtid_purged), without running them; the replica keeps positioning by \
             file",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::adopt::risks::tests::runbook_node;

    const A: &str = "3e11fa47-71ca-11e1-9e33-c80aa9429562";
    const B: &str = "4f22fb58-82db-22f2-af44-d91bb0530673";

    /// The runbook's MySQL 9.7 pair after replication started: db1 (uuid A) ran 1-5 by
    /// hand, db2 (uuid B) 1-4; then db1's application writes A:6-9 reached db2 and
    /// db2's B:5-6 reached db1.
    fn mysql_pair() -> Vec<NodeFindings> {
        let mut p = vec![
            runbook_node("db1", 11, 12, true),
            runbook_node("db2", 12, 11, false),
        ];
        let sets = [
            (A, format!("{A}:1-9,\n{B}:5-6")),
            (B, format!("{A}:6-9,\n{B}:1-6")),
        ];
        for (n, (uuid, set)) in p.iter_mut().zip(sets) {
            n.version = "9.7.0".into();
            n.dialect = crate::dialect::Dialect::from_version_string("9.7.0").ok();
            for (k, v) in [
                ("gtid_mode", "ON"),
                ("server_uuid", uuid),
                ("gtid_executed", set.as_str()),
            ] {
                n.variables.insert(k.into(), v.into());
            }
        }
        p
    }

    fn found(p: &[NodeFindings]) -> Vec<(String, String)> {
        let mut out = Vec::new();
        gtid_risks(p, &mut out);
        out.into_iter().map(|r| (r.node, r.found)).collect()
    }

    #[test]
    fn intervals_and_subtraction() {
        let set = format!("{A}:1-5:7:9-10, {B}:1-3,{A}:tag:1-2");
        assert_eq!(intervals(&set, A), [(1, 5), (7, 7), (9, 10)]);
        assert_eq!(intervals(&set, B), [(1, 3)]);
        assert_eq!(intervals("", A), []);
        assert_eq!(
            subtract(&[(1, 10)], &[(2, 3), (5, 5), (9, 12)]),
            [(1, 1), (4, 4), (6, 8)]
        );
        assert_eq!(subtract(&[(1, 4)], &[(1, 4)]), []);
        assert_eq!(subtract(&[(1, 4), (6, 7)], &[]), [(1, 4), (6, 7)]);
    }

    #[test]
    fn each_node_lacks_its_peers_pre_replication_transactions() {
        let f = found(&mysql_pair());
        assert_eq!(f.len(), 2, "{f:?}");
        assert_eq!(f[0].0, "db1");
        assert!(
            f[0].1.contains(&format!("db2's transactions {B}:1-4 ran")),
            "{f:?}"
        );
        assert_eq!(f[1].0, "db2");
        assert!(f[1].1.contains(&format!("{A}:1-5 ran")), "{f:?}");
    }

    #[test]
    fn only_where_it_applies() {
        type Change = fn(&mut Vec<NodeFindings>);
        let cases: &[(&str, Change, usize)] = &[
            ("the pair as built", |_| {}, 2),
            (
                "already recorded (after bootstrap's replication step)",
                |p| {
                    p[0].variables
                        .insert("gtid_executed".into(), format!("{A}:1-9,{B}:1-6"));
                },
                1,
            ),
            (
                "gtid_mode OFF on one node",
                |p| {
                    p[1].variables.insert("gtid_mode".into(), "OFF".into());
                },
                0,
            ),
            (
                "auto-positioning on db1",
                |p| p[0].replica.as_mut().unwrap().positioning = "GTID (auto-position)".into(),
                1,
            ),
            (
                "db1 received nothing of db2's yet: no proof of where it started",
                |p| {
                    p[0].variables
                        .insert("gtid_executed".into(), format!("{A}:1-9"));
                },
                1,
            ),
            (
                "replication started at db2's first transaction",
                |p| {
                    p[0].variables
                        .insert("gtid_executed".into(), format!("{A}:1-9,{B}:1-6"));
                    p[1].variables
                        .insert("gtid_executed".into(), format!("{A}:1-9,{B}:1-6"));
                },
                0,
            ),
            (
                "MariaDB (its GTIDs are domain-based: not this rule)",
                |p| {
                    for n in p.iter_mut() {
                        n.dialect =
                            crate::dialect::Dialect::from_version_string("10.11.6-MariaDB").ok();
                    }
                },
                0,
            ),
        ];
        for (what, change, want) in cases {
            let mut p = mysql_pair();
            change(&mut p);
            let f = found(&p);
            assert_eq!(f.len(), *want, "{what}: {f:?}");
        }
    }
}
