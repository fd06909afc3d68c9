//! Fixture tests of the `install-packages` step (fixtures in `bootstrap/steps_tests.rs`).

use crate::bootstrap::steps_tests::{change_actions, cluster, ctx_with, step, step_of};
use crate::engine::Plan;

#[test]
fn installs_only_missing_packages() {
    let c = cluster(|_, t, _| {
        t.on(
            "dpkg-query",
            0,
            "mariadb-server installed\nmariadb-client installed\n",
        );
    });
    let actions = change_actions(step("install-packages").plan(&c, 0).unwrap());
    assert_eq!(actions.len(), 2, "{actions:?}");
    assert!(
        actions[0].contains("apt-get -o DPkg::Lock::Timeout=300 update"),
        "{actions:?}"
    );
    assert!(
        actions[1].ends_with("--no-install-recommends keepalived"),
        "{actions:?}"
    );
}

#[test]
fn installed_packages_are_a_noop() {
    let c = cluster(|_, t, _| {
        t.on(
            "dpkg-query",
            0,
            "mariadb-server installed\nmariadb-client installed\nkeepalived installed\n",
        );
    });
    assert!(matches!(
        step("install-packages").plan(&c, 0).unwrap(),
        Plan::Noop(_)
    ));
}

#[test]
fn a_mirror_gets_its_list_file_and_is_the_only_source() {
    let ctx = ctx_with("packages:\n  repository: file:/srv/mhactl-repo\n", "");
    let c = cluster(|_, t, _| {
        t.on("dpkg-query", 0, "");
        t.on("if [ -e /etc/apt/sources.list.d/mhactl.list ]", 3, "");
    });
    match step_of(ctx.clone(), "install-packages")
        .plan(&c, 0)
        .unwrap()
    {
        Plan::Change(ch) => {
            assert!(
                ch.summary
                    .contains("write /etc/apt/sources.list.d/mhactl.list (file:/srv/mhactl-repo)")
                    && ch.summary.contains("from file:/srv/mhactl-repo only"),
                "{}",
                ch.summary
            );
            let actions: Vec<String> = ch.actions.iter().map(|a| a.describe()).collect();
            assert_eq!(
                actions[0],
                "write /etc/apt/sources.list.d/mhactl.list (mode 644)"
            );
            assert!(
                actions[1].contains("Dir::Etc::SourceParts=- -o APT::Get::List-Cleanup=0 update")
            );
            // The server package is missing: the packaged datadir is noted first if empty.
            assert!(actions[2].contains("/var/lib/mhactl/datadir-empty-before-install"));
            assert!(actions[3].contains("Dir::Etc::SourceList=/etc/apt/sources.list.d/mhactl.list"));
            assert!(
                actions[4].contains("rm -f /var/lib/mhactl/datadir-empty-before-install"),
                "{actions:?}"
            );
            assert!(ch
                .diff
                .unwrap()
                .contains("+deb [trusted=yes] file:/srv/mhactl-repo ./"));
        }
        Plan::Noop(why) => panic!("expected a change: {why}"),
    }
    // Installed, and the list file as wanted: nothing to do.
    let list = crate::os::mirror_repo_file(
        crate::os::PackageManager::Apt,
        "file:/srv/mhactl-repo",
        None,
    );
    let c = cluster(|_, t, _| {
        t.on(
            "dpkg-query",
            0,
            "mariadb-server installed\nmariadb-client installed\nkeepalived installed\n",
        );
        t.on("if [ -e /etc/apt/sources.list.d/mhactl.list ]", 0, &list);
    });
    assert!(matches!(
        step_of(ctx, "install-packages").plan(&c, 0).unwrap(),
        Plan::Noop(_)
    ));
}

const ROCKY_8: &str = include_str!("../../../tests/fixtures/os/rocky-8");

