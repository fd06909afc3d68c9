//! Error classes and the exit codes they map to, apart from argument parsing (clap's).
//!
//! Exit codes: 0 success, 1 the command ran and found or caused a failure,
//! 2 usage or inventory errors (bad flags, unreadable or invalid inventory),
//! 3 `bootstrap --check` found changes pending ([`EXIT_CHANGES_PENDING`]),
//! 130 stopped by SIGINT (Ctrl-C), 143 stopped by SIGTERM (see [`crate::interrupt`]).
//! Any layer may return a [`UsageError`]; only [`crate::cli`] turns errors into a status.

/// `bootstrap --check`: the dry run would change something (drift), nothing failed.
/// Not 1 or 2, so that CI can tell drift from a failure and from a usage error.
pub const EXIT_CHANGES_PENDING: u8 = 3;

/// Errors that mean "you asked wrongly" rather than "it failed": exit code 2.
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UsageError {}

/// The exit code for a command that returned `err`: the signal's code when it was
/// stopped by one, 2 for a usage error anywhere in the chain, else 1.
pub fn exit_code_for(err: &anyhow::Error) -> u8 {
    if let Some(sig) = crate::interrupt::signal_of(err) {
        sig.exit_code()
    } else if err.chain().any(|e| e.is::<UsageError>()) {
        2
    } else {
        1
    }
}
