//! SIGINT and SIGTERM for every command: one watcher thread, a cancellation flag that
//! long-running commands check between steps, a stack of undo actions the main thread
//! runs once (last registered first), and private temporary directories that are removed
//! on every exit path, a signal included.
//!
//! Two kinds of command:
//! - *cooperative* ones (bootstrap, failover-test, reinit) hold a [`Cooperative`] guard
//!   while they run. A first signal only sets the flag: the command finishes its current
//!   step, returns [`Interrupted`] (see [`check`]), its [`UndoStack`] undoes what it changed,
//!   and `cli::main` exits 130 (SIGINT) or 143 (SIGTERM). A second signal says that
//!   cleanup is under way; a third quits at once, undoing nothing more.
//! - every other command (read-only ones, `lab`, `init`) stops at once: the watcher
//!   removes the registered temporary directories and exits with the same codes.
//!
//! How a command uses it (failover-test does exactly this):
//!
//! ```text
//! let _cooperative = interrupt::Cooperative::begin();   // signals now only set the flag
//! let undo = interrupt::UndoStack::new();                // on the command's own thread
//! let probe = undo.push("drop the probe account", || drop_probe(&cluster));
//! create_probe(&cluster)?;                               // any `?` below unwinds `undo`
//! let fault = undo.push("start mysqld on node-a again", || start(&cluster));
//! inject(&cluster)?;
//! interrupt::sleep(duration)?;                           // wakes early on a signal
//! interrupt::check()?;                                   // Err(Interrupted) once signalled
//! undo.done(fault); start(&cluster)?;                    // undone the normal way
//! undo.done(probe); drop_probe(&cluster)?;
//! ```
//!
//! `cli::main` maps [`Interrupted`] (or any signal received) to exit 130/143.
//!
//! A run killed with SIGKILL cannot clean up: its private directory names its process
//! (`owner` file), and the next run removes such directories of processes that are gone.
//!
//! The node locks need nothing here: they are remote processes fed by this process's
//! SSH channel, so they end when the connection closes, however mhactl ends.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

/// A signal that asks mhactl to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGINT (Ctrl-C): exit status 130.
    Interrupt,
    /// SIGTERM: exit status 143.
    Terminate,
}

impl Signal {
    /// The exit status of a process stopped by this signal (128 + its number), as shells report it.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Interrupt => 130,
            Signal::Terminate => 143,
        }
    }

    /// `SIGINT` or `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            Signal::Interrupt => "SIGINT",
            Signal::Terminate => "SIGTERM",
        }
    }

    fn code(self) -> u8 {
        match self {
            Signal::Interrupt => 1,
            Signal::Terminate => 2,
        }
    }

    fn from_code(code: u8) -> Option<Signal> {
        match code {
            1 => Some(Signal::Interrupt),
            2 => Some(Signal::Terminate),
            _ => None,
        }
    }
}

/// The error a cooperative command returns when it stopped because of a signal;
/// `cli::main` turns it into exit status 130 or 143.
#[derive(Debug, Clone, Copy)]
pub struct Interrupted(pub Signal);

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "interrupted by {}", self.0.name())
    }
}
impl std::error::Error for Interrupted {}

/// The first signal received (0: none).
static RECEIVED: AtomicU8 = AtomicU8::new(0);
/// How many signals arrived.
static COUNT: AtomicUsize = AtomicUsize::new(0);
/// How many [`Cooperative`] guards are alive.
static COOPERATIVE: AtomicUsize = AtomicUsize::new(0);
/// Private temporary directories to remove if the process has to exit at once.
static TEMP_DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Start the watcher thread (once, early in `main`). Until it runs, signals keep their
/// default action, which also ends the process.
pub fn install() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("signals".into())
            .spawn(move || watch(ready_tx));
        if spawned.is_ok() {
            // Wait until the handlers are in place, so that a signal sent right after
            // start is handled too (tests send them early).
            let _ = ready_rx.recv_timeout(Duration::from_secs(5));
        }
    });
}

