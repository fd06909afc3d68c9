//! Per-thread state of fact reads: whether volatile facts may come from the cache (the
//! engine's planning, a verify round: [`super::cached`]), and which check runs now with
//! which declared [`FactKind`]s ([`declare`]), so a read the check did not declare, or a
//! raw read outside any fact, is caught ([`violation`]: a panic in debug builds, which
//! the unit and golden tests run in). Thread-local because verify runs each node's
//! checks on its own thread and the engine plans each node on its own thread.

use super::{Fact, FactKind};
use std::cell::RefCell;

#[derive(Default)]
struct State {
    caching: u32,
    declared: Option<(&'static str, &'static [FactKind])>,
    inside_fact: u32,
}

thread_local! {
    static STATE: RefCell<State> = RefCell::default();
}

/// Are volatile facts served from the cache on this thread now?
pub fn caching() -> bool {
    STATE.with(|s| s.borrow().caching > 0)
}

/// Marks a caching scope until dropped.
pub struct CachingScope(());

/// Cache volatile facts on this thread until the returned guard drops.
pub fn caching_scope() -> CachingScope {
    STATE.with(|s| s.borrow_mut().caching += 1);
    CachingScope(())
}

impl Drop for CachingScope {
    fn drop(&mut self) {
        STATE.with(|s| s.borrow_mut().caching -= 1);
    }
}

/// Marks a fact's own read (its command, query or file) until dropped.
pub struct InsideFact(());

/// The raw reads until the guard drops belong to a fact (not a check's own read).
pub fn inside_fact() -> InsideFact {
    STATE.with(|s| s.borrow_mut().inside_fact += 1);
    InsideFact(())
}

impl Drop for InsideFact {
    fn drop(&mut self) {
        STATE.with(|s| s.borrow_mut().inside_fact -= 1);
    }
}

/// The check `name`, which declared `reads`, runs on this thread until the guard drops.
pub struct Declared(Option<(&'static str, &'static [FactKind])>);

/// Check `name` runs now and may read only `reads` (verify's registry calls this around
/// each check).
pub fn declare(name: &'static str, reads: &'static [FactKind]) -> Declared {
    let previous = STATE.with(|s| s.borrow_mut().declared.replace((name, reads)));
    Declared(previous)
}

impl Drop for Declared {
    fn drop(&mut self) {
        STATE.with(|s| s.borrow_mut().declared = self.0.take());
    }
}

/// A read of `F` now: allowed unless a check runs that did not declare its kind.
pub fn check_declared<F: Fact>() {
    check_kind(F::KIND, F::NAME);
}

/// A read of `kind` (named `what`) now: allowed unless a check runs that did not
/// declare it. Reads made inside another fact's read (the server version a query fact
/// needs for its text) are that fact's business.
pub fn check_kind(kind: FactKind, what: &str) {
    let problem = STATE.with(|s| {
        let s = s.borrow();
        match s.declared {
            Some((check, reads)) if s.inside_fact == 0 && !reads.contains(&kind) => Some(format!(
                "verify check `{check}` read the fact `{what}` ({kind:?}), which it does not declare \
                 in `reads`: add {kind:?} to its CheckKind"
            )),
            _ => None,
        }
    });
    if let Some(p) = problem {
        violation(p);
    }
}

/// A raw read (a command, a query, a file) now: allowed unless a check runs and the read
/// is not a fact's own (checks read node state only through facts).
pub fn raw_read(what: &str) {
    let problem = STATE.with(|s| {
        let s = s.borrow();
        match s.declared {
            Some((check, _)) if s.inside_fact == 0 => Some(format!(
                "verify check `{check}` read `{what}` directly: read node state through a fact \
                 (src/facts/)"
            )),
            _ => None,
        }
    });
    if let Some(p) = problem {
        violation(p);
    }
}

/// A check broke its declaration: a bug in mhactl. In debug builds (every test) it
/// panics so the test fails; a release build carries on (the read itself is harmless).
fn violation(problem: String) {
    if cfg!(debug_assertions) {
        panic!("{problem}");
    }
    tracing::debug!("{problem}");
}
