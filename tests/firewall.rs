//! The `firewall` and `selinux` steps on recorded outputs (tests/fixtures/firewall/):
//! a fake node answers `firewall-cmd`, `ufw`, `nft`, `iptables`, `getenforce` and
//! `semanage` as real hosts did, and each test checks the exact commands planned (a
//! transcript), or the Noop / the error. The lab nodes have no firewall, so these are
//! the tests for firewalld, ufw, default-drop rulesets and SELinux.

use mhactl::bootstrap::firewall::{
    nft_default_drop, openings, plan_firewall, plan_selinux, FIREWALLD_STATE, GETENFORCE,
    IPTABLES_INPUT, NFT_RULESET, NOT_INSTALLED, SEMANAGE_FCONTEXT_LOCAL, SEMANAGE_PORTS,
    UFW_STATUS,
};
use mhactl::engine::{Action, Plan};
use mhactl::inventory::Inventory;
use mhactl::transport::fake::FakeTransport;

const INVENTORY: &str = r#"
cluster: shop
nodes:
  - name: node-a
    address: 10.0.0.11
  - name: node-b
    address: 10.0.0.12
vip:
  address: 10.0.0.100
  interface: eth0
  virtual_router_id: 51
access:
  users:
    - name: app
      password_env: APP_PW
      networks: [10.0.1.0/24, 10.0.2.%]
      privileges: "SELECT, INSERT, UPDATE, DELETE ON shop.*"
credentials:
  replication_password_env: REPL_PW
"#;

fn inv(extra: &str) -> Inventory {
    mhactl::inventory::parse(&format!("{INVENTORY}{extra}"), "inventory.yaml").unwrap()
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/firewall")
            .join(name),
    )
    .unwrap()
}

/// A node where nothing is installed: every probe says so.
fn bare() -> FakeTransport {
    let t = FakeTransport::new("node-a");
    for probe in [
        FIREWALLD_STATE,
        UFW_STATUS,
        NFT_RULESET,
        IPTABLES_INPUT,
        GETENFORCE,
    ] {
        t.on(probe, NOT_INSTALLED, "");
    }
    t
}

/// The planned actions as shell commands (writes as `write PATH`).
fn transcript(plan: &Plan) -> Vec<String> {
    match plan {
        Plan::Noop(why) => panic!("expected a change, got Noop: {why}"),
        Plan::Change(c) => c
            .actions
            .iter()
            .map(|a| match a {
                Action::Run(cmd) => cmd.script.clone(),
                Action::WriteFile { path, mode, .. } => {
                    format!("write {} {mode:o}", path.display())
                }
                other => other.describe(),
            })
            .collect(),
    }
}

fn noop(plan: &Plan) -> &str {
    match plan {
        Plan::Noop(why) => why,
        Plan::Change(c) => panic!("expected Noop, got: {}", c.summary),
    }
}

#[test]
fn what_the_pair_needs() {
    let o: Vec<String> = openings(&inv(""), 0)
        .iter()
        .map(|o| o.rich_rule())
        .collect();
    assert_eq!(
        o,
        [
            r#"rule family="ipv4" source address="10.0.0.12" port port="3306" protocol="tcp" accept"#,
            r#"rule family="ipv4" source address="10.0.0.12" protocol value="vrrp" accept"#,
            r#"rule family="ipv4" source address="10.0.1.0/24" port port="3306" protocol="tcp" accept"#,
            r#"rule family="ipv4" source address="10.0.2.0/24" port port="3306" protocol="tcp" accept"#,
        ]
    );
    // node-b needs the same from node-a.
    assert!(openings(&inv(""), 1)[0].rich_rule().contains("10.0.0.11"));
}

#[test]
fn no_firewall_is_a_noop_that_says_so() {
    let t = bare();
    let why = noop(&plan_firewall(&inv(""), &t, 0).unwrap()).to_string();
    assert!(why.contains("no firewall"), "{why}");
    // An nftables ruleset that accepts is no firewall either.
    let t = bare();
    t.on(NFT_RULESET, 0, &fixture("nft-ruleset-accept"));
    noop(&plan_firewall(&inv(""), &t, 0).unwrap());
}

