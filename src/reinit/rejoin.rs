//! Step 4 of a rebuild: the fresh node replicates from its peer from exactly the copy's
//! snapshot, by binary log file and position or, for a pair that positions by GTID
//! (issue 19), by GTID: MySQL's dump already declared the peer's GTIDs up to the
//! snapshot (`SET @@GLOBAL.GTID_PURGED`); on MariaDB the node's `gtid_slave_pos` is the
//! peer's GTID position at the snapshot's coordinates (`BINLOG_GTID_POS`). Either way
//! nothing of the peer's is applied twice or skipped.

use crate::dialect::{BinlogCoordinates, Repoint, RepointStart};
use crate::engine::NodeHandle;
use crate::facts;
use crate::inventory::{Inventory, Secrets};
use anyhow::Result;

/// Points node `target` (`node`) at `peer` from the snapshot at `at` (the peer's
/// coordinates the dump recorded) and starts it. The peer's replication account for
/// the node's address is unchanged; TLS as the inventory says (the node keeps its TLS
/// files and option file through a reinit).
pub(super) fn replicate_from_snapshot(
    node: &NodeHandle,
    peer: &NodeHandle,
    inv: &Inventory,
    secrets: &Secrets,
    target: usize,
    at: BinlogCoordinates,
) -> Result<()> {
    let (d, pd) = (facts::dialect(node)?, facts::dialect(peer)?);
    let by_gtid = crate::positioning::by_gtid(inv, &pd);
    // MariaDB: where the snapshot is in the peer's GTID position, read before the node's
    // replica starts (the peer's binary log still holds the snapshot's file).
    let seed = match pd.gtid_at_coordinates_sql(&at) {
        Some(sql) if by_gtid => {
            let gtid = peer
                .with_sql(|q| q.query(&sql))?
                .first()
                .and_then(|r| crate::sql::get(r, "gtid"))
                .map(str::to_string)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "{}: BINLOG_GTID_POS({at}) returned nothing: the snapshot's GTID \
                         position is unknown",
                        peer.name
                    )
                })?;
            let own = node
                .with_sql(|q| q.query(&d.gtid_seed_query(&gtid)))?
                .first()
                .and_then(|r| crate::sql::get(r, "value"))
                .unwrap_or_default()
                .to_string();
            d.gtid_seed_sql(&gtid, &own)
        }
        _ => None,
    };
    let repoint = Repoint {
        host: inv.peer(target).address.to_string(),
        port: inv.mysql.port,
        user: inv.mysql.replication_user.clone(),
        password: secrecy::ExposeSecret::expose_secret(&secrets.replication_password).to_string(),
        connect_retry: crate::bootstrap::replication::CONNECT_RETRY_S,
        start: if by_gtid {
            RepointStart::UseGtid
        } else {
            RepointStart::Executed(at)
        },
    };
    // The peer's account requires TLS (issue 19): the replica uses it from the start,
    // verifying the peer against the CA the node keeps.
    let tls = match inv.tls.enabled {
        true => {
            let (os, _) = facts::os_target(node, inv.mysql.flavor)?;
            Some(crate::os::tls::tls_path(&os, crate::os::tls::CA_FILE))
        }
        false => None,
    };
    node.with_admin_write(|s| {
        s.exec(&d.stop_replica_sql())?;
        if let Some(statement) = &seed {
            s.exec(statement)?;
        }
        s.exec(&d.repoint_source_sql(&repoint))?;
        if tls.is_some() {
            s.exec(&d.replica_tls_sql(tls.as_deref()))?;
        }
        s.exec(&d.start_replica_sql())
    })
}
