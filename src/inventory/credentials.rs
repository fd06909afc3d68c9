//! Credential references (`*_env`, `*_file`, `*_prompt`) and their resolution to
//! secrets. The inventory never holds a secret: it says where each one comes from.
//! Resolved secrets live in [`SecretString`]s (Debug prints `[REDACTED]`), and no error
//! message here ever contains a secret value.

use super::{Credentials, Inventory};
use crate::error::UsageError;
use anyhow::Result;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};

/// keepalived's `auth_pass` uses at most this many characters.
pub const VRRP_PASSWORD_MAX: usize = 8;

/// Which secret a reference is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretName {
    /// The replication account's password (`credentials.replication_password_*`).
    ReplicationPassword,
    /// The administrative (root) password (`credentials.root_password_*`).
    RootPassword,
    /// keepalived's VRRP `auth_pass` (`credentials.vrrp_password_*`).
    VrrpPassword,
}

impl SecretName {
    /// The field stem in the inventory: `replication_password`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            SecretName::ReplicationPassword => "replication_password",
            SecretName::RootPassword => "root_password",
            SecretName::VrrpPassword => "vrrp_password",
        }
    }
}

/// Where one secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialRef {
    /// An environment variable.
    Env(String),
    /// A file, and optionally a key in a YAML mapping inside it (`path#key`). The path
    /// is as written; [`CredentialRef::resolve`] makes a relative one absolute.
    File(PathBuf, Option<String>),
    /// Ask on the terminal.
    Prompt,
}

impl CredentialRef {
    /// Parse a `*_file` value: `path` or `path#key` (the last `#` separates the key).
    pub fn parse_file(value: &str) -> CredentialRef {
        match value.rsplit_once('#') {
            Some((path, key)) => CredentialRef::File(PathBuf::from(path), Some(key.to_string())),
            None => CredentialRef::File(PathBuf::from(value), None),
        }
    }

    /// The inventory field this reference is written in, e.g.
    /// `credentials.replication_password_env`.
    pub fn field(&self, name: SecretName) -> String {
        let suffix = match self {
            CredentialRef::Env(_) => "env",
            CredentialRef::File(..) => "file",
            CredentialRef::Prompt => "prompt",
        };
        format!("credentials.{}_{suffix}", name.as_str())
    }

    /// Fetch the secret. Relative file paths resolve against `inv`'s base directory.
    /// Prompts only when `interactive` is true and stdin is a terminal.
    pub fn resolve(
        &self,
        name: SecretName,
        inv: &Inventory,
        interactive: bool,
    ) -> Result<SecretString> {
        let prompt = Prompt {
            stem: name.as_str().to_string(),
            label: match name {
                SecretName::ReplicationPassword => "Replication password".into(),
                SecretName::RootPassword => "Database root password".into(),
                SecretName::VrrpPassword => "VRRP password".into(),
            },
            // A typo here would set a password nobody knows on first bootstrap.
            confirm: name == SecretName::ReplicationPassword,
        };
        self.resolve_as(&self.field(name), &prompt, inv, interactive)
    }

    /// The field of an `access.users[i].password_*` reference.
    pub fn user_field(&self, i: usize) -> String {
        let suffix = match self {
            CredentialRef::Env(_) => "env",
            CredentialRef::File(..) => "file",
            CredentialRef::Prompt => "prompt",
        };
        format!("access.users[{i}].password_{suffix}")
    }

    /// Fetch an environment or file reference written in `field` (never a prompt: the
    /// sudo password has none); errors name the field, never the value.
    pub(crate) fn resolve_field(&self, field: &str, inv: &Inventory) -> Result<SecretString> {
        match self {
            CredentialRef::Env(var) => from_env(var, field),
            CredentialRef::File(path, key) => {
                from_file(&inv.resolve_path(path), key.as_deref(), field)
            }
            CredentialRef::Prompt => Err(usage(format!("{field}: cannot prompt for it"))),
        }
    }

