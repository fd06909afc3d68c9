//! Semantic checks of an inventory beyond what the YAML types enforce: two nodes,
//! unique names and addresses, the VIP in the nodes' subnet, VRRP and MySQL settings,
//! and exactly one source per secret. Also the non-fatal [`Inventory::warnings`].

use super::{BinlogFormat, Credentials, Flavor, Inventory, SshSettings};
use std::net::Ipv4Addr;

/// Check `inv` and return every problem found, one per line, each naming its field
/// (`nodes[1].address: ...`). With one problem the message is just that problem; with
/// several it starts with "N problems:". Never panics.
pub fn validate(inv: &Inventory) -> Result<(), String> {
    let mut p = Problems::default();
    check_cluster(inv, &mut p);
    check_nodes(inv, &mut p);
    check_ssh("ssh", &inv.ssh, &mut p);
    for (field, msg) in super::limits::check_ranges(inv) {
        p.add(&field, msg);
    }
    check_vip(inv, &mut p);
    check_mysql(inv, &mut p);
    check_credentials(&inv.credentials, &mut p);
    check_character_set(inv, &mut p);
    check_packages(inv, &mut p);
    for (field, msg) in super::access::check_access(inv) {
        p.add(&field, msg);
    }
    p.into_result()
}

#[derive(Default)]
struct Problems(Vec<String>);

/// Problems listed in one message; the rest are counted.
const MAX_SHOWN: usize = 30;
/// Longest problem shown, in bytes.
const MAX_PROBLEM_BYTES: usize = 600;

impl Problems {
    fn add(&mut self, field: &str, msg: impl std::fmt::Display) {
        let mut line = format!("{field}: {msg}");
        // A hostile value (a 90 KB "version") is quoted in its message: keep it readable.
        if line.len() > MAX_PROBLEM_BYTES {
            let mut end = MAX_PROBLEM_BYTES;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            line.truncate(end);
            line.push_str("... (cut)");
        }
        self.0.push(line);
    }

    fn into_result(self) -> Result<(), String> {
        match self.0.len() {
            0 => Ok(()),
            1 => Err(self.0.into_iter().next().unwrap_or_default()),
            n => {
                // A hostile file can hold thousands of bad entries: the first ones say enough.
                let mut s = format!("{n} problems:");
                for m in self.0.iter().take(MAX_SHOWN) {
                    s.push_str("\n  - ");
                    s.push_str(m);
                }
                if n > MAX_SHOWN {
                    s.push_str(&format!("\n  ... and {} more", n - MAX_SHOWN));
                }
                Err(s)
            }
        }
    }
}

fn check_cluster(inv: &Inventory, p: &mut Problems) {
    let c = &inv.cluster;
    if c.is_empty() {
        p.add("cluster", "must not be empty");
    } else if let Some(bad) = c
        .chars()
        .find(|ch| !(ch.is_ascii_alphanumeric() || *ch == '_' || *ch == '-'))
    {
        p.add(
            "cluster",
            format!(
                "{c:?} contains {}; use only letters, digits, `_` and `-` \
                 (it becomes part of keepalived's router id)",
                describe(bad)
            ),
        );
    } else if c.len() > 64 {
        p.add("cluster", "is longer than 64 characters");
    }
}

/// A character as shown in messages: `x`, or "a space" / "a tab" / "a control character".
fn describe(c: char) -> String {
    match c {
        ' ' => "a space".into(),
        '\t' => "a tab".into(),
        c if c.is_control() => "a control character".into(),
        c => format!("`{c}`"),
    }
}

/// Hostname-like: `[a-z0-9-]`, 1-63 characters, not starting or ending with `-`.
fn hostname_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("must not be empty".into());
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Some(format!(
            "{name:?} contains {}; node names are like hostnames: lowercase letters, \
             digits and `-`",
            describe(bad)
        ));
    }
    if name.starts_with('-') || name.ends_with('-') {
        return Some(format!("{name:?} must not start or end with `-`"));
    }
    if name.len() > 63 {
        return Some(format!("{name:?} is longer than 63 characters"));
    }
    None
}

