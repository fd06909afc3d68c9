//! Inventory errors as a compiler reports them: every problem at once, each as
//! `file:line:column: field: message` followed by the source line and a caret, so a
//! user fixes the whole file in one pass (and an editor or CI problem matcher can jump
//! to each place).
//!
//! Two kinds of problems, never mixed in one report:
//! - the file does not fit the inventory's types (unknown field, wrong type): serde stops
//!   at the first, so [`schema_errors`] blanks the offending entry out of a copy of the
//!   text (same line numbers) and parses again, until the copy parses or a further error
//!   could be a consequence of the blanking;
//! - semantic problems (`validate`): each names a field path (`nodes[1].address`), which
//!   [`locate`] finds in the text by walking the YAML with serde (a deliberate error at
//!   the path's value carries the parser's position, aliases and flow style included).

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use std::fmt::Write as _;

/// Most type errors collected from one file (each costs a parse of the text).
const MAX_SCHEMA_ERRORS: usize = 20;
/// Longest source line shown in a snippet, in characters.
const MAX_SNIPPET_CHARS: usize = 160;
/// Bytes of YAML parsed again to collect type errors or to place the problems, at most
/// (a parse of 200 KB takes about 0.3 s in a debug build on a loaded machine):
/// a hostile file (1 MiB, tens of thousands of problems) stays quick to refuse; an
/// ordinary inventory (a few KB) is never near it. Past it, problems are listed
/// without their place.
const PARSE_BUDGET_BYTES: usize = 256 << 10;
/// Largest file whose problems are placed or whose type errors are collected past the
/// first (no real inventory comes near it; a hostile one is refused quickly).
const MAX_PLACED_BYTES: usize = 64 << 10;
/// Marks the deliberate error [`locate`] raises at the value it looks for.
const FOUND: &str = "\u{1}mhactl-locate-found";

/// One problem: where it is (1-based line and column, if known) and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Diagnostic {
    pub line: Option<(usize, usize)>,
    pub message: String,
}

