//! `access.users`: client accounts limited to client networks, with exactly the
//! privileges the inventory names. This file parses and validates the networks and the
//! grants (pure functions, also used to read `SHOW GRANTS` back), and compares granted
//! with wanted privileges so the `app-users` step can be idempotent.

use super::{AccessUser, Inventory};
use std::collections::{BTreeMap, BTreeSet};
use std::net::Ipv4Addr;

/// A client network of an account, as written in `access.users[].networks`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Network {
    /// One address (`10.0.0.5`, or a `/32`).
    Host(Ipv4Addr),
    /// A CIDR block (`10.0.0.0/24`), host bits zero, prefix 1-31.
    Cidr(Ipv4Addr, u8),
    /// A pattern whose trailing octets are `%` (`10.0.0.%`): the leading octets.
    Pattern(Vec<u8>, String),
    /// Every host: `%` (or `0.0.0.0/0`, `%.%.%.%`).
    Any,
}

impl Network {
    /// The host part of the MySQL account for this network: `10.0.0.5`,
    /// `10.0.0.0/255.255.255.0` (netmask notation: every MySQL and MariaDB version
    /// understands it, CIDR only MySQL 8.0.23+), `10.0.0.%` or `%`.
    pub fn mysql_host(&self) -> String {
        match self {
            Network::Host(a) => a.to_string(),
            Network::Cidr(a, p) => format!("{a}/{}", Ipv4Addr::from(mask(*p))),
            Network::Pattern(_, text) => text.clone(),
            Network::Any => "%".into(),
        }
    }

    /// The same network as an address and prefix length, for firewall rules
    /// (`None`: every host).
    pub fn cidr(&self) -> Option<(Ipv4Addr, u8)> {
        match self {
            Network::Host(a) => Some((*a, 32)),
            Network::Cidr(a, p) => Some((*a, *p)),
            Network::Pattern(octets, _) => {
                let mut b = [0u8; 4];
                b[..octets.len()].copy_from_slice(octets);
                Some((Ipv4Addr::from(b), 8 * octets.len() as u8))
            }
            Network::Any => None,
        }
    }

    /// The firewall's notation: `10.0.0.5`, `10.0.0.0/24`; `None` for every host.
    pub fn firewall_source(&self) -> Option<String> {
        self.cidr().map(|(a, p)| {
            if p == 32 {
                a.to_string()
            } else {
                format!("{a}/{p}")
            }
        })
    }

    /// Does this network contain `ip`?
    pub fn contains(&self, ip: Ipv4Addr) -> bool {
        match self.cidr() {
            None => true,
            Some((a, p)) => u32::from(ip) & mask(p) == u32::from(a),
        }
    }
}

fn mask(prefix: u8) -> u32 {
    if prefix == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(prefix.min(32)))
    }
}

/// Parse one entry of `networks`. Host names are refused: the servers run with
/// `skip_name_resolve`, so an account for a name would never match.
pub fn parse_network(text: &str) -> Result<Network, String> {
    let t = text.trim();
    let bad = || {
        format!(
            "{text:?} is not an IPv4 address (10.0.0.5), a CIDR block (10.0.0.0/24) or a \
             pattern with `%` for whole trailing octets (10.0.0.%); host names cannot work \
             (the servers run with skip_name_resolve)"
        )
    };
    if t == "%" {
        return Ok(Network::Any);
    }
    if let Some((addr, prefix)) = t.split_once('/') {
        let a: Ipv4Addr = addr.parse().map_err(|_| bad())?;
        let p: u8 = prefix
            .parse()
            .ok()
            .filter(|p| *p <= 32)
            .ok_or_else(|| format!("{text:?}: the prefix length must be 0-32"))?;
        if u32::from(a) & !mask(p) != 0 {
            let net = Ipv4Addr::from(u32::from(a) & mask(p));
            return Err(format!(
                "{text:?} has host bits set; the network is {net}/{p}"
            ));
        }
        return Ok(match p {
            0 => Network::Any,
            32 => Network::Host(a),
            _ => Network::Cidr(a, p),
        });
    }
    if t.contains('%') {
        let parts: Vec<&str> = t.split('.').collect();
        if parts.len() > 4 {
            return Err(bad());
        }
        let fixed: Vec<&str> = parts.iter().take_while(|p| **p != "%").copied().collect();
        if parts[fixed.len()..].iter().any(|p| *p != "%") {
            return Err(bad());
        }
        let octets: Option<Vec<u8>> = fixed.iter().map(|o| octet(o)).collect();
        let octets = octets.ok_or_else(bad)?;
        if octets.is_empty() {
            return Ok(Network::Any);
        }
        return Ok(Network::Pattern(octets, t.to_string()));
    }
    t.parse::<Ipv4Addr>().map(Network::Host).map_err(|_| bad())
}