fn check_nodes(inv: &Inventory, p: &mut Problems) {
    let n = inv.nodes.len();
    if n != 2 {
        p.add(
            "nodes",
            format!("exactly two nodes are required (a dual-master pair), found {n}"),
        );
    }
    for (i, node) in inv.nodes.iter().enumerate() {
        if let Some(msg) = hostname_problem(&node.name) {
            p.add(&format!("nodes[{i}].name"), msg);
        }
        let a = node.address;
        if a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_broadcast() {
            p.add(
                &format!("nodes[{i}].address"),
                format!("{a} is not a usable host address"),
            );
        }
        check_ssh(&format!("nodes[{i}].ssh"), &node.ssh, p);
        if node.server_id == Some(0) {
            p.add(
                &format!("nodes[{i}].server_id"),
                "must not be 0 (a server with server_id 0 refuses to replicate)",
            );
        }
        if let Some(pr) = node.priority {
            if !(1..=254).contains(&pr) {
                p.add(
                    &format!("nodes[{i}].priority"),
                    format!("{pr} is out of range; keepalived priorities are 1-254"),
                );
            }
        }
        for j in 0..i {
            let other = &inv.nodes[j];
            if other.name == node.name && !node.name.is_empty() {
                p.add(
                    &format!("nodes[{i}].name"),
                    format!("{:?} is also the name of nodes[{j}]", node.name),
                );
            }
            if other.address == node.address {
                p.add(
                    &format!("nodes[{i}].address"),
                    format!("{} is also the address of nodes[{j}]", node.address),
                );
            }
        }
    }
    if n == 2 {
        let (a, b) = (inv.server_id(0), inv.server_id(1));
        if a == b && a != 0 {
            p.add(
                "nodes[1].server_id",
                format!(
                    "{b} is also the server_id of nodes[0]{}; the two servers need distinct ids",
                    defaults_note([
                        (inv.nodes[0].server_id.is_none(), a.to_string()),
                        (inv.nodes[1].server_id.is_none(), b.to_string()),
                    ])
                ),
            );
        }
        let (a, b) = (inv.priority(0), inv.priority(1));
        if a == b {
            p.add(
                "nodes[1].priority",
                format!(
                    "{b} is also the priority of nodes[0]{}; distinct priorities decide \
                     which node holds the VIP",
                    defaults_note([
                        (inv.nodes[0].priority.is_none(), a.to_string()),
                        (inv.nodes[1].priority.is_none(), b.to_string()),
                    ])
                ),
            );
        }
    }
}

/// " (nodes[1] uses the default, 90)" for the nodes whose value is defaulted.
fn defaults_note(defaulted: [(bool, String); 2]) -> String {
    let notes: Vec<String> = defaulted
        .iter()
        .enumerate()
        .filter(|(_, (d, _))| *d)
        .map(|(i, (_, v))| format!("nodes[{i}] uses the default, {v}"))
        .collect();
    if notes.is_empty() {
        String::new()
    } else {
        format!(" ({})", notes.join("; "))
    }
}

fn check_ssh(field: &str, s: &SshSettings, p: &mut Problems) {
    if let Some(u) = &s.user {
        if u.is_empty()
            || u.chars()
                .any(|c| c.is_whitespace() || c == '@' || c.is_control())
        {
            p.add(
                &format!("{field}.user"),
                format!("{u:?} is not a valid user name"),
            );
        }
    }
    if s.port == Some(0) {
        p.add(&format!("{field}.port"), "must not be 0");
    }
    if s.connect_timeout_s == Some(0) {
        p.add(&format!("{field}.connect_timeout_s"), "must be at least 1");
    }
    for (f, msg) in super::limits::check_ssh_values(field, s) {
        p.add(&f, msg);
    }
    for (name, path) in [
        ("identity_file", &s.identity_file),
        ("known_hosts", &s.known_hosts),
    ] {
        if path.as_ref().is_some_and(|x| x.as_os_str().is_empty()) {
            p.add(&format!("{field}.{name}"), "must not be empty");
        }
    }
}

/// Netmask for `prefix` (1..=32); `None` outside that range.
fn netmask(prefix: u8) -> Option<u32> {
    if (1..=32).contains(&prefix) {
        Some(u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0))
    } else {
        None
    }
}

