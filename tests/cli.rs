//! The command-line surface without a lab: help with examples on every command,
//! completion scripts, man pages, `mhactl init`, non-TTY output free of control
//! characters, and the JSON field names documented in docs/json.md.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Run mhactl with piped stdout/stderr, as CI or a script would: no NO_COLOR set (the
/// streams are not terminals, so there must be no colours anyway) and a colour TERM.
fn mhactl_in(dir: &Path, path_env: Option<&str>, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mhactl"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR")
        .env_remove("MHACTL_INVENTORY")
        // `init --flavor mysql` names MySQL's root password by this variable.
        .env("MHACTL_ROOT_PASSWORD", "root-pw")
        .env("TERM", "xterm-256color");
    if let Some(p) = path_env {
        cmd.env("PATH", p);
    }
    cmd.output().expect("cannot run mhactl")
}

fn mhactl(args: &[&str]) -> Output {
    mhactl_in(Path::new("."), None, args)
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn assert_plain(what: &str, o: &Output) {
    for (stream, s) in [("stdout", stdout(o)), ("stderr", stderr(o))] {
        assert!(
            !s.contains('\x1b') && !s.contains('\r'),
            "{what}: {stream} has control characters: {s:?}"
        );
    }
}

const COMMANDS: &[&[&str]] = &[
    &[],
    &["bootstrap"],
    &["verify"],
    &["failover-test"],
    &["status"],
    &["init"],
    &["completions"],
    &["man"],
    &["lab"],
    &["lab", "up"],
    &["lab", "down"],
    &["lab", "status"],
    &["lab", "ssh"],
];

#[test]
fn every_command_has_help_with_examples() {
    for cmd in COMMANDS {
        let mut args = cmd.to_vec();
        args.push("--help");
        let out = mhactl(&args);
        assert!(out.status.success(), "mhactl {args:?}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(
            text.contains("Examples:\n  "),
            "mhactl {args:?} has no examples:\n{text}"
        );
        let usage = format!("Usage: mhactl {}", cmd.join(" "));
        assert!(text.contains(usage.trim_end()), "{text}");
        assert_plain(&format!("{args:?}"), &out);
    }
}

#[test]
fn completions_for_every_shell() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let out = mhactl(&["completions", shell]);
        assert!(out.status.success(), "{shell}: {}", stderr(&out));
        let script = stdout(&out);
        for word in ["mhactl", "failover-test", "status", "init", "inventory"] {
            assert!(script.contains(word), "{shell} completions lack {word}");
        }
    }
    let out = mhactl(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "unknown shells are usage errors"
    );
}

