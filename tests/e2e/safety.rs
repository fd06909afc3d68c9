//! End-to-end on the lab: the host faults of issue #7 that need a real node.
//!
//! - **Peer unreachable on 3306**: node-a drops TCP 3306 from node-b (a policy-routing
//!   `blackhole` rule in node-a's network namespace: a firewall that DROPs). Bootstrap
//!   from bare fails at node-b's `replication` step within seconds, naming both nodes and
//!   `10.213.N.11:3306 (connect timed out ...)`; `verify` says the same; once the port
//!   is open again a re-run converges.
//! - **Secrets on the nodes**: every file holding a secret is mode 600, owned by root.
//! - **Disk full when writing a config**: a full file system under
//!   `/etc/mysql/mariadb.conf.d`, then under `/etc/keepalived`, with a change pending: the
//!   step fails naming node, step, file and "No space left on device", the old file is
//!   untouched, no temporary file is left, the server and keepalived keep running
//!   (not even restarted); after freeing space a re-run converges, then changes nothing.

use crate::support::{mhactl_json, text, Lab, Scenario};
use serde_json::Value;
use std::process::{Command, Output};
use std::time::Instant;

const MY_CNF: &str = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
const KEEPALIVED_CONF: &str = "/etc/keepalived/keepalived.conf";

fn bootstrap_json(lab: &Lab) -> (Output, Value) {
    mhactl_json(&["bootstrap", &lab.inventory(), "--output", "json"])
}

fn step<'a>(report: &'a Value, node: &str, name: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["node"] == node && s["step"] == name)
        .unwrap_or_else(|| panic!("no step {name} on {node} in {report:#}"))
}

fn verify_json(lab: &Lab) -> (Output, Value) {
    mhactl_json(&["-i", &lab.inventory(), "verify", "--output", "json"])
}

/// `ip ...` inside a node's network namespace, on this machine.
fn ip_in(lab: &Lab, node: &str, args: &str) {
    let ns = format!("mhactl{}-{node}", lab.subnet);
    let status = Command::new("ip")
        .args(["netns", "exec", &ns, "sh", "-c", &format!("ip {args}")])
        .status()
        .unwrap();
    assert!(status.success(), "ip netns exec {ns} ip {args}");
}

/// node-a silently drops TCP 3306 from node-b (like a firewall DROP rule). The rule must
/// come before the `local` table's (preference 0), which is moved behind it.
fn block_port_3306_from_b(lab: &Lab) {
    let b = lab.addr(12);
    ip_in(
        lab,
        "node-a",
        &format!("rule add pref 10 from {b} ipproto tcp dport 3306 blackhole"),
    );
    ip_in(lab, "node-a", "rule add pref 100 lookup local");
    ip_in(lab, "node-a", "rule del pref 0");
    // Really blocked from node-b, still open from node-a itself; SSH is untouched.
    let probe = |node: &str| {
        lab.ssh(
            node,
            &format!("timeout 3 bash -c 'exec 3<>/dev/tcp/{}/3306'", lab.addr(11)),
        )
        .status
        .code()
    };
    assert_eq!(
        probe("node-b"),
        Some(124),
        "node-b still reaches node-a:3306"
    );
}

fn unblock_port_3306(lab: &Lab) {
    ip_in(lab, "node-a", "rule add pref 0 lookup local");
    ip_in(lab, "node-a", "rule del pref 100");
    ip_in(lab, "node-a", "rule del pref 10");
}

/// Put a full 64 KiB tmpfs over `dir` on `node`, holding a copy of what was there (the
/// node's own mount namespace: nothing changes on this machine). The filler file's name
/// does not end in `.cnf`, so no server reads it.
fn fill_directory(lab: &Lab, node: &str, dir: &str) {
    lab.ssh_ok(
        node,
        &format!(
            "set -e; keep=$(mktemp -d); cp -a {dir}/. $keep/; \
             mount -t tmpfs -o size=64k,mode=755 mhactl-full {dir}; cp -a $keep/. {dir}/; \
             dd if=/dev/zero of={dir}/zz-filler bs=4k 2>/dev/null || true; \
             test \"$(df --output=avail -k {dir} | tail -n 1 | tr -d ' ')\" = 0"
        ),
    );
}

