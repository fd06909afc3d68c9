//! Rolling changes (issue 16 item 3) on fake nodes: which path each changed option takes,
//! and the order of restarts (passive first, the VIP holder never in place). The fakes
//! have no rule for a server restart where none may happen, so one fails the test.

use super::rolling::{option_changes, OptionChange};
use super::steps::Ctx;
use crate::bootstrap::steps_tests::{cluster, ctx, ctx_with, step_of};
use crate::dialect::{Dialect, OptionPath};
use crate::engine::{Cluster, Plan};
use crate::inventory::Flavor;
use crate::os::{OsFamily, OsTarget};
use crate::transport::fake::{FakeSql, FakeTransport};

const MY_CNF: &str = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
const VERSION: &str = "10.11.18-MariaDB-0+deb12u1";

pub(super) fn rendered(ctx: &Ctx, i: usize) -> String {
    let d = Dialect::from_version_string(VERSION).unwrap();
    let t = OsTarget::new(OsFamily::Debian, Flavor::Mariadb).unwrap();
    crate::render::render_my_cnf(&ctx.inv, i, &d, &t).unwrap()
}

/// A running pair whose option files are `files`, each server running with its
/// server_id and offset, the VIP on the nodes `vip_on`; `extra` adds recordings.
pub(super) fn pair(
    files: [String; 2],
    vip_on: &'static [usize],
    extra: impl Fn(usize, &FakeTransport, &FakeSql),
) -> Cluster {
    cluster(move |i, t, sql| {
        t.on(&format!("if [ -e {MY_CNF} ]"), 0, &files[i]);
        t.on("[ -f /etc/mysql/debian.cnf ] || exit 100", 100, "");
        // keepalived.conf as mhactl writes it: it tracks the release file (a test of a
        // pair built by hand overrides it in `extra`).
        t.on(
            "if [ -e /etc/keepalived/keepalived.conf ]",
            0,
            &format!(
                "track_file {} {{\n",
                crate::os::switchover::VIP_RELEASE_TRACK_NAME
            ),
        );
        let own = format!(
            "2: eth0    inet 10.0.0.1{}/24 brd 10.0.0.255 scope global eth0\n",
            i + 1
        );
        let vip = "2: eth0    inet 10.0.0.100/32 scope global eth0\n";
        let addresses = if vip_on.contains(&i) {
            format!("{own}{vip}")
        } else {
            own
        };
        t.on("ip -4 -o addr show dev eth0", 0, &addresses);
        let id: &'static str = ["1", "2"][i];
        sql.on("@@GLOBAL.server_id", vec![vec![("value", Some(id))]]);
        sql.on("@@GLOBAL.log_bin", vec![vec![("value", Some("1"))]]);
        sql.on(
            "@@GLOBAL.auto_increment_offset",
            vec![vec![("value", Some(id))]],
        );
        // Skipped replication errors as packaged: none (the skip-errors guard's read).
        sql.on("_skip_errors AS value", vec![vec![("value", Some("OFF"))]]);

        sql.on(
            "@@GLOBAL.character_set_server",
            vec![vec![("value", Some("utf8mb4"))]],
        );
        extra(i, t, sql);
    })
}

pub(super) fn change(plan: Plan) -> crate::engine::Change {
    match plan {
        Plan::Change(c) => c,
        Plan::Noop(why) => panic!("expected a change, got noop: {why}"),
    }
}

/// The `SET GLOBAL` statements a captured fake server received, in order.
fn set_globals(captured: &std::sync::Mutex<Option<FakeSql>>) -> Vec<String> {
    let statements = captured.lock().unwrap().as_ref().unwrap().statements();
    statements
        .into_iter()
        .filter(|s| s.starts_with("SET GLOBAL"))
        .collect()
}

fn d() -> Dialect {
    Dialect::from_version_string(VERSION).unwrap()
}