fn watch(ready: std::sync::mpsc::Sender<()>) {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return;
    };
    runtime.block_on(async move {
        // A signal ignored when mhactl started (`nohup`, `cmd &` in a script) stays
        // ignored, as for any well-behaved program.
        let (ignore_int, ignore_term) = ignored_at_start();
        let int = if ignore_int {
            None
        } else {
            signal(SignalKind::interrupt()).ok()
        };
        let term = if ignore_term {
            None
        } else {
            signal(SignalKind::terminate()).ok()
        };
        let (mut int, mut term) = (int, term);
        let _ = ready.send(());
        loop {
            let sig = tokio::select! {
                _ = next(&mut int) => Signal::Interrupt,
                _ = next(&mut term) => Signal::Terminate,
            };
            received(sig);
        }
    });
}

/// The next delivery of `stream`; never, for a signal not watched.
async fn next(stream: &mut Option<tokio::signal::unix::Signal>) {
    if let Some(s) = stream {
        if s.recv().await.is_some() {
            return;
        }
    }
    std::future::pending::<()>().await
}

/// Whether SIGINT and SIGTERM were ignored when the process started (`SigIgn` in
/// /proc/self/status: bit N-1 for signal N).
fn ignored_at_start() -> (bool, bool) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let mask = status
        .lines()
        .find_map(|l| l.strip_prefix("SigIgn:"))
        .and_then(|m| u64::from_str_radix(m.trim(), 16).ok())
        .unwrap_or(0);
    (mask & (1 << (2 - 1)) != 0, mask & (1 << (15 - 1)) != 0)
}

/// What a signal does: set the flag; quit at once when nothing cooperates, or at the third.
fn received(sig: Signal) {
    let _ = RECEIVED.compare_exchange(0, sig.code(), Ordering::SeqCst, Ordering::SeqCst);
    let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
    let first = requested().unwrap_or(sig);
    if COOPERATIVE.load(Ordering::SeqCst) == 0 || n >= 3 {
        if n >= 3 {
            crate::log_eprintln!(
                "mhactl: {} again: quitting now; what was not undone yet stays as it is",
                sig.name()
            );
        }
        remove_temp_dirs();
        std::process::exit(i32::from(first.exit_code()));
    }
    if n == 1 {
        crate::log_eprintln!(
            "mhactl: {} received: finishing the current step, then undoing what this run changed \
             (send it twice more to quit at once)",
            sig.name()
        );
    } else {
        crate::log_eprintln!(
            "mhactl: {} received: still finishing and undoing; once more quits at once, leaving it undone",
            sig.name()
        );
    }
}

/// The first signal received, if any.
pub fn requested() -> Option<Signal> {
    Signal::from_code(RECEIVED.load(Ordering::SeqCst))
}

/// How many signals arrived (a fleet run passes each on to its per-cluster runs).
pub fn received_count() -> usize {
    COUNT.load(Ordering::SeqCst)
}

/// `Err(Interrupted)` once a signal arrived: call between steps and in wait loops.
pub fn check() -> Result<()> {
    match requested() {
        Some(sig) => Err(Interrupted(sig).into()),
        None => Ok(()),
    }
}

/// Sleep up to `d`, waking early (with `Err(Interrupted)`) when a signal arrives.
pub fn sleep(d: Duration) -> Result<()> {
    let until = Instant::now() + d;
    loop {
        check()?;
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(Duration::from_millis(50)));
    }
}

/// The signal behind an error, if it is (or wraps) [`Interrupted`].
pub fn signal_of(err: &anyhow::Error) -> Option<Signal> {
    err.chain()
        .find_map(|e| e.downcast_ref::<Interrupted>())
        .map(|i| i.0)
}

/// While alive, a signal does not end the process: the command checks [`check`] and
/// unwinds itself. Take it at the start of a command that can do so.
pub struct Cooperative(());

impl Cooperative {
    /// Declare that this command handles signals itself.
    pub fn begin() -> Cooperative {
        install();
        COOPERATIVE.fetch_add(1, Ordering::SeqCst);
        Cooperative(())
    }
}

impl Drop for Cooperative {
    fn drop(&mut self) {
        COOPERATIVE.fetch_sub(1, Ordering::SeqCst);
    }
}

type UndoFn<'a> = Box<dyn FnOnce() -> Result<()> + 'a>;

