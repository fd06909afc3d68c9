//! Prefetch (issue 21): read the facts a run will need in a few batches instead of one
//! round trip each, so a far-away control host waits for a handful of round trips per
//! node, not dozens.
//!
//! How: before the engine runs its steps (and before each verify round), [`warm`] plans
//! them *speculatively*: every step on every node, on this thread, with the transport
//! refusing to run anything ([`crate::transport::speculate`]). A fact read that the cache
//! cannot answer records what it wants (its [`Source`] and its pure parser) and fails
//! with [`Speculated`]; the plan stops there, as it would on any read error, and its
//! result is thrown away. Then every wanted command and file of a node goes to the node
//! as ONE remote command ([`crate::os::batch`]), every wanted query as one
//! multi-statement round trip on the node's SQL connection ([`SqlConn::query_batch`]),
//! both nodes in parallel, and each section goes to its fact's own parser and into the
//! cache, as if read alone. The next pass gets further (a query needs the server's
//! version first; a file's path comes from another file); it stops when a pass wants
//! nothing new.
//!
//! Nothing about what a run decides changes: the steps then plan for real, reading the
//! cache inside the engine's caching scope exactly as they did when an earlier step had
//! read the same fact; a change drops the volatile facts as before (and the engine warms
//! the remaining steps again); a fact whose batched read failed is not cached and is
//! read on its own, with its own error. Facts that must be read at the moment
//! ([`Lifetime::Never`]), `fresh` reads (waits) and reads outside facts are never
//! prefetched.
//!
//! [`SqlConn::query_batch`]: crate::sql::SqlConn::query_batch

use super::{Fact, Lifetime, Raw, Source};
use crate::engine::{Cluster, NodeHandle};
use crate::transport::stats::Event;
use crate::transport::{CommandOutput, RemoteCommand, Speculated};
use std::borrow::Borrow;
use std::cell::RefCell;
use std::collections::{HashMap, HashSet};

/// At most this many speculative passes (each costs a round trip or two per node, and
/// saves at least as many: every want it reads would be a command of its own).
const MAX_PASSES: usize = 16;

/// Parses a batched section and keeps the value in a node's cache (with how long the
/// batch took, in seconds: what a clock read ahead is bounded by).
type Store = Box<dyn FnOnce(&NodeHandle, &Raw, f64) + Send>;

/// One fact wanted on one node, its parser and where to keep its value.
struct Want {
    node: usize,
    key: String,
    source: Source,
    store: Store,
    /// Its source holds a secret ([`super::Fact::SOURCE_HAS_SECRET`]): never remembered.
    secret: bool,
}

thread_local! {
    static WANTS: RefCell<Option<Vec<Want>>> = const { RefCell::new(None) };
}

/// While speculating: record `F` for `arg` on `node` as wanted (unless it must be read
/// at the moment) and return the error the read fails with.
pub(super) fn want<F: Fact>(node: &NodeHandle, arg: &F::Arg, key: String) -> anyhow::Error {
    if F::LIFETIME == Lifetime::Never {
        return Speculated.into();
    }
    // A query whose text needs the server's version wants the version first (the
    // fact's business, not a verify check's declared reads).
    let _inside = super::scope::inside_fact();
    let server = if F::NEEDS_SERVER {
        match super::dialect(node) {
            Ok(d) => Some(d),
            Err(e) => return e,
        }
    } else {
        None
    };
    let source = F::source(arg, server.as_ref());
    let owned = arg.to_owned();
    WANTS.with(|w| {
        let mut w = w.borrow_mut();
        let Some(list) = w.as_mut() else { return };
        if list.iter().any(|x| x.node == node.index && x.key == key) {
            return;
        }
        let store_key = key.clone();
        list.push(Want {
            node: node.index,
            key,
            source,
            secret: F::SOURCE_HAS_SECRET,
            store: Box::new(move |n: &NodeHandle, raw: &Raw, _| {
                // A parse error is not cached: the fact's own read reports it.
                if let Ok(value) = F::parse(owned.borrow(), raw) {
                    if let Ok(mut c) = n.facts.lock() {
                        c.put::<F>(store_key, value);
                    }
                }
            }),
        });
    });
    Speculated.into()
}

