//! adopt changes nothing on a node: every read of [`super::discover::read_node`] and of
//! the table comparison on a fake runbook node whose fakes answer only the reads listed
//! here (any other command or query panics), and every statement and command it sent is
//! a read. The lab e2e test compares the nodes' state before and after; this one names
//! exactly what adopt sends.

use crate::engine::{Cluster, NodeHandle};
use crate::transport::fake::{FakeSql, FakeTransport};
use std::sync::Arc;

const DEBIAN_12: &str =
    "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME=\"Debian GNU/Linux\"\nVERSION_ID=\"12\"\nID=debian\n";

const KEEPALIVED_CONF: &str = "vrrp_instance VI_1 {\n state BACKUP\n interface eth0\n \
    virtual_router_id 51\n priority 100\n nopreempt\n virtual_ipaddress {\n 10.0.0.100\n }\n}\n\
    virtual_server 10.0.0.100 3306 {\n real_server 10.0.0.11 3306 {\n notify_down /opt/k.sh\n }\n}\n";

fn node(i: usize) -> (NodeHandle, Arc<FakeTransport>, FakeSql) {
    let name = ["db1", "db2"][i];
    let t = FakeTransport::new(name);
    t.on("/etc/os-release", 0, DEBIAN_12);
    t.on("/run/systemd/system", 0, "sysv\n");
    t.on(
        crate::os::addresses::ALL_ADDRESSES_COMMAND,
        0,
        &format!("2: eth0    inet 10.0.0.1{}/24 scope global eth0\n", i + 1),
    );
    t.on("/etc/keepalived/keepalived.conf", 0, KEEPALIVED_CONF);
    t.on("/opt/k.sh", 0, "#!/bin/bash\npkill keepalived\n");
    t.on(
        "keepalived --version",
        0,
        "Keepalived v2.2.7 (01/16,2022)\n",
    );
    t.on("service keepalived status", 0, "");
    t.on("/etc/init.d/keepalived", 0, "");
    t.on("firewall-cmd", 100, "");
    t.on("ufw", 100, "");
    t.on("nft list ruleset", 100, "");
    t.on("iptables", 100, "");
    t.on("getenforce", 100, "");
    t.on("--verbose --help", 0, "Default options are read from the following files in the given order:\n/etc/my.cnf /etc/mysql/my.cnf ~/.my.cnf\n");
    t.on("if [ -e /etc/my.cnf ]", 3, "");
    t.on(
        "if [ -e /etc/mysql/my.cnf ]",
        0,
        "[mysqld]\nslave_skip_errors = 1062\n",
    );
    t.on("if [ -e /root/.my.cnf ]", 3, "");
    t.on("if [ -e /run/mysqld/mysqld.pid ]", 0, "4242\n");
    t.on(
        "if [ -e /proc/4242/cmdline ]",
        0,
        "/usr/sbin/mariadbd\0--basedir=/usr\0",
    );
    t.on("if [ -e /var/lib/mysql/mysqld-auto.cnf ]", 3, "");
    let sql = FakeSql::new();
    sql.on(
        "SELECT VERSION()",
        vec![vec![("version", Some("10.11.6-MariaDB"))]],
    );
    sql.on(
        "SHOW GLOBAL VARIABLES",
        vec![
            vec![
                ("Variable_name", Some("server_id")),
                ("Value", Some(["1", "2"][i])),
            ],
            vec![
                ("Variable_name", Some("slave_skip_errors")),
                ("Value", Some("1062")),
            ],
        ],
    );
    sql.on(
        "@@GLOBAL.pid_file",
        vec![vec![("value", Some("/run/mysqld/mysqld.pid"))]],
    );
    sql.on(
        "@@GLOBAL.datadir",
        vec![vec![("value", Some("/var/lib/mysql/"))]],
    );
    let replica = vec![vec![
        ("Connection_name", Some("")),
        ("Slave_IO_Running", Some("Yes")),
        ("Slave_SQL_Running", Some("Yes")),
        ("Master_Host", Some(["10.0.0.12", "10.0.0.11"][i])),
        ("Master_Port", Some("3306")),
        ("Master_User", Some("hadoop")),
        ("Master_Log_File", Some("mysql-bin.000001")),
        ("Read_Master_Log_Pos", Some("100")),
        ("Relay_Master_Log_File", Some("mysql-bin.000001")),
        ("Exec_Master_Log_Pos", Some("100")),
        ("Seconds_Behind_Master", Some("0")),
        ("Last_IO_Errno", Some("0")),
        ("Last_IO_Error", Some("")),
        ("Last_SQL_Errno", Some("0")),
        ("Last_SQL_Error", Some("")),
        ("Using_Gtid", Some("No")),
    ]];
    sql.on("SHOW REPLICA STATUS", replica.clone());
    sql.on("SHOW ALL SLAVES STATUS", replica);
    sql.on(
        "SHOW BINLOG STATUS",
        vec![vec![
            ("File", Some("mysql-bin.000001")),
            ("Position", Some("100")),
        ]],
    );
    sql.on(
        "PROCESSLIST",
        vec![vec![
            ("user", Some("hadoop")),
            ("host", Some(["db2:5000", "db1:5000"][i])),
        ]],
    );
    sql.on(
        "FROM mysql.user",
        vec![vec![("user", Some("root")), ("host", Some("%"))]],
    );
    sql.on(
        "SHOW GRANTS",
        vec![vec![(
            "Grants for root@%",
            Some("GRANT ALL PRIVILEGES ON *.* TO `root`@`%` IDENTIFIED BY PASSWORD '*ABC'"),
        )]],
    );
    sql.on("DIV 1024 AS kib", vec![vec![("kib", Some("64"))]]);
    sql.on(
        "TABLE_TYPE = 'BASE TABLE'",
        vec![vec![("t", Some("`shop`.`stock`"))]],
    );
    sql.on(
        "CHECKSUM TABLE",
        vec![vec![("Table", Some("shop.stock")), ("Checksum", Some("7"))]],
    );
    let t = Arc::new(t);
    let handle = NodeHandle::new(i, name, t.clone(), Some(sql.connector()));
    (handle, t, sql)
}

