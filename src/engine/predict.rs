//! A dry run plans every step, also after earlier steps' changes that it does not apply
//! (a bare host: nothing installed yet). While such a step plans, [`predicting`] is true
//! on its thread, and a step plans from what the earlier changes say they produce where
//! it can (bootstrap's `predicted` plans); a plan that needs what only applying them
//! makes fails, and the engine reports it skipped with [`first_cause`].

use std::cell::Cell;

thread_local! {
    /// Set while a dry run plans a step after earlier steps' pending changes.
    static PREDICTING: Cell<bool> = const { Cell::new(false) };
}

/// `true` while a dry run plans a step on a node where earlier steps have changes
/// pending (planned, not applied): the node does not have what they will make yet (the
/// packages, a running server), so a step plans from what those changes say they
/// produce (a package's candidate version, the files rendered) where it can. Planning
/// runs on the step's own thread, so this is per node.
pub fn predicting() -> bool {
    PREDICTING.with(Cell::get)
}

/// Run `plan` with [`predicting`] set to `on`, then off again.
pub(super) fn planning<T>(on: bool, plan: impl FnOnce() -> T) -> T {
    PREDICTING.with(|p| p.set(on));
    let out = plan();
    PREDICTING.with(|p| p.set(false));
    out
}

/// The innermost cause of `err`, which says what was missing ("the database server's
/// unix socket was not found"), without the chain of contexts above it.
pub(super) fn first_cause(err: &anyhow::Error) -> String {
    err.chain()
        .last()
        .map(ToString::to_string)
        .unwrap_or_default()
}
