//! End-to-end on the lab: `mhactl adopt` on a pair built by hand.
//!
//! - The runbook's pair (scripts/baseline-runbook.sh, then the runbook pieces the script
//!   leaves out, added to the files only: keepalived's IPVS `virtual_server` block with
//!   its `pkill keepalived` notify script, and `root@'%'`): adopt writes an inventory and
//!   a report naming the runbook's risks, the inventory is accepted by verify and by
//!   bootstrap `--dry-run`, no secret is printed or written, and nothing on the nodes
//!   changed (configuration files, binary log positions, accounts, processes).
//! - Tables that differ between the nodes are reported by name, and bootstrap on the
//!   adopted inventory refuses to drop `slave_skip_errors` while they differ; the refusals (a third
//!   replication source, replication stopped, one-way replication) name the node and the
//!   reason, exit 2 or 1, and write nothing.
//! - bootstrap on the adopted inventory of the runbook pair under a writer through the
//!   VIP: no acknowledged row lost (the replication module's takeover checks). Its
//!   adopt runs with `--output json`: adopted, no secret in the file or the output;
//!   MySQL: root's password from the minimal inventory (the file keeps its reference),
//!   and the `gtid-pre-replication` risk of the runbook's accounts.
//!
//! Adaptation of the runbook (besides the script's own, listed in it): the IPVS block and
//! the notify script are written to keepalived.conf after keepalived started, without a
//! reload, because the lab's namespaces have no ip_vs; adopt reads the files, which is
//! what a restart of keepalived would load.

use crate::support::{mhactl, mhactl_ok, Lab, Scenario};
use accounts::{account_grants, accounts_as_reported, accounts_kept, wait_same_accounts};
use std::path::PathBuf;

mod accounts;