#[test]
fn option_changes_name_each_changed_line_and_its_path() {
    let old = rendered(&ctx(), 0);
    let new = rendered(
        &ctx_with(
            "mysql:\n  binlog_expire_days: 3\n  skip_errors: [1062]\n  replicate_databases: [app]\n",
            "",
        ),
        0,
    );
    let changes = option_changes(&d(), Some(&old), &new);
    let described: Vec<String> = changes.iter().map(OptionChange::describe).collect();
    assert!(
        described.contains(
            &"binlog_expire_logs_seconds 604800 → 259200: SET GLOBAL (no restart)".to_string()
        ),
        "{described:#?}"
    );
    assert!(
        described.contains(&"slave_skip_errors (unset) → 1062: restart".to_string()),
        "{described:#?}"
    );
    // A list option (replication filters): a restart.
    let filters = changes
        .iter()
        .find(|c| c.key == "replicate_do_db")
        .expect("replicate_do_db");
    assert_eq!(filters.path, OptionPath::Restart);
    // Comments and blank lines are no options; the same file is no change.
    let commented = old.replace(
        "# Binary and relay logs.",
        "# Binary and relay logs (edited).",
    );
    assert_ne!(commented, old);
    assert!(option_changes(&d(), Some(&old), &commented).is_empty());
    // A removed line of a dynamic option: its default comes back only with a restart.
    let without = old
        .lines()
        .filter(|l| !l.starts_with("sync_binlog"))
        .collect::<Vec<_>>()
        .join("\n");
    let removed = option_changes(&d(), Some(&old), &without);
    assert_eq!(removed.len(), 1, "{removed:#?}");
    assert_eq!(removed[0].to, None);
    assert_eq!(removed[0].path, OptionPath::Restart);
}

/// Durability and binlog expiry on the VIP holder: `SET GLOBAL`, the running values
/// checked, then the file; no restart (the fake has no rule for one).
#[test]
fn dynamic_options_are_set_global_and_written_without_a_restart_even_on_the_vip_holder() {
    let new = ctx_with(
        "mysql:\n  binlog_expire_days: 3\n  durability: relaxed\n",
        "",
    );
    let old = ctx();
    let captured = std::sync::Arc::new(std::sync::Mutex::new(None::<FakeSql>));
    let keep = captured.clone();
    let c = pair(
        [rendered(&old, 0), rendered(&old, 1)],
        &[0],
        move |i, t, sql| {
            if i == 0 {
                *keep.lock().unwrap() = Some(sql.clone());
            }
            t.on(&crate::transport::write_file_script(MY_CNF, 0o644), 0, "");
            sql.on("SET GLOBAL", vec![]);
            sql.on(
                "SHOW GLOBAL VARIABLES",
                vec![
                    vec![("Variable_name", Some("sync_binlog")), ("Value", Some("0"))],
                    vec![
                        ("Variable_name", Some("innodb_flush_log_at_trx_commit")),
                        ("Value", Some("2")),
                    ],
                    vec![
                        ("Variable_name", Some("binlog_expire_logs_seconds")),
                        ("Value", Some("259200")),
                    ],
                ],
            );
        },
    );
    let ch = change(step_of(new, "server-config").plan(&c, 0).unwrap());
    assert!(
        ch.summary.starts_with(&format!(
            "write {MY_CNF} without restarting mariadb: binlog_expire_logs_seconds 604800 → 259200: SET GLOBAL (no restart); sync_binlog 1 → 0: SET GLOBAL (no restart); innodb_flush_log_at_trx_commit 1 → 2: SET GLOBAL (no restart)"
        )),
        "{}",
        ch.summary
    );
    assert_eq!(ch.actions.len(), 1, "{:?}", ch.actions);
    crate::engine::execute(&c, &c.nodes[0], &ch.actions[0]).unwrap();
    assert_eq!(
        set_globals(&captured),
        [
            "SET GLOBAL binlog_expire_logs_seconds = 259200",
            "SET GLOBAL sync_binlog = 0",
            "SET GLOBAL innodb_flush_log_at_trx_commit = 2"
        ]
    );
}

