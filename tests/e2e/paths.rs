//! End-to-end on the lab (issue 14, class 1): the inventory's path fields never hand a
//! system file or a directory mhactl did not create to the server's user.
//!
//! One lab, three rounds on real nodes:
//!
//! 1. system locations (`log_error: /etc/passwd`, a socket under `/root/.ssh` or
//!    `/etc/ssh`, a pid file in `/usr/bin`, a path with `..`): refused with exit 2
//!    naming the field, before any node is touched;
//! 2. paths that look harmless but are not mhactl's on the node (a root-owned directory
//!    with a file in it, a root-owned log file, a directory that is a symlink to
//!    `/root/.ssh`): refused before anything runs (no package installed), naming the
//!    field, the node and the path, in the dry run too;
//! 3. new paths: created for mysql (create-only), the pair bootstraps, a re-run changes
//!    nothing.
//!
//! After every refusal the owner, group and mode of each path involved are unchanged.

use crate::support::{json, mhactl, Lab, Scenario};

const NODES: [&str; 2] = ["node-a", "node-b"];

/// Owner, group, mode of the paths that must never change (on both nodes).
const WATCHED: &str = "/etc/passwd /etc/ssh /root/.ssh /usr/bin /srv/taken /srv/taken/keep \
                       /var/log/taken.log /srv/to-ssh";

fn snapshot(lab: &Lab) -> Vec<String> {
    NODES
        .iter()
        .map(|n| {
            lab.ssh_ok(
                n,
                &format!(
                    "for p in {WATCHED}; do stat -c '%n %U %G %a %F' \"$p\" 2>&1 || true; done"
                ),
            )
        })
        .collect()
}

/// Whether the server package is installed, per node (bootstrap installs it).
fn server_installed(lab: &Lab) -> Vec<bool> {
    NODES
        .iter()
        .map(|n| {
            lab.ssh(n, "command -v mariadbd || command -v mysqld")
                .status
                .success()
        })
        .collect()
}

/// The lab's inventory with `extra` lines added to its `mysql:` section.
fn write_with(lab: &Lab, original: &str, extra: &str) {
    let flavor = "  flavor: mariadb\n";
    assert!(original.contains(flavor), "{original}");
    std::fs::write(
        lab.inventory(),
        original.replace(flavor, &format!("{flavor}{extra}")),
    )
    .unwrap();
}

fn bootstrap(lab: &Lab, more: &[&str]) -> (i32, String) {
    let inv = lab.inventory();
    let mut args = vec!["bootstrap", inv.as_str(), "--no-progress"];
    args.extend_from_slice(more);
    let out = mhactl(&args);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), text)
}

fn path_fields_never_hand_system_or_foreign_paths_to_mysql(lab: Lab) {
    let original = std::fs::read_to_string(lab.inventory()).unwrap();
    for n in NODES {
        lab.ssh_ok(
            n,
            "mkdir -p -m 700 /root/.ssh /srv/taken && echo data > /srv/taken/keep && \
             chmod 700 /srv/taken && (umask 077; echo x > /var/log/taken.log) && \
             ln -sfn /root/.ssh /srv/to-ssh",
        );
    }
    let before = snapshot(&lab);
    let installed = server_installed(&lab);

    // 1. System locations: refused before any node is touched, exit 2, naming the field.
    for (extra, field) in [
        ("  log_error: /etc/passwd\n", "mysql.log_error"),
        ("  socket: /root/.ssh/mysql.sock\n", "mysql.socket"),
        ("  socket: /etc/ssh/mysql.sock\n", "mysql.socket"),
        ("  pid_file: /usr/bin/mysqld.pid\n", "mysql.pid_file"),
        (
            "  log_error: /var/log/../../etc/passwd\n",
            "mysql.log_error",
        ),
        ("  datadir: /etc\n", "mysql.datadir"),
    ] {
        write_with(&lab, &original, extra);
        let (code, text) = bootstrap(&lab, &[]);
        assert_eq!(code, 2, "{extra}: {text}");
        assert!(text.contains(field), "{extra}: {text}");
        assert_eq!(snapshot(&lab), before, "{extra} changed a path: {text}");
    }

    // 2. Paths that pass the static rules but are not the server's on the node.
    write_with(
        &lab,
        &original,
        "  socket: /srv/taken/mysql.sock\n  log_error: /var/log/taken.log\n  \
         pid_file: /srv/to-ssh/mysqld.pid\n",
    );
    for dry_run in [true, false] {
        let (code, text) = bootstrap(&lab, if dry_run { &["--dry-run"] } else { &[] });
        assert_eq!(code, 1, "dry run {dry_run}: {text}");
        for want in [
            "mysql.socket: node-a: /srv/taken exists and is owned by root, not mysql",
            "mysql.log_error: node-a: /var/log/taken.log exists and is owned by root, not mysql",
            "mysql.pid_file: node-a: /srv/to-ssh leads through a symlink to /root/.ssh",
            "never changes the owner or mode",
        ] {
            assert!(
                text.contains(want),
                "dry run {dry_run}: {want} missing in:\n{text}"
            );
        }
        assert_eq!(snapshot(&lab), before, "dry run {dry_run}: {text}");
        assert_eq!(server_installed(&lab), installed, "something ran: {text}");
    }

    // 3. New paths: created for mysql, the pair comes up, a re-run changes nothing.
    write_with(
        &lab,
        &original,
        "  socket: /srv/new-run/mysql.sock\n  log_error: /var/log/mysqld-new.log\n",
    );
    let (code, text) = bootstrap(&lab, &[]);
    assert_eq!(code, 0, "{text}");
    for n in NODES {
        assert_eq!(
            lab.ssh_ok(n, "stat -c '%U %G %a' /srv/new-run /var/log/mysqld-new.log"),
            "mysql mysql 755\nmysql mysql 640\n",
            "on {n}"
        );
        lab.ssh_ok(n, "test -S /srv/new-run/mysql.sock");
    }
    assert_eq!(snapshot(&lab), before);
    let inv = lab.inventory();
    let out = mhactl(&[
        "bootstrap",
        inv.as_str(),
        "--no-progress",
        "--output",
        "json",
    ]);
    let report = json(&out, "bootstrap");
    let changed: Vec<&serde_json::Value> = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "changed")
        .collect();
    assert!(changed.is_empty(), "a re-run changed: {changed:?}");
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        path_fields_never_hand_system_or_foreign_paths_to_mysql
    )]
}
