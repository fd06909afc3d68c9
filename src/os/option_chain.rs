//! The option-file chain in ONE remote command (issue 21): the server's compiled-in list
//! of option files, every file of it, the `!include` files and `!includedir` listings
//! they name and the `*.cnf` files in those, level by level, as the server would follow
//! them. Without it a plan reads the list, then the files, then the directories, then
//! the files in them: one batch (a round trip) per level. And the running server's pid
//! file with the `/proc/PID/cmdline` it names, in one command too.
//!
//! Only a read-ahead: `facts::option_chain` puts each record into the cache as the
//! separate facts (`default-option-files`, `option-file`, `option-dir-listing`) would
//! have read it, and the walk over the chain (`os::option_files::server_settings`) stays
//! the one in Rust. A record the script did not print (a path it spells differently, a
//! file it could not read) is read on its own as before, so what the chain's shell
//! follows is an optimisation, never a meaning.
//!
//! Output: one record per read, `@mhactl-cnf KIND STATUS LENGTH PATH`, then LENGTH bytes.
//! KIND is `defaults` (the list command's stdout; PATH `-`), `file` (STATUS 0: the
//! content; 3: missing) or `dir` (an `ls -1` listing). [`parse`] is pure.

use crate::quote::shell_quote;
use std::collections::BTreeMap;
use std::path::Path;

/// The first word of every record header.
const HEADER: &str = "@mhactl-cnf";

/// Deeper than this is a loop (the server itself stops at 10).
const MAX_LEVELS: usize = 10;

/// What both scripts start with: a private directory, `emit KIND STATUS PATH` (the
/// record of `$d/o`), `rd PATH` (read a file as `transport::read_file_command` would:
/// 3 when it is missing) and `$nl`, a newline. One line, as every script of a batch
/// (`os::batch::scripts_of` reads a batch line by line).
const PREAMBLE: &str = "set -f; d=$(mktemp -d) || exit 70; trap 'rm -rf \"$d\"' EXIT; \
nl=$(printf '\\n.'); nl=${nl%.}; \
emit() { printf '@mhactl-cnf %s %s %s %s\\n' \"$1\" \"$2\" $(wc -c <\"$d/o\") \"$3\"; cat \"$d/o\"; }; \
rd() { if [ -e \"$1\" ]; then cat -- \"$1\" >\"$d/o\" 2>/dev/null; s=$?; else : >\"$d/o\"; s=3; fi; emit file $s \"$1\"; }; ";

/// The chain command: [`crate::os::option_files::DEFAULT_FILES_COMMAND`]'s list (or its
/// fallback), then each level of includes.
pub fn chain_command() -> String {
    chain_script(crate::os::option_files::DEFAULT_FILES_COMMAND)
}

/// [`chain_command`] with another command printing the list (tests run it on this
/// machine's shell against files of their own).
pub fn chain_script(defaults_command: &str) -> String {
    let fallback: Vec<String> = crate::os::option_files::FALLBACK_DEFAULT_FILES
        .iter()
        .map(|f| shell_quote(f))
        .collect();
    format!(
        "{PREAMBLE}\
sh -c {defaults} >\"$d/o\" 2>/dev/null </dev/null; emit defaults $? -; \
q=$(for f in $(cat \"$d/o\"); do case $f in /*) echo \"$f\";; '~/'*) echo \"/root/${{f#??}}\";; esac; done); \
[ -n \"$q\" ] || q={fallback}; \
IFS=$nl; : >\"$d/seen\"; n=0; \
while [ -n \"$q\" ] && [ $n -le {MAX_LEVELS} ]; do n=$((n+1)); next=; \
for f in $q; do \
grep -qxF -e \"f:$f\" \"$d/seen\" && continue; echo \"f:$f\" >>\"$d/seen\"; \
rd \"$f\"; [ $s = 0 ] || continue; \
inc=$(sed -n -e '/^[[:space:]]*!includedir/d' -e 's/^[[:space:]]*!include[[:space:]]*//p' \"$d/o\" | sed 's/[[:space:]]*$//'); \
dirs=$(sed -n 's/^[[:space:]]*!includedir[[:space:]]*//p' \"$d/o\" | sed 's/[[:space:]]*$//'); \
next=\"$next$nl$inc\"; \
for dir in $dirs; do \
grep -qxF -e \"d:$dir\" \"$d/seen\" && continue; echo \"d:$dir\" >>\"$d/seen\"; \
{{ ls -1 -- \"$dir\" 2>/dev/null || true; }} >\"$d/o\"; emit dir 0 \"$dir\"; \
base=$(printf '%s' \"$dir\" | sed 's:/*$::'); \
for e in $(grep '[.]cnf$' \"$d/o\" | grep -v /); do next=\"$next$nl$base/$e\"; done; \
done; \
done; \
q=$next; \
done",
        defaults = shell_quote(defaults_command),
        fallback = fallback.join("\"$nl\""),
    )
}

/// The running server's pid file and, when it holds a pid, `/proc/PID/cmdline`.
pub fn process_command(pid_file: &str) -> String {
    format!(
        "{PREAMBLE}rd {}; [ $s = 0 ] || exit 0; \
pid=$(tr -d '[:space:]' <\"$d/o\"); case $pid in ''|*[!0-9]*) exit 0;; esac; \
rd /proc/$pid/cmdline",
        shell_quote(pid_file)
    )
}

