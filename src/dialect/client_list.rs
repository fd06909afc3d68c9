//! The VIP holder's client list (issue 17, tickle ACKs): the query the peer's fence agent
//! runs against the holder once a second, and the least-privilege account it logs in
//! with (`mhactl_clients@<peer address>` on each node, PROCESS only, created with the
//! binary log off: each node has its own, for the one peer that polls it).
//!
//! Sources: MariaDB KB and MySQL reference manual, "INFORMATION_SCHEMA PROCESSLIST":
//! `HOST` is `address:port` for TCP clients (`localhost` for a socket, empty for the
//! server's own threads); an account sees every thread only with PROCESS. MySQL 8.0.35
//! deprecates the table in favour of performance_schema.processlist but keeps it (9.x
//! too); the performance_schema table would also need SELECT on it.

use super::{quote_account, quote_string, Dialect};
use crate::inventory::ServerFamily;

/// The account the peer's fence agent polls this server's client list with.
pub const CLIENT_LIST_USER: &str = "mhactl_clients";

impl Dialect {
    /// One row per thread: its `HOST`, its `COMMAND` and whether it is this query's own
    /// connection (1), tab-separated with `-N -B`. The fence agent keeps `address:port`
    /// hosts of application threads (not replication's binlog dump, not itself). No
    /// quote in the text: the agent puts it in single quotes.
    pub fn client_list_sql(&self) -> String {
        match self.family() {
            // Same table and columns in both (MySQL: deprecated, present through 9.x).
            ServerFamily::Mysql | ServerFamily::Mariadb => {
                "SELECT HOST, COMMAND, ID = CONNECTION_ID() FROM information_schema.PROCESSLIST"
                    .into()
            }
        }
    }

    /// The least privileges that show every client's thread: PROCESS, in both flavors.
    pub fn client_list_privileges(&self) -> Vec<&'static str> {
        match self.family() {
            ServerFamily::Mysql | ServerFamily::Mariadb => vec!["PROCESS"],
        }
    }

    /// Creates (or sets the password of) `mhactl_clients@<host>` and grants PROCESS,
    /// binary log off (the peer must not get this node's account), in order.
    pub fn client_list_account_sql(&self, host: &str, password: &str, exists: bool) -> Vec<String> {
        let account = quote_account(CLIENT_LIST_USER, host);
        let pw = quote_string(password);
        let verb = if exists { "ALTER" } else { "CREATE" };
        vec![
            self.session_no_binlog_sql(),
            format!("{verb} USER {account} IDENTIFIED BY {pw}"),
            format!(
                "GRANT {} ON *.* TO {account}",
                self.client_list_privileges().join(", ")
            ),
            self.session_binlog_sql(),
        ]
    }

    /// Only the grant (the account exists and its password works), binary log off.
    pub fn client_list_account_grant_sql(&self, host: &str) -> Vec<String> {
        vec![
            self.session_no_binlog_sql(),
            format!(
                "GRANT {} ON *.* TO {}",
                self.client_list_privileges().join(", "),
                quote_account(CLIENT_LIST_USER, host)
            ),
            self.session_binlog_sql(),
        ]
    }

    /// Do these `SHOW GRANTS` lines give the account PROCESS on `*.*`?
    pub fn client_list_grants_cover(&self, lines: &[String]) -> bool {
        lines.iter().any(|l| {
            let l = l.to_ascii_uppercase();
            l.contains(" ON *.* TO ") && (l.contains("PROCESS") || l.contains("ALL PRIVILEGES"))
        })
    }

    /// Drops `mhactl_clients@<host>` (`writes: both`, or the peer's address changed),
    /// binary log off.
    pub fn drop_client_list_account_sql(&self, host: &str) -> Vec<String> {
        vec![
            self.session_no_binlog_sql(),
            self.drop_user_if_exists_sql(CLIENT_LIST_USER, host),
            self.session_binlog_sql(),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(v: &str) -> Dialect {
        Dialect::from_version_string(v).unwrap()
    }

    #[test]
    fn the_query_has_no_single_quote_and_the_account_only_process() {
        for v in [
            "10.11.18-MariaDB-0+deb12u1",
            "8.0.40",
            "9.1.0",
            "5.7.44-log",
        ] {
            let m = d(v);
            assert!(!m.client_list_sql().contains('\''), "{v}");
            assert_eq!(m.client_list_privileges(), ["PROCESS"], "{v}");
            let s = m.client_list_account_sql("10.0.0.12", "pw", false);
            assert_eq!(s.len(), 4, "{v}");
            assert_eq!(s[0], m.session_no_binlog_sql());
            assert_eq!(
                s[1],
                "CREATE USER 'mhactl_clients'@'10.0.0.12' IDENTIFIED BY 'pw'"
            );
            assert_eq!(s[2], "GRANT PROCESS ON *.* TO 'mhactl_clients'@'10.0.0.12'");
            assert!(m.client_list_account_sql("10.0.0.12", "pw", true)[1].starts_with("ALTER USER"));
        }
    }

    #[test]
    fn grants_cover_process_on_everything_only() {
        let m = d("10.11.18-MariaDB");
        let g = |s: &str| vec![s.to_string()];
        assert!(m.client_list_grants_cover(&g(
            "GRANT PROCESS ON *.* TO `mhactl_clients`@`10.0.0.12` IDENTIFIED BY PASSWORD '*x'"
        )));
        assert!(
            !m.client_list_grants_cover(&g("GRANT USAGE ON *.* TO `mhactl_clients`@`10.0.0.12`"))
        );
        assert!(!m.client_list_grants_cover(&g(
            "GRANT SELECT ON `shop`.* TO `mhactl_clients`@`10.0.0.12`"
        )));
    }
}
