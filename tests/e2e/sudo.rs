//! End-to-end on the lab: mhactl as a non-root ssh user with sudo (`lab up --ssh-user`),
//! as at sites that forbid root logins: bootstrap, verify, status and a switchover on
//! MariaDB (root by `unix_socket`: the server must see root, not the ssh user, or it
//! refuses with ERROR 1698) and MySQL; sudo with a password given by reference; and
//! the user's own ssh config (`ssh.config_file`, a `Host` alias with `User`,
//! `IdentityFile`, `Port`) deciding what the inventory leaves out.

use crate::support::{mhactl, mhactl_json, mhactl_ok, text, Lab, Needs, Scenario, Subnet};

/// Bootstrap, verify, status and a switchover as `user`, whose commands become root
/// through `how` (`sudo`, `sudo -S`); the files mhactl wrote are root's.
fn pair_as_sudo_user(lab: &Lab, user: &str, how: &str) {
    let inv = lab.inventory();
    let (out, report) = mhactl_json(&["bootstrap", &inv, "--output", "json"]);
    assert!(out.status.success(), "bootstrap failed:\n{}", text(&out));
    for (i, node) in ["node-a", "node-b"].iter().enumerate() {
        let connect = report["steps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["step"] == "connect" && s["node"] == *node)
            .unwrap_or_else(|| panic!("no connect step for {node}: {report:#}"));
        // All of it: nothing in it may look like a secret to the output masking.
        let want = format!(
            "{user}@{} via {how} (host keys: strict)",
            lab.addr(11 + i as u8)
        );
        assert_eq!(connect["detail"], want.as_str(), "{node}: {connect:#}");
    }
    // The SQL path logs in as the server's root, as the runbook has it.
    let admin = report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["step"] == "admin-access")
        .unwrap()["detail"]
        .to_string();
    assert!(admin.contains("root"), "{admin}");

    let again = mhactl_ok(&["bootstrap", &inv, "--no-progress"]);
    assert!(again.contains("bootstrap: 0 changed"), "{again}");
    let verify = mhactl_ok(&["verify", "-i", &inv]);
    assert!(verify.contains("verify: healthy"), "{verify}");
    let (out, status) = mhactl_json(&["-i", &inv, "status", "--output", "json"]);
    assert!(
        out.status.success() && status["ok"] == true,
        "{status:#}\n{}",
        text(&out)
    );

    let (out, r) = mhactl_json(&["-i", &inv, "switchover", "--output", "json"]);
    assert!(out.status.success(), "switchover failed:\n{}", text(&out));
    assert_eq!(r["ok"], true, "{r:#}");
    let (_, status) = mhactl_json(&["-i", &inv, "status", "--output", "json"]);
    assert_eq!(status["ok"], true, "{status:#}");
    assert_eq!(lab.vip_holder().0, "node-b", "after the switchover");

    // Files mhactl wrote stay root's, whoever ssh logs in as.
    for node in ["node-a", "node-b"] {
        let owners = lab.ssh_ok(
            node,
            "stat -c '%U:%G %n' /etc/keepalived/keepalived.conf /etc/keepalived/mhactl-check-mysql.sh \
             /usr/local/libexec/mhactl/fence-agent /run/mhactl /run/mhactl.lock \
             $(ls /etc/mysql/mariadb.conf.d/60-mhactl.cnf /etc/mysql/mysql.conf.d/zz-mhactl.cnf 2>/dev/null)",
        );
        for line in owners.lines() {
            assert!(line.starts_with("root:root "), "{node}: {line}\n{owners}");
        }
        assert!(owners.contains("-mhactl.cnf"), "{owners}");
    }
}

/// The same pair reached through the user's ssh config: a `Host` alias per node with
/// `HostName`, `User`, `Port` and `IdentityFile`, named by `nodes[i].ssh.host`, and an
/// inventory that sets no user, port or key (`ssh.config_file` names the file).
fn through_an_ssh_config_alias(lab: &Lab, user: &str) {
    let dir = lab.dir_str();
    let mut config = String::new();
    for (i, alias) in ["db-a", "db-b"].iter().enumerate() {
        config.push_str(&format!(
            "Host {alias}\n  HostName {}\n  User {user}\n  Port 22\n  IdentityFile {dir}/id_ed25519\n  \
             IdentitiesOnly yes\n  UserKnownHostsFile {dir}/known_hosts\n",
            lab.addr(11 + i as u8)
        ));
    }
    std::fs::write(lab.dir.join("ssh_config"), config).unwrap();
    let original = std::fs::read_to_string(lab.inventory()).unwrap();
    let mut inventory = String::new();
    for line in original.lines() {
        let trimmed = line.trim_start();
        if ["user:", "identity_file:", "known_hosts:"]
            .iter()
            .any(|f| trimmed.starts_with(f))
        {
            continue;
        }
        inventory.push_str(line);
        inventory.push('\n');
        if line == "ssh:" {
            inventory.push_str("  config_file: ssh_config\n");
        }
        // A node's address (a list item's field), not the VIP's.
        if let Some(addr) = line.strip_prefix("    address: ") {
            let alias = if addr.ends_with(".11") {
                "db-a"
            } else {
                "db-b"
            };
            inventory.push_str(&format!("    ssh:\n      host: {alias}\n"));
        }
    }
    let inv = lab.dir.join("alias.yaml");
    std::fs::write(&inv, &inventory).unwrap();
    let inv = inv.display().to_string();
    assert!(
        !inventory.contains("user:") && !inventory.contains("identity_file:"),
        "{inventory}"
    );

    let (out, report) = mhactl_json(&["bootstrap", &inv, "--output", "json"]);
    assert!(
        out.status.success(),
        "bootstrap through the alias:\n{}",
        text(&out)
    );
    assert_eq!(report["changed"], 0, "{report:#}");
    let details = report["steps"].to_string();
    assert!(
        details.contains(&format!("{user}@db-a via sudo"))
            && details.contains(&format!("{user}@db-b via sudo")),
        "{details}"
    );
    let verify = mhactl_ok(&["verify", "-i", &inv]);
    assert!(verify.contains("verify: healthy"), "{verify}");

    // Without the config file the alias means nothing: ssh's own words, naming the node.
    let broken = inventory.replace("  config_file: ssh_config\n", "");
    let inv2 = lab.dir.join("noconfig.yaml");
    std::fs::write(&inv2, broken).unwrap();
    let out = mhactl(&["verify", "-i", inv2.to_str().unwrap()]);
    assert!(!out.status.success());
    let said = text(&out);
    assert!(
        said.contains("node-a: cannot connect over SSH to db-a"),
        "{said}"
    );
}

