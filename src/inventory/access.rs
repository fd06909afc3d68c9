//! `access.users`: client accounts limited to client networks, with exactly the
//! privileges the inventory names. This file validates the entries; the networks are
//! parsed in `network.rs`, the grants in `grants.rs`, and the statements that make an
//! account's grants match are built in `dialect::grants`.

use super::grants::{admin_reason, parse_grant};
use super::network::{parse_network, Network};
use super::{AccessUser, Inventory};

/// Every problem with `access.users`, as (field, message).
pub(super) fn check_access(inv: &Inventory) -> Vec<(String, String)> {
    let mut p = Vec::new();
    for (i, u) in inv.access.users.iter().enumerate() {
        let f = |name: &str| format!("access.users[{i}].{name}");
        check_name(inv, i, u, &mut p);
        check_password_source(u, &f, &mut p);
        if u.networks.is_empty() {
            p.push((
                f("networks"),
                "list at least one client network (e.g. [10.0.0.0/24])".into(),
            ));
        }
        for (j, n) in u.networks.iter().enumerate() {
            match parse_network(n) {
                Err(msg) => p.push((format!("access.users[{i}].networks[{j}]"), msg)),
                Ok(Network::Any) if !u.allow_any_host => p.push((
                    format!("access.users[{i}].networks[{j}]"),
                    format!(
                        "{n:?} allows every host on the internet to try this account's \
                         password; list the client networks, or set `allow_any_host: true` \
                         if you really mean it"
                    ),
                )),
                Ok(net) => {
                    let host = net.mysql_host();
                    let dup = u.networks[..j]
                        .iter()
                        .filter_map(|x| parse_network(x).ok())
                        .any(|x| x.mysql_host() == host);
                    if dup {
                        p.push((
                            format!("access.users[{i}].networks[{j}]"),
                            format!("{n:?} is listed twice"),
                        ));
                    }
                }
            }
        }
        if u.privileges.is_empty() {
            p.push((
                f("privileges"),
                "name the privileges, e.g. \"SELECT, INSERT, UPDATE, DELETE ON app.*\"".into(),
            ));
        }
        for (j, g) in u.privileges.iter().enumerate() {
            match parse_grant(g) {
                Err(msg) => p.push((format!("access.users[{i}].privileges[{j}]"), msg)),
                Ok(grant) => {
                    if let (false, Some(why)) = (u.admin, admin_reason(&grant)) {
                        p.push((
                            format!("access.users[{i}].privileges[{j}]"),
                            format!("{g:?} needs `admin: true` on this user: {why}"),
                        ));
                    }
                }
            }
        }
    }
    p
}

fn check_name(inv: &Inventory, i: usize, u: &AccessUser, p: &mut Vec<(String, String)>) {
    let field = format!("access.users[{i}].name");
    let n = &u.name;
    if n.is_empty() {
        p.push((field, "must not be empty".into()));
        return;
    }
    if super::names::is_reserved_account(n) {
        p.push((
            field,
            format!(
                "{n:?} is reserved: mhactl never creates or changes `root` or system \
                 accounts; administer through SSH, or create a named admin user with \
                 `admin: true`"
            ),
        ));
        return;
    }
    if *n == inv.mysql.replication_user {
        p.push((
            field,
            format!("{n:?} is the replication account (mysql.replication_user)"),
        ));
        return;
    }
    if !n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        p.push((field, format!("{n:?}: use letters, digits and `_` only")));
    } else if n.len() > 32 {
        p.push((
            field,
            format!("{n:?} is longer than 32 characters (MySQL's limit)"),
        ));
    } else if inv.access.users[..i].iter().any(|o| o.name == *n) {
        p.push((
            field,
            format!("{n:?} is listed twice; give one entry several networks instead"),
        ));
    }
}

fn check_password_source(
    u: &AccessUser,
    f: &dyn Fn(&str) -> String,
    p: &mut Vec<(String, String)>,
) {
    let mut given = Vec::new();
    if let Some(e) = &u.password_env {
        given.push("password_env");
        if e.is_empty() || e.contains('=') || e.contains('\0') {
            p.push((
                f("password_env"),
                format!("{e:?} is not an environment variable name"),
            ));
        }
    }
    if let Some(file) = &u.password_file {
        given.push("password_file");
        let (path, key) = match file.rsplit_once('#') {
            Some((path, key)) => (path, Some(key)),
            None => (file.as_str(), None),
        };
        if path.is_empty() {
            p.push((f("password_file"), "the path is empty".into()));
        }
        if key == Some("") {
            p.push((
                f("password_file"),
                format!("{file:?} has an empty key after `#` (use `path` or `path#key`)"),
            ));
        }
    }
    if u.password_prompt {
        given.push("password_prompt");
    }
    match given.len() {
        0 => p.push((
            f("password_env"),
            "no password source: set exactly one of `password_env`, `password_file` or \
             `password_prompt: true`"
                .into(),
        )),
        1 => {}
        _ => p.push((
            f(given[1]),
            format!("{} are both given; use exactly one", given.join(" and ")),
        )),
    }
}