/// What one of these commands read, record by record.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OptionFileReads {
    /// The list command's stdout, when it exited 0.
    pub defaults: Option<String>,
    /// Files by path: their content, `None` when missing (files it could not read are
    /// left out: their own read names the error).
    pub files: BTreeMap<String, Option<String>>,
    /// `!includedir` listings by directory, as the line names it.
    pub listings: BTreeMap<String, String>,
}

/// The records of a [`chain_command`] or [`process_command`] output. Stops at the first
/// record that is not whole (a cut-off output): what came before is kept.
pub fn parse(stdout: &str) -> OptionFileReads {
    let mut reads = OptionFileReads::default();
    let mut rest = stdout;
    while let Some((line, after)) = rest.split_once('\n') {
        let mut fields = line.splitn(5, ' ');
        let (Some(HEADER), Some(kind), Some(status), Some(len), Some(path)) = (
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
            fields.next(),
        ) else {
            break;
        };
        let (Ok(status), Ok(len)) = (status.parse::<i32>(), len.parse::<usize>()) else {
            break;
        };
        if after.len() < len || !after.is_char_boundary(len) {
            break;
        }
        let body = after[..len].to_string();
        rest = &after[len..];
        match (kind, status) {
            ("defaults", 0) => reads.defaults = Some(body),
            ("file", 0) => {
                reads.files.insert(path.to_string(), Some(body));
            }
            ("file", 3) => {
                reads.files.insert(path.to_string(), None);
            }
            ("dir", 0) => {
                reads.listings.insert(path.to_string(), body);
            }
            _ => {}
        }
    }
    reads
}

/// What the commands print for `reads` (fakes answer with it; fixtures are made with it).
pub fn render(reads: &OptionFileReads) -> String {
    let mut s = String::new();
    let mut record = |kind: &str, status: i32, path: &str, body: &str| {
        s.push_str(&format!(
            "{HEADER} {kind} {status} {} {path}\n{body}",
            body.len()
        ));
    };
    if let Some(d) = &reads.defaults {
        record("defaults", 0, "-", d);
    }
    for (path, text) in &reads.files {
        match text {
            Some(t) => record("file", 0, path, t),
            None => record("file", 3, path, ""),
        }
    }
    for (dir, listing) in &reads.listings {
        record("dir", 0, dir, listing);
    }
    s
}

/// What [`chain_command`] or [`process_command`] would print on a node whose commands,
/// run alone, `alone` answers (`None`: no answer): the fake transport answers these two
/// from its rules for the separate reads, so a test's files stay the only truth. `None`
/// when `script` is neither command, or when a read it needs has no answer (the batch
/// then reports it lost, and the separate reads fail the test as they would).
pub fn simulate(
    script: &str,
    alone: &dyn Fn(&str) -> Option<crate::transport::CommandOutput>,
) -> Option<String> {
    let read = |path: &str| alone(&crate::transport::read_file_command(Path::new(path)).script);
    let mut reads = OptionFileReads::default();
    let keep = |reads: &mut OptionFileReads, path: &str| -> Option<Option<String>> {
        let out = read(path)?;
        let text = match out.status {
            0 => Some(out.stdout),
            3 => None,
            _ => return Some(None),
        };
        reads.files.insert(path.to_string(), text.clone());
        Some(text)
    };
    if script == chain_command() {
        let list = alone(crate::os::option_files::DEFAULT_FILES_COMMAND)?;
        let mut level = crate::os::option_files::parse_default_files(&list.stdout);
        if list.status == 0 {
            reads.defaults = Some(list.stdout);
        }
        for _ in 0..=MAX_LEVELS {
            let mut next = Vec::new();
            for f in level {
                if reads.files.contains_key(&f) {
                    continue;
                }
                let Some(text) = keep(&mut reads, &f)? else {
                    continue;
                };
                for line in crate::os::option_files::parse(&text) {
                    match line {
                        crate::os::option_files::Line::Include(file) => next.push(file),
                        crate::os::option_files::Line::IncludeDir(dir) => {
                            let listing = alone(&crate::os::option_files::list_dir_command(&dir))?;
                            next.extend(crate::os::option_files::included_dir_files(
                                &dir,
                                &listing.stdout,
                            ));
                            reads.listings.insert(dir, listing.stdout);
                        }
                        crate::os::option_files::Line::Setting { .. } => {}
                    }
                }
            }
            level = next;
        }
        return Some(render(&reads));
    }
    let quoted = script
        .strip_prefix(PREAMBLE)?
        .strip_prefix("rd ")?
        .split_once("; [ $s = 0 ]")?
        .0;
    let pid_file = match quoted.strip_prefix('\'') {
        Some(inner) => inner.strip_suffix('\'')?.replace(r"'\''", "'"),
        None => quoted.to_string(),
    };
    if script != process_command(&pid_file) {
        return None;
    }
    if let Some(pid) = keep(&mut reads, &pid_file)? {
        let pid = pid.trim();
        if !pid.is_empty() && pid.bytes().all(|b| b.is_ascii_digit()) {
            keep(&mut reads, &format!("/proc/{pid}/cmdline"))?;
        }
    }
    Some(render(&reads))
}

#[cfg(test)]
#[path = "option_chain_tests.rs"]
mod tests;