    fn resolve_as(
        &self,
        field: &str,
        prompt: &Prompt,
        inv: &Inventory,
        interactive: bool,
    ) -> Result<SecretString> {
        match self {
            CredentialRef::Env(var) => from_env(var, field),
            CredentialRef::File(path, key) => {
                from_file(&inv.resolve_path(path), key.as_deref(), field)
            }
            CredentialRef::Prompt => from_prompt(prompt, field, interactive),
        }
    }
}

/// How to ask for a secret on the terminal.
struct Prompt {
    /// The field stem the error message suggests alternatives for (`<stem>_env`).
    stem: String,
    /// What is asked for.
    label: String,
    /// Ask twice.
    confirm: bool,
}

impl crate::inventory::AccessUser {
    /// Every password source given, in the order env, file, prompt (validation makes
    /// sure there is exactly one).
    pub fn password_sources(&self) -> Vec<CredentialRef> {
        let mut v = Vec::new();
        if let Some(e) = &self.password_env {
            v.push(CredentialRef::Env(e.clone()));
        }
        if let Some(f) = &self.password_file {
            v.push(CredentialRef::parse_file(f));
        }
        if self.password_prompt {
            v.push(CredentialRef::Prompt);
        }
        v
    }
}

impl Credentials {
    /// Every source given for `name`, in the order env, file, prompt (validation makes
    /// sure there is at most one).
    pub fn sources(&self, name: SecretName) -> Vec<CredentialRef> {
        let (env, file, prompt) = match name {
            SecretName::ReplicationPassword => (
                &self.replication_password_env,
                &self.replication_password_file,
                self.replication_password_prompt,
            ),
            SecretName::RootPassword => (
                &self.root_password_env,
                &self.root_password_file,
                self.root_password_prompt,
            ),
            SecretName::VrrpPassword => (&self.vrrp_password_env, &self.vrrp_password_file, false),
        };
        let mut v = Vec::new();
        if let Some(e) = env {
            v.push(CredentialRef::Env(e.clone()));
        }
        if let Some(f) = file {
            v.push(CredentialRef::parse_file(f));
        }
        if prompt {
            v.push(CredentialRef::Prompt);
        }
        v
    }

    /// The one source for `name`, if any (the first, should several be given).
    pub fn source(&self, name: SecretName) -> Option<CredentialRef> {
        self.sources(name).into_iter().next()
    }
}

/// The secrets bootstrap needs, resolved from the inventory's references.
#[derive(Debug, Clone)]
pub struct Secrets {
    /// Password of the replication account.
    pub replication_password: SecretString,
    /// Administrative password, when the inventory names a source for one.
    pub root_password: Option<SecretString>,
    /// keepalived `auth_pass` (at most 8 characters): given, or derived per cluster.
    pub vrrp_password: SecretString,
    /// Passwords of `access.users`, in the same order.
    pub user_passwords: Vec<SecretString>,
    /// The nodes' sudo passwords (`ssh.become_password_*`), resolved here so that a bad
    /// reference is refused before anything runs and the values are masked; the
    /// transport gets its node's own from [`super::become_password`].
    pub become_passwords: Vec<SecretString>,
}