#[test]
fn firewalld_opens_exactly_what_is_missing_runtime_and_permanent() {
    let t = bare();
    t.on(FIREWALLD_STATE, 0, &fixture("firewalld-state"));
    t.on("firewall-cmd --get-zone-of-interface=eth0", 0, "public\n");
    t.on(
        "firewall-cmd --zone=public --list-all",
        0,
        &fixture("firewalld-list-all"),
    );
    // What --list-all shows: the peer's 3306 rule, in the runtime and permanent config.
    t.on("--query-rich-rule=", 1, "no\n");
    t.on(
        r#"--zone=public --query-rich-rule='rule family="ipv4" source address="10.0.0.12" port port="3306""#,
        0,
        "yes\n",
    );
    let plan = plan_firewall(&inv(""), &t, 0).unwrap();
    assert_eq!(
        transcript(&plan),
        [
            r#"firewall-cmd --zone=public --add-rich-rule='rule family="ipv4" source address="10.0.0.12" protocol value="vrrp" accept'"#,
            r#"firewall-cmd --permanent --zone=public --add-rich-rule='rule family="ipv4" source address="10.0.0.12" protocol value="vrrp" accept'"#,
            r#"firewall-cmd --zone=public --add-rich-rule='rule family="ipv4" source address="10.0.1.0/24" port port="3306" protocol="tcp" accept'"#,
            r#"firewall-cmd --permanent --zone=public --add-rich-rule='rule family="ipv4" source address="10.0.1.0/24" port port="3306" protocol="tcp" accept'"#,
            r#"firewall-cmd --zone=public --add-rich-rule='rule family="ipv4" source address="10.0.2.0/24" port port="3306" protocol="tcp" accept'"#,
            r#"firewall-cmd --permanent --zone=public --add-rich-rule='rule family="ipv4" source address="10.0.2.0/24" port port="3306" protocol="tcp" accept'"#,
        ]
    );
    // Every command before the plan only reads.
    for cmd in t.commands() {
        assert!(!cmd.script.contains("--add-"), "{}", cmd.script);
    }
    // Once added (every query answers yes), a re-run changes nothing.
    t.on("--query-rich-rule=", 0, "yes\n");
    let why = noop(&plan_firewall(&inv(""), &t, 0).unwrap()).to_string();
    assert!(
        why.starts_with("firewalld zone public allows 3306/tcp from 10.0.0.12"),
        "{why}"
    );
}

#[test]
fn firewalld_zone_that_accepts_everything_needs_nothing() {
    let t = bare();
    t.on(FIREWALLD_STATE, 0, "running\n");
    t.on("--get-zone-of-interface", 0, "trusted\n");
    t.on(
        "--list-all",
        0,
        &fixture("firewalld-list-all").replace("target: default", "target: ACCEPT"),
    );
    let why = noop(&plan_firewall(&inv(""), &t, 0).unwrap()).to_string();
    assert!(why.contains("zone trusted accepts all traffic"), "{why}");
}

#[test]
fn ufw_allows_the_port_per_source_and_vrrp_in_before_rules() {
    let t = bare();
    t.on(UFW_STATUS, 0, &fixture("ufw-status-verbose"));
    t.on("/etc/ufw/before.rules", 0, &fixture("ufw-before.rules"));
    let plan = plan_firewall(&inv(""), &t, 0).unwrap();
    assert_eq!(
        transcript(&plan),
        [
            "write /etc/ufw/before.rules 640",
            "ufw reload",
            "ufw allow proto tcp from 10.0.1.0/24 to any port 3306 comment 'mhactl: clients of access.users app'",
            "ufw allow proto tcp from 10.0.2.0/24 to any port 3306 comment 'mhactl: clients of access.users app'",
        ]
    );
    let Plan::Change(change) = &plan else {
        unreachable!()
    };
    let diff = change.diff.as_deref().unwrap();
    assert!(
        diff.contains("+-A ufw-before-input -p 112 -s 10.0.0.12 -j ACCEPT\n COMMIT"),
        "{diff}"
    );
    // Converged: the rules are listed and before.rules has the VRRP line.
    let mut status = fixture("ufw-status-verbose");
    status.push_str("3306/tcp                   ALLOW IN    10.0.1.0/24\n");
    status.push_str("3306/tcp                   ALLOW IN    10.0.2.0/24\n");
    let rules = fixture("ufw-before.rules").replace(
        "COMMIT",
        "-A ufw-before-input -p 112 -s 10.0.0.12 -j ACCEPT\nCOMMIT",
    );
    t.on(UFW_STATUS, 0, &status);
    t.on("/etc/ufw/before.rules", 0, &rules);
    noop(&plan_firewall(&inv(""), &t, 0).unwrap());
}

#[test]
fn ufw_inactive_or_allowing_needs_nothing() {
    let t = bare();
    t.on(UFW_STATUS, 0, "Status: inactive\n");
    assert!(noop(&plan_firewall(&inv(""), &t, 0).unwrap()).contains("no firewall"));
    let t = bare();
    t.on(
        UFW_STATUS,
        0,
        &fixture("ufw-status-verbose").replace("deny (incoming)", "allow (incoming)"),
    );
    assert!(noop(&plan_firewall(&inv(""), &t, 0).unwrap()).contains("allows incoming"));
}