fn sudo_mariadb(mut subnets: Vec<Subnet>) {
    let lab = Lab::up_with(subnets.remove(0), "mariadb", &["--ssh-user", "deploy"]);
    pair_as_sudo_user(&lab, "deploy", "sudo");
    through_an_ssh_config_alias(&lab, "deploy");
}

fn sudo_mysql(mut subnets: Vec<Subnet>) {
    let lab = Lab::up_with(subnets.remove(0), "mysql", &["--ssh-user", "deploy"]);
    pair_as_sudo_user(&lab, "deploy", "sudo");
}

/// sudo asks for a password: given by reference (a file), it reaches sudo on stdin and
/// appears in no output; a wrong one is refused at connect, naming the node and the
/// field, before anything changes.
fn sudo_password_mariadb(mut subnets: Vec<Subnet>) {
    let lab = Lab::up_with(
        subnets.remove(0),
        "mariadb",
        &["--ssh-user", "ops", "--sudo-password"],
    );
    let password = lab.secret("become_password");
    assert!(password.len() >= 16, "the lab generated a password");

    // Wrong password first: nothing may have run as root.
    let wrong = lab.dir.join("wrong.yaml");
    let inventory = std::fs::read_to_string(lab.inventory()).unwrap();
    assert!(
        inventory.contains("become_password_file: \"secrets.yaml#become_password\""),
        "{inventory}"
    );
    std::fs::write(
        &wrong,
        inventory.replace(
            "become_password_file: \"secrets.yaml#become_password\"",
            "become_password_env: MHACTL_E2E_WRONG_SUDO",
        ),
    )
    .unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(["bootstrap", wrong.to_str().unwrap(), "--no-progress"])
        .env("NO_COLOR", "1")
        .env("MHACTL_E2E_WRONG_SUDO", "not-the-password")
        .output()
        .unwrap();
    let said = text(&out);
    assert!(!out.status.success(), "{said}");
    assert!(
        said.contains("node-a: sudo refused the sudo password for ops"),
        "{said}"
    );
    assert!(!said.contains("not-the-password"), "{said}");
    let installed = lab.ssh("node-a", "command -v mariadbd || command -v mysqld");
    assert!(!installed.status.success(), "nothing may be installed");

    pair_as_sudo_user(&lab, "ops", "sudo -S");
    let inv = lab.inventory();
    for args in [
        vec!["bootstrap", inv.as_str(), "-v"],
        vec!["verify", "-i", inv.as_str(), "-v"],
    ] {
        let out = mhactl(&args);
        assert!(out.status.success(), "{}", text(&out));
        assert!(
            !text(&out).contains(&password),
            "{args:?} shows the sudo password"
        );
    }
    // Never on a node's command line or in a file mhactl wrote (the wrapper's `printf`
    // is a shell builtin; the password goes to sudo's stdin).
    let found = lab.ssh_stdin(
        "node-a",
        "IFS= read -r pw; grep -rlF -- \"$pw\" /etc /run /var/log /tmp /usr/local 2>/dev/null | grep -v '^/etc/shadow' || true",
        &format!("{password}\n"),
    );
    let found = String::from_utf8_lossy(&found.stdout).into_owned();
    assert!(found.trim().is_empty(), "the sudo password is in {found}");
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario::new(
            module_path!(),
            "sudo_mariadb",
            Needs::Subnets(1, sudo_mariadb),
        ),
        Scenario::new(module_path!(), "sudo_mysql", Needs::Subnets(1, sudo_mysql)),
        Scenario::new(
            module_path!(),
            "sudo_password_mariadb",
            Needs::Subnets(1, sudo_password_mariadb),
        ),
    ]
}
