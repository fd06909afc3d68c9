//! Batched reads (issue 21): several facts' commands as ONE remote command, so a run pays
//! one round trip for all of them instead of one each. Each command runs in its own
//! `sh -c` exactly as the transport would run it alone (same script, no stdin, its own
//! exit status; a file read, `transport::read_file_command`, as its `cat` alone), its
//! stdout and stderr kept in a private temporary directory. Then the
//! batch prints a header line with the number of commands, ONE `wc -c` of all the output
//! files (their byte lengths), and ONE `cat` of the status files and the outputs: a
//! constant number of processes whatever the number of commands (on a node where a
//! process costs milliseconds of CPU, per-command `wc` and `cat` were most of a verify's
//! remote work). [`parse_output`] splits that back into one [`CommandOutput`] per command
//! (pure, so each section goes to its fact's own pure parser unchanged).

use crate::quote::shell_quote;
use crate::transport::CommandOutput;
use anyhow::{anyhow, bail, Result};

/// The first word of every section header.
const HEADER: &str = "@mhactl-batch";

/// The remote script that runs `scripts` all at once (each in the background, then
/// `wait`) and prints what they printed (see the module doc). At once: the batch then
/// takes as long as its slowest read (the arbiter's two pings, ~0.2 s), not the sum of
/// all (~0.55 s for verify's); they are reads, none depends on another. A command that
/// fails does not stop the others.
pub fn script(scripts: &[String]) -> String {
    // `w PID`: the status of a command started below, 3 (missing) for a file read that
    // started nothing.
    let mut s = String::from(
        "d=$(mktemp -d) || exit 70; trap 'rm -rf \"$d\"' EXIT; \
         w() { [ -n \"$1\" ] || return 3; wait \"$1\"; }\n",
    );
    for (i, inner) in scripts.iter().enumerate() {
        let to = format!("</dev/null >\"$d/{i}o\" 2>\"$d/{i}e\" & p{i}=$!");
        match file_read(inner) {
            // A file read (most of a batch): its `cat` alone, no shell around it.
            Some(quoted) => s.push_str(&format!(
                "if [ -e {quoted} ]; then cat {quoted} {to}; \
                 else : >\"$d/{i}o\"; : >\"$d/{i}e\"; p{i}=; fi\n"
            )),
            // `sh` started straight in the background (no subshell around it: one
            // process per command).
            None => s.push_str(&format!("sh -c {} {to}\n", shell_quote(inner))),
        }
    }
    let waits: Vec<String> = (0..scripts.len())
        .map(|i| format!("w \"$p{i}\"; s{i}=$?"))
        .collect();
    s.push_str(&format!(
        "{}\nprintf '{HEADER} %s\\n' {}\n",
        if waits.is_empty() {
            "wait".to_string()
        } else {
            waits.join("; ")
        },
        scripts.len()
    ));
    if !scripts.is_empty() {
        let outputs: Vec<String> = (0..scripts.len()).map(|i| format!("{i}o {i}e")).collect();
        let statuses: Vec<String> = (0..scripts.len()).map(|i| format!("$s{i}")).collect();
        let outputs = outputs.join(" ");
        s.push_str(&format!(
            "cd \"$d\" || exit 70\nwc -c {outputs}\nprintf '%s\\n' {}\ncat {outputs}\n",
            statuses.join(" ")
        ));
    }
    s
}

/// The quoted path when `script` is `transport::read_file_command`'s script for it.
fn file_read(script: &str) -> Option<&str> {
    let quoted = tested_path(script)?;
    let path = unquote(quoted)?;
    (crate::transport::read_file_command(std::path::Path::new(&path)).script == script)
        .then_some(quoted)
}

/// The quoted path of a line that starts as a file read does (`if [ -e PATH ]; then cat
/// PATH...`): `transport::read_file_command`'s script, or [`script`]'s line for one.
fn tested_path(line: &str) -> Option<&str> {
    Some(
        line.strip_prefix("if [ -e ")?
            .split_once(" ]; then cat ")?
            .0,
    )
}

/// The commands a [`script`] runs, in order, or `None` when `batch` is not one (fakes
/// answer each command of a batch as if it ran alone).
pub fn scripts_of(batch: &str) -> Option<Vec<String>> {
    let mut lines = batch.lines();
    if !lines.next()?.starts_with("d=$(mktemp -d)") {
        return None;
    }
    lines
        .filter_map(|l| {
            if let Some(rest) = l.strip_prefix("sh -c ") {
                let end = rest.find(" </dev/null >\"$d/");
                return Some(end.and_then(|end| unquote(&rest[..end])));
            }
            Some(unquote(tested_path(l)?).map(|path| {
                crate::transport::read_file_command(std::path::Path::new(&path)).script
            }))
        })
        .collect()
}

