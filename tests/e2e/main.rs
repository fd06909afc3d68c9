//! The lab end-to-end tests: one test binary (`cargo test --test e2e [NAME]`), one module
//! per area, each registering its scenarios with the `Scenario` builder of `support`.
//! Every scenario gets its own lab on a subnet claimed from a pool (`MHACTL_E2E_SUBNETS`);
//! independent scenarios run in parallel (`MHACTL_E2E_JOBS`, or `--test-threads`).
//! Without root a lab scenario shows as ignored; with `CI=true` it fails instead.

#[macro_use]
mod support;

mod access;
mod adopt;
mod bootstrap;
mod catch_up;
mod datadir;
mod durability;
mod failover;
mod fencing;
mod fleet;
mod fleet_signals;
mod gtid;
mod install;
mod interrupt;
mod inventory;
mod isolate;
mod json;
mod lab;
mod limit;
mod mariadb11;
mod mirror;
mod mysql;
mod paths;
mod reinit;
mod replication;
mod robustness;
mod rolling;
mod runbook_sql;
mod safety;
mod secrets;
mod secure_transport;
mod semisync;
mod status;
mod sudo;
mod switchover;
mod tickle;
mod tls;
mod verify;
mod verify_server;
mod vip_gaps;
mod vip_refuse;
mod vrrp_auth;

fn main() {
    support::scenario::run(&[
        support::scenarios,
        access::scenarios,
        adopt::scenarios,
        bootstrap::scenarios,
        catch_up::scenarios,
        datadir::scenarios,
        durability::scenarios,
        failover::scenarios,
        fencing::scenarios,
        fleet::scenarios,
        fleet_signals::scenarios,
        gtid::scenarios,
        install::scenarios,
        interrupt::scenarios,
        isolate::scenarios,
        json::scenarios,
        inventory::scenarios,
        lab::scenarios,
        limit::scenarios,
        mariadb11::scenarios,
        mirror::scenarios,
        mysql::scenarios,
        paths::scenarios,
        reinit::scenarios,
        replication::scenarios,
        robustness::scenarios,
        rolling::scenarios,
        safety::scenarios,
        secrets::scenarios,
        secure_transport::scenarios,
        semisync::scenarios,
        status::scenarios,
        sudo::scenarios,
        switchover::scenarios,
        tls::scenarios,
        verify::scenarios,
        verify_server::scenarios,
        vip_refuse::scenarios,
        vrrp_auth::scenarios,
    ])
}
