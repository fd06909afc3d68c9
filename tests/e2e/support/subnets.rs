//! The subnet pool: which 10.213.N.0/24 subnets the e2e scenarios may use, and the claim
//! on one of them (a non-blocking `flock` on a file under /run/lock), so that parallel
//! scenarios, and two test runs on one machine, never bring up two labs on one subnet.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The pool when `MHACTL_E2E_SUBNETS` is not set: the subnets the old per-file tests
/// used (218-253), widened to whole ranges, leaving 230-239 to manual labs.
const DEFAULT_POOL: &str = "200-229,240-254";

/// How long a scenario waits for a free subnet before it fails (all claimed by other
/// runs on this machine, or by this run's own scenarios when the pool is small).
const CLAIM_PATIENCE: Duration = Duration::from_secs(30 * 60);

/// A subnet held for one scenario; released (the lock file closed) when dropped.
pub struct Subnet {
    /// The third octet: the lab's addresses are 10.213.`number`.0/24.
    pub number: u8,
    _lock: File,
}

impl Subnet {
    /// Claim the first free subnet of the pool, waiting while every one is claimed.
    /// Whatever a crashed run left on it (namespaces, bridge) is removed first: the
    /// subnets of the pool belong to the e2e suite while it holds them.
    pub fn claim() -> Subnet {
        let pool = pool();
        let started = Instant::now();
        loop {
            for &number in &pool {
                if let Some(lock) = try_lock(number) {
                    cleanup_stale(number);
                    return Subnet {
                        number,
                        _lock: lock,
                    };
                }
            }
            assert!(
                started.elapsed() < CLAIM_PATIENCE,
                "no free e2e subnet in {:?} after {CLAIM_PATIENCE:?} (all claimed under {}): \
                 widen MHACTL_E2E_SUBNETS or lower MHACTL_E2E_JOBS",
                pool,
                lock_dir().display()
            );
            std::thread::sleep(Duration::from_secs(2));
        }
    }
}

/// `MHACTL_E2E_SUBNETS` ("200-217", "200-205,210"), else [`DEFAULT_POOL`].
pub fn pool() -> Vec<u8> {
    let spec = std::env::var("MHACTL_E2E_SUBNETS").unwrap_or_else(|_| DEFAULT_POOL.to_string());
    parse_pool(&spec).unwrap_or_else(|e| panic!("MHACTL_E2E_SUBNETS={spec:?}: {e}"))
}

fn parse_pool(spec: &str) -> Result<Vec<u8>, String> {
    let mut pool = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (low, high) = part.split_once('-').unwrap_or((part, part));
        let number = |s: &str| {
            s.trim()
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=254).contains(n))
                .ok_or_else(|| format!("{s:?} is not a subnet number from 1 to 254"))
        };
        let (low, high) = (number(low)?, number(high)?);
        if low > high {
            return Err(format!("{part:?}: the range runs backwards"));
        }
        for n in low..=high {
            if !pool.contains(&n) {
                pool.push(n);
            }
        }
    }
    if pool.is_empty() {
        return Err("no subnet in the list".into());
    }
    Ok(pool)
}

fn lock_dir() -> PathBuf {
    PathBuf::from("/run/lock")
}

/// The lock of subnet `number`, if no one else holds it. The lock is `flock`'s, so the
/// kernel drops it when the holder dies, however it dies.
fn try_lock(number: u8) -> Option<File> {
    let path = lock_dir().join(format!("mhactl-e2e-subnet-{number}.lock"));
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()));
    match file.try_lock() {
        Ok(()) => Some(file),
        Err(TryLockError::WouldBlock) => None,
        Err(TryLockError::Error(e)) => panic!("cannot lock {}: {e}", path.display()),
    }
}

/// Remove namespaces and the bridge of a lab on `subnet` whose run is gone (a lab left
/// over from an interrupted run would block `lab up`).
fn cleanup_stale(subnet: u8) {
    let bridge = format!("mhactl{subnet}br");
    for node in ["node-a", "node-b"] {
        let ns = format!("mhactl{subnet}-{node}");
        if Path::new("/run/netns").join(&ns).exists() {
            let pids = Command::new("ip")
                .args(["netns", "pids", &ns])
                .output()
                .unwrap();
            for pid in String::from_utf8_lossy(&pids.stdout).split_whitespace() {
                let _ = Command::new("kill").args(["-KILL", pid]).status();
            }
            std::thread::sleep(Duration::from_millis(300));
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
    }
    if Path::new("/sys/class/net").join(&bridge).exists() {
        let _ = Command::new("ip").args(["link", "del", &bridge]).status();
    }
}

/// The pool's syntax (a scenario without a lab: it runs everywhere).
pub fn pool_lists_ranges_and_single_subnets() {
    assert_eq!(
        parse_pool("200-202, 210").unwrap(),
        vec![200, 201, 202, 210]
    );
    assert_eq!(parse_pool("5").unwrap(), vec![5]);
    assert!(parse_pool("202-200").is_err());
    assert!(parse_pool("0-3").is_err());
    assert!(parse_pool("200-300").is_err());
    assert!(parse_pool(" ,").is_err());
}