/// [`warm`] for a verify round: the reads that must be of the moment (facts never
/// cached, `fresh` reads: the VIP's holders, keepalived's inotify watch, the arbiter's
/// reach) are read ahead too, through each node's [`crate::transport::ReadAhead`], and
/// answered once in the round (a second read runs on the node). A verify round is a
/// snapshot of a few hundred milliseconds either way; what changes is that such a read
/// shares a batch with the others instead of costing a command of its own. The clock
/// too: `clock-skew` bounds its error by the batch's round trip
/// ([`crate::transport::ReadAhead::round_trip_of`]) as it does by its own `date`'s. Not
/// SQL.
pub fn warm_with_moment_reads(cluster: &Cluster, speculate: impl Fn()) {
    let _moment = NodeFlag::new(cluster, |node, on| {
        if let Some(r) = node.transport.read_ahead() {
            r.set_moment_reads(on);
        }
    });
    warm(cluster, speculate);
}

/// While speculating in [`warm_with_moment_reads`]: `F` for `arg` read through the
/// transport, which answers what was read ahead and notes the rest for the next batch;
/// `None` when `F` is not read that way (its caller refuses as usual).
pub(super) fn moment_read<F: Fact>(
    node: &NodeHandle,
    arg: &F::Arg,
) -> Option<anyhow::Result<F::Value>> {
    if F::NEEDS_SERVER {
        return None;
    }
    if !node.transport.read_ahead()?.moment_reads() {
        return None;
    }
    let source = F::source(arg, None);
    if matches!(source, Source::Query(_)) {
        return None;
    }
    let _inside = super::scope::inside_fact();
    Some(super::read_raw_on(node.transport.as_ref(), &source).and_then(|raw| F::parse(arg, &raw)))
}

/// Plan ahead with `speculate` (which plans steps or runs checks, discarding what they
/// return) and read what it wanted in batches, until a pass wants nothing new. With a
/// list of the reads this command made last time ([`super::remembered`]), the first
/// batch reads those too, and a later pass that wants one takes it from there instead of
/// from the node: a converged pair's reads all come in one batch.
pub fn warm(cluster: &Cluster, speculate: impl Fn()) {
    warm_remembering(cluster, super::remembered::current(), speculate);
}

/// Sections read ahead from the remembered list in this prefetch, per node and source,
/// with the batch's round trip: answered to the plan's wants in the later passes, and
/// dropped when the prefetch ends (a later prefetch, after a change, reads again).
type ReadEarly = std::sync::Arc<std::sync::Mutex<HashMap<(usize, Source), (Raw, f64)>>>;