/// What a command must undo if it does not get to undo it itself: each entry is run at
/// most once, last registered first, when the stack is dropped (so on every way out of
/// the command: success, error, interrupt) unless marked [`UndoStack::done`] before.
/// Entries may borrow the command's state (the cluster), so the stack lives on the
/// command's (main) thread and never crosses to the signal watcher.
#[derive(Default)]
pub struct UndoStack<'a> {
    entries: std::cell::RefCell<Vec<(usize, String, UndoFn<'a>)>>,
    next: std::cell::Cell<usize>,
}

/// Names one entry of an [`UndoStack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UndoId(usize);

impl<'a> UndoStack<'a> {
    /// An empty stack.
    pub fn new() -> UndoStack<'a> {
        UndoStack::default()
    }

    /// Register how to undo something that is about to change; `what` names it for
    /// messages ("start mysqld on node-a again").
    pub fn push(&self, what: impl Into<String>, undo: impl FnOnce() -> Result<()> + 'a) -> UndoId {
        let id = self.next.get();
        self.next.set(id + 1);
        self.entries
            .borrow_mut()
            .push((id, what.into(), Box::new(undo)));
        UndoId(id)
    }

    /// The command undid `id` itself (or it no longer needs undoing): forget it.
    pub fn done(&self, id: UndoId) {
        self.entries.borrow_mut().retain(|(i, _, _)| *i != id.0);
    }

    /// Run everything left, last registered first, each once; return the failures
    /// ("what: why"). Also printed on stderr, since this often runs on the way out.
    pub fn unwind(&self) -> Vec<String> {
        let mut failures = Vec::new();
        loop {
            let Some((_, what, undo)) = self.entries.borrow_mut().pop() else {
                break;
            };
            if let Some(sig) = requested() {
                crate::log_eprintln!("mhactl: {}: {what}", sig.name());
            }
            if let Err(e) = undo() {
                let line = format!("could not {what}: {e:#}");
                crate::log_eprintln!("mhactl: {line}");
                failures.push(line);
            }
        }
        failures
    }
}

impl Drop for UndoStack<'_> {
    fn drop(&mut self) {
        self.unwind();
    }
}

/// A private (0700) temporary directory, removed when dropped and also when a signal
/// ends the process at once. Under `$TMPDIR` when that path is short (ssh limits
/// control socket paths to ~108 bytes), else under /tmp.
pub struct PrivateDir {
    dir: Option<tempfile::TempDir>,
    path: PathBuf,
}