#[test]
fn el_mysql_with_the_repository_already_right_only_installs() {
    let ctx = ctx_with("mysql:\n  flavor: mysql\n  version: \"8.0\"\n", "");
    let repo = include_str!("../../../tests/fixtures/el/mysql84-community-release-el8-1.repo")
        .replace("enabled=1\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-mysql-2023\n\n[mysql-tools-8.4", "enabled=0\ngpgcheck=1\ngpgkey=file:///etc/pki/rpm-gpg/RPM-GPG-KEY-mysql-2023\n\n[mysql-tools-8.4")
        .replace("[mysql80-community]\nname=MySQL 8.0 Community Server\nbaseurl=http://repo.mysql.com/yum/mysql-8.0-community/el/8/$basearch/\nenabled=0", "[mysql80-community]\nname=MySQL 8.0 Community Server\nbaseurl=http://repo.mysql.com/yum/mysql-8.0-community/el/8/$basearch/\nenabled=1");
    let c = cluster(|_, t, _| {
        t.on("/etc/os-release", 0, ROCKY_8);
        t.on("rpm -q mysql-community-server", 0, "package mysql-community-server is not installed\nmysql-community-client-8.0.40-1.el8.x86_64\nkeepalived-2.1.5-9.el8.x86_64\n");
        t.on(
            crate::os::MYSQL_RELEASE_RPM_QUERY,
            0,
            "mysql84-community-release-el8-1.noarch\n",
        );
        t.on(crate::os::YUM_REPOS_QUERY, 0, &repo);
        t.on(
            "/etc/dnf/modules.d/",
            0,
            "mysql disabled\nmariadb disabled\n",
        );
    });
    let actions = change_actions(
        step_of(ctx.clone(), "install-packages")
            .plan(&c, 0)
            .unwrap(),
    );
    assert_eq!(
        actions,
        [
            "run: dnf -y -q makecache",
            "run: dnf -y install mysql-community-server"
        ]
    );
    // Everything installed: the repositories are not even looked at.
    let c = cluster(|_, t, _| {
        t.on("/etc/os-release", 0, ROCKY_8);
        t.on("rpm -q mysql-community-server", 0, "mysql-community-server-8.0.40-1.el8.x86_64\nmysql-community-client-8.0.40-1.el8.x86_64\nkeepalived-2.1.5-9.el8.x86_64\n");
        t.on(crate::os::MYSQL_RELEASE_RPM_QUERY, 99, "");
    });
    assert!(matches!(
        step_of(ctx, "install-packages").plan(&c, 0).unwrap(),
        Plan::Noop(_)
    ));
}

#[test]
fn mysql_57_on_el8_is_refused_with_the_field_named() {
    let ctx = ctx_with("mysql:\n  flavor: mysql\n  version: \"5.7\"\n", "");
    let c = cluster(|_, t, _| {
        t.on("/etc/os-release", 0, ROCKY_8);
        t.on(
            "rpm -q mysql",
            0,
            "package mysql-community-server is not installed\n",
        );
        t.on(crate::os::MYSQL_RELEASE_RPM_QUERY, 0, "");
    });
    let err = step_of(ctx, "install-packages").plan(&c, 0).unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("MySQL 5.7 has no EL8 packages") && msg.contains("packages.repository"),
        "{msg}"
    );
}

#[test]
fn mariadb_on_el7_without_a_mirror_is_refused_before_installing_5_5() {
    let c = cluster(|_, t, _| {
        t.on(
            "/etc/os-release",
            0,
            include_str!("../../../tests/fixtures/os/centos-7"),
        );
        t.on(
            "rpm -q mariadb",
            0,
            "package mariadb-server is not installed\n",
        );
        t.on("if [ -e /etc/yum.repos.d/mhactl.repo ]", 3, ""); // no mirror configured yet
    });
    let err = step_of(ctx_with("", ""), "install-packages")
        .plan(&c, 0)
        .unwrap_err();
    let msg = format!("{err:#}");
    assert!(
        msg.contains("only MariaDB 5.5") && msg.contains("packages.repository"),
        "{msg}"
    );
    // With a mirror, it installs from there.
    let ctx = ctx_with(
        "packages:\n  repository: http://mirror.example/mariadb-10.11/el7\n",
        "",
    );
    assert!(step_of(ctx, "install-packages").plan(&c, 0).is_ok());
}

