//! Accounts and grants: creating the replication account, the privileges it needs (and
//! more than it needs, in `SHOW GRANTS` output), and root's temporary password from the
//! error log.

use super::{quote_account, quote_string, Dialect};

/// Binary logging off and on for one session (the same on every flavor and version).
pub(super) const SESSION_BINLOG_OFF: &str = "SET SESSION sql_log_bin = 0";
pub(super) const SESSION_BINLOG_ON: &str = "SET SESSION sql_log_bin = 1";

impl Dialect {
    /// Creates the replication account unless it exists.
    pub fn create_replication_user_sql(&self, user: &str, host: &str, password: &str) -> String {
        format!(
            "CREATE USER IF NOT EXISTS {} IDENTIFIED BY {}",
            quote_account(user, host),
            quote_string(password)
        )
    }

    /// Sets the replication account's password.
    pub fn alter_user_password_sql(&self, user: &str, host: &str, password: &str) -> String {
        format!(
            "ALTER USER {} IDENTIFIED BY {}",
            quote_account(user, host),
            quote_string(password)
        )
    }

    /// Grants what the replication account needs.
    pub fn grant_replication_sql(&self, user: &str, host: &str) -> String {
        format!(
            "GRANT {} ON *.* TO {}",
            self.expected_replication_grants().join(", "),
            quote_account(user, host)
        )
    }

    /// `SHOW GRANTS` for an account.
    pub fn show_grants_sql(&self, user: &str, host: &str) -> String {
        format!("SHOW GRANTS FOR {}", quote_account(user, host))
    }

    /// Drops an account (it must exist).
    pub fn drop_user_sql(&self, user: &str, host: &str) -> String {
        format!("DROP USER {}", quote_account(user, host))
    }

    /// Drops an account if it exists.
    pub fn drop_user_if_exists_sql(&self, user: &str, host: &str) -> String {
        format!("DROP USER IF EXISTS {}", quote_account(user, host))
    }

    /// How many replication accounts `user@host` exist: row `n` (0 or 1).
    pub fn count_account_sql(&self, user: &str, host: &str) -> String {
        format!(
            "SELECT COUNT(*) AS n FROM mysql.user WHERE User = {} AND Host = {}",
            quote_string(user),
            quote_string(host)
        )
    }

    /// An account's authentication plugin and stored hash (hex): rows `plugin`, `auth`.
    pub fn account_auth_sql(&self, user: &str, host: &str) -> String {
        format!(
            "SELECT plugin, HEX(authentication_string) AS auth FROM mysql.user WHERE User = {} AND Host = {}",
            quote_string(user),
            quote_string(host)
        )
    }

    /// Creates an account with a copied stored hash (`auth` already a SQL literal).
    pub fn create_user_with_hash_sql(
        &self,
        user: &str,
        host: &str,
        plugin: &str,
        auth: &str,
    ) -> String {
        format!(
            "CREATE USER {} IDENTIFIED WITH {plugin} AS {auth}",
            quote_account(user, host)
        )
    }

    /// Keeps this session's statements out of the binary log, so that account setup on
    /// one node is not replicated to its peer (run it before creating users).
    pub fn session_no_binlog_sql(&self) -> String {
        SESSION_BINLOG_OFF.into()
    }

    /// Turns this session's binary logging back on after [`Self::session_no_binlog_sql`].
    pub fn session_binlog_sql(&self) -> String {
        SESSION_BINLOG_ON.into()
    }

