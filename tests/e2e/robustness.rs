//! End-to-end on the lab: mhactl is safe to point at production. Concurrent runs are
//! refused; a dry run changes nothing; unreachable nodes and wrong keys are clear errors; no secret ever appears in
//! any process's command line on this machine (the nodes' processes included).

use crate::support::{mhactl, text, Lab, Run, Scenario};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// Samples every process's command line on the machine until stopped; returns the
/// command lines that contained a secret.
fn start_argv_sampler(
    secrets: Vec<String>,
) -> (
    Arc<AtomicBool>,
    std::thread::JoinHandle<(usize, Vec<String>)>,
) {
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = Arc::clone(&stop);
    let handle = std::thread::spawn(move || {
        let mut samples = 0;
        let mut hits = Vec::new();
        while !stop2.load(Ordering::Relaxed) {
            samples += 1;
            if let Ok(dir) = std::fs::read_dir("/proc") {
                for entry in dir.flatten() {
                    let Ok(raw) = std::fs::read(entry.path().join("cmdline")) else {
                        continue;
                    };
                    let line = String::from_utf8_lossy(&raw).replace('\0', " ");
                    if secrets.iter().any(|s| line.contains(s.as_str())) {
                        hits.push(line);
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        (samples, hits)
    });
    (stop, handle)
}

fn bootstrap(lab: &Lab) -> std::process::Output {
    mhactl(&["bootstrap", &lab.inventory(), "--no-progress"])
}

/// Everything on a node that a run could change: config files and SQL state.
fn node_state(lab: &Lab, node: &str) -> String {
    lab.ssh_ok(
        node,
        "find /etc -type f -newer /etc/hostname -exec md5sum {} + 2>/dev/null | sort; \
         mysql -N -B -e 'SHOW MASTER STATUS; SELECT User, Host FROM mysql.user ORDER BY 1, 2' 2>&1; \
         mysql -e 'SHOW SLAVE STATUS\\G' | grep -E 'Master_Host|Master_User|Running:' || true",
    )
}

fn concurrent_runs_are_refused_and_no_secret_leaks(lab: Lab) {
    let subnet = lab.subnet;
    let (stop_sampler, sampler) = start_argv_sampler(lab.secret_values());

    // Interruptions at many points (SIGINT, SIGTERM, SIGKILL) and their convergence are
    // the interrupt scenarios'; here a plain bootstrap from bare.
    let out = bootstrap(&lab);
    assert!(
        out.status.success(),
        "bootstrap from bare failed:\n{}",
        text(&out)
    );
    let verify = mhactl(&["-i", &lab.inventory(), "verify"]);
    assert!(verify.status.success(), "{}", text(&verify));
    let again = bootstrap(&lab);
    assert!(
        text(&again).contains("bootstrap: 0 changed"),
        "{}",
        text(&again)
    );

    // A dry run on a drifted pair shows the change and makes none.
    lab.ssh_ok("node-a", "sed -i 's/^auto_increment_offset = 1/auto_increment_offset = 2/' /etc/mysql/mariadb.conf.d/60-mhactl.cnf");
    lab.ssh_ok("node-b", "mysql -e 'STOP SLAVE'");
    let before = (node_state(&lab, "node-a"), node_state(&lab, "node-b"));
    let dry = mhactl(&["bootstrap", &lab.inventory(), "--dry-run", "--no-progress"]);
    assert!(dry.status.success(), "{}", text(&dry));
    assert!(
        text(&dry).contains("+auto_increment_offset = 1"),
        "{}",
        text(&dry)
    );
    assert!(
        text(&dry).contains("would start replication from node-a"),
        "{}",
        text(&dry)
    );
    assert_eq!(
        before,
        (node_state(&lab, "node-a"), node_state(&lab, "node-b")),
        "--dry-run changed a node"
    );
    lab.bootstrap_ok();

    // Two runs at once: the second is refused and says who holds the nodes.
    let inv = lab.inventory();
    let long_run = Run::start(&["-q", "-i", &inv, "failover-test", "--duration", "8"]);
    std::thread::sleep(Duration::from_secs(2));
    let second = bootstrap(&lab);
    let second_text = text(&second);
    let (status, long_output) = long_run.finish(Duration::from_secs(300));
    assert!(
        status.success(),
        "the failover-test that held the lock failed:\n{long_output}"
    );
    assert!(
        !second.status.success(),
        "a concurrent bootstrap must be refused:\n{second_text}"
    );
    assert!(
        second_text.contains("in use by another mhactl run")
            && second_text.contains("mhactl failover-test by"),
        "{second_text}"
    );
    // The lock went with the run that held it.
    let out = bootstrap(&lab);
    assert!(out.status.success(), "{}", text(&out));

    // Unreachable node and wrong key: clear errors naming the node, nothing started.
    let inventory_text = std::fs::read_to_string(lab.inventory()).unwrap();
    let bad = lab.dir.join("unreachable.yaml");
    std::fs::write(
        &bad,
        inventory_text
            .replace(
                &format!("10.213.{subnet}.12"),
                &format!("10.213.{subnet}.13"),
            )
            .replace(
                "  host_key_check: strict",
                "  host_key_check: strict\n  connect_timeout_s: 2",
            ),
    )
    .unwrap();
    let out = mhactl(&["bootstrap", bad.to_str().unwrap(), "--no-progress"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("node-b: cannot connect over SSH"),
        "{}",
        text(&out)
    );
    let other_key = lab.new_ssh_key("other_key");
    let wrong_key = lab.dir.join("wrong-key.yaml");
    std::fs::write(
        &wrong_key,
        inventory_text.replace("identity_file: id_ed25519", "identity_file: other_key"),
    )
    .unwrap();
    let out = mhactl(&["bootstrap", wrong_key.to_str().unwrap(), "--no-progress"]);
    assert_eq!(out.status.code(), Some(1));
    let t = text(&out);
    assert!(
        t.contains("node-a: cannot connect over SSH") && t.contains("Permission denied"),
        "{t}"
    );

    // Package installation failing (the repository has no such package): the error names
    // the node, the step, the command and apt's own words.
    let wrong_flavor = lab.dir.join("wrong-flavor.yaml");
    std::fs::write(
        &wrong_flavor,
        inventory_text
            .replace("  flavor: mariadb\n", "  flavor: mysql\n")
            .replace(
                "credentials:\n",
                "credentials:\n  root_password_file: \"secrets.yaml#replication_password\"\n",
            ),
    )
    .unwrap();
    let out = mhactl(&["bootstrap", wrong_flavor.to_str().unwrap(), "--no-progress"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("at step install-packages") && t.contains("mysql-server"),
        "{t}"
    );
    assert!(
        t.contains("stderr:") && t.contains("Unable to locate package"),
        "{t}"
    );

    // A non-root SSH user without sudo: refused with the node and sudo's own message.
    for node in ["node-a", "node-b"] {
        lab.ssh_ok(
            node,
            "id tester >/dev/null 2>&1 || useradd -m tester; install -d -m 700 -o tester /home/tester/.ssh; \
             install -m 600 -o tester /root/.ssh/authorized_keys /home/tester/.ssh/authorized_keys",
        );
    }
    let no_sudo = lab.dir.join("no-sudo.yaml");
    std::fs::write(
        &no_sudo,
        inventory_text.replace("  user: root\n", "  user: tester\n"),
    )
    .unwrap();
    let out = mhactl(&["bootstrap", no_sudo.to_str().unwrap(), "--no-progress"]);
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    assert!(
        t.contains("node-a") && t.contains("passwordless sudo"),
        "{t}"
    );
    for f in [
        bad,
        wrong_key,
        wrong_flavor,
        no_sudo,
        other_key.clone(),
        other_key.with_extension("pub"),
    ] {
        let _ = std::fs::remove_file(f);
    }

    stop_sampler.store(true, Ordering::Relaxed);
    let (samples, hits) = sampler.join().unwrap();
    eprintln!("argv sampler: {samples} samples of every process");
    assert!(samples > 100, "the sampler barely ran");
    assert!(
        hits.is_empty(),
        "a secret appeared in a process's command line: {hits:#?}"
    );
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(concurrent_runs_are_refused_and_no_secret_leaks)]
}
