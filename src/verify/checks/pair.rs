//! Checks about the pair as a whole (node `cluster`): `server-id-distinct`,
//! `clock-skew`, `vip` and `vip-sql`. The VIP holders are read once, by whichever of
//! `vip`, `vip-sql` and `checksum` asks first; without them only `vip` reports.

use crate::facts;
use crate::verify::registry::{CheckKind, Fact, PairCtx, Run, Scope, When};
use crate::verify::{Check, Severity};
use anyhow::{anyhow, Result};

/// Clock skew between the nodes above this is a warning (replication lag and logs lie).
const SKEW_WARNING_S: f64 = 1.0;

/// `server-id-distinct`: the two `server_id`s differ.
pub const SERVER_ID_DISTINCT: CheckKind = CheckKind {
    name: "server-id-distinct",
    severity: Severity::Error,
    scope: Scope::Pair,
    reads: &[Fact::Variables],
    when: When::Always,
    run: Run::Pair(|c| {
        let ids: Vec<Option<String>> = c
            .cluster
            .nodes
            .iter()
            .map(|n| facts::variable(n, "server_id").ok().flatten())
            .collect();
        Some(Ok(server_id_distinct_from(
            ids[0].as_deref(),
            ids[1].as_deref(),
        )))
    }),
};

/// `clock-skew`: the clocks agree within a second (a warning).
pub const CLOCK_SKEW: CheckKind = CheckKind {
    name: "clock-skew",
    severity: Severity::Warning,
    scope: Scope::Pair,
    reads: &[Fact::Clock],
    when: When::Always,
    run: Run::Pair(|c| Some(clock_skew(c))),
};

/// `vip`: exactly one node holds the VIP.
pub const VIP: CheckKind = CheckKind {
    name: "vip",
    severity: Severity::Error,
    scope: Scope::Pair,
    reads: &[Fact::Addresses],
    when: When::Always,
    run: Run::Pair(|c| {
        let names: Vec<&str> = c.cluster.nodes.iter().map(|n| n.name.as_str()).collect();
        Some(Ok(match holders(c) {
            Ok(h) => vip_from(&c.inv.vip.address.to_string(), &names, h),
            Err(e) => VIP.fail("cluster", e.clone()),
        }))
    }),
};

/// `vip-sql`: MySQL answers through the VIP, from its holder (only with one holder).
pub const VIP_SQL: CheckKind = CheckKind {
    name: "vip-sql",
    severity: Severity::Error,
    scope: Scope::Pair,
    reads: &[Fact::SqlThroughVip],
    when: When::Always,
    run: Run::Pair(|c| match holders(c) {
        Ok(h) if h.len() == 1 => Some(vip_sql(c, h[0])),
        _ => None,
    }),
};

/// The nodes holding the VIP (read once per run).
pub fn holders<'a>(c: &'a PairCtx) -> &'a std::result::Result<Vec<usize>, String> {
    c.holders
        .get_or_init(|| facts::vip_holders(c.cluster, c.inv).map_err(|e| format!("{e:#}")))
}

/// `server-id-distinct` on the two `server_id`s (`None`: unreadable).
pub fn server_id_distinct_from(a: Option<&str>, b: Option<&str>) -> Check {
    let k = &SERVER_ID_DISTINCT;
    match (a, b) {
        (Some(a), Some(b)) if a != b => k.pass("cluster", format!("{a} and {b}")),
        (Some(a), Some(b)) => k.fail(
            "cluster",
            format!("both nodes have server_id {a}={b}: replication loops"),
        ),
        _ => k.fail("cluster", "server_id unreadable on a node"),
    }
}

/// `vip` on the holders (indices into `names`).
pub fn vip_from(vip: &str, names: &[&str], holders: &[usize]) -> Check {
    match holders {
        [] => VIP.fail(
            "cluster",
            format!("no node holds the VIP {vip}: clients cannot connect (outage)"),
        ),
        [h] => VIP.pass("cluster", format!("{vip} held by {}", names[*h])),
        _ => VIP.fail(
            "cluster",
            format!(
                "split brain: both {} and {} hold the VIP {vip}",
                names[0], names[1]
            ),
        ),
    }
}

/// MySQL answers through the VIP with the holder's server_id (connecting from the other
/// node with the replication account, which the holder allows from exactly there).
fn vip_sql(c: &PairCtx, holder: usize) -> Result<Check> {
    let (cluster, inv) = (c.cluster, c.inv);
    let id = facts::untyped(Fact::SqlThroughVip, || {
        facts::server_id_through_vip(cluster, inv, &c.secrets.replication_password, holder)
    })?;
    let want = inv.server_id(holder).to_string();
    Ok(if id == want {
        VIP_SQL.pass(
            "cluster",
            format!(
                "MySQL through {} answers with server_id {id} ({})",
                inv.vip.address, cluster.nodes[holder].name
            ),
        )
    } else {
        VIP_SQL.fail(
            "cluster",
            format!(
                "MySQL through {} answers with server_id {id}, the holder has {want}",
                inv.vip.address
            ),
        )
    })
}

/// Clock skew: read both clocks at once (in the round's batches, or each its own `date`)
/// and subtract, less half of the slower round trip.
fn clock_skew(c: &PairCtx) -> Result<Check> {
    let readings: Vec<Result<(f64, f64)>> = std::thread::scope(|scope| {
        let handles: Vec<_> = c
            .cluster
            .nodes
            .iter()
            .map(|node| {
                scope.spawn(move || {
                    let t0 = std::time::Instant::now();
                    // Its own thread (both clocks at once), so it declares again.
                    let clock = CLOCK_SKEW
                        .declared(|| crate::facts::get::<crate::facts::host::Clock>(node, &()))?;
                    // Read ahead in the round's batch (facts::prefetch): that batch's
                    // round trip bounds the error, as a lone `date`'s does.
                    let batched = node
                        .transport
                        .read_ahead()
                        .and_then(|r| r.round_trip_of(crate::os::host::CLOCK_QUERY));
                    let rtt = t0.elapsed().as_secs_f64().max(batched.unwrap_or(0.0));
                    let t = clock.map_err(|e| anyhow!("{}: {e}", node.name))?;
                    Ok((t, rtt))
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("clock thread"))
            .collect()
    });
    let a = readings[0].as_ref().map_err(|e| anyhow!("{e:#}"))?;
    let b = readings[1].as_ref().map_err(|e| anyhow!("{e:#}"))?;
    Ok(clock_skew_from(*a, *b))
}

/// `clock-skew` on two readings (clock in s, round trip in s).
pub fn clock_skew_from((a, rtt_a): (f64, f64), (b, rtt_b): (f64, f64)) -> Check {
    let skew = ((a - b).abs() - rtt_a.max(rtt_b) / 2.0).max(0.0);
    if skew <= SKEW_WARNING_S {
        CLOCK_SKEW.pass("cluster", format!("{skew:.3} s"))
    } else {
        CLOCK_SKEW.warn(
            "cluster",
            format!("clocks differ by {skew:.1} s: use NTP on both nodes"),
        )
    }
}
