//! TLS for replication (issue 19): the server's TLS options in mhactl's option file, the
//! replica's TLS settings (`CHANGE MASTER`/`CHANGE REPLICATION SOURCE` with only the SSL
//! options: naming no host keeps the replica's position), the replication account's
//! `REQUIRE SSL`, and reading them back.
//!
//! Facts relied on (MySQL reference manual `CHANGE REPLICATION SOURCE TO`, "Setting Up
//! Replication to Use Encrypted Connections"; MariaDB KB `CHANGE MASTER TO`, "Securing
//! Connections for Client and Server", "Replication with Secure Connections"):
//! - `ssl_ca`, `ssl_cert`, `ssl_key` are the server option names on both flavors.
//! - `MASTER_SSL_VERIFY_SERVER_CERT=1` (MariaDB; MySQL before 8.0.23) and
//!   `SOURCE_SSL_VERIFY_SERVER_CERT=1` (MySQL 8.0.23+) make the replica check the source's
//!   certificate against `*_SSL_CA` and the host it connects to against the certificate.
//! - A `CHANGE MASTER` naming neither host nor port nor coordinates keeps the replica's
//!   position; its SSL options need the IO thread stopped (the SQL thread may run).
//! - `REQUIRE SSL` refuses a login of the account without TLS (access denied, 1045); a
//!   connected replica keeps its connection (the requirement is checked at login).

use super::{quote_string, Dialect, Row};
use anyhow::Result;

/// The replica's TLS settings as its status row reports them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaTls {
    /// `Master_SSL_Allowed`/`Source_SSL_Allowed` is `Yes`.
    pub ssl: bool,
    /// `Master_SSL_CA_File`/`Source_SSL_CA_File`.
    pub ca_file: String,
    /// `Master_SSL_Verify_Server_Cert`/`Source_SSL_Verify_Server_Cert` is `Yes`.
    pub verify: bool,
}

impl ReplicaTls {
    /// From a replica status result (`None`: no replica configured).
    pub fn from_rows(rows: &[Vec<(String, Option<String>)>]) -> Result<Option<ReplicaTls>> {
        let Some(cols) = rows.first() else {
            return Ok(None);
        };
        let row = Row(cols);
        Ok(Some(ReplicaTls {
            ssl: row.yes(&["Master_SSL_Allowed", "Source_SSL_Allowed"])?,
            ca_file: row.string(&["Master_SSL_CA_File", "Source_SSL_CA_File"])?,
            verify: row.yes(&[
                "Master_SSL_Verify_Server_Cert",
                "Source_SSL_Verify_Server_Cert",
            ])?,
        }))
    }

    /// TLS with the source's certificate verified against `ca_file` (`Some`), or no TLS
    /// settings of mhactl's (`None`: TLS off).
    pub fn is(&self, ca_file: Option<&str>) -> bool {
        match ca_file {
            Some(ca) => self.ssl && self.verify && self.ca_file == ca,
            None => !self.ssl && !self.verify && self.ca_file.is_empty(),
        }
    }
}

impl Dialect {
    /// The server's TLS options (name, value) for mhactl's option file.
    pub fn tls_server_options(
        &self,
        ca: &str,
        cert: &str,
        key: &str,
    ) -> Vec<(&'static str, String)> {
        vec![
            ("ssl_ca", ca.to_string()),
            ("ssl_cert", cert.to_string()),
            ("ssl_key", key.to_string()),
        ]
    }

    /// The option that makes the server refuse TCP logins without TLS
    /// (`mysql.require_secure_transport`), written `1` so that turning it on is a `SET
    /// GLOBAL` ([`super::option_changes`]); unix socket logins stay allowed. MySQL 5.7.8+
    /// and MariaDB 10.5.2+ have it (both reference manuals: dynamic, global).
    pub fn require_secure_transport_option(&self) -> anyhow::Result<(&'static str, String)> {
        if !self.has_require_secure_transport() {
            anyhow::bail!(
                "mysql.require_secure_transport: {} has no require_secure_transport \
                 (MySQL 5.7.8 and MariaDB 10.5.2 brought it)",
                self.version()
            );
        }
        Ok(("require_secure_transport", "1".into()))
    }

    /// Does this server have `require_secure_transport`?
    pub(super) fn has_require_secure_transport(&self) -> bool {
        let v = self.v();
        v.mysql_at_least(5, 7, 8) || v.mariadb_at_least(10, 5, 2)
    }

    /// The replica's TLS settings only (no host: the position stays): TLS with the
    /// source's certificate verified against `ca_file`, or (`None`) none.
    pub fn replica_tls_sql(&self, ca_file: Option<&str>) -> String {
        let (stmt, p) = if self.v().mysql_at_least(8, 0, 23) {
            ("CHANGE REPLICATION SOURCE TO", "SOURCE")
        } else {
            ("CHANGE MASTER TO", "MASTER")
        };
        match ca_file {
            Some(ca) => format!(
                "{stmt} {p}_SSL=1, {p}_SSL_CA={}, {p}_SSL_VERIFY_SERVER_CERT=1",
                quote_string(ca)
            ),
            None => format!("{stmt} {p}_SSL=0, {p}_SSL_CA='', {p}_SSL_VERIFY_SERVER_CERT=0"),
        }
    }

    /// Starts only the IO thread (after [`Dialect::replica_tls_sql`]).
    pub fn start_replica_io_sql(&self) -> String {
        if self.replica_keywords() {
            "START REPLICA IO_THREAD"
        } else {
            "START SLAVE IO_THREAD"
        }
        .into()
    }