fn md5(lab: &Lab, node: &str, path: &str) -> String {
    lab.ssh_ok(node, &format!("md5sum {path}"))
}

/// The oldest process of that name (keepalived's daemon, not a child it forked a moment
/// ago to run a check script: `pidof` once listed one, and the comparison failed).
fn pid(lab: &Lab, node: &str, process: &str) -> String {
    lab.ssh_ok(node, &format!("pgrep -o -x {process}"))
        .trim()
        .to_string()
}

fn assert_failed_at(out: &Output, report: &Value, node: &str, name: &str, needles: &[&str]) {
    assert_eq!(out.status.code(), Some(1), "{}", text(out));
    assert_eq!(report["ok"], false);
    let s = step(report, node, name);
    assert_eq!(s["status"], "failed", "{s:#}");
    let detail = s["detail"].as_str().unwrap();
    for needle in needles {
        assert!(detail.contains(needle), "`{needle}` not in: {detail}");
    }
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The progress line on stderr says it too (JSON mode keeps stdout for the document).
    assert!(
        stderr.lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.windows(3).any(|w| w == [node, name, "FAILED"])
        }),
        "{stderr}"
    );
}

fn unreachable_peer_port_full_disk_and_secret_file_modes(lab: Lab) {
    let subnet = lab.subnet;
    let started = Instant::now();
    let a = format!("10.213.{subnet}.11");

    // 1. node-b cannot reach node-a:3306 during the first bootstrap.
    block_port_3306_from_b(&lab);
    let (out, report) = bootstrap_json(&lab);
    let want = format!("node-b cannot reach node-a's database port {a}:3306 (connect timed out");
    assert_failed_at(
        &out,
        &report,
        "node-b",
        "replication",
        &[&want, "allow TCP 3306"],
    );
    let ms = step(&report, "node-b", "replication")["ms"]
        .as_u64()
        .unwrap();
    assert!(ms < 20_000, "the replication step took {ms} ms to fail");
    assert_ne!(step(&report, "node-a", "replication")["status"], "failed");
    eprintln!("blocked 3306: replication failed after {ms} ms");

    // verify names the IO thread failure and the unreachable peer port.
    let (out, report) = verify_json(&lab);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let threads = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "replication-threads" && c["node"] == "node-b")
        .unwrap();
    assert_eq!(threads["ok"], false, "{threads:#}");
    let detail = threads["detail"].as_str().unwrap();
    assert!(
        detail.contains("IO thread NOT running") && detail.contains(&want),
        "{detail}"
    );

    // Open again: a re-run converges promptly (the stuck IO thread is restarted).
    unblock_port_3306(&lab);
    let (out, report) = bootstrap_json(&lab);
    assert!(out.status.success(), "{}", text(&out));
    let ms = step(&report, "node-b", "replication")["ms"]
        .as_u64()
        .unwrap();
    assert!(ms < 15_000, "re-converging replication took {ms} ms");
    let (out, _) = verify_json(&lab);
    assert!(out.status.success(), "{}", text(&out));

    // 2. Secrets on the nodes: every file mhactl wrote that holds one is root's, mode
    //    600; the server's own files (master.info holds the replication password) are
    //    the server account's and nobody else's.
    let mut secrets: Vec<String> = std::fs::read_to_string(lab.dir.join("secrets.yaml"))
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.split_once(": "))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .collect();
    let auth_pass = lab.ssh_ok(
        "node-a",
        &format!("sed -n 's/^ *auth_pass //p' {KEEPALIVED_CONF}"),
    );
    // VRRPv3 (the default `vip.detection`) has no authentication: no auth_pass then.
    if !auth_pass.trim().is_empty() {
        secrets.push(auth_pass.trim().to_string());
    }
    assert!(
        secrets.iter().all(|s| s.len() >= 6 && !s.contains('\'')),
        "{} secrets",
        secrets.len()
    );
    let patterns: String = secrets.iter().map(|s| format!(" -e '{s}'")).collect();
    for node in ["node-a", "node-b"] {
        let hits = lab.ssh_ok(
            node,
            &format!(
                "grep -rlsF -D skip{patterns} /etc /root /usr/local /var/tmp /tmp /run /var/lib/mysql \
                 /var/log 2>/dev/null | xargs -r stat -c '%n %U %a'"
            ),
        );
        // keepalived.conf holds a secret only with VRRPv2's auth_pass.
        if !auth_pass.trim().is_empty() {
            assert!(
                hits.contains(&format!("{KEEPALIVED_CONF} root 600")),
                "{node}: {hits}"
            );
        }
        for line in hits.lines() {
            let mut f = line.rsplitn(3, ' ');
            let (mode, owner, path) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
            assert!(
                mode.ends_with('0'),
                "{node}: a secret readable by everyone: {line}"
            );
            if path.starts_with("/var/lib/mysql/") {
                assert_eq!(owner, "mysql", "{node}: {line}");
            } else {
                assert_eq!((owner, mode), ("root", "600"), "{node}: a secret in {line}");
            }
        }
        eprintln!("{node}: files holding a secret:\n{hits}");
    }
    let mode = std::os::unix::fs::PermissionsExt::mode(
        &std::fs::metadata(lab.dir.join("secrets.yaml"))
            .unwrap()
            .permissions(),
    );
    assert_eq!(mode & 0o777, 0o600);

    // 3. Disk full when writing a config, with a change pending on node-a.
    lab.ssh_ok(
        "node-a",
        &format!("echo '# local edit' >> {MY_CNF}; echo '! local edit' >> {KEEPALIVED_CONF}"),
    );
    fill_directory(&lab, "node-a", "/etc/mysql/mariadb.conf.d");
    fill_directory(&lab, "node-a", "/etc/keepalived");
    let (cnf_before, conf_before) = (
        md5(&lab, "node-a", MY_CNF),
        md5(&lab, "node-a", KEEPALIVED_CONF),
    );
    let (server, keepalived) = (
        pid(&lab, "node-a", "mariadbd"),
        pid(&lab, "node-a", "keepalived"),
    );
    // write_file's temporary files (.mhactl.XXXXXX) and keepalived's staged candidate.
    let leftovers = "ls -A /etc/mysql/mariadb.conf.d /etc/keepalived \
                     | grep -c -e '^[.]mhactl[.]' -e 'mhactl-new$' || true";

    let (out, report) = bootstrap_json(&lab);
    assert_failed_at(
        &out,
        &report,
        "node-a",
        "server-config",
        &[
            &format!("node-a: cannot write {MY_CNF}"),
            "No space left on device",
            "free space on node-a:/etc/mysql/mariadb.conf.d",
            &format!("{MY_CNF} was not changed"),
        ],
    );
    assert_eq!(md5(&lab, "node-a", MY_CNF), cnf_before);
    assert_eq!(
        pid(&lab, "node-a", "mariadbd"),
        server,
        "mariadb was restarted"
    );
    lab.ssh_ok("node-a", "mysqladmin ping");
    assert_eq!(lab.ssh_ok("node-a", leftovers).trim(), "0");

    // Space for the server's config, still none for keepalived's.
    lab.ssh_ok("node-a", "rm /etc/mysql/mariadb.conf.d/zz-filler");
    let (out, report) = bootstrap_json(&lab);
    assert_eq!(
        step(&report, "node-a", "server-config")["status"],
        "changed"
    );
    assert_failed_at(
        &out,
        &report,
        "node-a",
        "keepalived",
        &[
            "No space left on device",
            "free space on node-a:/etc/keepalived",
            &format!("{KEEPALIVED_CONF} was not changed"),
        ],
    );
    assert_eq!(md5(&lab, "node-a", KEEPALIVED_CONF), conf_before);
    assert_eq!(pid(&lab, "node-a", "keepalived"), keepalived);
    assert_eq!(lab.ssh_ok("node-a", leftovers).trim(), "0");

    // Space again: converges, then nothing to do, healthy.
    lab.ssh_ok("node-a", "rm /etc/keepalived/zz-filler");
    let (out, report) = bootstrap_json(&lab);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(step(&report, "node-a", "keepalived")["status"], "changed");
    let (out, report) = bootstrap_json(&lab);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(report["changed"], 0, "{report:#}");
    let (out, _) = verify_json(&lab);
    assert!(out.status.success(), "{}", text(&out));
    eprintln!("safety: took {:.0} s", started.elapsed().as_secs_f64());
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        unreachable_peer_port_full_disk_and_secret_file_modes
    )]
}
