//! The write probe failover-test and switchover `--measure` share: a throw-away account
//! and table on both nodes (`account`) and a client that writes numbered rows through
//! the VIP at a steady rate and records every acknowledged write (`writer`), so both
//! commands measure the write gap and the lost writes the same way.

mod account;
pub mod writer;

pub use crate::schemas::{PROBE_DB, PROBE_USER};
pub use account::{cleanup, client_address, probe_rows, setup_probe};

/// Start the writer through the VIP as [`PROBE_USER`] every `interval`, let it write for
/// 2 s, and fail (stopping it) when it could not write once: a measurement through a VIP
/// that takes no write would mean nothing. `before` names what comes next ("the fault").
pub fn start_writing(
    inv: &crate::inventory::Inventory,
    password: &str,
    interval: std::time::Duration,
    before: &str,
) -> anyhow::Result<writer::Writer> {
    let writer = writer::Writer::start(
        inv.vip.address,
        inv.mysql.port,
        PROBE_USER,
        password,
        crate::tls::client_ca_path(inv).as_deref(),
        interval,
    );
    if let Err(e) = crate::interrupt::sleep(std::time::Duration::from_secs(2)) {
        writer.stop();
        return Err(e);
    }
    if writer.acked_count() == 0 {
        let err = writer.last_error();
        writer.stop();
        anyhow::bail!(
            "the writer could not write through the VIP before {before}: {}",
            err.unwrap_or_default()
        );
    }
    Ok(writer)
}
