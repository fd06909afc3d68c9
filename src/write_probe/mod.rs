//! The write probe failover-test and switchover `--measure` share: a throw-away account
//! and table on both nodes (`account`) and a client that writes numbered rows through
//! the VIP at a steady rate and records every acknowledged write (`writer`), so both
//! commands measure the write gap and the lost writes the same way.

mod account;
pub mod writer;

pub use crate::schemas::{PROBE_DB, PROBE_USER};
pub use account::{cleanup, client_address, probe_rows, setup_probe};
