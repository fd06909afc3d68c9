//! GTID statements: reading a MySQL server's GTID state, seeding `gtid_purged` on a
//! fresh node, asking whether one GTID set contains another, the server options of a
//! pair that replicates by GTID, and where a new GTID replica starts. Which flavor has
//! which GTID model is [`super::GtidModel`].
//!
//! A new replica starts at its source's *current* GTID state, as a new file/position
//! replica starts at the source's current binary log position: the source's earlier
//! transactions (mhactl's own account set-up on a fresh server) are not replayed on the
//! replica. MariaDB: `gtid_slave_pos` is set to the source's `gtid_binlog_pos` (MariaDB
//! KB, "GTID": "Setting up a new replica server"); MySQL: the source's `gtid_executed`
//! less what this node executed is added to `gtid_purged` (`+` form, MySQL 8.0+; the
//! refman, `gtid_purged`).

use super::{quote_string, Dialect};
use crate::inventory::ServerFamily;

impl Dialect {
    /// MySQL's GTID state: rows `mode`, `executed`, `uuid` (`gtid_mode`, `gtid_executed`,
    /// `server_uuid`). `None` on MariaDB, which has no `gtid_mode` and always records
    /// its domain-server-sequence GTIDs.
    pub fn gtid_state_sql(&self) -> Option<String> {
        match self.family() {
            ServerFamily::Mysql => Some(
                "SELECT @@GLOBAL.gtid_mode AS mode, @@GLOBAL.gtid_executed AS executed, \
                 @@GLOBAL.server_uuid AS uuid"
                    .into(),
            ),
            ServerFamily::Mariadb => None,
        }
    }
}

impl Dialect {
    /// Whether mhactl positions replicas of this server by GTID: MariaDB 10.0.9+
    /// (`MASTER_USE_GTID` 10.0.2, `gtid_strict_mode` 10.0.3, `MASTER_GTID_WAIT` 10.0.9),
    /// MySQL 8.0+ (`gtid_purged = '+set'`, which a new replica's start needs).
    pub fn gtid_positioning_supported(&self) -> bool {
        match self.family() {
            ServerFamily::Mariadb => self.v().mariadb_at_least(10, 0, 9),
            ServerFamily::Mysql => self.v().mysql_at_least(8, 0, 0),
        }
    }

    /// my.cnf options of a node whose replicas position by GTID. MariaDB: strict mode (a
    /// GTID out of order in its domain stops replication instead of diverging) and this
    /// node's own replication domain `domain_id` (both nodes take writes: one domain per
    /// writer, docs/compatibility.md); MySQL: GTIDs on, with the consistency they need.
    pub fn gtid_server_options(&self, domain_id: u32) -> Vec<(String, String)> {
        let o = |k: &str, v: String| (k.to_string(), v);
        match self.family() {
            ServerFamily::Mariadb => vec![
                o("gtid_strict_mode", "ON".into()),
                o("gtid_domain_id", domain_id.to_string()),
            ],
            ServerFamily::Mysql => vec![
                o("gtid_mode", "ON".into()),
                o("enforce_gtid_consistency", "ON".into()),
            ],
        }
    }

    /// The GTID position at the source's binary log coordinates `at` (a dump's), one
    /// value `gtid`: MariaDB `BINLOG_GTID_POS` (MariaDB KB, "GTID": setting up a new
    /// replica from a backup); `None` on MySQL, whose dump declares the GTIDs itself
    /// (`SET @@GLOBAL.GTID_PURGED`, mysqldump `--set-gtid-purged=AUTO`).
    pub fn gtid_at_coordinates_sql(&self, at: &super::BinlogCoordinates) -> Option<String> {
        match self.family() {
            ServerFamily::Mariadb => Some(format!(
                "SELECT BINLOG_GTID_POS({}, {}) AS gtid",
                quote_string(&at.file),
                at.position
            )),
            ServerFamily::Mysql => None,
        }
    }

