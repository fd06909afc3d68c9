//! The server's settings: flavor and version, replication account, databases,
//! character set and the credentials' sources.

use super::{describe, Problems};
use crate::inventory::{Credentials, Flavor, Inventory, ServerFamily};

/// MySQL identifier for an account name: ASCII letters, digits and `_`, 1-32 chars.
fn user_problem(u: &str) -> Option<String> {
    if u.is_empty() {
        return Some("must not be empty".into());
    }
    if let Some(bad) = u
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
    {
        return Some(format!(
            "{u:?} contains {}; use letters, digits and `_` only",
            describe(bad)
        ));
    }
    if u.len() > 32 {
        return Some(format!(
            "{u:?} is longer than 32 characters (MySQL's limit)"
        ));
    }
    None
}

/// Database name safe for my.cnf and SQL: `[A-Za-z0-9_$-]`, 1-64 characters.
fn database_problem(d: &str) -> Option<String> {
    if d.is_empty() {
        return Some("must not be empty".into());
    }
    if let Some(bad) = d
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '$' | '-')))
    {
        return Some(format!(
            "{d:?} contains {}; database names here may use letters, digits, `_`, `$` and `-`",
            describe(bad)
        ));
    }
    if d.len() > 64 {
        return Some(format!(
            "{d:?} is longer than 64 characters (MySQL's limit)"
        ));
    }
    None
}

/// Whether `version` (`N.N`) is a supported release line of `flavor`.
fn version_problem(flavor: Flavor, version: &str) -> Option<String> {
    let parts: Vec<&str> = version.split('.').collect();
    let numeric = |s: &str| !s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit());
    if parts.len() != 2 || !parts.iter().all(|s| numeric(s)) {
        let hint = if parts.len() > 2 && parts.iter().all(|s| numeric(s)) {
            format!("; use major.minor only, e.g. \"{}.{}\"", parts[0], parts[1])
        } else {
            String::new()
        };
        return Some(format!(
            "{version:?} is not a major.minor version like \"10.11\" or \"8.0\"{hint}"
        ));
    }
    let major: u32 = parts[0].parse().unwrap_or(0);
    let minor: u32 = parts[1].parse().unwrap_or(0);
    let ok = match flavor.family() {
        ServerFamily::Mariadb => major == 10 || major == 11,
        ServerFamily::Mysql => matches!((major, minor), (5, 7) | (8, 0) | (8, 4)) || major == 9,
    };
    if ok {
        None
    } else {
        let supported = match flavor.family() {
            ServerFamily::Mariadb => "mariadb supports 10.x and 11.x",
            ServerFamily::Mysql => "mysql supports 5.7, 8.0, 8.4 and 9.x",
        };
        Some(format!("{version:?} is not supported ({supported})"))
    }
}

