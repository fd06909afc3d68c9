//! Root's SQL on a runbook pair in either flavor (tests/e2e/replication.rs,
//! tests/e2e/adopt.rs): MariaDB logs root in through the socket; the MySQL runbook pair
//! (scripts/baseline-runbook.sh) keeps root's password in /root/e2e.cnf (mode 0600), and
//! MySQL 8.4+ knows only the REPLICA/SOURCE spellings of the replica statements.

use crate::support::Lab;

/// The `mysql` client command line that logs in as root on `lab`'s nodes.
pub fn root_client(lab: &Lab) -> &'static str {
    match lab.flavor() {
        "mysql" => "mysql --defaults-extra-file=/root/e2e.cnf",
        _ => "mysql",
    }
}

/// `statement` as root on `node`; tab-separated rows, no header.
pub fn root_sql(lab: &Lab, node: &str, statement: &str) -> String {
    match lab.flavor() {
        "mysql" => mysql_sql(lab, node, statement),
        _ => lab.sql(node, statement),
    }
}

/// `statement` as root on a MySQL node (root's password from /root/e2e.cnf).
pub fn mysql_sql(lab: &Lab, node: &str, statement: &str) -> String {
    lab.ssh_ok(
        node,
        &format!("mysql --defaults-extra-file=/root/e2e.cnf -N -B -e \"{statement}\""),
    )
}

/// `node`'s replica status, one `Field: value` a line.
pub fn replica_status(lab: &Lab, node: &str) -> String {
    let statement = match lab.flavor() {
        "mysql" => "SHOW REPLICA STATUS",
        _ => "SHOW SLAVE STATUS",
    };
    lab.ssh_ok(node, &format!("{} -E -e '{statement}'", root_client(lab)))
}

/// A field of [`replica_status`]'s output by its MariaDB name (`Master_User`,
/// `Slave_IO_Running`, `Exec_Master_Log_Pos`, ...), under MySQL's name where it differs.
pub fn field(status: &str, mariadb_name: &str) -> String {
    let mysql_name = mariadb_name
        .replace("Master", "Source")
        .replace("Slave", "Replica");
    status
        .lines()
        .find_map(|l| {
            let l = l.trim();
            l.strip_prefix(&format!("{mariadb_name}: "))
                .or_else(|| l.strip_prefix(&format!("{mysql_name}: ")))
        })
        .unwrap_or("")
        .to_string()
}

/// `node`'s binary log file and position (`SHOW MASTER STATUS`, MySQL 8.4+'s name).
pub fn binlog_position(lab: &Lab, node: &str) -> (String, String) {
    let statement = match lab.flavor() {
        "mysql" => "SHOW BINARY LOG STATUS",
        _ => "SHOW MASTER STATUS",
    };
    let out = root_sql(lab, node, statement);
    let mut m = out.split_whitespace();
    let file = m.next().unwrap_or("").to_string();
    (file, m.next().unwrap_or("").to_string())
}
