//! Planning ahead without touching a node (issue 21, [`crate::facts::prefetch`]): the
//! speculation flag (this thread's, and each transport's through
//! [`super::Transport::speculation`]), the error a refused read fails with, and the
//! commands read ahead for a run ([`ReadAhead`]).

use super::{CommandOutput, RemoteCommand};
use anyhow::Result;

thread_local! {
    static SPECULATING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    static EXEMPT: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Is this thread exempt from the transports' speculation flags ([`exempt`])?
pub fn exempt_from_speculation() -> bool {
    EXEMPT.with(std::cell::Cell::get)
}

/// Make this thread's reads real whatever the transports' speculation flags say: for
/// a thread that works ahead on its own (the SQL login made while the first batch runs,
/// `connect`), which no plan started and whose reads no plan wants batched.
pub fn exempt() {
    EXEMPT.with(|e| e.set(true));
}

/// Is this thread planning speculatively ([`crate::facts::prefetch`]): reads are
/// collected to be batched, and no transport may do anything on a node?
pub fn speculating() -> bool {
    SPECULATING.with(std::cell::Cell::get)
}

/// While this guard lives, this thread speculates (see [`speculating`]).
pub struct Speculation(bool);

/// Start speculating on this thread until the guard is dropped.
pub fn speculate() -> Speculation {
    Speculation(SPECULATING.with(|s| s.replace(true)))
}

impl Drop for Speculation {
    fn drop(&mut self) {
        SPECULATING.with(|s| s.set(self.0));
    }
}

/// What a read attempted while speculating fails with: nothing ran.
#[derive(Debug)]
pub struct Speculated;

impl std::fmt::Display for Speculated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not read yet (planning ahead to batch the reads)")
    }
}

impl std::error::Error for Speculated {}

/// Commands a speculative plan ran directly (not through a fact: a step's own read),
/// read ahead in the next batch ([`crate::facts::prefetch`]) and answered from here:
/// while speculating as often as asked, so the plan gets further; in the real run once
/// (then the command runs again). Only commands without input. Dropped with the facts
/// whenever anything changed ([`crate::facts::changed`]) and before the engine applies
/// a change, so an action never finds a read's answer here.
#[derive(Debug, Default)]
pub struct ReadAhead {
    wanted: std::sync::Mutex<Vec<String>>,
    ready: std::sync::Mutex<std::collections::HashMap<String, CommandOutput>>,
    /// How long the batch that read each answer took (a clock read's error bound).
    round_trips: std::sync::Mutex<std::collections::HashMap<String, f64>>,
    /// Set while verify plans its round ahead: reads that must be of the moment (facts
    /// never cached, `fresh` reads) are read ahead too, in the round's batches, and
    /// answered once ([`crate::facts::prefetch::warm_with_moment_reads`]).
    moment: std::sync::atomic::AtomicBool,
}

impl ReadAhead {
    /// The answer for `cmd` if it was read ahead (see the type's doc), else while
    /// speculating note it as wanted and refuse; `Ok(None)`: run it.
    pub fn answer(&self, cmd: &RemoteCommand, speculating: bool) -> Result<Option<CommandOutput>> {
        if cmd.stdin.is_some() {
            return match speculating {
                true => Err(Speculated.into()),
                false => Ok(None),
            };
        }
        let mut ready = self
            .ready
            .lock()
            .map_err(|_| anyhow::anyhow!("read-ahead poisoned"))?;
        if speculating {
            if let Some(out) = ready.get(&cmd.script) {
                return Ok(Some(out.clone()));
            }
            let mut wanted = self
                .wanted
                .lock()
                .map_err(|_| anyhow::anyhow!("read-ahead poisoned"))?;
            if !wanted.contains(&cmd.script) {
                wanted.push(cmd.script.clone());
            }
            return Err(Speculated.into());
        }
        Ok(ready.remove(&cmd.script))
    }

    /// Are reads of the moment read ahead too (see the field's doc)?
    pub fn moment_reads(&self) -> bool {
        self.moment.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Read the reads of the moment ahead too (`true`), or not.
    pub fn set_moment_reads(&self, on: bool) {
        self.moment.store(on, std::sync::atomic::Ordering::SeqCst);
    }

    /// The commands wanted since the last call.
    pub fn take_wanted(&self) -> Vec<String> {
        self.wanted
            .lock()
            .map(|mut w| std::mem::take(&mut *w))
            .unwrap_or_default()
    }

    /// Keep `out` as the answer for `script`, read by a batch that took `round_trip_s`.
    pub fn keep(&self, script: String, out: CommandOutput, round_trip_s: f64) {
        if let Ok(mut rtts) = self.round_trips.lock() {
            rtts.insert(script.clone(), round_trip_s);
        }
        if let Ok(mut ready) = self.ready.lock() {
            ready.insert(script, out);
        }
    }

    /// How long the batch that read `script` ahead took (seconds), once; `None` when it
    /// was not read ahead. `clock-skew` bounds its error by it.
    pub fn round_trip_of(&self, script: &str) -> Option<f64> {
        self.round_trips.lock().ok()?.remove(script)
    }

    /// Forget every answer and want.
    pub fn forget(&self) {
        if let Ok(mut ready) = self.ready.lock() {
            ready.clear();
        }
        if let Ok(mut wanted) = self.wanted.lock() {
            wanted.clear();
        }
        if let Ok(mut rtts) = self.round_trips.lock() {
            rtts.clear();
        }
    }
}

/// Is `err` (or its cause) a read refused while speculating?
pub fn is_speculated(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<Speculated>())
}
