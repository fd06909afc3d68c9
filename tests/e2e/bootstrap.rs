//! End-to-end on the lab: bootstrap turns two bare hosts into a MariaDB dual-master pair
//! behind a keepalived VIP; a re-run changes nothing; a dry run shows without changing;
//! drift is repaired; no secret appears in any output.

use crate::support::{changed_steps, mhactl, mhactl_json, step_lines, text, Lab, Scenario};

fn secrets(lab: &Lab) -> Vec<String> {
    let text = std::fs::read_to_string(lab.dir.join("secrets.yaml")).unwrap();
    text.lines()
        .filter_map(|l| l.split_once(": "))
        .map(|(_, v)| v.trim().trim_matches('"').to_string())
        .collect()
}

/// Run bootstrap, check that no secret leaks into its output, return (exit ok, stdout).
fn bootstrap(lab: &Lab, extra: &[&str]) -> (bool, String) {
    let (ok, stdout, _) = bootstrap_showing_steps(lab, extra);
    (ok, stdout)
}

/// [`bootstrap`], also returning the step lines it showed ([`step_lines`]).
fn bootstrap_showing_steps(lab: &Lab, extra: &[&str]) -> (bool, String, Vec<String>) {
    let inv = lab.inventory();
    let mut args = vec!["bootstrap", inv.as_str(), "--no-progress"];
    args.extend_from_slice(extra);
    let out = mhactl(&args);
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    for secret in secrets(lab) {
        assert!(
            !stdout.contains(&secret) && !stderr.contains(&secret),
            "a secret leaked into the output of bootstrap {extra:?}"
        );
    }
    if !out.status.success() {
        eprintln!("bootstrap {extra:?} failed:\n{stdout}\n{stderr}");
    }
    (out.status.success(), stdout, step_lines(&out))
}

fn json(stdout: &str) -> serde_json::Value {
    serde_json::from_str(stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}"))
}