/// The server does not take a value (it reports the old one): the previous values are
/// set back and the file is not written (the fake has no rule for writing it).
#[test]
fn a_value_the_server_does_not_take_is_set_back_and_the_file_left_alone() {
    let new = ctx_with("mysql:\n  binlog_expire_days: 3\n", "");
    let old = ctx();
    let sql_log = std::sync::Arc::new(std::sync::Mutex::new(None::<FakeSql>));
    let keep = sql_log.clone();
    let c = pair(
        [rendered(&old, 0), rendered(&old, 1)],
        &[1],
        move |i, _, sql| {
            sql.on("SET GLOBAL", vec![]);
            sql.on(
                "SHOW GLOBAL VARIABLES",
                vec![vec![
                    ("Variable_name", Some("binlog_expire_logs_seconds")),
                    ("Value", Some("604800")),
                ]],
            );
            if i == 0 {
                *keep.lock().unwrap() = Some(sql.clone());
            }
        },
    );
    let ch = change(step_of(new, "server-config").plan(&c, 0).unwrap());
    let err = crate::engine::execute(&c, &c.nodes[0], &ch.actions[0]).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "node-a: server-config: after SET GLOBAL binlog_expire_logs_seconds = 259200 the server \
         reports 604800; the option file was not changed; the previous running values were set back"
    );
    assert_eq!(
        set_globals(&sql_log),
        [
            "SET GLOBAL binlog_expire_logs_seconds = 259200",
            "SET GLOBAL binlog_expire_logs_seconds = 604800"
        ]
    );
}

/// A change no running server reads (a comment) is written, nothing else.
#[test]
fn a_comment_change_is_written_without_set_global_or_restart() {
    let old = ctx();
    let edited = [0, 1].map(|i| rendered(&old, i).replace("# Binary and relay logs.", "# old"));
    let c = pair(edited, &[0], |_, t, _| {
        t.on(&crate::transport::write_file_script(MY_CNF, 0o644), 0, "");
    });
    let ch = change(step_of(old, "server-config").plan(&c, 0).unwrap());
    assert_eq!(
        ch.summary,
        format!("write {MY_CNF} without restarting mariadb: only comments change")
    );
    assert_eq!(
        ch.actions[0].describe(),
        format!("write {MY_CNF} (mode 644) (no restart)")
    );
    crate::engine::execute(&c, &c.nodes[0], &ch.actions[0]).unwrap();
}

/// A restart-needing change with the VIP on node-a: node-b restarts first and then
/// waits for replication both ways; node-a waits for node-b, then needs the VIP moved
/// hands it over with a planned switchover before its own restart.
#[test]
fn a_restart_goes_to_the_passive_node_first_and_never_to_the_vip_holder_in_place() {
    let new = ctx_with("mysql:\n  skip_errors: [1062]\n", "");
    let old = ctx();
    // node-b already has the new settings (its own restart is done), node-a not yet.
    let c = pair([rendered(&old, 0), rendered(&new, 1)], &[0], |_, _, sql| {
        sql.on("SHOW SLAVE STATUS", vec![]);
        sql.on("SHOW REPLICA STATUS", vec![]);
    });
    let holder = change(step_of(new.clone(), "server-config").plan(&c, 0).unwrap());
    assert!(
        holder.summary.ends_with(
            "restart after switchover (VIP holder) for slave_skip_errors (unset) → 1062"
        ),
        "{}",
        holder.summary
    );
    let steps: Vec<String> = holder.actions.iter().map(|a| a.describe()).collect();
    assert!(steps[0].contains("hand the VIP over"), "{steps:#?}");
    assert!(steps[1].contains("and restart mariadb"), "{steps:#?}");
    assert!(
        steps[2].starts_with("wait until this node replicates both ways"),
        "{steps:#?}"
    );
    // The hand-over is a planned switchover (src/switchover, its own tests); its run
    // against the lab, under writes, is tests/e2e/rolling.rs.

    // The same change seen from node-b before its restart: it goes first.
    let c = pair([rendered(&old, 0), rendered(&old, 1)], &[0], |_, _, _| {});
    let passive = change(step_of(new, "server-config").plan(&c, 1).unwrap());
    assert!(
        passive.summary.ends_with(
            "restart (passive first: node-a holds the VIP) for slave_skip_errors (unset) → 1062"
        ),
        "{}",
        passive.summary
    );
    let steps: Vec<String> = passive.actions.iter().map(|a| a.describe()).collect();
    assert_eq!(steps.len(), 2, "{steps:#?}");
    assert!(steps[0].contains("and restart mariadb"), "{steps:#?}");
    assert!(
        steps[1].starts_with("wait until this node replicates both ways"),
        "{steps:#?}"
    );
}

