//! Fixture tests of the `server-config` step (fixtures in `bootstrap/steps_tests.rs`).

use crate::bootstrap::steps_tests::{as_installed, change_actions, cluster, ctx_with, step_of};
use crate::engine::Plan;

/// Who holds the VIP decides the order of a restart: here nobody does yet.
pub(super) const NO_VIP: (&str, i32, &str) = ("ip -4 -o addr show dev eth0", 0, "");

/// The error of server-config's restart action on a MySQL `version` node whose
/// `mysqld --validate-config` exits 1 with `stderr` (the running server knows none of the
/// variables that change, nor any component variable).
fn validate_config_rejection(version: &'static str, stderr: &'static str) -> String {
    let ctx = ctx_with("mysql:\n  flavor: mysql\n", "");
    let c = cluster(move |_, t, sql| {
        t.on(NO_VIP.0, NO_VIP.1, NO_VIP.2);
        sql.on("SELECT VERSION()", vec![vec![("version", Some(version))]]);
        as_installed(sql);
        sql.on("@@GLOBAL.server_id", vec![vec![("value", Some("7"))]]);
        // The running values of the lines that change (none is in force yet).
        sql.on("SHOW GLOBAL VARIABLES", vec![]);
        t.on("[ -f /etc/mysql/debian.cnf ] || exit 100", 100, ""); // MySQL has none
        let my_cnf = "/etc/mysql/mysql.conf.d/zz-mhactl.cnf";
        t.on(&crate::transport::write_file_script(my_cnf, 0o644), 0, "");
        t.on(
            "if [ -e /etc/mysql/mysql.conf.d/zz-mhactl.cnf ]",
            0,
            "[mysqld]\nserver_id = 7\n",
        );
        t.on_full("--validate-config", 1, "", stderr);
    });
    let plan = step_of(ctx, "server-config").plan(&c, 0).unwrap();
    let Plan::Change(change) = plan else {
        panic!("expected a change")
    };
    let action = change.actions.last().expect("an action");
    assert!(
        action.describe().contains("--validate-config"),
        "{}",
        action.describe()
    );
    let err = crate::engine::execute(&c, &c.nodes[0], action).unwrap_err();
    format!("{err:#}")
}

/// `mysqld --validate-config` rejects the new file: the previous one goes back, the
/// server is not restarted, and the error names node, step, file and the server's words.
#[test]
fn validate_config_failure_restores_the_previous_file_without_a_restart() {
    let msg = validate_config_rejection(
        "8.4.3",
        "2024-11-04T10:25:10.113057Z 0 [ERROR] [MY-000067] [Server] unknown variable 'expire_logs_days=7'.\n\
         2024-11-04T10:25:10.113093Z 0 [ERROR] [MY-010119] [Server] Aborting\n",
    );
    assert!(
        msg.starts_with("node-a: server-config: mysqld --validate-config rejects the new /etc/mysql/mysql.conf.d/zz-mhactl.cnf (exit 1): [MY-000067] unknown variable 'expire_logs_days=7'.; the previous version was restored and mysql was not restarted"),
        "{msg}"
    );
}

/// `--validate-config` calls a component's variable in an option file unknown (it loads
/// no component); when the running server does not know it either (the component is not
/// installed), the rejection stands: the file goes back, nothing restarts.
#[test]
fn an_unknown_component_variable_the_server_lacks_is_still_rejected() {
    let msg = validate_config_rejection(
        "9.7.4",
        "2026-11-27T10:25:10Z 0 [ERROR] [MY-000067] [Server] unknown variable 'validate_password.policy=0'.\n\
         2026-11-27T10:25:10Z 0 [ERROR] [MY-010119] [Server] Aborting\n",
    );
    assert!(
        msg.contains("rejects the new /etc/mysql/mysql.conf.d/zz-mhactl.cnf (exit 1): [MY-000067] unknown variable 'validate_password.policy=0'.; the previous version was restored and mysql was not restarted"),
        "{msg}"
    );
}

