//! Masking secrets in the files mhactl writes or reads, by each file's syntax.
//!
//! Redacting the secrets mhactl resolved from the inventory is not enough: a node's
//! file can hold a secret mhactl never knew (the VRRP password before the inventory
//! changed it, a runbook's option file, a hand-written health check). Every diff and
//! every detail that quotes such a file goes through here, on both sides, so no value
//! of a secret-bearing field is ever shown, whoever wrote it.
//!
//! One function per file kind finds the secret values on a line ([`FileKind::secret_spans`]):
//! keepalived's `auth_pass`, option files' `password=` keys (whole value), a shell script's
//! `-pSECRET`; in every kind SQL (`IDENTIFIED BY`, `MASTER_PASSWORD`, ...), URL user-info
//! passwords and `NAME=VALUE` where NAME says password (`--password=`, `MYSQL_PWD=`). [`mask_pair`] keeps a diff useful:
//! a secret that differs between the two sides is masked with a side label, so the diff
//! still shows that the line changed without showing either value.

use std::collections::BTreeSet;
use std::ops::Range;

/// What a masked secret is replaced with.
pub const MASK: &str = "***";

/// The syntax of a file, which says where its secrets are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    /// keepalived.conf (and files it includes): `auth_pass SECRET`.
    Keepalived,
    /// MySQL/MariaDB option files (my.cnf, drop-ins, debian.cnf) and other ini-style
    /// files (yum/dnf `.repo`): `password = SECRET`.
    OptionFile,
    /// Shell scripts (the health check): mysql's `-pSECRET`, `--password=SECRET`,
    /// `MYSQL_PWD=SECRET` and `...PASS...=SECRET` assignments.
    ShellScript,
    /// SQL text and anything else: only SQL secrets and URL passwords.
    Other,
}

impl FileKind {
    /// The kind of the file at `path` (on a node).
    pub fn for_path(path: &str) -> FileKind {
        let name = path.rsplit('/').next().unwrap_or(path);
        if name.ends_with(".sh") {
            FileKind::ShellScript
        } else if name.starts_with("keepalived")
            || (path.starts_with("/etc/keepalived/") && name.ends_with(".conf"))
        {
            FileKind::Keepalived
        } else if name.ends_with(".cnf")
            || name.ends_with(".ini")
            || name.ends_with(".repo")
            || name.contains(".cnf.")
        {
            FileKind::OptionFile
        } else {
            FileKind::Other
        }
    }

    /// Byte ranges of the secret values on one line (sorted, not overlapping).
    pub fn secret_spans(self, line: &str) -> Vec<Range<usize>> {
        let mut spans = match self {
            FileKind::Keepalived => keepalived_spans(line),
            FileKind::OptionFile => option_file_spans(line),
            FileKind::ShellScript => shell_spans(line),
            FileKind::Other => Vec::new(),
        };
        spans.extend(sql_spans(line));
        spans.extend(url_password_spans(line));
        spans.extend(assignment_spans(line));
        normalise(spans)
    }
}

/// `text` with every secret (by `kind`'s syntax) replaced by [`MASK`].
pub fn mask(kind: FileKind, text: &str) -> String {
    replace_secrets(kind, text, |_| MASK.to_string())
}

/// The two sides of a diff, masked: a secret found on both sides becomes [`MASK`] on
/// both; one found on one side only becomes `***(LABEL)` with that side's label, so a
/// changed secret still shows as a changed line, and neither value is shown.
pub fn mask_pair(
    kind: FileKind,
    left: &str,
    right: &str,
    labels: (&str, &str),
) -> (String, String) {
    let (l, r) = (secret_values(kind, left), secret_values(kind, right));
    let label = |values: &BTreeSet<String>, other: &BTreeSet<String>, name: &str| {
        let name = name.to_string();
        let values = values.clone();
        let other = other.clone();
        move |v: &str| {
            if other.contains(v) || !values.contains(v) {
                MASK.to_string()
            } else {
                format!("{MASK}({name})")
            }
        }
    };
    (
        replace_secrets(kind, left, label(&l, &r, labels.0)),
        replace_secrets(kind, right, label(&r, &l, labels.1)),
    )
}