    /// Makes the running server read its certificate files again (MariaDB 10.4+
    /// `FLUSH LOCAL SSL`, MySQL 8.0.16+ `ALTER INSTANCE RELOAD TLS`; `None` before those).
    /// `LOCAL`: MariaDB writes a plain `FLUSH SSL` to the binary log, and the peer's
    /// replica then runs it while its own files are being replaced (its SQL thread
    /// stopped with 1105 "Failed to refresh SSL ... Unable to get private key" on the
    /// lab); MySQL does not log `ALTER INSTANCE`.
    pub fn reload_tls_sql(&self) -> Option<String> {
        let v = self.v();
        if v.mariadb_at_least(10, 4, 0) {
            Some("FLUSH LOCAL SSL".into())
        } else if v.mysql_at_least(8, 0, 16) {
            Some("ALTER INSTANCE RELOAD TLS".into())
        } else {
            None
        }
    }

    /// `REQUIRE SSL` (`true`) or `REQUIRE NONE` for an account.
    pub fn require_ssl_sql(&self, user: &str, host: &str, ssl: bool) -> String {
        format!(
            "ALTER USER {} REQUIRE {}",
            super::quote_account(user, host),
            if ssl { "SSL" } else { "NONE" }
        )
    }

    /// An account's TLS requirement: one row, `ssl_type` (`''`, `ANY` = REQUIRE SSL,
    /// `X509`, `SPECIFIED`).
    pub fn account_ssl_type_sql(&self, user: &str, host: &str) -> String {
        format!(
            "SELECT ssl_type FROM mysql.user WHERE User = {} AND Host = {}",
            quote_string(user),
            quote_string(host)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dialect {
        Dialect::new(crate::dialect::Version::parse(s).unwrap())
    }

    /// `mysql.require_secure_transport`: rendered `1` where the server has it (so that
    /// turning it on is a `SET GLOBAL`, no restart), refused naming the field where not.
    #[test]
    fn require_secure_transport_where_the_server_has_it() {
        use crate::dialect::OptionPath;
        for v in ["10.11.6-MariaDB", "10.5.2-MariaDB", "8.0.36", "9.7.0"] {
            assert_eq!(
                d(v).require_secure_transport_option().unwrap(),
                ("require_secure_transport", "1".to_string()),
                "{v}"
            );
            assert_eq!(
                d(v).option_change_path(true, "mysqld", "require_secure_transport", Some("1")),
                OptionPath::SetGlobal,
                "{v}"
            );
        }
        let old = d("10.4.32-MariaDB").require_secure_transport_option();
        assert!(old.is_err_and(|e| e
            .to_string()
            .starts_with("mysql.require_secure_transport: ")),);
        assert!(d("5.7.7").require_secure_transport_option().is_err());
    }

    #[test]
    fn replica_tls_statements_name_no_host() {
        assert_eq!(
            d("10.11.6-MariaDB").replica_tls_sql(Some("/etc/mysql/mhactl-tls/ca.pem")),
            "CHANGE MASTER TO MASTER_SSL=1, MASTER_SSL_CA='/etc/mysql/mhactl-tls/ca.pem', \
             MASTER_SSL_VERIFY_SERVER_CERT=1"
        );
        let mysql = d("8.4.3").replica_tls_sql(Some("/x/ca.pem"));
        assert_eq!(
            mysql,
            "CHANGE REPLICATION SOURCE TO SOURCE_SSL=1, SOURCE_SSL_CA='/x/ca.pem', \
             SOURCE_SSL_VERIFY_SERVER_CERT=1"
        );
        assert!(!mysql.contains("HOST"));
        assert!(d("8.4.3").replica_tls_sql(None).contains("SOURCE_SSL=0"));
        // Never replicated to the peer (see reload_tls_sql).
        assert_eq!(
            d("10.11.6-MariaDB").reload_tls_sql().as_deref(),
            Some("FLUSH LOCAL SSL")
        );
        assert_eq!(
            d("8.4.3").reload_tls_sql().as_deref(),
            Some("ALTER INSTANCE RELOAD TLS")
        );
        assert_eq!(
            d("8.4.3").require_ssl_sql("repl", "10.0.0.2", true),
            "ALTER USER 'repl'@'10.0.0.2' REQUIRE SSL"
        );
    }

    #[test]
    fn replica_tls_reads_both_column_names() {
        let row = |cols: &[(&str, &str)]| {
            vec![cols
                .iter()
                .map(|(c, v)| (c.to_string(), Some(v.to_string())))
                .collect::<Vec<_>>()]
        };
        let maria = row(&[
            ("Master_SSL_Allowed", "Yes"),
            ("Master_SSL_CA_File", "/ca.pem"),
            ("Master_SSL_Verify_Server_Cert", "Yes"),
        ]);
        let t = ReplicaTls::from_rows(&maria).unwrap().unwrap();
        assert!(t.is(Some("/ca.pem")) && !t.is(None) && !t.is(Some("/other.pem")));
        let mysql = row(&[
            ("Source_SSL_Allowed", "No"),
            ("Source_SSL_CA_File", ""),
            ("Source_SSL_Verify_Server_Cert", "No"),
        ]);
        assert!(ReplicaTls::from_rows(&mysql).unwrap().unwrap().is(None));
        assert_eq!(ReplicaTls::from_rows(&[]).unwrap(), None);
    }
}