    /// The source's GTID state a new replica starts from, as one value `gtid`: MariaDB
    /// `gtid_binlog_pos` (the last GTID per domain in its binary log), MySQL
    /// `gtid_executed`.
    pub fn gtid_source_state_sql(&self) -> String {
        match self.family() {
            ServerFamily::Mariadb => "SELECT @@GLOBAL.gtid_binlog_pos AS gtid",
            ServerFamily::Mysql => "SELECT @@GLOBAL.gtid_executed AS gtid",
        }
        .into()
    }

    /// What to ask the replica before seeding it with its source's state `source`, one
    /// value `value`: MySQL, the part of `source` it has not executed (only that may be
    /// added to `gtid_purged`); MariaDB, its own `gtid_binlog_pos` (its slave position
    /// may not lack, or be behind, a domain its own binary log has: error 1948/1947).
    pub fn gtid_seed_query(&self, source: &str) -> String {
        match self.family() {
            ServerFamily::Mariadb => "SELECT @@GLOBAL.gtid_binlog_pos AS value".into(),
            ServerFamily::Mysql => format!(
                "SELECT GTID_SUBTRACT({}, @@GLOBAL.gtid_executed) AS value",
                quote_string(source)
            ),
        }
    }

    /// The statement making a stopped, new replica start after its source's state
    /// `source`, given the [`Dialect::gtid_seed_query`] answer `value`; `None` when there
    /// is nothing to declare (MySQL, nothing missing). MariaDB: per domain the source's
    /// GTID, or the replica's own where its binary log is further or the source has none
    /// ([`merge_mariadb_positions`]: what it logged itself it need not get back).
    pub fn gtid_seed_sql(&self, source: &str, value: &str) -> Option<String> {
        let value = value.trim();
        match self.family() {
            ServerFamily::Mariadb => Some(format!(
                "SET GLOBAL gtid_slave_pos = {}",
                quote_string(&merge_mariadb_positions(source, value))
            )),
            ServerFamily::Mysql if value.is_empty() => None,
            ServerFamily::Mysql => Some(format!(
                "SET @@GLOBAL.gtid_purged = {}",
                quote_string(&format!("+{value}"))
            )),
        }
    }
}

/// Two MariaDB GTID positions merged per domain: the GTID with the higher sequence
/// number (`source`'s on a tie), in domain order; an unreadable position is taken as
/// it is (`source`), the server then refuses it with its own error.
pub fn merge_mariadb_positions(source: &str, own: &str) -> String {
    let (Some(source_gtids), Some(own_gtids)) = (
        parse_mariadb_gtid_position(source),
        parse_mariadb_gtid_position(own),
    ) else {
        return source.trim().to_string();
    };
    let mut merged: Vec<MariadbGtid> = source_gtids;
    for g in own_gtids {
        match merged.iter_mut().find(|m| m.domain == g.domain) {
            Some(m) if m.seq < g.seq => *m = g,
            Some(_) => {}
            None => merged.push(g),
        }
    }
    merged.sort_by_key(|g| g.domain);
    merged
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// Declares `executed` (a MySQL GTID set) as already applied on a fresh server, as a
/// dump made with `--set-gtid-purged` would.
pub fn set_gtid_purged_sql(executed: &str) -> String {
    format!("SET @@GLOBAL.gtid_purged = {}", quote_string(executed))
}

/// MySQL: the errant transactions of this server in a pair whose peer executed
/// `peer_set`: what it executed, less what the peer executed, less what it originated
/// itself (its own `server_uuid`, in flight to the peer); row `errant`, a GTID set (empty:
/// none). What is left came from somewhere else than this node's clients and its peer
/// (another source, a restored backup, a write with the binary log off and a GTID set
/// by hand) and the peer lacks it; docs/verify.md.
pub fn errant_gtids_sql(peer_set: &str) -> String {
    format!(
        "SELECT GTID_SUBTRACT(GTID_SUBTRACT(@@GLOBAL.gtid_executed, {}), \
         CONCAT(@@GLOBAL.server_uuid, ':1-9223372036854775806')) AS errant",
        quote_string(peer_set)
    )
}

/// One GTID of a MariaDB GTID position (`domain-server-sequence`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MariadbGtid {
    /// Replication domain.
    pub domain: u32,
    /// Server that logged it first.
    pub server: u32,
    /// Sequence number in the domain.
    pub seq: u64,
}

