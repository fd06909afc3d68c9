//! Fleet command lines refused before anything runs (issue 21; docs/fleet.md): exit 2,
//! naming the flag, the command and what to do. No node is reached: the fleet's nodes
//! are on a documentation network nothing answers on.

use std::path::Path;
use std::process::{Command, Output};

const FLEET: &str = "\
vars:
  vip: {interface: eth0, prefix: 24}
  credentials: {replication_password_env: FLEET_CLI_PW}
clusters:
  shop:
    nodes:
      - {name: node-a, address: 192.0.2.11}
      - {name: node-b, address: 192.0.2.12}
    vip: {address: 192.0.2.100, virtual_router_id: 51}
  billing:
    nodes:
      - {name: node-a, address: 192.0.2.21}
      - {name: node-b, address: 192.0.2.22}
    vip: {address: 192.0.2.200, virtual_router_id: 52}
";

fn mhactl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(args)
        .current_dir(dir)
        .env_remove("MHACTL_INVENTORY")
        .env_remove("MHACTL_FLEET_CHILD")
        .env("NO_COLOR", "1")
        .output()
        .expect("cannot run mhactl")
}

fn refused(dir: &Path, args: &[&str], says: &str) {
    let out = mhactl(dir, args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
    assert!(err.contains(says), "{args:?}: {err}");
    assert!(out.stdout.is_empty(), "{args:?} wrote to stdout");
}

#[test]
fn fleet_command_lines_refused_before_anything_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("fleet.yaml"), FLEET).unwrap();
    refused(
        dir,
        &["switchover", "fleet.yaml", "--yes"],
        "acts on one pair, and fleet.yaml is a fleet of 2 clusters (shop, billing): select one with --limit CLUSTER",
    );
    refused(
        dir,
        &["failover-test", "fleet.yaml", "--yes", "--limit", "*"],
        "the limit selects 2 clusters (shop, billing): select exactly one",
    );
    refused(
        dir,
        &["rotate-certs", "fleet.yaml", "--limit", "shop/node-a"],
        "`mhactl rotate-certs` acts on a pair as a whole",
    );
    refused(
        dir,
        &["verify", "fleet.yaml", "--limit", "shopp"],
        "no cluster matches `shopp` in fleet.yaml (clusters: shop, billing)",
    );
    refused(
        dir,
        &["status", "fleet.yaml", "--limit", "shop,"],
        "is empty; patterns are separated by commas",
    );
    refused(
        dir,
        &["lab", "status", "--limit", "shop"],
        "--limit: `mhactl lab status` reads no inventory",
    );
    refused(
        dir,
        &["init", "--forks", "3"],
        "--forks: `mhactl init` reads no inventory",
    );
    refused(
        dir,
        &["verify", "fleet.yaml", "--forks", "0"],
        "not a whole number from 1 to 256",
    );
    // A bad cluster refuses the whole fleet, naming the cluster and the line.
    std::fs::write(
        dir.join("bad.yaml"),
        FLEET.replace("192.0.2.22}", "192.0.2.21}"),
    )
    .unwrap();
    refused(
        dir,
        &["verify", "bad.yaml"],
        "cluster billing (bad.yaml):\nbad.yaml:13:33: nodes[1].address",
    );
}

#[test]
fn inventory_check_of_a_fleet_reports_each_cluster() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("fleet.yaml"), FLEET).unwrap();
    let out = mhactl(
        dir,
        &["inventory", "check", "fleet.yaml", "--limit", "!billing,*"],
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    // One cluster selected: its own text output.
    assert!(
        text.contains("valid inventory: cluster billing") || text.contains("cluster shop"),
        "{text}"
    );
    let out = mhactl(dir, &["inventory", "check", "fleet.yaml"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.starts_with("CLUSTER "), "{text}");
    assert!(
        text.contains("\nshop ") && text.contains("\nbilling "),
        "{text}"
    );
    assert!(text.contains("2 clusters: 2 ok, 0 not ok"), "{text}");
}

/// Each cluster's run starts with glibc's malloc arenas bounded (`MALLOC_ARENA_MAX=1`,
/// docs/benchmarks.md "Fleet memory"), unless the user set the variable: a fake `ssh`
/// (unreachable, as the others here) writes down what it inherited from the run.
#[test]
fn each_cluster_runs_with_one_malloc_arena_unless_the_user_says() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    std::fs::write(dir.join("fleet.yaml"), FLEET).unwrap();
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = dir.join("env.log");
    std::fs::write(
        bin.join("ssh"),
        format!(
            "#!/bin/sh\necho \"$MHACTL_FLEET_CHILD ${{MALLOC_ARENA_MAX:-unset}}\" >> '{}'\n\
             echo 'ssh: connect to host 192.0.2.11 port 22: Connection refused' >&2\nexit 255\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(bin.join("ssh"), std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (given, expected) in [(None, "1"), (Some("4"), "4")] {
        let _ = std::fs::remove_file(&log);
        let mut command = Command::new(env!("CARGO_BIN_EXE_mhactl"));
        command
            .args(["verify", "fleet.yaml", "--output", "json"])
            .current_dir(dir)
            .env("PATH", &path)
            .env("FLEET_CLI_PW", "not-a-real-pw")
            .env_remove("MHACTL_INVENTORY")
            .env_remove("MHACTL_FLEET_CHILD")
            .env_remove("MALLOC_ARENA_MAX");
        if let Some(v) = given {
            command.env("MALLOC_ARENA_MAX", v);
        }
        let out = command.output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let seen = std::fs::read_to_string(&log).unwrap_or_default();
        for cluster in ["shop", "billing"] {
            assert!(
                seen.lines().any(|l| l == format!("{cluster} {expected}")),
                "MALLOC_ARENA_MAX given {given:?}: {seen}"
            );
        }
        assert!(
            seen.lines().all(|l| l.ends_with(&format!(" {expected}"))),
            "{seen}"
        );
    }
}