impl Secrets {
    /// Resolve every credential reference of `inv`. `interactive` allows `*_prompt`
    /// sources to ask on the terminal (they also need stdin to be a terminal). When no
    /// VRRP password source is given, one is derived from the cluster name and the
    /// replication password ([`derive_vrrp_password`]), so re-runs produce the same one.
    /// Every error is a [`UsageError`].
    pub fn resolve(inv: &Inventory, interactive: bool) -> Result<Secrets> {
        let c = &inv.credentials;
        let repl_ref = c.source(SecretName::ReplicationPassword).ok_or_else(|| {
            usage(
                "credentials: no source for the replication password: set exactly one of \
                 `replication_password_env`, `replication_password_file` or \
                 `replication_password_prompt: true`"
                    .to_string(),
            )
        })?;
        let replication_password =
            repl_ref.resolve(SecretName::ReplicationPassword, inv, interactive)?;
        let root_password = c
            .source(SecretName::RootPassword)
            .map(|r| r.resolve(SecretName::RootPassword, inv, interactive))
            .transpose()?;
        let vrrp_password = match c.source(SecretName::VrrpPassword) {
            Some(r) => {
                let pw = r.resolve(SecretName::VrrpPassword, inv, interactive)?;
                let n = pw.expose_secret().chars().count();
                if n > VRRP_PASSWORD_MAX {
                    return Err(usage(format!(
                        "{}: the VRRP password has {n} characters; keepalived uses at most \
                         {VRRP_PASSWORD_MAX} (auth_pass), so use 8 or fewer, or remove the \
                         field to have one derived",
                        r.field(SecretName::VrrpPassword)
                    )));
                }
                pw
            }
            None => derive_vrrp_password(&inv.cluster, &replication_password),
        };
        let mut user_passwords = Vec::new();
        for (i, u) in inv.access.users.iter().enumerate() {
            let r = u.password_sources().into_iter().next().ok_or_else(|| {
                usage(format!(
                    "access.users[{i}]: no password source: set exactly one of \
                     `password_env`, `password_file` or `password_prompt: true`"
                ))
            })?;
            let prompt = Prompt {
                stem: "password".into(),
                label: format!("Password of database user {}", u.name),
                confirm: true,
            };
            user_passwords.push(r.resolve_as(&r.user_field(i), &prompt, inv, interactive)?);
        }
        let mut become_passwords = Vec::new();
        for i in 0..inv.nodes.len() {
            become_passwords.extend(super::become_password(inv, i)?);
        }
        Ok(Secrets {
            replication_password,
            root_password,
            vrrp_password,
            user_passwords,
            become_passwords,
        })
    }

    /// Every secret string, for masking command output and logs.
    pub fn values(&self) -> Vec<&str> {
        let mut v = vec![self.replication_password.expose_secret()];
        if let Some(r) = &self.root_password {
            v.push(r.expose_secret());
        }
        v.push(self.vrrp_password.expose_secret());
        v.extend(self.user_passwords.iter().map(|p| p.expose_secret()));
        v.extend(self.become_passwords.iter().map(|p| p.expose_secret()));
        v
    }
}

/// The VRRP password used when the inventory gives none: the first 8 characters of
/// `hex(sha256("mhactl-vrrp\0" + cluster + "\0" + replication_password))`. Deterministic,
/// so re-running bootstrap renders the same keepalived.conf.
pub fn derive_vrrp_password(cluster: &str, replication_password: &SecretString) -> SecretString {
    let mut h = Sha256::new();
    h.update(b"mhactl-vrrp\0");
    h.update(cluster.as_bytes());
    h.update(b"\0");
    h.update(replication_password.expose_secret().as_bytes());
    let digest = h.finalize();
    let hex: String = digest[..VRRP_PASSWORD_MAX / 2]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    SecretString::from(hex)
}

fn usage(msg: String) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg))
}

fn from_env(var: &str, field: &str) -> Result<SecretString> {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => Ok(SecretString::from(v)),
        Ok(_) => Err(usage(format!(
            "{field}: environment variable {var} is set but empty"
        ))),
        Err(std::env::VarError::NotPresent) => Err(usage(format!(
            "{field}: environment variable {var} is not set (export it, or use another source)"
        ))),
        Err(std::env::VarError::NotUnicode(_)) => Err(usage(format!(
            "{field}: environment variable {var} is not valid UTF-8"
        ))),
    }
}

