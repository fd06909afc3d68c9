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
    // Planning ahead (facts::prefetch) reads nothing and must not wait: one look.
    if crate::transport::speculating() {
        return match ready()? {
            true => Ok(()),
            false => Err(crate::transport::Speculated.into()),
        };
    }
    let deadline = Instant::now() + limit;
    let mut last_error = None;
    loop {
        match ready() {
            Ok(true) => return Ok(()),
            Ok(false) => {}
            // Planning ahead from another thread: nothing can be read, do not wait.
            Err(e) if crate::transport::is_speculated(&e) => return Err(e),
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

/// Check `ready` every `interval` until it says yes (`Ok(true)`) or `limit` passed
/// (`Ok(false)`: the caller decides what a timeout means). Unlike [`until`], an error
/// from `ready` ends the wait, and so does a signal (`Err(Interrupted)`, checked before
/// each look and during the sleeps): for waits after which a step would start changing
/// things.
pub fn until_interruptible(
    limit: Duration,
    interval: Duration,
    mut ready: impl FnMut() -> Result<bool>,
) -> Result<bool> {
    if crate::transport::speculating() {
        return ready();
    }
    let deadline = Instant::now() + limit;
    loop {
        crate::interrupt::check()?;
        if ready()? {
            return Ok(true);
        }
        if Instant::now() >= deadline {
            return Ok(false);
        }
        crate::interrupt::sleep(interval)?;
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
    fn an_interruptible_wait_says_whether_it_timed_out_and_stops_on_an_error() {
        let tick = Duration::from_millis(1);
        assert!(!until_interruptible(Duration::from_millis(5), tick, || Ok(false)).unwrap());
        let mut n = 0;
        assert!(until_interruptible(Duration::from_secs(5), tick, || {
            n += 1;
            Ok(n == 3)
        })
        .unwrap());
        let err = until_interruptible(Duration::from_secs(5), tick, || anyhow::bail!("gone"));
        assert_eq!(format!("{:#}", err.unwrap_err()), "gone");
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