/// Render `problems` of file `name` (whose text is `text`) as one message: a single
/// problem as `name:L:C: message` plus its snippet; several as a count, then each.
pub(crate) fn render(name: &str, text: &str, problems: &[Diagnostic]) -> String {
    let mut out = String::new();
    if problems.len() > 1 {
        let _ = write!(out, "{name}: {} problems:", problems.len());
    }
    for (i, d) in problems.iter().enumerate() {
        if i >= super::validate::MAX_SHOWN {
            let _ = write!(out, "\n... and {} more", problems.len() - i);
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        match d.line {
            Some((l, c)) => {
                let _ = write!(out, "{name}:{l}:{c}: {}", d.message);
                out.push_str(&snippet(text, l, c));
            }
            None => {
                let _ = write!(out, "{name}: {}", d.message);
            }
        }
    }
    out
}

/// The type errors of `text`, at most [`MAX_SCHEMA_ERRORS`], each formatted by
/// `format` (serde's message in, mhactl's out). Empty when `text` deserializes as `T`.
pub(crate) fn schema_errors<T: de::DeserializeOwned>(
    text: &str,
    first: &serde_yaml_ng::Error,
    format: impl Fn(&serde_yaml_ng::Error) -> String,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if text.len() > MAX_PLACED_BYTES {
        return vec![Diagnostic {
            line: first.location().map(|l| (l.line(), l.column())),
            message: format(first),
        }];
    }
    // Only a document that is YAML can be parsed again past its first error.
    let recoverable = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(text).is_ok();
    let original: Vec<&str> = text.split('\n').collect();
    let mut copy: Vec<String> = original.iter().map(|l| l.to_string()).collect();
    let mut blanks: Vec<Blanked> = Vec::new();
    let mut seen = Vec::new();
    let mut budget = PARSE_BUDGET_BYTES;
    for _ in 0..MAX_SCHEMA_ERRORS * 2 {
        // Two parses of the copy per round (as the type, then as YAML).
        if out.len() >= MAX_SCHEMA_ERRORS || (!out.is_empty() && budget < 2 * text.len()) {
            break;
        }
        budget = budget.saturating_sub(2 * text.len());
        let Err(e) = serde_yaml_ng::from_str::<T>(&copy.join("\n")) else {
            break;
        };
        let at = e.location().map(|l| (l.line(), l.column()));
        let msg = e.to_string();
        if !out.is_empty() {
            if let Some(field) = missing_field(&msg) {
                // Serde checks required fields at the end of a mapping: a field missing
                // there is one blanked before (its wrong value was reported), or the
                // unknown key blanked before is that field misspelled. Put the entry
                // back (renamed, or with a value of the right type) and go on; anything
                // else may be an effect of the blanking, so stop.
                let found = at.and_then(|(l, c)| {
                    blanks.iter_mut().find(|b| {
                        !b.restored
                            && b.key_col + 1 == c
                            && b.start + 1 >= l
                            && (b.unknown_field || b.key == field)
                    })
                });
                let Some(b) = found else { break };
                if !b.restore::<T>(&mut copy, &original, field) {
                    break;
                }
                continue;
            }
            if at.is_none()
                || seen.contains(&at)
                || serde_yaml_ng::from_str::<serde_yaml_ng::Value>(&copy.join("\n")).is_err()
            {
                break;
            }
        }
        seen.push(at);
        out.push(Diagnostic {
            line: at,
            message: format(&e),
        });
        let Some((l, _)) = at.filter(|_| recoverable) else {
            break;
        };
        match Blanked::blank(&mut copy, l - 1, msg.contains("unknown field `")) {
            Some(b) => blanks.push(b),
            None => break,
        }
    }
    out
}

/// `x` of serde's "missing field `x`".
fn missing_field(msg: &str) -> Option<&str> {
    let rest = &msg[msg.find("missing field `")? + "missing field `".len()..];
    rest.split('`').next()
}

/// A mapping entry blanked out of the copy being re-parsed (lines `start..end`,
/// 0-based, replaced by spaces so every later line keeps its number).
struct Blanked {
    start: usize,
    end: usize,
    key_col: usize,
    key: String,
    unknown_field: bool,
    restored: bool,
}

impl Blanked {
    /// Blank the entry on line `start`: its `key: value` from the key on, and the more
    /// indented lines that belong to it. `None` when the line holds no `key:` (the
    /// error points at the key, unknown field, or at its value: in block style both
    /// are on the entry's line).
    fn blank(copy: &mut [String], start: usize, unknown_field: bool) -> Option<Blanked> {
        let target = copy.get(start)?.clone();
        let key_col = entry_key_column(&target)?;
        let key = target[key_col..]
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        copy[start] = format!(
            "{}{}",
            &target[..key_col],
            " ".repeat(target.len() - key_col)
        );
        let mut end = start + 1;
        while let Some(l) = copy.get_mut(end) {
            let trimmed = l.trim_start();
            let indent = l.len() - trimmed.len();
            if !(trimmed.is_empty() || trimmed.starts_with('#') || indent > key_col) {
                break;
            }
            *l = " ".repeat(l.len());
            end += 1;
        }
        Some(Blanked {
            start,
            end,
            key_col,
            key,
            unknown_field,
            restored: false,
        })
    }

    /// Put the entry back under the name `field`: a misspelled key with its own value;
    /// a key whose value was wrong with the first stand-in value that its type takes
    /// (the copy then parses past this line). False if none does.
    fn restore<T: de::DeserializeOwned>(
        &mut self,
        copy: &mut [String],
        original: &[&str],
        field: &str,
    ) -> bool {
        self.restored = true;
        let indent = &original[self.start][..self.key_col];
        if self.key != field {
            for i in self.start..self.end {
                copy[i] = original[i].to_string();
            }
            let line = original[self.start];
            let colon = line[self.key_col..]
                .find(':')
                .map_or(line.len(), |c| self.key_col + c);
            copy[self.start] = format!("{indent}{field}{}", &line[colon..]);
            return true;
        }
        for stand_in in ["1", "x", "10.0.0.1", "true", "{}", "[]"] {
            copy[self.start] = format!("{indent}{field}: {stand_in}");
            let still_here = match serde_yaml_ng::from_str::<T>(&copy.join("\n")) {
                Ok(_) => false,
                Err(e) => {
                    e.location().is_some_and(|l| l.line() == self.start + 1)
                        || missing_field(&e.to_string()) == Some(field)
                }
            };
            if !still_here {
                return true;
            }
        }
        false
    }
}

/// Byte offset of the block mapping key on `line` (after indentation and `- `
/// sequence markers), if the line holds a `key:`.
fn entry_key_column(line: &str) -> Option<usize> {
    let body_start = line.len() - line.trim_start_matches([' ', '-']).len();
    let body = &line[body_start..];
    (body.contains(": ") || body.ends_with(':')).then_some(body_start)
}

/// The source line `line` of `text` with a caret under `column`, indented under the
/// message, a secret-looking value masked.
fn snippet(text: &str, line: usize, column: usize) -> String {
    let Some(src) = text.split('\n').nth(line.saturating_sub(1)) else {
        return String::new();
    };
    let shown: String = mask_inline_secret(src.trim_end_matches('\r'))
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let (shown, caret) = window(&shown, column.saturating_sub(1));
    let width = line.to_string().len();
    format!(
        "\n{pad} |\n{line} | {shown}\n{pad} | {}^",
        " ".repeat(caret),
        pad = " ".repeat(width)
    )
}

/// At most [`MAX_SNIPPET_CHARS`] of `s` around character `caret`; the caret's new offset.
fn window(s: &str, caret: usize) -> (String, usize) {
    let chars: Vec<char> = s.chars().collect();
    if chars.len() <= MAX_SNIPPET_CHARS {
        return (s.to_string(), caret.min(chars.len()));
    }
    let start = caret.saturating_sub(MAX_SNIPPET_CHARS / 2);
    let end = (start + MAX_SNIPPET_CHARS).min(chars.len());
    let mut shown: String = chars[start..end].iter().collect();
    let mut caret = caret - start;
    if start > 0 {
        shown.insert_str(0, "...");
        caret += 3;
    }
    if end < chars.len() {
        shown.push_str("...");
    }
    (shown, caret)
}

/// `password: hunter2` written inline (refused: the inventory holds references) must
/// not be echoed by the error that refuses it.
fn mask_inline_secret(line: &str) -> String {
    let Some((key, value)) = line.split_once(':') else {
        return line.to_string();
    };
    let k = key
        .trim()
        .trim_start_matches('-')
        .trim()
        .to_ascii_lowercase();
    let says_secret = ["pass", "secret", "token", "pwd"]
        .iter()
        .any(|w| k.contains(w));
    let is_reference = ["_env", "_file", "_prompt"].iter().any(|s| k.ends_with(s));
    if says_secret && !is_reference && !value.trim().is_empty() {
        let lead = value.len() - value.trim_start().len();
        format!("{key}:{}***", &value[..lead])
    } else {
        line.to_string()
    }
}

/// Places problems by their field path within [`PARSE_BUDGET_BYTES`] (one parse each).
pub(crate) struct Locator<'a> {
    text: &'a str,
    budget: usize,
}

