//! Grants of `access.users`: the privilege-name vocabulary (which privilege exists at
//! which level, which a non-admin account may hold on `*.*`), parsing an inventory grant
//! and reading `SHOW GRANTS` back into the same shape. Pure data and parsing: the
//! GRANT/REVOKE statements that reconcile the two are built in `dialect::grants`, which
//! reads these values (inventory never depends on dialect).

use std::collections::{BTreeMap, BTreeSet};

/// What a grant applies to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum GrantObject {
    /// `*.*`: the whole server.
    Global,
    /// `db.*`.
    Database(String),
    /// `db.table`.
    Table(String, String),
}

impl GrantObject {
    fn database(&self) -> Option<&str> {
        match self {
            GrantObject::Global => None,
            GrantObject::Database(d) | GrantObject::Table(d, _) => Some(d),
        }
    }
}

impl std::fmt::Display for GrantObject {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GrantObject::Global => f.write_str("*.*"),
            GrantObject::Database(d) => write!(f, "{d}.*"),
            GrantObject::Table(d, t) => write!(f, "{d}.{t}"),
        }
    }
}

/// One grant: privileges (upper case, canonical names) on one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// Privileges, e.g. `SELECT`, `ALL PRIVILEGES`, `GRANT OPTION`.
    pub privileges: Vec<String>,
    /// What they apply to.
    pub object: GrantObject,
}

/// Privileges that exist only at the server level (`ON *.*`).
const GLOBAL_ONLY: &[&str] = &[
    "RELOAD",
    "SHUTDOWN",
    "PROCESS",
    "FILE",
    "SHOW DATABASES",
    "SUPER",
    "REPLICATION SLAVE",
    "REPLICATION CLIENT",
    "CREATE USER",
    "CREATE TABLESPACE",
    "CREATE ROLE",
    "DROP ROLE",
    "BINLOG MONITOR",
    "BINLOG ADMIN",
    "BINLOG REPLAY",
    "CONNECTION ADMIN",
    "FEDERATED ADMIN",
    "READ_ONLY ADMIN",
    "REPLICATION MASTER ADMIN",
    "REPLICA MONITOR",
    "REPLICATION SLAVE ADMIN",
    "SET USER",
    "USAGE",
];

/// Privileges that also exist on a database.
const DATABASE_LEVEL: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "EVENT",
    "TRIGGER",
    "DELETE HISTORY",
    "SHOW CREATE ROUTINE",
    "ALL PRIVILEGES",
    "GRANT OPTION",
];

/// Privileges that also exist on a table.
const TABLE_LEVEL: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "CREATE VIEW",
    "SHOW VIEW",
    "TRIGGER",
    "DELETE HISTORY",
    "ALL PRIVILEGES",
    "GRANT OPTION",
];

/// Server-level privileges an account without `admin: true` may hold: monitoring only.
const MONITORING: &[&str] = &[
    "USAGE",
    "PROCESS",
    "REPLICATION CLIENT",
    "REPLICA MONITOR",
    "SHOW DATABASES",
];

/// One privilege name in canonical form: upper case, single spaces, aliases folded
/// (`ALL` → `ALL PRIVILEGES`; MariaDB's `BINLOG MONITOR` → `REPLICATION CLIENT`, ...).
fn canonical(p: &str) -> String {
    let p = p
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_ascii_uppercase();
    match p.as_str() {
        "ALL" => "ALL PRIVILEGES".into(),
        "BINLOG MONITOR" => "REPLICATION CLIENT".into(),
        "SLAVE MONITOR" => "REPLICA MONITOR".into(),
        "REPLICATION REPLICA" => "REPLICATION SLAVE".into(),
        _ => p,
    }
}

/// A MySQL 8 dynamic privilege (`BACKUP_ADMIN`, ...): one upper-case word with `_`.
fn dynamic(p: &str) -> bool {
    p.contains('_') && p.chars().all(|c| c.is_ascii_uppercase() || c == '_')
}

