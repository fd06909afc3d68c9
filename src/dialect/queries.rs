//! Queries whose text is the same on every flavor and version (liveness, version, one
//! global variable, the database list, server identity): free functions, so callers
//! that have no [`super::Dialect`] yet (reading the version is how one gets it) still
//! take their SQL from here.

use super::quote_string;

/// Cheapest query proving the server answers.
pub fn ping_sql() -> &'static str {
    "SELECT 1"
}

/// The server version string: row `version` (what [`super::Version::parse`] reads).
pub fn version_sql() -> &'static str {
    "SELECT VERSION() AS version"
}

/// One global variable's value: row `value`. `name` must be a variable name mhactl
/// chose (it is not quoted).
pub fn global_variable_sql(name: &str) -> String {
    format!("SELECT @@GLOBAL.{name} AS value")
}

/// Which of `names` the running server has as global variables: column `Variable_name`
/// (a component's variables, `validate_password.policy`, exist only once it is loaded).
pub fn known_global_variables_sql(names: &[String]) -> String {
    let list: Vec<String> = names.iter().map(|n| quote_string(n)).collect();
    format!(
        "SHOW GLOBAL VARIABLES WHERE Variable_name IN ({})",
        list.join(", ")
    )
}

/// The socket the server listens on: row `socket`.
pub fn server_socket_sql() -> &'static str {
    "SELECT @@socket AS socket"
}

/// The answering server's `server_id`: row `id`.
pub fn server_id_sql() -> &'static str {
    "SELECT @@server_id AS id"
}

/// All databases: one column `Database`.
pub fn show_databases_sql() -> &'static str {
    "SHOW DATABASES"
}

/// The server's data directory: row `d`.
pub fn datadir_sql() -> &'static str {
    "SELECT @@datadir AS d"
}

/// The server's pid file and data directory: rows `pid_file`, `datadir`.
pub fn pid_file_sql() -> &'static str {
    "SELECT @@pid_file AS pid_file, @@datadir AS datadir"
}

/// Total data and index size of `databases`, in KiB: row `kib`.
pub fn databases_size_kib_sql(databases: &[String]) -> String {
    let list: Vec<String> = databases.iter().map(|d| quote_string(d)).collect();
    format!(
        "SELECT COALESCE(SUM(DATA_LENGTH + INDEX_LENGTH), 0) DIV 1024 AS kib \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA IN ({})",
        list.join(", ")
    )
}

/// Global status values of `names` in one query: rows `Variable_name`, `Value`.
pub fn show_global_status_sql(names: &[&str]) -> String {
    let list: Vec<String> = names.iter().map(|n| quote_string(n)).collect();
    format!(
        "SHOW GLOBAL STATUS WHERE Variable_name IN ({})",
        list.join(", ")
    )
}

/// `CHECKSUM TABLE list EXTENDED` (`list`: quoted tables, comma-separated): rows
/// `Table`, `Checksum`; reads every row.
pub fn checksum_table_sql(list: &str) -> String {
    format!("CHECKSUM TABLE {list} EXTENDED")
}

/// Every base table as `` `db`.`table` `` (row `t`), in order, outside `excluded`
/// databases and, when `only` is not empty, inside those.
pub fn base_tables_sql(excluded: &[String], only: &[String]) -> String {
    let quoted = |dbs: &[String]| {
        dbs.iter()
            .map(|d| quote_string(d))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut sql = format!(
        "SELECT CONCAT('`', TABLE_SCHEMA, '`.`', TABLE_NAME, '`') AS t FROM information_schema.TABLES \
         WHERE TABLE_TYPE = 'BASE TABLE' AND TABLE_SCHEMA NOT IN ({})",
        quoted(excluded)
    );
    if !only.is_empty() {
        sql.push_str(&format!(" AND TABLE_SCHEMA IN ({})", quoted(only)));
    }
    sql.push_str(" ORDER BY 1");
    sql
}
