//! Credential references (`*_env`, `*_file`, `*_prompt`) and their resolution to secrets.

/// Where one secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialRef {
    /// An environment variable.
    Env(String),
    /// A file, and optionally a key in a YAML mapping inside it.
    File(std::path::PathBuf, Option<String>),
    /// Ask on the terminal.
    Prompt,
}

/// Resolved secrets.
#[derive(Debug, Default)]
pub struct Secrets {}