/// Every secret value in `text`.
fn secret_values(kind: FileKind, text: &str) -> BTreeSet<String> {
    text.lines()
        .flat_map(|line| {
            kind.secret_spans(line)
                .into_iter()
                .map(|s| line[s].to_string())
                .collect::<Vec<_>>()
        })
        .collect()
}

fn replace_secrets(kind: FileKind, text: &str, with: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let mut at = 0;
        for span in kind.secret_spans(line) {
            out.push_str(&line[at..span.start]);
            out.push_str(&with(&line[span.clone()]));
            at = span.end;
        }
        out.push_str(&line[at..]);
    }
    out
}

/// Sort, drop empty and already-masked values, merge overlaps.
fn normalise(mut spans: Vec<Range<usize>>) -> Vec<Range<usize>> {
    spans.sort_by_key(|s| (s.start, s.end));
    let mut out: Vec<Range<usize>> = Vec::new();
    for s in spans.into_iter().filter(|s| s.start < s.end) {
        match out.last_mut() {
            Some(last) if s.start <= last.end => last.end = last.end.max(s.end),
            _ => out.push(s),
        }
    }
    out
}

/// A value that a mask already replaced (re-masking it would lose its side label).
fn already_masked(value: &str) -> bool {
    value.starts_with(MASK)
}

/// The value starting at `start` (after blanks): a quoted string's inside, or the run
/// of characters up to a blank (with `to_end`: the rest of the line, blanks included,
/// as option files read an unquoted value).
fn value_at(line: &str, start: usize, to_end: bool) -> Option<Range<usize>> {
    let rest = &line[start..];
    let skipped = rest.len() - rest.trim_start_matches([' ', '\t']).len();
    let begin = start + skipped;
    let bytes = line.as_bytes();
    let range = match bytes.get(begin) {
        None | Some(b'\n') | Some(b'\r') => return None,
        Some(&q @ (b'"' | b'\'')) => {
            let inner = begin + 1;
            let end = quoted_end(line, inner, q).unwrap_or(line.trim_end().len());
            inner..end
        }
        Some(_) => {
            let end = if to_end {
                line.trim_end().len()
            } else {
                line[begin..]
                    .find(char::is_whitespace)
                    .map_or(line.len(), |e| begin + e)
            };
            begin..end
        }
    };
    (!already_masked(&line[range.clone()])).then_some(range)
}

/// Where the string quoted by `q` that starts at `from` ends (backslash escapes and
/// doubled quotes are part of it).
fn quoted_end(line: &str, from: usize, q: u8) -> Option<usize> {
    let bytes = line.as_bytes();
    let mut i = from;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' => i += 2,
            c if c == q && bytes.get(i + 1) == Some(&q) => i += 2,
            c if c == q => return Some(i),
            _ => i += 1,
        }
    }
    None
}

/// Positions where `word` (ASCII, case-insensitive) starts on `line` as a whole word.
fn word_positions(line: &str, word: &str) -> Vec<usize> {
    let lower = line.to_ascii_lowercase();
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = lower.as_bytes();
    lower
        .match_indices(word)
        .map(|(i, _)| i)
        .filter(|&i| {
            (i == 0 || !is_word(bytes[i - 1]))
                && bytes.get(i + word.len()).is_none_or(|&b| !is_word(b))
        })
        .collect()
}

/// keepalived: `auth_pass SECRET` (also in a comment: a commented-out password is one).
fn keepalived_spans(line: &str) -> Vec<Range<usize>> {
    word_positions(line, "auth_pass")
        .into_iter()
        .filter_map(|i| value_at(line, i + "auth_pass".len(), false))
        .collect()
}

/// Option files: the value of every key that names a password (`password`,
/// `loose-password`, `ssl-key-password`, `master-password`, ...), commented out or not.
fn option_file_spans(line: &str) -> Vec<Range<usize>> {
    let body = line.trim_start_matches([' ', '\t', '#', ';']);
    let offset = line.len() - body.len();
    let Some(eq) = body.find('=') else {
        return Vec::new();
    };
    let key = body[..eq].trim().to_ascii_lowercase().replace('-', "_");
    if !(key.contains("password") || key.contains("passwd") || key == "pass") {
        return Vec::new();
    }
    value_at(line, offset + eq + 1, true).into_iter().collect()
}

