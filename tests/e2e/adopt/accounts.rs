//! Issue 18 item 2 on the lab: the accounts the runbook pair had are kept by bootstrap on
//! the adopted inventory, with their grants, as adopt's report and written inventory say.

use super::text;
use crate::support::Lab;

/// Every account of `node` (user@host) with its grants (`SHOW GRANTS`, one a line).
pub(super) fn account_grants(lab: &Lab, node: &str) -> std::collections::BTreeMap<String, String> {
    let client = crate::runbook_sql::root_client(lab);
    let list = crate::runbook_sql::root_sql(
        lab,
        node,
        "SELECT CONCAT(QUOTE(User), '@', QUOTE(Host)) FROM mysql.user",
    );
    let mut grants = std::collections::BTreeMap::new();
    for account in list.lines().filter(|l| !l.is_empty()) {
        let shown = lab.ssh_stdin(
            node,
            &format!("{client} -N -B"),
            &format!("SHOW GRANTS FOR {account};"),
        );
        assert!(
            shown.status.success(),
            "{node}: SHOW GRANTS FOR {account}: {}",
            text(&shown)
        );
        grants.insert(
            account.to_string(),
            String::from_utf8_lossy(&shown.stdout).into_owned(),
        );
    }
    grants
}

/// Wait (up to 30 s) until node-b has node-a's accounts.
pub(super) fn wait_same_accounts(lab: &Lab) {
    let query = "SELECT COUNT(*) FROM mysql.user";
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while crate::runbook_sql::root_sql(lab, "node-a", query)
        != crate::runbook_sql::root_sql(lab, "node-b", query)
    {
        assert!(
            std::time::Instant::now() < deadline,
            "accounts did not replicate"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Issue 18 item 2, what adopt says about the accounts: `root@'%'` is a risk whose change
/// is that bootstrap does not drop it; the application account (`writer@'%'`) is named in
/// the written inventory as one bootstrap keeps; the runbook's replication account
/// (`hadoop`) is not taken over (mhactl's own is `repl`).
pub(super) fn accounts_as_reported(out: &std::process::Output, out_file: &str) {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    let root: Vec<&serde_json::Value> = v["risks"]
        .as_array()
        .expect("risks")
        .iter()
        .filter(|r| r["id"] == "root-remote")
        .collect();
    assert!(!root.is_empty(), "no root-remote risk: {v:#}");
    for r in root {
        assert!(
            r["change"]
                .as_str()
                .is_some_and(|c| c.contains("bootstrap does not drop accounts")),
            "{r:#}"
        );
    }
    let written = std::fs::read_to_string(out_file).unwrap();
    let kept = written
        .lines()
        .find(|l| l.starts_with("# Accounts found on "))
        .unwrap_or_else(|| panic!("no kept accounts listed:\n{written}"));
    assert!(kept.contains("writer@'%'"), "{kept}");
    assert!(
        written.contains("bootstrap keeps every account"),
        "{written}"
    );
    assert!(written.contains("replication_user: repl\n"), "{written}");
}

/// Issue 18 item 2, what bootstrap did: every account the pair had before (the runbook's
/// `hadoop`, its `root@'%'`, the application's `writer`, the packaged ones) is still there
/// with the same grants on both nodes, as adopt's report said; the accounts added are
/// mhactl's own (its replication account per peer address, its fence and check accounts).
pub(super) fn accounts_kept(lab: &Lab, before: &[std::collections::BTreeMap<String, String>; 2]) {
    for (node, before) in ["node-a", "node-b"].iter().zip(before) {
        let after = account_grants(lab, node);
        for (account, grants) in before {
            let now = after.get(account);
            assert_eq!(
                now,
                Some(grants),
                "{node}: {account} was changed or dropped by bootstrap"
            );
        }
        for account in ["'hadoop'@'%'", "'root'@'%'", "'writer'@'%'"] {
            assert!(
                before.contains_key(account),
                "{node}: no {account} before: {before:?}"
            );
        }
        let added: Vec<&String> = after.keys().filter(|a| !before.contains_key(*a)).collect();
        eprintln!("{node}: accounts added by bootstrap: {added:?}");
        for account in added {
            assert!(
                account.starts_with("'repl'@") || account.starts_with("'mhactl"),
                "{node}: bootstrap added {account}, not one of mhactl's own"
            );
        }
    }
}
