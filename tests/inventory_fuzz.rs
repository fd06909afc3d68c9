//! Issue 14: a bounded, deterministic mutation fuzz of the inventory, run by `cargo
//! test` (so CI runs it). Valid inventories are mutated (byte flips, deletions,
//! duplications, line swaps, deep nesting, huge numbers, odd Unicode, hostile values in
//! known fields) and each mutant goes through the real binary with `mhactl inventory
//! check`, which touches no node. Every run must end within its deadline (no hang),
//! without a panic, with exit code 0, 1 or 2.
//!
//! The seed is fixed (`MHACTL_FUZZ_SEED` overrides it) and the run stops after
//! `MHACTL_FUZZ_SECONDS` (default 40) or `MHACTL_FUZZ_RUNS` mutants (default 3000),
//! whichever comes first; a failure prints the seed, the run number and the mutant.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest one check may take before it counts as a hang (debug build, loaded CI).
const DEADLINE: Duration = Duration::from_secs(10);

/// xorshift64*: small, deterministic, good enough to pick mutations.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

/// Values that have broken parsers, validators or the files they end up in.
const ODD: &[&str] = &[
    "\u{feff}",
    "\u{200b}",
    "\u{202e}",
    "\u{0}",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "é",
    "日本",
    "🦀",
    "\r",
    "\t",
    "\\",
    "\"",
    "'",
    "]",
    "[",
    "{",
    "}",
    "&a",
    "*a",
    "!!binary",
    "!<tag>",
    "%YAML 1.1",
    "---",
    "...",
    "? ",
    ": ",
    "- ",
    "#",
    "|",
    ">",
    "~",
    "null",
    ".inf",
    "-.nan",
    "0x7fffffffffffffff",
    "99999999999999999999999999",
    "-1",
    "1e309",
    "0o777",
    "/etc/passwd",
    "/root/.ssh/x",
    "../../etc",
    "-l",
    "%u",
    "$(reboot)",
    "`id`",
    "a b",
    "x,y",
];

/// Field lines worth aiming at (inserted under `mysql:`, `ssh:` or at the top).
const FIELDS: &[&str] = &[
    "  socket: ",
    "  log_error: ",
    "  pid_file: ",
    "  datadir: ",
    "  port: ",
    "  binlog_expire_days: ",
    "  semi_sync_timeout_ms: ",
    "  replication_user: ",
    "  replicate_databases: ",
    "  skip_errors: ",
    "  user: ",
    "  connect_timeout_s: ",
    "  identity_file: ",
    "  gpg_key: ",
    "  repository: ",
    "  priority: ",
    "  server_id: ",
    "  prefix: ",
    "  advert_int_s: ",
];

fn mutate(rng: &mut Rng, seed: &[u8]) -> Vec<u8> {
    let mut b = seed.to_vec();
    for _ in 0..=rng.below(3) {
        let len = b.len().max(1);
        let at = rng.below(len);
        match rng.below(10) {
            // Flip a bit.
            0 => {
                if !b.is_empty() {
                    let i = at.min(b.len() - 1);
                    b[i] ^= 1 << rng.below(8);
                }
            }
            // Delete a range.
            1 => {
                let end = (at + 1 + rng.below(64)).min(b.len());
                b.drain(at.min(end)..end);
            }
            // Duplicate a range in place.
            2 => {
                let end = (at + 1 + rng.below(200)).min(b.len());
                let chunk: Vec<u8> = b[at.min(end)..end].to_vec();
                for _ in 0..=rng.below(3) {
                    b.splice(at..at, chunk.iter().copied());
                }
            }
            // Swap two lines.
            3 => {
                let text = String::from_utf8_lossy(&b).into_owned();
                let mut lines: Vec<&str> = text.lines().collect();
                if lines.len() > 2 {
                    let (i, j) = (rng.below(lines.len()), rng.below(lines.len()));
                    lines.swap(i, j);
                }
                b = (lines.join("\n") + "\n").into_bytes();
            }
            // Deep nesting, flow or block.
            4 => {
                let depth = 1 + rng.below(200_000);
                let nest = if rng.below(2) == 0 {
                    format!("{}{}", "[".repeat(depth), "]".repeat(depth))
                } else {
                    format!("\n{}x", "- ".repeat(depth.min(60_000)))
                };
                b.splice(at..at, nest.into_bytes());
            }
            // A huge or odd number.
            5 => {
                let n = rng.pick(&[
                    "4294967296",
                    "18446744073709551616",
                    "-9223372036854775809",
                    "100000",
                    "0",
                    "65536",
                    "256",
                    "1e10",
                    "9999999999",
                ]);
                b.splice(at..at, n.bytes());
            }
            // Odd Unicode or YAML syntax.
            6 => {
                let s = rng.pick(ODD);
                b.splice(at..at, s.bytes());
            }
            // A hostile value in a known field, under mysql: or ssh: or at the top.
            7 => {
                let field = rng.pick(FIELDS);
                let value = rng.pick(ODD);
                let text = String::from_utf8_lossy(&b).into_owned();
                let anchor = rng.pick(&["mysql:\n", "ssh:\n", "vip:\n", "packages:\n"]);
                let line = format!("{anchor}{field}{value}\n");
                b = match text.find(anchor) {
                    Some(i) => {
                        let mut t = text.clone();
                        t.replace_range(i..i + anchor.len(), &line);
                        t.into_bytes()
                    }
                    None => format!("{text}{line}").into_bytes(),
                };
            }
            // A random byte.
            8 => b.insert(at.min(b.len()), rng.next() as u8),
            // Truncate.
            _ => b.truncate(at),
        }
    }
    b
}

