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
//! Output: `@mhactl-cnf N`, then `wc -c`'s line for each of the N records' bodies (and
//! its total when N > 1), then one line per record, `KIND STATUS PATH`, then the bodies
//! back to back. KIND is `defaults` (the list command's stdout; PATH `-`), `file`
//! (STATUS 0: the content; 3: missing) or `dir` (an `ls -1` listing). [`parse`] is pure.
//!
//! The scripts run few processes: the includes are found, the seen paths remembered and
//! the listings filtered by the shell's own `read` and `case`, each file is copied once
//! (`cat`), and one `wc` and one `cat` print everything at the end. On the lab's nodes a
//! process costs milliseconds of CPU; the first version ran about fifteen per file.

use crate::quote::shell_quote;
use std::collections::BTreeMap;
use std::path::Path;

/// The first word of every record header.
const HEADER: &str = "@mhactl-cnf";

/// Deeper than this is a loop (the server itself stops at 10).
const MAX_LEVELS: usize = 10;

/// What both scripts start with: a private directory, `$nl` (a newline), `rd PATH` (read
/// a file as `transport::read_file_command` would, into the next record's body `$d/$n`:
/// status 3 when it is missing, in `$s`), `rec KIND STATUS PATH` (note record `$n`) and
/// `out` (print the records, as the module doc says). One line, as every script of a
/// batch (`os::batch::scripts_of` reads a batch line by line).
const PREAMBLE: &str = "set -f; d=$(mktemp -d) || exit 70; trap 'rm -rf \"$d\"' EXIT; \
nl=$(printf '\\n.'); nl=${nl%.}; n=0; files=; \
rec() { printf '%s %s %s\\n' \"$1\" \"$2\" \"$3\" >>\"$d/index\"; files=\"$files $n\"; }; \
rd() { n=$((n+1)); if [ -e \"$1\" ]; then cat -- \"$1\" >\"$d/$n\" 2>/dev/null; s=$?; else : >\"$d/$n\"; s=3; fi; rec file $s \"$1\"; }; \
out() { IFS=' '; cd \"$d\" || exit 70; printf '@mhactl-cnf %s\\n' $n; [ $n = 0 ] && return; wc -c$files; cat index$files; }; ";

/// The chain command: [`crate::os::option_files::DEFAULT_FILES_COMMAND`]'s list (or its
/// fallback), then each level of includes.
pub fn chain_command() -> String {
    chain_script(crate::os::option_files::DEFAULT_FILES_COMMAND)
}

/// [`chain_command`] with another command printing the list (tests run it on this
/// machine's shell against files of their own). `strip` trims the blanks around `$v`;
/// `$seen` holds every path read or listed, a line each.
pub fn chain_script(defaults_command: &str) -> String {
    let fallback: Vec<String> = crate::os::option_files::FALLBACK_DEFAULT_FILES
        .iter()
        .map(|f| shell_quote(f))
        .collect();
    format!(
        "{PREAMBLE}\
strip() {{ v=${{v#\"${{v%%[![:space:]]*}}\"}}; v=${{v%\"${{v##*[![:space:]]}}\"}}; }}; \
n=1; sh -c {defaults} >\"$d/1\" 2>/dev/null </dev/null; rec defaults $? -; \
q=; while read -r l || [ -n \"$l\" ]; do for f in $l; do case $f in /*) q=\"$q$nl$f\";; '~/'*) q=\"$q$nl/root/${{f#??}}\";; esac; done; done <\"$d/1\"; \
[ -n \"$q\" ] || q={fallback}; \
IFS=$nl; seen=$nl; lv=0; \
while [ -n \"$q\" ] && [ $lv -le {MAX_LEVELS} ]; do lv=$((lv+1)); next=; \
for f in $q; do \
case $seen in *\"${{nl}}f:$f$nl\"*) continue;; esac; seen=\"${{seen}}f:$f$nl\"; \
rd \"$f\"; [ $s = 0 ] || continue; \
while IFS= read -r l || [ -n \"$l\" ]; do \
case $l in \
*'!includedir'*) v=$l; strip; case $v in '!includedir'*) ;; *) continue;; esac; v=${{v#!includedir}}; strip; \
case $seen in *\"${{nl}}d:$v$nl\"*) continue;; esac; seen=\"${{seen}}d:$v$nl\"; \
n=$((n+1)); {{ ls -1 -- \"$v\" 2>/dev/null || true; }} >\"$d/$n\"; rec dir 0 \"$v\"; \
base=$v; while case $base in */) true;; *) false;; esac; do base=${{base%/}}; done; \
while IFS= read -r e; do case $e in */*) ;; *.cnf) next=\"$next$nl$base/$e\";; esac; done <\"$d/$n\";; \
*'!include'*) v=$l; strip; case $v in '!include'*) ;; *) continue;; esac; v=${{v#!include}}; strip; next=\"$next$nl$v\";; \
esac; \
done <\"$d/$n\"; \
done; \
q=$next; \
done; out",
        defaults = shell_quote(defaults_command),
        fallback = fallback.join("\"$nl\""),
    )
}