/// The same rejection on the path without a restart (only a comment of mhactl's file
/// changed, e.g. edited by hand, while another drop-in has an option the server does
/// not know): the hand-edited file goes back, nothing is set or restarted, and the error
/// names node, step, file and the server's words (tests/e2e/mysql.rs on the lab).
#[test]
fn validate_config_failure_without_a_restart_restores_the_previous_file() {
    let ctx = ctx_with("mysql:\n  flavor: mysql\n", "");
    let d = crate::dialect::Dialect::from_version_string("8.4.3").unwrap();
    let target =
        crate::os::OsTarget::new(crate::os::OsFamily::Debian, crate::inventory::Flavor::Mysql)
            .unwrap();
    let wanted = crate::render::render_my_cnf(&ctx.inv, 0, &d, &target).unwrap();
    let edited = format!("{wanted}# edited by hand\n");
    let my_cnf = "/etc/mysql/mysql.conf.d/zz-mhactl.cnf";
    let c = cluster(move |_, t, sql| {
        t.on(NO_VIP.0, NO_VIP.1, NO_VIP.2);
        sql.on("SELECT VERSION()", vec![vec![("version", Some("8.4.3"))]]);
        as_installed(sql);
        // Running with mhactl's file (binary logging on), which only gains a comment.
        sql.on("@@GLOBAL.log_bin", vec![vec![("value", Some("1"))]]);
        t.on("[ -f /etc/mysql/debian.cnf ] || exit 100", 100, "");
        t.on(&crate::transport::write_file_script(my_cnf, 0o644), 0, "");
        t.on(&format!("if [ -e {my_cnf} ]"), 0, &edited);
        t.on_full(
            "--validate-config",
            1,
            "",
            "2026-11-26T10:25:10.113057Z 0 [ERROR] [MY-000067] [Server] unknown variable 'bogus_option=1'.\n\
             2026-11-26T10:25:10.113093Z 0 [ERROR] [MY-010119] [Server] Aborting\n",
        );
    });
    let Plan::Change(change) = step_of(ctx, "server-config").plan(&c, 0).unwrap() else {
        panic!("expected a change")
    };
    assert!(
        change
            .summary
            .ends_with("without restarting mysql: only comments change"),
        "{}",
        change.summary
    );
    assert_eq!(change.actions.len(), 1);
    let err = crate::engine::execute(&c, &c.nodes[0], &change.actions[0]).unwrap_err();
    assert_eq!(
        format!("{err:#}"),
        format!(
            "node-a: server-config: `mysqld --validate-config` rejects the new {my_cnf} (exit 1): \
             [MY-000067] unknown variable 'bogus_option=1'.; the previous version was restored and \
             the server was not restarted (the change needs no restart)"
        )
    );
}

#[test]
fn validate_config_messages_keep_the_servers_words() {
    use crate::bootstrap::steps::validate_config_errors;
    let stderr = "2026-11-25T06:37:08.359642Z 0 [ERROR] [MY-000058] [Server] Unknown suffix 'a' used for variable 'server_id' (value 'abc').\n\
                  2026-11-25T06:37:08.359646Z 0 [ERROR] [MY-000077] [Server] /usr/sbin/mysqld: Error while setting value 'abc' to 'server_id'.\n\
                  2026-11-25T06:37:08.359675Z 0 [ERROR] [MY-010119] [Server] Aborting\n";
    assert_eq!(
        validate_config_errors(stderr, ""),
        "[MY-000058] Unknown suffix 'a' used for variable 'server_id' (value 'abc').; \
         [MY-000077] /usr/sbin/mysqld: Error while setting value 'abc' to 'server_id'."
    );
    assert_eq!(
        validate_config_errors(
            "mysqld: Error on realpath() on '/var/lib/mysql-files'\n",
            ""
        ),
        "mysqld: Error on realpath() on '/var/lib/mysql-files'"
    );
    assert_eq!(validate_config_errors("", ""), "no message");
}