fn octet(s: &str) -> Option<u8> {
    if s.is_empty() || s.len() > 3 || !s.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

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
    /// SQL for the object. Database-level names escape `_` and `%`, which GRANT
    /// otherwise treats as wildcards (`app_db.*` would also match `appXdb`).
    pub fn sql(&self) -> String {
        match self {
            GrantObject::Global => "*.*".into(),
            GrantObject::Database(d) => {
                format!("`{}`.*", d.replace('_', "\\_").replace('%', "\\%"))
            }
            GrantObject::Table(d, t) => format!("`{d}`.`{t}`"),
        }
    }

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
        let obj = object.sql();
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

#[cfg(test)]
mod tests {
    use super::*;

    fn set(xs: &[&str]) -> BTreeSet<String> {
        xs.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn networks() {
        let n = parse_network("10.0.0.0/24").unwrap();
        assert_eq!(n.mysql_host(), "10.0.0.0/255.255.255.0");
        assert_eq!(n.firewall_source().as_deref(), Some("10.0.0.0/24"));
        assert!(n.contains("10.0.0.200".parse().unwrap()));
        assert!(!n.contains("10.0.1.1".parse().unwrap()));
        let n = parse_network("10.0.%").unwrap();
        assert_eq!(n.mysql_host(), "10.0.%");
        assert_eq!(n.firewall_source().as_deref(), Some("10.0.0.0/16"));
        assert_eq!(
            parse_network("10.1.2.%")
                .unwrap()
                .firewall_source()
                .as_deref(),
            Some("10.1.2.0/24")
        );
        assert_eq!(parse_network("10.0.%.%").unwrap().mysql_host(), "10.0.%.%");
        assert_eq!(
            parse_network("10.0.0.5").unwrap(),
            Network::Host("10.0.0.5".parse().unwrap())
        );
        assert_eq!(
            parse_network("10.0.0.5/32").unwrap().mysql_host(),
            "10.0.0.5"
        );
        assert_eq!(parse_network("%").unwrap(), Network::Any);
        assert_eq!(parse_network("0.0.0.0/0").unwrap(), Network::Any);
        assert_eq!(parse_network("%.%.%.%").unwrap(), Network::Any);
        assert!(parse_network("10.0.0.5/24")
            .unwrap_err()
            .contains("10.0.0.0/24"));
        assert!(parse_network("10.0.%.5").is_err());
        assert!(parse_network("10.0.0.1%").is_err());
        assert!(parse_network("app.example.com").is_err());
        assert!(parse_network("10.0.0.0/33").is_err());
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
        assert_eq!(GrantObject::Database("app_db".into()).sql(), "`app\\_db`.*");
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
        assert_eq!(
            parse_show_grants(
                &["GRANT REPLICATION SLAVE, BINLOG MONITOR ON *.* TO `m`@`h`".into()]
            )[&GrantObject::Global],
            set(&["REPLICATION SLAVE", "REPLICATION CLIENT"])
        );
    }
}
