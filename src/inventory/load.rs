//! Reading an inventory file: YAML parsing with errors that name the file, the field
//! and the line/column, plus "did you mean" suggestions for misspelled field names and
//! values. [`parse`] is pure (text in, validated inventory out); [`load`] adds the file.

use super::Inventory;
use crate::error::UsageError;
use anyhow::Result;
use std::path::Path;

/// Load and validate the inventory at `path` (of a fleet: the selected cluster), and set [`Inventory::base_dir`] to the
/// (absolute) directory holding it. Every error is a [`UsageError`] whose message
/// starts with the path.
pub fn load(path: &Path) -> Result<Inventory> {
    // A fleet (issue 21): the cluster `--limit` selected, merged with the shared variables.
    if super::fleet::is_fleet(path) {
        return super::fleet::load_selected(path);
    }
    let name = path.display().to_string();
    let text = match read_bounded(path) {
        Ok(bytes) if bytes.len() > super::MAX_INVENTORY_BYTES => {
            return Err(usage(format!(
                "{name}: the inventory is larger than {} bytes, the most accepted",
                super::MAX_INVENTORY_BYTES
            )))
        }
        Ok(bytes) => String::from_utf8(bytes)
            .map_err(|_| usage(format!("{name}: the inventory is not valid UTF-8 text")))?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(usage(format!(
                "{name}: inventory file not found (give another one with -i/--inventory \
                 or MHACTL_INVENTORY; inventory.example.yaml is a commented template)"
            )))
        }
        Err(e) => return Err(usage(format!("{name}: cannot read the inventory: {e}"))),
    };
    let mut inv = parse_unvalidated(&text, &name)?;
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    inv.base_dir = abs.parent().map(Path::to_path_buf).unwrap_or_default();
    validate_located(&inv, &text, &name)?;
    Ok(inv)
}

/// The control host's files ssh needs to start: refused here, naming the field, rather
/// than by ssh as "Permission denied (publickey)" once per node (ssh only warns that an
/// identity file is missing, then tries its defaults). `known_hosts` may be missing: with
/// `host_key_check: accept-new` ssh creates it.
pub fn check_local_files(inv: &super::Inventory) -> Result<(), String> {
    for (field, path) in [
        ("ssh.identity_file", &inv.ssh.identity_file),
        ("ssh.config_file", &inv.ssh.config_file),
    ] {
        let Some(path) = path else { continue };
        let resolved = inv.resolve_path(path);
        match std::fs::metadata(&resolved) {
            Ok(m) if m.is_file() => {}
            Ok(_) => return Err(format!("{field}: {} is not a file", resolved.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(format!("{field}: {} does not exist", resolved.display()))
            }
            Err(e) => return Err(format!("{field}: cannot read {}: {e}", resolved.display())),
        }
    }
    Ok(())
}

/// Parse and validate inventory `text`; `name` (usually the file name) prefixes every
/// error message. [`Inventory::base_dir`] is left empty (relative paths then resolve
/// against the current directory). Never panics, whatever the input.
pub fn parse(text: &str, name: &str) -> Result<Inventory> {
    let inv = parse_unvalidated(text, name)?;
    validate_located(&inv, text, name)?;
    Ok(inv)
}

/// The file's bytes, at most one more than [`super::MAX_INVENTORY_BYTES`] (so an
/// endless or huge input, `-i /dev/zero`, is refused by [`super::precheck`] without
/// being read whole).
fn read_bounded(path: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(super::MAX_INVENTORY_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    Ok(bytes)
}

fn usage(msg: String) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg))
}

fn parse_unvalidated(text: &str, name: &str) -> Result<Inventory> {
    let text = super::precheck(text).map_err(|msg| usage(format!("{name}: {msg}")))?;
    if text.trim().is_empty() || is_only_comments(text) {
        return Err(usage(format!(
            "{name}: the inventory is empty (see inventory.example.yaml for a template)"
        )));
    }
    serde_yaml_ng::from_str::<Inventory>(text).map_err(|first| {
        let problems =
            super::diagnostics::schema_errors::<Inventory>(text, &first, format_yaml_error);
        usage(super::diagnostics::render(name, text, &problems))
    })
}