/// Split at commas outside parentheses.
fn split_privileges(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut cur = String::new();
    for c in s.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                out.push(std::mem::take(&mut cur));
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    out.push(cur);
    out.into_iter().map(|p| p.trim().to_string()).collect()
}

/// Case-insensitive position of ` ON ` (the first, or the last).
fn find_on(s: &str, last: bool) -> Option<usize> {
    let upper = s.to_ascii_uppercase();
    if last {
        upper.rfind(" ON ")
    } else {
        upper.find(" ON ")
    }
}

fn name_part(s: &str) -> Result<String, String> {
    let n = s.trim().trim_matches('`');
    if n == "*" {
        return Ok(n.into());
    }
    if n.is_empty()
        || n.len() > 64
        || !n
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-'))
    {
        return Err(format!(
            "{s:?} is not a database or table name (letters, digits, `_`, `$`, `-`)"
        ));
    }
    Ok(n.into())
}

fn parse_object(s: &str) -> Result<GrantObject, String> {
    let t = s.trim();
    let upper = t.to_ascii_uppercase();
    for kw in ["PROCEDURE ", "FUNCTION ", "TABLE "] {
        if upper.starts_with(kw) {
            return Err(format!(
                "{t:?}: grants on routines are not supported; grant EXECUTE on the database"
            ));
        }
    }
    if t == "*" {
        return Err("`*` alone means the default database; write db.* or *.*".into());
    }
    let (db, table) = t.split_once('.').ok_or_else(|| {
        format!("{t:?} is not db.*, db.table or *.* (name the database explicitly)")
    })?;
    let db = name_part(db)?;
    let table = name_part(table)?;
    Ok(match (db.as_str(), table.as_str()) {
        ("*", "*") => GrantObject::Global,
        ("*", _) => return Err(format!("{t:?}: a table needs its database (db.table)")),
        (_, "*") => GrantObject::Database(db),
        _ => GrantObject::Table(db, table),
    })
}

/// Parse one inventory grant: `SELECT, INSERT ON app.*` (an optional leading `GRANT`
/// and trailing `WITH GRANT OPTION` are understood). Checks privilege names and that
/// each exists at the object's level; not whether the account may hold it (see
/// [`admin_reason`]).
pub fn parse_grant(text: &str) -> Result<Grant, String> {
    let mut t = text.trim().to_string();
    // `get`, not indexing: byte 6 may fall inside a multi-byte character (a fuzzed
    // `SE日本LECT` panicked here).
    if let Some(rest) = t
        .get(..6)
        .filter(|head| head.eq_ignore_ascii_case("GRANT "))
        .and_then(|_| t.get(6..))
        .filter(|rest| {
            !rest.is_empty() && !rest.trim_start().to_ascii_uppercase().starts_with("OPTION")
        })
    {
        t = rest.to_string();
    }
    let mut with_grant_option = false;
    let upper = t.to_ascii_uppercase();
    if upper.ends_with(" WITH GRANT OPTION") {
        t.truncate(t.len() - " WITH GRANT OPTION".len());
        with_grant_option = true;
    }
    if t.to_ascii_uppercase().contains(" TO ") {
        return Err(format!(
            "{text:?}: write only `PRIVILEGES ON object`; mhactl adds the account"
        ));
    }
    let on = find_on(&t, true).ok_or_else(|| {
        format!("{text:?} is not `PRIVILEGES ON object` (e.g. \"SELECT ON app.*\")")
    })?;
    let object = parse_object(&t[on + 4..])?;
    let mut privileges = Vec::new();
    for p in split_privileges(&t[..on]) {
        if p.is_empty() {
            return Err(format!("{text:?} has an empty privilege"));
        }
        if p.contains('(') {
            return Err(format!(
                "{text:?}: column privileges ({p}) are not supported; grant on the table"
            ));
        }
        let c = canonical(&p);
        let known = GLOBAL_ONLY.contains(&c.as_str()) || DATABASE_LEVEL.contains(&c.as_str());
        if !known && !dynamic(&c) {
            let all: Vec<String> = GLOBAL_ONLY
                .iter()
                .chain(DATABASE_LEVEL)
                .map(|s| s.to_ascii_lowercase())
                .collect();
            let hint = super::load::did_you_mean(&c, &all)
                .map(|s| format!(", did you mean {}?", s.to_ascii_uppercase()))
                .unwrap_or_default();
            return Err(format!("{text:?}: unknown privilege {p:?}{hint}"));
        }
        let ok_here = match &object {
            GrantObject::Global => true,
            GrantObject::Database(_) => DATABASE_LEVEL.contains(&c.as_str()),
            GrantObject::Table(..) => TABLE_LEVEL.contains(&c.as_str()),
        };
        if !ok_here {
            return Err(format!(
                "{text:?}: {c} cannot be granted on {object}{}",
                if GLOBAL_ONLY.contains(&c.as_str()) || dynamic(&c) {
                    " (a server-level privilege: grant it ON *.*)"
                } else {
                    ""
                }
            ));
        }
        if !privileges.contains(&c) {
            privileges.push(c);
        }
    }
    if with_grant_option && !privileges.iter().any(|p| p == "GRANT OPTION") {
        privileges.push("GRANT OPTION".into());
    }
    Ok(Grant { privileges, object })
}

