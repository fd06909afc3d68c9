//! Golden transcripts of a whole bootstrap on hosts that cannot run here: EL7 + MySQL
//! 5.7, EL8 + MySQL 8.0, EL9 + MySQL 8.4 LTS (also with runbook 1.4's paths under /data,
//! labelled for SELinux), EL9 + MariaDB 10.11 from AppStream.
//!
//! Each scenario replays recorded facts of such a host (its `/etc/os-release`, `rpm -q`,
//! the MySQL repository's `.repo` file, `SELECT VERSION()`, the temporary password line
//! `mysqld --initialize` leaves in `/var/log/mysqld.log`, error 1045 before root has its
//! password, `SHOW SLAVE STATUS` or `SHOW REPLICA STATUS` ...) through [`FakeTransport`]
//! and [`FakeSql`], runs every bootstrap step on both nodes (plan, then apply each
//! action), and writes down everything the steps asked of the nodes, in order: each
//! shell command (with what it sends on stdin: the files it writes), each SQL statement,
//! each separate login. The result, redacted the way the engine redacts every report,
//! is compared with `tests/golden/transcripts/*.txt`; `UPDATE_GOLDEN=1` rewrites them
//! (review the diff). Between planning and applying a step, the scenario records what
//! the host looks like once the step's actions ran (the service is active, replication
//! runs ...), as the node would answer the actions' own checks; files written are kept
//! by the fake. After applying, each step is planned again, as the engine does, and
//! must now be `Noop`: the transcripts prove that every step converges on these hosts.

//!
//! [`scenarios`] declares the recorded host types, [`recordings`] what their nodes
//! answer, [`driver`] runs the bootstrap and writes the transcript; the tests below check
//! each transcript against its golden file and what it must (and must not) contain.

mod bare_host;
mod driver;
mod recordings;
mod rerun_budget;
mod scenarios;

use crate::transport::fake::JournalEntry;
use driver::{golden, scripts_of, sql_of, transcript};
use recordings::{ADDRESSES, ROOT_PASSWORD};
use scenarios::{scenario, scenarios};
#[test]
fn el7_mysql57_transcript() {
    let s = scenario("el7-mysql57");
    let (text, entries) = transcript(&s);
    golden(s.name, &text);
    let sql = sql_of(&entries[0]);
    let scripts = scripts_of(&entries[0]);
    assert!(scripts.contains(
        &"yum -y install https://repo.mysql.com/mysql57-community-release-el7-11.noarch.rpm"
    ));
    assert!(!scripts.iter().any(|c| c.contains("module disable")));
    assert!(
        !scripts.iter().any(|c| c.contains("--validate-config")),
        "5.7 has no --validate-config"
    );
    assert!(sql
        .iter()
        .any(|q| q.starts_with("CHANGE MASTER TO MASTER_HOST='10.0.0.12'")));
    assert!(!sql.iter().any(|q| q.contains("PUBLIC_KEY")));
    assert!(sql.contains(&"START SLAVE") && sql.contains(&"SHOW SLAVE STATUS"));
    assert!(
        text.contains("expire_logs_days = 7"),
        "5.7 keeps expire_logs_days"
    );
    assert!(text.contains("log_slave_updates"));
}

#[test]
fn el8_mysql80_transcript() {
    let s = scenario("el8-mysql80");
    let (text, entries) = transcript(&s);
    golden(s.name, &text);
    let sql = sql_of(&entries[0]);
    let scripts = scripts_of(&entries[0]);
    assert!(scripts.contains(&"dnf -y module disable mysql mariadb"));
    assert!(scripts.contains(&"dnf config-manager --set-disabled mysql-8.4-lts-community"));
    assert!(scripts.contains(&"dnf config-manager --set-enabled mysql80-community"));
    assert!(scripts.iter().any(|c| c.contains("--validate-config")));
    assert!(sql.iter().any(|q| q
        .starts_with("CHANGE REPLICATION SOURCE TO SOURCE_HOST='10.0.0.12'")
        && q.ends_with("GET_SOURCE_PUBLIC_KEY=1, SOURCE_AUTO_POSITION=1")));
    assert!(
        sql.contains(&"SHOW MASTER STATUS") || sql_of(&entries[1]).contains(&"SHOW MASTER STATUS")
    );
    assert!(text.contains("binlog_expire_logs_seconds = 604800"));
}

