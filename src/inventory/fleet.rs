//! A fleet: many clusters in one inventory (issue 21 item 2), in the two layouts Ansible
//! users know (docs/fleet.md):
//!
//! - one file with `clusters:` (name → a cluster inventory as for one pair, inline or the
//!   path of its own file) and `vars:` (defaults deep-merged under every cluster);
//! - a directory: every `*.yaml`/`*.yml` in it is a cluster (named by its `cluster:`,
//!   else by its file stem) or a fleet file, with shared variables in
//!   `group_vars/all.yaml`.
//!
//! Each cluster is the deep merge of the shared variables (`group_vars/all.yaml`, then
//! the fleet file's `vars:`) and its own mapping (mappings merge key by key, the
//! cluster's own value wins; lists and scalars are replaced whole), then loaded and
//! validated as a single inventory is. A problem is reported in the file and at the
//! line where the offending value was written (the cluster's, or the shared variables'
//! when it came from there), under the cluster's name ([`super::fleet_place`]).
//!
//! [`load_fleet`] reads the whole fleet; [`super::load`] of a fleet path returns the one
//! cluster [`select`]ed (by `--limit`) and refuses without a selection.

use super::fleet_place::{self, Source};
use super::Inventory;
use crate::error::UsageError;
use anyhow::Result;
use serde_yaml_ng::{Mapping, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// Most clusters one fleet may hold (a real fleet has hundreds at most).
pub const MAX_CLUSTERS: usize = 5000;
/// The shared-variables file of the directory layout, relative to the directory.
pub const GROUP_VARS: [&str; 2] = ["group_vars/all.yaml", "group_vars/all.yml"];

/// A loaded fleet: every cluster validated.
#[derive(Debug, Clone)]
pub struct Fleet {
    /// The fleet's path as given (a file or a directory).
    pub path: PathBuf,
    /// The clusters, in file order (the directory layout: by file name).
    pub clusters: Vec<FleetCluster>,
}

/// One cluster of a fleet.
#[derive(Debug, Clone)]
pub struct FleetCluster {
    /// Its name (`cluster:`), what `--limit` matches.
    pub name: String,
    /// The file that defines it (the fleet file for an inline cluster).
    pub file: PathBuf,
    /// The merged, validated inventory.
    pub inventory: Inventory,
}

impl Fleet {
    /// The cluster called `name`.
    pub fn cluster(&self, name: &str) -> Option<&FleetCluster> {
        self.clusters.iter().find(|c| c.name == name)
    }
    /// Every cluster's name, in order.
    pub fn names(&self) -> Vec<String> {
        self.clusters.iter().map(|c| c.name.clone()).collect()
    }
}

static SELECTED: OnceLock<String> = OnceLock::new();

/// Make [`super::load`] of a fleet return cluster `name` (set once, by the command line,
/// when `--limit` selects exactly one cluster).
pub fn select(name: &str) {
    let _ = SELECTED.set(name.to_string());
}

/// The cluster [`select`]ed, if any.
pub fn selected() -> Option<&'static str> {
    SELECTED.get().map(String::as_str)
}

/// Is `path` a fleet (a directory, or a file with a top-level `clusters:` key)? Decided
/// from the text, without parsing it: a single cluster's inventory is parsed once, as
/// before fleets (a hostile file costs no second parse), and one that is not a fleet
/// reports its own errors. A single inventory has no `clusters` field, so a top-level
/// `clusters:` line can only mean a fleet. A file in YAML's flow style (`{clusters:
/// {...}, vars: {...}}`, as JSON writers produce) has no such line: its top-level keys
/// are read by parsing it ([`flow_mapping_has_clusters`]).
pub fn is_fleet(path: &Path) -> bool {
    if path.is_dir() {
        return true;
    }
    let Ok(text) = read_text(path) else {
        return false;
    };
    block_key_clusters(&text) || flow_mapping_has_clusters(&text)
}

/// A line of block-style YAML starting with the key `clusters:` (at column 0).
fn block_key_clusters(text: &str) -> bool {
    text.lines().any(|l| {
        let key = l
            .strip_prefix('\u{feff}')
            .unwrap_or(l)
            .trim_start_matches(['"', '\''])
            .strip_prefix("clusters");
        key.is_some_and(|rest| {
            rest.trim_start_matches(['"', '\''])
                .trim_start()
                .starts_with(':')
        })
    })
}

/// A document whose first content (after comments, `%` directives and `---`) opens a
/// flow mapping, and whose top-level mapping has the key `clusters`. Only such a file
/// is parsed here (a block-style single inventory still is parsed once); one that does
/// not parse is no fleet, and loading it as one cluster reports its error.
fn flow_mapping_has_clusters(text: &str) -> bool {
    let first = text
        .trim_start_matches('\u{feff}')
        .lines()
        .map(str::trim)
        .find(|l| !(l.is_empty() || l.starts_with('#') || l.starts_with('%') || *l == "---"));
    let flow = first.is_some_and(|l| {
        l.strip_prefix("---")
            .unwrap_or(l)
            .trim_start()
            .starts_with('{')
    });
    flow && serde_yaml_ng::from_str::<Value>(text)
        .ok()
        .and_then(|v| v.as_mapping().map(|m| m.contains_key("clusters")))
        .unwrap_or(false)
}