pub(super) fn check_mysql(inv: &Inventory, p: &mut Problems) {
    let m = &inv.mysql;
    if let Some(v) = &m.version {
        if let Some(msg) = version_problem(m.flavor, v) {
            p.add("mysql.version", msg);
        }
    }
    if m.port == 0 {
        p.add("mysql.port", "must not be 0");
    }
    for (field, msg) in crate::inventory::paths::check_server_paths(m) {
        p.add(&field, msg);
    }
    let bind = m.bind_address.trim();
    if bind.is_empty() {
        p.add("mysql.bind_address", "must not be empty (default 0.0.0.0)");
    } else if matches!(bind, "localhost" | "::1") || bind.starts_with("127.") {
        p.add(
            "mysql.bind_address",
            format!(
                "{bind:?} is a loopback address: the peer could not replicate and clients \
                 could not reach the VIP; use 0.0.0.0"
            ),
        );
    } else if !matches!(bind, "0.0.0.0" | "::" | "*") {
        p.add(
            "mysql.bind_address",
            format!(
                "{bind:?}: both nodes share one my.cnf setting, so it must be a wildcard \
                 (0.0.0.0, :: or *) for mysqld to start on both and to accept the VIP"
            ),
        );
    }
    if m.require_secure_transport && !inv.tls.enabled {
        p.add(
            "mysql.require_secure_transport",
            "needs tls.enabled: without certificates the servers could take no TCP login at all",
        );
    }
    if let Some(msg) = user_problem(&m.replication_user) {
        p.add("mysql.replication_user", msg);
    } else if crate::inventory::names::is_reserved_account(&m.replication_user) {
        p.add(
            "mysql.replication_user",
            format!(
                "{:?} is reserved: mhactl never creates or changes `root` or the server's \
                 system accounts, and replication needs an account of its own (e.g. `repl`)",
                m.replication_user
            ),
        );
    }
    for (field, list) in [
        ("replicate_databases", &m.replicate_databases),
        ("ignore_databases", &m.ignore_databases),
    ] {
        for (i, d) in list.iter().enumerate() {
            if let Some(msg) = database_problem(d) {
                p.add(&format!("mysql.{field}[{i}]"), msg);
            } else if list[..i].contains(d) {
                p.add(
                    &format!("mysql.{field}[{i}]"),
                    format!("{d:?} is listed twice"),
                );
            }
        }
    }
    for (i, d) in m.replicate_databases.iter().enumerate() {
        if crate::inventory::names::is_system_schema(d) {
            p.add(
                &format!("mysql.replicate_databases[{i}]"),
                format!("{d:?} is a system schema, which is never replicated; remove it"),
            );
        } else if m.ignore_databases.contains(d) {
            p.add(
                &format!("mysql.replicate_databases[{i}]"),
                format!("{d:?} is also in mysql.ignore_databases"),
            );
        }
    }
}

/// Character sets a server can use for `character-set-server` and its clients
/// (ucs2, utf16 and utf32 cannot be a client character set, so they are left out).
const CHARACTER_SETS: &[&str] = &[
    "utf8mb4", "utf8mb3", "utf8", "latin1", "latin2", "latin5", "latin7", "ascii", "binary",
    "big5", "gbk", "gb2312", "gb18030", "sjis", "cp932", "ujis", "eucjpms", "euckr", "cp1250",
    "cp1251", "cp1256", "cp1257", "cp850", "cp852", "cp866", "koi8r", "koi8u", "greek", "hebrew",
    "tis620", "armscii8", "geostd8", "keybcs2", "macce", "macroman", "swe7", "dec8", "hp8",
];

pub(crate) fn normalize_charset(c: &str) -> String {
    let c = c.to_ascii_lowercase();
    if c == "utf8" {
        "utf8mb3".into()
    } else {
        c
    }
}

pub(super) fn check_character_set(inv: &Inventory, p: &mut Problems) {
    let m = &inv.mysql;
    let cs = m.character_set.to_ascii_lowercase();
    if !CHARACTER_SETS.contains(&cs.as_str()) {
        let hint = match cs.as_str() {
            "ucs2" | "utf16" | "utf16le" | "utf32" => {
                " (it cannot be a client character set; use utf8mb4)".to_string()
            }
            _ => {
                let all: Vec<String> = CHARACTER_SETS.iter().map(|s| s.to_string()).collect();
                crate::inventory::load::did_you_mean(&cs, &all)
                    .map(|s| format!(", did you mean `{s}`?"))
                    .unwrap_or_else(|| " (e.g. utf8mb4)".into())
            }
        };
        p.add(
            "mysql.character_set",
            format!("{:?} is not a server character set{hint}", m.character_set),
        );
        return;
    }
    if let Some(coll) = &m.collation {
        let c = coll.to_ascii_lowercase();
        let valid = !c.is_empty() && c.chars().all(|ch| ch.is_ascii_alphanumeric() || ch == '_');
        // A collation belongs to one character set and starts with its name.
        let base = normalize_charset(&cs);
        let matches = c.starts_with(&format!("{cs}_"))
            || (base == "utf8mb3" && (c.starts_with("utf8_") || c.starts_with("utf8mb3_")));
        if !valid || !matches {
            p.add(
                "mysql.collation",
                format!(
 "{coll:?} is not a collation of mysql.character_set {:?} (collations of {cs} start with `{cs}_`, e.g. {cs}_general_ci); the server would refuse to start",
                    m.character_set
                ),
            );
        }
    }
}