/// The runbook's keepalived pieces the baseline script leaves out (seed guide 2.2.1).
fn runbook_ipvs_block(lab: &Lab, node: &str, address: &str) {
    let vip = lab.addr(100);
    let block = format!(
        "virtual_server {vip} 3306 {{\n     delay_loop 2\n     lb_algo wrr\n     lb_kind DR\n     \
         persistence_timeout 60\n     protocol TCP\n     real_server {address} 3306 {{\n         \
         weight 3\n         notify_down /opt/keepalived/keepalived_shutdown.sh\n         \
         TCP_CHECK {{\n             connect_timeout 10\n             nb_get_retry 3\n             \
         delay_before_retry 3\n             connect_port 3306\n         }}\n     }}\n}}\n"
    );
    let out = lab.ssh_stdin(
        node,
        "cat >> /etc/keepalived/keepalived.conf && mkdir -p /opt/keepalived && \
         printf '#!/bin/bash\\npkill keepalived\\n' > /opt/keepalived/keepalived_shutdown.sh && \
         chmod +x /opt/keepalived/keepalived_shutdown.sh",
        &block,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The runbook pair with its data and its `root@'%'`.
fn runbook_pair_with_risks(lab: &Lab) {
    crate::replication::runbook_pair(lab);
    runbook_ipvs_block(lab, "node-a", &lab.addr(11));
    runbook_ipvs_block(lab, "node-b", &lab.addr(12));
    // Runbook 1.2.5 ("grant all privileges on *.* to root@'%'"), with the runbook's own
    // weak password; it replicates to node-b like everything else.
    let out = lab.ssh_stdin(
        "node-a",
        "mysql",
        "GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' IDENTIFIED BY '123456';\n\
         CREATE DATABASE shop; CREATE TABLE shop.orders (id INT AUTO_INCREMENT PRIMARY KEY, \
         item VARCHAR(20)); INSERT INTO shop.orders (item) VALUES ('a'), ('b'), ('c');\n\
         CREATE TABLE shop.stock (sku INT PRIMARY KEY, n INT); INSERT INTO shop.stock VALUES (1, 5);\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    wait_same(lab, "SELECT COUNT(*) FROM shop.stock");
}

/// Wait (up to 30 s) until node-b returns what node-a returns for `query`.
fn wait_same(lab: &Lab, query: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let a = lab.ssh("node-a", &format!("mysql -N -B -e \"{query}\""));
        let b = lab.ssh("node-b", &format!("mysql -N -B -e \"{query}\""));
        if a.status.success() && a.stdout == b.stdout {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "node-b did not catch up on {query}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The minimal inventory: the lab's SSH access, the nodes, the VIP, and (`extra`)
/// credentials.
fn minimal(lab: &Lab, extra: &str) -> String {
    let text = format!(
        "ssh:\n  identity_file: id_ed25519\n  known_hosts: known_hosts\nnodes:\n  - name: node-a\n    \
         address: {}\n  - name: node-b\n    address: {}\nvip:\n  address: {}\n{extra}",
        lab.addr(11),
        lab.addr(12),
        lab.addr(100)
    );
    let path = PathBuf::from(lab.dir_str()).join("minimal.yaml");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// What adopt must not change on a node: configuration files, scripts, mhactl's run
/// directory, binary log and replica positions, accounts, and the server and keepalived
/// processes.
fn node_state(lab: &Lab, node: &str) -> String {
    let files = lab.ssh_ok(
        node,
        "find /etc/mysql /etc/keepalived /opt/keepalived /run/mhactl /usr/local/libexec \
         -type f 2>/dev/null | sort | xargs -r md5sum; ls -la /run/mhactl 2>&1; \
         pgrep -x keepalived | sort; pgrep -x 'mariadbd|mysqld' | sort",
    );
    let sql = lab.sql(
        node,
        "SHOW MASTER STATUS; SELECT @@gtid_binlog_pos; \
         SELECT User, Host FROM mysql.user ORDER BY 1, 2; \
         SELECT @@read_only, @@slave_skip_errors, @@binlog_format",
    );
    let replica = lab.ssh_ok(node, "mysql -e 'SHOW SLAVE STATUS\\G' | grep -E 'Exec_Master_Log_Pos|Relay_Master_Log_File|Running:'");
    format!("{files}\n{sql}\n{replica}")
}

fn text(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn adopt_describes_a_runbook_pair_and_changes_nothing(lab: Lab) {
    runbook_pair_with_risks(&lab);
    let min = minimal(
        &lab,
        "credentials:\n  replication_password_file: secrets.yaml#replication_password\n",
    );
    let out_file = format!("{}/adopted.yaml", lab.dir_str());
    let before = [node_state(&lab, "node-a"), node_state(&lab, "node-b")];

    let out = mhactl(&["adopt", &min, "--out", &out_file]);
    let report = text(&out);
    assert!(out.status.success(), "adopt failed:\n{report}");
    for id in [
        "skip-errors",
        "root-remote",
        "ipvs-virtual-server",
        "notify-pkill",
        "auth-pass",
        "backup-nopreempt",
        "no-health-check",
        "binlog-format",
        "writable",
        "expire-logs-days",
        "overrides-mhactl",
    ] {
        assert!(
            report.contains(&format!(" {id}: ")),
            "no {id} risk:\n{report}"
        );
    }
    assert!(report.contains("nb_get_retry"), "{report}");
    assert!(
        report.contains("2 compared, identical on both nodes"),
        "{report}"
    );
    assert!(
        report.contains("slave_skip_errors = 1062 (from /etc/mysql/mariadb.conf.d/60-runbook.cnf)"),
        "{report}"
    );

    // JSON: the same findings for scripts.
    let out = mhactl(&[
        "adopt", &min, "--out", &out_file, "--force", "--output", "json",
    ]);
    assert!(out.status.success(), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["adopted"], true);
    assert_eq!(v["vip_holders"], serde_json::json!(["node-a"]));
    let ids: Vec<&str> = v["risks"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["id"].as_str())
        .collect();
    assert!(
        ids.contains(&"notify-pkill") && ids.contains(&"root-remote"),
        "{ids:?}"
    );
    assert_eq!(v["nodes"][1]["replica"]["user"], "hadoop");

    // No secret anywhere: neither printed nor written.
    let written = std::fs::read_to_string(&out_file).unwrap();
    for secret in lab.secret_values().iter().chain([&"123456".to_string()]) {
        assert!(
            !report.contains(secret.as_str()),
            "a secret was printed:\n{report}"
        );
        assert!(
            !text(&out).contains(secret.as_str()),
            "a secret was printed in JSON"
        );
        assert!(
            !written.contains(secret.as_str()),
            "a secret was written:\n{written}"
        );
    }
    assert!(
        written.contains("virtual_router_id: ") && written.contains("skip_errors: []"),
        "{written}"
    );

    // Read-only: every node as it was.
    let after = [node_state(&lab, "node-a"), node_state(&lab, "node-b")];
    assert_eq!(before[0], after[0], "adopt changed node-a");
    assert_eq!(before[1], after[1], "adopt changed node-b");

    // The written inventory is one mhactl takes: verify reads the pair with it (and
    // finds it unhealthy, exit 1, not a bad inventory, 2); bootstrap plans on it.
    let out = mhactl(&["verify", "-i", &out_file, "--no-progress"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let out = mhactl(&["bootstrap", "-i", &out_file, "--dry-run", "--no-progress"]);
    assert!(
        out.status.success(),
        "bootstrap --dry-run on the adopted inventory:\n{}",
        text(&out)
    );
    let after_dry = [node_state(&lab, "node-a"), node_state(&lab, "node-b")];
    assert_eq!(before, after_dry, "a dry run changed a node");
}

fn adopt_reports_differing_tables_and_refuses_what_it_cannot_adopt(lab: Lab) {
    runbook_pair_with_risks(&lab);
    let min = minimal(&lab, "");
    let out_file = format!("{}/adopted.yaml", lab.dir_str());
    // A row only node-b has (written with the binary log off, as a skipped 1062 leaves it).
    lab.sql(
        "node-b",
        "SET sql_log_bin = 0; INSERT INTO shop.stock VALUES (2, 7)",
    );
    let out = mhactl(&["adopt", &min, "--out", &out_file]);
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(report.contains("tables-differ"), "{report}");
    assert!(report.contains("shop.stock differs"), "{report}");
    assert!(!report.contains("shop.orders differs"), "{report}");
    // bootstrap on the adopted inventory refuses to drop slave_skip_errors while the
    // table differs, and says how to repair it; the setting stays.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_mhactl"))
        .args(["bootstrap", "-i", &out_file, "--no-progress"])
        .env("NO_COLOR", "1")
        .env("MHACTL_REPLICATION_PASSWORD", "e2e-adopt-repl-pw")
        .output()
        .unwrap();
    let t = text(&out);
    assert_eq!(out.status.code(), Some(1), "{t}");
    for want in [
        "server-config",
        "refusing to remove slave_skip_errors=1062",
        "shop.stock",
        "pt-table-sync",
        "mhactl reinit node-b",
    ] {
        assert!(t.contains(want), "no `{want}` in:\n{t}");
    }
    for node in ["node-a", "node-b"] {
        assert_eq!(lab.sql(node, "SELECT @@slave_skip_errors").trim(), "1062");
    }
    std::fs::remove_file(&out_file).unwrap();

    let refused = |want_code: i32, wants: &[&str]| {
        let out = mhactl(&["adopt", &min, "--out", &out_file]);
        let t = text(&out);
        assert_eq!(out.status.code(), Some(want_code), "{t}");
        for w in wants {
            assert!(t.contains(w), "no `{w}` in:\n{t}");
        }
        assert!(
            !std::path::Path::new(&out_file).exists(),
            "a refused adopt wrote {out_file}"
        );
    };
    // A third node: a second replication source on node-a (never started).
    lab.sql(
        "node-a",
        &format!(
            "CHANGE MASTER 'third' TO MASTER_HOST='{}', MASTER_USER='x'",
            lab.addr(13)
        ),
    );
    refused(
        2,
        &["node-a", "2 replication sources", "more than two nodes"],
    );
    lab.sql("node-a", "RESET SLAVE 'third' ALL");
    // Replication stopped on node-b.
    lab.sql("node-b", "STOP SLAVE");
    refused(
        1,
        &[
            "node-b",
            "is broken",
            "the IO thread is stopped",
            "A person must repair it",
        ],
    );
    lab.sql("node-b", "START SLAVE");
    // One-way: node-a no longer replicates.
    lab.sql("node-a", "STOP SLAVE; RESET SLAVE ALL");
    refused(
        2,
        &[
            "node-a",
            "does not replicate from node-b",
            "not a master/master pair",
        ],
    );
}

/// Issue 18 item 2, the part bootstrap does today: the runbook pair adopted, then
/// bootstrap on the adopted inventory under a writer through the VIP (the same checks as
/// replication::bootstrap_takes_over_a_runbook_pair_under_writes_without_losing_a_row).
fn bootstrap_on_an_adopted_runbook_pair_under_writes_loses_nothing(lab: Lab) {
    converges_the_adopted_runbook_pair(&lab, "");
}

/// The same on MySQL 9.7 (the runbook adapted as scripts/baseline-runbook.sh's header
/// and docs/adopt.md say). Before the fixes it found: bootstrap refused the runbook's
/// `validate_password.policy` line (`mysqld --validate-config` loads no component), the
/// hand-over waited for a GTID set the peer never receives (gtid_mode is ON by default
/// in 9.x, replication by file), and verify's `gtid` check then failed on both nodes.
fn bootstrap_on_an_adopted_runbook_pair_under_writes_loses_nothing_mysql(lab: Lab) {
    converges_the_adopted_runbook_pair(&lab, "  root_password_file: secrets.yaml#root_password\n");
}

/// adopt, then bootstrap on the adopted inventory under a writer through the VIP; verify
/// healthy, a re-run changes nothing, the runbook's option file has exactly its competing
/// lines commented out (owner, mode kept; the backup beside it). `root` is the minimal
/// inventory's root password line (MySQL).
fn converges_the_adopted_runbook_pair(lab: &Lab, root: &str) {
    crate::replication::runbook_pair(lab);
    crate::replication::app_schema(lab);
    // Runbook 1.2.5's `root@'%'` (in either flavor's syntax), replicated to node-b.
    let out = lab.ssh_stdin(
        "node-a",
        crate::runbook_sql::root_client(lab),
        "CREATE USER 'root'@'%' IDENTIFIED BY '123456'; \
         GRANT ALL PRIVILEGES ON *.* TO 'root'@'%' WITH GRANT OPTION;",
    );
    assert!(out.status.success(), "{}", text(&out));
    wait_same_accounts(lab);
    let accounts_before = ["node-a", "node-b"].map(|n| account_grants(lab, n));
    let min = minimal(
        lab,
        &format!(
            "credentials:\n  replication_password_file: secrets.yaml#replication_password\n{root}"
        ),
    );
    let out_file = format!("{}/adopted.yaml", lab.dir_str());
    let out = mhactl(&["adopt", &min, "--out", &out_file, "--output", "json"]);
    assert!(out.status.success(), "{}", text(&out));
    adopted_as_reported(lab, &out, &out_file);
    accounts_as_reported(&out, &out_file);
    let (cnf, competing) = runbook_cnf(lab);
    let stat = format!("stat -c '%U:%G %a' {cnf}");
    let files = ["node-a", "node-b"].map(|n| lab.ssh_ok(n, &stat));
    let gap = crate::replication::takes_over_under_writes(lab, &out_file);
    accounts_kept(lab, &accounts_before);
    // verify is healthy and a re-run changes nothing (before, the runbook's file kept
    // binlog_format=mixed and slave_skip_errors=1062 in force: verify's server-options
    // failed naming it).
    let verify = mhactl(&["verify", "-i", &out_file, "--no-progress"]);
    assert!(verify.status.success(), "verify:\n{}", text(&verify));
    let again = mhactl_ok(&["bootstrap", "-i", &out_file, "--no-progress"]);
    assert!(again.contains("bootstrap: 0 changed"), "re-run:\n{again}");
    // Issue 18: the runbook's own option file no longer keeps its values in force:
    // bootstrap commented out exactly the competing lines, with a backup beside the
    // file, owner and mode unchanged.
    for (node, before) in ["node-a", "node-b"].iter().zip(&files) {
        let text = lab.ssh_ok(node, &format!("cat {cnf}"));
        for line in competing {
            assert!(
                text.contains(&format!("# mhactl: {line}  -- commented out ")),
                "{node}: {line} not commented out:\n{text}"
            );
        }
        assert!(text.contains("\nbinlog_cache_size=1M\n"), "{node}: {text}");
        assert_eq!(lab.ssh_ok(node, &stat), *before, "{node}: owner/mode");
        let backups = lab.ssh_ok(node, &format!("ls {cnf}.mhactl-*"));
        let backup = backups
            .lines()
            .next()
            .unwrap_or_default()
            .trim()
            .to_string();
        assert!(
            lab.ssh_ok(node, &format!("cat {backup}"))
                .contains("\nslave_skip_errors=1062\n"),
            "{node}: backup {backups}"
        );
    }
    eprintln!(
        "adopted pair ({}) converged; longest write gap {:.2} s",
        lab.flavor(),
        gap.as_secs_f64()
    );
}

/// adopt's JSON report and the file it wrote, on the runbook pair: adopted, the flavor
/// and (MySQL) root's password by reference, no secret anywhere; on MySQL (gtid_mode ON,
/// replication by file) node-b lacks the transactions node-a ran before node-b's replica
/// started (the runbook's accounts): the `gtid-pre-replication` risk names them. (node-a
/// has received nothing of node-b's yet, so where its replica started is not proven:
/// not judged.)
fn adopted_as_reported(lab: &Lab, out: &std::process::Output, out_file: &str) {
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["adopted"], true, "{v:#}");
    let written = std::fs::read_to_string(out_file).unwrap();
    assert!(
        written.contains(&format!("flavor: {}", lab.flavor())),
        "{written}"
    );
    for secret in lab.secret_values() {
        assert!(
            !written.contains(&secret) && !text(out).contains(&secret),
            "a secret leaked"
        );
    }
    let gtid: Vec<&serde_json::Value> = v["risks"]
        .as_array()
        .expect("risks")
        .iter()
        .filter(|r| r["id"] == "gtid-pre-replication")
        .collect();
    if lab.flavor() != "mysql" {
        assert!(gtid.is_empty(), "{gtid:?}");
        return;
    }
    assert!(written.contains("root_password_file:"), "{written}");
    let on_b: Vec<_> = gtid.iter().filter(|r| r["node"] == "node-b").collect();
    assert_eq!(on_b.len(), 1, "{v:#}");
    let found = on_b[0]["found"].as_str().unwrap_or_default();
    assert!(
        found.contains("node-a's transactions")
            && found.contains("before node-b's replica started"),
        "{found}"
    );
    assert!(
        on_b[0]["change"]
            .as_str()
            .is_some_and(|c| c.contains("gtid_purged")),
        "{:#}",
        on_b[0]
    );
    let uuid = lab
        .root_sql("node-a", "SELECT @@server_uuid")
        .trim()
        .to_string();
    assert!(found.contains(&format!("{uuid}:1-")), "{found} ({uuid})");
}

/// The runbook's option file (scripts/baseline-runbook.sh) and the lines bootstrap
/// comments out in it. MariaDB: `60-runbook.cnf`, read after mhactl's drop-in, so every
/// option mhactl sets too; MySQL: `/etc/my.cnf`, read before mhactl's
/// `mysql.conf.d/zz-mhactl.cnf` (which wins), so only `slave_skip_errors`, which
/// mhactl's file does not set (it would skip errors wherever it is read).
fn runbook_cnf(lab: &Lab) -> (&'static str, &'static [&'static str]) {
    match lab.flavor() {
        "mysql" => ("/etc/my.cnf", &["slave_skip_errors=1062"]),
        _ => (
            "/etc/mysql/mariadb.conf.d/60-runbook.cnf",
            &[
                "binlog_format=mixed",
                "slave_skip_errors=1062",
                "expire_logs_days=7",
            ],
        ),
    }
}

/// This module's scenarios.
pub fn scenarios() -> Vec<Scenario> {
    vec![
        scenario!(adopt_describes_a_runbook_pair_and_changes_nothing),
        scenario!(adopt_reports_differing_tables_and_refuses_what_it_cannot_adopt),
        scenario!(bootstrap_on_an_adopted_runbook_pair_under_writes_loses_nothing),
        scenario!(bootstrap_on_an_adopted_runbook_pair_under_writes_loses_nothing_mysql)
            .flavor("mysql"),
    ]
}