/// The selected cluster of the fleet at `path` ([`super::load`] for a fleet path).
pub(super) fn load_selected(path: &Path) -> Result<Inventory> {
    let fleet = load_fleet(path)?;
    let Some(name) = selected() else {
        return Err(usage(format!(
            "{}: a fleet of {} clusters ({}); this command acts on one cluster: select it \
             with --limit CLUSTER",
            path.display(),
            fleet.clusters.len(),
            short_list(&fleet.names())
        )));
    };
    match fleet.cluster(name) {
        Some(c) => Ok(c.inventory.clone()),
        None => Err(usage(format!(
            "--limit {name}: no such cluster in {} (clusters: {})",
            path.display(),
            short_list(&fleet.names())
        ))),
    }
}

/// At most 10 names, then a count.
pub fn short_list(names: &[String]) -> String {
    let mut s = names
        .iter()
        .take(10)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > 10 {
        s.push_str(&format!(", ... ({} in all)", names.len()));
    }
    s
}

/// Load and validate every cluster of the fleet at `path` (a fleet file or directory).
/// Every problem of every cluster is reported at once, each naming its cluster, file,
/// line and column (a [`UsageError`]: exit 2).
pub fn load_fleet(path: &Path) -> Result<Fleet> {
    let mut pending: Vec<Pending> = Vec::new();
    if path.is_dir() {
        read_directory(path, &mut pending)?;
    } else {
        let (src, value) = read_source(path, "")?;
        read_fleet_file(&src, value, &[], &mut pending)?;
    }
    if pending.is_empty() {
        return Err(usage(format!(
            "{}: the fleet has no cluster (a fleet file lists them under `clusters:`; a \
             fleet directory holds one *.yaml file per cluster)",
            path.display()
        )));
    }
    if pending.len() > MAX_CLUSTERS {
        return Err(usage(format!(
            "{}: {} clusters; at most {MAX_CLUSTERS} are accepted",
            path.display(),
            pending.len()
        )));
    }
    let mut errors = Vec::new();
    let mut clusters: Vec<FleetCluster> = Vec::new();
    for p in pending {
        if let Some(other) = clusters.iter().find(|c| c.name == p.name) {
            errors.push(format!(
                "{}: cluster {}: the name is also used by {}; every cluster needs its own",
                p.own.name,
                p.name,
                other.file.display()
            ));
            continue;
        }
        match fleet_place::build(&p.name, &p.own, &p.vars) {
            Ok(mut inv) => {
                inv.base_dir = p.base_dir;
                clusters.push(FleetCluster {
                    name: p.name,
                    file: p.own.path.clone(),
                    inventory: inv,
                });
            }
            Err(report) => errors.push(report),
        }
    }
    if !errors.is_empty() {
        let n = errors.len();
        let head = match n {
            1 => String::new(),
            _ => format!("{}: {n} clusters have problems:\n", path.display()),
        };
        return Err(usage(head + &errors.join("\n")));
    }
    Ok(Fleet {
        path: path.to_path_buf(),
        clusters,
    })
}

/// A cluster read but not yet merged and validated.
struct Pending {
    name: String,
    /// Its own mapping and where it was written.
    own: Source,
    /// The shared variables, lowest precedence first.
    vars: Vec<Source>,
    /// Where its relative paths resolve.
    base_dir: PathBuf,
}

fn read_directory(dir: &Path, out: &mut Vec<Pending>) -> Result<()> {
    let mut vars = Vec::new();
    for rel in GROUP_VARS {
        let p = dir.join(rel);
        if p.is_file() {
            let (src, value) = read_source(&p, "")?;
            if !matches!(value, Value::Mapping(_) | Value::Null) {
                return Err(usage(format!(
                    "{}: shared variables must be a mapping (field: value)",
                    src.name
                )));
            }
            vars.push(Source { value, ..src });
        }
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| usage(format!("{}: cannot read the directory: {e}", dir.display())))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.is_file() && matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
        })
        .collect();
    files.sort();
    for file in files {
        let (src, value) = read_source(&file, "")?;
        if matches!(&value, Value::Mapping(m) if m.contains_key("clusters")) {
            read_fleet_file(&src, value, &vars, out)?;
            continue;
        }
        let stem = file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        let name = cluster_field(&value).unwrap_or(stem);
        out.push(Pending {
            name,
            own: Source { value, ..src },
            vars: vars.clone(),
            base_dir: absolute_parent(&file),
        });
    }
    Ok(())
}