/// Why a grant needs `admin: true`, or `None` for an ordinary application grant.
pub fn admin_reason(g: &Grant) -> Option<String> {
    if g.privileges.iter().any(|p| p == "GRANT OPTION") {
        return Some("GRANT OPTION lets the account hand its privileges to others".into());
    }
    if g.object
        .database()
        .is_some_and(|d| d.eq_ignore_ascii_case("mysql"))
    {
        return Some("the `mysql` system schema holds every account and password hash".into());
    }
    if g.object == GrantObject::Global {
        if g.privileges.iter().any(|p| p == "ALL PRIVILEGES") {
            return Some("ALL PRIVILEGES ON *.* makes the account a second root".into());
        }
        let beyond: Vec<&str> = g
            .privileges
            .iter()
            .map(String::as_str)
            .filter(|p| !MONITORING.contains(p))
            .collect();
        if !beyond.is_empty() {
            return Some(format!(
                "{} ON *.* applies to every database, the `mysql` system schema included; \
                 grant on the application's databases (app.*), or only monitoring \
                 privileges (PROCESS, REPLICATION CLIENT, SHOW DATABASES) on *.*",
                beyond.join(", ")
            ));
        }
    }
    None
}

/// Parse `SHOW GRANTS` output (one statement per line) into grants per object.
/// Lines that are not object grants (roles, `PROXY`) are skipped; `USAGE` is dropped.
pub fn parse_show_grants(lines: &[String]) -> BTreeMap<GrantObject, BTreeSet<String>> {
    let mut out: BTreeMap<GrantObject, BTreeSet<String>> = BTreeMap::new();
    for line in lines {
        let l = line.trim();
        let Some(rest) = l
            .get(..6)
            .filter(|head| head.eq_ignore_ascii_case("GRANT "))
            .and_then(|_| l.get(6..))
        else {
            continue;
        };
        let upper = rest.to_ascii_uppercase();
        if upper.starts_with("PROXY ") {
            continue;
        }
        let Some(on) = find_on(rest, false) else {
            continue;
        };
        let Some(to) = upper[on + 4..].find(" TO ").map(|x| x + on + 4) else {
            continue;
        };
        let object_text = rest[on + 4..to]
            .trim()
            .replace("\\_", "_")
            .replace("\\%", "%");
        let Ok(object) = parse_object(&object_text) else {
            continue;
        };
        let entry = out.entry(object).or_default();
        for p in split_privileges(&rest[..on]) {
            let c = canonical(&p);
            if c != "USAGE" && !c.is_empty() {
                entry.insert(c);
            }
        }
        if upper.contains(" WITH GRANT OPTION") {
            entry.insert("GRANT OPTION".into());
        }
    }
    out.retain(|_, v| !v.is_empty());
    out
}

