//! server-config on a pair whose own option file, read after mhactl's drop-in, keeps
//! the runbook's values in force (issue 18): the plan comments out exactly the competing
//! lines (shown as a diff), restarts the passive node first, and is `Noop` once done.

use crate::bootstrap::rolling_tests::{change, pair, rendered};
use crate::bootstrap::steps_tests::{ctx, step_of};
use crate::engine::Plan;

const RUNBOOK: &str = "/etc/mysql/mariadb.conf.d/60-runbook.cnf";
const RUNBOOK_TEXT: &str = "[mysqld]\nserver_id=2\nlog-bin=mysql-bin\nbinlog_cache_size=1M\n\
                            binlog_format=mixed\nslave_skip_errors=1062\n\n[client]\nbinlog_format=mixed\n";

/// The server reads /etc/mysql/my.cnf, which includes the drop-in directory holding
/// mhactl's file and `runbook` (the runbook's file as it is now).
fn with_runbook_file(
    runbook: &'static str,
) -> impl Fn(usize, &crate::transport::fake::FakeTransport, &crate::transport::fake::FakeSql) {
    move |_, t, sql| {
        t.on(
            "if [ -e /etc/mysql/my.cnf ]",
            0,
            "[mysqld]\n!includedir /etc/mysql/mariadb.conf.d/\n",
        );
        t.on(
            "ls -1 -- /etc/mysql/mariadb.conf.d/",
            0,
            "50-server.cnf\n60-mhactl.cnf\n60-runbook.cnf\n",
        );
        t.on(
            "if [ -e /etc/mysql/mariadb.conf.d/50-server.cnf ]",
            0,
            "[mysqld]\nbind-address=127.0.0.1\n",
        );
        t.on(&format!("if [ -e {RUNBOOK} ]"), 0, runbook);
        sql.on("SHOW SLAVE STATUS", vec![]);
    }
}

#[test]
fn the_competing_lines_are_commented_out_in_a_rolling_restart_and_then_noop() {
    let ctx = ctx();
    // node-b is passive (node-a holds the VIP); mhactl's file and the running values are
    // already right: only the runbook's file competes.
    let c = pair(
        [rendered(&ctx, 0), rendered(&ctx, 1)],
        &[0],
        with_runbook_file(RUNBOOK_TEXT),
    );
    let plan = change(step_of(ctx.clone(), "server-config").plan(&c, 1).unwrap());
    assert!(
        plan.summary.starts_with(&format!(
            "comment out server_id=2, log_bin=mysql-bin, binlog_format=mixed, \
             slave_skip_errors=1062 in {RUNBOOK}, which would override mhactl's drop-in (the \
             original is kept as {RUNBOOK}.mhactl-"
        )),
        "{}",
        plan.summary
    );
    assert!(
        plan.summary.contains(&format!(
            "restart (passive first: node-a holds the VIP) for {RUNBOOK} overrides \
             /etc/mysql/mariadb.conf.d/60-mhactl.cnf"
        )),
        "{}",
        plan.summary
    );
    // The dry run's diff: the user's file, only the competing [mysqld] lines.
    let diff = plan.diff.clone().expect("a diff");
    assert!(diff.contains(&format!("--- a{RUNBOOK}")), "{diff}");
    assert!(diff.contains("-binlog_format=mixed\n"), "{diff}");
    assert!(
        diff.contains("+# mhactl: binlog_format=mixed  -- commented out "),
        "{diff}"
    );
    // Other settings and other groups stay.
    assert!(!diff.contains("-binlog_cache_size"), "{diff}");
    assert_eq!(diff.matches("-binlog_format=mixed").count(), 1, "{diff}");
    let steps: Vec<String> = plan.actions.iter().map(|a| a.describe()).collect();
    assert!(steps[0].contains("readlink -f --"), "{steps:#?}");
    assert!(steps[1].contains("and restart mariadb"), "{steps:#?}");
    assert!(
        steps[2].starts_with("wait until this node replicates both ways"),
        "{steps:#?}"
    );

    // Once commented out (as the action writes it), nothing competes: Noop.
    let mut edited = String::new();
    for line in RUNBOOK_TEXT.split_inclusive('\n') {
        let hit = [
            "server_id=2",
            "log-bin=",
            "binlog_format=mixed",
            "slave_skip",
        ]
        .iter()
        .any(|k| line.starts_with(k))
            && !edited.contains("[client]");
        if hit {
            edited.push_str(&format!("# mhactl: {}  -- commented out\n", line.trim()));
        } else {
            edited.push_str(line);
        }
    }
    let edited: &'static str = Box::leak(edited.into_boxed_str());
    let c = pair(
        [rendered(&ctx, 0), rendered(&ctx, 1)],
        &[0],
        with_runbook_file(edited),
    );
    let plan = step_of(ctx, "server-config").plan(&c, 1).unwrap();
    assert!(matches!(plan, Plan::Noop(_)), "{plan:?}");
}