/// Words that would mean a command changes something.
const WRITES: &[&str] = &[
    " > ", ">>", "rm ", "mv ", "cp ", "mkdir", "chmod", "chown", "tee ", "install ", " start",
    " stop", "restart", "reload", "kill", "sed -i", "truncate",
];

#[test]
fn adopt_sends_only_reads() {
    let nodes: Vec<_> = (0..2).map(node).collect();
    let (handles, fakes): (Vec<NodeHandle>, Vec<_>) =
        nodes.into_iter().map(|(h, t, s)| (h, (t, s))).unzip();
    let cluster = Cluster {
        nodes: handles,
        secrets: Vec::new(),
    };
    for (i, n) in cluster.nodes.iter().enumerate() {
        let address = format!("10.0.0.1{}", i + 1).parse().unwrap();
        let f = super::discover::read_node(n, address).unwrap();
        assert!(f.unread.is_empty(), "{:?}", f.unread);
        assert_eq!(f.keepalived.notify_scripts[0].stops_keepalived, Some(true));
        assert_eq!(f.replica_clients, vec![["db2", "db1"][i]]);
        assert_eq!(f.options[0].file, "/etc/mysql/my.cnf");
        assert!(
            !format!("{f:?}").contains("*ABC"),
            "a password hash was kept"
        );
    }
    let tables = crate::table_compare::compare_tables(&cluster).unwrap();
    assert_eq!(tables.compared, 1);
    assert!(tables.differing.is_empty());
    for (t, sql) in &fakes {
        for s in sql.statements() {
            let first = s.split_whitespace().next().unwrap_or("");
            assert!(
                matches!(first, "SELECT" | "SHOW" | "CHECKSUM"),
                "adopt sent a statement that is not a read: {s}"
            );
        }
        for c in t.commands() {
            // Redirections to /dev/null and `kill -0` (does the process exist?) are reads.
            let script = c
                .script
                .replace("2>/dev/null", "")
                .replace(">/dev/null", "")
                .replace("2>&1", "")
                .replace("kill -0", "");
            for w in WRITES {
                assert!(
                    !script.contains(w),
                    "adopt ran `{}` (contains `{w}`)",
                    c.script
                );
            }
        }
    }
}