fn from_file(path: &Path, key: Option<&str>, field: &str) -> Result<SecretString> {
    let shown = path.display();
    let bytes = read_secret_file(path, field)?;
    warn_if_readable_by_others(path, field);
    let text = String::from_utf8(bytes)
        .map_err(|_| usage(format!("{field}: secret file {shown} is not valid UTF-8")))?;
    let value = match key {
        None => text.trim_end_matches(['\n', '\r']).to_string(),
        Some(key) => {
            // Only the location of a YAML syntax error is reported: the message could
            // quote the file's contents.
            if let Some(line) = super::limits::too_deep(&text, super::MAX_NESTING) {
                return Err(usage(format!(
                    "{field}: secret file {shown} nests deeper than {} levels (line {line}); \
                     `path#key` needs a flat YAML mapping",
                    super::MAX_NESTING
                )));
            }
            let doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(&text).map_err(|e| {
                let at = e
                    .location()
                    .map(|l| format!(" (line {} column {})", l.line(), l.column()))
                    .unwrap_or_default();
                usage(format!(
                    "{field}: secret file {shown} is not valid YAML{at}; `path#key` needs a \
                     YAML mapping"
                ))
            })?;
            let serde_yaml_ng::Value::Mapping(map) = doc else {
                return Err(usage(format!(
                    "{field}: secret file {shown} is not a YAML mapping (`path#{key}` picks \
                     one key of a mapping; drop `#{key}` to use the whole file)"
                )));
            };
            match map.get(key) {
                None => {
                    return Err(usage(format!(
                        "{field}: secret file {shown} has no key `{key}`"
                    )))
                }
                Some(serde_yaml_ng::Value::String(s)) => s.clone(),
                Some(_) => {
                    return Err(usage(format!(
                        "{field}: key `{key}` in secret file {shown} is not a string; quote \
                         the value (YAML would otherwise turn e.g. 0123 into 123)"
                    )))
                }
            }
        }
    };
    if value.is_empty() {
        let what = match key {
            Some(k) => format!("key `{k}` in secret file {shown}"),
            None => format!("secret file {shown}"),
        };
        return Err(usage(format!("{field}: {what} is empty")));
    }
    Ok(SecretString::from(value))
}

/// The bytes of a secret file, refusing without blocking anything that is not a regular
/// file (a FIFO would block `read` forever, a device could be endless) and any file
/// larger than [`super::MAX_SECRET_FILE_BYTES`]. The type is checked before opening
/// and again on the descriptor (opened non-blocking), so a swap in between is caught.
fn read_secret_file(path: &Path, field: &str) -> Result<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
    let shown = path.display();
    let cannot =
        |e: std::io::Error| usage(format!("{field}: cannot read secret file {shown}: {e}"));
    let describe = |kind: std::fs::FileType| {
        if kind.is_file() {
            None
        } else if kind.is_fifo() {
            Some("a FIFO (named pipe)")
        } else if kind.is_dir() {
            Some("a directory")
        } else if kind.is_char_device() || kind.is_block_device() {
            Some("a device")
        } else if kind.is_socket() {
            Some("a socket")
        } else {
            Some("not a regular file")
        }
    };
    // Not even opened when it is not a regular file (opening some devices acts on them);
    // checked again on the open descriptor, in case it was swapped in between.
    let before = std::fs::metadata(path).map_err(cannot)?;
    let file = match describe(before.file_type()) {
        Some(_) => None,
        None => Some(
            std::fs::OpenOptions::new()
                .read(true)
                .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
                .open(path)
                .map_err(cannot)?,
        ),
    };
    let meta = match &file {
        Some(f) => f.metadata().map_err(cannot)?,
        None => before,
    };
    if let Some(what) = describe(meta.file_type()) {
        return Err(usage(format!(
            "{field}: secret file {shown} is {what}; give a regular file (or use the `_env` \
             or `_prompt` form)"
        )));
    }
    let max = super::MAX_SECRET_FILE_BYTES;
    if meta.len() > max {
        return Err(usage(format!(
            "{field}: secret file {shown} is {} bytes long; a secret file holds at most {max}",
            meta.len()
        )));
    }
    let mut bytes = Vec::new();
    if let Some(file) = file {
        file.take(max).read_to_end(&mut bytes).map_err(cannot)?;
    }
    Ok(bytes)
}