    /// The global privileges, as `SHOW GRANTS` prints them, that the replication account
    /// must hold. MariaDB 10.5.2+ prints `REPLICATION CLIENT` as `BINLOG MONITOR`.
    pub fn expected_replication_grants(&self) -> Vec<&'static str> {
        if self.v().mariadb_at_least(10, 5, 2) {
            vec!["REPLICATION SLAVE", "BINLOG MONITOR"]
        } else {
            vec!["REPLICATION SLAVE", "REPLICATION CLIENT"]
        }
    }

    /// True when `SHOW GRANTS` output (one line per row) grants every privilege of
    /// [`Self::expected_replication_grants`] on `*.*` (or `ALL PRIVILEGES`).
    pub fn grants_cover_replication(&self, show_grants: &[String]) -> bool {
        let held = global_privileges(show_grants);
        if held.iter().any(|p| p == "ALL PRIVILEGES" || p == "ALL") {
            return true;
        }
        self.expected_replication_grants()
            .iter()
            .all(|want| held.iter().any(|p| p == want))
    }

    /// Privileges in `SHOW GRANTS` output beyond what replication needs: anything on
    /// `*.*` other than the replication privileges and `USAGE`, and any grant on a
    /// database or table. Empty means least privilege.
    pub fn extra_privileges(&self, show_grants: &[String]) -> Vec<String> {
        let expected = self.expected_replication_grants();
        let mut extra: Vec<String> = global_privileges(show_grants)
            .into_iter()
            .filter(|p| p != "USAGE" && !expected.iter().any(|e| e == p))
            .collect();
        for line in show_grants {
            let upper = line.to_ascii_uppercase();
            if let Some(on) = upper.find(" ON ") {
                let object = upper[on + 4..].trim_start();
                if upper.starts_with("GRANT ")
                    && !object.starts_with("*.*")
                    && !upper.starts_with("GRANT PROXY")
                {
                    extra.push(line.trim().to_string());
                }
            }
        }
        extra
    }
}

/// The hosts that accounts named `user` exist for: rows `host`. Same text on every
/// flavor and version.
pub fn account_hosts_sql(user: &str) -> String {
    format!(
        "SELECT Host AS host FROM mysql.user WHERE User = {}",
        quote_string(user)
    )
}

/// `ALTER USER USER() IDENTIFIED BY '...'`: the one statement an expired session may run.
pub fn alter_own_password_sql(new: &secrecy::SecretString) -> String {
    use secrecy::ExposeSecret;
    format!(
        "ALTER USER USER() IDENTIFIED BY {}",
        quote_string(new.expose_secret())
    )
}

/// What `mysqld --initialize` writes to the error log before root's random, expired
/// password (MySQL 5.7 and later; the RPM packages' first start runs it).
pub const TEMPORARY_PASSWORD_MARKER: &str =
    "A temporary password is generated for root@localhost: ";

/// The temporary root password in an error log (the last one, should the datadir have
/// been initialized more than once), e.g. from MySQL 8.0+:
/// `... [Note] [MY-010454] [Server] A temporary password is generated for root@localhost: X`.
/// The generated password has no spaces; only the line end is trimmed.
pub fn parse_temporary_password(log: &str) -> Option<String> {
    log.lines()
        .rev()
        .filter_map(|line| line.split_once(TEMPORARY_PASSWORD_MARKER))
        .map(|(_, pw)| pw.trim_end_matches(['\r', '\n']).to_string())
        .find(|pw| !pw.is_empty())
}