pub(super) fn check_credentials(c: &Credentials, p: &mut Problems) {
    let secrets = [
        (
            "replication_password",
            c.replication_password_env.as_deref(),
            c.replication_password_file.as_deref(),
            c.replication_password_prompt,
            true,
        ),
        (
            "root_password",
            c.root_password_env.as_deref(),
            c.root_password_file.as_deref(),
            c.root_password_prompt,
            false,
        ),
        (
            "vrrp_password",
            c.vrrp_password_env.as_deref(),
            c.vrrp_password_file.as_deref(),
            false,
            false,
        ),
    ];
    for (name, env, file, prompt, required) in secrets {
        let label = match name {
            "replication_password" => "replication password",
            "root_password" => "root password",
            _ => "VRRP password",
        };
        let mut given = Vec::new();
        if let Some(e) = env {
            given.push(format!("{name}_env"));
            if e.is_empty() || e.contains('=') || e.contains('\0') {
                p.add(
                    &format!("credentials.{name}_env"),
                    format!("{e:?} is not an environment variable name"),
                );
            }
        }
        if let Some(f) = file {
            given.push(format!("{name}_file"));
            let (path, key) = match f.rsplit_once('#') {
                Some((path, key)) => (path, Some(key)),
                None => (f, None),
            };
            if path.is_empty() {
                p.add(&format!("credentials.{name}_file"), "the path is empty");
            }
            if key == Some("") {
                p.add(
                    &format!("credentials.{name}_file"),
                    format!("{f:?} has an empty key after `#` (use `path` or `path#key`)"),
                );
            }
        }
        if prompt {
            given.push(format!("{name}_prompt"));
        }
        let prompt_form = if name == "vrrp_password" {
            String::new()
        } else {
            format!(" or `{name}_prompt: true`")
        };
        if given.len() > 1 {
            p.add(
                "credentials",
                format!(
                    "{} are {} given; use exactly one source for the {label}",
                    given.join(" and "),
                    if given.len() == 2 { "both" } else { "all" }
                ),
            );
        } else if given.is_empty() && required {
            p.add(
                "credentials",
                format!(
                    "no source for the {label}: set exactly one of `{name}_env`, `{name}_file`{prompt_form}"
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions() {
        assert!(version_problem(Flavor::Mariadb, "10.11").is_none());
        assert!(version_problem(Flavor::Mariadb, "11.4").is_none());
        assert!(version_problem(Flavor::Mariadb, "8.0").is_some());
        assert!(version_problem(Flavor::Mysql, "8.4").is_none());
        assert!(version_problem(Flavor::Mysql, "9.1").is_none());
        assert!(version_problem(Flavor::Mysql, "5.6").is_some());
        assert!(version_problem(Flavor::Mysql, "8.0.36").is_some_and(|m| m.contains("\"8.0\"")));
        assert!(version_problem(Flavor::Mysql, "eight").is_some());
    }

    /// `mysql.require_secure_transport` needs certificates on the servers.
    #[test]
    fn require_secure_transport_needs_tls() {
        let text = |extra: &str| {
            format!(
                "cluster: t\nnodes:\n  - name: a\n    address: 10.0.0.11\n  - name: b\n    \
                 address: 10.0.0.12\nvip:\n  address: 10.0.0.100\n  interface: eth0\n  \
                 virtual_router_id: 51\nmysql:\n  require_secure_transport: true\n{extra}\
                 credentials:\n  replication_password_env: X\n"
            )
        };
        assert!(crate::inventory::parse(&text(""), "i.yaml").is_ok());
        let err = crate::inventory::parse(&text("tls:\n  enabled: false\n"), "i.yaml")
            .expect_err("refused");
        let msg = format!("{err:#}");
        assert!(
            msg.contains("mysql.require_secure_transport") && msg.contains("tls.enabled"),
            "{msg}"
        );
    }

    #[test]
    fn identifiers() {
        assert!(user_problem("repl").is_none());
        assert!(user_problem("repl-user").is_some());
        assert!(user_problem(&"a".repeat(33)).is_some());
        assert!(database_problem("app_db").is_none());
        assert!(database_problem("a.b").is_some());
    }
}