fn check_vip(inv: &Inventory, p: &mut Problems) {
    let vip = &inv.vip;
    let a = vip.address;
    if a.is_unspecified() || a.is_loopback() || a.is_multicast() || a.is_broadcast() {
        p.add("vip.address", format!("{a} is not a usable address"));
    }
    for (i, node) in inv.nodes.iter().enumerate() {
        if node.address == a {
            p.add(
                "vip.address",
                format!(
                    "{a} is also the address of nodes[{i}] ({}); the VIP must be a separate, \
                     unused address that moves between the nodes",
                    node.name
                ),
            );
        }
    }
    match netmask(vip.prefix) {
        None => p.add(
            "vip.prefix",
            format!("{} is out of range; use 1-32 (e.g. 24)", vip.prefix),
        ),
        Some(mask) => {
            let net = u32::from(a) & mask;
            let network = Ipv4Addr::from(net);
            let cidr = format!("{network}/{}", vip.prefix);
            if vip.prefix <= 30 {
                if u32::from(a) == net {
                    p.add(
                        "vip.address",
                        format!("{a} is the network address of {cidr}"),
                    );
                } else if u32::from(a) == net | !mask {
                    p.add(
                        "vip.address",
                        format!("{a} is the broadcast address of {cidr}"),
                    );
                }
            }
            for (i, node) in inv.nodes.iter().enumerate() {
                if u32::from(node.address) & mask != net {
                    p.add(
                        &format!("nodes[{i}].address"),
                        format!(
                            "{} is outside the VIP's subnet {cidr} (vip.address {a}, \
                             vip.prefix {}); keepalived adds the VIP to vip.interface, so \
                             both nodes must be on the VIP's subnet",
                            node.address, vip.prefix
                        ),
                    );
                }
            }
        }
    }
    let ifname = &vip.interface;
    if ifname.is_empty() {
        p.add("vip.interface", "must not be empty (e.g. `eth0`)");
    } else if ifname
        .chars()
        .any(|c| !(c.is_ascii_alphanumeric() || "._-:".contains(c)))
    {
        // It is pasted into keepalived.conf, where `{`, `}`, `"`, `#` or a space would
        // end the value or the block.
        p.add(
            "vip.interface",
            format!(
                "{ifname:?} is not an interface name (letters, digits, `.`, `_`, `-` and `:` \
                 only; no spaces or `/`)"
            ),
        );
    } else if ifname.len() > 15 {
        p.add(
            "vip.interface",
            format!("{ifname:?} is longer than 15 characters (Linux's limit)"),
        );
    }
    if vip.virtual_router_id == 0 {
        p.add(
            "vip.virtual_router_id",
            "0 is not valid; use 1-255, unique on the network segment",
        );
    }
    if vip.advert_int_s == 0 {
        p.add("vip.advert_int_s", "must be at least 1 second");
    }
}

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
    let ok = match flavor {
        Flavor::Mariadb => major == 10 || major == 11,
        Flavor::Mysql => matches!((major, minor), (5, 7) | (8, 0) | (8, 4)) || major == 9,
    };
    if ok {
        None
    } else {
        let supported = match flavor {
            Flavor::Mariadb => "mariadb supports 10.x and 11.x",
            Flavor::Mysql => "mysql supports 5.7, 8.0, 8.4 and 9.x",
        };
        Some(format!("{version:?} is not supported ({supported})"))
    }
}

