//! Rolling changes of the servers' settings (issue 16): which option lines of mhactl's
//! option file change and which path each takes (the dialect decides: `SET GLOBAL`, file
//! only, restart), and applying the dynamic ones. Which node restarts when, and the
//! hand-over of the VIP before the VIP holder restarts, are [`super::restart_order`]'s.
//! The `server-config` step builds its plan from both.

use crate::dialect::{Dialect, OptionPath};
use crate::engine::{Action, Cluster};
use crate::facts;
use crate::os::option_files::{self, Line};
use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeMap;

/// One option whose line changes in mhactl's option file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct OptionChange {
    /// Option group (`mysqld`, `client`, ...).
    pub group: String,
    /// Normalised option name.
    pub key: String,
    /// Value(s) in the file on the node, comma-joined (`None`: not set).
    pub from: Option<String>,
    /// Value(s) wanted (`None`: the line goes).
    pub to: Option<String>,
    /// How it reaches the running server.
    pub path: OptionPath,
}

impl OptionChange {
    /// `sync_binlog 1 → 0: SET GLOBAL (no restart)`.
    pub fn describe(&self) -> String {
        format!("{}: {}", self.values(), self.path.label())
    }

    /// `sync_binlog 1 → 0`.
    pub fn values(&self) -> String {
        // A password line's value is a secret, on either side of the change: never
        // shown (a hand-written [client] password was printed by a dry run, found by
        // tests/e2e/secrets.rs).
        let secret = self.key.contains("password");
        let show = |v: &Option<String>| match v {
            None => "(unset)".to_string(),
            Some(_) if secret => "(secret)".to_string(),
            Some(v) => v.clone(),
        };
        let group = if self.group == "mysqld" {
            String::new()
        } else {
            format!("[{}] ", self.group)
        };
        format!(
            "{group}{} {} → {}",
            self.key,
            show(&self.from),
            show(&self.to)
        )
    }

    /// The integer a `SET GLOBAL` sets (only [`OptionPath::SetGlobal`] changes have one).
    fn integer(&self) -> Option<u64> {
        self.to.as_deref().and_then(|v| v.parse().ok())
    }
}

/// The option lines that differ between the file on the node (`current`, `None`: no
/// file) and the wanted one, in the wanted file's order, each with its path. Comments
/// and blank lines are not options: a change of only those is written without a restart.
pub(crate) fn option_changes(
    d: &Dialect,
    current: Option<&str>,
    wanted: &str,
) -> Vec<OptionChange> {
    let v = d.version();
    let settings = |text: &str| {
        let mut map: BTreeMap<(String, String), Vec<Option<String>>> = BTreeMap::new();
        let mut order = Vec::new();
        for line in option_files::parse(text) {
            if let Line::Setting { group, key, value } = line {
                let k = (group, key);
                if !map.contains_key(&k) {
                    order.push(k.clone());
                }
                map.entry(k).or_default().push(value);
            }
        }
        (map, order)
    };
    let (old, old_order) = settings(current.unwrap_or(""));
    let (new, new_order) = settings(wanted);
    let joined = |values: Option<&Vec<Option<String>>>| {
        values.map(|vs| {
            vs.iter()
                .map(|v| v.clone().unwrap_or_else(|| "ON".into()))
                .collect::<Vec<_>>()
                .join(",")
        })
    };
    let mut out = Vec::new();
    let removed = old_order.into_iter().filter(|k| !new.contains_key(k));
    for k in new_order.into_iter().chain(removed) {
        let (a, b) = (old.get(&k), new.get(&k));
        if a == b {
            continue;
        }
        let (group, key) = k;
        let server_group = option_files::server_reads_group(&group, v.flavor, v.major, v.minor);
        let single = |vs: Option<&Vec<Option<String>>>| vs.is_none_or(|vs| vs.len() == 1);
        let path = if single(a) && single(b) {
            d.option_change_path(
                server_group,
                &group,
                &key,
                b.and_then(|vs| vs[0].as_deref()),
            )
        } else if server_group {
            // A list option (filters, plugins): the server reads the whole list at start.
            OptionPath::Restart
        } else {
            d.option_change_path(server_group, &group, &key, None)
        };
        out.push(OptionChange {
            from: joined(a),
            to: joined(b),
            group,
            key,
            path,
        });
    }
    out
}