/// Warn (on stderr, once per file and run) when a secret file can be read by its group or
/// by everyone. Only the path and the mode are printed, never the content. Not silenced by
/// `--quiet`: it is about the secrets, like the inventory's own warnings.
fn warn_if_readable_by_others(path: &Path, field: &str) {
    use std::os::unix::fs::PermissionsExt;
    static WARNED: std::sync::Mutex<Vec<PathBuf>> = std::sync::Mutex::new(Vec::new());
    let Ok(meta) = std::fs::metadata(path) else {
        return;
    };
    let Some(text) = readable_by_others_warning(path, field, meta.permissions().mode()) else {
        return;
    };
    if let Ok(mut warned) = WARNED.lock() {
        if warned.iter().any(|p| p == path) {
            return;
        }
        warned.push(path.to_path_buf());
    }
    tracing::debug!("{text}");
    crate::log_eprintln!("warning: {text}");
}

/// The warning for a secret file with permission bits `mode`, or `None` when only its
/// owner can read it (pure, for tests).
pub fn readable_by_others_warning(path: &Path, field: &str, mode: u32) -> Option<String> {
    if mode & 0o044 == 0 {
        return None;
    }
    let shown = path.display();
    Some(format!(
        "{field}: secret file {shown} is readable by {} (mode {:04o}); run `chmod 600 {}` so \
         only its owner can read it",
        if mode & 0o004 != 0 {
            "everyone"
        } else {
            "its group"
        },
        mode & 0o7777,
        crate::quote::shell_quote(&shown.to_string())
    ))
}

fn from_prompt(p: &Prompt, field: &str, interactive: bool) -> Result<SecretString> {
    let stem = &p.stem;
    let needs_terminal = |why: &str| {
        usage(format!(
            "{field}: asking for the password needs a terminal, but {why}; set \
             `{stem}_env` (an environment variable) or `{stem}_file` (a file) instead"
        ))
    };
    if !interactive {
        return Err(needs_terminal("this run is not interactive"));
    }
    if !std::io::stdin().is_terminal() {
        return Err(needs_terminal("stdin is not a terminal"));
    }
    let mut prompt = dialoguer::Password::new().with_prompt(format!("{} ({field})", p.label));
    if p.confirm {
        prompt = prompt.with_confirmation("Repeat it", "The two entries differ; try again");
    }
    let pw = prompt
        .interact()
        .map_err(|e| usage(format!("{field}: cannot read the password: {e}")))?;
    if pw.is_empty() {
        return Err(usage(format!("{field}: the password is empty")));
    }
    Ok(SecretString::from(pw))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_file_forms() {
        assert_eq!(
            CredentialRef::parse_file("secrets.yaml#repl"),
            CredentialRef::File("secrets.yaml".into(), Some("repl".into()))
        );
        assert_eq!(
            CredentialRef::parse_file("/etc/pw"),
            CredentialRef::File("/etc/pw".into(), None)
        );
    }

    #[test]
    fn warns_about_group_or_world_readable_secret_files() {
        let p = Path::new("/srv/my secrets.yaml");
        let f = "credentials.replication_password_file";
        assert_eq!(readable_by_others_warning(p, f, 0o100600), None);
        assert_eq!(readable_by_others_warning(p, f, 0o400), None);
        assert_eq!(
            readable_by_others_warning(p, f, 0o100644).unwrap(),
            "credentials.replication_password_file: secret file /srv/my secrets.yaml is readable \
             by everyone (mode 0644); run `chmod 600 '/srv/my secrets.yaml'` so only its owner can \
             read it"
        );
        assert!(readable_by_others_warning(p, f, 0o640)
            .unwrap()
            .contains("readable by its group (mode 0640)"));
        assert!(readable_by_others_warning(p, f, 0o604)
            .unwrap()
            .contains("by everyone"));
    }

    #[test]
    fn derived_vrrp_is_8_hex() {
        let pw = derive_vrrp_password("prod", &SecretString::from("s3cret"));
        let s = pw.expose_secret();
        assert_eq!(s.len(), 8);
        assert!(s
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    }
}
