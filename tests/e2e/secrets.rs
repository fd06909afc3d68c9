//! End-to-end on the lab: no secret is ever printed, on either side of a diff. After a
//! bootstrap the inventory's VRRP and replication passwords change, and a node's files
//! get secrets by hand (keepalived's `auth_pass`, which an older mhactl wrote and mhactl
//! now removes, a `password =` in mhactl's drop-in);
//! dry runs, `--diff` runs and verify (text and JSON) must show that those lines differ,
//! masked, and never the old, the new or the hand-written value.

use crate::support::{mhactl, mhactl_ok, Lab, Scenario};

/// Replace `key`'s value in the lab's secrets.yaml.
fn set_secret(lab: &Lab, key: &str, value: &str) {
    let path = lab.dir.join("secrets.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let out: Vec<String> = text
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{key}: ")) {
                format!("{key}: \"{value}\"")
            } else {
                l.to_string()
            }
        })
        .collect();
    std::fs::write(&path, out.join("\n") + "\n").unwrap();
}

/// Run mhactl; return stdout and stderr together, after checking no secret is in them.
fn run_clean(args: &[&str], secrets: &[&str]) -> (Option<i32>, String) {
    let out = mhactl(args);
    let text = format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    for s in secrets {
        assert!(
            !text.contains(s),
            "mhactl {} printed the secret {s:?}:\n{text}",
            args.join(" ")
        );
    }
    (out.status.code(), text)
}

/// verify and dry runs, text and JSON: none prints a secret; verify fails with
/// `verify_lines` in its details, the dry runs show `diff_lines`.
fn expect_masked(inv: &str, secrets: &[&str], verify_lines: &[&str], diff_lines: &[&str]) {
    for format in ["text", "json"] {
        let (code, text) = run_clean(&["-i", inv, "verify", "--output", format], secrets);
        assert_eq!(code, Some(1), "verify must fail on the drift:\n{text}");
        for line in verify_lines {
            assert!(
                text.contains(line),
                "verify ({format}) lacks {line:?}:\n{text}"
            );
        }
        let (code, text) = run_clean(
            &["-i", inv, "bootstrap", "--dry-run", "--output", format],
            secrets,
        );
        assert_eq!(code, Some(0), "dry run failed:\n{text}");
        for line in diff_lines {
            assert!(
                text.contains(line),
                "dry run ({format}) lacks {line:?}:\n{text}"
            );
        }
    }
}

/// The lab's inventory with `vip.advert_int_s: 1`: VRRPv2, whole-second adverts (the
/// only keepalived.conf an older mhactl wrote with `auth_pass`; also vrrp_auth.rs).
pub(crate) fn use_vrrpv2(lab: &Lab) {
    let inv = lab.inventory();
    let text = std::fs::read_to_string(&inv).unwrap();
    assert!(text.contains("\nvip:\n"), "{text}");
    std::fs::write(
        &inv,
        text.replacen("\nvip:\n", "\nvip:\n  advert_int_s: 1\n", 1),
    )
    .unwrap();
}

fn secrets_are_masked_on_both_sides_of_every_diff_and_detail(lab: Lab) {
    let inv = lab.inventory();
    // VRRPv2 (whole-second adverts): the only keepalived.conf an older mhactl wrote
    // with a password (`auth_pass`; mhactl writes none since issue 19).
    use_vrrpv2(&lab);
    mhactl_ok(&["-i", &inv, "bootstrap"]);
    let old_vrrp = lab.secret("vrrp_password");
    let old_repl = lab.secret("replication_password");
    let (new_vrrp, new_repl) = ("N3wVrrp8", "N3w-repl-pw-e2e-218");
    // Secrets mhactl never knew, written by hand on the nodes.
    let (hand_vrrp, hand_cnf, hand_script) = ("HandPw77", "Cnf-hand-secret-99", "ScriptPw-42");
    let secrets = [
        old_vrrp.as_str(),
        old_repl.as_str(),
        new_vrrp,
        new_repl,
        hand_vrrp,
        hand_cnf,
        hand_script,
    ];

    // 1. The VRRP password changes in the inventory (no file holds it: nothing to
    // change), an older mhactl's PASS block appears by hand on node-a; node-b's health
    // check gets a runbook-style login with a password.
    set_secret(&lab, "vrrp_password", new_vrrp);
    lab.ssh_ok(
        "node-a",
        &format!(
            "sed -i 's/^    advert_int 1$/    advert_int 1\\n    authentication {{\\n        \
             auth_type PASS\\n        auth_pass {hand_vrrp}\\n    }}/' \
             /etc/keepalived/keepalived.conf && grep -q 'auth_pass {hand_vrrp}' \
             /etc/keepalived/keepalived.conf"
        ),
    );
    lab.ssh_ok(
        "node-b",
        &format!(
            "echo '# runbook: mysql -uroot -p{hand_script} -e \"SELECT 1\"' \
             >> /etc/keepalived/mhactl-check-mysql.sh"
        ),
    );
    expect_masked(
        &inv,
        &secrets,
        &["auth_pass ***(node)"],
        // A dry run shows node-a's keepalived.conf and node-b's script: the node's
        // side masked, the removed lines still visible.
        &[
            "-        auth_pass ***(old)",
            "-# runbook: mysql -uroot -p***(old) -e",
        ],
    );

    // 2. A password by hand in mhactl's drop-in, and a new replication password. (The
    // drop-in's change stops node-a's dry run before keepalived: only its diff shows.)
    set_secret(&lab, "replication_password", new_repl);
    lab.ssh_ok(
        "node-a",
        &format!(
            "printf '[client]\\npassword = {hand_cnf}\\n' >> /etc/mysql/mariadb.conf.d/60-mhactl.cnf"
        ),
    );
    expect_masked(
        &inv,
        &secrets,
        &["password = ***(node)", "auth_pass ***(node)"],
        &["-password = ***(old)"],
    );

    // A real run with --diff prints the same masked diff and converges.
    let (code, text) = run_clean(&["-i", &inv, "bootstrap", "--diff"], &secrets);
    assert_eq!(code, Some(0), "bootstrap --diff failed:\n{text}");
    assert!(
        text.contains("-        auth_pass ***(old)"),
        "bootstrap --diff shows no masked auth_pass removal:\n{text}"
    );
    let (code, text) = run_clean(&["-i", &inv, "verify", "--output", "json"], &secrets);
    assert_eq!(code, Some(0), "verify after the repair:\n{text}");
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        secrets_are_masked_on_both_sides_of_every_diff_and_detail
    )]
}
