//! Bounds on what the inventory may hold, checked before and after parsing:
//!
//! - before: the size of the file and the nesting depth of its YAML ([`precheck`]), so
//!   that hostile input is refused in linear time (the YAML parser takes quadratic time
//!   on deep nesting: 100,000 levels took 53 s), and a UTF-8 byte-order mark is dropped;
//! - after: the range of every number ([`check_ranges`]), the values ssh sees
//!   ([`check_ssh_values`]) and the values pasted into apt and yum repository lines
//!   ([`repo_value_problem`]).
//!
//! The ranges are documented in docs/inventory.md ("Ranges").

use super::{Inventory, SshSettings};

/// Largest inventory accepted, in bytes (a real one is a few KiB).
pub const MAX_INVENTORY_BYTES: usize = 1024 * 1024;
/// Deepest YAML nesting accepted (a real inventory nests 4 levels).
pub const MAX_NESTING: usize = 32;
/// Largest secret file accepted, in bytes.
pub const MAX_SECRET_FILE_BYTES: u64 = 64 * 1024;

/// `text` without a leading UTF-8 byte-order mark, once its size and nesting depth are
/// within bounds; otherwise the problem (without the file name).
pub fn precheck(text: &str) -> Result<&str, String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    if text.len() > MAX_INVENTORY_BYTES {
        return Err(format!(
            "the inventory is {} bytes long; at most {MAX_INVENTORY_BYTES} are accepted",
            text.len()
        ));
    }
    if let Some(line) = too_deep(text, MAX_NESTING) {
        return Err(format!(
            "line {line}: the YAML nests deeper than {MAX_NESTING} levels; an inventory \
             nests 4 or 5"
        ));
    }
    Ok(text)
}