#[test]
fn an_installed_mysql_repository_without_the_wanted_series_is_an_error() {
    let ctx = ctx_with("mysql:\n  flavor: mysql\n  version: \"9.1\"\n", "");
    let c = cluster(|_, t, _| {
        t.on("/etc/os-release", 0, ROCKY_8);
        t.on(
            "rpm -q mysql",
            0,
            "package mysql-community-server is not installed\n",
        );
        t.on(
            crate::os::MYSQL_RELEASE_RPM_QUERY,
            0,
            "mysql80-community-release-el8-3.noarch\n",
        );
        t.on(
            crate::os::YUM_REPOS_QUERY,
            0,
            "[mysql80-community]\nenabled=1\n[mysql57-community]\nenabled=0\n",
        );
    });
    let msg = format!(
        "{:#}",
        step_of(ctx, "install-packages").plan(&c, 0).unwrap_err()
    );
    assert!(
        msg.contains("the installed MySQL repository (mysql80-community-release-el8-3.noarch) has no mysql-innovation-community repository for mysql.version 9.1"),
        "{msg}"
    );
}

/// MariaDB from AppStream on EL8: `dnf install mariadb-server` alone installs the
/// module's default stream (10.3), so the inventory's version is enabled first; without
/// a version, or from a mirror, the stream is left alone.
#[test]
fn el8_mariadb_enables_the_inventorys_module_stream_first() {
    let rocky8 = |state: &'static str| {
        cluster(move |_, t, _| {
            t.on("/etc/os-release", 0, ROCKY_8);
            t.on("rpm -q mariadb-server", 0, "package mariadb-server is not installed\npackage mariadb is not installed\nkeepalived-2.1.5-9.el8.x86_64\n");
            t.on("dnf -q module list mariadb:", 0, state);
            t.on("if [ -e /etc/yum.repos.d/mhactl.repo ]", 3, ""); // no mirror configured yet
        })
    };
    let ctx = ctx_with("mysql:\n  flavor: mariadb\n  version: \"10.11\"\n", "");
    let actions = change_actions(
        step_of(ctx.clone(), "install-packages")
            .plan(&rocky8("10.3 enabled\n"), 0)
            .unwrap(),
    );
    assert_eq!(
        actions,
        [
            "run: dnf -y module reset mariadb",
            "run: dnf -y module enable mariadb:10.11",
            "run: dnf -y -q makecache",
            "run: dnf -y install mariadb-server mariadb"
        ]
    );
    // The stream is enabled already (an interrupted run): only the install is left.
    let actions = change_actions(
        step_of(ctx, "install-packages")
            .plan(&rocky8("10.11 enabled\n"), 0)
            .unwrap(),
    );
    assert_eq!(
        actions,
        [
            "run: dnf -y -q makecache",
            "run: dnf -y install mariadb-server mariadb"
        ]
    );
    for mysql in [
        "mysql:\n  flavor: mariadb\n",
        "mysql:\n  flavor: mariadb\n  version: \"10.11\"\npackages:\n  repository: http://mirror.local/el8\n",
    ] {
        let ctx = ctx_with(mysql, "");
        let c = rocky8("10.3 enabled\n");
        let Plan::Change(change) = step_of(ctx, "install-packages").plan(&c, 0).unwrap() else {
            panic!("expected a change");
        };
        let actions: Vec<String> = change.actions.iter().map(|a| a.describe()).collect();
        assert!(!actions.iter().any(|a| a.contains("module")), "{actions:?}");
    }
}