fn warm_remembering(
    cluster: &Cluster,
    remembered: Option<&super::remembered::Remembered>,
    speculate: impl Fn(),
) {
    let mut tried: HashSet<(usize, String)> = HashSet::new();
    let early: ReadEarly = Default::default();
    let mut list_read = remembered.is_none();
    for pass in 0..MAX_PASSES {
        let started = std::time::Instant::now();
        let wanted = plan_ahead(cluster, &speculate);
        let new: Vec<Want> = wanted
            .into_iter()
            .filter(|w| tried.insert((w.node, w.key.clone())))
            .collect();
        if let Some(r) = remembered {
            for w in new.iter().filter(|w| !w.secret) {
                r.wanted(&cluster.nodes[w.node].name, &w.source);
            }
        }
        // What the remembered list already read goes to the wants' own parsers.
        let mut answered: Vec<(Want, Raw, f64)> = Vec::new();
        let new: Vec<Want> = {
            let early = early.lock().unwrap_or_else(|e| e.into_inner());
            new.into_iter()
                .filter_map(|w| match early.get(&(w.node, w.source.clone())) {
                    Some((raw, round_trip_s)) => {
                        answered.push((w, raw.clone(), *round_trip_s));
                        None
                    }
                    None => Some(w),
                })
                .collect()
        };
        tracing::debug!(
            "prefetch pass {pass}: {} new facts wanted, {} of them read ahead from the \
             remembered list (planned ahead in {:.0} ms): {}",
            new.len() + answered.len(),
            answered.len(),
            started.elapsed().as_secs_f64() * 1000.0,
            new.iter()
                .map(|w| format!("{}#{}", w.key, w.node))
                .collect::<Vec<_>>()
                .join(" ")
        );
        if new.is_empty() && answered.is_empty() {
            break;
        }
        for (w, raw, round_trip_s) in answered {
            (w.store)(&cluster.nodes[w.node], &raw, round_trip_s);
        }
        let mut per_node: Vec<Vec<Want>> = cluster.nodes.iter().map(|_| Vec::new()).collect();
        if !new.is_empty() && !list_read {
            // The first batch that goes to the nodes also reads last run's list.
            list_read = true;
            if let Some(r) = remembered {
                for (i, node) in cluster.nodes.iter().enumerate() {
                    let have: HashSet<&Source> = new
                        .iter()
                        .filter(|w| w.node == i)
                        .map(|w| &w.source)
                        .collect();
                    for source in super::remembered::missing(r.last_run(&node.name), &have) {
                        per_node[i].push(read_early(i, source, &early));
                    }
                }
            }
        }
        for w in new {
            if let Some(list) = per_node.get_mut(w.node) {
                list.push(w);
            }
        }
        std::thread::scope(|scope| {
            for (node, wants) in cluster.nodes.iter().zip(per_node) {
                if !wants.is_empty() {
                    scope.spawn(move || fetch(node, wants));
                }
            }
        });
    }
    if let Some(r) = remembered {
        r.save();
    }
}

/// A remembered read on node `i`, kept in `early` for the plan's later passes.
fn read_early(i: usize, source: Source, early: &ReadEarly) -> Want {
    let early = std::sync::Arc::clone(early);
    let kept = source.clone();
    Want {
        node: i,
        key: format!("remembered:{source:?}"),
        source,
        secret: false,
        store: Box::new(move |_: &NodeHandle, raw: &Raw, round_trip_s| {
            if let Ok(mut e) = early.lock() {
                e.insert((i, kept), (raw.clone(), round_trip_s));
            }
        }),
    }
}

/// One speculative pass: plan with `speculate`, the transports refusing to run anything,
/// and return what the plans wanted: the facts, and the commands they ran themselves
/// (read ahead through each node's [`crate::transport::ReadAhead`]).
fn plan_ahead(cluster: &Cluster, speculate: &impl Fn()) -> Vec<Want> {
    let mut wanted = {
        let _speculating = crate::transport::speculate();
        let _nodes = NodeFlag::new(cluster, |node, on| {
            if let Some(flag) = node.transport.speculation() {
                flag.store(on, std::sync::atomic::Ordering::SeqCst);
            }
        });
        WANTS.with(|w| *w.borrow_mut() = Some(Vec::new()));
        // A plan that trips over a value it could not read is thrown away like any.
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| super::cached(speculate)));
        WANTS.with(|w| w.borrow_mut().take()).unwrap_or_default()
    };
    for node in &cluster.nodes {
        let Some(r) = node.transport.read_ahead() else {
            continue;
        };
        for script in r.take_wanted() {
            wanted.push(Want {
                node: node.index,
                key: format!("read-ahead:{script}"),
                source: Source::Command {
                    script: script.clone(),
                    must_succeed: false,
                },
                secret: false,
                store: Box::new(move |n: &NodeHandle, raw: &Raw, round_trip_s| {
                    if let (Some(r), Ok(out)) = (n.transport.read_ahead(), raw.output()) {
                        r.keep(script, out.clone(), round_trip_s);
                    }
                }),
            });
        }
    }
    wanted
}

/// Forget what was read ahead on every node ([`crate::transport::ReadAhead`]): when a
/// run is done with its reads (the end of a verify round, before a change is applied),
/// so that no later command is answered from there.
pub fn forget_read_ahead(cluster: &Cluster) {
    for node in &cluster.nodes {
        if let Some(r) = node.transport.read_ahead() {
            r.forget();
        }
    }
}