/// Privileges granted ON `*.*`, from `SHOW GRANTS` lines, upper-cased.
fn global_privileges(show_grants: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for line in show_grants {
        let line = line.trim();
        let Some(rest) = strip_prefix_ci(line, "GRANT ") else {
            continue;
        };
        let upper = rest.to_ascii_uppercase();
        let Some(on) = upper.find(" ON ") else {
            continue;
        };
        if !upper[on + 4..].trim_start().starts_with("*.*") {
            continue;
        }
        out.extend(
            upper[..on]
                .split(',')
                .map(|p| p.split_whitespace().collect::<Vec<_>>().join(" "))
                .filter(|p| !p.is_empty()),
        );
    }
    out
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    if s.len() >= prefix.len() && s[..prefix.len()].eq_ignore_ascii_case(prefix) {
        Some(&s[prefix.len()..])
    } else {
        None
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Dialect {
        Dialect::from_version_string(s).unwrap()
    }

    #[test]
    fn extra_privileges_flags_more_than_replication() {
        let d = d("10.11.18-MariaDB");
        let least = vec!["GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`10.0.0.2` IDENTIFIED BY PASSWORD '*AB'".to_string()];
        assert!(
            d.extra_privileges(&least).is_empty(),
            "{:?}",
            d.extra_privileges(&least)
        );
        let more = vec![
            "GRANT SELECT, REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`10.0.0.2`"
                .to_string(),
            "GRANT ALL PRIVILEGES ON `app`.* TO `repl`@`10.0.0.2`".to_string(),
        ];
        let extra = d.extra_privileges(&more);
        assert_eq!(extra.len(), 2, "{extra:?}");
        assert_eq!(extra[0], "SELECT");
    }

    #[test]
    fn grants() {
        let mysql = d("8.0.36");
        assert_eq!(
            mysql.grant_replication_sql("repl", "10.0.0.2"),
            "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO 'repl'@'10.0.0.2'"
        );
        assert!(mysql.grants_cover_replication(&[
            "GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO `repl`@`10.0.0.2`".into()
        ]));
        assert!(
            !mysql.grants_cover_replication(&["GRANT USAGE ON *.* TO `repl`@`10.0.0.2`".into()])
        );
        assert!(!mysql.grants_cover_replication(&[
            "GRANT REPLICATION SLAVE ON *.* TO `repl`@`10.0.0.2`".into(),
            "GRANT REPLICATION CLIENT ON `db`.* TO `repl`@`10.0.0.2`".into(),
        ]));
        assert!(
            mysql.grants_cover_replication(&["GRANT ALL PRIVILEGES ON *.* TO `root`@`%`".into()])
        );

        let old_maria = d("10.4.34-MariaDB");
        assert_eq!(
            old_maria.expected_replication_grants(),
            ["REPLICATION SLAVE", "REPLICATION CLIENT"]
        );
        for v in [
            "10.5.2-MariaDB",
            "10.11.18-MariaDB-0+deb12u1",
            "11.8.3-MariaDB-1",
        ] {
            let maria = d(v);
            assert_eq!(
                maria.expected_replication_grants(),
                ["REPLICATION SLAVE", "BINLOG MONITOR"]
            );
            assert_eq!(
                maria.grant_replication_sql("repl", "10.0.0.2"),
                "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO 'repl'@'10.0.0.2'"
            );
            // What MariaDB 10.11 prints after GRANT REPLICATION SLAVE, REPLICATION CLIENT.
            assert!(maria.grants_cover_replication(&[
                "GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `repl`@`10.0.0.2` \
                 IDENTIFIED BY PASSWORD '*0123456789ABCDEF'"
                    .into()
            ]));
            assert!(!maria.grants_cover_replication(&[
                "GRANT REPLICATION SLAVE ON *.* TO `repl`@`10.0.0.2`".into()
            ]));
        }
    }

    #[test]
    fn temporary_password_from_error_logs() {
        let mysql80 = "2024-05-02T10:00:01.123456Z 0 [System] [MY-013169] [Server] /usr/sbin/mysqld (mysqld 8.0.36) initializing of server in progress as process 1234\n\
            2024-05-02T10:00:04.000000Z 6 [Note] [MY-010454] [Server] A temporary password is generated for root@localhost: k;Wq+e_3>Zmt\n\
            2024-05-02T10:00:09.000000Z 0 [System] [MY-010116] [Server] /usr/sbin/mysqld (mysqld 8.0.36) starting as process 1300\n";
        assert_eq!(
            parse_temporary_password(mysql80).as_deref(),
            Some("k;Wq+e_3>Zmt")
        );
        let mysql57 = "2024-05-02T10:00:04.000000Z 1 [Note] A temporary password is generated for root@localhost: ,2hL(u#xyk8a\r\n";
        assert_eq!(
            parse_temporary_password(mysql57).as_deref(),
            Some(",2hL(u#xyk8a")
        );
        let twice = format!("{mysql57}{mysql80}");
        assert_eq!(
            parse_temporary_password(&twice).as_deref(),
            Some("k;Wq+e_3>Zmt")
        );
        assert_eq!(parse_temporary_password(""), None);
        assert_eq!(
            parse_temporary_password(
                "[Warning] [MY-010453] [Server] root@localhost is created with an empty password !"
            ),
            None
        );
    }
}