/// Run `mhactl inventory check FILE` with a deadline: (exit code or None if killed,
/// stderr).
fn check(file: &Path) -> (Option<i32>, Option<i32>, String) {
    use std::os::unix::process::ExitStatusExt;
    let started = Instant::now();
    let err_path = file.with_extension("stderr");
    let mut child = Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(["inventory", "check"])
        .arg(file)
        .env("NO_COLOR", "1")
        .env_remove("MHACTL_INVENTORY")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        // A file, not a pipe: a message larger than the pipe's buffer would block the
        // child while this loop waits for it.
        .stderr(std::fs::File::create(&err_path).expect("stderr file"))
        .spawn()
        .expect("run mhactl");
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let err =
                String::from_utf8_lossy(&std::fs::read(&err_path).unwrap_or_default()).into_owned();
            return (status.code(), status.signal(), err);
        }
        if started.elapsed() > DEADLINE {
            child.kill().ok();
            child.wait().ok();
            return (None, None, format!("HUNG: killed after {DEADLINE:?}"));
        }
        std::thread::sleep(Duration::from_millis(2));
    }
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

#[test]
fn mutated_inventories_never_panic_hang_or_exit_oddly() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut seeds: Vec<Vec<u8>> = [
        "tests/fixtures/inventory/good.yaml",
        "tests/fixtures/inventory/hostile/log_error_etc_passwd.yaml",
        "inventory.example.yaml",
    ]
    .iter()
    .map(|p| std::fs::read(root.join(p)).unwrap())
    .collect();
    // A seed with every section: paths, packages, access users.
    let good = String::from_utf8(seeds[0].clone()).unwrap();
    seeds.push(
        format!(
            "{}packages:\n  repository: http://mirror.local/deb\n  gpg_key: /etc/apt/keyrings/m.gpg\n\
             access:\n  users:\n    - name: app\n      password_env: APP_PW\n      networks: [10.0.0.0/24]\n      \
             privileges: SELECT, INSERT ON shop.*\n",
            good.replace(
                "  replicate_databases: [shop]\n",
                "  replicate_databases: [shop]\n  datadir: /data/mysql\n  socket: /run/custom/mysql.sock\n  \
                 log_error: /var/log/custom/mysql.err\n  binlog_expire_days: 14\n",
            )
        )
        .into_bytes(),
    );
    let dir = tempfile::tempdir().unwrap();
    // The seeds themselves: the valid ones pass (so the command under test exists and
    // accepts what it should), the hostile one is refused.
    for (i, seed) in seeds.iter().enumerate() {
        let f = dir.path().join(format!("seed{i}.yaml"));
        std::fs::write(&f, seed).unwrap();
        let (code, _, err) = check(&f);
        let want = if i == 1 { 2 } else { 0 };
        assert_eq!(code, Some(want), "seed {i}: {err}");
    }
    let seed: u64 = env_or("MHACTL_FUZZ_SEED", 0x6d68_6163_746c_0014);
    let budget = Duration::from_secs(env_or("MHACTL_FUZZ_SECONDS", 40));
    let max_runs: usize = env_or("MHACTL_FUZZ_RUNS", 3000);
    let mut rng = Rng(seed | 1);
    let started = Instant::now();
    let mut counts = [0usize; 3];
    let mut slowest = Duration::ZERO;
    let mut runs = 0;
    let file = dir.path().join("mutant.yaml");
    while runs < max_runs && started.elapsed() < budget {
        let base = rng.pick(&seeds).clone();
        let mutant = mutate(&mut rng, &base);
        std::fs::write(&file, &mutant).unwrap();
        let t = Instant::now();
        let (code, signal, err) = check(&file);
        slowest = slowest.max(t.elapsed());
        let keep = || {
            // Outside the temporary directory, which goes with the panic.
            let kept = std::env::temp_dir().join("mhactl-fuzz-failing.yaml");
            std::fs::copy(&file, &kept).ok();
            format!(
                "seed {seed:#x}, run {runs}: {}\nmutant kept in {} ({} bytes, first 400 \
                 shown): {:?}",
                err,
                kept.display(),
                mutant.len(),
                String::from_utf8_lossy(&mutant[..mutant.len().min(400)])
            )
        };
        assert!(!err.contains("panicked"), "panic: {}", keep());
        assert!(signal.is_none(), "killed by signal {signal:?}: {}", keep());
        match code {
            Some(c @ 0..=2) => counts[c as usize] += 1,
            other => panic!("exit {other:?}: {}", keep()),
        }
        runs += 1;
    }
    eprintln!(
        "inventory fuzz: seed {seed:#x}, {runs} mutants in {:.1?} (exit 0: {}, 1: {}, 2: {}), \
         slowest {slowest:?}",
        started.elapsed(),
        counts[0],
        counts[1],
        counts[2]
    );
    assert!(runs >= 100, "only {runs} mutants ran in {budget:?}");
}
