//! `--limit` patterns (issue 21), as Ansible's: comma-separated, each `CLUSTER` or
//! `CLUSTER/NODE`, with shell globs (`*`, `?`, `[abc]`, `[a-z]`, `[!x]`) and `!PATTERN`
//! to exclude (exclusions apply after the union of the others, whatever their order, as
//! Ansible's). Pure: names in, selection out (docs/fleet.md "Limits").
//!
//! - In a fleet, `pair*` selects whole clusters; `pair1/node-a` one node of `pair1`.
//! - With one cluster's inventory, a bare name is a node when it matches one (the
//!   `--limit NODE` of before fleets), else the cluster itself.
//!
//! A positive pattern that matches nothing is refused (exit 2) rather than ignored, so a
//! typo never silently runs on fewer clusters; so is a selection left empty.

use crate::error::UsageError;

/// One pattern: `[!]CLUSTER[/NODE]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// `!`: exclude what it matches.
    pub exclude: bool,
    /// Glob on the cluster name.
    pub cluster: String,
    /// Glob on the node name (`None`: the whole cluster).
    pub node: Option<String>,
    /// As typed (for messages).
    pub text: String,
}

/// A cluster and its node names, as the matcher sees them.
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// Cluster name.
    pub name: &'a str,
    /// Its nodes, in inventory order.
    pub nodes: Vec<&'a str>,
}

/// One selected cluster: the whole of it, or one node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selected {
    /// Cluster name.
    pub cluster: String,
    /// The one node selected (`None`: every node, the cluster as a whole).
    pub node: Option<String>,
}

/// Parse `--limit` text: comma-separated patterns (empty parts refused).
pub fn parse(text: &str) -> Result<Vec<Pattern>, UsageError> {
    let mut out = Vec::new();
    for part in text.split(',').map(str::trim) {
        let err = |why: &str| UsageError(format!("--limit {text}: `{part}` {why}"));
        if part.is_empty() {
            return Err(err(
                "is empty; patterns are separated by commas: pair1,pair2/node-a",
            ));
        }
        let (exclude, rest) = match part.strip_prefix('!') {
            Some(r) => (true, r),
            None => (false, part),
        };
        let (cluster, node) = match rest.split_once('/') {
            Some((c, n)) => (c, Some(n)),
            None => (rest, None),
        };
        if cluster.is_empty() || node.is_some_and(|n| n.is_empty() || n.contains('/')) {
            return Err(err("is not CLUSTER or CLUSTER/NODE"));
        }
        for glob in std::iter::once(cluster).chain(node) {
            if let Some(problem) = glob_problem(glob) {
                return Err(err(&problem));
            }
        }
        out.push(Pattern {
            exclude,
            cluster: cluster.to_string(),
            node: node.map(str::to_string),
            text: part.to_string(),
        });
    }
    Ok(out)
}