/// A pair built by hand (the runbook's keepalived.conf, which tracks no file of
/// mhactl's): the VIP holder still restarts only after the VIP moved, and the plan says
/// that its keepalived is stopped for the move (the e2e scenario
/// replication::bootstrap_takes_over_a_runbook_pair_under_writes_without_losing_a_row
/// runs it under writes). Before, the switchover was refused and bootstrap failed.
#[test]
fn the_holder_of_a_hand_built_pair_hands_over_by_stopping_its_keepalived() {
    let new = ctx_with("mysql:\n  skip_errors: [1062]\n", "");
    let old = ctx();
    let runbook_conf = "vrrp_instance VI_1 {\n    state BACKUP\n    nopreempt\n}\n";
    let c = pair([rendered(&old, 0), rendered(&new, 1)], &[0], |_, t, sql| {
        t.on("if [ -e /etc/keepalived/keepalived.conf ]", 0, runbook_conf);
        sql.on("SHOW SLAVE STATUS", vec![]);
        sql.on("SHOW REPLICA STATUS", vec![]);
    });
    let holder = change(step_of(new, "server-config").plan(&c, 0).unwrap());
    assert!(
        holder.summary.contains(
            "restart after switchover by stopping its keepalived (VIP holder; its \
             keepalived.conf is not mhactl's, so it tracks no release file) for \
             slave_skip_errors (unset) → 1062"
        ),
        "{}",
        holder.summary
    );
    let steps: Vec<String> = holder.actions.iter().map(|a| a.describe()).collect();
    assert!(steps[0].contains("hand the VIP over"), "{steps:#?}");
    assert!(steps[1].contains("and restart mariadb"), "{steps:#?}");
}

/// Nobody holds the VIP (keepalived not set up, or stopped): restarts in place, one
/// server after the other, as a first bootstrap does; the plan says so.
#[test]
fn without_a_vip_holder_the_servers_restart_in_place() {
    let new = ctx_with("mysql:\n  skip_errors: [1062]\n", "");
    let old = ctx();
    let c = pair([rendered(&old, 0), rendered(&old, 1)], &[], |_, _, _| {});
    let ch = change(step_of(new, "server-config").plan(&c, 0).unwrap());
    assert!(
        ch.summary
            .contains("restart (no node holds the VIP: one server after the other)"),
        "{}",
        ch.summary
    );
    assert_eq!(ch.actions.len(), 1, "{:?}", ch.actions);
}

/// Both nodes hold the VIP (a split brain): neither restarts; the holder says why.
#[test]
fn with_the_vip_on_both_nodes_neither_restarts() {
    let new = ctx_with("mysql:\n  skip_errors: [1062]\n", "");
    let old = ctx();
    let c = pair(
        [rendered(&old, 0), rendered(&old, 1)],
        &[0, 1],
        |_, _, _| {},
    );
    let ch = change(step_of(new, "server-config").plan(&c, 0).unwrap());
    assert!(
        ch.summary.contains("restart after switchover (VIP holder)"),
        "{}",
        ch.summary
    );
    let err = crate::engine::execute(&c, &c.nodes[0], &ch.actions[0]).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        "node-a: server-config: both nodes hold the VIP; restart neither (fix keepalived, see \
         `mhactl status`)"
    );
}