#[test]
fn raw_default_drop_rulesets_stop_with_what_to_open() {
    assert_eq!(
        nft_default_drop(&fixture("nft-ruleset-drop")).as_deref(),
        Some("table inet filter, chain input")
    );
    let t = bare();
    t.on(NFT_RULESET, 0, &fixture("nft-ruleset-drop"));
    let err = format!("{:#}", plan_firewall(&inv(""), &t, 0).unwrap_err());
    for want in [
        "drops incoming traffic by default (nftables ruleset (table inet filter, chain input))",
        "3306/tcp from 10.0.0.12 (replication from node-b)",
        "VRRP (IP protocol 112) from 10.0.0.12 (keepalived on node-b)",
        "3306/tcp from 10.0.1.0/24 (clients of access.users app)",
        "nft add rule inet filter input ip saddr 10.0.0.12 ip protocol vrrp accept",
        "firewall: manual",
    ] {
        assert!(err.contains(want), "missing {want:?} in:\n{err}");
    }
    // The same with legacy iptables.
    let t = bare();
    t.on(IPTABLES_INPUT, 0, &fixture("iptables-s-input-drop"));
    let err = format!("{:#}", plan_firewall(&inv(""), &t, 0).unwrap_err());
    assert!(err.contains("(iptables INPUT chain)"), "{err}");
    // With `firewall: manual` nothing is checked.
    let t = bare();
    t.on(NFT_RULESET, 0, &fixture("nft-ruleset-drop"));
    assert!(noop(&plan_firewall(&inv("firewall: manual\n"), &t, 0).unwrap()).contains("manual"));
    assert!(t.commands().is_empty());
}

#[test]
fn selinux_enforcing_with_defaults_is_a_noop() {
    let t = bare();
    assert_eq!(
        noop(&plan_selinux(&inv(""), &t).unwrap()),
        "SELinux is not installed"
    );
    t.on(GETENFORCE, 0, "Permissive\n");
    assert!(noop(&plan_selinux(&inv(""), &t).unwrap()).contains("Permissive"));
    // Permissive or absent: the inventory's paths need nothing either.
    let paths = inv("mysql:\n  datadir: /data/mysql\n  socket: /var/run/custom/mysql.sock\n");
    assert!(noop(&plan_selinux(&paths, &t).unwrap()).contains("Permissive"));
    t.on(GETENFORCE, 0, "Enforcing\n");
    let why = noop(&plan_selinux(&inv(""), &t).unwrap()).to_string();
    assert!(why.contains("default contexts apply"), "{why}");
    assert!(!t.commands().iter().any(|c| c.script.contains("semanage")));
    // The packaged paths, even when the inventory names them, need nothing.
    let packaged = inv("mysql:\n  datadir: /var/lib/mysql/\n  socket: /run/mysqld/mysqld.sock\n  log_error: /var/log/mysql/error.log\n");
    assert!(noop(&plan_selinux(&packaged, &t).unwrap()).contains("default contexts apply"));
}

#[test]
fn selinux_labels_a_non_default_port() {
    let t = bare();
    t.on(GETENFORCE, 0, "Enforcing\n");
    t.on(SEMANAGE_PORTS, 0, &fixture("semanage-port-l"));
    let inv = inv("mysql:\n  port: 3307\n");
    assert_eq!(
        transcript(&plan_selinux(&inv, &t).unwrap()),
        ["semanage port -a -t mysqld_port_t -p tcp 3307"]
    );
    // A port in the policy's range needs nothing.
    let inv2 = self::inv("mysql:\n  port: 63140\n");
    noop(&plan_selinux(&inv2, &t).unwrap());
    // Without semanage, a clear message.
    t.on(SEMANAGE_PORTS, NOT_INSTALLED, "");
    let err = format!("{:#}", plan_selinux(&inv, &t).unwrap_err());
    assert!(
        err.contains("semanage port -a -t mysqld_port_t -p tcp 3307"),
        "{err}"
    );
}

const PATHS: &str = "mysql:\n  datadir: /data/mysql\n  socket: /var/run/custom/mysql.sock\n  \
     pid_file: /var/run/custom/mysqld.pid\n  log_error: /var/log/custom/mysql.err\n";