/// The wanted grants of an account, merged per object.
pub fn wanted_grants(grants: &[Grant]) -> BTreeMap<GrantObject, BTreeSet<String>> {
    let mut out: BTreeMap<GrantObject, BTreeSet<String>> = BTreeMap::new();
    for g in grants {
        out.entry(g.object.clone())
            .or_default()
            .extend(g.privileges.iter().filter(|p| *p != "USAGE").cloned());
    }
    out.retain(|_, v| !v.is_empty());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(xs: &[&str]) -> BTreeSet<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    /// Write fencing (issue 16): MariaDB's `read_only` does not stop an account with
    /// SUPER (before 10.11) or READ_ONLY ADMIN, and ALL PRIVILEGES ON *.* includes
    /// them. An application user (no `admin: true`) can never hold any of them, on any
    /// object, so `read_only` fences every application user of the passive node.
    #[test]
    fn fence_bypassing_privileges_need_admin() {
        for text in [
            "SUPER ON *.*",
            "READ_ONLY ADMIN ON *.*",
            "read_only admin on *.*",
            "SELECT, SUPER ON *.*",
            "ALL PRIVILEGES ON *.*",
            "CONNECTION ADMIN ON *.*",
        ] {
            let g = parse_grant(text).unwrap();
            assert!(admin_reason(&g).is_some(), "{text} passed as an app grant");
        }
        for text in ["SUPER ON app.*", "READ_ONLY ADMIN ON app.*"] {
            assert!(parse_grant(text).is_err(), "{text} accepted on a database");
        }
    }

    #[test]
    fn grants_parse_and_need_admin() {
        let g = parse_grant("select, insert ON app.*").unwrap();
        assert_eq!(g.privileges, ["SELECT", "INSERT"]);
        assert_eq!(g.object, GrantObject::Database("app".into()));
        assert_eq!(admin_reason(&g), None);
        let g = parse_grant("GRANT ALL ON `shop`.`orders`").unwrap();
        assert_eq!(g.privileges, ["ALL PRIVILEGES"]);
        assert_eq!(g.object, GrantObject::Table("shop".into(), "orders".into()));
        assert_eq!(admin_reason(&g), None);
        for admin in [
            "ALL PRIVILEGES ON *.*",
            "all on *.*",
            "SELECT ON app.* WITH GRANT OPTION",
            "GRANT OPTION ON app.*",
            "SELECT ON mysql.user",
            "SELECT ON *.*",
            "SUPER ON *.*",
            "BACKUP_ADMIN ON *.*",
        ] {
            let g = parse_grant(admin).unwrap();
            assert!(admin_reason(&g).is_some(), "{admin}");
        }
        assert_eq!(
            admin_reason(&parse_grant("PROCESS, REPLICATION CLIENT ON *.*").unwrap()),
            None
        );
        assert!(parse_grant("SELCT ON app.*")
            .unwrap_err()
            .contains("did you mean SELECT"));
        assert!(parse_grant("SUPER ON app.*")
            .unwrap_err()
            .contains("ON *.*"));
        assert!(parse_grant("SELECT (a, b) ON app.t")
            .unwrap_err()
            .contains("column"));
        assert!(parse_grant("SELECT ON app").is_err());
        assert!(parse_grant("SELECT").is_err());
        assert!(parse_grant("SELECT ON app.* TO 'x'@'%'").is_err());
    }

    #[test]
    fn show_grants_fold_aliases() {
        assert_eq!(
            parse_show_grants(
                &["GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `m`@`h`".into()]
            )[&GrantObject::Global],
            set(&["REPLICATION SLAVE", "REPLICATION CLIENT"])
        );
    }
}
