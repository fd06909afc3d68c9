//! The docs name only commands and flags that exist (issue 20 item 9): every `mhactl ...`
//! in a code span or code block of README.md, README.zh-CN.md and docs/*.md is checked
//! against the command-line definition itself (clap's command tree, global flags
//! included). A renamed or removed flag fails here, naming the file and line.

use clap::CommandFactory;
use std::path::{Path, PathBuf};

/// The markdown files users read.
fn doc_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![root.join("README.md"), root.join("README.zh-CN.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    docs.sort();
    files.extend(docs);
    files
}

/// The code of a markdown text with its line numbers: fenced blocks whole (`true`), and
/// the inline code spans of every other line (`false`).
fn code_lines(text: &str) -> Vec<(usize, String, bool)> {
    let mut out = Vec::new();
    let mut fenced = false;
    for (i, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            fenced = !fenced;
            continue;
        }
        if fenced {
            out.push((i + 1, line.to_string(), true));
            continue;
        }
        // Inline spans: the odd-numbered pieces between backticks.
        for (k, piece) in line.split('`').enumerate() {
            if k % 2 == 1 {
                out.push((i + 1, piece.to_string(), false));
            }
        }
    }
    out
}

/// Each `mhactl WORD ...` invocation in `code`: its words up to the end of the shell
/// command (a pipe, `;`, `&&`, `||`, a redirection or a comment).
fn invocations(code: &str) -> Vec<Vec<String>> {
    let words: Vec<&str> = code.split_whitespace().collect();
    let mut out = Vec::new();
    for (i, w) in words.iter().enumerate() {
        // A comment ends the line's commands.
        if w.starts_with('#') {
            break;
        }
        let program = w.trim_start_matches(['(', '$']);
        if !(program == "mhactl" || program.ends_with("/mhactl")) {
            continue;
        }
        // Only where a shell runs a program: the start, after sudo, a pipe, a list
        // operator or an assignment (prose in a code span, `another mhactl run`, is not).
        let at_command = i == 0
            || w.starts_with('(')
            || w.starts_with('$')
            || matches!(
                words[i - 1],
                "sudo" | "|" | ";" | "&&" | "||" | "time" | "exec" | "then" | "do" | "!" | "$"
            )
            || words[i - 1].contains('=') && !words[i - 1].starts_with('-');
        if !at_command {
            continue;
        }
        let mut args = Vec::new();
        for word in &words[i + 1..] {
            if matches!(*word, "|" | ";" | "&&" | "||" | "#" | "\\")
                || word.starts_with('>')
                || word.starts_with("2>")
                || word.starts_with('#')
            {
                break;
            }
            let word = word.trim_matches(|c| matches!(c, '[' | ']' | '(' | ')' | ',' | '.'));
            if !word.is_empty() {
                args.push(word.to_string());
            }
        }
        out.push(args);
    }
    out
}

/// Why `args` (the words after `mhactl`) name something that does not exist, if they do.
fn problem(root: &clap::Command, args: &[String]) -> Option<String> {
    let mut cmd = root;
    let mut path = vec!["mhactl".to_string()];
    let mut rest = args.iter().peekable();
    // Global flags may come before the subcommand (`mhactl -i inv.yaml verify`).
    while let Some(word) = rest.peek() {
        if word.starts_with('-') {
            if let Some(p) = flag_problem(cmd, word) {
                return Some(p);
            }
            rest.next();
            // A value: skipped (a flag that takes none is followed by the subcommand).
            if let Some(next) = rest.peek() {
                if !next.starts_with('-') && cmd.find_subcommand(next.as_str()).is_none() {
                    rest.next();
                }
            }
            continue;
        }
        break;
    }
    // The subcommand, and a sub-subcommand (`lab up`).
    while let Some(word) = rest.peek() {
        if cmd.get_subcommands().next().is_none() {
            break;
        }
        let looks_like_a_name = word.chars().all(|c| c.is_ascii_lowercase() || c == '-');
        if !looks_like_a_name {
            break;
        }
        match cmd.find_subcommand(word.as_str()) {
            Some(sub) => {
                path.push(word.to_string());
                cmd = sub;
                rest.next();
            }
            // Prose in a code span (`mhactl adopt`'s, an upper-case placeholder) is not
            // checked; a lower-case word where a subcommand must be is.
            None if cmd.get_name() == root.get_name() => {
                return Some(format!("`mhactl {word}`: no such command"));
            }
            None => break,
        }
    }
    for word in rest {
        if word == "--" {
            break;
        }
        if word.starts_with('-') && word.len() > 1 && !word.starts_with("-1") {
            if let Some(p) = flag_problem(cmd, word) {
                return Some(format!("`{}`: {p}", path.join(" ")));
            }
        }
    }
    None
}