/// A line that needs a restart in general does not when the running server already has
/// the wanted value (a hand edit of the file, a `SET GLOBAL` by someone): writing the file
/// makes file and server agree, and a restart would change nothing. One query for all.
pub(crate) fn credit_running_values(
    node: &crate::engine::NodeHandle,
    d: &Dialect,
    changes: Vec<OptionChange>,
) -> Result<Vec<OptionChange>> {
    let v = d.version();
    let candidate = |c: &OptionChange| {
        c.path == OptionPath::Restart
            && c.to.as_deref().is_some_and(|to| !to.contains(','))
            && option_files::server_reads_group(&c.group, v.flavor, v.major, v.minor)
            && d.running_value_reads_as_written(&c.key)
    };
    let names: Vec<String> = changes
        .iter()
        .filter(|c| candidate(c))
        .map(|c| c.key.clone())
        .collect();
    if names.is_empty() {
        return Ok(changes);
    }
    let running = facts::get::<crate::facts::tables::GlobalVariables>(node, &names)?;
    Ok(changes
        .into_iter()
        .map(|mut c| {
            let now = running
                .iter()
                .find(|(name, _)| *name == c.key)
                .and_then(|(_, value)| value.as_deref());
            if let (true, Some(now), Some(to)) = (candidate(&c), now, c.to.as_deref()) {
                if crate::dialect::same_running_value(now, to) {
                    c.path = OptionPath::FileOnly("the running server already has this value");
                }
            }
            c
        })
        .collect())
}

/// `SET GLOBAL` of the dynamic changes, each checked against the running value, then
/// `write` (the option file); if writing fails, the previous values are set back so that
/// the running server and the file never disagree after a failure.
pub(crate) fn set_global_then(changes: &[OptionChange], write: Action) -> Result<Action> {
    let dynamic: Vec<(String, u64, Option<u64>)> = changes
        .iter()
        .filter(|c| c.path == OptionPath::SetGlobal)
        .map(|c| {
            let to = c
                .integer()
                .ok_or_else(|| anyhow!("{}: no integer value to set", c.key))?;
            let from = c.from.as_deref().and_then(|v| v.parse().ok());
            Ok((c.key.clone(), to, from))
        })
        .collect::<Result<_>>()?;
    let list = dynamic
        .iter()
        .map(|(k, v, _)| format!("{k} = {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let what = if dynamic.is_empty() {
        format!("{} (no restart)", write.describe())
    } else {
        format!(
            "`SET GLOBAL {list}` and check the running values, then {} (no restart)",
            write.describe()
        )
    };
    Ok(Action::Custom(
        what,
        Box::new(move |cluster: &Cluster, i| {
            let node = &cluster.nodes[i];
            let d = facts::dialect(node)?;
            let set = |values: &[(String, u64)]| -> Result<()> {
                let statements = values
                    .iter()
                    .map(|(k, v)| d.set_global_integer_sql(k, *v))
                    .collect::<Result<Vec<_>>>()?;
                node.with_sql(|sql| {
                    for s in &statements {
                        sql.exec(s).with_context(|| s.clone())?;
                    }
                    Ok(())
                })
            };
            let wanted: Vec<(String, u64)> =
                dynamic.iter().map(|(k, v, _)| (k.clone(), *v)).collect();
            // On any failure the previous values go back: the running server and the
            // file never disagree in a way a re-run would not see (it compares files).
            let undo = |e: anyhow::Error| -> anyhow::Error {
                if dynamic.is_empty() {
                    // Nothing was set: the file's own error says what was put back.
                    return anyhow!("{}: server-config: {e:#}", node.name);
                }
                let previous: Vec<(String, u64)> = dynamic
                    .iter()
                    .filter_map(|(k, _, from)| from.map(|f| (k.clone(), f)))
                    .collect();
                let undone = match set(&previous) {
                    Ok(()) => "the previous running values were set back".to_string(),
                    Err(u) => {
                        format!("setting the previous running values back failed too: {u:#}")
                    }
                };
                anyhow!("{}: server-config: {e:#}; {undone}", node.name)
            };
            set(&wanted)
                .and_then(|()| check_running(node, &wanted))
                .map_err(undo)?;
            crate::engine::execute(cluster, node, &write).map_err(undo)?;
            Ok(())
        }),
    ))
}

/// The running values after `SET GLOBAL`: what the server reports must mean the value set.
fn check_running(node: &crate::engine::NodeHandle, wanted: &[(String, u64)]) -> Result<()> {
    if wanted.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = wanted.iter().map(|(k, _)| k.clone()).collect();
    let running = facts::fresh::<crate::facts::tables::GlobalVariables>(node, &names)?;
    for ((name, value), (_, now)) in wanted.iter().zip(&running) {
        let now = now.as_deref().unwrap_or("(no such variable)");
        if !crate::dialect::same_running_value(now, &value.to_string()) {
            bail!("after SET GLOBAL {name} = {value} the server reports {now}; the option file was not changed");
        }
    }
    Ok(())
}
