//! End-to-end on the lab (issue 14, class 8): inventory edge cases that only show on
//! real nodes, on one lab:
//!
//! - `replication_user: root` is refused before any node is touched (exit 2);
//! - a replication password file that is a FIFO is refused at once (exit 2), where
//!   bootstrap used to block forever;
//! - after a bootstrap, an account `'repl'@'%'` created by someone else on node-a makes
//!   the next bootstrap (whose new replication password would ALTER the account) refuse
//!   at `replication-user`, naming the field, the node and the account; node-a's
//!   accounts are exactly as they were.

use crate::support::{mhactl_within, Lab, Scenario};
use std::process::Command;
use std::time::Duration;

/// node-a's replication accounts with their password hashes and grants.
fn repl_accounts(lab: &Lab) -> String {
    lab.ssh_ok(
        "node-a",
        "mysql -N -B -e \"SELECT Host, authentication_string FROM mysql.user WHERE User = 'repl' \
         ORDER BY Host\"",
    )
}

fn replication_user_and_secret_file_edge_cases_on_real_nodes(lab: Lab) {
    let inv = lab.inventory();
    let original = std::fs::read_to_string(&inv).unwrap();
    let long = Duration::from_secs(600);
    let installed = || lab.ssh("node-a", "command -v mariadbd").status.success();
    let installed_before = installed();

    // A reserved account: refused in the file, exit 2, nothing touched.
    std::fs::write(
        &inv,
        original.replace(
            "  flavor: mariadb\n",
            "  flavor: mariadb\n  replication_user: root\n",
        ),
    )
    .unwrap();
    let (code, text, _) = mhactl_within(&["bootstrap", &inv, "--no-progress"], long);
    assert_eq!(code, Some(2), "{text}");
    assert!(
        text.contains("mysql.replication_user: \"root\" is reserved"),
        "{text}"
    );
    assert_eq!(installed(), installed_before, "bootstrap ran: {text}");

    // A FIFO as the replication password file: refused at once (it used to block).
    let fifo = lab.dir.join("pw.fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    std::fs::write(
        &inv,
        original.replace(
            "replication_password_file: \"secrets.yaml#replication_password\"",
            "replication_password_file: pw.fifo",
        ),
    )
    .unwrap();
    let (code, text, took) = mhactl_within(
        &["bootstrap", &inv, "--no-progress"],
        Duration::from_secs(30),
    );
    assert_eq!(code, Some(2), "after {took:?}: {text}");
    assert!(
        text.contains("credentials.replication_password_file") && text.contains("a FIFO"),
        "{text}"
    );

    // A bootstrapped pair, then someone else's 'repl'@'%' on node-a.
    std::fs::write(&inv, &original).unwrap();
    let (code, text, _) = mhactl_within(&["bootstrap", &inv, "--no-progress"], long);
    assert_eq!(code, Some(0), "{text}");
    lab.ssh_ok(
        "node-a",
        "mysql -e \"SET SESSION sql_log_bin = 0; CREATE USER 'repl'@'%' IDENTIFIED BY 'Someone-elses-1'\"",
    );
    let before = repl_accounts(&lab);
    assert!(before.contains("%\t"), "{before}");
    // A new replication password: without the guard bootstrap would ALTER the account.
    let secrets = lab.dir.join("secrets.yaml");
    let old = lab.secret("replication_password");
    let text_secrets = std::fs::read_to_string(&secrets).unwrap();
    std::fs::write(&secrets, text_secrets.replace(&old, "Changed-Repl-pw-14")).unwrap();
    let (code, text, _) = mhactl_within(&["bootstrap", &inv, "--no-progress"], long);
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("mysql.replication_user: node-a: 'repl'@'%' already exists on this server"),
        "{text}"
    );
    assert_eq!(
        repl_accounts(&lab),
        before,
        "node-a's accounts changed: {text}"
    );
    assert!(
        !text.contains("Changed-Repl-pw-14"),
        "secret printed: {text}"
    );
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![scenario!(
        replication_user_and_secret_file_edge_cases_on_real_nodes
    )]
}
