//! End-to-end: `mhactl lab` gives two real hosts (own hostname, processes, filesystem),
//! reachable by SSH with strict host keys, and `down` leaves nothing behind.

use crate::support::{mhactl, mhactl_ok, Lab, Scenario, Subnet};
use mhactl::inventory::{HostKeyCheck, ResolvedSsh};
use mhactl::transport::ssh::{SshTarget, SshTransport};
use mhactl::transport::{RemoteCommand, Transport};
use std::time::Duration;

fn target(lab: &Lab, known_hosts: std::path::PathBuf) -> SshTarget {
    let subnet = lab.subnet;
    SshTarget {
        node: "node-a".into(),
        ssh: ResolvedSsh {
            host: std::net::Ipv4Addr::new(10, 213, subnet, 11).to_string(),
            user: Some("root".into()),
            port: Some(22),
            config_file: None,
            identity_file: Some(lab.dir.join("id_ed25519")),
            known_hosts: Some(known_hosts),
            host_key_check: HostKeyCheck::Strict,
            connect_timeout: Duration::from_secs(5),
            persist: Duration::ZERO,
        },
        become_password: None,
    }
}

/// Everything mhactl created for the lab on `subnet`, as seen from the host.
fn leftovers(lab_dir: &str, subnet: u8) -> Vec<String> {
    let mut found = Vec::new();
    let netns = std::fs::read_dir("/run/netns")
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_else(|_| Vec::<String>::new());
    found.extend(
        netns
            .into_iter()
            .filter(|n| n.starts_with(&format!("mhactl{subnet}-"))),
    );
    for link in [
        format!("mhactl{subnet}br"),
        format!("mha{subnet}v0"),
        format!("mha{subnet}v1"),
    ] {
        if std::path::Path::new("/sys/class/net").join(&link).exists() {
            found.push(link);
        }
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    found.extend(
        mounts
            .lines()
            .filter(|l| l.contains(lab_dir))
            .map(String::from),
    );
    let ps = std::process::Command::new("ps")
        .args(["-eo", "args"])
        .output()
        .unwrap();
    found.extend(
        String::from_utf8_lossy(&ps.stdout)
            .lines()
            .filter(|l| l.contains(lab_dir) || l.contains(&format!("mhactl{subnet}-")))
            .map(String::from),
    );
    found
}

fn lab_up_gives_two_isolated_hosts_and_down_leaves_nothing(lab: Lab) {
    let subnet = lab.subnet;
    let dir = lab.dir_str().to_string();

    // Each node has its own hostname, PID namespace (sshd is PID 1) and filesystem.
    assert_eq!(lab.ssh_ok("node-a", "hostname").trim(), "node-a");
    assert_eq!(lab.ssh_ok("node-b", "hostname").trim(), "node-b");
    assert!(lab
        .ssh_ok("node-a", "cat /proc/1/cmdline | tr '\\0' ' '")
        .contains("sshd"));
    lab.ssh_ok("node-a", "touch /root/only-on-a");
    lab.ssh_ok("node-b", "test ! -e /root/only-on-a");
    let b_procs = lab.ssh_ok("node-b", "ps -eo args");
    assert!(!b_procs.contains("touch"), "{b_procs}");

    // Bare: no database server, and only the lab's offline repository as package source.
    lab.ssh_ok(
        "node-a",
        "! command -v mysqld && ! command -v mariadbd && ! command -v keepalived",
    );
    assert!(lab
        .ssh_ok("node-a", "cat /etc/apt/sources.list")
        .contains("file:/srv/mhactl-repo"));
    // Nodes reach nothing outside the lab: no default route.
    assert!(!lab.ssh_ok("node-a", "ip route").contains("default"));
    // The nodes reach each other.
    lab.ssh_ok(
        "node-a",
        &format!("bash -c 'echo > /dev/tcp/10.213.{subnet}.12/22'"),
    );

    // Exit codes pass through `lab ssh`, and arguments keep their words.
    assert_eq!(lab.ssh("node-b", "exit 7").status.code(), Some(7));
    assert_eq!(lab.ssh_ok("node-a", "echo 'a  b'").trim(), "a  b");

    // Secrets file is private; the inventory references it.
    let mode = std::fs::metadata(lab.dir.join("secrets.yaml")).unwrap();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode.permissions()) & 0o077,
        0
    );
    assert!(std::fs::read_to_string(lab.inventory())
        .unwrap()
        .contains("secrets.yaml#replication_password"));

    // The SSH transport connects with strict host keys against the lab's known_hosts ...
    let t =
        SshTransport::connect(target(&lab, lab.dir.join("known_hosts"))).expect("strict connect");
    let out = t
        .run(&RemoteCommand::with_stdin("cat; hostname", "from-stdin\n"))
        .unwrap();
    assert_eq!(out.stdout, "from-stdin\nnode-a\n");
    t.write_file(
        std::path::Path::new("/etc/mhactl-test/x.conf"),
        b"k=v\n",
        0o600,
    )
    .unwrap();
    assert_eq!(
        t.run_ok(&RemoteCommand::new(
            "stat -c %a /etc/mhactl-test/x.conf; cat /etc/mhactl-test/x.conf"
        ))
        .unwrap(),
        "600\nk=v\n"
    );
    // ... and refuses a host whose key it does not know, naming the node.
    let empty = tempfile::NamedTempFile::new().unwrap();
    let err = SshTransport::connect(target(&lab, empty.path().to_path_buf()))
        .err()
        .expect("unknown host key must fail");
    let msg = format!("{err:#}");
    assert!(msg.contains("node-a") && msg.contains("host key"), "{msg}");
    // ... with the fingerprint the host offers, so the user can compare it.
    assert!(msg.contains("(ED25519) SHA256:"), "{msg}");

    // `up` twice is harmless; status sees both nodes.
    let again = mhactl(&["lab", "up", "--dir", &dir, "--subnet", &subnet.to_string()]);
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("already up"));
    let status = mhactl_ok(&["lab", "status", "--dir", &dir]);
    assert!(
        status.contains("node-a") && status.contains("up"),
        "{status}"
    );

    // `down` leaves no namespace, link, mount or process behind ...
    mhactl_ok(&["lab", "down", "--dir", &dir]);
    let left = leftovers(&dir, subnet);
    assert!(left.is_empty(), "left behind after down: {left:#?}");
    assert!(!lab.dir.exists());

    // ... and `up` after `down` works.
    mhactl_ok(&["lab", "up", "--dir", &dir, "--subnet", &subnet.to_string()]);
    assert_eq!(lab.ssh_ok("node-b", "hostname").trim(), "node-b");
    mhactl_ok(&["lab", "down", "--dir", &dir]);
    assert!(leftovers(&dir, subnet).is_empty());
}

fn lab_refuses_a_subnet_already_in_use(subnets: Vec<Subnet>) {
    // A bridge holding an address of a claimed subnet stands for "someone else's network".
    let subnet = subnets[0].number;
    let bridge = format!("mhatest{subnet}");
    let _ = std::process::Command::new("ip")
        .args(["link", "del", &bridge])
        .status();
    assert!(std::process::Command::new("ip")
        .args(["link", "add", &bridge, "type", "bridge"])
        .status()
        .unwrap()
        .success());
    std::process::Command::new("ip")
        .args([
            "addr",
            "add",
            &format!("10.213.{subnet}.5/24"),
            "dev",
            &bridge,
        ])
        .status()
        .unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("lab");
    let out = mhactl(&[
        "lab",
        "up",
        "--dir",
        dir.to_str().unwrap(),
        "--subnet",
        &subnet.to_string(),
    ]);
    let _ = std::process::Command::new("ip")
        .args(["link", "del", &bridge])
        .status();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already in use") && err.contains("--subnet"),
        "{err}"
    );
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(lab_up_gives_two_isolated_hosts_and_down_leaves_nothing),
        scenario!(lab_refuses_a_subnet_already_in_use, subnets = 1),
    ]
}
