//! Remembered reads (issue 21): which facts a command read on each node in its last run,
//! kept on the control host, so that the next run of that command reads them all in its
//! first batch instead of one batch per depth of the plan.
//!
//! Why: the prefetch ([`super::prefetch`]) learns what a run reads by planning it, and a
//! plan can only go as deep as the values it has: the server's version before the
//! queries whose text depends on it, the OS before its paths, a file before the path it
//! names. Each depth costs a batch, a round trip or two per node (five or more for
//! verify, eight for a converged re-run). A converged pair reads the same things run
//! after run, so the first batch also reads what the last run read (nothing else), and
//! the later passes of the plan find their reads already done. Like Ansible's fact cache,
//! but what is kept is the *list* of reads (commands, file paths, queries), never a value:
//! every value is still read from the node in this run.
//!
//! Nothing a run decides can change: a read the list names that the plan does not want
//! is read and thrown away; a read the plan wants that the list lacks (the version
//! changed a query's text, the inventory changed) is read in a later pass as before. The
//! list is rewritten at the end of each prefetch with what this run wanted, so it follows
//! the pair. Kept in `~/.mhactl/reads/HASH.json` (mode 0600, in a directory of the user's
//! own, like the ssh masters' sockets: `ssh.persist_s: 0` turns both off), one file per
//! command and cluster; a list from another mhactl version is ignored. A read whose text
//! holds a secret of the run is never kept (commands never carry one, by rule; this is
//! the belt to that brace).

use super::Source;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// At most this many reads per node are kept (a converged re-run reads ~60).
const MAX_READS_PER_NODE: usize = 400;

/// What names a list: mhactl's version (a list from another version is ignored).
const VERSION: &str = concat!("mhactl-reads-v1 ", env!("CARGO_PKG_VERSION"));

/// The text of a read (to keep any read that holds a secret off the list).
fn text(source: &Source) -> std::borrow::Cow<'_, str> {
    match source {
        Source::Command { script, .. } => script.into(),
        Source::File(path) => path.to_string_lossy(),
        Source::Query(q) => q.into(),
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct ListFile {
    version: String,
    /// Node name → its reads, in the order first wanted.
    nodes: BTreeMap<String, Vec<Source>>,
    /// Where the run logged in ([`Remembered::place`]): `NODE socket` → the server's
    /// socket.
    #[serde(default)]
    places: BTreeMap<String, String>,
}

/// The reads remembered for one command and cluster: last run's, and this run's so far.
pub struct Remembered {
    path: PathBuf,
    last_run: BTreeMap<String, Vec<Source>>,
    this_run: Mutex<BTreeMap<String, Vec<Source>>>,
    places: Mutex<BTreeMap<String, String>>,
    secrets: Vec<String>,
}

impl Remembered {
    /// The list at `path` (none yet, unreadable or from another version: empty), to be
    /// rewritten there. `secrets`: texts no kept read may contain.
    pub fn load(path: PathBuf, secrets: &[String]) -> Remembered {
        let last = std::fs::read(&path)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<ListFile>(&bytes).ok())
            .filter(|f| f.version == VERSION)
            .unwrap_or_default();
        Remembered {
            path,
            last_run: last.nodes,
            this_run: Mutex::default(),
            places: Mutex::new(last.places),
            secrets: secrets.iter().filter(|s| !s.is_empty()).cloned().collect(),
        }
    }

    /// What `node` read in the last run.
    pub(super) fn last_run(&self, node: &str) -> Vec<Source> {
        self.last_run.get(node).cloned().unwrap_or_default()
    }

    /// Note that this run wanted `source` on `node`.
    pub(super) fn wanted(&self, node: &str, source: &Source) {
        if self
            .secrets
            .iter()
            .any(|s| text(source).contains(s.as_str()))
        {
            return;
        }
        if let Ok(mut this) = self.this_run.lock() {
            let reads = this.entry(node.to_string()).or_default();
            if reads.len() < MAX_READS_PER_NODE && !reads.contains(source) {
                reads.push(source.clone());
            }
        }
    }

    /// Where the last run did `what` (see [`ListFile::places`]): a place to try first,
    /// the caller falling back to finding it when it is wrong.
    pub fn place(&self, what: &str) -> Option<String> {
        self.places
            .lock()
            .ok()?
            .get(what)
            .filter(|p| !p.is_empty())
            .cloned()
    }

    /// Note where this run did `what`, and keep it at once.
    pub fn note_place(&self, what: &str, place: &str) {
        let changed = match self.places.lock() {
            Ok(mut p) => p.insert(what.to_string(), place.to_string()).as_deref() != Some(place),
            Err(_) => false,
        };
        if changed {
            self.save();
        }
    }

    /// Write this run's reads (those of every prefetch so far; the last run's until the
    /// first prefetch ends) and places over the file: at the end of each prefetch. A
    /// failure to write only costs the next run its first batch.
    pub(super) fn save(&self) {
        let nodes = match self.this_run.lock() {
            Ok(this) if !this.is_empty() => this.clone(),
            _ => self.last_run.clone(),
        };
        let places = self.places.lock().map(|p| p.clone()).unwrap_or_default();
        let file = ListFile {
            version: VERSION.to_string(),
            nodes,
            places,
        };
        if let Err(e) = write_private(&self.path, &file) {
            tracing::debug!(
                "cannot keep the list of reads in {}: {e:#}",
                self.path.display()
            );
        }
    }
}