/// A fresh node whose server package's configure script fails to initialise the data
/// directory (Debian's mysql-server 9.7 postinst, intermittently).
fn fresh_node_with_a_failing_postinst(t: &crate::transport::fake::FakeTransport) {
    t.on("dpkg-query", 0, "");
    t.on("update -q", 0, "");
    t.on("stat -c %s /var/log/mysql/error.log", 0, "0\n1764165600\n");
    t.on(
        "tail -c +1",
        0,
        "2026-11-27T02:00:00Z 0 [ERROR] [MY-010943] [Server] System views initialization failed.\n",
    );
    t.on("mkdir -p -m 700 /var/lib/mhactl", 0, "");
    t.on("--no-install-recommends", 0, "");
    t.on("rm -f /var/lib/mhactl/datadir-empty-before-install", 0, "");
}

/// install-packages applied on a fresh node whose server package fails to configure
/// (every time, or `once`), where setting a failed initialisation aside answers
/// `set_aside`: the result, and the commands the node ran.
fn install_with(
    once: bool,
    set_aside: &'static str,
) -> (anyhow::Result<()>, crate::transport::fake::Journal) {
    let journal = crate::transport::fake::Journal::default();
    let c = cluster(|_, t, _| {
        t.journal(&journal);
        fresh_node_with_a_failing_postinst(t);
        let error = "dpkg: error processing package mysql-server";
        if once {
            t.once("--no-install-recommends", 1, error);
        } else {
            t.on("--no-install-recommends", 1, error);
        }
        t.on("datadir-empty-before-install ] ||", 0, set_aside);
    });
    let Plan::Change(ch) = step("install-packages").plan(&c, 0).unwrap() else {
        panic!("expected a change");
    };
    let result = ch
        .actions
        .iter()
        .try_for_each(|action| crate::engine::execute(&c, &c.nodes[0], action));
    (result, journal)
}

/// How many commands the node ran that contain `pattern`.
fn count(journal: &crate::transport::fake::Journal, pattern: &str) -> usize {
    journal
        .lock()
        .unwrap()
        .iter()
        .filter(|(node, e)| {
            node == "node-a"
                && matches!(e, crate::transport::fake::JournalEntry::Command { script, .. }
                    if script.contains(pattern))
        })
        .count()
}

const MOVED: &str = "/var/lib/mysql.failed-init-20261127T020000Z\n";
const FORGET: &str = "rm -f /var/lib/mhactl/datadir-empty-before-install";

/// A failed initialisation of a data directory mhactl saw empty is moved aside and the
/// package configured again: the install finishes instead of leaving a half-configured
/// package that no re-run could finish.
#[test]
fn a_failed_initialisation_of_an_empty_datadir_is_set_aside_and_configured_again() {
    let (result, journal) = install_with(true, MOVED);
    result.unwrap();
    assert_eq!(count(&journal, "--no-install-recommends"), 2);
    assert_eq!(count(&journal, "mysql.failed-init-"), 1);
    assert_eq!(count(&journal, FORGET), 1);
}

/// A data directory mhactl did not see empty before is never moved: the install fails
/// with the package's error and the server's.
#[test]
fn a_datadir_not_seen_empty_is_left_alone() {
    let (result, journal) = install_with(false, "mhactl: not empty before\n");
    let err = format!("{:#}", result.unwrap_err());
    assert!(err.contains("MY-010943"), "{err}");
    assert!(!err.contains("failed-init"), "{err}");
    assert_eq!(count(&journal, "--no-install-recommends"), 1);
    assert_eq!(count(&journal, FORGET), 0);
}

/// Failing every time, it stops after the retries and names where each attempt went.
#[test]
fn a_datadir_initialisation_that_always_fails_stops_after_the_retries() {
    let (result, journal) = install_with(false, MOVED);
    let err = format!("{:#}", result.unwrap_err());
    assert!(
        err.contains("initialisation failed 3 time(s)") && err.contains("it failed again"),
        "{err}"
    );
    assert_eq!(count(&journal, "--no-install-recommends"), 4);
}

