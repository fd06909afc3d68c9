//! The ssh command line mhactl starts its master connection with: only what the
//! inventory sets (no `-l root -p 22` overriding the user's ssh config), `-F` for
//! `ssh.config_file`, and the host from `ssh.host`. A fake `ssh` first in PATH records
//! its arguments and fails; this binary holds one test, since it changes PATH.

use mhactl::inventory::{HostKeyCheck, ResolvedSsh};
use mhactl::transport::ssh::{SshTarget, SshTransport};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Duration;

/// The arguments the fake ssh was started with, one per line, for one connect.
fn argv_of(bin: &Path, log: &Path, ssh: ResolvedSsh) -> Vec<String> {
    let _ = std::fs::remove_file(log);
    let target = SshTarget {
        node: "node-x".into(),
        ssh,
        become_password: None,
    };
    assert!(SshTransport::connect(target).is_err(), "the fake ssh fails");
    let _ = bin;
    let text = std::fs::read_to_string(log).expect("the fake ssh ran");
    // The first run is the master (the error path may run ssh again for its message).
    let first = text.split("--end--\n").next().unwrap_or_default();
    first.lines().map(str::to_string).collect()
}

fn resolved(user: Option<&str>, port: Option<u16>, config: Option<&str>) -> ResolvedSsh {
    ResolvedSsh {
        host: "db1.example".into(),
        user: user.map(str::to_string),
        port,
        config_file: config.map(Into::into),
        identity_file: None,
        known_hosts: None,
        host_key_check: HostKeyCheck::Strict,
        connect_timeout: Duration::from_secs(2),
        persist: Duration::ZERO,
    }
}

#[test]
fn ssh_gets_only_what_the_inventory_sets() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = dir.path().join("argv.log");
    let fake = bin.join("ssh");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done >> '{}'\necho --end-- >> '{}'\necho 'ssh: fake' >&2\nexit 255\n",
            log.display(),
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    std::env::set_var("PATH", path);

    // Nothing set: no -l, no -p, no -F; the destination is the host as given.
    let argv = argv_of(&bin, &log, resolved(None, None, None));
    assert!(
        !argv.iter().any(|a| a == "-l" || a == "-p" || a == "-F"),
        "{argv:?}"
    );
    assert_eq!(
        argv.last().map(String::as_str),
        Some("db1.example"),
        "{argv:?}"
    );
    assert!(
        argv.iter().any(|a| a == "StrictHostKeyChecking=yes"),
        "{argv:?}"
    );

    // What the inventory sets is passed, and only that.
    let argv = argv_of(
        &bin,
        &log,
        resolved(Some("deploy"), Some(2222), Some("/etc/mhactl/ssh_config")),
    );
    let after = |flag: &str| {
        argv.iter()
            .position(|a| a == flag)
            .map(|i| argv[i + 1].clone())
    };
    assert_eq!(after("-l").as_deref(), Some("deploy"), "{argv:?}");
    assert_eq!(after("-p").as_deref(), Some("2222"), "{argv:?}");
    assert_eq!(
        after("-F").as_deref(),
        Some("/etc/mhactl/ssh_config"),
        "{argv:?}"
    );
    let argv = argv_of(&bin, &log, resolved(Some("deploy"), None, None));
    assert!(
        argv.iter().any(|a| a == "-l") && !argv.iter().any(|a| a == "-p"),
        "{argv:?}"
    );
}
