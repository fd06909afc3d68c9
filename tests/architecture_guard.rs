//! The architecture guard: keeps the shape docs/architecture.md describes true as the
//! code grows. It scans src/ (test code excluded: `*_tests.rs` files and items under
//! `#[cfg(test)]`) for three kinds of violation outside their home modules:
//!
//! - `sql`: a SQL statement in a string literal outside `src/dialect.rs`/`src/dialect/`;
//! - `shell`: an OS or shell tool invoked from a string literal outside `src/os.rs`/`src/os/`;
//! - `flavor`: `==`/`!=`/`matches!` on `Flavor` outside `src/dialect.rs`/`src/dialect/`
//!   (dialect decides per flavor with exhaustive `match`, so a new variant fails to compile
//!   wherever a decision is needed).
//!
//! Today's violations are listed per file in tests/architecture_allowlist.txt, a ratchet:
//! a file over its allowance, or with violations and no line, fails; a file *under* its
//! allowance also fails, printing the line to change, so the list only ever tightens.
//! Regenerate it from the tree with
//! `UPDATE_ALLOWLIST=1 cargo test --test architecture_guard` (then review the diff).
//!
//! What counts (deliberately syntactic, so it is predictable; see `sql_statements` and
//! `shell_invocations` for the exact shapes): comments and doc comments never count, only
//! string literals; SQL keywords must be upper case and shaped like a statement
//! (`SELECT x`, `SHOW GLOBAL`, `CHANGE MASTER`, `CREATE USER`, ...) at the start of the
//! literal or after `;`, `(`, a quote or `-e`; a shell tool must stand where a shell
//! command starts (start of the literal, after `;`, `&&`, `||`, `|`, `$(`, `sudo`, `then`,
//! `do`, a newline, ...), and ambiguous words (`install`, `service`, `kill`, `ip`, `mv`,
//! `rm`, `grep`, `sed`, `date`, ...) only count with an argument shaped like one; a shell
//! test (`[ -e x ]`) counts too. Text in backticks inside a
//! literal is a command quoted for the reader in a message and does not count. Each
//! statement or invocation counts once (`STOP SLAVE; RESET SLAVE ALL` is two).

#[path = "architecture_guard/admin_write.rs"]
mod admin_write;

use regex::Regex;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

const ALLOWLIST: &str = "tests/architecture_allowlist.txt";

/// The kinds of violation, as named in the allow-list (`admin-write`: see admin_write.rs).
const KINDS: [&str; 4] = ["sql", "shell", "flavor", "admin-write"];

/// Where each kind is at home (path prefixes relative to the crate root).
fn is_home(kind: &str, path: &str) -> bool {
    let homes: &[&str] = match kind {
        "sql" | "flavor" | "admin-write" => &["src/dialect.rs", "src/dialect/"],
        "shell" => &["src/os.rs", "src/os/"],
        _ => unreachable!("unknown kind {kind}"),
    };
    homes.iter().any(|h| path.starts_with(h))
}

/// A SQL statement: upper-case keywords in a statement's shape, at a statement's start.
static SQL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?:^|[;("']|\s-e\s*|--execute=)\s*"#,
        r"(?:SELECT\s+\S",
        r"|SHOW\s+(?:GLOBAL|SESSION|VARIABLES|STATUS|SLAVE|REPLICA|MASTER|BINARY|BINLOG|DATABASES|TABLES|GRANTS|CREATE|PROCESSLIST|PLUGINS|ENGINES?|WARNINGS|FULL|ALL)\b",
        r"|SET\s+(?:(?:GLOBAL|SESSION|PERSIST|PERSIST_ONLY)\s+[\w@{]|PASSWORD\b|NAMES\b|@|[a-z_]+\s*=)",
        r"|CHANGE\s+(?:MASTER|REPLICATION)\b",
        r"|(?:START|STOP)\s+(?:SLAVE|REPLICA|GROUP_REPLICATION|ALL)\b",
        r"|(?:CREATE|DROP|ALTER)\s+(?:USER|ROLE|DATABASE|SCHEMA|TABLE|TEMPORARY|VIEW|EVENT|FUNCTION|PROCEDURE|TRIGGER|INDEX|SERVER|INSTANCE)\b",
        r"|(?:GRANT|REVOKE)\s+(?:ALL|SELECT|INSERT|UPDATE|DELETE|REPLICATION|RELOAD|PROCESS|SUPER|USAGE|CREATE|DROP|PROXY|BINLOG|CONNECTION_ADMIN|\{)",
        r"|(?:INSERT|REPLACE)\s+(?:IGNORE\s+)?INTO\b|DELETE\s+FROM\b|UPDATE\s+[\w`.{}]+\s+SET\b",
        r"|FLUSH\s+(?:PRIVILEGES|TABLES|LOGS|BINARY|HOSTS|STATUS|LOCAL|NO_WRITE_TO_BINLOG)\b",
        r"|RESET\s+(?:MASTER|SLAVE|REPLICA|BINARY|PERSIST|QUERY)\b",
        r"|(?:UN)?INSTALL\s+(?:PLUGIN|SONAME|COMPONENT)\b",
        r"|KILL\s+(?:QUERY|CONNECTION|\d|\{)|(?:UN)?LOCK\s+TABLES?\b|CHECKSUM\s+TABLE\b",
        r"|PURGE\s+(?:BINARY|MASTER)\b)",
    ))
    .expect("sql regex")
});

