//! Queries whose text is the same on every flavor and version (liveness, version, one
//! global variable, the database list, server identity): free functions, so callers
//! that have no [`super::Dialect`] yet (reading the version is how one gets it) still
//! take their SQL from here.

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