/// Sets a flag on every node while it lives (`set(node, true)`), clears it when dropped:
/// each transport's [`crate::transport::Transport::speculation`] (threads a check starts
/// do not inherit this thread's), the moment reads of [`warm_with_moment_reads`].
struct NodeFlag<'a> {
    cluster: &'a Cluster,
    set: fn(&NodeHandle, bool),
}

impl<'a> NodeFlag<'a> {
    fn new(cluster: &'a Cluster, set: fn(&NodeHandle, bool)) -> Self {
        for node in &cluster.nodes {
            set(node, true);
        }
        NodeFlag { cluster, set }
    }
}

impl Drop for NodeFlag<'_> {
    fn drop(&mut self) {
        for node in &self.cluster.nodes {
            (self.set)(node, false);
        }
    }
}

/// Read `wants` on `node`: the commands and files as one batched command, the queries
/// as one batch on the SQL connection; keep what was read.
fn fetch(node: &NodeHandle, wants: Vec<Want>) {
    let (queries, commands): (Vec<Want>, Vec<Want>) = wants
        .into_iter()
        .partition(|w| matches!(w.source, Source::Query(_)));
    // Both at once: the batched command and the SQL round trip overlap.
    std::thread::scope(|scope| {
        if !commands.is_empty() {
            scope.spawn(|| fetch_commands(node, commands));
        }
        if !queries.is_empty() {
            fetch_queries(node, queries);
        }
    });
}

fn fetch_queries(node: &NodeHandle, queries: Vec<Want>) {
    {
        let sql: Vec<String> = queries
            .iter()
            .map(|w| match &w.source {
                Source::Query(q) => q.clone(),
                _ => unreachable!("partitioned"),
            })
            .collect();
        // No server yet (a bare node): the steps read, and report, on their own.
        if let Ok(results) = node.with_sql(|c| Ok(c.query_batch(&sql))) {
            for (w, rows) in queries.into_iter().zip(results) {
                if let Ok(rows) = rows {
                    (w.store)(node, &Raw::Rows(rows), 0.0);
                }
            }
        }
    }
}

fn fetch_commands(node: &NodeHandle, commands: Vec<Want>) {
    let scripts: Vec<String> = commands
        .iter()
        .map(|w| match &w.source {
            Source::Command { script, .. } => script.clone(),
            Source::File(path) => crate::transport::read_file_command(path).script,
            Source::Query(_) => unreachable!("partitioned"),
        })
        .collect();
    let batch = RemoteCommand::new(crate::os::batch::script(&scripts));
    let started = std::time::Instant::now();
    let Ok(out) = node.transport.run(&batch) else {
        return;
    };
    let round_trip_s = started.elapsed().as_secs_f64();
    let Ok(outputs) = crate::os::batch::parse_output(&out.stdout, scripts.len()) else {
        return;
    };
    node.transport
        .note(Event::BatchedFacts(scripts.len() as u64));
    for (w, output) in commands.into_iter().zip(outputs) {
        if let Some(raw) = raw_of(&node.name, &w.source, output) {
            (w.store)(node, &raw, round_trip_s);
        }
    }
}

