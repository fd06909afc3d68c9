//! What keepalived's health check asks of the server: a query with a server-side time
//! limit, so a server that accepts connections but cannot run a query fails fast.

use crate::inventory::Flavor;

/// The health check's query, limited to `limit_ms` by the server itself. It reads an
/// InnoDB table (`mysql.innodb_table_stats`, InnoDB in both flavors), so a server whose
/// storage engine is stuck fails it, not only one that stopped answering; it prints `1`.
/// MariaDB: `SET STATEMENT max_statement_time = <seconds> FOR` (10.1.2 and later).
/// MySQL: the `MAX_EXECUTION_TIME(<ms>)` optimizer hint (5.7.8 and later; an older
/// server reads the hint as a comment). The query contains no single quote: the
/// script quotes it in single quotes.
pub fn health_check_sql(flavor: Flavor, limit_ms: u32) -> String {
    match flavor {
        Flavor::Mariadb => format!(
            "SET STATEMENT max_statement_time = {} FOR \
             SELECT COUNT(*) >= 0 FROM mysql.innodb_table_stats",
            crate::os::detection::seconds_text(limit_ms)
        ),
        Flavor::Mysql => format!(
            "SELECT /*+ MAX_EXECUTION_TIME({limit_ms}) */ COUNT(*) >= 0 \
             FROM mysql.innodb_table_stats"
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_query_has_a_server_side_limit_and_no_single_quote() {
        let m = health_check_sql(Flavor::Mariadb, 500);
        assert_eq!(
            m,
            "SET STATEMENT max_statement_time = 0.5 FOR SELECT COUNT(*) >= 0 FROM mysql.innodb_table_stats"
        );
        let y = health_check_sql(Flavor::Mysql, 250);
        assert!(
            y.starts_with("SELECT /*+ MAX_EXECUTION_TIME(250) */"),
            "{y}"
        );
        assert!(!m.contains('\'') && !y.contains('\''));
    }
}