/// Why `word` (`--name`, `--name=value`, `-x`) is not a flag of `cmd`, if it is not.
fn flag_problem(cmd: &clap::Command, word: &str) -> Option<String> {
    let known = |long: &str| {
        long == "help"
            || long == "version"
            || cmd.get_arguments().any(|a| {
                a.get_long() == Some(long) || a.get_all_aliases().is_some_and(|v| v.contains(&long))
            })
    };
    if let Some(long) = word.strip_prefix("--") {
        let long = long.split('=').next().unwrap_or(long);
        if long.is_empty() || !long.chars().next().unwrap().is_ascii_lowercase() {
            return None; // `--` or a placeholder
        }
        return (!known(long)).then(|| format!("no flag --{long}"));
    }
    let shorts: Vec<char> = word.trim_start_matches('-').chars().collect();
    if shorts.iter().all(|c| c.is_ascii_alphabetic()) {
        for c in shorts {
            let ok = c == 'h' || c == 'V' || cmd.get_arguments().any(|a| a.get_short() == Some(c));
            if !ok {
                return Some(format!("no flag -{c}"));
            }
        }
    }
    None
}

/// Code that only starts like a command: `mhactl does not weaken the
/// policy` (an error message quoted in prose). A short span or one with a flag is a
/// command, and is checked.
fn is_prose(root: &clap::Command, args: &[String]) -> bool {
    let unknown = args
        .first()
        .is_some_and(|w| !w.starts_with('-') && root.find_subcommand(w.as_str()).is_none());
    unknown && args.len() > 3 && !args.iter().any(|a| a.starts_with('-'))
}

#[test]
fn every_command_and_flag_the_docs_name_exists() {
    let mut root = mhactl::cli::Cli::command();
    // Propagates the global flags (`-i`, `--output`, ...) to every subcommand.
    root.build();
    let mut problems = Vec::new();
    let mut checked = 0;
    for file in doc_files() {
        let text = std::fs::read_to_string(&file).expect("readable doc");
        let name = file.file_name().unwrap().to_string_lossy().into_owned();
        for (line, code, _fenced) in code_lines(&text) {
            for args in invocations(&code) {
                checked += 1;
                if is_prose(&root, &args) {
                    continue;
                }
                if let Some(p) = problem(&root, &args) {
                    problems.push(format!("{name}:{line}: {p} (in `{}`)", code.trim()));
                }
            }
        }
    }
    assert!(
        checked > 50,
        "only {checked} invocations found: is the scan broken?"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_scan_catches_what_does_not_exist() {
    let mut root = mhactl::cli::Cli::command();
    root.build();
    let check = |line: &str| {
        invocations(line)
            .iter()
            .find_map(|args| problem(&root, args))
    };
    assert_eq!(check("mhactl bootstrap --dry-run inventory.yaml"), None);
    assert_eq!(
        check("sudo mhactl lab up --dir /tmp/lab --flavor mysql"),
        None
    );
    assert_eq!(
        check("mhactl -i inv.yaml verify --output json | jq ."),
        None
    );
    assert!(check("mhactl bootstrap --dry-rn")
        .unwrap()
        .contains("no flag --dry-rn"));
    assert!(check("mhactl lab up --flavour mysql")
        .unwrap()
        .contains("--flavour"));
    assert!(check("mhactl frobnicate")
        .unwrap()
        .contains("no such command"));
    assert!(check("mhactl verify -Z").unwrap().contains("-Z"));
    // Prose quoted in a span is not a command; a sentence is not started at its middle.
    assert!(is_prose(
        &root,
        &invocations("mhactl does not weaken the policy")[0]
    ));
    assert!(!is_prose(&root, &invocations("mhactl frobnicate --now")[0]));
    assert!(invocations("node-a is used by another mhactl run").is_empty());
    assert!(invocations("mhactl verify   # then mhactl would say").len() == 1);
}

/// docs/ci.md's workflows are meant to be copied as they are: each YAML block parses,
/// and the drift-gate examples build with a pinned toolchain and the lock file.
#[test]
fn ci_examples_are_yaml_with_a_pinned_toolchain() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/ci.md");
    let text = std::fs::read_to_string(&path).expect("docs/ci.md");
    let mut blocks: Vec<String> = Vec::new();
    let mut current: Option<String> = None;
    for line in text.lines() {
        match (&mut current, line.trim_start()) {
            (None, l) if l.starts_with("```yaml") => current = Some(String::new()),
            (Some(_), l) if l.starts_with("```") => blocks.extend(current.take()),
            (Some(b), _) => {
                b.push_str(line);
                b.push('\n');
            }
            _ => {}
        }
    }
    assert!(
        blocks.len() >= 4,
        "docs/ci.md: {} yaml blocks",
        blocks.len()
    );
    for b in &blocks {
        if let Err(e) = serde_yaml_ng::from_str::<serde_yaml_ng::Value>(b) {
            panic!("docs/ci.md: a yaml block does not parse: {e}\n{b}");
        }
    }
    let gates: Vec<&String> = blocks
        .iter()
        .filter(|b| b.contains("bootstrap --check") && b.contains("verify --output json"))
        .collect();
    assert_eq!(
        gates.len(),
        2,
        "a GitHub Actions and a GitLab CI drift gate"
    );
    assert!(gates[0].contains("dtolnay/rust-toolchain@1.") && gates[0].contains("--locked"));
    assert!(gates[1].contains("image: rust:1.") && gates[1].contains("--locked"));
}