/// Shell: mysql clients' `-pSECRET` (`--password=`, `MYSQL_PWD=` and other assignments
/// are [`assignment_spans`], common to every kind).
fn shell_spans(line: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let bytes = line.as_bytes();
    for (i, _) in line.match_indices("-p") {
        let token_start = i == 0 || bytes[i - 1].is_ascii_whitespace() || bytes[i - 1] == b'"';
        if token_start && bytes.get(i + 2).is_some_and(|b| !b.is_ascii_whitespace()) {
            spans.extend(value_at(line, i + 2, false));
        }
    }
    spans
}

/// `NAME=VALUE` where NAME says password (`password=`, `--password=`, `MYSQL_PWD=`,
/// `DB_PASS=`, an option quoted in a server error: `unknown variable 'password=x'`), in
/// every kind. `password: YES` (a server's "using password") is not an assignment.
fn assignment_spans(line: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    for (eq, _) in line.match_indices('=') {
        let name_start = line[..eq]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .map_or(0, |p| p + 1);
        let name = line[name_start..eq]
            .trim_start_matches('-')
            .to_ascii_lowercase()
            .replace('-', "_");
        let says_password = name.contains("password")
            || name.contains("passwd")
            || name.ends_with("pwd")
            || name.ends_with("_pass")
            || name == "pass";
        if says_password {
            spans.extend(value_at(line, eq + 1, false));
        }
    }
    spans
}

/// SQL: `IDENTIFIED [WITH plugin] BY [PASSWORD] 'x'`, `IDENTIFIED ... AS 'x'`,
/// `MASTER_PASSWORD = 'x'`, `SOURCE_PASSWORD = 'x'`, `PASSWORD('x')`, `SET PASSWORD ... = 'x'`.
fn sql_spans(line: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    let lower = line.to_ascii_lowercase();
    for i in word_positions(line, "identified") {
        // The first quoted string after IDENTIFIED, up to the end of the clause.
        let clause_end = lower[i..].find([',', ';']).map_or(line.len(), |e| i + e);
        if let Some(q) = lower[i..clause_end].find(['\'', '"']) {
            spans.extend(value_at(line, i + q, false));
        }
    }
    for key in ["master_password", "source_password"] {
        for i in word_positions(line, key) {
            let rest = &lower[i + key.len()..];
            if let Some(eq) = rest.trim_start().strip_prefix('=') {
                let at = line.len() - eq.len();
                spans.extend(value_at(line, at, false));
            }
        }
    }
    for i in word_positions(line, "password") {
        let rest = lower[i + "password".len()..].trim_start();
        let at = line.len() - rest.len();
        if let Some(arg) = rest.strip_prefix('(') {
            spans.extend(value_at(line, line.len() - arg.len(), false));
        } else if lower[..i].trim_end().ends_with("set") {
            // SET PASSWORD [FOR account] = 'x'
            if let Some(eq) = lower[at..].find('=') {
                spans.extend(value_at(line, at + eq + 1, false));
            }
        }
    }
    spans
}

/// `scheme://user:SECRET@host`: the password of a URL's user info.
fn url_password_spans(line: &str) -> Vec<Range<usize>> {
    let mut spans = Vec::new();
    for (i, _) in line.match_indices("://") {
        let auth_start = i + 3;
        let rest = &line[auth_start..];
        let end = rest
            .find(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .unwrap_or(rest.len());
        let authority = &rest[..end];
        if let (Some(colon), Some(at)) = (authority.find(':'), authority.rfind('@')) {
            if colon < at {
                let value = auth_start + colon + 1..auth_start + at;
                if !already_masked(&line[value.clone()]) {
                    spans.push(value);
                }
            }
        }
    }
    spans
}

#[cfg(test)]
#[path = "mask_tests.rs"]
mod tests;
