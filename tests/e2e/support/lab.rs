//! A lab for one scenario: `mhactl lab up` on a claimed subnet in a fresh temporary
//! directory, `lab down` when dropped (also when the scenario panics), then the subnet
//! is released; and the ways a scenario reaches its nodes (`lab ssh`, secrets).

use super::run::{mhactl, mhactl_ok};
use super::subnets::Subnet;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::Instant;

/// A lab brought up for one scenario; `down` runs on drop.
pub struct Lab {
    /// Lab directory.
    pub dir: PathBuf,
    /// Third octet of its subnet.
    pub subnet: u8,
    flavor: String,
    // Dropped after `Drop::drop` took the lab down, in this order: the directory, then
    // the subnet's claim (so no other scenario gets the subnet while the lab is up).
    _tmp: tempfile::TempDir,
    _claim: Subnet,
}

impl Lab {
    /// Bring up a lab with `lab up --flavor FLAVOR` on `claim`'s subnet.
    pub fn up(claim: Subnet, flavor: &str) -> Lab {
        Lab::up_with(claim, flavor, &[])
    }

    /// [`Lab::up`] with more `lab up` flags (`--ssh-user NAME`).
    pub fn up_with(claim: Subnet, flavor: &str, extra: &[&str]) -> Lab {
        let tmp = tempfile::Builder::new()
            .prefix("mhactl-e2e-")
            .tempdir()
            .unwrap();
        let lab = Lab {
            dir: tmp.path().join("lab"),
            subnet: claim.number,
            flavor: flavor.to_string(),
            _tmp: tmp,
            _claim: claim,
        };
        let started = Instant::now();
        let subnet = lab.subnet.to_string();
        let mut args = vec![
            "lab",
            "up",
            "--dir",
            lab.dir_str(),
            "--subnet",
            &subnet,
            "--flavor",
            flavor,
        ];
        args.extend_from_slice(extra);
        mhactl_ok(&args);
        eprintln!(
            "lab up ({flavor}) on 10.213.{}.0/24 in {:.1} s",
            lab.subnet,
            started.elapsed().as_secs_f64()
        );
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

    /// The address of host `host` on the lab's subnet (11: node-a, 12: node-b, 100: the VIP).
    pub fn addr(&self, host: u8) -> String {
        format!("10.213.{}.{host}", self.subnet)
    }

    fn ssh_command(&self, node: &str, script: &str) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_mhactl"));
        cmd.args(["lab", "ssh", "--dir", self.dir_str(), node, "--"])
            .args(["sh", "-c", script])
            .env("NO_COLOR", "1");
        cmd
    }

    /// Run a command on a node through `mhactl lab ssh`.
    pub fn ssh(&self, node: &str, script: &str) -> Output {
        self.ssh_command(node, script)
            .output()
            .expect("cannot run mhactl lab ssh")
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
        let mut child = self
            .ssh_command(node, script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
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

    /// `statement` as root through the server's socket on `node` (socket authentication,
    /// no password: the MariaDB flavors); tab-separated rows, no header. MariaDB 11 has
    /// only the `mariadb` client.
    pub fn sql(&self, node: &str, statement: &str) -> String {
        let client = if self.flavor == "mariadb11" {
            "mariadb"
        } else {
            "mysql"
        };
        self.ssh_ok(node, &format!("{client} -N -B -e \"{statement}\""))
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

    /// Every value in the lab's secrets.yaml (to look for in outputs and command lines).
    pub fn secret_values(&self) -> Vec<String> {
        std::fs::read_to_string(self.dir.join("secrets.yaml"))
            .unwrap()
            .lines()
            .filter_map(|l| l.split_once(": "))
            .map(|(_, v)| v.trim().trim_matches('"').to_string())
            .collect()
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

    /// A new ed25519 key pair in the lab directory (`name`, `name.pub`) that no node knows.
    pub fn new_ssh_key(&self, name: &str) -> PathBuf {
        let path = self.dir.join(name);
        let status = Command::new("ssh-keygen")
            .args(["-q", "-t", "ed25519", "-N", "", "-f"])
            .arg(&path)
            .status()
            .expect("cannot run ssh-keygen");
        assert!(
            status.success(),
            "ssh-keygen -f {}: {status}",
            path.display()
        );
        path
    }

    /// The lab's flavor (`mariadb`, `mysql`, `mariadb11`).
    pub fn flavor(&self) -> &str {
        &self.flavor
    }

    /// Which node holds the VIP now, and the other one.
    pub fn vip_holder(&self) -> (&'static str, &'static str) {
        let vip = format!("{}/", self.addr(100));
        if self
            .ssh_ok("node-a", "ip -4 -o addr show dev eth0")
            .contains(&vip)
        {
            ("node-a", "node-b")
        } else {
            ("node-b", "node-a")
        }
    }

    /// `statement` as root on `node` in any flavor (MySQL: root's password from an option
    /// file written through stdin, [`Self::root_option_file`]); tab-separated rows.
    pub fn root_sql(&self, node: &str, statement: &str) -> String {
        if self.flavor == "mysql" {
            self.root_option_file(node);
            self.ssh_ok(
                node,
                &format!("mysql --defaults-extra-file=/root/e2e.cnf -N -B -e \"{statement}\""),
            )
        } else {
            self.sql(node, statement)
        }
    }

    /// `mhactl bootstrap` of this lab's inventory, required to succeed; returns stdout.
    pub fn bootstrap_ok(&self) -> String {
        mhactl_ok(&["bootstrap", &self.inventory(), "--no-progress"])
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let _ = mhactl(&["lab", "down", "--dir", self.dir_str()]);
    }
}

/// Wait (up to 30 s) until both nodes return the same rows for `query`, `want` lines of
/// them, asking each node with `sql`; return the rows.
pub fn converged_rows(
    lab: &Lab,
    query: &str,
    want: usize,
    sql: impl Fn(&Lab, &str, &str) -> String,
) -> String {
    let deadline = Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let a = sql(lab, "node-a", query);
        let b = sql(lab, "node-b", query);
        if a == b && a.lines().count() == want {
            return a;
        }
        assert!(
            Instant::now() < deadline,
            "rows did not replicate both ways:\nnode-a:\n{a}\nnode-b:\n{b}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}
