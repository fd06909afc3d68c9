//! Names with a fixed meaning to the server, decided in one place so that the validator,
//! the renderer and the accounts steps agree:
//!
//! - [`is_system_schema`]: databases that are never replicated (`mysql` and the other
//!   system schemas), compared without regard to case, the way the renderer filters
//!   them out of `replicate-do-db`;
//! - [`is_reserved_account`]: accounts mhactl never creates or changes (`root`, the
//!   server's system accounts, mhactl's own short-lived ones).

/// The system schemas: `mysql` (accounts, privileges), `information_schema`,
/// `performance_schema` (neither is stored, so neither replicates) and `sys` (views).
pub const SYSTEM_SCHEMAS: &[&str] = &["mysql", "information_schema", "performance_schema", "sys"];

/// Is `db` a system schema, in any letter case? `MYSQL` is refused and filtered like
/// `mysql`: on a server with `lower_case_table_names` set it is the same schema.
pub fn is_system_schema(db: &str) -> bool {
    SYSTEM_SCHEMAS.iter().any(|s| s.eq_ignore_ascii_case(db))
}

/// Accounts mhactl never creates or changes, whatever the inventory says.
pub const RESERVED_ACCOUNTS: &[&str] = &[
    "root",
    "mysql",
    "mariadb.sys",
    "mysql.sys",
    "mysql.session",
    "mysql.infoschema",
    "debian-sys-maint",
    "mhactl_pwcheck",
    "mhactl_probe",
    // The peer's fence agent's login to this node's client list (issue 17's tickle ACKs).
    "mhactl_clients",
    "PUBLIC",
];

/// Is `name` a reserved account, in any letter case (`Root` is another account to the
/// server, but nobody means it as an application's or the replication account)?
pub fn is_reserved_account(name: &str) -> bool {
    RESERVED_ACCOUNTS
        .iter()
        .any(|r| r.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn system_schemas_in_any_case() {
        for s in ["mysql", "MYSQL", "Mysql", "sys", "PERFORMANCE_SCHEMA"] {
            assert!(is_system_schema(s), "{s}");
        }
        assert!(!is_system_schema("shop"));
        assert!(!is_system_schema("mysql2"));
    }

    #[test]
    fn reserved_accounts() {
        assert!(is_reserved_account("root"));
        assert!(is_reserved_account("ROOT"));
        assert!(is_reserved_account("debian-sys-maint"));
        assert!(!is_reserved_account("repl"));
    }
}
