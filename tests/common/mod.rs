//! Shared harness for the lab end-to-end tests: run the mhactl binary, bring a lab up
//! in a temporary directory, and take it down again even when a test panics.
#![allow(dead_code)]

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Can the lab run here? Without root it cannot. Under CI (`CI=true`) that is a
/// failure, never a silent skip; elsewhere the test says loudly that it skipped.
pub fn lab_available(test: &str) -> bool {
    let root = std::fs::metadata("/proc/self")
        .map(|m| m.uid() == 0)
        .unwrap_or(false);
    if root {
        return true;
    }
    if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
        panic!("{test}: CI=true but not running as root: the lab e2e tests must run in CI");
    }
    eprintln!("SKIPPED {test}: the lab needs root (run `sudo scripts/test`)");
    false
}

/// Run mhactl with `args`.
pub fn mhactl(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("cannot run mhactl")
}

/// Run mhactl and require success; return stdout.
pub fn mhactl_ok(args: &[&str]) -> String {
    let out = mhactl(args);
    assert!(
        out.status.success(),
        "mhactl {} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A lab brought up for one test; `down` runs on drop.
pub struct TestLab {
    /// Lab directory.
    pub dir: PathBuf,
    /// Third octet of its subnet.
    pub subnet: u8,
    _tmp: tempfile::TempDir,
}

impl TestLab {
    /// Bring up a lab on subnet 10.213.`subnet`.0/24 in a fresh temporary directory.
    pub fn up(subnet: u8) -> TestLab {
        TestLab::up_flavor(subnet, "mariadb")
    }

    /// Like [`TestLab::up`], with `lab up --flavor FLAVOR`.
    pub fn up_flavor(subnet: u8, flavor: &str) -> TestLab {
        let tmp = tempfile::Builder::new()
            .prefix("mhactl-e2e-")
            .tempdir()
            .unwrap();
        let dir = tmp.path().join("lab");
        // A lab left over from an interrupted run on the same subnet would block us.
        cleanup_stale(subnet);
        let lab = TestLab {
            dir,
            subnet,
            _tmp: tmp,
        };
        mhactl_ok(&[
            "lab",
            "up",
            "--dir",
            lab.dir_str(),
            "--subnet",
            &subnet.to_string(),
            "--flavor",
            flavor,
        ]);
        lab
    }

    /// The lab directory as a string.
    pub fn dir_str(&self) -> &str {
        self.dir.to_str().unwrap()
    }

    /// The inventory `lab up` wrote.
    pub fn inventory(&self) -> String {
        self.dir.join("inventory.yaml").display().to_string()
    }

    /// Run a command on a node through `mhactl lab ssh`.
    pub fn ssh(&self, node: &str, script: &str) -> Output {
        mhactl(&[
            "lab",
            "ssh",
            "--dir",
            self.dir_str(),
            node,
            "--",
            "sh",
            "-c",
            script,
        ])
    }

    /// Run a command on a node and require success; return stdout.
    pub fn ssh_ok(&self, node: &str, script: &str) -> String {
        let out = self.ssh(node, script);
        assert!(
            out.status.success(),
            "on {node}: `{script}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run `script` on `node` with `input` on its stdin (for secrets: never in argv).
    pub fn ssh_stdin(&self, node: &str, script: &str, input: &str) -> Output {
        use std::io::Write;
        let mut child = Command::new(env!("CARGO_BIN_EXE_mhactl"))
            .args([
                "lab",
                "ssh",
                "--dir",
                self.dir_str(),
                node,
                "--",
                "sh",
                "-c",
                script,
            ])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("cannot run mhactl lab ssh");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input.as_bytes())
            .expect("writing stdin");
        child.wait_with_output().expect("waiting for lab ssh")
    }

    /// A value from the lab's secrets.yaml (`replication_password`, `root_password`).
    pub fn secret(&self, key: &str) -> String {
        let text = std::fs::read_to_string(self.dir.join("secrets.yaml")).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{key}: ")))
            .unwrap_or_else(|| panic!("no {key} in secrets.yaml"))
            .trim()
            .trim_matches('"')
            .to_string()
    }

    /// Put root's password (MySQL flavor) in /root/e2e.cnf on `node`, mode 0600, through
    /// stdin: `mysql --defaults-extra-file=/root/e2e.cnf` then logs in as root.
    pub fn root_option_file(&self, node: &str) {
        let text = format!(
            "[client]\nuser=root\npassword=\"{}\"\n",
            self.secret("root_password")
        );
        let out = self.ssh_stdin(node, "umask 077; cat > /root/e2e.cnf", &text);
        assert!(
            out.status.success(),
            "writing /root/e2e.cnf on {node}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

impl Drop for TestLab {
    fn drop(&mut self) {
        let _ = mhactl(&["lab", "down", "--dir", self.dir_str()]);
    }
}

/// Remove namespaces and the bridge of a lab on `subnet` whose directory is gone.
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
            std::thread::sleep(std::time::Duration::from_millis(300));
            let _ = Command::new("ip").args(["netns", "del", &ns]).status();
        }
    }
    if Path::new("/sys/class/net").join(&bridge).exists() {
        let _ = Command::new("ip").args(["link", "del", &bridge]).status();
    }
}

/// Wait (up to 30 s) until both nodes return the same rows for `query`, `want` lines of
/// them, asking each node with `sql`; return the rows.
pub fn converged_rows(
    lab: &TestLab,
    query: &str,
    want: usize,
    sql: impl Fn(&TestLab, &str, &str) -> String,
) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let a = sql(lab, "node-a", query);
        let b = sql(lab, "node-b", query);
        if a == b && a.lines().count() == want {
            return a;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "rows did not replicate both ways:\nnode-a:\n{a}\nnode-b:\n{b}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