#[test]
fn el9_mysql84_transcript() {
    let s = scenario("el9-mysql84");
    let (text, entries) = transcript(&s);
    golden(s.name, &text);
    let sql: Vec<&str> = sql_of(&entries[0])
        .into_iter()
        .chain(sql_of(&entries[1]))
        .collect();
    let scripts = scripts_of(&entries[0]);
    assert!(scripts.contains(
        &"dnf -y install https://repo.mysql.com/mysql84-community-release-el9-1.noarch.rpm"
    ));
    // Rocky 9.4's AppStream has a mariadb module (the 10.11 stream), no mysql module.
    assert!(scripts.contains(&"dnf -y module disable mariadb"));
    assert!(
        !scripts.iter().any(|c| c.contains("config-manager --set")),
        "8.4 LTS is the RPM's default"
    );
    assert!(sql.contains(&"SHOW BINARY LOG STATUS"));
    assert!(!sql.iter().any(|q| q.contains("MASTER")), "{sql:?}");
    assert!(
        !text.contains("expire_logs_days"),
        "8.4 removed expire_logs_days"
    );
    assert!(text.contains("log_replica_updates"));
}

/// The RPM way of the first start (every MySQL scenario): the temporary password is read from the
/// log, root logs in with it in expired mode and gets the inventory's password; the
/// password policy is left alone.
#[test]
fn first_start_sets_root_password_from_the_temporary_one_without_weakening_the_policy() {
    for s in scenarios().into_iter().filter(|s| !s.mariadb()) {
        let (text, entries) = transcript(&s);
        for node in &entries {
            let logins: Vec<&JournalEntry> = node
                .iter()
                .filter(|e| matches!(e, JournalEntry::Login { expired: true, .. }))
                .collect();
            // With a custom datadir, data-directory sets root's password there too.
            let expected = if s.custom_paths() { 2 } else { 1 };
            assert_eq!(logins.len(), expected, "{}", s.name);
            let sql = sql_of(node);
            let alter = sql
                .iter()
                .position(|q| q.starts_with("ALTER USER USER() IDENTIFIED BY "))
                .expect("ALTER USER USER()");
            assert!(sql[alter].ends_with(&format!("'{ROOT_PASSWORD}'")));
            assert!(
                !sql.iter().any(|q| q.contains("validate_password")),
                "{}",
                s.name
            );
        }
        assert!(text.contains(
            "grep -F 'A temporary password is generated for root@localhost: ' /var/log/mysqld.log"
        ));
        assert!(!text.contains("validate_password"), "{}", s.name);
    }
}

/// The MySQL RPMs' /etc/my.cnf reads no drop-in directory: bootstrap adds the include
/// before it writes zz-mhactl.cnf, on every EL + MySQL scenario.
#[test]
fn rpm_my_cnf_is_made_to_read_the_drop_in_directory() {
    let include = crate::os::append_include_command("/etc/my.cnf", "!includedir /etc/my.cnf.d");
    for s in scenarios().into_iter().filter(|s| !s.mariadb()) {
        let (_, entries) = transcript(&s);
        for node in &entries {
            let scripts = scripts_of(node);
            let added = scripts
                .iter()
                .position(|c| *c == include)
                .expect("include added");
            let written = scripts
                .iter()
                .position(|c| c.contains("mv -f \"$tmp\" /etc/my.cnf.d/zz-mhactl.cnf"))
                .expect("drop-in written");
            assert!(added < written, "{}", s.name);
        }
    }
}

/// Runbook 1.4 on an enforcing EL9: the datadir, socket, pid file and error log under
/// /data get their SELinux types before anything is installed, their directories go to
/// mysql, /data/mysql is initialised with its own root password set on a private mysqld,
/// and the server moves there with the paths in [mysqld] and [client].
#[test]
fn el9_mysql84_custom_paths_transcript() {
    let s = scenario("el9-mysql84-custom-paths");
    let (text, entries) = transcript(&s);
    golden(s.name, &text);
    for node in &entries {
        let scripts = scripts_of(node);
        let at = |want: &str| {
            scripts
                .iter()
                .position(|c| *c == want)
                .unwrap_or_else(|| panic!("not run: {want}"))
        };
        let install = scripts
            .iter()
            .position(|c| c.starts_with("dnf -y install mysql-community-server"))
            .expect("install");
        // SELinux first (Red Hat's procedure: `semanage fcontext -a -t TYPE 'DIR(/.*)?'`,
        // then `restorecon -R`), the data directory created, before the packages arrive.
        for (dir, ty) in [
            ("/data/mysql", "mysqld_db_t"),
            ("/data/run", "mysqld_var_run_t"),
            ("/data/log", "mysqld_log_t"),
        ] {
            let rule = at(&format!(
                "semanage fcontext -a -t {ty} '{dir}(/.*)?' 2>/dev/null || semanage fcontext -m -t {ty} '{dir}(/.*)?'"
            ));
            assert!(rule < install, "{dir}");
        }
        let relabel = at("mkdir -p /data/mysql && restorecon -R /data/mysql");
        assert!(relabel < install);
        // server-paths: the socket/pid file and log directories are created for mysql
        // (create-only) and labelled before the first start.
        let start = at("systemctl start mysqld");
        for (dir, mode) in [("/data/run", "755"), ("/data/log", "750")] {
            let create = at(&crate::bootstrap::path_safety::create_dir_command(
                dir, mode,
            ));
            assert!(install < create && create < start, "{dir}");
        }
        // data-directory: initialised into the custom log, password read from there.
        let init = at(&format!(
            "set -e; install -d -o mysql -g mysql -m 750 /data/mysql; {}",
            crate::bootstrap::paths::initialise_command(
                crate::inventory::Flavor::Mysql,
                "/data/mysql",
                "/data/log/mysqld.log"
            )
        ));
        let grep = at("grep -F 'A temporary password is generated for root@localhost: ' /data/log/mysqld.log 2>/dev/null || true");
        let restart = at("systemctl restart mysqld");
        assert!(start < init && init < grep && grep < restart);
        assert!(node.iter().any(
            |e| matches!(e, JournalEntry::Login { target, expired: true, .. }
            if target == "unix:/data/mysql/mhactl-init.sock")
        ));
    }
    // zz-mhactl.cnf: the paths in [mysqld], the socket in [client] too.
    for line in [
        "  | datadir = /data/mysql\n",
        "  | pid-file = /data/run/mysqld.pid\n",
    ] {
        assert_eq!(text.matches(line).count(), 2, "{line}");
    }
    assert_eq!(
        text.matches("  | log-error = /data/log/mysqld.log\n")
            .count(),
        4,
        "[mysqld] and [mysqld_safe], both nodes"
    );
    assert_eq!(
        text.matches("  | socket = /data/run/mysql.sock\n").count(),
        4,
        "[mysqld] and [client], both nodes"
    );
}