/// The inverse of [`shell_quote`].
fn unquote(word: &str) -> Option<String> {
    match word.strip_prefix('\'') {
        Some(inner) => Some(inner.strip_suffix('\'')?.replace(r"'\''", "'")),
        None => Some(word.to_string()),
    }
}

/// What a [`script`] of `n` commands printed, as each command's own output: the header
/// line, `wc -c`'s line for each output file (`LENGTH NAME`, stdout and stderr of each
/// command in order) and its total, each command's exit status on a line, then the
/// outputs' bytes back to back. An error when the output does not have that shape (the
/// batch itself failed, or its output was not valid UTF-8 and so changed length when
/// decoded): the caller then reads each fact on its own.
pub fn parse_output(stdout: &str, n: usize) -> Result<Vec<CommandOutput>> {
    let mut rest = stdout;
    let mut line = |what: &str| -> Result<&str> {
        let (line, after) = rest
            .split_once('\n')
            .ok_or_else(|| anyhow!("batched read: {what} is missing"))?;
        rest = after;
        Ok(line)
    };
    let header = line("the header")?;
    if header != format!("{HEADER} {n}") {
        bail!("batched read: unexpected header {header:?} for {n} commands");
    }
    if n == 0 {
        return Ok(Vec::new());
    }
    let number = |s: &str, what: &str| {
        s.parse::<usize>()
            .map_err(|_| anyhow!("batched read: {what}: bad number {s:?}"))
    };
    let mut lengths = Vec::with_capacity(2 * n);
    for i in 0..n {
        for stream in ["o", "e"] {
            let name = format!("{i}{stream}");
            let l = line(&format!("the length of {name}"))?;
            let mut fields = l.split_whitespace();
            let (Some(len), Some(file), None) = (fields.next(), fields.next(), fields.next())
            else {
                bail!("batched read: unexpected length line {l:?} for {name}");
            };
            if file != name {
                bail!("batched read: length line {l:?} where {name} was expected");
            }
            lengths.push(number(len, &name)?);
        }
    }
    let total = line("the total length")?;
    if total.split_whitespace().nth(1) != Some("total") {
        bail!("batched read: unexpected total line {total:?}");
    }
    let mut statuses = Vec::with_capacity(n);
    for i in 0..n {
        let s = line(&format!("the status of command {i}"))?;
        statuses.push(
            s.trim()
                .parse::<i32>()
                .map_err(|_| anyhow!("batched read: command {i}: bad status {s:?}"))?,
        );
    }
    let mut take = |len: usize, what: &str| -> Result<String> {
        if rest.len() < len || !rest.is_char_boundary(len) {
            bail!("batched read: {what} is shorter than announced");
        }
        let (body, after) = rest.split_at(len);
        rest = after;
        Ok(body.to_string())
    };
    let mut out = Vec::with_capacity(n);
    for (i, status) in statuses.into_iter().enumerate() {
        let stdout = take(lengths[2 * i], &format!("{i}o"))?;
        let stderr = take(lengths[2 * i + 1], &format!("{i}e"))?;
        out.push(CommandOutput {
            status,
            stdout,
            stderr,
        });
    }
    Ok(out)
}

/// What a [`script`] prints for these outputs (the fake transport answers a batch with
/// it), `wc -c`'s lines as GNU wc pads them.
pub fn render_output(outputs: &[CommandOutput]) -> String {
    let mut s = format!("{HEADER} {}\n", outputs.len());
    if outputs.is_empty() {
        return s;
    }
    let files: Vec<(usize, String)> = outputs
        .iter()
        .enumerate()
        .flat_map(|(i, o)| {
            [
                (o.stdout.len(), format!("{i}o")),
                (o.stderr.len(), format!("{i}e")),
            ]
        })
        .collect();
    s.push_str(&wc_lines(&files));
    for o in outputs {
        s.push_str(&format!("{}\n", o.status));
    }
    for o in outputs {
        s.push_str(&o.stdout);
        s.push_str(&o.stderr);
    }
    s
}