/// Where a shell command starts: the literal's start, a separator, or a prefix command.
const COMMAND_START: &str = concat!(
    r"(?:^|[;&|({\n]\s*|\$\(\s*|!\s+",
    r"|\b(?:sudo(?:\s+-\w+)*|then|do|else|exec|if|while|until|nohup|env|nice|setsid",
    r"|timeout\s+\S+|command\s+-v|nsenter(?:\s+-\S+)*|unshare(?:\s+-\S+)*)\s+)",
);

/// Tools that are commands wherever they stand at a command's start (even alone, as
/// in `Command::new("systemctl")`).
const TOOLS: &[&str] = &[
    "apt-get",
    "apt-cache",
    "apt-key",
    "dpkg",
    "dpkg-query",
    "yum",
    "yum-config-manager",
    "dnf",
    "rpm",
    "microdnf",
    "systemctl",
    "journalctl",
    "pkill",
    "pgrep",
    "killall",
    "flock",
    "restorecon",
    "semanage",
    "chcon",
    "getenforce",
    "setenforce",
    "sestatus",
    "firewall-cmd",
    "ufw",
    "nft",
    "iptables",
    "ip6tables",
    "aa-status",
    "apparmor_parser",
    "mysqld_safe",
    "mariadbd-safe",
    "mariadb-install-db",
    "mysql_install_db",
    "mysqldump",
    "mariadb-dump",
    "mysqladmin",
    "mariadb-admin",
    "mysqlbinlog",
    "mariadb-binlog",
    "my_print_defaults",
    "mysql_tzinfo_to_sql",
    "useradd",
    "groupadd",
    "chown",
    "chmod",
    "chgrp",
    "mkdir",
    "rmdir",
    "mktemp",
    "sysctl",
    "update-rc.d",
    "chkconfig",
    "netstat",
    "arping",
];

/// Ambiguous words that are commands only with an argument shaped like one.
const SHAPED: &str = concat!(
    r"install\s+-[dmogDvC]|service\s+\S+\s+(?:start|stop|restart|reload|status)\b",
    r"|kill\s+(?:-\w+|\$|\d)|ip\s+(?:-\w+\s+)*(?:addr|address|link|route|netns|neigh)\b",
    r#"|(?:mv|rm|cp|ln|touch|stat|readlink|tar|rsync)\s+(?:-\w+\s+)*["'/$~{.]"#,
    r"|(?:mysql|mariadb|mysqld|mariadbd|keepalived)\s+(?:-\w|--\w)|cat\s+(?:>|<|[/$])",
    r"|(?:grep|sed|awk|tail|head|ls|date|id|find|sort|cut|wc|xargs|sha256sum|du|df|getent|uname|sysctl)\s+[-+/']",
    r"|\[\s+!?\s*-[a-zA-Z]\s",
);

static SHELL: LazyLock<Regex> = LazyLock::new(|| {
    let tools: Vec<String> = TOOLS.iter().map(|t| regex::escape(t)).collect();
    Regex::new(&format!(
        r#"{COMMAND_START}(?:(?:{})(?:$|[\s;&|)'"`])|{SHAPED})"#,
        tools.join("|")
    ))
    .expect("shell regex")
});

