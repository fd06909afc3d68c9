//! Names of the database and account mhactl itself creates on the servers, in the
//! lowest layer: failover-test creates them, verify looks for what a run left behind,
//! and the rendered my.cnf replicates the database.

/// Database and table the failover-test writer inserts into.
pub const PROBE_DB: &str = "mhactl_probe";
/// The account the writer uses (created for the run, dropped afterwards).
pub const PROBE_USER: &str = "mhactl_probe";
