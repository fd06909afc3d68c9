//! What every e2e scenario shares, written once: the `Scenario` builder and harness, the
//! subnet pool, the lab, running mhactl (plain, in the background, under a deadline).

pub mod lab;
pub mod online;
pub mod process;
pub mod run;
#[macro_use]
pub mod scenario;
pub mod subnets;

pub use lab::{converged_rows, Lab};
pub use online::UnderWriter;
pub use process::{mhactl_within, Run};
pub use run::{
    changed_steps, changed_with_detail, failover_test_json, failover_test_json_for, json, mhactl,
    mhactl_json, mhactl_ok, step_lines, text,
};
pub use scenario::{Needs, Scenario};
pub use subnets::Subnet;

/// The harness's own checks (no lab).
pub fn scenarios() -> Vec<Scenario> {
    vec![Scenario::new(
        module_path!(),
        "subnet_pool_syntax",
        Needs::Nothing(subnets::pool_lists_ranges_and_single_subnets),
    )]
}
