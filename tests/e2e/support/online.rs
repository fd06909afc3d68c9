//! A change made to a running pair under a writer through the VIP, and the checks every
//! such scenario makes afterwards (GTID conversion, certificate rotation): no write
//! failed, every acknowledged write is on both nodes, the VIP never moved or showed up
//! on the wrong node, and no server restarted. The writer inserts into
//! `rolling.t` (see crate::rolling::Writer) as the inventory's `app` account.

use super::{converged_rows, Lab};
use crate::rolling::{VipWatch, Writer};
use std::time::Duration;

/// The writer, the VIP watch and the servers' uptimes, started before the change.
pub struct UnderWriter<'a> {
    lab: &'a Lab,
    holder: &'static str,
    uptimes: [u64; 2],
    watch: VipWatch,
    writer: Writer,
}

/// A server's `Uptime` in seconds.
fn uptime(lab: &Lab, node: &str) -> u64 {
    let out = lab.root_sql(node, "SHOW GLOBAL STATUS LIKE 'Uptime'");
    out.split_whitespace().last().unwrap().parse().unwrap()
}

impl<'a> UnderWriter<'a> {
    /// Starts watching the VIP (held by `holder`) and writing through it; returns once
    /// writes flow (2 s).
    pub fn start(lab: &'a Lab, holder: &'static str) -> Self {
        let uptimes = [uptime(lab, "node-a"), uptime(lab, "node-b")];
        let watch = VipWatch::start(lab, holder);
        let writer = Writer::start(&lab.addr(100));
        std::thread::sleep(Duration::from_secs(2));
        UnderWriter {
            lab,
            holder,
            uptimes,
            watch,
            writer,
        }
    }

    /// Lets writes go on 2 s after the change `what`, stops, and asserts: no write
    /// failed, more than 20 acknowledged, all of them on both nodes, the VIP stayed on
    /// the holder (at least 5 samples, never elsewhere), no server restarted. Returns
    /// the number of acknowledged writes.
    pub fn finish(self, what: &str) -> usize {
        std::thread::sleep(Duration::from_secs(2));
        let (acked, errors) = self.writer.stop();
        let (samples, wrong, holders) = self.watch.stop();
        assert!(errors.is_empty(), "writes failed during {what}: {errors:?}");
        assert!(acked > 20, "only {acked} writes acknowledged during {what}");
        let count = converged_rows(self.lab, "SELECT COUNT(*) FROM rolling.t", 1, |l, n, q| {
            l.root_sql(n, q)
        });
        assert_eq!(
            count.trim(),
            acked.to_string(),
            "acknowledged writes lost during {what}"
        );
        assert!(
            samples >= 5 && wrong.is_empty(),
            "{what}: {samples} samples, {wrong:?}"
        );
        assert_eq!(holders, vec![self.holder], "the VIP moved during {what}");
        let after = [uptime(self.lab, "node-a"), uptime(self.lab, "node-b")];
        assert!(
            after[0] >= self.uptimes[0] && after[1] >= self.uptimes[1],
            "a server restarted during {what}: {:?} → {after:?}",
            self.uptimes
        );
        acked
    }
}