/// The line where the nesting of `text` first exceeds `max`, if it does. Linear, and
/// conservative: it counts flow collections (`[`, `{`) outside quotes and comments,
/// indentation levels of block collections, and compact nested entries (`- - x`).
pub fn too_deep(text: &str, max: usize) -> Option<usize> {
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    for (n, line) in text.lines().enumerate() {
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if flow == 0 {
            let indent = line.len() - content.len();
            while indents.last().is_some_and(|&i| i >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        // `- - - x` and `? ? x` nest without indentation of their own (counted inside
        // flow collections too, conservatively: no inventory needs them there).
        let mut rest = content;
        let mut compact = 0;
        while let Some(r) = ["- ", "? ", ": "].iter().find_map(|m| rest.strip_prefix(m)) {
            compact += 1;
            rest = r.trim_start_matches(' ');
        }
        if indents.len() + flow + compact.max(1) - 1 > max {
            return Some(n + 1);
        }
        let mut quote: Option<char> = None;
        let mut prev = ' ';
        for c in content.chars() {
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => match c {
                    '"' | '\'' if prev == ' ' || "[{,:".contains(prev) => quote = Some(c),
                    '#' if prev == ' ' || prev == '\t' => break,
                    '[' | '{' => {
                        flow += 1;
                        if indents.len() + flow > max {
                            return Some(n + 1);
                        }
                    }
                    ']' | '}' => flow = flow.saturating_sub(1),
                    _ => {}
                },
            }
            prev = c;
        }
    }
    None
}

/// Every number out of its documented range, as (field, message). Types already bound
/// some (`u8`, `u16`); these are the limits the servers, keepalived and ssh accept.
pub fn check_ranges(inv: &Inventory) -> Vec<(String, String)> {
    let mut p = Vec::new();
    let mut range = |field: &str, value: u64, lo: u64, hi: u64, why: &str| {
        if !(lo..=hi).contains(&value) {
            p.push((
                field.to_string(),
                format!("{value} is out of range; use {lo}-{hi} ({why})"),
            ));
        }
    };
    let m = &inv.mysql;
    range(
        "mysql.binlog_expire_days",
        m.binlog_expire_days.into(),
        1,
        99,
        "MariaDB's expire_logs_days stops at 99 and a larger value would be clamped",
    );
    range(
        "mysql.semi_sync_timeout_ms",
        m.semi_sync_timeout_ms.into(),
        1,
        60_000,
        "every commit waits this long when the peer is gone",
    );
    for (i, code) in m.skip_errors.iter().enumerate() {
        range(
            &format!("mysql.skip_errors[{i}]"),
            (*code).into(),
            1,
            65_535,
            "server error codes",
        );
    }
    if let Some(advert) = inv.vip.advert_int_s {
        range(
            "vip.advert_int_s",
            advert.into(),
            1,
            60,
            "a longer VRRP interval delays failover by three intervals",
        );
    }
    // sshd already listens there: mysqld could never bind it.
    for i in 0..inv.nodes.len() {
        let ssh_port = inv.ssh_for(i).port.unwrap_or(super::DEFAULT_SSH_PORT);
        if ssh_port == m.port {
            p.push((
                "mysql.port".to_string(),
                format!(
                    "{} is also the SSH port of nodes[{i}] ({}); mysqld could not listen there",
                    m.port, inv.nodes[i].name
                ),
            ));
            break;
        }
    }
    p
}

/// The values ssh is given, checked the way ssh would reject them, as (field, message).
pub fn check_ssh_values(field: &str, s: &SshSettings) -> Vec<(String, String)> {
    let mut p = Vec::new();
    if let Some(u) = &s.user {
        let ok_char = |c: char| c.is_ascii_alphanumeric() || "._-".contains(c);
        let body = u.strip_suffix('$').unwrap_or(u);
        if u.starts_with('-') {
            p.push((
                format!("{field}.user"),
                format!("{u:?} starts with `-`, which ssh would read as an option"),
            ));
        } else if !u.is_empty() && (!body.chars().all(ok_char) || u.len() > 32) {
            p.push((
                format!("{field}.user"),
                format!(
                    "{u:?} is not a user name: use letters, digits, `.`, `_` and `-` \
                     (at most 32 characters)"
                ),
            ));
        }
    }
    if let Some(t) = s.persist_s {
        if t > 86_400 {
            p.push((
                format!("{field}.persist_s"),
                format!("{t} is out of range; use 0-86400 seconds (0: the connection ends with the run)"),
            ));
        }
    }
    if let Some(t) = s.connect_timeout_s {
        if t > 3600 {
            p.push((
                format!("{field}.connect_timeout_s"),
                format!("{t} is out of range; use 1-3600 seconds"),
            ));
        }
    }
    for (name, path) in [
        ("identity_file", &s.identity_file),
        ("known_hosts", &s.known_hosts),
    ] {
        let Some(path) = path else { continue };
        let text = path.to_string_lossy();
        // `-i PATH` is one argument; `-o UserKnownHostsFile=PATH` is split at spaces
        // (it takes a list). ssh expands `%` tokens in both.
        let splits = name == "known_hosts";
        if let Some(bad) = text.chars().find(|&c| {
            c.is_control() || c == '%' || (splits && (c.is_whitespace() || "\"'".contains(c)))
        }) {
            p.push((
                format!("{field}.{name}"),
                format!(
                    "{text:?} contains {}: ssh expands `%` tokens in this option{}; move \
                     the file to a plain path",
                    if bad == ' ' {
                        "a space".to_string()
                    } else if bad.is_control() || bad.is_whitespace() {
                        "a control character".to_string()
                    } else {
                        format!("`{bad}`")
                    },
                    if splits {
                        " and splits it at spaces"
                    } else {
                        ""
                    }
                ),
            ));
        }
    }
    p
}

/// A value pasted into an apt source line (`deb [signed-by=KEY] URL ./`) or a yum
/// `.repo` file (`baseurl=URL`, `gpgkey=KEY`): no spaces, brackets, commas, `#`, quotes
/// or control characters, which would end the value or start another option.
pub fn repo_value_problem(value: &str) -> Option<String> {
    let bad = value
        .chars()
        .find(|c| c.is_whitespace() || c.is_control() || "[]{},#\"'`$;\\<>|^*".contains(*c))?;
    Some(format!(
        "{value:?} contains {}: it is written into an apt source line or a yum .repo file, \
         where spaces, `[`, `]`, `,`, `#` and quotes end the value or start another option",
        match bad {
            ' ' => "a space".to_string(),
            c if c.is_control() || c.is_whitespace() => "a control character".to_string(),
            c => format!("`{c}`"),
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn bom_is_dropped() {
        assert_eq!(precheck("\u{feff}cluster: x\n"), Ok("cluster: x\n"));
    }

    #[test]
    fn deep_nesting_is_refused_fast() {
        let started = Instant::now();
        let flow = format!("cluster: {}{}\n", "[".repeat(100_000), "]".repeat(100_000));
        assert!(precheck(&flow).unwrap_err().contains("deeper than"));
        let block: String = (0..100_000).map(|_| "- ").collect::<String>() + "x\n";
        assert!(precheck(&block).unwrap_err().contains("deeper than"));
        let indented: String = (0..200)
            .map(|i| format!("{}k{i}:\n", " ".repeat(i)))
            .collect();
        assert!(precheck(&indented).unwrap_err().contains("line 33"));
        assert!(
            started.elapsed().as_millis() < 500,
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn ordinary_yaml_passes() {
        let text = "cluster: a # [[[ not nesting\nnodes:\n  - name: a\n    ssh: {user: \"[x\", port: 22}\n    list: [a, [b, c]]\n";
        assert_eq!(too_deep(text, 6), None);
        assert!(too_deep("a: '[[[[[[[['\n", 3).is_none());
        assert!(precheck(&"x".repeat(MAX_INVENTORY_BYTES + 1)).is_err());
    }

    #[test]
    fn repo_values() {
        assert!(repo_value_problem("/etc/apt/keyrings/m.gpg").is_none());
        assert!(repo_value_problem("https://m.example/KEY").is_none());
        for bad in ["/k ey", "/k]", "/k\nx", "/a,b", "http://x/#f"] {
            assert!(repo_value_problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn ssh_values() {
        let s = SshSettings {
            user: Some("-l".into()),
            connect_timeout_s: Some(1_000_000_000),
            known_hosts: Some("/a b".into()),
            ..Default::default()
        };
        let p = check_ssh_values("ssh", &s);
        let fields: Vec<&str> = p.iter().map(|(f, _)| f.as_str()).collect();
        assert_eq!(
            fields,
            ["ssh.user", "ssh.connect_timeout_s", "ssh.known_hosts"]
        );
        let ok = SshSettings {
            user: Some("deploy.user".into()),
            connect_timeout_s: Some(30),
            ..Default::default()
        };
        assert!(check_ssh_values("ssh", &ok).is_empty());
    }
}