impl<'a> Locator<'a> {
    /// A locator for `text`.
    pub(crate) fn new(text: &'a str) -> Self {
        Locator {
            text,
            budget: if text.len() > MAX_PLACED_BYTES {
                0
            } else {
                PARSE_BUDGET_BYTES
            },
        }
    }

    /// [`locate`], or `None` once the budget is spent.
    pub(crate) fn locate(&mut self, path: &str) -> Option<(usize, usize)> {
        self.budget = self.budget.checked_sub(self.text.len().max(1))?;
        locate(self.text, path)
    }
}

/// The (line, column) of the value at `path` (`nodes[1].ssh.port`) in `text`, or of
/// its nearest ancestor present in the file; `None` if not even the first part is.
pub(crate) fn locate(text: &str, path: &str) -> Option<(usize, usize)> {
    let segs = parse_path(path)?;
    let e = locate_in(text, &segs).err()?;
    e.to_string()
        .contains(FOUND)
        .then(|| e.location().map(|l| (l.line(), l.column())))?
}

fn locate_in(text: &str, segs: &[Seg]) -> Result<(), serde_yaml_ng::Error> {
    let de = serde_yaml_ng::Deserializer::from_str(text);
    Walk(segs).deserialize(de)
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Index(usize),
}

/// `nodes[1].ssh.port` -> [nodes, 1, ssh, port]; `None` for an empty path.
fn parse_path(path: &str) -> Option<Vec<Seg>> {
    let mut segs = Vec::new();
    for part in path.split('.') {
        let (name, mut rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
        if !name.is_empty() {
            segs.push(Seg::Key(name.to_string()));
        }
        while let Some((idx, after)) = rest.split_once(']') {
            segs.push(Seg::Index(idx.parse().ok()?));
            rest = after.strip_prefix('[').unwrap_or(after);
        }
    }
    (!segs.is_empty()).then_some(segs)
}

/// Walks to the value at its path and fails there with [`FOUND`]; the deserializer
/// stamps that error with the value's position.
struct Walk<'a>(&'a [Seg]);

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any value")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        self.scalar()
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        self.scalar()
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        self.scalar()
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }
    fn visit_none<E: de::Error>(self) -> Result<(), E> {
        self.scalar()
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let Some((Seg::Index(want), rest)) = self.0.split_first() else {
            return Err(self.here());
        };
        let mut i = 0;
        loop {
            if i == *want {
                // The walk below ends in an error with a place, unless there is no
                // such element: then the sequence is the nearest place.
                seq.next_element_seed(Walk(rest))?;
                return Err(self.here());
            }
            if seq.next_element::<IgnoredAny>()?.is_none() {
                // No such element: the sequence is the nearest place.
                return Err(self.here());
            }
            i += 1;
        }
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let Some((Seg::Key(want), rest)) = self.0.split_first() else {
            return Err(self.here());
        };
        while let Some(key) = map.next_key::<serde_yaml_ng::Value>()? {
            if key.as_str() == Some(want.as_str()) {
                map.next_value_seed(Walk(rest))?;
                return Err(self.here());
            }
            map.next_value::<IgnoredAny>()?;
        }
        // No such key (a missing field, a default): the mapping is the nearest place.
        Err(self.here())
    }
}

impl Walk<'_> {
    fn here<E: de::Error>(&self) -> E {
        E::custom(FOUND)
    }

    /// A scalar ends the walk: the value looked for, or the nearest place to it.
    fn scalar<E: de::Error>(self) -> Result<(), E> {
        Err(self.here())
    }
}

#[cfg(test)]
#[path = "diagnostics_tests.rs"]
mod tests;
