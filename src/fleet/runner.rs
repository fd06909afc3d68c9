//! Running one command on many clusters: each cluster in its own mhactl process (the
//! same command line, the cluster named in [`CHILD_ENV`]), at most `forks` at a time,
//! as Ansible's forks. A process per cluster keeps each run as it is alone: its own
//! connections, locks, signal handling and undo, its own output (captured here), and a
//! crash or failure that cannot reach the others.

use std::collections::VecDeque;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The environment variable naming the cluster (`pair1`, `pair1/node-a`) a per-cluster
/// run acts on; internal to a fleet run (its output is JSON on stdout).
pub const CHILD_ENV: &str = "MHACTL_FLEET_CHILD";

/// glibc's tunable bounding the number of malloc arenas, read when a process starts.
const MALLOC_ARENA_MAX: &str = "MALLOC_ARENA_MAX";

/// One cluster's run to start.
#[derive(Debug, Clone)]
pub struct Job {
    /// Cluster name.
    pub cluster: String,
    /// The one node selected, if any.
    pub node: Option<String>,
}

/// How one cluster's run ended.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// The job.
    pub job: Job,
    /// Its exit code (a run killed by a signal: 128 + the signal).
    pub exit_code: i32,
    /// How long it took.
    pub elapsed: Duration,
    /// Its standard output (its JSON document).
    pub stdout: String,
    /// Its standard error (progress, warnings, errors).
    pub stderr: String,
}

/// Run every job, at most `forks` at once; `done` is told of each as it finishes (from a
/// worker thread). A signal to this process stops starting new runs and is passed on to
/// the running ones (which finish their step and undo, as alone); those never started
/// are reported with the signal's exit code.
pub fn run_all(jobs: Vec<Job>, forks: usize, done: &(dyn Fn(&Outcome) + Sync)) -> Vec<Outcome> {
    let total = jobs.len();
    let queue: Mutex<VecDeque<(usize, Job)>> = Mutex::new(jobs.into_iter().enumerate().collect());
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; total]);
    let running: Arc<Mutex<Vec<u32>>> = Arc::new(Mutex::new(Vec::new()));
    let exe = std::env::current_exe().unwrap_or_else(|_| "mhactl".into());
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    let finished = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        // Pass a signal on to the running children, once.
        s.spawn(|| {
            let mut forwarded = 0;
            while !finished.load(std::sync::atomic::Ordering::SeqCst) {
                let count = crate::interrupt::received_count();
                if let (Some(sig), true) = (crate::interrupt::requested(), count > forwarded) {
                    let name = match sig {
                        crate::interrupt::Signal::Interrupt => "INT",
                        crate::interrupt::Signal::Terminate => "TERM",
                    };
                    for _ in forwarded..count {
                        for pid in running.lock().map(|r| r.clone()).unwrap_or_default() {
                            crate::os::local_signal::signal_local_process(pid, name);
                        }
                    }
                    forwarded = count;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        });
        let workers: Vec<_> = (0..forks.clamp(1, total.max(1)))
            .map(|_| {
                s.spawn(|| loop {
                    let Some((i, job)) = queue.lock().ok().and_then(|mut q| q.pop_front()) else {
                        return;
                    };
                    let outcome = match crate::interrupt::requested() {
                        Some(sig) => Outcome {
                            job,
                            exit_code: i32::from(sig.exit_code()),
                            elapsed: Duration::ZERO,
                            stdout: String::new(),
                            stderr: format!("error: not started: {} received\n", sig.name()),
                        },
                        None => run_one(&exe, &args, job, &running),
                    };
                    done(&outcome);
                    if let Ok(mut r) = results.lock() {
                        r[i] = Some(outcome);
                    }
                })
            })
            .collect();
        for w in workers {
            let _ = w.join();
        }
        finished.store(true, std::sync::atomic::Ordering::SeqCst);
    });
    results
        .into_inner()
        .unwrap_or_default()
        .into_iter()
        .flatten()
        .collect()
}

fn run_one(
    exe: &std::path::Path,
    args: &[std::ffi::OsString],
    job: Job,
    running: &Mutex<Vec<u32>>,
) -> Outcome {
    let started = Instant::now();
    let spec = match &job.node {
        Some(n) => format!("{}/{n}", job.cluster),
        None => job.cluster.clone(),
    };
    let mut command = Command::new(exe);
    command.args(args).env(CHILD_ENV, &spec);
    // One malloc arena per cluster's run instead of one per thread that allocates (glibc
    // makes up to 8 per core): a run waits on the network, never on malloc, and each
    // arena costs resident memory in every one of `forks` processes (docs/benchmarks.md,
    // fleet memory). A value the user set is inherited unchanged.
    if std::env::var_os(MALLOC_ARENA_MAX).is_none() {
        command.env(MALLOC_ARENA_MAX, "1");
    }
    let child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // Its own process group: a terminal's Ctrl-C reaches this process only, which
        // passes each signal on once (two deliveries would count as two signals).
        .process_group(0)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => {
            return Outcome {
                job,
                exit_code: 1,
                elapsed: started.elapsed(),
                stdout: String::new(),
                stderr: format!("error: cannot start {}: {e}\n", exe.display()),
            }
        }
    };
    let pid = child.id();
    if let Ok(mut r) = running.lock() {
        r.push(pid);
    }
    let output = child.wait_with_output();
    if let Ok(mut r) = running.lock() {
        r.retain(|p| *p != pid);
    }
    match output {
        Ok(out) => {
            use std::os::unix::process::ExitStatusExt;
            let code = out
                .status
                .code()
                .or_else(|| out.status.signal().map(|s| 128 + s))
                .unwrap_or(1);
            Outcome {
                job,
                exit_code: code,
                elapsed: started.elapsed(),
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            }
        }
        Err(e) => Outcome {
            job,
            exit_code: 1,
            elapsed: started.elapsed(),
            stdout: String::new(),
            stderr: format!("error: waiting for the run: {e}\n"),
        },
    }
}

/// The fleet's exit code: the worst of the clusters', ranked 0 (ok) < 3 (changes
/// pending) < 1 (failed) < 2 (refused: bad input) < 143 (SIGTERM) < 130 (SIGINT); a
/// code outside these ranks as a failure.
pub fn worst_exit_code(codes: &[i32]) -> i32 {
    let rank = |c: i32| match c {
        0 => 0,
        3 => 1,
        2 => 3,
        143 => 4,
        130 => 5,
        _ => 2,
    };
    codes.iter().copied().max_by_key(|c| rank(*c)).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::worst_exit_code;

    #[test]
    fn the_worst_code_wins() {
        assert_eq!(worst_exit_code(&[]), 0);
        assert_eq!(worst_exit_code(&[0, 0]), 0);
        assert_eq!(worst_exit_code(&[0, 3, 0]), 3);
        assert_eq!(worst_exit_code(&[3, 1]), 1);
        assert_eq!(worst_exit_code(&[1, 2, 3]), 2);
        assert_eq!(worst_exit_code(&[2, 143, 1]), 143);
        assert_eq!(worst_exit_code(&[130, 143]), 130);
        assert_eq!(worst_exit_code(&[0, 101]), 101);
    }
}