impl std::fmt::Display for MariadbGtid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}-{}", self.domain, self.server, self.seq)
    }
}

/// Parses a MariaDB GTID position (`1-1-103,2-2-82`; empty: none); `None` when a part is
/// not `domain-server-sequence`.
pub fn parse_mariadb_gtid_position(position: &str) -> Option<Vec<MariadbGtid>> {
    position
        .split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| {
            let mut it = p.split('-');
            let gtid = MariadbGtid {
                domain: it.next()?.parse().ok()?,
                server: it.next()?.parse().ok()?,
                seq: it.next()?.parse().ok()?,
            };
            it.next().is_none().then_some(gtid)
        })
        .collect()
}

/// What a MariaDB node has of one domain, as an errant-transaction test compares it.
fn seq_in(gtids: &[MariadbGtid], domain: u32) -> Option<u64> {
    gtids.iter().find(|g| g.domain == domain).map(|g| g.seq)
}

/// The two nodes' MariaDB GTID positions an errant-transaction test compares.
#[derive(Debug, Clone, Copy)]
pub struct MariadbPair<'a> {
    /// This node's `gtid_binlog_pos` (what it logged).
    pub mine: &'a [MariadbGtid],
    /// This node's own domain (`gtid_domain_id`).
    pub own_domain: u32,
    /// The peer's `gtid_binlog_pos`.
    pub peer_binlog: &'a [MariadbGtid],
    /// The peer's `gtid_slave_pos` (what it applied from this node).
    pub peer_slave: &'a [MariadbGtid],
    /// The peer's own domain.
    pub peer_domain: u32,
}

/// MariaDB: this node's errant transactions: per domain other than its own in its
/// `gtid_binlog_pos`, its last GTID when the peer has not executed that far. What the
/// peer executed of a domain: in the peer's own domain, its binary log (whatever the peer
/// executed there is logged there: its own writes, and an event that reached it by
/// replication claiming its domain, which MariaDB 10.11 applies and logs, seen on the
/// lab; `gtid_slave_pos` alone would count such an event even where it was not applied),
/// or its `gtid_slave_pos` when its binary log has nothing there yet (a node just rebuilt
/// by reinit); in any other domain (a third writer) the further
/// of its binary log and its `gtid_slave_pos`. This node's own domain is left out: its
/// transactions may be in flight to the peer. docs/verify.md, "Errant transactions".
pub fn mariadb_errant(p: MariadbPair<'_>) -> Vec<MariadbGtid> {
    p.mine
        .iter()
        .filter(|g| g.domain != p.own_domain)
        .filter(|g| {
            let binlog = seq_in(p.peer_binlog, g.domain);
            let slave = seq_in(p.peer_slave, g.domain);
            let executed = if g.domain == p.peer_domain {
                binlog.or(slave)
            } else {
                binlog.max(slave)
            };
            executed.is_none_or(|seq| seq < g.seq)
        })
        .copied()
        .collect()
}

/// MySQL: the lowest sequence number of `uuid`'s transactions in the GTID set `set`
/// (`uuid:6-9:12,other:1-3` -> 6 for `uuid`); `None` when the set has none of them.
pub fn first_gtid_sequence(set: &str, uuid: &str) -> Option<u64> {
    set.split(',')
        .filter_map(|part| {
            let mut fields = part.trim().split(':');
            let source = fields.next()?.trim();
            if !source.eq_ignore_ascii_case(uuid) {
                return None;
            }
            fields
                .filter_map(|interval| interval.split('-').next()?.trim().parse::<u64>().ok())
                .min()
        })
        .min()
}