impl PrivateDir {
    /// Create `<tmp>/PREFIXxxxxxx` with mode 0700 (first removing such directories
    /// left by runs that were killed).
    pub fn new(prefix: &str) -> Result<PrivateDir> {
        use std::os::unix::fs::PermissionsExt;
        remove_stale(&temp_base(), prefix);
        // tempfile creates directories with the default mode (0777 minus the umask,
        // usually 0755) unless told otherwise.
        let dir = tempfile::Builder::new()
            .prefix(prefix)
            .permissions(std::fs::Permissions::from_mode(0o700))
            .tempdir_in(temp_base())
            .with_context(|| {
                format!(
                    "cannot create a private temporary directory in {}",
                    temp_base().display()
                )
            })?;
        let path = dir.path().to_path_buf();
        if let Some(me) = process_identity(std::process::id()) {
            std::fs::write(path.join(OWNER_FILE), me)
                .with_context(|| format!("cannot write {}", path.join(OWNER_FILE).display()))?;
        }
        if let Ok(mut dirs) = TEMP_DIRS.lock() {
            dirs.push(path.clone());
        }
        Ok(PrivateDir {
            dir: Some(dir),
            path,
        })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for PrivateDir {
    fn drop(&mut self) {
        if let Ok(mut dirs) = TEMP_DIRS.lock() {
            dirs.retain(|p| p != &self.path);
        }
        drop(self.dir.take());
    }
}

/// Where private directories go: `$TMPDIR` if set, absolute and short, else /tmp.
fn temp_base() -> PathBuf {
    match std::env::var_os("TMPDIR").map(PathBuf::from) {
        Some(p) if p.is_absolute() && p.as_os_str().len() <= 40 && p.is_dir() => p,
        _ => PathBuf::from("/tmp"),
    }
}

/// The file in a private directory naming the process that made it.
const OWNER_FILE: &str = "owner";

/// `PID STARTTIME`: a process, distinct from a later one reusing its pid.
fn process_identity(pid: u32) -> Option<String> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 22 (starttime), counted after the parenthesised command name.
    let start = stat.rsplit_once(')')?.1.split_whitespace().nth(19)?;
    Some(format!("{pid} {start}"))
}

/// Remove `base/PREFIX*` directories whose owner file names a process that is gone
/// (a run killed by SIGKILL). Directories without one are not ours to judge.
fn remove_stale(base: &Path, prefix: &str) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    let uid = std::fs::metadata("/proc/self").map(|m| m.uid()).ok();
    for entry in entries.flatten() {
        let path = entry.path();
        let named = entry.file_name().to_string_lossy().starts_with(prefix);
        let mine = std::fs::symlink_metadata(&path)
            .is_ok_and(|m| m.is_dir() && Some(m.uid()) == uid && m.mode() & 0o777 == 0o700);
        if !named || !mine {
            continue;
        }
        let Ok(owner) = std::fs::read_to_string(path.join(OWNER_FILE)) else {
            continue;
        };
        let gone = owner
            .split_whitespace()
            .next()
            .and_then(|pid| pid.parse::<u32>().ok())
            .is_some_and(|pid| process_identity(pid).as_deref() != Some(owner.trim()));
        if gone {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

fn remove_temp_dirs() {
    // try_lock: never wait on a thread that the exit is about to stop.
    if let Ok(dirs) = TEMP_DIRS.try_lock() {
        for dir in dirs.iter() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn undo_runs_last_first_once_and_skips_what_is_done() {
        let log = std::cell::RefCell::new(Vec::new());
        {
            let stack = UndoStack::new();
            stack.push("a", || {
                log.borrow_mut().push("a");
                Ok(())
            });
            let b = stack.push("b", || {
                log.borrow_mut().push("b");
                Ok(())
            });
            stack.push("c", || {
                log.borrow_mut().push("c");
                anyhow::bail!("boom")
            });
            stack.done(b);
            let failures = stack.unwind();
            assert_eq!(failures, vec!["could not c: boom".to_string()]);
            // Dropping it now runs nothing again.
        }
        assert_eq!(*log.borrow(), vec!["c", "a"]);
    }

    #[test]
    fn private_dirs_are_0700_and_removed_on_drop() {
        let dir = PrivateDir::new("mhactl-test-").unwrap();
        let path = dir.path().to_path_buf();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{}", path.display());
        assert!(TEMP_DIRS.lock().unwrap().contains(&path));
        drop(dir);
        assert!(!path.exists());
        assert!(!TEMP_DIRS.lock().unwrap().contains(&path));
    }

    #[test]
    fn directories_of_dead_runs_are_removed_and_live_ones_kept() {
        let base = tempfile::tempdir().unwrap();
        let make = |name: &str, owner: &str| {
            use std::os::unix::fs::PermissionsExt;
            let d = base.path().join(name);
            std::fs::create_dir(&d).unwrap();
            std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o700)).unwrap();
            if !owner.is_empty() {
                std::fs::write(d.join(OWNER_FILE), owner).unwrap();
            }
            d
        };
        let live = make(
            "mhactl-live",
            &process_identity(std::process::id()).unwrap(),
        );
        // Same pid, another start time: the pid was reused, the owner is gone.
        let reused = make("mhactl-reused", &format!("{} 1", std::process::id()));
        let dead = make("mhactl-dead", "4194999 12");
        let foreign = make("mhactl-foreign", "");
        let other = make("other-dead", "4194999 12");
        remove_stale(base.path(), "mhactl-");
        assert!(live.exists() && foreign.exists() && other.exists());
        assert!(!reused.exists() && !dead.exists());
    }

    #[test]
    fn exit_codes_are_128_plus_the_signal_number() {
        assert_eq!(Signal::Interrupt.exit_code(), 128 + 2);
        assert_eq!(Signal::Terminate.exit_code(), 128 + 15);
        let err = anyhow::Error::from(Interrupted(Signal::Terminate)).context("bootstrap");
        assert_eq!(signal_of(&err), Some(Signal::Terminate));
        assert_eq!(signal_of(&anyhow::anyhow!("other")), None);
    }
}
