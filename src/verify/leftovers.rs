//! The `probe-leftovers` check: what `failover-test` creates for its run (the
//! `mhactl_probe` account on each node and the `mhactl_probe` database) must not outlive
//! it. A leftover account means a run was killed before it could clean up (SIGKILL, a
//! lost connection); it is a login nobody manages, so it fails verify. A leftover
//! database is a warning: `failover-test --keep` keeps it on purpose.

use super::registry::{CheckKind, Fact, Run, Scope, When};
use super::{Check, Severity};
use crate::engine::Cluster;
use crate::schemas::{PROBE_DB, PROBE_USER};

const NAME: &str = PROBE_LEFTOVERS.name;

/// `probe-leftovers`: no `mhactl_probe` account (an error) or database (a warning). Run by
/// `verify::collect` after the other checks, in the same round (its reads in the round's
/// batches), but not by `check_cluster`, which failover-test runs while its probe exists.
pub const PROBE_LEFTOVERS: CheckKind = CheckKind {
    name: "probe-leftovers",
    severity: Severity::Error,
    scope: Scope::Node,
    reads: &[Fact::Accounts],
    when: When::Always,
    run: Run::Driver,
};

/// One check per node.
pub fn check(cluster: &Cluster) -> Vec<Check> {
    cluster
        .nodes
        .iter()
        .map(|node| {
            use crate::facts::accounts::{DatabaseExists, UserAccounts};
            let found = PROBE_LEFTOVERS.declared(|| -> anyhow::Result<_> {
                // Inside verify's round (`check_round`): the values its batches read.
                let accounts = crate::facts::get::<UserAccounts>(node, PROBE_USER)?;
                let database = crate::facts::get::<DatabaseExists>(node, PROBE_DB)?;
                Ok((accounts, database))
            });
            let (accounts, database) = match found {
                Ok(found) => found,
                Err(e) => return Check::fail(NAME, &node.name, format!("{e:#}")),
            };
            let accounts: Vec<String> = accounts
                .iter()
                .map(|(user, host)| crate::dialect::quote_account(user, host))
                .collect();
            if !accounts.is_empty() {
                Check::fail(
                    NAME,
                    &node.name,
                    format!(
                        "failover-test's probe account {} is still there (a run that was killed before it \
                         could clean up); drop it on {}: {}{}",
                        accounts.join(", "),
                        node.name,
                        crate::dialect::drop_accounts_advice_sql(&accounts),
                        if database {
                            format!(
                                "; and the database: {}",
                                crate::dialect::drop_database_advice_sql(PROBE_DB)
                            )
                        } else {
                            String::new()
                        }
                    ),
                )
            } else if database {
                Check::warn(
                    NAME,
                    &node.name,
                    format!(
                        "the database {PROBE_DB} is still there (kept by `failover-test --keep`, or left \
                         by a killed run); {} removes it from both nodes",
                        crate::dialect::drop_database_advice_sql(PROBE_DB)
                    ),
                )
            } else {
                Check::pass(NAME, &node.name, "no probe account or database left by failover-test")
            }
        })
        .collect()
}
