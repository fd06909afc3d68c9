//! Reports of fake clusters for the tests that check JSON documents without a lab
//! (tests/cli.rs: every field documented; tests/json_schema.rs: valid against the
//! schema): one failover-test report and one healthy status, so both tests see the same
//! shapes.

use mhactl::failover::{CatchUp, FailoverReport};
use mhactl::status::{NodeStatus, Replication, Role, StatusReport};

/// A passing `stop-mysqld` failover-test report (no isolate-only fields).
pub fn failover_report() -> FailoverReport {
    FailoverReport {
        ok: true,
        mode: "stop-mysqld".into(),
        replication: "async".into(),
        old_holder: "node-a".into(),
        new_holder: "node-b".into(),
        vip_moved_s: Some(1.95),
        write_gap_s: 2.23,
        writes_acked: 362,
        writes_failed: 82,
        writes_lost: 0,
        writes_missing_after_rejoin: 0,
        rejoined: true,
        healthy_after: true,
        catch_up: CatchUp {
            catch_up_s: Some(0.31),
            catch_up_backlog_bytes: Some(0),
        },
        double_holder_s: None,
        both_writable_s: None,
        fenced: None,
        cut_off_node_writes: None,
        vip_went_back: None,
        vip_released_s: None,
        detection: "process".into(),
        detection_s: Some(0.12),
        problems: vec![],
    }
}

/// `status` of a healthy pair `a` (VIP holder) and `b`, each replicating from the other.
pub fn healthy_status() -> StatusReport {
    let inv = mhactl::inventory::parse(
        "cluster: c\nnodes:\n  - name: a\n    address: 192.0.2.11\n  - name: b\n    address: 192.0.2.12\n\
         vip:\n  address: 192.0.2.100\n  interface: eth0\n  virtual_router_id: 9\n\
         credentials:\n  replication_password_env: X\n",
        "t.yaml",
    )
    .unwrap();
    let node = |name: &str, peer: (&str, &str), role| NodeStatus {
        name: name.into(),
        address: "192.0.2.11".into(),
        reachable: true,
        server_running: true,
        flavor: Some("mariadb".into()),
        version: Some("10.11.6".into()),
        server_id: Some(1),
        role,
        keepalived_running: Some(true),
        replication: Some(Replication {
            source_host: peer.1.into(),
            source_node: Some(peer.0.into()),
            io_running: true,
            sql_running: true,
            seconds_behind: Some(0),
            last_io_error: String::new(),
            last_sql_error: String::new(),
        }),
        errors: vec![],
    };
    mhactl::status::assess(
        &inv,
        vec![
            node("a", ("b", "192.0.2.12"), Role::VipHolder),
            node("b", ("a", "192.0.2.11"), Role::Standby),
        ],
    )
}
