//! The SQL for what `mysql_secure_installation` removes: anonymous accounts, the `test`
//! database and the grants on `test` / `test\_%` that let every account create tables
//! there. A data directory mhactl initialises must not have them (reinit removes them
//! after the fresh server starts, bootstrap's initialisation asks the init tool not to
//! create them), and `verify`'s `access-defaults` check fails when either node has them.

use super::{quote_account, quote_string, Dialect};
use crate::inventory::{Flavor, ServerFamily};

/// The database names whose `mysql.db` rows open them to every account (`test\_%` is a
/// LIKE pattern: any database whose name starts with `test_`).
const TEST_DATABASE_GRANTS: [&str; 2] = ["test", "test\\_%"];

/// Why each flavor may have these objects; the statements removing them are the same.
fn origin(flavor: Flavor) -> &'static str {
    match flavor.family() {
        // mariadb-install-db / mysql_install_db create them unless `--skip-test-db`
        // (10.3+, MDEV-12645): `''@'localhost'`, `''@'<hostname>'`, `test`, and `mysql.db`
        // rows for `test` / `test\_%` (granted to `''`, or to the PUBLIC role in 10.11+).
        ServerFamily::Mariadb => "mariadb-install-db without --skip-test-db",
        // `mysqld --initialize` (5.7+) creates none of them; they come from a data
        // directory made by the old mysql_install_db, or by hand.
        ServerFamily::Mysql => "an old mysql_install_db or a manual change",
    }
}

impl Dialect {
    /// Lists anonymous accounts: rows `(User, Host)`. Roles (MariaDB's PUBLIC has an
    /// empty *host*) are not anonymous accounts: only an empty *user name* is.
    pub fn anonymous_accounts_sql(&self) -> String {
        match self.family() {
            ServerFamily::Mariadb | ServerFamily::Mysql => {
                "SELECT User, Host FROM mysql.user WHERE User = '' ORDER BY Host".into()
            }
        }
    }

    /// Lists the `test` database and the database-level grants that open `test` /
    /// `test\_%` to accounts: rows `(what)`, one per finding, readable as they are.
    pub fn test_database_sql(&self) -> String {
        let dbs: Vec<String> = TEST_DATABASE_GRANTS
            .iter()
            .map(|d| quote_string(d))
            .collect();
        match self.family() {
            ServerFamily::Mariadb | ServerFamily::Mysql => format!(
                "SELECT CONCAT('database ', SCHEMA_NAME) AS what FROM information_schema.SCHEMATA \
                 WHERE SCHEMA_NAME = 'test' \
                 UNION ALL SELECT CONCAT('grants on ', Db, ' to ''', User, '''@''', Host, '''') \
                 FROM mysql.db WHERE Db IN ({})",
                dbs.join(", ")
            ),
        }
    }

    /// The statements that remove anonymous accounts (`anonymous`, from
    /// [`Self::anonymous_accounts_sql`]), the `test` database and the grants on
    /// `test` / `test\_%`, as mysql_secure_installation does. Run them after
    /// [`Self::session_no_binlog_sql`]: they fix this node only and must not replicate
    /// (the peer may hold a `test` database on purpose, and on MySQL with GTIDs the
    /// fresh node would get transactions of its own).
    pub fn remove_insecure_defaults_sql(&self, anonymous: &[(String, String)]) -> Vec<String> {
        let dbs: Vec<String> = TEST_DATABASE_GRANTS
            .iter()
            .map(|d| quote_string(d))
            .collect();
        match self.family() {
            ServerFamily::Mariadb | ServerFamily::Mysql => {
                let mut out: Vec<String> = anonymous
                    .iter()
                    .map(|(user, host)| {
                        format!("DROP USER IF EXISTS {}", quote_account(user, host))
                    })
                    .collect();
                out.push("DROP DATABASE IF EXISTS test".into());
                // Grants to the PUBLIC role (MariaDB 10.11+) or to '' have no DROP USER
                // that removes them; the rows go, then the grant tables are reloaded.
                out.push(format!(
                    "DELETE FROM mysql.db WHERE Db IN ({})",
                    dbs.join(", ")
                ));
                out.push("FLUSH PRIVILEGES".into());
                out
            }
        }
    }

    /// Where anonymous accounts or a `test` database on this flavor usually come from
    /// (for verify's detail).
    pub fn insecure_defaults_origin(&self) -> &'static str {
        origin(self.flavor())
    }
}

#[cfg(test)]
mod tests {
    use crate::dialect::Dialect;

    #[test]
    fn removes_anonymous_accounts_test_database_and_its_grants_on_both_flavors() {
        for v in ["10.11.18-MariaDB", "8.4.2", "5.7.44-log"] {
            let d = Dialect::from_version_string(v).unwrap();
            let sql = d.remove_insecure_defaults_sql(&[
                (String::new(), "localhost".into()),
                (String::new(), "node-b".into()),
            ]);
            assert_eq!(
                sql,
                vec![
                    "DROP USER IF EXISTS ''@'localhost'",
                    "DROP USER IF EXISTS ''@'node-b'",
                    "DROP DATABASE IF EXISTS test",
                    "DELETE FROM mysql.db WHERE Db IN ('test', 'test\\\\_%')",
                    "FLUSH PRIVILEGES",
                ],
                "{v}"
            );
            assert!(d.anonymous_accounts_sql().contains("User = ''"));
            assert!(d
                .test_database_sql()
                .contains("Db IN ('test', 'test\\\\_%')"));
        }
    }
}