/// SysV (Debian's MariaDB) with a custom socket: debian.cnf, which the init script pings
/// the server through, changes while the server is stopped, between the old socket and
/// the new one; then the config is written and the server started.
#[test]
fn server_config_points_debian_cnf_at_a_custom_socket_with_the_server_stopped() {
    let ctx = ctx_with("mysql:\n  socket: /var/run/custom/mysql.sock\n", "");
    let c = cluster(|_, t, sql| {
        t.on(NO_VIP.0, NO_VIP.1, NO_VIP.2);
        t.on("debian.cnf", 0, "[client]\n[mysql_upgrade]\n");
        t.on("if [ -e /etc/mysql/mariadb.conf.d/60-mhactl.cnf ]", 3, ""); // not written yet
        as_installed(sql);
    });
    let actions = change_actions(step_of(ctx.clone(), "server-config").plan(&c, 0).unwrap());
    assert_eq!(actions.len(), 4, "{actions:?}");
    assert!(actions[0].contains("service mariadb stop"), "{actions:?}");
    assert!(
        actions[1].contains("cp -p /etc/mysql/debian.cnf /etc/mysql/debian.cnf.mhactl-old"),
        "{actions:?}"
    );
    assert!(
        actions[2].contains("awk -v s=/var/run/custom/mysql.sock")
            && actions[2].contains("/etc/mysql/debian.cnf"),
        "{actions:?}"
    );
    assert!(
        actions[3].starts_with("write /etc/mysql/mariadb.conf.d/60-mhactl.cnf"),
        "{actions:?}"
    );
    // debian.cnf already names the socket: no stop, no edit.
    let c = cluster(|_, t, sql| {
        t.on(NO_VIP.0, NO_VIP.1, NO_VIP.2);
        t.on(
            "debian.cnf",
            0,
            "[client]\nsocket   = /var/run/custom/mysql.sock\n[mysql_upgrade]\nsocket   = /var/run/custom/mysql.sock\n",
        );
        t.on("if [ -e /etc/mysql/mariadb.conf.d/60-mhactl.cnf ]", 3, ""); // not written yet
        as_installed(sql);
    });
    let actions = change_actions(step_of(ctx, "server-config").plan(&c, 0).unwrap());
    assert_eq!(actions.len(), 1, "{actions:?}");
}

/// A new my.cnf with a custom socket that does not start: the rollback puts the previous
/// debian.cnf back along with the previous my.cnf (Debian's SysV script would otherwise
/// look for the server on the socket of the configuration that failed); when it starts,
/// the saved copy is dropped.
#[test]
fn a_rolled_back_my_cnf_takes_debian_cnf_back_with_it() {
    use crate::bootstrap::paths::{DEBIAN_CNF_FORGET, DEBIAN_CNF_UNDO};
    let ctx = ctx_with("mysql:\n  socket: /var/run/custom/mysql.sock\n", "");
    for starts in [false, true] {
        let journal = crate::transport::fake::Journal::default();
        let c = cluster(|_, t, sql| {
            t.on(NO_VIP.0, NO_VIP.1, NO_VIP.2);
            t.journal(&journal);
            t.on("debian.cnf", 0, "[client]\n[mysql_upgrade]\n");
            t.on("if [ -e /etc/mysql/mariadb.conf.d/60-mhactl.cnf ]", 3, ""); // not written yet
            let my_cnf = "/etc/mysql/mariadb.conf.d/60-mhactl.cnf";
            t.on(&crate::transport::write_file_script(my_cnf, 0o644), 0, "");
            // The error log's size and the clock before the restart.
            t.on("stat -c %s /var/log/mysql/error.log", 0, "0\n1764165600\n");
            t.on("service mariadb restart", 0, "");
            t.on("tail -c +1", 0, ""); // the failed start wrote no new error-log lines
                                       // The rollback (the file was new) and debian.cnf's saved copy.
            t.on(&format!("rm -f {my_cnf}"), 0, "");
            t.on(DEBIAN_CNF_UNDO, 0, "");
            t.on(DEBIAN_CNF_FORGET, 0, "");
            sql.on("SELECT 1", vec![]); // the started server answers
            if !starts {
                t.on("service mariadb restart", 1, "");
            }
            as_installed(sql);
        });
        let Plan::Change(change) = step_of(ctx.clone(), "server-config").plan(&c, 0).unwrap()
        else {
            panic!("expected a change")
        };
        let write = change.actions.last().unwrap();
        let result = crate::engine::execute(&c, &c.nodes[0], write);
        assert_eq!(result.is_ok(), starts, "{result:?}");
        let scripts: Vec<String> = journal
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, e)| match e {
                crate::transport::fake::JournalEntry::Command { script, .. } => {
                    Some(script.clone())
                }
                _ => None,
            })
            .collect();
        assert_eq!(
            scripts.contains(&DEBIAN_CNF_UNDO.to_string()),
            !starts,
            "{scripts:?}"
        );
        assert_eq!(
            scripts.contains(&DEBIAN_CNF_FORGET.to_string()),
            starts,
            "{scripts:?}"
        );
    }
}