/// The clusters of one fleet file (`clusters:`, `vars:`), under `inherited` variables.
fn read_fleet_file(
    src: &Source,
    value: Value,
    inherited: &[Source],
    out: &mut Vec<Pending>,
) -> Result<()> {
    let Value::Mapping(top) = value else {
        return Err(usage(format!(
            "{}: a fleet file is a mapping with `clusters:` and `vars:`",
            src.name
        )));
    };
    for key in top.keys() {
        let k = key.as_str().unwrap_or("?");
        if k != "clusters" && k != "vars" {
            return Err(usage(src.problem(
                k,
                &format!(
                    "{k}: unknown field `{k}` in a fleet file; its fields are `clusters` \
                     (name: inventory) and `vars` (shared by every cluster)"
                ),
            )));
        }
    }
    let mut vars = inherited.to_vec();
    match top.get("vars") {
        None | Some(Value::Null) => {}
        Some(Value::Mapping(m)) => {
            if m.contains_key("cluster") {
                return Err(usage(src.problem(
                    "vars.cluster",
                    "vars.cluster: each cluster has its own name (its key under `clusters:`); \
                     remove it from `vars`",
                )));
            }
            vars.push(Source {
                prefix: "vars.".into(),
                value: Value::Mapping(m.clone()),
                ..src.clone()
            });
        }
        Some(_) => {
            return Err(usage(src.problem(
                "vars",
                "vars: expected a mapping of inventory fields shared by every cluster",
            )))
        }
    }
    let clusters = match top.get("clusters") {
        Some(Value::Mapping(m)) => m.clone(),
        _ => {
            return Err(usage(src.problem(
                "clusters",
                "clusters: expected a mapping of cluster name to inventory (or to the path \
                 of its inventory file)",
            )))
        }
    };
    let base = absolute_parent(&src.path);
    for (key, entry) in clusters {
        let Some(name) = key.as_str().map(str::to_string) else {
            return Err(usage(src.problem(
                "clusters",
                "clusters: every cluster name must be a string",
            )));
        };
        let field = format!("clusters.{name}");
        if let Some(problem) = super::cluster_name_problem(&name) {
            return Err(usage(src.problem(&field, &format!("{field}: {problem}"))));
        }
        match entry {
            Value::String(rel) => {
                let file = base.join(&rel);
                let (own, value) = read_source(&file, "").map_err(|e| {
                    usage(format!("{}: cluster {name}: {e:#}", src.name_at(&field)))
                })?;
                out.push(Pending {
                    name,
                    own: Source { value, ..own },
                    vars: vars.clone(),
                    base_dir: absolute_parent(&file),
                });
            }
            Value::Mapping(m) => out.push(Pending {
                name: name.clone(),
                own: Source {
                    prefix: format!("{field}."),
                    value: Value::Mapping(m),
                    ..src.clone()
                },
                vars: vars.clone(),
                base_dir: base.clone(),
            }),
            _ => {
                return Err(usage(src.problem(
                    &field,
                    &format!(
                        "{field}: expected the cluster's inventory (a mapping) or the path \
                         of its inventory file"
                    ),
                )))
            }
        }
    }
    Ok(())
}

/// The `cluster:` a cluster file sets, if any.
fn cluster_field(v: &Value) -> Option<String> {
    match v {
        Value::Mapping(m) => m.get("cluster")?.as_str().map(str::to_string),
        _ => None,
    }
}

/// Read and parse one YAML file of the fleet (bounded like an inventory).
fn read_source(path: &Path, prefix: &str) -> Result<(Source, Value)> {
    let name = path.display().to_string();
    let text = match read_text(path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(usage(format!("{name}: file not found")))
        }
        Err(e) => return Err(usage(format!("{name}: cannot read it: {e}"))),
    };
    let text = super::precheck(&text)
        .map_err(|m| usage(format!("{name}: {m}")))?
        .to_string();
    let value: Value = serde_yaml_ng::from_str(&text).map_err(|e| {
        let place = e
            .location()
            .map(|l| format!(":{}:{}", l.line(), l.column()))
            .unwrap_or_default();
        usage(format!("{name}{place}: not valid YAML: {e}"))
    })?;
    let src = Source {
        name,
        path: path.to_path_buf(),
        text,
        prefix: prefix.to_string(),
        value: Value::Null,
    };
    Ok((src, value))
}

fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(super::MAX_INVENTORY_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    String::from_utf8(bytes)
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not UTF-8 text"))
}

fn absolute_parent(file: &Path) -> PathBuf {
    let abs = std::path::absolute(file).unwrap_or_else(|_| file.to_path_buf());
    abs.parent().map(Path::to_path_buf).unwrap_or_default()
}

fn usage(msg: String) -> anyhow::Error {
    anyhow::Error::new(UsageError(msg))
}

/// `vars` merged under `own`: mappings key by key (own wins), anything else replaced.
pub fn deep_merge(base: &Value, own: &Value) -> Value {
    match (base, own) {
        (Value::Mapping(b), Value::Mapping(o)) => {
            let mut out: Mapping = b.clone();
            for (k, v) in o {
                let merged = match b.get(k) {
                    Some(bv) => deep_merge(bv, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), merged);
            }
            Value::Mapping(out)
        }
        (_, Value::Null) => base.clone(),
        _ => own.clone(),
    }
}

#[cfg(test)]
#[path = "fleet_tests.rs"]
mod tests;