/// MySQL: the transactions `peer_uuid` originated before `first` (its first transaction
/// this server executed through replication) that the peer executed (`peer_set`) and
/// this server lacks; row `gap`, a GTID set (empty: none). A replica that positions by
/// file and started at a later position never receives them.
pub fn pre_replication_gtids_sql(peer_set: &str, peer_uuid: &str, first: u64) -> String {
    let prior = format!("{peer_uuid}:1-{}", first.saturating_sub(1));
    format!(
        "SELECT GTID_SUBTRACT(m.s, GTID_SUBTRACT(m.s, {})) AS gap FROM \
         (SELECT GTID_SUBTRACT({}, @@GLOBAL.gtid_executed) AS s) AS m",
        quote_string(&prior),
        quote_string(peer_set)
    )
}

/// MySQL 8.0+: adds `set` to `gtid_purged` (and so to `gtid_executed`): the server
/// counts those transactions as applied without running them.
pub fn add_gtid_purged_sql(set: &str) -> String {
    format!(
        "SET @@GLOBAL.gtid_purged = {}",
        quote_string(&format!("+{set}"))
    )
}

/// Whether this server executed every transaction of `set` (a MySQL GTID set): row `s`
/// is `1` when it did.
pub fn gtid_subset_of_executed_sql(set: &str) -> String {
    format!(
        "SELECT GTID_SUBSET({}, @@GLOBAL.gtid_executed) AS s",
        quote_string(set)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_gtid_sequence_reads_one_sources_intervals() {
        let set = "aaa:6-9:3,\nbbb:1-10";
        assert_eq!(first_gtid_sequence(set, "aaa"), Some(3));
        assert_eq!(first_gtid_sequence(set, "BBB"), Some(1));
        assert_eq!(first_gtid_sequence(set, "ccc"), None);
        assert_eq!(first_gtid_sequence("", "aaa"), None);
        assert_eq!(
            pre_replication_gtids_sql("aaa:1-9", "aaa", 6),
            "SELECT GTID_SUBTRACT(m.s, GTID_SUBTRACT(m.s, 'aaa:1-5')) AS gap FROM \
             (SELECT GTID_SUBTRACT('aaa:1-9', @@GLOBAL.gtid_executed) AS s) AS m"
        );
        assert_eq!(
            add_gtid_purged_sql("aaa:1-5"),
            "SET @@GLOBAL.gtid_purged = '+aaa:1-5'"
        );
    }

    fn d(s: &str) -> Dialect {
        Dialect::from_version_string(s).unwrap()
    }

    #[test]
    fn gtid_support_and_options_per_flavor() {
        assert!(d("10.11.18-MariaDB").gtid_positioning_supported());
        assert!(d("8.0.36").gtid_positioning_supported());
        assert!(!d("5.7.44-log").gtid_positioning_supported());
        assert_eq!(
            d("10.11.18-MariaDB").gtid_server_options(2),
            vec![
                ("gtid_strict_mode".to_string(), "ON".to_string()),
                ("gtid_domain_id".to_string(), "2".to_string())
            ]
        );
        assert_eq!(
            d("8.4.3").gtid_server_options(2),
            vec![
                ("gtid_mode".to_string(), "ON".to_string()),
                ("enforce_gtid_consistency".to_string(), "ON".to_string())
            ]
        );
    }

    #[test]
    fn errant_transactions_are_what_the_node_did_not_originate_and_the_peer_lacks() {
        assert_eq!(
            errant_gtids_sql("u2:1-5"),
            "SELECT GTID_SUBTRACT(GTID_SUBTRACT(@@GLOBAL.gtid_executed, 'u2:1-5'), \
             CONCAT(@@GLOBAL.server_uuid, ':1-9223372036854775806')) AS errant"
        );
        let p = |s: &str| parse_mariadb_gtid_position(s).unwrap();
        assert_eq!(p(""), vec![]);
        assert_eq!(p("1-1-103, 2-2-82").len(), 2);
        assert_eq!(parse_mariadb_gtid_position("1-1"), None);
        assert_eq!(parse_mariadb_gtid_position("1-1-2-3"), None);
        let errant = |mine: &str, peer_binlog: &str, peer_slave: &str| -> Vec<String> {
            mariadb_errant(MariadbPair {
                mine: &p(mine),
                own_domain: 1,
                peer_binlog: &p(peer_binlog),
                peer_slave: &p(peer_slave),
                peer_domain: 2,
            })
            .iter()
            .map(ToString::to_string)
            .collect()
        };
        // node-a (domain 1): in step with node-b; its own domain ahead (in flight): fine.
        assert!(errant("1-1-110,2-2-82", "1-1-103,2-2-82", "1-1-103").is_empty());
        // node-b just rebuilt: nothing of its domain in its binary log yet, its slave
        // position has it.
        assert!(errant("1-1-110,2-2-82", "", "1-1-103,2-2-82").is_empty());
        // Ahead of node-b in node-b's own domain (node-b's replica skipped and counted
        // it: its slave position does not excuse it), or a third writer's domain node-b
        // lacks.
        assert_eq!(
            errant("1-1-110,2-2-90,7-7-3", "1-1-103,2-2-82", "1-1-103,2-2-90"),
            ["2-2-90", "7-7-3"]
        );
        // A third domain node-b applied (slave position) is not errant.
        assert!(errant("7-7-3", "", "7-7-3").is_empty());
    }

    #[test]
    fn a_new_replica_is_seeded_with_its_sources_state() {
        let maria = d("10.11.18-MariaDB");
        assert!(maria.gtid_source_state_sql().contains("gtid_binlog_pos"));
        assert_eq!(
            maria.gtid_seed_query("2-2-7"),
            "SELECT @@GLOBAL.gtid_binlog_pos AS value"
        );
        assert_eq!(
            maria.gtid_seed_sql("2-2-7", "").as_deref(),
            Some("SET GLOBAL gtid_slave_pos = '2-2-7'")
        );
        // An empty source state is a state too: the replica starts at the beginning.
        assert_eq!(
            maria.gtid_seed_sql("", "").as_deref(),
            Some("SET GLOBAL gtid_slave_pos = ''")
        );
        // The replica's own domain (and any it is further in) stays its own (reinit: the
        // rebuilt peer has not logged the survivor's transactions yet).
        assert_eq!(
            maria.gtid_seed_sql("1-1-4", "1-1-3,2-2-7").as_deref(),
            Some("SET GLOBAL gtid_slave_pos = '1-1-4,2-2-7'")
        );
        assert_eq!(
            merge_mariadb_positions("2-2-9,1-1-4", "2-2-7"),
            "1-1-4,2-2-9"
        );
        assert_eq!(merge_mariadb_positions("junk", "2-2-7"), "junk");
        let mysql = d("8.4.3");
        assert!(mysql.gtid_source_state_sql().contains("gtid_executed"));
        assert_eq!(
            mysql.gtid_seed_query("u:1-5"),
            "SELECT GTID_SUBTRACT('u:1-5', @@GLOBAL.gtid_executed) AS value"
        );
        assert_eq!(
            mysql.gtid_seed_sql("u:1-5", "u:3-5").as_deref(),
            Some("SET @@GLOBAL.gtid_purged = '+u:3-5'")
        );
        assert_eq!(mysql.gtid_seed_sql("u:1-5", " "), None);
        let at = crate::dialect::BinlogCoordinates {
            file: "mysql-bin.000002".into(),
            position: 4242,
        };
        assert_eq!(
            maria.gtid_at_coordinates_sql(&at).as_deref(),
            Some("SELECT BINLOG_GTID_POS('mysql-bin.000002', 4242) AS gtid")
        );
        assert_eq!(mysql.gtid_at_coordinates_sql(&at), None);
    }
}