/// Enforcing, nothing labelled yet: a rule per directory with the type mysqld's policy
/// expects (the socket and pid file share a directory). The data directory is created
/// and relabelled here, so what mysqld creates in it inherits the type; the server's
/// other directories are relabelled when they exist, and created (create-only, for
/// mysql, then relabelled) by server-paths: issue 14's ownership rule.
#[test]
fn selinux_labels_the_inventorys_datadir_socket_and_log_directories() {
    let t = bare();
    t.on(GETENFORCE, 0, "Enforcing\n");
    t.on(SEMANAGE_FCONTEXT_LOCAL, 0, "");
    t.on(
        "stat -c %C",
        0,
        "- /data/mysql\n- /var/run/custom\nsystem_u:object_r:var_log_t:s0 /var/log/custom\n",
    );
    let inv = inv(PATHS);
    assert_eq!(
        transcript(&plan_selinux(&inv, &t).unwrap()),
        [
            "semanage fcontext -a -t mysqld_db_t '/data/mysql(/.*)?' 2>/dev/null || semanage fcontext -m -t mysqld_db_t '/data/mysql(/.*)?'",
            "mkdir -p /data/mysql && restorecon -R /data/mysql",
            "semanage fcontext -a -t mysqld_var_run_t '/var/run/custom(/.*)?' 2>/dev/null || semanage fcontext -m -t mysqld_var_run_t '/var/run/custom(/.*)?'",
            "[ ! -e /var/run/custom ] || restorecon -R /var/run/custom",
            "semanage fcontext -a -t mysqld_log_t '/var/log/custom(/.*)?' 2>/dev/null || semanage fcontext -m -t mysqld_log_t '/var/log/custom(/.*)?'",
            "[ ! -e /var/log/custom ] || restorecon -R /var/log/custom",
        ]
    );
    // After the change: rules listed, directories labelled: nothing to do.
    t.on(
        SEMANAGE_FCONTEXT_LOCAL,
        0,
        "/data/mysql(/.*)?    all files    system_u:object_r:mysqld_db_t:s0\n\
         /var/run/custom(/.*)?    all files    system_u:object_r:mysqld_var_run_t:s0\n\
         /var/log/custom(/.*)?    all files    system_u:object_r:mysqld_log_t:s0\n",
    );
    t.on(
        "stat -c %C",
        0,
        "system_u:object_r:mysqld_db_t:s0 /data/mysql\n\
         system_u:object_r:mysqld_var_run_t:s0 /var/run/custom\n\
         system_u:object_r:mysqld_log_t:s0 /var/log/custom\n",
    );
    let why = noop(&plan_selinux(&inv, &t).unwrap()).to_string();
    assert!(why.contains("/data/mysql mysqld_db_t"), "{why}");
    // A rule that exists but a directory someone relabelled: only restorecon.
    t.on(
        "stat -c %C",
        0,
        "system_u:object_r:default_t:s0 /data/mysql\n\
         system_u:object_r:mysqld_var_run_t:s0 /var/run/custom\n\
         system_u:object_r:mysqld_log_t:s0 /var/log/custom\n",
    );
    assert_eq!(
        transcript(&plan_selinux(&inv, &t).unwrap()),
        ["mkdir -p /data/mysql && restorecon -R /data/mysql"]
    );
    // Without semanage, the message names the fields and the command.
    t.on(SEMANAGE_FCONTEXT_LOCAL, NOT_INSTALLED, "");
    let err = format!("{:#}", plan_selinux(&inv, &t).unwrap_err());
    for want in [
        "mysql.datadir",
        "mysql.socket",
        "mysql.log_error",
        "semanage fcontext -a -t mysqld_db_t",
    ] {
        assert!(err.contains(want), "{want} missing in {err}");
    }
}

/// A file directly in a shared directory is labelled alone, and only relabelled once
/// it exists (mysqld creates it).
#[test]
fn selinux_labels_a_socket_in_a_shared_directory_alone() {
    let t = bare();
    t.on(GETENFORCE, 0, "Enforcing\n");
    t.on(SEMANAGE_FCONTEXT_LOCAL, 0, "");
    t.on("stat -c %C", 0, "- /tmp/mysql.sock\n");
    let inv = inv("mysql:\n  socket: /tmp/mysql.sock\n");
    assert_eq!(
        transcript(&plan_selinux(&inv, &t).unwrap()),
        [
            "semanage fcontext -a -t mysqld_var_run_t /tmp/mysql.sock 2>/dev/null || semanage fcontext -m -t mysqld_var_run_t /tmp/mysql.sock",
            "[ ! -e /tmp/mysql.sock ] || restorecon /tmp/mysql.sock",
        ]
    );
    t.on(
        SEMANAGE_FCONTEXT_LOCAL,
        0,
        "/tmp/mysql.sock    all files    system_u:object_r:mysqld_var_run_t:s0\n",
    );
    noop(&plan_selinux(&inv, &t).unwrap());
}
