//! One cluster of a fleet, merged and validated, with every problem placed where its
//! value was written: in the cluster's own mapping, or in the shared variables it came
//! from (`vars:` of the fleet file, `group_vars/all.yaml`). The merged inventory has no
//! text of its own, so each problem's field path (`nodes[1].address`) is looked up in
//! the sources, the cluster's first, and placed with the inventory's own locator.

use super::diagnostics::{self, Diagnostic, Locator};
use super::Inventory;
use serde_yaml_ng::Value;
use std::path::PathBuf;

/// A YAML text of the fleet and the part of it that a cluster or its variables are.
#[derive(Debug, Clone)]
pub(crate) struct Source {
    /// The file as shown in messages.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// Its text (after [`super::precheck`]).
    pub text: String,
    /// Where the part starts in the file's fields (`clusters.pair1.`, `vars.`, or ``).
    pub prefix: String,
    /// The part itself.
    pub value: Value,
}

impl Source {
    /// `problem` placed at `field` (a path from the top of the file), rendered.
    pub fn problem(&self, field: &str, problem: &str) -> String {
        let d = Diagnostic {
            line: diagnostics::locate(&self.text, field),
            message: problem.to_string(),
        };
        diagnostics::render(&self.name, &self.text, &[d])
    }

    /// `file:L:C` of `field` (or the file alone).
    pub fn name_at(&self, field: &str) -> String {
        match diagnostics::locate(&self.text, field) {
            Some((l, c)) => format!("{}:{l}:{c}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The inventory of cluster `name`: `vars` (lowest precedence first) merged under
/// `own`, parsed and validated; or the report of its problems, naming the cluster and
/// placing each problem in its file.
pub(crate) fn build(name: &str, own: &Source, vars: &[Source]) -> Result<Inventory, String> {
    let mut merged = Value::Null;
    for v in vars {
        merged = super::fleet::deep_merge(&merged, &v.value);
    }
    merged = super::fleet::deep_merge(&merged, &own.value);
    let mut problems: Vec<(String, String)> = Vec::new();
    match &mut merged {
        Value::Mapping(m) => match m.get("cluster") {
            None => {
                m.insert("cluster".into(), name.into());
            }
            Some(Value::String(c)) if c == name => {}
            Some(other) => {
                let written = serde_yaml_ng::to_string(other).unwrap_or_default();
                problems.push((
                    "cluster".into(),
                    format!(
                        "cluster: `{}` differs from the cluster's name in the fleet `{name}`; \
                         remove it or make them the same",
                        written.trim()
                    ),
                ));
            }
        },
        _ => {
            return Err(format!(
                "{}: cluster {name}: expected an inventory (a mapping of fields)",
                own.name_at(own.prefix.trim_end_matches('.'))
            ))
        }
    }
    if problems.is_empty() {
        let text = serde_yaml_ng::to_string(&merged).unwrap_or_default();
        match serde_yaml_ng::from_str::<Inventory>(&text) {
            Ok(inv) => {
                problems = super::validate::problems(&inv);
                if problems.is_empty() {
                    return Ok(inv);
                }
            }
            Err(first) => {
                problems = diagnostics::schema_errors::<Inventory>(
                    &text,
                    &first,
                    super::load::format_yaml_error,
                )
                .into_iter()
                .map(|d| (field_of(&d.message), d.message))
                .collect();
            }
        }
    }
    Err(render(name, own, vars, &problems))
}

/// The field path a message starts with (`nodes[1].adress: unknown field ...`).
fn field_of(message: &str) -> String {
    match message.split_once(": ") {
        Some((head, _)) if !head.contains(char::is_whitespace) => head.to_string(),
        _ => String::new(),
    }
}

/// `cluster NAME: N problems:` then each problem at its place.
fn render(name: &str, own: &Source, vars: &[Source], problems: &[(String, String)]) -> String {
    let mut out = match problems.len() {
        1 => format!("cluster {name} ({}):", own.name),
        n => format!("cluster {name} ({}): {n} problems:", own.name),
    };
    let mut locators: Vec<(usize, Locator<'_>)> = Vec::new();
    for (i, (field, message)) in problems.iter().enumerate() {
        if i >= super::validate::MAX_SHOWN {
            out.push_str(&format!("\n... and {} more", problems.len() - i));
            break;
        }
        // The source that wrote the value: the cluster's own, else the last (highest
        // precedence) shared variables holding it, else the cluster's (for a missing
        // field, its nearest written ancestor).
        let index = std::iter::once(own)
            .chain(vars.iter().rev())
            .position(|s| !field.is_empty() && has_path(&s.value, field))
            .unwrap_or(0);
        let src = if index == 0 {
            own
        } else {
            &vars[vars.len() - index]
        };
        let at = if src.prefix.is_empty() {
            field.clone()
        } else if field.is_empty() {
            src.prefix.trim_end_matches('.').to_string()
        } else {
            format!("{}{field}", src.prefix)
        };
        let line = match locators.iter_mut().find(|(k, _)| *k == index) {
            Some((_, l)) => l.locate(&at),
            None => {
                let mut l = Locator::new(&src.text);
                let found = l.locate(&at);
                locators.push((index, l));
                found
            }
        };
        let d = Diagnostic {
            line,
            message: message.clone(),
        };
        out.push('\n');
        out.push_str(&diagnostics::render(&src.name, &src.text, &[d]));
    }
    out
}

/// Does `value` hold something at `path` (`nodes[1].ssh.port`)?
pub(crate) fn has_path(value: &Value, path: &str) -> bool {
    let mut v = value;
    for part in path.split('.') {
        let (key, indices) = match part.find('[') {
            Some(i) => (&part[..i], &part[i..]),
            None => (part, ""),
        };
        if !key.is_empty() {
            match v {
                Value::Mapping(m) => match m.get(key) {
                    Some(next) => v = next,
                    None => return false,
                },
                _ => return false,
            }
        }
        for idx in indices.split('[').filter(|s| !s.is_empty()) {
            let Ok(i) = idx.trim_end_matches(']').parse::<usize>() else {
                return false;
            };
            match v {
                Value::Sequence(s) if i < s.len() => v = &s[i],
                _ => return false,
            }
        }
    }
    true
}