/// A span in backticks: a command or statement quoted for the reader in a message
/// ("run `chown -R mysql:mysql /x` yourself"), not one mhactl runs; mhactl's scripts use
/// `$(...)`, never backticks, for command substitution.
static QUOTED_FOR_READER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"`[^`]*`").expect("backtick regex"));

/// One side of a flavor comparison: a `Flavor::Variant` path or a `flavor`/`flavor()`
/// expression (`LabFlavor`, the lab's own image choice, is not the server's flavor).
const FLAVOR_SIDE: &str = r"(?:(?:\b\w+::)*\bFlavor::\w+|[\w.]*\bflavor(?:\(\))?)";

static FLAVOR_CMP: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r"{FLAVOR_SIDE}\s*(?:==|!=)|(?:==|!=)\s*{FLAVOR_SIDE}|\bmatches!\s*\(\s*{FLAVOR_SIDE}\s*,"
    ))
    .expect("flavor regex")
});

/// A source file with comments removed and string contents blanked (offsets preserved),
/// and its string literals (offset in the file, decoded content).
struct Lexed {
    code: Vec<char>,
    strings: Vec<(usize, String)>,
}

/// A small Rust lexer: enough to tell code, comments, strings and chars apart.
fn lex(src: &str) -> Lexed {
    let chars: Vec<char> = src.chars().collect();
    let mut code = chars.clone();
    let mut strings = Vec::new();
    let blank = |code: &mut Vec<char>, from: usize, to: usize| {
        for c in &mut code[from..to] {
            if *c != '\n' {
                *c = ' ';
            }
        }
    };
    let ident = |c: char| c.is_alphanumeric() || c == '_';
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            let end = (i..chars.len())
                .find(|&j| chars[j] == '\n')
                .unwrap_or(chars.len());
            blank(&mut code, i, end);
            i = end;
        } else if c == '/' && next == Some('*') {
            let (mut depth, mut j) = (1, i + 2);
            while j < chars.len() && depth > 0 {
                if chars[j] == '/' && chars.get(j + 1) == Some(&'*') {
                    depth += 1;
                    j += 1;
                } else if chars[j] == '*' && chars.get(j + 1) == Some(&'/') {
                    depth -= 1;
                    j += 1;
                }
                j += 1;
            }
            blank(&mut code, i, j);
            i = j;
        } else if c == 'r'
            && (i == 0
                || !ident(chars[i - 1])
                || (chars[i - 1] == 'b' && (i < 2 || !ident(chars[i - 2]))))
            && matches!(next, Some('"') | Some('#'))
            && chars[i + 1..].iter().find(|&&c| c != '#') == Some(&'"')
        {
            let hashes = chars[i + 1..].iter().take_while(|&&c| c == '#').count();
            let open = i + 1 + hashes;
            let closing: Vec<char> = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            let mut j = open + 1;
            while j < chars.len() && !chars[j..].starts_with(&closing) {
                j += 1;
            }
            strings.push((i, chars[open + 1..j].iter().collect()));
            blank(&mut code, open + 1, j);
            i = j + closing.len();
        } else if c == '"' {
            let mut j = i + 1;
            let mut text = String::new();
            while j < chars.len() && chars[j] != '"' {
                if chars[j] == '\\' {
                    j += 1;
                    match chars.get(j) {
                        // A line continuation: the newline and the next line's indent go.
                        Some('\n') => {
                            while chars.get(j + 1).is_some_and(|c| c.is_whitespace()) {
                                j += 1;
                            }
                        }
                        Some('n') => text.push('\n'),
                        Some('t') => text.push('\t'),
                        Some(&other) => text.push(other),
                        None => {}
                    }
                } else {
                    text.push(chars[j]);
                }
                j += 1;
            }
            strings.push((i, text));
            blank(&mut code, i + 1, j);
            i = j + 1;
        } else if c == '\'' {
            // A char literal ('x', '\n', '\''), or a lifetime ('a) left as code.
            if next == Some('\\') {
                let end = (i + 3..chars.len())
                    .find(|&j| chars[j] == '\'')
                    .unwrap_or(i + 2);
                blank(&mut code, i + 1, end);
                i = end + 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                blank(&mut code, i + 1, i + 2);
                i += 3;
            } else {
                i += 1;
            }
        } else {
            i += 1;
        }
    }
    Lexed { code, strings }
}