/// A hand edit of a restart-only line on the VIP holder, while its server still runs
/// with the wanted value: the file is put back, nothing restarts (the server already has
/// it); with another running value it would need the restart (and the hand-over).
#[test]
fn a_line_the_running_server_already_has_is_only_written() {
    let inv = ctx();
    let edited =
        rendered(&inv, 1).replace("auto_increment_offset = 2", "auto_increment_offset = 1");
    for (running, restarts) in [("2", false), ("1", true)] {
        let c = pair(
            [rendered(&inv, 0), edited.clone()],
            &[1],
            move |_, _, sql| {
                sql.on(
                    "SHOW GLOBAL VARIABLES",
                    vec![vec![
                        ("Variable_name", Some("auto_increment_offset")),
                        ("Value", Some(running)),
                    ]],
                );
            },
        );
        let ch = change(step_of(inv.clone(), "server-config").plan(&c, 1).unwrap());
        if restarts {
            assert!(
                ch.summary.ends_with(
                    "restart after switchover (VIP holder) for auto_increment_offset 1 → 2"
                ),
                "{}",
                ch.summary
            );
        } else {
            assert_eq!(
                ch.summary,
                format!(
                    "write {MY_CNF} without restarting mariadb: auto_increment_offset 1 → 2: \
                     file only (no restart)"
                )
            );
        }
    }
}

/// A password line's value never appears in a change's description, on either side.
#[test]
fn a_password_line_is_described_without_its_value() {
    let change = OptionChange {
        group: "client".into(),
        key: "password".into(),
        from: Some("Cnf-hand-secret-99".into()),
        to: None,
        path: OptionPath::FileOnly("no server reads [client]"),
    };
    let text = change.describe();
    assert!(!text.contains("Cnf-hand-secret-99"), "{text}");
    assert!(
        text.starts_with("[client] password (secret) → (unset): "),
        "{text}"
    );
}

/// The peer plans while its VIP holder polls it: a plan of the peer read just after the
/// peer marked its restart pending and wrote its file looks done (`Noop`). The holder
/// must still wait for the restart (before the fix it handed the VIP over while the
/// peer restarted, and the switchover found replication down).
#[test]
fn a_peer_plan_that_looks_done_while_its_restart_is_pending_is_not_done() {
    use super::restart_order::{passive_restart_planned, peer_change, PeerChange};
    let ctx = ctx();
    let got = peer_change(&ctx, 1, || {
        // The peer's own plan runs meanwhile: it marks its restart, writes its file.
        passive_restart_planned(&ctx, 1);
        Ok(true)
    })
    .unwrap();
    assert_eq!(got, PeerChange::Pending);
    // A peer that restarts in no run of ours is done once its plan is.
    let other = crate::bootstrap::steps_tests::ctx();
    assert_eq!(
        peer_change(&other, 1, || Ok(true)).unwrap(),
        PeerChange::Finished
    );
    assert_eq!(
        peer_change(&other, 1, || Ok(false)).unwrap(),
        PeerChange::Pending
    );
}

/// A run stopped between writing mhactl's file and restarting leaves node-a's server with
/// the packaged server_id 1 and offset 1, as wanted, but no binary log: the re-run must
/// restart it (before, it planned `Noop` and the replication step found no binary log).
#[test]
fn a_file_written_but_not_applied_restarts_the_server() {
    let inv = ctx();
    for (log_bin, converged) in [("0", false), ("OFF", false), ("1", true)] {
        let c = pair(
            [rendered(&inv, 0), rendered(&inv, 1)],
            &[],
            move |_, _, sql| {
                sql.on("@@GLOBAL.log_bin", vec![vec![("value", Some(log_bin))]]);
            },
        );
        let plan = step_of(inv.clone(), "server-config").plan(&c, 0).unwrap();
        match (plan, converged) {
            (Plan::Noop(_), true) => {}
            (Plan::Change(ch), false) => assert!(
                ch.summary.contains("binary logging") && ch.summary.contains("restart"),
                "{}",
                ch.summary
            ),
            (plan, _) => panic!("log_bin {log_bin}: {plan:?}"),
        }
    }
}