/// `file` as JSON at `path`, mode 0600, through a temporary file renamed over it (two
/// runs at once each leave a whole list).
fn write_private(path: &Path, file: &ListFile) -> anyhow::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let tmp = path.with_extension(format!("tmp{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    f.write_all(&serde_json::to_vec(file)?)?;
    drop(f);
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })?;
    Ok(())
}

static CURRENT: OnceLock<Remembered> = OnceLock::new();

/// Remember this process's reads for `command` on `cluster` in `dir` (a private
/// directory of the user's: [`crate::transport::ssh::master::private_dir`] checked by
/// the caller). `key` names the cluster as the nodes are reached (names, addresses,
/// ports): a list is never used for another pair. Once per process (a fleet runs one
/// process per cluster); later calls are ignored.
pub fn enable(dir: &Path, command: &str, key: &str, secrets: &[String]) {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(format!("{command}\n{key}").as_bytes());
    let name: String = digest[..12].iter().map(|b| format!("{b:02x}")).collect();
    let command: String = command
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let path = dir.join(format!("{command}-{name}.json"));
    let _ = CURRENT.set(Remembered::load(path, secrets));
}

/// The reads remembered for this process, when [`enable`]d.
pub fn current() -> Option<&'static Remembered> {
    CURRENT.get()
}

/// The reads of `last` not in `have` (what the first batch adds).
pub(super) fn missing(last: Vec<Source>, have: &HashSet<&Source>) -> Vec<Source> {
    last.into_iter().filter(|s| !have.contains(s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(s: &str) -> Source {
        Source::Command {
            script: s.into(),
            must_succeed: false,
        }
    }

    /// A run's wants come back as the next run's list, in order, once each; a read
    /// holding a secret is not kept; a list of another version is ignored.
    #[test]
    fn a_run_s_reads_are_the_next_run_s_list() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("verify-x.json");
        let first = Remembered::load(path.clone(), &["S3cret!".into()]);
        assert!(first.last_run("node-a").is_empty());
        first.wanted("node-a", &cmd("id -u"));
        first.wanted("node-a", &Source::Query("SELECT 1".into()));
        first.wanted("node-a", &cmd("id -u"));
        first.wanted("node-a", &Source::Query("SELECT 'S3cret!'".into()));
        first.wanted("node-b", &Source::File("/etc/os-release".into()));
        first.save();
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(&path).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("S3cret!"), "{text}");
        let second = Remembered::load(path.clone(), &[]);
        assert_eq!(
            second.last_run("node-a"),
            vec![cmd("id -u"), Source::Query("SELECT 1".into())]
        );
        assert_eq!(
            second.last_run("node-b"),
            vec![Source::File("/etc/os-release".into())]
        );
        std::fs::write(&path, text.replace(VERSION, "mhactl-reads-v0 0.0.1")).unwrap();
        assert!(Remembered::load(path, &[]).last_run("node-a").is_empty());
    }
}