#[test]
fn man_page_on_stdout_and_per_command_pages_in_a_directory() {
    let out = mhactl(&["man"]);
    assert!(out.status.success());
    let page = stdout(&out);
    assert!(page.contains(".TH mhactl 1"), "{page}");
    assert!(page.contains("failover\\-test"), "{page}");

    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("man1");
    let out = mhactl(&["man", "--dir", dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    for page in [
        "mhactl.1",
        "mhactl-bootstrap.1",
        "mhactl-status.1",
        "mhactl-init.1",
        "mhactl-lab-up.1",
    ] {
        assert!(dir.join(page).is_file(), "{page} missing");
    }
}

#[path = "common/shop_init.rs"]
mod shop_init;

/// `mhactl init` with the shared test inventory's arguments, for MySQL and a sudo user.
fn init_args() -> Vec<&'static str> {
    let mut args = shop_init::SHOP_INIT.to_vec();
    args.extend_from_slice(&["--flavor", "mysql", "--ssh-user", "deploy"]);
    args
}

#[test]
fn init_writes_a_valid_commented_inventory_without_secrets() {
    let tmp = tempfile::tempdir().unwrap();
    let mut args = init_args();
    args.push("prod.yaml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mhactl"));
    // A secret in the environment must never end up in the file.
    cmd.args(&args)
        .current_dir(tmp.path())
        .env("SHOP_REPL_PW", "s3cret-never-written");
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert_plain("init", &out);
    assert!(stdout(&out).contains("next: mhactl bootstrap --dry-run prod.yaml"));

    let path = tmp.path().join("prod.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(!text.contains("s3cret"), "{text}");
    assert!(
        text.lines()
            .filter(|l| l.trim_start().starts_with('#'))
            .count()
            > 10
    );
    let inv = mhactl::inventory::load(&path).unwrap();
    assert_eq!(inv.cluster, "shop-db");
    assert_eq!(inv.nodes[0].name, "db1");
    assert_eq!(inv.vip.interface, "ens3");
    assert_eq!(inv.mysql.flavor, mhactl::inventory::Flavor::Mysql);
    assert_eq!(inv.ssh.user.as_deref(), Some("deploy"));
    assert_eq!(
        inv.credentials.replication_password_env.as_deref(),
        Some("SHOP_REPL_PW")
    );
    assert!((1..=255).contains(&inv.vip.virtual_router_id));

    // An existing file is kept...
    std::fs::write(&path, "# mine\n").unwrap();
    let out = mhactl_in(tmp.path(), None, &args);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--force"), "{}", stderr(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "# mine\n");
    // ...unless --force.
    let mut forced = args.clone();
    forced.push("--force");
    let out = mhactl_in(tmp.path(), None, &forced);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(std::fs::read_to_string(&path)
        .unwrap()
        .contains("cluster: shop-db"));
}

#[test]
fn init_refuses_incomplete_or_invalid_answers_and_writes_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    // Missing flags without a terminal: a usage error naming them.
    let out = mhactl_in(tmp.path(), None, &["init", "--cluster", "x", "a.yaml"]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("--node NAME=ADDRESS") && err.contains("--vip"),
        "{err}"
    );
    assert!(!tmp.path().join("a.yaml").exists());
    // A VIP outside the nodes' subnet: the inventory validation's own message.
    let out = mhactl_in(
        tmp.path(),
        None,
        &[
            "init",
            "--cluster",
            "x",
            "--node",
            "a=192.0.2.11",
            "--node",
            "b=192.0.2.12",
            "--vip",
            "198.51.100.100/24",
            "b.yaml",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(stderr(&out).contains("subnet"), "{}", stderr(&out));
    assert!(!tmp.path().join("b.yaml").exists());
    // A malformed --node is rejected by the parser.
    let out = mhactl_in(tmp.path(), None, &["init", "--node", "a:192.0.2.1"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn init_json_and_stdout() {
    let mut args = init_args();
    args.extend_from_slice(&["-", "--output", "json"]);
    let out = mhactl(&args);
    assert!(out.status.success(), "{}", stderr(&out));
    let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(v["ok"], true);
    assert_eq!(v["file"], Value::Null);
    assert_eq!(v["inventory"]["cluster"], "shop-db");
    assert_eq!(v["inventory"]["nodes"][1]["address"], "192.0.2.12");
    assert!(v["yaml"].as_str().unwrap().contains("virtual_router_id:"));

    let mut args = init_args();
    args.push("-");
    let out = mhactl(&args);
    assert!(out.status.success());
    assert!(stdout(&out).starts_with("# mhactl inventory for the cluster shop-db"));
}

#[path = "common/fake_reports.rs"]
mod fake_reports;
/// The fake `ssh` is the only thing on PATH: commands that connect fail at once.
#[path = "common/fake_ssh.rs"]
mod fake_ssh;
use fake_ssh::fake_ssh_path;

fn unreachable_inventory(tmp: &Path) -> PathBuf {
    let mut args = init_args();
    args.push("inv.yaml");
    let out = mhactl_in(tmp, None, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    // The key the inventory names exists (a missing one is refused before ssh runs).
    shop_init::make_key(tmp);
    tmp.join("inv.yaml")
}

#[test]
fn a_missing_identity_file_is_refused_before_ssh_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = unreachable_inventory(tmp.path());
    std::fs::remove_file(tmp.path().join("keys/id_ed25519")).unwrap();
    let path = fake_ssh_path(tmp.path());
    for args in [&["verify"][..], &["bootstrap", "--dry-run"], &["status"]] {
        let mut all = vec!["-i", inv.to_str().unwrap()];
        all.extend_from_slice(args);
        let out = mhactl_in(tmp.path(), Some(&path), &all);
        let se = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {se}");
        assert!(
            se.contains("ssh.identity_file: ") && se.contains("keys/id_ed25519 does not exist"),
            "{args:?}: {se}"
        );
        assert!(
            !se.contains("Connection refused"),
            "{args:?}: ssh ran: {se}"
        );
    }
}

#[test]
fn piped_output_of_a_failing_run_has_no_control_characters() {
    let tmp = tempfile::tempdir().unwrap();
    let inv = unreachable_inventory(tmp.path());
    let path = fake_ssh_path(tmp.path());
    let inv = inv.to_str().unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mhactl"));
    let out = cmd
        .args(["bootstrap", inv])
        .env("PATH", &path)
        .env("SHOP_REPL_PW", "pw")
        .env("MHACTL_ROOT_PASSWORD", "root-pw")
        .env_remove("NO_COLOR")
        .env("TERM", "xterm-256color")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_plain("bootstrap", &out);
    let (so, se) = (stdout(&out), stderr(&out));
    assert!(se.contains("] db1      connect           FAILED"), "{se}");
    // Issue 20: each step once: as it finished (stderr), not again in a table on stdout.
    assert!(!so.contains("NODE     STEP"), "{so}");
    assert_eq!(
        format!("{so}{se}").matches("db1      connect").count(),
        1,
        "{so}{se}"
    );
    assert!(
        so.contains("NODE     CHANGED UNCHANGED FAILED SKIPPED     TIME"),
        "{so}"
    );
    assert!(
        so.contains("bootstrap: 0 changed, 0 unchanged, 2 failed"),
        "{so}"
    );

    // -q: no progress lines, only the verdict and the failure.
    let out = Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(["-q", "bootstrap", inv])
        .env("PATH", &path)
        .env("SHOP_REPL_PW", "pw")
        .env("MHACTL_ROOT_PASSWORD", "root-pw")
        .output()
        .unwrap();
    assert!(!stderr(&out).contains("connect"), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("bootstrap: 0 changed"),
        "{}",
        stdout(&out)
    );

    // status: unreachable nodes, exit 1, plain text; and its JSON.
    for format in ["text", "json"] {
        let out = Command::new(env!("CARGO_BIN_EXE_mhactl"))
            .args(["-i", inv, "status", "--output", format])
            .env("PATH", &path)
            .env_remove("NO_COLOR")
            .env_remove("SHOP_REPL_PW") // status does not need the secrets
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_plain("status", &out);
        if format == "json" {
            let v: Value = serde_json::from_str(&stdout(&out)).unwrap();
            assert_eq!(v["ok"], false);
            assert_eq!(v["nodes"][0]["reachable"], false);
            assert_eq!(v["nodes"][0]["role"], "unknown");
            assert!(v["problems"]
                .to_string()
                .contains("db1 is unreachable over SSH"));
        } else {
            assert!(
                stdout(&out).contains("status: NOT HEALTHY"),
                "{}",
                stdout(&out)
            );
        }
    }
}

/// A secret file others can read gets a warning on stderr naming the file, its mode and
/// `chmod 600` (never its content); 0600 gets none; in JSON mode stdout stays one JSON
/// document.
#[test]
fn secret_file_readable_by_others_is_warned_about_on_stderr_only() {
    use std::os::unix::fs::PermissionsExt;
    let tmp = tempfile::tempdir().unwrap();
    let inv = unreachable_inventory(tmp.path());
    let text = std::fs::read_to_string(&inv)
        .unwrap()
        .replace(
            "replication_password_env: SHOP_REPL_PW",
            "replication_password_file: secrets.yaml#repl",
        )
        .replace(
            "# vrrp_password_env: MHACTL_VRRP_PASSWORD",
            "vrrp_password_file: secrets.yaml#vrrp",
        );
    assert!(
        text.contains("vrrp_password_file: secrets.yaml#vrrp"),
        "{text}"
    );
    std::fs::write(&inv, text).unwrap();
    let secret = tmp.path().join("secrets.yaml");
    std::fs::write(&secret, "repl: Zq8-not-printed\nvrrp: Zq8vrrp1\n").unwrap();
    let path = fake_ssh_path(tmp.path());
    let inv = inv.to_str().unwrap();
    let shown = secret.display().to_string();
    let run = |args: &[&str]| {
        let mut all = vec!["-i", inv];
        all.extend_from_slice(args);
        mhactl_in(tmp.path(), Some(&path), &all)
    };

    for mode in [0o644, 0o640] {
        std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(mode)).unwrap();
        for args in [
            &["verify"][..],
            &["verify", "--output", "json"],
            &["-q", "bootstrap"],
        ] {
            let out = run(args);
            assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
            assert_plain("secret warning", &out);
            let (so, se) = (stdout(&out), stderr(&out));
            let want =
                format!(
                "warning: credentials.replication_password_file: secret file {shown} is readable \
                 by {} (mode {mode:04o}); run `chmod 600 {shown}`",
                if mode == 0o644 { "everyone" } else { "its group" }
            );
            assert!(se.contains(&want), "{args:?}: {se}");
            // Once per file, though two fields use it; never the content, never on stdout.
            assert_eq!(se.matches("is readable by").count(), 1, "{se}");
            assert!(!se.contains("Zq8") && !so.contains("Zq8"), "{so}{se}");
            assert!(!so.contains("readable"), "{so}");
            if args.contains(&"json") {
                let v: Value = serde_json::from_str(&so).expect("stdout is one JSON document");
                assert_eq!(v["ok"], false);
            }
        }
    }
    std::fs::set_permissions(&secret, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(&["verify", "--output", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));
    serde_json::from_str::<Value>(&stdout(&out)).expect("stdout is one JSON document");
}

/// Every key of `v`, recursively (object keys only).
fn keys(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                out.push(k.clone());
                keys(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
        _ => {}
    }
}

fn json_doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/json.md"))
        .expect("docs/json.md")
}

fn assert_documented(what: &str, v: &Value) {
    let doc = json_doc();
    let mut ks = Vec::new();
    keys(v, &mut ks);
    for k in ks {
        assert!(
            doc.contains(&format!("`{k}`")) || doc.contains(&format!(".{k}`")),
            "{what}: field `{k}` is not documented in docs/json.md"
        );
    }
}

#[test]
fn json_fields_are_the_documented_ones() {
    use mhactl::engine::{StepReport, StepStatus};
    // bootstrap
    let step = StepReport {
        node: "node-a".into(),
        step: "server-config".into(),
        status: StepStatus::Changed,
        detail: "write /etc/mysql/mariadb.conf.d/60-mhactl.cnf".into(),
        diff: Some("--- a\n+++ b\n".into()),
        ms: 3100,
    };
    let v = serde_json::json!({ "ok": true, "changed": 1, "steps": [step] });
    assert_eq!(v["steps"][0]["status"], "changed");
    for k in ["node", "step", "status", "detail", "diff", "ms"] {
        assert!(v["steps"][0].get(k).is_some(), "steps[].{k}");
    }
    assert_documented("bootstrap", &v);
    // The envelope every document starts with, counts included.
    let doc = mhactl::json_out::render_as(
        "bootstrap",
        std::time::Duration::from_millis(1),
        Some(mhactl::report::step_counts(std::slice::from_ref(&step))),
        &v,
    )
    .unwrap();
    assert_documented("envelope", &serde_json::from_str(&doc).unwrap());

    // verify
    let check = mhactl::verify::Check::warn("gtid", "cluster", "GTID off");
    let v = serde_json::json!({ "ok": true, "checks": [check] });
    let c = &v["checks"][0];
    assert_eq!(c["severity"], "warning");
    for k in ["name", "node", "ok", "severity", "detail"] {
        assert!(c.get(k).is_some(), "checks[].{k}");
    }
    assert_documented("verify", &v);

    // failover-test
    let report = fake_reports::failover_report();
    let v = serde_json::to_value(&report).unwrap();
    // Only isolate reports the split-brain measure.
    assert!(v.get("double_holder_s").is_none(), "{v}");
    let isolate = mhactl::failover::FailoverReport {
        mode: "isolate".into(),
        double_holder_s: Some(0.0),
        both_writable_s: Some(0.0),
        fenced: Some(true),
        cut_off_node_writes: Some(0),
        vip_went_back: Some(false),
        vip_released_s: Some(2.1),
        problems: vec![],
        ..report
    };
    assert_documented("failover-test", &serde_json::to_value(&isolate).unwrap());
    let report = mhactl::failover::FailoverReport {
        mode: "stop-mysqld".into(),
        double_holder_s: None,
        both_writable_s: None,
        fenced: None,
        cut_off_node_writes: None,
        vip_went_back: None,
        vip_released_s: None,
        problems: vec![],
        ..isolate
    };
    let v = serde_json::to_value(&report).unwrap();
    for k in [
        "ok",
        "mode",
        "replication",
        "old_holder",
        "new_holder",
        "vip_moved_s",
        "write_gap_s",
        "writes_acked",
        "writes_failed",
        "writes_lost",
        "writes_missing_after_rejoin",
        "rejoined",
        "healthy_after",
        "problems",
    ] {
        assert!(v.get(k).is_some(), "failover-test: {k}");
    }
    assert_documented("failover-test", &v);

    // status
    let report = fake_reports::healthy_status();
    let v = serde_json::to_value(&report).unwrap();
    assert_eq!(v["vip_holder"], "a");
    assert_documented("status", &v);

    // init
    let mut args = init_args();
    args.extend_from_slice(&["-", "--output", "json"]);
    let v: Value = serde_json::from_str(&stdout(&mhactl(&args))).unwrap();
    let top =
        serde_json::json!({"ok": v["ok"], "file": v["file"], "yaml": v["yaml"], "inventory": {}});
    assert_documented("init", &top);
}
