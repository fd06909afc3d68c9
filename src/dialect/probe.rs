//! The failover write probe's SQL: its database and table (which replicate: that is the
//! point), its account (made on each node with the binary log off, like the replication
//! account) and the writes and reads that count acknowledged rows. The text is the same
//! on every flavor and version. `db` is mhactl's own probe database name (not quoted).

use super::accounts::{SESSION_BINLOG_OFF, SESSION_BINLOG_ON};

/// Creates the probe database and an empty `writes` table, in order.
pub fn probe_table_sql(db: &str) -> Vec<String> {
    vec![
        format!("CREATE DATABASE IF NOT EXISTS {db}"),
        format!("DROP TABLE IF EXISTS {db}.writes"),
        format!(
            "CREATE TABLE {db}.writes (seq BIGINT PRIMARY KEY, client_ms BIGINT NOT NULL, server_id INT NOT NULL) ENGINE=InnoDB"
        ),
    ]
}

/// (Re)creates the probe account (`account` already quoted, `password` a quoted
/// literal) with only INSERT and SELECT on the probe database, binary log off.
pub fn probe_account_sql(db: &str, account: &str, password: &str) -> Vec<String> {
    vec![
        SESSION_BINLOG_OFF.into(),
        format!("DROP USER IF EXISTS {account}"),
        format!("CREATE USER {account} IDENTIFIED BY {password}"),
        format!("GRANT INSERT, SELECT ON {db}.* TO {account}"),
        SESSION_BINLOG_ON.into(),
    ]
}

/// Drops the probe account on one node, binary log off.
pub fn drop_probe_account_sql(account: &str) -> Vec<String> {
    vec![
        SESSION_BINLOG_OFF.into(),
        format!("DROP USER IF EXISTS {account}"),
        SESSION_BINLOG_ON.into(),
    ]
}

/// Drops the probe database (it replicates to the peer).
pub fn drop_probe_database_sql(db: &str) -> String {
    format!("DROP DATABASE IF EXISTS {db}")
}

/// The statement verify's `probe-leftovers` advises to drop leftover probe accounts
/// (already quoted `'user'@'host'`): advice in a message, not run by mhactl.
pub fn drop_accounts_advice_sql(accounts: &[String]) -> String {
    format!("DROP USER {}", accounts.join(", "))
}

/// The statement verify's `probe-leftovers` advises to drop the probe database.
pub fn drop_database_advice_sql(db: &str) -> String {
    format!("DROP DATABASE {db}")
}

/// Whether the probe database exists: one row when it does.
pub fn probe_database_exists_sql(db: &str) -> String {
    format!("SHOW DATABASES LIKE '{db}'")
}

/// The probe accounts a node has (any host): rows `user`, `host`. `user` is mhactl's
/// own probe account name (not quoted).
pub fn probe_accounts_sql(user: &str) -> String {
    format!("SELECT User AS user, Host AS host FROM mysql.user WHERE User = '{user}'")
}

/// The sequence numbers of the probe rows a node has: rows `seq`.
pub fn probe_rows_sql(db: &str) -> String {
    format!("SELECT seq FROM {db}.writes")
}

/// One probe write: sequence number, client time in ms, and the server that took it.
pub fn probe_write_sql(db: &str, seq: u64, client_ms: u128) -> String {
    format!(
        "INSERT INTO {db}.writes (seq, client_ms, server_id) VALUES ({seq}, {client_ms}, @@server_id)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probe_statements_keep_their_text() {
        assert_eq!(
            probe_account_sql("db", "'u'@'h'", "'p'"),
            [
                "SET SESSION sql_log_bin = 0",
                "DROP USER IF EXISTS 'u'@'h'",
                "CREATE USER 'u'@'h' IDENTIFIED BY 'p'",
                "GRANT INSERT, SELECT ON db.* TO 'u'@'h'",
                "SET SESSION sql_log_bin = 1",
            ]
        );
        assert_eq!(
            probe_write_sql("db", 7, 1500),
            "INSERT INTO db.writes (seq, client_ms, server_id) VALUES (7, 1500, @@server_id)"
        );
    }
}
