//! Without a lab: failover-test's kill-mysqld command kills exactly the server named by
//! its pid file and the mysqld_safe that supervises it, never a namesake; `hung`'s
//! commands stop and resume exactly that server; an SSH failure
//! carries ssh's own message and the node's name.

use mhactl::os::ServiceManager;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command};
use std::time::Duration;

fn alive(child: &mut Child) -> bool {
    child.try_wait().unwrap().is_none()
}

/// A copy of `sleep` called `name` in `dir`, so its process name (comm) is `name`.
/// Spawns `cmd`, again while its file is busy: a test running in parallel that forks
/// while this test still writes its fake binary hands the write descriptor to its child
/// until that child execs, and an exec of a file open for writing fails with ETXTBSY.
fn spawn(cmd: &mut Command) -> std::process::Child {
    for _ in 0..100 {
        match cmd.spawn() {
            Err(e) if e.kind() == std::io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(10))
            }
            other => return other.unwrap(),
        }
    }
    panic!("{cmd:?}: still busy after 1 s");
}

fn fake_binary(dir: &Path, name: &str) -> String {
    let path = dir.join(name);
    std::fs::copy("/bin/sleep", &path).unwrap();
    path.display().to_string()
}

#[test]
fn kill_mysqld_kills_the_server_and_its_supervisor_and_spares_a_namesake() {
    let dir = tempfile::tempdir().unwrap();
    let server = fake_binary(dir.path(), "mariadbd");
    let decoy = fake_binary(dir.path(), "mysqld");
    // The supervisor: a script called mysqld_safe that starts the server and writes its
    // pid file, as mysqld_safe does.
    let pid_file = dir.path().join("mysqld.pid");
    let safe = dir.path().join("mysqld_safe");
    std::fs::write(
        &safe,
        format!(
            "#!/bin/sh\n{server} 300 & echo $! > {}\nwait\n",
            pid_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&safe, std::fs::Permissions::from_mode(0o755)).unwrap();
    let mut supervisor = spawn(&mut Command::new(&safe));
    let mut namesake = spawn(Command::new(&decoy).arg("300"));
    for _ in 0..50 {
        if std::fs::read_to_string(&pid_file).is_ok_and(|p| !p.trim().is_empty()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let server_pid: u32 = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .parse()
        .unwrap();

    let script = ServiceManager::SysV.kill_server_command("mariadb", pid_file.to_str().unwrap());
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        !Path::new(&format!("/proc/{server_pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{server_pid}/stat"))
                .is_ok_and(|s| s.contains(") Z ")),
        "the server survived"
    );
    assert!(!alive(&mut supervisor), "mysqld_safe survived");
    assert!(
        alive(&mut namesake),
        "a process merely called mysqld was killed"
    );

    // A pid file naming something that is not the server kills nothing.
    std::fs::write(&pid_file, format!("{}\n", std::process::id())).unwrap();
    let out = Command::new("sh").args(["-c", &script]).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not the server: nothing killed"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    namesake.kill().unwrap();
    let _ = namesake.wait();
}

fn state(pid: u32) -> char {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    stat.rsplit_once(") ").unwrap().1.chars().next().unwrap()
}

#[test]
fn hung_stops_and_resumes_exactly_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let mut server = spawn(Command::new(fake_binary(dir.path(), "mariadbd")).arg("300"));
    let mut namesake = spawn(Command::new(fake_binary(dir.path(), "mysqld")).arg("300"));
    let pid_file = dir.path().join("mysqld.pid");
    std::fs::write(&pid_file, format!("{}\n", server.id())).unwrap();
    let f = pid_file.to_str().unwrap();
    let run = |signal: &str| {
        let script = ServiceManager::SysV.signal_server_command("mariadb", f, signal);
        Command::new("sh").args(["-c", &script]).output().unwrap()
    };
    assert!(run("STOP").status.success());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(state(server.id()), 'T', "the server was not stopped");
    assert_ne!(state(namesake.id()), 'T', "a namesake was stopped");
    assert!(run("CONT").status.success());
    std::thread::sleep(Duration::from_millis(200));
    assert_ne!(state(server.id()), 'T', "the server was not resumed");

    // A pid file naming something that is not the server signals nothing.
    std::fs::write(&pid_file, format!("{}\n", namesake.id() + 1_000_000)).unwrap();
    let out = run("STOP");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("nothing signalled"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for child in [&mut server, &mut namesake] {
        child.kill().unwrap();
        let _ = child.wait();
    }
}

#[test]
fn an_ssh_failure_shows_ssh_s_own_message_and_the_node() {
    use mhactl::inventory::{HostKeyCheck, ResolvedSsh};
    use mhactl::transport::ssh::{SshTarget, SshTransport};
    // ssh rejects this user name on its command line, before it writes the log the
    // openssh crate reads: the message used to be "No such file or directory (os error 2)".
    let target = SshTarget {
        node: "node-x".into(),
        ssh: ResolvedSsh {
            host: "127.0.0.1".into(),
            user: Some("-l".into()),
            port: Some(9),
            config_file: None,
            identity_file: None,
            known_hosts: None,
            host_key_check: HostKeyCheck::Strict,
            connect_timeout: Duration::from_secs(2),
            persist: Duration::ZERO,
        },
        become_password: None,
    };
    let err = match SshTransport::connect(target) {
        Ok(_) => panic!("connected with user -l"),
        Err(e) => format!("{e:#}"),
    };
    assert!(err.starts_with("node-x: cannot connect over SSH"), "{err}");
    assert!(
        err.contains("ssh: remote username contains invalid characters"),
        "{err}"
    );
    assert!(!err.contains("os error 2"), "{err}");
}