fn check_mysql(inv: &Inventory, p: &mut Problems) {
    let m = &inv.mysql;
    if let Some(v) = &m.version {
        if let Some(msg) = version_problem(m.flavor, v) {
            p.add("mysql.version", msg);
        }
    }
    if m.port == 0 {
        p.add("mysql.port", "must not be 0");
    }
    for (field, msg) in super::paths::check_server_paths(m) {
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
    if let Some(msg) = user_problem(&m.replication_user) {
        p.add("mysql.replication_user", msg);
    } else if super::names::is_reserved_account(&m.replication_user) {
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
        if super::names::is_system_schema(d) {
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

/// `utf8` is an alias of `utf8mb3` (3-byte UTF-8) on every supported server.
/// A `file:`/`http:`/`https:` URL without characters that would break a repo file or
/// a shell word.
fn url_problem(url: &str) -> Option<String> {
    let lower = url.to_ascii_lowercase();
    if !["file:/", "http://", "https://"]
        .iter()
        .any(|p| lower.starts_with(p))
    {
        return Some(format!(
            "{url:?} must be a file:///path (on the nodes) or an http:// or https:// URL"
        ));
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "\"'`$;\\<>|".contains(c))
    {
        return Some(format!(
            "{url:?}: spaces, quotes, `$`, `;` and `|` are not allowed in URLs"
        ));
    }
    None
}

fn check_packages(inv: &Inventory, p: &mut Problems) {
    let pk = &inv.packages;
    if let Some(url) = &pk.repository {
        if let Some(msg) = url_problem(url).or_else(|| super::limits::repo_value_problem(url)) {
            p.add("packages.repository", msg);
        }
    }
    if let Some(key) = &pk.gpg_key {
        if pk.repository.is_none() {
            p.add(
                "packages.gpg_key",
                "is the key of packages.repository, which is not set",
            );
        } else if let Some(msg) = super::limits::repo_value_problem(key) {
            p.add("packages.gpg_key", msg);
        } else if key.starts_with('/') {
            if let Some(msg) = super::paths::path_syntax_problem(key, false) {
                p.add("packages.gpg_key", msg);
            }
        } else if let Some(msg) = url_problem(key) {
            p.add("packages.gpg_key", msg);
        }
    }
    if let Some(rpm) = &pk.mysql_release_rpm {
        if inv.mysql.flavor != Flavor::Mysql {
            p.add(
                "packages.mysql_release_rpm",
                "is the MySQL Yum repository's setup RPM: only for mysql.flavor mysql",
            );
        } else if pk.repository.is_some() {
            p.add(
                "packages.mysql_release_rpm",
                "and packages.repository exclude each other: with a mirror, bootstrap installs from the mirror only",
            );
        } else if !rpm.ends_with(".rpm") {
            p.add(
                "packages.mysql_release_rpm",
                format!("{rpm:?} must name an .rpm file (URL or path on the nodes)"),
            );
        } else if !rpm.starts_with('/') {
            if let Some(msg) = url_problem(rpm) {
                p.add("packages.mysql_release_rpm", msg);
            }
        } else if rpm
            .chars()
            .any(|c| c.is_whitespace() || "\"'`$;\\<>|".contains(c))
        {
            p.add(
                "packages.mysql_release_rpm",
                format!("{rpm:?}: spaces, quotes, `$`, `;` and `|` are not allowed in paths"),
            );
        }
    }
    if let Some(key) = &pk.mysql_gpg_key {
        let bad_char = |k: &str| {
            k.chars()
                .any(|c| c.is_whitespace() || c.is_control() || "\"'`$;\\<>|".contains(c))
        };
        if inv.mysql.flavor != Flavor::Mysql || pk.repository.is_some() {
            p.add(
                "packages.mysql_gpg_key",
                "is the MySQL Yum repository's signing key: only for mysql.flavor mysql without packages.repository",
            );
        } else if key.starts_with('/') {
            if bad_char(key) {
                p.add(
                    "packages.mysql_gpg_key",
                    format!("{key:?}: spaces, quotes, `$`, `;` and `|` are not allowed in paths"),
                );
            }
        } else if let Some(msg) = url_problem(key) {
            p.add("packages.mysql_gpg_key", msg);
        }
    }
}

pub(crate) fn normalize_charset(c: &str) -> String {
    let c = c.to_ascii_lowercase();
    if c == "utf8" {
        "utf8mb3".into()
    } else {
        c
    }
}

fn check_character_set(inv: &Inventory, p: &mut Problems) {
    let m = &inv.mysql;
    let cs = m.character_set.to_ascii_lowercase();
    if !CHARACTER_SETS.contains(&cs.as_str()) {
        let hint = match cs.as_str() {
            "ucs2" | "utf16" | "utf16le" | "utf32" => {
                " (it cannot be a client character set; use utf8mb4)".to_string()
            }
            _ => {
                let all: Vec<String> = CHARACTER_SETS.iter().map(|s| s.to_string()).collect();
                super::load::did_you_mean(&cs, &all)
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

fn check_credentials(c: &Credentials, p: &mut Problems) {
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

impl Inventory {
    /// Non-fatal concerns about this inventory, as sentences for the user (the caller
    /// prints them). Empty for a clean inventory.
    pub fn warnings(&self) -> Vec<String> {
        let mut w = Vec::new();
        if !self.mysql.skip_errors.is_empty() {
            let codes: Vec<String> = self
                .mysql
                .skip_errors
                .iter()
                .map(|c| c.to_string())
                .collect();
            w.push(format!(
                "mysql.skip_errors is set ({}): replication will silently skip these errors, \
                 which hides divergence between the two nodes; fix the cause instead and \
                 remove it once the pair is consistent",
                codes.join(", ")
            ));
        }
        if self.mysql.binlog_format == BinlogFormat::Statement {
            w.push(
                "mysql.binlog_format is `statement`: non-deterministic statements can make \
                 the two masters diverge; `row` is the safe choice for master/master"
                    .to_string(),
            );
        }
        if normalize_charset(&self.mysql.character_set) == "utf8mb3" {
            w.push(format!(
                "mysql.character_set is `{}`: that is the 3-byte utf8mb3, which cannot store \
                 emoji or other characters outside the Basic Multilingual Plane (inserts fail \
                 or truncate them) and is deprecated; use `utf8mb4` (the default)",
                self.mysql.character_set
            ));
        }
        let statement_based = matches!(
            self.mysql.binlog_format,
            BinlogFormat::Statement | BinlogFormat::Mixed
        );
        if statement_based && !self.mysql.replicate_databases.is_empty() {
            w.push(format!(
                "mysql.replicate_databases with binlog_format `{}`: binlog-do-db and \
                 replicate-do-db then filter statements by the *default database* (USE), \
                 not by the tables they change, so `USE other; INSERT INTO {db}.t ...` is \
                 silently not replicated and `USE {db}; UPDATE other.t ...` is; use \
                 binlog_format `row`, or always USE the database you write to (docs/inventory.md)",
                if self.mysql.binlog_format == BinlogFormat::Mixed {
                    "mixed"
                } else {
                    "statement"
                },
                db = self.mysql.replicate_databases[0]
            ));
        } else if statement_based && !self.mysql.ignore_databases.is_empty() {
            w.push(format!(
                "mysql.ignore_databases with binlog_format `{}`: replicate-ignore-db then \
                 filters statements by the *default database* (USE), so a statement run \
                 with another default database that writes to an ignored one is still \
                 replicated; use binlog_format `row` (docs/inventory.md)",
                if self.mysql.binlog_format == BinlogFormat::Mixed {
                    "mixed"
                } else {
                    "statement"
                }
            ));
        }
        for u in &self.access.users {
            let any = u
                .networks
                .iter()
                .any(|n| super::parse_network(n).is_ok_and(|n| n == super::Network::Any));
            if any && u.allow_any_host {
                w.push(format!(
                    "access.users: {:?} may log in from any host (`%`, allow_any_host): \
                     anyone who can reach port {} can try its password; prefer client networks",
                    u.name, self.mysql.port
                ));
            }
            if u.admin {
                w.push(format!(
                    "access.users: {:?} is an administrative account (admin: true) reachable \
                     over the network from {}",
                    u.name,
                    u.networks.join(", ")
                ));
            }
        }
        let accept_new = (0..self.nodes.len()).any(|i| {
            self.nodes[i]
                .ssh
                .merged_over(&self.ssh)
                .host_key_check
                .is_some_and(|h| h == super::HostKeyCheck::AcceptNew)
        });
        if accept_new {
            w.push(
                "ssh.host_key_check is `accept-new`: the first connection trusts whatever \
                 host key it is offered; prefer `strict` with a known_hosts file"
                    .to_string(),
            );
        }
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks() {
        assert_eq!(netmask(0), None);
        assert_eq!(netmask(33), None);
        assert_eq!(netmask(32), Some(u32::MAX));
        assert_eq!(netmask(24), Some(0xffff_ff00));
        assert_eq!(netmask(1), Some(0x8000_0000));
    }

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

    #[test]
    fn identifiers() {
        assert!(user_problem("repl").is_none());
        assert!(user_problem("repl-user").is_some());
        assert!(user_problem(&"a".repeat(33)).is_some());
        assert!(database_problem("app_db").is_none());
        assert!(database_problem("a.b").is_some());
        assert!(hostname_problem("node-a").is_none());
        assert!(hostname_problem("Node_A").is_some());
        assert!(hostname_problem("-a").is_some());
    }
}