/// Apply `plan`'s actions on node-a as the engine does during a step, and return what
/// they reported as the step's activity (the progress line) and the result.
fn apply_watching(c: &crate::engine::Cluster, plan: Plan) -> (Vec<String>, anyhow::Result<()>) {
    use crate::engine::activity::{during, ActivitySink};
    #[derive(Default)]
    struct Seen(std::sync::Mutex<Vec<String>>);
    impl ActivitySink for Seen {
        fn activity(&self, node: &str, step: &str, text: &str) {
            self.0
                .lock()
                .unwrap()
                .push(format!("{node} {step}: {text}"));
        }
    }
    let Plan::Change(change) = plan else {
        panic!("expected a change")
    };
    let seen = std::sync::Arc::new(Seen::default());
    let result = during(Some(seen.clone()), "node-a", "install-packages", || {
        change
            .actions
            .iter()
            .try_for_each(|a| crate::engine::execute(c, &c.nodes[0], a))
    });
    let seen = seen.0.lock().unwrap().clone();
    (seen, result)
}

/// What apt says while it installs (its status lines) reaches the step's progress
/// line; its ordinary output does not, and a failure's quoted output leaves the status
/// lines out but keeps dpkg's own words.
#[test]
fn the_package_manager_s_progress_reaches_the_step_s_progress_line() {
    let apt_said = "Reading package lists...\n\
        dlstatus:1:0:Retrieving file 1 of 2\n\
        pmstatus:dpkg-exec:0:Running dpkg\n\
        pmstatus:keepalived:50:Unpacking keepalived (amd64)\n\
        Setting up keepalived (1:2.2.7-1+b2) ...\n\
        pmstatus:keepalived:75:Configuring keepalived (amd64)\n";
    let installed_but_keepalived = "mariadb-server installed\nmariadb-client installed\n";
    let c = cluster(|_, t, _| {
        t.on("dpkg-query", 0, installed_but_keepalived);
        t.on("apt-get -o DPkg::Lock::Timeout=300 update", 0, "");
        // The server's error log before and after (quoted when the install fails).
        t.on("stat -c %s /var/log/mysql/error.log", 0, "0\n1700000000\n");
        t.on("/var/log/mysql/error.log", 0, "mhactl: no such file\n");
        t.on("APT::Status-Fd=1 install", 0, apt_said);
    });
    let (seen, result) = apply_watching(&c, step("install-packages").plan(&c, 0).unwrap());
    result.expect("installed");
    assert_eq!(
        seen,
        [
            "node-a install-packages: apt: retrieving file 1 of 2 (0%)",
            "node-a install-packages: apt: running dpkg (0%)",
            "node-a install-packages: apt: unpacking keepalived (50%)",
            "node-a install-packages: apt: configuring keepalived (75%)",
        ]
    );

    let failed = "pmstatus:keepalived:50:Unpacking keepalived (amd64)\n\
        dpkg: error processing package keepalived (--configure):\n\
        pmerror:keepalived:75:installed keepalived package post-installation script subprocess returned error exit status 1\n";
    let c = cluster(|_, t, _| {
        t.on("dpkg-query", 0, installed_but_keepalived);
        t.on("apt-get -o DPkg::Lock::Timeout=300 update", 0, "");
        // The server's error log before and after (quoted when the install fails).
        t.on("stat -c %s /var/log/mysql/error.log", 0, "0\n1700000000\n");
        t.on("/var/log/mysql/error.log", 0, "mhactl: no such file\n");
        t.on_full(
            "APT::Status-Fd=1 install",
            100,
            failed,
            "E: Sub-process /usr/bin/dpkg returned an error code (1)",
        );
    });
    let (seen, result) = apply_watching(&c, step("install-packages").plan(&c, 0).unwrap());
    assert_eq!(
        seen,
        ["node-a install-packages: apt: unpacking keepalived (50%)"]
    );
    let msg = format!("{:#}", result.unwrap_err());
    assert!(
        msg.contains("node-a: command failed (exit 100)")
            && msg.contains("dpkg: error processing package keepalived")
            && msg.contains("E: Sub-process /usr/bin/dpkg"),
        "{msg}"
    );
    assert!(
        !msg.contains("pmstatus") && !msg.contains("pmerror"),
        "{msg}"
    );
}
