//! Inventory loading, validation, derived values and credential resolution.
//!
//! Bad cases are data: one fixture per case in tests/fixtures/inventory/, with the
//! substrings its error must contain in `cases::BAD_CASES`.
//!
//! One binary, one file per area: `cases.rs` (fixtures, bad cases, derived values),
//! `credentials.rs`, `mutations.rs` (never panics on mutated text), `sections.rs`
//! (character sets, filters, access users, server paths, durability, packages).

pub(crate) use mhactl::cli::UsageError;
pub(crate) use mhactl::inventory::{
    self, derive_vrrp_password, CredentialRef, HostKeyCheck, Inventory, SecretName, Secrets,
};
pub(crate) use proptest::prelude::*;
pub(crate) use secrecy::{ExposeSecret, SecretString};
pub(crate) use std::io::IsTerminal;
pub(crate) use std::path::{Path, PathBuf};
pub(crate) use std::time::Duration;

mod cases;
mod credentials;
mod mutations;
mod sections;

pub(crate) fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/inventory")
}

pub(crate) fn fixture(name: &str) -> PathBuf {
    fixtures().join(name)
}

pub(crate) fn good_text() -> String {
    std::fs::read_to_string(fixture("good.yaml")).unwrap()
}

pub(crate) fn is_usage(err: &anyhow::Error) -> bool {
    err.chain().any(|e| e.is::<UsageError>())
}