/// The running server's pid file and, when it holds a pid, `/proc/PID/cmdline`.
pub fn process_command(pid_file: &str) -> String {
    format!(
        "{PREAMBLE}rd {}; [ $s = 0 ] && {{ read -r pid <\"$d/$n\" || :; \
case $pid in ''|*[!0-9]*) ;; *) rd /proc/$pid/cmdline;; esac; }}; out",
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

/// The records of a [`chain_command`] or [`process_command`] output. Keeps the records
/// whose bodies came whole, in order, and stops at the first that did not (a cut-off
/// output): what came before is kept. Nothing when the index itself is not whole.
pub fn parse(stdout: &str) -> OptionFileReads {
    let mut reads = OptionFileReads::default();
    let mut rest = stdout;
    let mut next_line = || -> Option<&str> {
        let (line, after) = rest.split_once('\n')?;
        rest = after;
        Some(line)
    };
    let Some(n) = next_line()
        .and_then(|l| l.strip_prefix(HEADER))
        .and_then(|l| l.trim().parse::<usize>().ok())
    else {
        return reads;
    };
    let mut lengths = Vec::with_capacity(n);
    for _ in 0..n {
        let Some(len) = next_line().and_then(|l| l.split_whitespace().next()?.parse().ok()) else {
            return reads;
        };
        lengths.push(len);
    }
    if n > 1 && next_line().is_none() {
        return reads;
    }
    let mut index = Vec::with_capacity(n);
    for _ in 0..n {
        let Some(line) = next_line() else {
            return reads;
        };
        let mut fields = line.splitn(3, ' ');
        let (Some(kind), Some(status), Some(path)) = (fields.next(), fields.next(), fields.next())
        else {
            return reads;
        };
        let Ok(status) = status.parse::<i32>() else {
            return reads;
        };
        index.push((kind.to_string(), status, path.to_string()));
    }
    for ((kind, status, path), len) in index.into_iter().zip(lengths) {
        if rest.len() < len || !rest.is_char_boundary(len) {
            break;
        }
        let body = rest[..len].to_string();
        rest = &rest[len..];
        match (kind.as_str(), status) {
            ("defaults", 0) => reads.defaults = Some(body),
            ("file", 0) => {
                reads.files.insert(path, Some(body));
            }
            ("file", 3) => {
                reads.files.insert(path, None);
            }
            ("dir", 0) => {
                reads.listings.insert(path, body);
            }
            _ => {}
        }
    }
    reads
}

/// What the commands print for `reads` (fakes answer with it; fixtures are made with it),
/// `wc -c`'s lines as GNU wc pads them and named as the scripts name the bodies.
pub fn render(reads: &OptionFileReads) -> String {
    let mut records: Vec<(&str, i32, &str, &str)> = Vec::new();
    if let Some(d) = &reads.defaults {
        records.push(("defaults", 0, "-", d));
    }
    for (path, text) in &reads.files {
        match text {
            Some(t) => records.push(("file", 0, path, t)),
            None => records.push(("file", 3, path, "")),
        }
    }
    for (dir, listing) in &reads.listings {
        records.push(("dir", 0, dir, listing));
    }
    let mut s = format!("{HEADER} {}\n", records.len());
    let bodies: Vec<(usize, String)> = records
        .iter()
        .enumerate()
        .map(|(i, r)| (r.3.len(), (i + 1).to_string()))
        .collect();
    s.push_str(&crate::os::batch::wc_lines(&bodies));
    for (kind, status, path, _) in &records {
        s.push_str(&format!("{kind} {status} {path}\n"));
    }
    for r in &records {
        s.push_str(r.3);
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
