//! Batched reads (issue 21): several facts' commands as ONE remote command, so a run pays
//! one round trip for all of them instead of one each. Each command runs in its own
//! `sh -c` exactly as the transport would run it alone (same script, no stdin, its own
//! exit status), its stdout and stderr kept in a private temporary directory; then a
//! header line with its index, exit status and the byte lengths of both, and the bytes
//! themselves. [`parse_output`] splits that back into one [`CommandOutput`] per command
//! (pure, so each section goes to its fact's own pure parser unchanged).

use crate::quote::shell_quote;
use crate::transport::CommandOutput;
use anyhow::{anyhow, bail, Result};

/// The first word of every section header.
const HEADER: &str = "@mhactl-batch";

/// The remote script that runs `scripts` all at once (each in the background, then
/// `wait`) and prints each one's section, in order (see the module doc). At once: the
/// batch then takes as long as its slowest read (the arbiter's two pings, ~0.2 s), not
/// the sum of all (~0.55 s for verify's); they are reads, none depends on another. A
/// command that fails does not stop the others.
pub fn script(scripts: &[String]) -> String {
    let mut s = String::from("d=$(mktemp -d) || exit 70; trap 'rm -rf \"$d\"' EXIT\n");
    for (i, inner) in scripts.iter().enumerate() {
        s.push_str(&format!(
            "(sh -c {} </dev/null >\"$d/{i}o\" 2>\"$d/{i}e\"; echo $? >\"$d/{i}s\") &\n",
            shell_quote(inner)
        ));
    }
    s.push_str("wait\n");
    for i in 0..scripts.len() {
        s.push_str(&format!(
            "printf '{HEADER} {i} %s %s %s\\n' \"$(cat \"$d/{i}s\")\" \
             $(wc -c <\"$d/{i}o\") $(wc -c <\"$d/{i}e\"); cat \"$d/{i}o\" \"$d/{i}e\"\n"
        ));
    }
    s
}

/// The commands a [`script`] runs, in order, or `None` when `batch` is not one (fakes
/// answer each command of a batch as if it ran alone).
pub fn scripts_of(batch: &str) -> Option<Vec<String>> {
    let mut lines = batch.lines();
    if !lines.next()?.starts_with("d=$(mktemp -d)") {
        return None;
    }
    lines
        .filter_map(|l| l.strip_prefix("(sh -c "))
        .map(|rest| {
            let end = rest.find(" </dev/null >\"$d/")?;
            unquote(&rest[..end])
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

/// What a [`script`] of `n` commands printed, as each command's own output. An error
/// when the output does not have the expected shape (the batch itself failed, or its
/// output was not valid UTF-8 and so changed length when decoded): the caller then reads
/// each fact on its own.
pub fn parse_output(stdout: &str, n: usize) -> Result<Vec<CommandOutput>> {
    let mut rest = stdout;
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let (line, after) = rest
            .split_once('\n')
            .ok_or_else(|| anyhow!("batched read: section {i} is missing"))?;
        let fields: Vec<&str> = line.split_whitespace().collect();
        let [HEADER, index, status, out_len, err_len] = fields[..] else {
            bail!("batched read: section {i}: unexpected header {line:?}");
        };
        let number = |s: &str| {
            s.parse::<usize>()
                .map_err(|_| anyhow!("batched read: section {i}: bad number {s:?}"))
        };
        if number(index)? != i {
            bail!("batched read: section {i} comes out of order ({line:?})");
        }
        let (out_len, err_len) = (number(out_len)?, number(err_len)?);
        let status: i32 = status
            .parse()
            .map_err(|_| anyhow!("batched read: section {i}: bad status {status:?}"))?;
        if after.len() < out_len + err_len
            || !after.is_char_boundary(out_len)
            || !after.is_char_boundary(out_len + err_len)
        {
            bail!("batched read: section {i} is shorter than announced");
        }
        out.push(CommandOutput {
            status,
            stdout: after[..out_len].to_string(),
            stderr: after[out_len..out_len + err_len].to_string(),
        });
        rest = &after[out_len + err_len..];
    }
    Ok(out)
}

/// What a [`script`] prints for these outputs (the fake transport answers a batch with it).
pub fn render_output(outputs: &[CommandOutput]) -> String {
    let mut s = String::new();
    for (i, o) in outputs.iter().enumerate() {
        s.push_str(&format!(
            "{HEADER} {i} {} {} {}\n{}{}",
            o.status,
            o.stdout.len(),
            o.stderr.len(),
            o.stdout,
            o.stderr
        ));
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
        assert!(parse_output(&text[..text.len() - 2], outputs.len()).is_err());
    }

    #[test]
    fn the_script_lists_its_commands_and_they_can_be_read_back() {
        let scripts = vec![
            "cat /etc/os-release".to_string(),
            "if [ -e '/x y' ]; then cat '/x y'; else exit 3; fi".to_string(),
        ];
        let s = script(&scripts);
        assert_eq!(scripts_of(&s).unwrap(), scripts);
        assert!(scripts_of("ip -o link show").is_none());
    }

    /// The real thing, on this machine's sh: outputs, statuses and lengths as announced.
    #[test]
    fn runs_in_a_real_shell() {
        let scripts = vec![
            "printf 'a\\nb'".to_string(),
            "echo err >&2; exit 3".to_string(),
            "exit 0".to_string(),
        ];
        let got = std::process::Command::new("sh")
            .arg("-c")
            .arg(script(&scripts))
            .output()
            .unwrap();
        let parsed = parse_output(&String::from_utf8_lossy(&got.stdout), 3).unwrap();
        assert_eq!(
            parsed,
            vec![out(0, "a\nb", ""), out(3, "", "err\n"), out(0, "", "")]
        );
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