/// Every type error of `text` read as `T` (also `mhactl adopt`'s minimal inventory), placed
/// and quoted as the inventory's own are (`name:L:C: message`, the line, a caret); `first`
/// is serde's first error.
pub fn schema_error_report<T: serde::de::DeserializeOwned>(
    text: &str,
    name: &str,
    first: &serde_yaml_ng::Error,
) -> String {
    let problems = super::diagnostics::schema_errors::<T>(text, first, format_yaml_error);
    super::diagnostics::render(name, text, &problems)
}

/// The semantic checks, every problem pointed at its place in `text`.
fn validate_located(inv: &Inventory, text: &str, name: &str) -> Result<()> {
    let problems = super::validate::problems(inv);
    if problems.is_empty() {
        return Ok(());
    }
    let text = super::precheck(text).unwrap_or(text);
    // Each place costs a parse of the file: only the problems listed get one (a hostile
    // file can hold tens of thousands, which are counted).
    let mut locator = super::diagnostics::Locator::new(text);
    let located: Vec<_> = problems
        .into_iter()
        .enumerate()
        .map(|(i, (field, message))| super::diagnostics::Diagnostic {
            line: (i < super::validate::MAX_SHOWN)
                .then(|| locator.locate(&field))
                .flatten(),
            message,
        })
        .collect();
    Err(usage(super::diagnostics::render(name, text, &located)))
}

fn is_only_comments(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || t == "---" || t == "..."
    })
}

/// `field.path: message[, did you mean `x`?]` (the place is said by the caller).
pub(super) fn format_yaml_error(e: &serde_yaml_ng::Error) -> String {
    let mut msg = e.to_string();
    if let Some(loc) = e.location() {
        let at = format!(" at line {} column {}", loc.line(), loc.column());
        if let Some(pos) = msg.find(&at) {
            msg.replace_range(pos..pos + at.len(), "");
        }
    }
    let text = plain_types(&improve_message(&msg));
    super::ssh_access::node_address_hint(&text)
}

/// serde's Rust type names mean little to a DBA: `expected u8` becomes a range.
fn plain_types(msg: &str) -> String {
    let mut m = msg.to_string();
    for (rust, plain) in [
        ("expected u8", "expected a whole number from 0 to 255"),
        ("expected u16", "expected a whole number from 0 to 65535"),
        (
            "expected u32",
            "expected a whole number from 0 to 4294967295",
        ),
        (
            "expected u64",
            "expected a whole number from 0 to 18446744073709551615",
        ),
        ("expected a boolean", "expected true or false"),
        (
            "invalid IPv4 address syntax",
            "invalid IPv4 address, expected four numbers 0-255 like 10.0.0.11",
        ),
    ] {
        m = m.replace(rust, plain);
    }
    m
}

/// Rewrite serde's "unknown field/variant `x`, expected ..." into a suggestion when a
/// close match exists; add hints for common mistakes.
fn improve_message(msg: &str) -> String {
    for what in ["unknown field", "unknown variant"] {
        let Some(start) = msg.find(&format!("{what} `")) else {
            continue;
        };
        let after = &msg[start + what.len() + 2..];
        let Some(end) = after.find('`') else {
            continue;
        };
        let unknown = &after[..end];
        let rest = &after[end + 1..];
        let expected = backticked(rest);
        let mut head = msg[..start + what.len() + 2 + end + 1].to_string();
        if what == "unknown field" {
            // serde names the enclosing mapping (`nodes[1]: unknown field ...`); name
            // the field itself, as every other message does (`nodes[1].adress: ...`).
            let path = match msg[..start].strip_suffix(": ") {
                Some(parent) if !parent.is_empty() => format!("{parent}.{unknown}"),
                _ => unknown.to_string(),
            };
            head = format!("{path}: {}", &head[start..]);
        }
        if what == "unknown field" {
            if let Some(hint) = secret_value_hint(unknown, &expected) {
                return format!("{head}: {hint}");
            }
        }
        if let Some(best) = did_you_mean(unknown, &expected) {
            return format!("{head}, did you mean `{best}`?");
        }
        if what == "unknown field" && !expected.is_empty() {
            let list: Vec<String> = expected.iter().map(|f| format!("`{f}`")).collect();
            return format!("{head}; the fields here are {}", list.join(", "));
        }
        return msg.to_string();
    }
    msg.to_string()
}