/// The files bootstrap writes on each node, by step (issue 20 item 4: a dry run on bare
/// nodes shows each in full).
fn written_files(my_cnf: &str) -> [(&'static str, String); 5] {
    [
        ("server-config", my_cnf.to_string()),
        (
            "fence-agent",
            "/usr/local/libexec/mhactl/fence-agent".into(),
        ),
        ("vip-refuse", "/etc/keepalived/mhactl-vip-refuse.nft".into()),
        ("keepalived", "/etc/keepalived/keepalived.conf".into()),
        ("keepalived", "/etc/keepalived/mhactl-check-mysql.sh".into()),
    ]
}

/// `bootstrap --dry-run --output json` on bare nodes: every file bootstrap writes is in
/// a diff, on both nodes, no step fails, no secret shows. Returns node-a's server-config
/// diff (its drop-in, rendered for the server package's candidate version).
pub(crate) fn bare_dry_run_shows_every_file(lab: &Lab, my_cnf: &str) -> String {
    let inv = lab.inventory();
    let (out, report) = mhactl_json(&[
        "bootstrap",
        &inv,
        "--dry-run",
        "--no-progress",
        "--output",
        "json",
    ]);
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    for secret in lab.secret_values() {
        assert!(!all.contains(&secret), "a secret leaked into the dry run");
    }
    let steps = report["steps"].as_array().expect("steps");
    assert!(
        steps.iter().all(|s| s["status"] != "failed"),
        "a step failed in the dry run: {all}"
    );
    let step = |node: &str, name: &str| {
        steps
            .iter()
            .find(|s| s["node"] == node && s["step"] == name)
            .unwrap_or_else(|| panic!("no {name} on {node}: {all}"))
    };
    for node in ["node-a", "node-b"] {
        for (name, path) in written_files(my_cnf) {
            let s = step(node, name);
            assert_eq!(s["status"], "changed", "{node} {name}: {s}");
            let diff = s["diff"].as_str().unwrap_or_default();
            assert!(
                diff.contains(&format!("+++ b{path}")),
                "{node} {name}: no full {path} in the dry run: {s}"
            );
        }
    }
    // What needs a running server says which earlier steps it waits for.
    let user = step("node-a", "replication-user");
    assert_eq!(user["status"], "skipped", "{user}");
    assert!(
        user["detail"]
            .as_str()
            .unwrap_or_default()
            .contains("install-packages"),
        "{user}"
    );
    step("node-a", "server-config")["diff"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

/// GNU patch takes a dry run's standard output as it is (issue 20 item 5): unified
/// diffs with `a/` and `b/` headers of the node's paths (`patch -p1`), the table lines
/// around them skipped as leading garbage. Checked against an empty directory, where
/// every file of a bare dry run is new.
fn patch_accepts(stdout: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = patch(&["-p1", "--dry-run"], dir.path(), stdout);
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && said.contains("etc/keepalived/keepalived.conf"),
        "patch does not take the dry run's diffs: {said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `patch -p1` fed `stdout` in a directory holding `old` at `path`: the patched file
/// (GNU patch takes a real run's `--diff` output as it is; issue 20).
fn patch_applied(stdout: &str, path: &str, old: &str) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join(path.trim_start_matches('/'));
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    std::fs::write(&file, old).unwrap();
    let out = patch(&["-p1"], dir.path(), stdout);
    assert!(
        out.status.success(),
        "patch does not take the --diff output: {}{}\n{stdout}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(&file).unwrap()
}

/// GNU patch with `args` in `dir`, `input` on its standard input.
fn patch(args: &[&str], dir: &std::path::Path, input: &str) -> std::process::Output {
    use std::io::Write;
    use std::process::{Command, Stdio};
    let Ok(mut child) = Command::new("patch")
        .args(args)
        .args(["--batch", "-d"])
        .arg(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
    else {
        panic!("no `patch` on the test host: install it (GNU patch) to run this scenario");
    };
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(input.as_bytes())
        .expect("write to patch");
    child.wait_with_output().expect("patch")
}

/// The file a diff from `/dev/null` creates.
pub(crate) fn created_content(diff: &str) -> String {
    diff.lines()
        .filter(|l| l.starts_with('+') && !l.starts_with("+++"))
        .map(|l| format!("{}\n", &l[1..]))
        .collect()
}

fn bootstrap_builds_a_dual_master_pair_and_reruns_change_nothing(lab: Lab) {
    let subnet = lab.subnet;

    // A dry run on bare nodes shows the plan and changes nothing. Each step is shown
    // once, as it finishes (issue 20): standard output has the diffs and the totals.
    let (ok, plan, steps) = bootstrap_showing_steps(&lab, &["--dry-run"]);
    assert!(ok, "{plan}");
    let installs: Vec<&String> = steps
        .iter()
        .filter(|l| {
            l.starts_with("node-a   install-packages  changed   would install mariadb-server")
        })
        .collect();
    assert_eq!(installs.len(), 1, "{steps:#?}");
    assert!(
        !plan.contains("would install")
            && plan.contains("node-a   ")
            && plan.contains("\nbootstrap: "),
        "standard output repeats the steps, or lacks the totals:\n{plan}"
    );
    patch_accepts(&plan);
    let my_cnf = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
    let predicted = bare_dry_run_shows_every_file(&lab, my_cnf);
    lab.ssh_ok("node-a", "! command -v mariadbd");

    // Bootstrap from bare.
    let (ok, out) = bootstrap(&lab, &["--output", "json"]);
    assert!(ok, "{out}");
    let report = json(&out);
    assert_eq!(report["ok"], true);
    assert!(report["changed"].as_u64().unwrap() > 0);
    let steps = report["steps"].as_array().unwrap();
    for step in [
        "connect",
        "install-packages",
        "server-config",
        "replication-user",
        "replication",
        "keepalived",
        "vip",
    ] {
        assert!(
            steps.iter().any(|s| s["step"] == step),
            "no {step} step in {out}"
        );
    }

    // The dry run's drop-in, planned before the server was installed, is the one written.
    assert_eq!(
        created_content(&predicted),
        lab.ssh_ok("node-a", &format!("cat {my_cnf}")),
        "the bare dry run predicted another {my_cnf}"
    );

    // A row written on either node appears on the other; auto-increment ids interleave.
    lab.sql("node-a", "CREATE DATABASE e2e; CREATE TABLE e2e.t (id INT AUTO_INCREMENT PRIMARY KEY, origin VARCHAR(10))");
    lab.sql("node-a", "INSERT INTO e2e.t (origin) VALUES ('a')");
    lab.sql("node-b", "INSERT INTO e2e.t (origin) VALUES ('b')");
    let mut seen = String::new();
    for _ in 0..50 {
        let a = lab.sql("node-a", "SELECT id, origin FROM e2e.t ORDER BY id");
        let b = lab.sql("node-b", "SELECT id, origin FROM e2e.t ORDER BY id");
        if a == b && a.lines().count() == 2 {
            seen = a;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert_eq!(seen, "1\ta\n2\tb\n", "rows did not replicate both ways");

    // Exactly one node holds the VIP.
    let status =
        String::from_utf8_lossy(&mhactl(&["lab", "status", "--dir", lab.dir_str()]).stdout)
            .into_owned();
    assert!(
        status.contains("held by node-a") || status.contains("held by node-b"),
        "{status}"
    );

    // The replication account is limited to the peer's address and replication privileges.
    let grants = lab.sql(
        "node-a",
        &format!("SHOW GRANTS FOR 'repl'@'10.213.{subnet}.12'"),
    );
    assert!(
        grants.contains("REPLICATION SLAVE") && !grants.contains("ALL PRIVILEGES"),
        "{grants}"
    );
    assert_eq!(
        lab.sql(
            "node-a",
            "SELECT COUNT(*) FROM mysql.user WHERE User='repl' AND Host='%'"
        )
        .trim(),
        "0"
    );
    // keepalived.conf holds the VRRP password: root only.
    assert_eq!(
        lab.ssh_ok("node-a", "stat -c %a /etc/keepalived/keepalived.conf")
            .trim(),
        "600"
    );

    // A re-run on the converged pair changes nothing.
    let (ok, out) = bootstrap(&lab, &["--output", "json"]);
    assert!(ok, "{out}");
    assert_eq!(json(&out)["changed"], 0, "{out}");
    let (ok, out) = bootstrap(&lab, &[]);
    assert!(ok);
    assert!(out.contains("bootstrap: 0 changed"), "{out}");

    // A dry run on the converged pair shows no diff.
    let (ok, out) = bootstrap(&lab, &["--dry-run"]);
    assert!(ok);
    assert!(
        out.contains("0 would change") && !out.contains("+++"),
        "{out}"
    );

    // Drift: a hand edit to mhactl's my.cnf is shown by a dry run and repaired by a run.
    lab.ssh_ok("node-b", "sed -i 's/^auto_increment_offset = 2/auto_increment_offset = 1/' /etc/mysql/mariadb.conf.d/60-mhactl.cnf");
    let (ok, out) = bootstrap(&lab, &["--dry-run"]);
    assert!(ok);
    assert!(
        out.contains("-auto_increment_offset = 1") && out.contains("+auto_increment_offset = 2"),
        "{out}"
    );
    let (ok, out) = bootstrap(&lab, &["--output", "json"]);
    assert!(ok, "{out}");
    let report = json(&out);
    let changed: Vec<_> = changed_steps(&report);
    assert_eq!(changed, vec!["node-b/server-config"], "{out}");
    // Replication survived the restart.
    lab.sql("node-b", "INSERT INTO e2e.t (origin) VALUES ('b2')");
    std::thread::sleep(std::time::Duration::from_millis(500));
    assert!(lab.sql("node-a", "SELECT origin FROM e2e.t").contains("b2"));

    // A real run prints the diffs of what it changed only with `--diff`, on standard
    // output in the dry run's form: GNU patch turns the old file into the new one.
    let cnf_b = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
    for (flag, shown) in [(None, false), (Some("--diff"), true)] {
        lab.ssh_ok(
            "node-b",
            &format!("sed -i 's/^auto_increment_offset = 2/auto_increment_offset = 1/' {cnf_b}"),
        );
        let before = lab.ssh_ok("node-b", &format!("cat {cnf_b}"));
        let inv = lab.inventory();
        let mut args = vec!["bootstrap", inv.as_str(), "--no-progress"];
        args.extend(flag);
        let out = mhactl(&args);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", text(&out));
        for secret in lab.secret_values() {
            assert!(!text(&out).contains(&secret), "a secret leaked into --diff");
        }
        assert_eq!(
            stdout.contains("+auto_increment_offset = 2"),
            shown,
            "{flag:?}:\n{stdout}"
        );
        if shown {
            let after = lab.ssh_ok("node-b", &format!("cat {cnf_b}"));
            assert_eq!(
                patch_applied(&stdout, cnf_b, &before),
                after,
                "patch -p1 with the --diff output does not make the file the run wrote"
            );
        }
    }

    // A server that does not start with the new my.cnf gets the previous one back and
    // keeps running. Here: without mhactl's file (binary log off) the server starts; with
    // it, the binlog index path is a directory and it cannot.
    let cnf = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
    lab.ssh_ok(
        "node-b",
        &format!(
            "mv {cnf} /root/60-mhactl.cnf.saved && service mariadb restart >/dev/null && \
             mv /var/lib/mysql/mysql-bin.index /root/mysql-bin.index.saved && mkdir /var/lib/mysql/mysql-bin.index"
        ),
    );
    let (ok, out) = bootstrap(&lab, &[]);
    assert!(!ok, "bootstrap should fail: {out}");
    assert!(
        out.contains("FAILED node-b at step server-config")
            && out.contains("previous version was restored"),
        "{out}"
    );
    lab.ssh_ok(
        "node-b",
        &format!("test ! -e {cnf} && mysql -e 'SELECT 1' >/dev/null"),
    );
    // Once the cause is fixed, a re-run converges.
    lab.ssh_ok("node-b", "rmdir /var/lib/mysql/mysql-bin.index && mv /root/mysql-bin.index.saved /var/lib/mysql/mysql-bin.index");
    let (ok, out) = bootstrap(&lab, &[]);
    assert!(ok, "{out}");
    let (ok, out) = bootstrap(&lab, &["--output", "json"]);
    assert!(ok && json(&out)["changed"] == 0, "{out}");
}

fn bootstrap_names_the_file_and_field_of_a_bad_inventory() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("inventory.yaml");
    std::fs::write(
        &path,
        "cluster: x\nnodes:\n  - name: a\n    adress: 10.0.0.1\n",
    )
    .unwrap();
    let out = mhactl(&["bootstrap", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("inventory.yaml") && err.contains("adress") && err.contains("address"),
        "{err}"
    );
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(bootstrap_builds_a_dual_master_pair_and_reruns_change_nothing),
        scenario!(
            bootstrap_names_the_file_and_field_of_a_bad_inventory,
            without_lab
        ),
    ]
}
