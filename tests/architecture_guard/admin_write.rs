//! The `admin-write` rule: account and schema statements (CREATE/ALTER/DROP USER, GRANT,
//! REVOKE, SET PASSWORD, CREATE/DROP DATABASE or TABLE, ...) reach a server only through
//! `NodeHandle::with_admin_write`, which lifts the write fence around them on a fenced
//! node (plain `with_sql` fails there: MySQL refuses with 1290 under super_read_only).
//!
//! Their texts live in dialect/ (the `sql` rule), so the rule works on calls: the dialect
//! functions whose body has such a statement in a literal (or calls one that has) are
//! "admin statements"; a call of one outside dialect/ counts when it is executed on the
//! spot (inside the arguments of `.exec(…)`, `.query(…)`, `.query_drop(…)`, ...) and
//! not inside the arguments of `with_admin_write(…)` or `admin_write(…)` (its
//! implementation). Statements collected into an `Action::Sql` are applied by the engine
//! with `with_admin_write`; texts only shown to the user (verify's advice) are not
//! executed. Not seen: a statement kept in a variable and executed later (review).

use regex::Regex;
use std::collections::BTreeSet;
use std::sync::LazyLock;

/// An account or schema statement at the start of a literal or after `;`/`(`.
pub(super) static ACCOUNT_DDL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(concat!(
        r#"(?:^|[;(])\s*"#,
        r"(?:(?:CREATE|DROP|ALTER)\s+(?:USER|ROLE|DATABASE|SCHEMA|TABLE)\b",
        r"|RENAME\s+USER\b|SET\s+PASSWORD\b",
        r"|(?:GRANT|REVOKE)\s+(?:ALL|SELECT|INSERT|UPDATE|DELETE|REPLICATION|RELOAD|PROCESS|SUPER|USAGE|CREATE|DROP|PROXY|BINLOG|CONNECTION_ADMIN|\{))",
    ))
    .expect("account/DDL regex")
});

static FN_DEF: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\bfn\s+(\w+)").expect("fn regex"));
static CALL: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(\w+)\s*(?:::<[^>]*>)?\s*\(").expect("call regex"));
/// The calls that run a statement on a server (SqlConn's and the mysql crate's).
static EXECUTES: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\.(?:exec|exec_drop|exec_all|query|query_drop|query_first|query_iter)\s*\(")
        .expect("executes regex")
});
/// The calls whose arguments are an admin-write path.
static GUARDED: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:with_admin_write|admin_write|Action::Sql)\s*\(").expect("guarded regex")
});

/// The code as text with one byte per char, so regex offsets are char indices (the
/// lexer blanks strings and comments, so little but identifiers is left anyway).
fn ascii(code: &[char]) -> String {
    code.iter()
        .map(|&c| if c.is_ascii() { c } else { '?' })
        .collect()
}

/// The index of the bracket closing the one at `open` (`(`/`)` or `{`/`}`).
fn closing(code: &[char], open: usize) -> usize {
    let (o, c) = (code[open], if code[open] == '(' { ')' } else { '}' });
    let mut depth = 0;
    for (j, &ch) in code.iter().enumerate().skip(open) {
        if ch == o {
            depth += 1;
        } else if ch == c {
            depth -= 1;
            if depth == 0 {
                return j;
            }
        }
    }
    code.len()
}

/// One dialect file: its lexed code (strings blanked), its literals with their offsets.
pub(super) struct Source<'a> {
    pub code: &'a [char],
    pub strings: &'a [(usize, String)],
}

/// The dialect functions that produce an account or schema statement, directly (a literal
/// in the body) or through another such function (to a fixed point).
pub(super) fn admin_statement_fns(dialect: &[Source]) -> BTreeSet<String> {
    // (name, body span, body code) of every fn with a body.
    let mut bodies = Vec::new();
    for src in dialect {
        let text = ascii(src.code);
        for m in FN_DEF.captures_iter(&text) {
            let after = m.get(0).unwrap().end();
            let Some(open) = (after..src.code.len()).find(|&j| matches!(src.code[j], '{' | ';'))
            else {
                continue;
            };
            if src.code[open] == ';' {
                continue; // a declaration without a body
            }
            let end = closing(src.code, open);
            let body: String = src.code[open..end.min(src.code.len())].iter().collect();
            let direct = src
                .strings
                .iter()
                .any(|(at, s)| (open..end).contains(at) && ACCOUNT_DDL.is_match(s));
            bodies.push((m[1].to_string(), body, direct));
        }
    }
    let mut names: BTreeSet<String> = bodies.iter().filter(|b| b.2).map(|b| b.0.clone()).collect();
    loop {
        let before = names.len();
        for (name, body, _) in &bodies {
            if !names.contains(name) && CALL.captures_iter(body).any(|c| names.contains(&c[1])) {
                names.insert(name.clone());
            }
        }
        if names.len() == before {
            return names;
        }
    }
}

/// Offsets and names of the calls of `names` that are executed (inside the arguments of
/// a statement-running call) outside an admin-write path.
pub(super) fn unguarded_calls(code: &[char], names: &BTreeSet<String>) -> Vec<(usize, String)> {
    let text = ascii(code);
    let spans = |re: &Regex| -> Vec<(usize, usize)> {
        re.find_iter(&text)
            .map(|m| {
                let open = m.end() - 1;
                (open, closing(code, open))
            })
            .collect()
    };
    let (guarded, executed) = (spans(&GUARDED), spans(&EXECUTES));
    let inside = |spans: &[(usize, usize)], at: usize| spans.iter().any(|&(a, b)| a < at && at < b);
    CALL.captures_iter(&text)
        .filter(|c| names.contains(&c[1]))
        .map(|c| (c.get(1).unwrap().start(), c[1].to_string()))
        .filter(|&(at, _)| inside(&executed, at) && !inside(&guarded, at))
        .collect()
}

/// The rule itself, on code shaped like mhactl's.
#[test]
fn admin_write_flags_executed_account_statements_outside_the_admin_path() {
    let dialect = super::lex(
        "pub fn create_user_sql(u: &str) -> String { format!(\"CREATE USER {u}\") }\n\
         pub fn users_sql() -> Vec<String> { vec![create_user_sql(\"a\")] }\n\
         pub fn select_sql() -> String { \"SELECT 1\".into() }\n\
         pub fn advice() -> String { \"run GRANT yourself\".into() }\n",
    );
    let names = admin_statement_fns(&[Source {
        code: &dialect.code,
        strings: &dialect.strings,
    }]);
    let want: BTreeSet<String> = ["create_user_sql", "users_sql"].map(String::from).into();
    assert_eq!(names, want);
    let calls = |src: &str| -> Vec<String> {
        let lx = super::lex(src);
        unguarded_calls(&lx.code, &names)
            .into_iter()
            .map(|(_, n)| n)
            .collect()
    };
    assert_eq!(
        calls("node.with_sql(|s| s.exec(&d.create_user_sql(\"x\")))?;"),
        ["create_user_sql"]
    );
    assert!(calls("node.with_admin_write(|s| s.exec(&d.create_user_sql(\"x\")))?;").is_empty());
    assert!(calls("actions.push(Action::Sql(users_sql()));").is_empty());
    // Shown to the user, not executed; not an admin statement.
    assert!(calls("let advice = create_user_sql(\"x\"); s.query(&select_sql())").is_empty());
}