/// What `wc -c FILE...` prints for files of these lengths and names, as GNU wc prints it:
/// with several files, the lengths padded to the total's width and a `total` line after
/// them. The batch's and the option-file chain's framings both end with such a `wc`.
pub(crate) fn wc_lines(files: &[(usize, String)]) -> String {
    let total: usize = files.iter().map(|(len, _)| len).sum();
    let width = if files.len() > 1 {
        total.to_string().len()
    } else {
        0
    };
    let mut s = String::new();
    for (len, name) in files {
        s.push_str(&format!("{len:>width$} {name}\n"));
    }
    if files.len() > 1 {
        s.push_str(&format!("{total} total\n"));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(status: i32, stdout: &str, stderr: &str) -> CommandOutput {
        CommandOutput {
            status,
            stdout: stdout.into(),
            stderr: stderr.into(),
        }
    }

    #[test]
    fn sections_come_back_exactly_whatever_they_hold() {
        let outputs = vec![
            out(0, "ID=debian\n", ""),
            out(3, "", "no such file\n"),
            out(0, "no newline at the end", ""),
            out(1, "@mhactl-batch 7 0 1 1\nlooks like a header\n", "é\n"),
            out(0, "", ""),
        ];
        let text = render_output(&outputs);
        assert_eq!(parse_output(&text, outputs.len()).unwrap(), outputs);
        assert!(parse_output(&text, outputs.len() + 1).is_err());
        assert!(parse_output("garbage\n", 1).is_err());
        assert!(parse_output(&text[..text.len() - 1], outputs.len()).is_err());
    }

    #[test]
    fn the_script_lists_its_commands_and_they_can_be_read_back() {
        let scripts = vec![
            "cat /etc/os-release".to_string(),
            "if [ -e '/x y' ]; then cat '/x y'; else exit 3; fi".to_string(),
            crate::transport::read_file_command(std::path::Path::new("/etc/it's here")).script,
            "if [ -e /x ]; then cat /x; else exit 4; fi".to_string(),
        ];
        let s = script(&scripts);
        assert_eq!(scripts_of(&s).unwrap(), scripts);
        assert!(scripts_of("ip -o link show").is_none());
    }

    /// The framing costs two processes (`wc`, `cat`) whatever the number of commands:
    /// on the lab's nodes a process costs milliseconds of CPU, and a `wc` and two `cat`s
    /// per command were most of a verify's remote work (docs/benchmarks.md).
    #[test]
    fn the_framing_does_not_grow_with_the_commands() {
        let scripts: Vec<String> = (0..20).map(|i| format!("echo {i}")).collect();
        let s = script(&scripts);
        let after_wait = s.split_once("\nw \"$p0\";").unwrap().1;
        assert_eq!(after_wait.matches("wc ").count(), 1, "{after_wait}");
        assert_eq!(after_wait.matches("cat ").count(), 1, "{after_wait}");
        assert!(
            !after_wait.contains("$("),
            "no subshell per command: {after_wait}"
        );
    }

    /// The real thing, on this machine's sh: outputs, statuses and lengths as announced.
    #[test]
    fn runs_in_a_real_shell() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("it's here.cnf");
        std::fs::write(&file, "[mysqld]\nport=3306").unwrap();
        let read = |p: &std::path::Path| crate::transport::read_file_command(p).script;
        let scripts = vec![
            "printf 'a\\nb'".to_string(),
            "echo err >&2; exit 3".to_string(),
            "exit 0".to_string(),
            read(&file),
            read(&dir.path().join("missing")),
            read(dir.path()),
        ];
        let batch = script(&scripts);
        assert_eq!(
            batch.matches("sh -c ").count(),
            3,
            "file reads inline: {batch}"
        );
        let got = std::process::Command::new("sh")
            .arg("-c")
            .arg(&batch)
            .output()
            .unwrap();
        let parsed = parse_output(&String::from_utf8_lossy(&got.stdout), scripts.len()).unwrap();
        // Each section is what the command prints and returns run alone.
        for (inner, section) in scripts.iter().zip(&parsed) {
            let alone = std::process::Command::new("sh")
                .arg("-c")
                .arg(inner)
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            assert_eq!(
                *section,
                out(
                    alone.status.code().unwrap(),
                    &String::from_utf8_lossy(&alone.stdout),
                    &String::from_utf8_lossy(&alone.stderr)
                ),
                "{inner}"
            );
        }
        assert_eq!(parsed[0], out(0, "a\nb", ""));
        assert_eq!(parsed[3], out(0, "[mysqld]\nport=3306", ""));
        assert_eq!(parsed[4].status, 3);
        assert_ne!(parsed[5].status, 0);
    }

    /// The sections run at once: the first waits for a file the second creates (one
    /// after the other, the first would give up after ~5 s and say so).
    #[test]
    fn the_sections_run_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let flag = dir.path().join("flag");
        let flag = flag.display();
        let scripts = vec![
            format!("i=0; while [ ! -e '{flag}' ]; do i=$((i+1)); [ $i -gt 500 ] && {{ echo alone; exit 1; }}; sleep 0.01; done; echo together"),
            format!("touch '{flag}'"),
        ];
        let got = std::process::Command::new("sh")
            .arg("-c")
            .arg(script(&scripts))
            .output()
            .unwrap();
        let parsed = parse_output(&String::from_utf8_lossy(&got.stdout), 2).unwrap();
        assert_eq!(parsed[0], out(0, "together\n", ""));
    }
}