/// The offset ranges of items under `#[cfg(test)]`, and the files that `#[cfg(test)]
/// mod name;` declares (as paths relative to the crate root).
fn test_only(path: &str, src: &str, code: &[char]) -> (Vec<(usize, usize)>, Vec<String>) {
    let source: Vec<char> = src.chars().collect();
    let text: String = code.iter().collect();
    let (mut ranges, mut files) = (Vec::new(), Vec::new());
    let attr = "#[cfg(test)]";
    for (start_byte, _) in text.match_indices(attr) {
        let start = text[..start_byte].chars().count();
        let mut j = start + attr.chars().count();
        // The item: up to its `;` or the end of its `{ ... }` block.
        while j < code.len() && code[j] != ';' && code[j] != '{' {
            j += 1;
        }
        let header: String = source[start..j.min(source.len())].iter().collect();
        if j < code.len() && code[j] == '{' {
            let mut depth = 0;
            while j < code.len() {
                match code[j] {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    _ => {}
                }
                j += 1;
            }
        } else if let Some((_, decl)) = header.rsplit_once("mod ") {
            files.push(module_file(path, &header, decl.trim()));
        }
        ranges.push((start, j));
    }
    (ranges, files)
}

/// The file of an out-of-line `mod name;` declared in `path` (honouring `#[path]`).
fn module_file(path: &str, header: &str, name: &str) -> String {
    let dir = Path::new(path).parent().expect("a file in a directory");
    if let Some((_, rest)) = header.split_once("#[path = \"") {
        let file = &rest[..rest.find('"').expect("closing quote")];
        return dir.join(file).display().to_string();
    }
    let stem = Path::new(path)
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("");
    let base = if matches!(stem, "mod" | "lib" | "main") {
        dir.to_path_buf()
    } else {
        dir.join(stem)
    };
    // `name.rs`, or `name/mod.rs` for a module with submodules of its own.
    let file = base.join(format!("{name}.rs"));
    if file.exists() {
        file.display().to_string()
    } else {
        base.join(name).join("mod.rs").display().to_string()
    }
}