/// Every `backticked` word in `s`, in order.
fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .enumerate()
        .filter(|(i, _)| i % 2 == 1)
        .map(|(_, w)| w.to_string())
        .collect()
}

/// Someone wrote `replication_password: hunter2` (a secret inline) in `credentials`.
fn secret_value_hint(unknown: &str, expected: &[String]) -> Option<String> {
    let refs: Vec<&String> = expected
        .iter()
        .filter(|f| {
            f.strip_prefix(unknown)
                .is_some_and(|s| matches!(s, "_env" | "_file" | "_prompt"))
        })
        .collect();
    if refs.is_empty() {
        return None;
    }
    let list: Vec<String> = refs.iter().map(|f| format!("`{f}`")).collect();
    let list = match list.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => list.join(""),
    };
    Some(format!(
        "the inventory holds references to secrets, never the secrets themselves: use {list}"
    ))
}

/// Ansible-style names people reach for first.
const ALIASES: &[(&str, &str)] = &[
    ("ansible_host", "address"),
    ("ip", "address"),
    ("host", "address"),
    ("hostname", "name"),
    ("ansible_user", "user"),
    ("ansible_port", "port"),
    ("ansible_ssh_private_key_file", "identity_file"),
    ("private_key_file", "identity_file"),
    ("key_file", "identity_file"),
    ("hosts", "nodes"),
];

/// The closest expected name to `unknown`, if it is close enough to be a likely typo.
pub(crate) fn did_you_mean(unknown: &str, expected: &[String]) -> Option<String> {
    if expected.is_empty() {
        return None;
    }
    let lower = unknown.to_ascii_lowercase().replace('-', "_");
    for (alias, target) in ALIASES {
        if lower == *alias && expected.iter().any(|e| e == target) {
            return Some((*target).to_string());
        }
    }
    let mut best: Option<(usize, &String)> = None;
    for cand in expected {
        let d = strsim::levenshtein(&lower, cand);
        if best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, cand));
        }
    }
    let (d, cand) = best?;
    let len = cand.chars().count().max(lower.chars().count());
    let limit = (len / 3).clamp(1, 3);
    if d <= limit {
        return Some(cand.clone());
    }
    // `prio` for `priority`, `timeout` for `connect_timeout_s`.
    if lower.chars().count() >= 4 {
        let mut hits = expected
            .iter()
            .filter(|c| c.starts_with(&lower) || c.contains(&format!("_{lower}")));
        if let (Some(only), None) = (hits.next(), hits.next()) {
            return Some(only.clone());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(xs: &[&str]) -> Vec<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn suggestions() {
        let fields = v(&["name", "address", "ssh", "server_id", "priority"]);
        assert_eq!(did_you_mean("adress", &fields).as_deref(), Some("address"));
        assert_eq!(
            did_you_mean("Priority", &fields).as_deref(),
            Some("priority")
        );
        assert_eq!(did_you_mean("prio", &fields).as_deref(), Some("priority"));
        assert_eq!(
            did_you_mean("ansible_host", &fields).as_deref(),
            Some("address")
        );
        assert_eq!(did_you_mean("completely_else", &fields), None);
        assert_eq!(did_you_mean("x", &[]), None);
    }

    #[test]
    fn rewrites_serde_messages() {
        let m = improve_message(
            "nodes[1]: unknown field `adress`, expected one of `name`, `address`, `ssh`",
        );
        assert_eq!(
            m,
            "nodes[1].adress: unknown field `adress`, did you mean `address`?"
        );
        let m =
            improve_message("mysql.flavor: unknown variant `mysq`, expected `mariadb` or `mysql`");
        assert_eq!(
            m,
            "mysql.flavor: unknown variant `mysq`, did you mean `mysql`?"
        );
        let m = improve_message("unknown field `clutser`, expected one of `cluster`, `ssh`");
        assert_eq!(
            m,
            "clutser: unknown field `clutser`, did you mean `cluster`?"
        );
    }
}
