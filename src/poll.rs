//! Waiting for remote state to change (a daemon to start, the VIP to move, a replica to
//! catch up): one polling loop, so every wait in mhactl behaves and fails the same way.

use anyhow::{bail, Result};
use std::time::{Duration, Instant};

/// How often a condition is checked.
const INTERVAL: Duration = Duration::from_millis(200);

/// Check `ready` every 200 ms until it says yes, or fail after `limit`. An error from
/// `ready` counts as "not yet" (the thing waited for may not answer yet), and the last
/// one is part of the timeout message.
pub fn until(limit: Duration, mut ready: impl FnMut() -> Result<bool>) -> Result<()> {
    let deadline = Instant::now() + limit;
    let mut last_error = None;
    loop {
        match ready() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            Err(e) => last_error = Some(format!("{e:#}")),
        }
        if Instant::now() >= deadline {
            match last_error {
                Some(e) => bail!(
                    "timed out after {:.0} s (last error: {e})",
                    limit.as_secs_f64()
                ),
                None => bail!("timed out after {:.0} s", limit.as_secs_f64()),
            }
        }
        std::thread::sleep(INTERVAL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn returns_once_ready() {
        let mut n = 0;
        until(Duration::from_secs(5), || {
            n += 1;
            Ok(n >= 2)
        })
        .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn times_out_with_the_last_error() {
        let err = until(Duration::from_millis(10), || anyhow::bail!("no socket")).unwrap_err();
        assert!(
            format!("{err:#}").contains("last error: no socket"),
            "{err:#}"
        );
    }
}