/// Violations per (file, kind), each with its line numbers, for the files under `src/`.
fn scan() -> BTreeMap<(String, &'static str), Vec<(usize, String)>> {
    let mut files = Vec::new();
    collect(Path::new("src"), &mut files);
    let mut lexed = BTreeMap::new();
    let mut test_files: Vec<String> = Vec::new();
    for file in &files {
        let path = file.display().to_string();
        let src = std::fs::read_to_string(file).expect("read source");
        let lx = lex(&src);
        let (ranges, declared) = test_only(&path, &src, &lx.code);
        test_files.extend(declared);
        lexed.insert(path, (lx, ranges));
    }
    let mut found: BTreeMap<(String, &'static str), Vec<(usize, String)>> = BTreeMap::new();
    let dialect: Vec<admin_write::Source> = lexed
        .iter()
        .filter(|(path, _)| is_home("admin-write", path) && !path.ends_with("_tests.rs"))
        .map(|(_, (lx, _))| admin_write::Source {
            code: &lx.code,
            strings: &lx.strings,
        })
        .collect();
    let admin_fns = admin_write::admin_statement_fns(&dialect);
    for (path, (lx, ranges)) in &lexed {
        // A test-only `dir/mod.rs` makes everything under `dir/` test-only (its submodules).
        let under_test_module = test_files.iter().any(|t| {
            t.strip_suffix("mod.rs")
                .is_some_and(|dir| path.starts_with(dir))
        });
        if path.ends_with("_tests.rs") || test_files.contains(path) || under_test_module {
            continue;
        }
        let in_test = |offset: usize| ranges.iter().any(|&(a, b)| a <= offset && offset <= b);
        let line = |offset: usize| 1 + lx.code[..offset].iter().filter(|&&c| c == '\n').count();
        for (offset, text) in &lx.strings {
            if in_test(*offset) {
                continue;
            }
            let text = QUOTED_FOR_READER.replace_all(text, " ");
            for (kind, re) in [("sql", &*SQL), ("shell", &*SHELL)] {
                if !is_home(kind, path) {
                    for m in re.find_iter(&text) {
                        let what = (line(*offset), m.as_str().trim().to_string());
                        found.entry((path.clone(), kind)).or_default().push(what);
                    }
                }
            }
        }
        if !is_home("admin-write", path) {
            for (offset, name) in admin_write::unguarded_calls(&lx.code, &admin_fns) {
                if !in_test(offset) {
                    let what = (line(offset), format!("{name}(…)"));
                    found
                        .entry((path.clone(), "admin-write"))
                        .or_default()
                        .push(what);
                }
            }
        }
        if !is_home("flavor", path) {
            let code: String = lx.code.iter().collect();
            for (n, text) in code.lines().enumerate() {
                let offset = code.lines().take(n).map(|l| l.chars().count() + 1).sum();
                if in_test(offset) || text.contains("LabFlavor") {
                    continue;
                }
                for m in FLAVOR_CMP.find_iter(text) {
                    let what = (n + 1, m.as_str().trim().to_string());
                    found
                        .entry((path.clone(), "flavor"))
                        .or_default()
                        .push(what);
                }
            }
        }
    }
    found
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The allow-list: (file, kind) → (allowed count, the line as written).
fn allowlist() -> BTreeMap<(String, String), (usize, String)> {
    let text = std::fs::read_to_string(ALLOWLIST).unwrap_or_default();
    let mut out = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let data = line.split('#').next().unwrap_or("").trim();
        if data.is_empty() {
            continue;
        }
        let fields: Vec<&str> = data.split_whitespace().collect();
        let [path, kind, count] = fields[..] else {
            panic!(
                "{ALLOWLIST}:{}: expected `path kind count  # why`: {line}",
                n + 1
            );
        };
        assert!(
            KINDS.contains(&kind),
            "{ALLOWLIST}:{}: unknown kind {kind:?}",
            n + 1
        );
        let count = count
            .parse()
            .unwrap_or_else(|_| panic!("{ALLOWLIST}:{}: count {count:?} is not a number", n + 1));
        out.insert(
            (path.to_string(), kind.to_string()),
            (count, line.to_string()),
        );
    }
    out
}

/// Write the allow-list from the tree, keeping each surviving line's reason.
fn rewrite(found: &BTreeMap<(String, &'static str), Vec<(usize, String)>>) {
    let old = allowlist();
    let header: String = std::fs::read_to_string(ALLOWLIST)
        .unwrap_or_default()
        .lines()
        .take_while(|l| l.starts_with('#') || l.trim().is_empty())
        .map(|l| format!("{l}\n"))
        .collect();
    let mut text = header;
    for ((path, kind), lines) in found {
        let why = old
            .get(&(path.clone(), kind.to_string()))
            .and_then(|(_, l)| l.split_once('#').map(|(_, w)| w.trim().to_string()))
            .unwrap_or_else(|| {
                match *kind {
                    "sql" => "SQL text to move into dialect/",
                    "shell" => "shell commands to move into os/",
                    "admin-write" => "account/DDL statements outside NodeHandle::with_admin_write",
                    _ => "flavor decision to move into a dialect capability method",
                }
                .into()
            });
        text.push_str(&format!("{path} {kind} {}  # {why}\n", lines.len()));
    }
    std::fs::write(ALLOWLIST, text).expect("write allow-list");
}

#[test]
fn sql_shell_and_flavor_decisions_stay_in_their_modules() {
    let found = scan();
    if std::env::var_os("GUARD_SHOW").is_some() {
        for ((path, kind), hits) in &found {
            for (line, what) in hits {
                eprintln!("{path}:{line}: {kind}: {what}");
            }
        }
    }
    if std::env::var_os("UPDATE_ALLOWLIST").is_some() {
        rewrite(&found);
        return;
    }
    let allowed = allowlist();
    let mut problems = Vec::new();
    for ((path, kind), lines) in &found {
        let n = lines.len();
        let at: Vec<String> = lines.iter().map(|(l, _)| l.to_string()).collect();
        let at = format!("{path}:{}", at.join(","));
        match allowed.get(&(path.clone(), kind.to_string())) {
            None => problems.push(format!(
                "{kind} outside its module and not in {ALLOWLIST}: {n} in {at}\n  \
                 move it into its module (see docs/architecture.md, \"Guard test\")"
            )),
            Some((max, line)) if n > *max => problems.push(format!(
                "{kind}: {n} in {path}, allowance {max} (at {at})\n  move the new ones instead of raising `{line}`"
            )),
            Some((max, line)) if n < *max => {
                let why = line.split_once('#').map_or("", |(_, w)| w.trim());
                problems.push(format!(
                    "{kind}: only {n} left in {path} (allowance {max}): tighten {ALLOWLIST}\n  \
                     change `{line}`\n  to     `{path} {kind} {n}  # {why}`"
                ))
            }
            Some(_) => {}
        }
    }
    for ((path, kind), (max, line)) in &allowed {
        let known: &str = kind;
        if !found.keys().any(|(p, k)| p == path && *k == known) {
            problems.push(format!(
                "{kind}: none left in {path} (allowance {max}): delete `{line}` from {ALLOWLIST}"
            ));
        }
    }
    assert!(
        problems.is_empty(),
        "architecture guard ({} problem(s)); to regenerate the list from the tree: \
         UPDATE_ALLOWLIST=1 cargo test --test architecture_guard\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}

/// The detectors themselves, on code shaped like mhactl's.
#[test]
fn the_detectors_count_statements_not_prose() {
    let sql = |s: &str| SQL.find_iter(s).count();
    assert_eq!(sql("SELECT @@server_id"), 1);
    assert_eq!(sql("STOP SLAVE; RESET SLAVE ALL"), 2);
    assert_eq!(sql("mysql -e 'SHOW GLOBAL VARIABLES'"), 1);
    assert_eq!(sql("CREATE USER IF NOT EXISTS {}@{}"), 1);
    assert_eq!(sql("the account needs the SELECT privilege"), 0);
    assert_eq!(sql("select the node to rebuild"), 0);
    assert_eq!(sql("Set the password first"), 0);
    assert_eq!(sql("{path} (SET PERSIST)"), 0);
    assert_eq!(sql("SET SESSION sql_log_bin = 0"), 1);
    let shell = |s: &str| SHELL.find_iter(s).count();
    assert_eq!(shell("systemctl restart mysqld"), 1);
    assert_eq!(shell("systemctl"), 1);
    assert_eq!(shell("set -e; install -d -m 750 /x && chown mysql /x"), 2);
    assert_eq!(shell("sudo -n apt-get install -y x"), 1);
    assert_eq!(shell("install the package first"), 0);
    assert_eq!(shell("the service is not running"), 0);
    assert_eq!(shell("rm"), 0);
    assert_eq!(shell("rm -rf \"$tmp\""), 1);
    assert_eq!(
        shell("if [ -e /etc/x ]; then cat /etc/x; else exit 3; fi"),
        2
    );
    assert_eq!(
        shell("my_print_defaults mysqld | sed -n 's/^--socket=//p'"),
        2
    );
    assert_eq!(shell("grep the log for errors"), 0);
    let prose = QUOTED_FOR_READER.replace_all("run `chown -R mysql:mysql /x` yourself", " ");
    assert_eq!(shell(&prose), 0);
    let flavor = |s: &str| FLAVOR_CMP.find_iter(s).count();
    assert_eq!(flavor("if d.flavor() == Flavor::Mysql {"), 1);
    assert_eq!(
        flavor("if inv.mysql.flavor != inventory::Flavor::Mysql &&"),
        1
    );
    assert_eq!(flavor("matches!(flavor, Flavor::Mariadb)"), 1);
    assert_eq!(flavor("Flavor::Mariadb => major == 10,"), 0);
    assert_eq!(flavor("match d.flavor() {"), 0);
    let lx = lex("let s = \"a // b\"; // SELECT 1\nlet c = '\"'; let r = r#\"x\"y\"#;");
    let texts: Vec<&str> = lx.strings.iter().map(|(_, s)| s.as_str()).collect();
    assert_eq!(texts, ["a // b", "x\"y"]);
}
