//! The `Scenario` builder and the harness that runs the scenarios as libtest trials
//! (`libtest-mimic`): filtering by name, `--test-threads`, `--list` and `--ignored` work
//! as in any `cargo test` binary. A scenario declares what it needs (a lab of a flavor,
//! bare subnets, nothing) and whether it must have the machine to itself; the harness
//! claims the subnets, brings the lab up, runs the scenario and takes the lab down.

use super::lab::Lab;
use super::subnets::Subnet;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::os::unix::fs::MetadataExt;
use std::sync::RwLock;
use std::time::Instant;

/// Scenarios at once when neither `--test-threads` nor `MHACTL_E2E_JOBS` says: measured
/// on the 2-core CI machine (docs/ci.md has the numbers).
const DEFAULT_JOBS: usize = 3;

/// Held shared by every scenario, exclusively by an `exclusive()` one.
static MACHINE: RwLock<()> = RwLock::new(());

/// Register `fn NAME(lab: Lab)` (or, with `subnets = N`, `fn NAME(Vec<Subnet>)`, or with
/// `without_lab`, `fn NAME()`) as the scenario "MODULE::NAME".
macro_rules! scenario {
    ($f:ident) => {
        $crate::support::Scenario::new(
            module_path!(),
            stringify!($f),
            $crate::support::Needs::Lab($f),
        )
    };
    ($f:ident, subnets = $n:expr) => {
        $crate::support::Scenario::new(
            module_path!(),
            stringify!($f),
            $crate::support::Needs::Subnets($n, $f),
        )
    };
    ($f:ident, without_lab) => {
        $crate::support::Scenario::new(
            module_path!(),
            stringify!($f),
            $crate::support::Needs::Nothing($f),
        )
    };
}

/// What a scenario needs before it starts, with the function that gets it.
pub enum Needs {
    /// A lab up on a claimed subnet (of the scenario's flavor).
    Lab(fn(Lab)),
    /// This many claimed subnets, nothing on them.
    Subnets(usize, fn(Vec<Subnet>)),
    /// Neither root nor a subnet: runs everywhere.
    Nothing(fn()),
}

/// One end-to-end scenario: a name, what it needs and how it runs.
pub struct Scenario {
    name: String,
    flavor: &'static str,
    exclusive: bool,
    needs: Needs,
}

impl Scenario {
    /// A scenario named after its module and function (see the `scenario!` macro).
    pub fn new(module: &str, function: &str, needs: Needs) -> Scenario {
        let module = module.split_once("::").map_or(module, |(_, m)| m);
        Scenario {
            name: format!("{module}::{function}"),
            flavor: "mariadb",
            exclusive: false,
            needs,
        }
    }

    /// The lab's flavor (`lab up --flavor`): mariadb unless said.
    pub fn flavor(mut self, flavor: &'static str) -> Scenario {
        self.flavor = flavor;
        self
    }

    /// Run with no other scenario on the machine: for scenarios that assert timings or
    /// throughput, which sharing two cores with other labs would make flaky.
    pub fn exclusive(mut self) -> Scenario {
        self.exclusive = true;
        self
    }

    fn into_trial(self, root: bool, ci: bool) -> Trial {
        let Scenario {
            name,
            flavor,
            exclusive,
            needs,
        } = self;
        let needs_root = !matches!(needs, Needs::Nothing(_));
        let trial_name = name.clone();
        Trial::ignorable_test(trial_name, move || {
            if needs_root && !root {
                if ci {
                    return Err(Failed::from(format!(
                        "{name}: CI=true but not running as root: the lab e2e tests must run in CI"
                    )));
                }
                return Ok(Completion::ignored_with(
                    "the lab needs root: run `sudo scripts/test`",
                ));
            }
            // A panicking scenario poisons the lock; the next ones still run.
            let _machine = if exclusive {
                Turn::Alone(MACHINE.write().unwrap_or_else(|e| e.into_inner()))
            } else {
                Turn::Shared(MACHINE.read().unwrap_or_else(|e| e.into_inner()))
            };
            let started = Instant::now();
            match needs {
                Needs::Lab(run) => run(Lab::up(Subnet::claim(), flavor)),
                Needs::Subnets(n, run) => run((0..n).map(|_| Subnet::claim()).collect()),
                Needs::Nothing(run) => run(),
            }
            eprintln!("{name}: done in {:.0} s", started.elapsed().as_secs_f64());
            Ok(Completion::Completed)
        })
        .with_kind(if exclusive { "exclusive" } else { "" })
    }
}

/// The guard that keeps the scenario's share of the machine while it runs.
enum Turn {
    Alone(#[allow(dead_code)] std::sync::RwLockWriteGuard<'static, ()>),
    Shared(#[allow(dead_code)] std::sync::RwLockReadGuard<'static, ()>),
}

/// Run every scenario of `groups` as one libtest-style test binary; never returns.
pub fn run(groups: &[fn() -> Vec<Scenario>]) -> ! {
    let mut args = Arguments::from_args();
    if args.test_threads.is_none() {
        args.test_threads = Some(jobs());
    }
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    let ci = std::env::var("CI").is_ok_and(|v| v == "true" || v == "1");
    let mut scenarios: Vec<Scenario> = groups.iter().flat_map(|g| g()).collect();
    // Exclusive scenarios first: while one runs the other workers wait anyway, and the
    // shared ones then fill the workers to the end.
    scenarios.sort_by_key(|s| !s.exclusive);
    let trials = scenarios
        .into_iter()
        .map(|s| s.into_trial(root, ci))
        .collect();
    libtest_mimic::run(&args, trials).exit()
}

/// `MHACTL_E2E_JOBS`, else [`DEFAULT_JOBS`].
fn jobs() -> usize {
    match std::env::var("MHACTL_E2E_JOBS") {
        Ok(v) => v
            .trim()
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("MHACTL_E2E_JOBS={v:?}: a whole number above 0")),
        Err(_) => DEFAULT_JOBS,
    }
}
