//! Application accounts' grants as statements: the GRANT and REVOKE that turn the
//! privileges an account holds (read back by `inventory::parse_show_grants`) into the
//! ones the inventory names (`inventory::wanted_grants`). The same on every flavor and
//! version, except that MySQL 8 prints `ALL PRIVILEGES ON *.*` as the list, which
//! `ALL_GLOBAL_CORE` recognises.

use crate::inventory::GrantObject;
use std::collections::{BTreeMap, BTreeSet};

/// What `ALL PRIVILEGES ON *.*` includes on every supported version (MySQL 8 prints
/// the list instead of `ALL PRIVILEGES` for the server level).
const ALL_GLOBAL_CORE: &[&str] = &[
    "SELECT",
    "INSERT",
    "UPDATE",
    "DELETE",
    "CREATE",
    "DROP",
    "RELOAD",
    "SHUTDOWN",
    "PROCESS",
    "FILE",
    "REFERENCES",
    "INDEX",
    "ALTER",
    "SHOW DATABASES",
    "SUPER",
    "CREATE TEMPORARY TABLES",
    "LOCK TABLES",
    "EXECUTE",
    "REPLICATION SLAVE",
    "REPLICATION CLIENT",
    "CREATE VIEW",
    "SHOW VIEW",
    "CREATE ROUTINE",
    "ALTER ROUTINE",
    "CREATE USER",
    "EVENT",
    "TRIGGER",
];

/// SQL for a grant's object. Database-level names escape `_` and `%`, which GRANT
/// otherwise treats as wildcards (`app_db.*` would also match `appXdb`).
fn grant_object_sql(object: &GrantObject) -> String {
    match object {
        GrantObject::Global => "*.*".into(),
        GrantObject::Database(d) => {
            format!("`{}`.*", d.replace('_', "\\_").replace('%', "\\%"))
        }
        GrantObject::Table(d, t) => format!("`{d}`.`{t}`"),
    }
}

/// SQL statements that turn the `actual` grants of `account` (quoted) into `wanted`:
/// GRANT what is missing, REVOKE what is extra, object by object. Empty: nothing to do.
pub fn grant_changes(
    account: &str,
    wanted: &BTreeMap<GrantObject, BTreeSet<String>>,
    actual: &BTreeMap<GrantObject, BTreeSet<String>>,
) -> Vec<String> {
    let empty = BTreeSet::new();
    let objects: BTreeSet<&GrantObject> = wanted.keys().chain(actual.keys()).collect();
    let mut out = Vec::new();
    for object in objects {
        let w = wanted.get(object).unwrap_or(&empty);
        let a = actual.get(object).unwrap_or(&empty);
        let obj = grant_object_sql(object);
        let is_all = |set: &BTreeSet<String>| {
            set.contains("ALL PRIVILEGES")
                || (*object == GrantObject::Global
                    && ALL_GLOBAL_CORE.iter().all(|p| set.contains(*p)))
        };
        let (w_opt, a_opt) = (w.contains("GRANT OPTION"), a.contains("GRANT OPTION"));
        let plain = |set: &BTreeSet<String>| -> BTreeSet<String> {
            set.iter()
                .filter(|p| *p != "GRANT OPTION")
                .cloned()
                .collect()
        };
        let (wp, ap) = (plain(w), plain(a));
        if is_all(&wp) {
            if !is_all(&ap) {
                out.push(format!("GRANT ALL PRIVILEGES ON {obj} TO {account}"));
            }
        } else {
            let mut current = ap.clone();
            if is_all(&ap) {
                out.push(format!("REVOKE ALL PRIVILEGES ON {obj} FROM {account}"));
                current.clear();
            }
            let extra: Vec<&String> = current.difference(&wp).collect();
            if !extra.is_empty() {
                out.push(format!("REVOKE {} ON {obj} FROM {account}", join(&extra)));
            }
            let missing: Vec<&String> = wp.difference(&current).collect();
            if !missing.is_empty() {
                out.push(format!("GRANT {} ON {obj} TO {account}", join(&missing)));
            }
        }
        if w_opt && !a_opt {
            out.push(format!(
                "GRANT USAGE ON {obj} TO {account} WITH GRANT OPTION"
            ));
        } else if a_opt && !w_opt {
            out.push(format!("REVOKE GRANT OPTION ON {obj} FROM {account}"));
        }
    }
    out
}

fn join(ps: &[&String]) -> String {
    ps.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{parse_grant, parse_show_grants, wanted_grants};

    #[test]
    fn object_names_escape_wildcards() {
        assert_eq!(
            grant_object_sql(&GrantObject::Database("app_db".into())),
            "`app\\_db`.*"
        );
    }

    #[test]
    fn show_grants_round_trip_and_changes() {
        let acct = "'app'@'10.0.0.0/255.255.255.0'";
        let shown = vec![
            "GRANT USAGE ON *.* TO `app`@`10.0.0.0/255.255.255.0` IDENTIFIED BY PASSWORD '*AB'"
                .to_string(),
            "GRANT SELECT, INSERT, UPDATE ON `app\\_db`.* TO `app`@`10.0.0.0/255.255.255.0`"
                .to_string(),
        ];
        let actual = parse_show_grants(&shown);
        let want = wanted_grants(&[parse_grant("SELECT, INSERT, UPDATE ON app_db.*").unwrap()]);
        assert_eq!(actual, want);
        assert!(grant_changes(acct, &want, &actual).is_empty());

        let want2 = wanted_grants(&[
            parse_grant("SELECT, DELETE ON app_db.*").unwrap(),
            parse_grant("SELECT ON logs.*").unwrap(),
        ]);
        assert_eq!(
            grant_changes(acct, &want2, &actual),
            [
                format!("REVOKE INSERT, UPDATE ON `app\\_db`.* FROM {acct}"),
                format!("GRANT DELETE ON `app\\_db`.* TO {acct}"),
                format!("GRANT SELECT ON `logs`.* TO {acct}"),
            ]
        );
        // Someone granted more by hand: revoked.
        let more = parse_show_grants(&[
            "GRANT ALL PRIVILEGES ON `app\\_db`.* TO `app`@`x` WITH GRANT OPTION".to_string(),
            "GRANT SELECT ON *.* TO `app`@`x`".to_string(),
        ]);
        assert_eq!(
            grant_changes(acct, &want, &more),
            [
                format!("REVOKE SELECT ON *.* FROM {acct}"),
                format!("REVOKE ALL PRIVILEGES ON `app\\_db`.* FROM {acct}"),
                format!("GRANT INSERT, SELECT, UPDATE ON `app\\_db`.* TO {acct}"),
                format!("REVOKE GRANT OPTION ON `app\\_db`.* FROM {acct}"),
            ]
        );
        // MySQL 8 prints ALL PRIVILEGES ON *.* as the list of privileges.
        let all = wanted_grants(&[parse_grant("ALL PRIVILEGES ON *.* WITH GRANT OPTION").unwrap()]);
        let mut expanded: Vec<&str> = ALL_GLOBAL_CORE.to_vec();
        expanded.push("CREATE ROLE");
        let line = format!(
            "GRANT {} ON *.* TO `dba`@`10.0.0.5` WITH GRANT OPTION",
            expanded.join(", ")
        );
        let shown = parse_show_grants(&[
            line,
            "GRANT BACKUP_ADMIN,XA_RECOVER_ADMIN ON *.* TO `dba`@`10.0.0.5` WITH GRANT OPTION"
                .into(),
        ]);
        assert!(grant_changes("'dba'@'10.0.0.5'", &all, &shown).is_empty());
    }
}