/// What a fact's parser gets from its section, as [`super::read_raw_on`] would give it;
/// `None` when the fact is better read on its own (a command that must succeed and did
/// not: its own read makes the error; a lost command, 255).
fn raw_of(node: &str, source: &Source, output: CommandOutput) -> Option<Raw> {
    if output.status == 255 {
        return None;
    }
    match source {
        Source::Command {
            must_succeed: true, ..
        } if !output.success() => None,
        Source::Command {
            must_succeed: true, ..
        } => Some(Raw::Output(CommandOutput {
            stderr: String::new(),
            ..output
        })),
        Source::Command { .. } => Some(Raw::Output(output)),
        Source::File(path) => crate::transport::read_file_result(node, path, output)
            .ok()
            .map(Raw::File),
        Source::Query(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::{Cluster, NodeHandle};
    use crate::facts::{cached, get, host::InterfaceAddresses, os_target};
    use crate::transport::fake::FakeTransport;
    use std::sync::Arc;

    fn cluster() -> (Arc<FakeTransport>, Cluster) {
        let t = Arc::new(FakeTransport::new("db1"));
        t.on("ip -4 -o addr show dev eth0", 0, "");
        t.on("/etc/os-release", 0, "ID=debian\nVERSION_ID=\"12\"\n");
        t.on("echo systemd; else echo sysv", 0, "sysv\n");
        let handle = NodeHandle::new(0, "db1", t.clone(), None);
        let c = Cluster {
            nodes: vec![handle],
            secrets: vec![],
        };
        (t, c)
    }

    /// What a plan reads comes in one batched command per pass, and the plan then runs
    /// from the cache without a command of its own.
    #[test]
    fn a_plan_s_reads_come_in_batches_and_the_run_reads_none_itself() {
        let (t, c) = cluster();
        let plan = |c: &Cluster| -> anyhow::Result<()> {
            let n = &c.nodes[0];
            get::<InterfaceAddresses>(n, "eth0")?;
            os_target(n, crate::inventory::Flavor::Mariadb)?;
            Ok(())
        };
        super::warm(&c, || {
            let _ = plan(&c);
        });
        let batches = t.commands().len();
        // A plan stops at its first read not cached yet: one pass per read in a row here
        // (the addresses, then the OS release with the service manager, which os_target
        // wants in the same pass). What batches is the reads of every step and node at
        // one depth.
        assert_eq!(batches, 2, "{:?}", t.commands());
        assert!(t
            .commands()
            .iter()
            .all(|cmd| crate::os::batch::scripts_of(&cmd.script).is_some()));
        cached(|| plan(&c)).unwrap();
        assert_eq!(t.commands().len(), batches, "the plan ran nothing itself");
    }

    /// With the list of the last run's reads, the first batch reads them all: the plan's
    /// later passes find their reads done, and the run reads nothing itself. The values
    /// are still this run's (the list holds no value).
    #[test]
    fn the_last_run_s_list_brings_every_read_into_the_first_batch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("verify.json");
        let plan = |c: &Cluster| -> anyhow::Result<()> {
            let n = &c.nodes[0];
            get::<InterfaceAddresses>(n, "eth0")?;
            os_target(n, crate::inventory::Flavor::Mariadb)?;
            Ok(())
        };
        let first = super::super::remembered::Remembered::load(path.clone(), &[]);
        let (t, c) = cluster();
        super::warm_remembering(&c, Some(&first), || {
            let _ = plan(&c);
        });
        assert_eq!(t.commands().len(), 2, "no list yet: one batch per depth");
        let second = super::super::remembered::Remembered::load(path, &[]);
        let (t, c) = cluster();
        t.on(
            "ip -4 -o addr show dev eth0",
            0,
            "2: eth0    inet 10.0.0.9/24 scope global eth0\n",
        );
        super::warm_remembering(&c, Some(&second), || {
            let _ = plan(&c);
        });
        assert_eq!(t.commands().len(), 1, "{:?}", t.commands());
        let addresses = cached(|| get::<InterfaceAddresses>(&c.nodes[0], "eth0")).unwrap();
        assert!(
            format!("{addresses:?}").contains("10.0.0.9"),
            "{addresses:?}"
        );
        cached(|| plan(&c)).unwrap();
        assert_eq!(t.commands().len(), 1, "the plan ran nothing itself");
    }

    /// While speculating nothing runs on the node, from any thread.
    #[test]
    fn speculating_runs_nothing() {
        let (t, c) = cluster();
        super::warm(&c, || {
            std::thread::scope(|s| {
                s.spawn(|| {
                    let r = c.nodes[0]
                        .transport
                        .run(&crate::transport::RemoteCommand::new(
                            "ip -4 -o addr show dev eth0",
                        ));
                    assert!(crate::transport::is_speculated(&r.unwrap_err()));
                });
            });
        });
        assert!(t.commands().is_empty());
    }
}