/// RHEL 9's own MariaDB 10.11 (AppStream's mariadb:10.11 stream, RHEL 9.4+): the stream
/// enabled before `dnf install mariadb-server mariadb`, service `mariadb`, root by
/// unix_socket (no root password anywhere), mhactl's drop-in in /etc/my.cnf.d (which
/// the packaged /etc/my.cnf includes), MariaDB's replication statements.
#[test]
fn el9_mariadb1011_transcript() {
    let s = scenario("el9-mariadb1011");
    let (text, entries) = transcript(&s);
    golden(s.name, &text);
    for (i, node) in entries.iter().enumerate() {
        let scripts = scripts_of(node);
        let at = |want: &str| {
            scripts
                .iter()
                .position(|c| *c == want)
                .unwrap_or_else(|| panic!("not run: {want}"))
        };
        // The 10.11 stream before the install (plain mariadb-server would be 10.5); no
        // MySQL repository, no module disabled.
        assert!(
            at("dnf -y module enable mariadb:10.11")
                < at("dnf -y install mariadb-server mariadb keepalived")
        );
        assert!(!scripts
            .iter()
            .any(|c| c.contains("repo.mysql.com") || c.contains("module disable")));
        assert!(scripts.contains(&"systemctl start mariadb"));
        assert!(scripts.contains(&"systemctl restart mariadb"));
        // /etc/my.cnf already reads /etc/my.cnf.d: it is left alone; MariaDB has no
        // --validate-config.
        assert!(!scripts
            .iter()
            .any(|c| c.contains(">> /etc/my.cnf") || c.contains("--validate-config")));
        // Root by unix_socket: no login with a password, no temporary password, no
        // ALTER USER for root.
        assert!(!node
            .iter()
            .any(|e| matches!(e, JournalEntry::Login { user, .. } if user == "root")));
        let sql = sql_of(node);
        assert!(!sql.iter().any(|q| q.contains("ALTER USER")));
        assert!(!scripts.iter().any(|c| c.contains("temporary password")));
        // MariaDB's statements: SHOW BINLOG STATUS (on the peer), CHANGE MASTER TO,
        // START/SHOW REPLICA, BINLOG MONITOR.
        let peer = ADDRESSES[1 - i];
        assert!(sql
            .iter()
            .any(|q| q.starts_with(&format!("CHANGE MASTER TO MASTER_HOST='{peer}'"))));
        assert!(sql.contains(&"START REPLICA") && sql.contains(&"SHOW REPLICA STATUS"));
        assert!(sql
            .iter()
            .any(|q| q.starts_with("GRANT REPLICATION SLAVE, BINLOG MONITOR")));
        assert!(!sql
            .iter()
            .any(|q| q.contains("PUBLIC_KEY") || q.contains("SOURCE")));
    }
    assert!(text.contains("sql> SHOW BINLOG STATUS"));
    assert!(text.contains("/etc/my.cnf.d/zz-mhactl.cnf"));
    assert!(text.contains("  | log_slave_updates = ON\n"));
    assert!(text.contains("  | binlog_expire_logs_seconds = 604800\n"));
    assert!(!text.contains("root_password"));
}