/// What `patterns` select of `clusters`, in the clusters' order.
pub fn select(
    patterns: &[Pattern],
    clusters: &[Candidate<'_>],
    what: &str,
) -> Result<Vec<Selected>, UsageError> {
    // Per cluster, per node: selected?
    let any_positive = patterns.iter().any(|p| !p.exclude);
    let mut chosen: Vec<Vec<bool>> = clusters
        .iter()
        .map(|c| vec![!any_positive; c.nodes.len()])
        .collect();
    // As Ansible's: the union of the positive patterns, then the exclusions, whatever
    // their order on the command line.
    let ordered = patterns
        .iter()
        .filter(|p| !p.exclude)
        .chain(patterns.iter().filter(|p| p.exclude));
    for p in ordered {
        let mut matched = false;
        for (c, nodes) in clusters.iter().zip(chosen.iter_mut()) {
            if !glob_match(&p.cluster, c.name) {
                continue;
            }
            for (n, on) in c.nodes.iter().zip(nodes.iter_mut()) {
                if p.node.as_deref().is_none_or(|g| glob_match(g, n)) {
                    matched = true;
                    *on = !p.exclude;
                }
            }
        }
        if !matched && !p.exclude {
            return Err(no_match(p, clusters, what));
        }
    }
    let selected: Vec<Selected> = clusters
        .iter()
        .zip(&chosen)
        .filter(|(_, on)| on.iter().any(|b| *b))
        .map(|(c, on)| {
            let picked: Vec<&str> = c
                .nodes
                .iter()
                .zip(on)
                .filter(|(_, b)| **b)
                .map(|(n, _)| *n)
                .collect();
            Selected {
                cluster: c.name.to_string(),
                node: match picked.as_slice() {
                    [one] if c.nodes.len() > 1 => Some(one.to_string()),
                    _ => None,
                },
            }
        })
        .collect();
    if selected.is_empty() {
        let text: Vec<&str> = patterns.iter().map(|p| p.text.as_str()).collect();
        return Err(UsageError(format!(
            "--limit {}: selects nothing in {what}",
            text.join(",")
        )));
    }
    Ok(selected)
}

/// One cluster's inventory: a bare name is a node when it matches one of its nodes
/// (`--limit node-a`, as before fleets), else the cluster's own name.
pub fn select_single(
    patterns: &[Pattern],
    cluster: &Candidate<'_>,
    what: &str,
) -> Result<Selected, UsageError> {
    let rewritten: Vec<Pattern> = patterns
        .iter()
        .map(|p| match &p.node {
            None if cluster.nodes.iter().any(|n| glob_match(&p.cluster, n)) => Pattern {
                cluster: "*".into(),
                node: Some(p.cluster.clone()),
                ..p.clone()
            },
            _ => p.clone(),
        })
        .collect();
    let mut selected = select(&rewritten, std::slice::from_ref(cluster), what)?;
    Ok(selected.remove(0))
}

fn no_match(p: &Pattern, clusters: &[Candidate<'_>], what: &str) -> UsageError {
    let names: Vec<String> = clusters.iter().map(|c| c.name.to_string()).collect();
    let cluster_hit = clusters.iter().find(|c| glob_match(&p.cluster, c.name));
    match (cluster_hit, clusters) {
        (Some(c), _) => UsageError(format!(
            "--limit {}: no node of {} matches `{}` (nodes: {})",
            p.text,
            c.name,
            p.node.as_deref().unwrap_or(""),
            c.nodes.join(", ")
        )),
        (None, [only]) => UsageError(format!(
            "--limit {}: no such node or cluster in {what} (cluster {}, nodes: {})",
            p.text,
            only.name,
            only.nodes.join(", ")
        )),
        (None, _) => UsageError(format!(
            "--limit {}: no cluster matches `{}` in {what} (clusters: {})",
            p.text,
            p.cluster,
            crate::inventory::fleet::short_list(&names)
        )),
    }
}

/// Why `glob` is not a valid pattern (an unclosed `[`).
fn glob_problem(glob: &str) -> Option<String> {
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        if c == '[' && !chars.by_ref().any(|c| c == ']') {
            return Some("has a `[` without its `]`".into());
        }
    }
    None
}

/// Shell-style glob match of the whole `name`: `*` any run, `?` one character,
/// `[abc]`/`[a-z]`/`[!x]` one of a set.
pub fn glob_match(glob: &str, name: &str) -> bool {
    let g: Vec<char> = glob.chars().collect();
    let n: Vec<char> = name.chars().collect();
    matches_from(&g, &n)
}

fn matches_from(g: &[char], n: &[char]) -> bool {
    match g.first() {
        None => n.is_empty(),
        Some('*') => (0..=n.len()).any(|i| matches_from(&g[1..], &n[i..])),
        Some('?') => !n.is_empty() && matches_from(&g[1..], &n[1..]),
        Some('[') => {
            let Some(end) = g.iter().skip(1).position(|c| *c == ']').map(|p| p + 1) else {
                return false;
            };
            let Some(&c) = n.first() else {
                return false;
            };
            let set = &g[1..end];
            let (negate, set) = match set.first() {
                Some('!' | '^') => (true, &set[1..]),
                _ => (false, set),
            };
            let mut hit = false;
            let mut i = 0;
            while i < set.len() {
                if i + 2 < set.len() && set[i + 1] == '-' {
                    hit |= set[i] <= c && c <= set[i + 2];
                    i += 3;
                } else {
                    hit |= set[i] == c;
                    i += 1;
                }
            }
            hit != negate && matches_from(&g[end + 1..], &n[1..])
        }
        Some(&lit) => n.first() == Some(&lit) && matches_from(&g[1..], &n[1..]),
    }
}

#[cfg(test)]
#[path = "pattern_tests.rs"]
mod tests;
