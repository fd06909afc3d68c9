//! One command-line grammar (issue 20 item 4) and confirmations (item 7), without a
//! lab: the inventory as argument or `-i` on every command and never two different
//! ones, global flags a command ignores refused, `--log-file`, `bootstrap --check`'s
//! exit code on a failure, and destructive commands refusing without `--yes` when no
//! terminal can ask. Nodes are "reached" through a fake `ssh` that always fails, so
//! nothing leaves this machine.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run mhactl in `dir` with piped streams (no terminal), a fake failing `ssh` first on
/// PATH, and the inventory's replication password in the environment.
fn mhactl(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(args)
        .current_dir(dir)
        .env("PATH", fake_ssh_path(dir))
        .env("SHOP_REPL_PW", "not-a-real-pw")
        .env_remove("MHACTL_INVENTORY")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .output()
        .expect("cannot run mhactl")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[path = "common/fake_ssh.rs"]
mod fake_ssh;
use fake_ssh::fake_ssh_path;
#[path = "common/shop_init.rs"]
mod shop_init;
use shop_init::SHOP_INIT;

/// `inv.yaml` in `dir`: a valid inventory of two documentation addresses (not a lab).
fn inventory(dir: &Path, name: &str) -> PathBuf {
    let out = Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .current_dir(dir)
        .args(SHOP_INIT)
        .arg(name)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // The key it names exists (a missing one is refused before ssh runs).
    shop_init::make_key(dir);
    dir.join(name)
}

/// Every command that reads an inventory, as typed (its arguments before the inventory).
const READERS: &[&[&str]] = &[
    &["bootstrap"],
    &["bootstrap", "--check"],
    &["verify"],
    &["status"],
    &["failover-test", "--yes"],
    &["switchover", "--yes"],
    &["reinit", "db2", "--yes"],
    &["rotate-certs"],
    &["inventory", "check"],
];

#[test]
fn the_inventory_is_an_argument_or_dash_i_on_every_command_never_two_different_ones() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    let a = inventory(dir, "a.yaml");
    inventory(dir, "b.yaml");
    for cmd in READERS {
        // Both spellings read the same file: `inventory check` passes, the others get
        // as far as connecting (the fake ssh fails: exit 1), never a usage error.
        let want = if cmd[0] == "inventory" { 0 } else { 1 };
        let mut positional = cmd.to_vec();
        positional.push("a.yaml");
        let mut dash_i = vec!["-i", "a.yaml"];
        dash_i.extend_from_slice(cmd);
        // The same file twice, by two paths, is no conflict.
        let abs = a.display().to_string();
        let mut both = vec!["-i", abs.as_str()];
        both.extend_from_slice(&positional);
        for args in [&positional, &dash_i, &both] {
            let out = mhactl(dir, args);
            assert_eq!(
                out.status.code(),
                Some(want),
                "mhactl {args:?}:\n{}{}",
                stdout(&out),
                stderr(&out)
            );
        }
        // Two different files: exit 2, naming both, whichever order they come in.
        for args in [
            [&["-i", "b.yaml"][..], &positional[..]].concat(),
            [&positional[..], &["-i", "b.yaml"][..]].concat(),
        ] {
            let out = mhactl(dir, &args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(2), "mhactl {args:?}: {err}");
            assert!(
                err.contains("two inventories")
                    && err.contains("-i b.yaml")
                    && err.contains("a.yaml"),
                "mhactl {args:?}: {err}"
            );
        }
    }
    // The argument wins over MHACTL_INVENTORY (an environment default, not a flag).
    let out = Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .current_dir(dir)
        .args(["inventory", "check", "a.yaml"])
        .env("MHACTL_INVENTORY", "missing.yaml")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    // `init` writes the inventory: `-i FILE init` writes FILE.
    let out = mhactl(
        dir,
        &[
            "-i",
            "c.yaml",
            "init",
            "--cluster",
            "c",
            "--node",
            "n1=192.0.2.21",
            "--node",
            "n2=192.0.2.22",
            "--vip",
            "192.0.2.200/24",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(dir.join("c.yaml").exists());
    let out = mhactl(dir, &["-i", "c.yaml", "init", "d.yaml"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(!dir.join("d.yaml").exists());
}

#[test]
fn global_flags_a_command_ignores_are_refused_naming_flag_and_command() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    inventory(dir, "a.yaml");
    for (args, flag, command) in [
        (
            &["-i", "a.yaml", "lab", "status"][..],
            "-i/--inventory",
            "lab status",
        ),
        (
            &["lab", "down", "-i", "a.yaml"][..],
            "-i/--inventory",
            "lab down",
        ),
        (
            &["completions", "bash", "-i", "a.yaml"][..],
            "-i/--inventory",
            "completions",
        ),
        (
            &["--output", "json", "lab", "ssh", "--dir", "x", "node-a"][..],
            "--output json",
            "lab ssh",
        ),
        (
            &["completions", "bash", "--output", "json"][..],
            "--output json",
            "completions",
        ),
        (&["man", "--no-progress"][..], "--no-progress", "man"),
        (
            &["inventory", "check", "a.yaml", "--accept-new-host-keys"][..],
            "--accept-new-host-keys",
            "inventory check",
        ),
        (
            &["init", "--no-progress", "x.yaml"][..],
            "--no-progress",
            "init",
        ),
    ] {
        let out = mhactl(dir, args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "mhactl {args:?}: {err}");
        assert!(
            err.starts_with(&format!("error: {flag}: `mhactl {command}`")),
            "mhactl {args:?}: {err}"
        );
    }
    // Flags every command takes, and those a command uses, still work.
    for args in [
        &["-q", "inventory", "check", "a.yaml"][..],
        &["-v", "inventory", "check", "a.yaml", "--output", "json"][..],
        &["--output", "text", "completions", "bash"][..],
    ] {
        let out = mhactl(dir, args);
        assert!(out.status.success(), "mhactl {args:?}: {}", stderr(&out));
    }
}

#[test]
fn log_file_gets_the_stderr_lines_without_colours() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    inventory(dir, "a.yaml");
    let log = dir.join("run.log");
    let out = mhactl(
        dir,
        &["--log-file", log.to_str().unwrap(), "bootstrap", "a.yaml"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = std::fs::read_to_string(&log).unwrap();
    assert!(text.starts_with("== mhactl bootstrap (pid "), "{text}");
    assert!(
        text.contains("] db1      connect           FAILED"),
        "{text}"
    );
    assert!(!text.contains('\x1b') && !text.contains('\r'), "{text:?}");
    assert!(!text.contains("not-a-real-pw"), "{text}");
    // Every stderr line is in the log (the log may add its header).
    for line in stderr(&out).lines() {
        assert!(text.contains(line), "{line:?} is not in the log:\n{text}");
    }
    // A second run appends; -q logs what -q prints (no progress lines).
    let out = mhactl(
        dir,
        &[
            "-q",
            "--log-file",
            log.to_str().unwrap(),
            "verify",
            "a.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let again = std::fs::read_to_string(&log).unwrap();
    assert!(again.starts_with(&text), "not appended");
    let tail = &again[text.len()..];
    assert!(tail.starts_with("== mhactl verify"), "{tail}");
    assert!(!tail.contains("] db1"), "{tail}");
    // A log file that cannot be opened is a usage error, before anything runs.
    let out = mhactl(
        dir,
        &["--log-file", "/nonexistent/dir/x.log", "verify", "a.yaml"],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("--log-file /nonexistent/dir/x.log"));
}

#[test]
fn bootstrap_check_exits_1_on_a_failure_not_3() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    inventory(dir, "a.yaml");
    let out = mhactl(dir, &["bootstrap", "--check", "a.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("bootstrap: 0 would change"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn destructive_commands_without_a_terminal_need_yes() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    inventory(dir, "a.yaml");
    for cmd in [&["failover-test"][..], &["switchover"][..]] {
        let args = [cmd, &["a.yaml"][..]].concat();
        let out = mhactl(dir, &args);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "mhactl {args:?}: {err}");
        assert!(
            err.contains("not a local lab")
                && err.contains("pass --yes")
                && err.contains("shop-db"),
            "mhactl {args:?}: {err}"
        );
        // Refused before connecting: the fake ssh was never called, so no connect line.
        assert!(!err.contains("connect"), "{err}");
        // --yes goes on (and fails to connect: exit 1).
        let args = [&args[..], &["--yes"][..]].concat();
        assert_eq!(mhactl(dir, &args).status.code(), Some(1));
    }
    // switchover --dry-run changes nothing, so it does not ask.
    let out = mhactl(dir, &["switchover", "--dry-run", "a.yaml"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // reinit with its arguments the other way round: which comes first.
    let out = mhactl(dir, &["reinit", "a.yaml", "db2", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("the node comes first, then the inventory: mhactl reinit db2 a.yaml"),
        "{}",
        stderr(&out)
    );
    // reinit: refused with a message naming both flags; either goes on.
    let out = mhactl(dir, &["reinit", "db2", "a.yaml"]);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--yes") && err.contains("--yes-destroy-data"),
        "{err}"
    );
    for flag in ["--yes", "--yes-destroy-data"] {
        let out = mhactl(dir, &["reinit", "db2", "a.yaml", flag]);
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", stderr(&out));
    }
}

/// On a terminal (util-linux `script` gives mhactl one) the destructive commands ask and
/// go on only with the word asked for: the node's name for reinit, `yes` otherwise.
#[test]
fn on_a_terminal_destructive_commands_ask_first() {
    if Command::new("script").arg("--version").output().is_err() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI=true but util-linux `script` is missing: this test must run in CI"
        );
        eprintln!("SKIPPED: util-linux `script` is not installed (no terminal to test on)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    inventory(dir, "a.yaml");
    let bin = fake_ssh_path(dir);
    // `script` runs the command on a new terminal; the answer goes to it through stdin.
    let on_terminal = |answer: &str, args: &str| -> (Option<i32>, String) {
        let command = format!(
            "env PATH={bin}:/usr/bin:/bin SHOP_REPL_PW=pw {} {args}",
            env!("CARGO_BIN_EXE_mhactl")
        );
        let mut child = Command::new("script")
            .args(["-qec", &command, "/dev/null"])
            .current_dir(dir)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(500));
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        // A command that does not ask may be gone already (a broken pipe then).
        let _ = writeln!(stdin, "{answer}");
        let out = child.wait_with_output().unwrap();
        (out.status.code(), stdout(&out).replace('\r', ""))
    };
    let (code, text) = on_terminal("db1", "reinit db2 a.yaml");
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("Type the node's name (db2) to go on"),
        "{text}"
    );
    assert!(
        text.contains("not confirmed (answer \"db1\", not \"db2\"); nothing was done"),
        "{text}"
    );
    let (code, text) = on_terminal("db2", "reinit db2 a.yaml");
    assert_eq!(code, Some(1), "confirmed, then the fake ssh fails: {text}");
    assert!(text.contains("cannot connect"), "{text}");
    let (code, text) = on_terminal("no", "failover-test a.yaml");
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("on cluster shop-db, which is not a local lab"),
        "{text}"
    );
    let (code, text) = on_terminal("yes", "switchover a.yaml");
    assert_eq!(code, Some(1), "{text}");
    // --yes: no question at all.
    let (code, text) = on_terminal("", "switchover a.yaml --yes");
    assert_eq!(code, Some(1), "{text}");
    assert!(!text.contains("Type yes"), "{text}");
}
