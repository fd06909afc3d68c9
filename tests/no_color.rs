//! `NO_COLOR` (https://no-color.org) on a real terminal: the same commands that colour
//! their output on a pseudo-terminal (util-linux `script` provides one) print not a
//! single escape code once `NO_COLOR` is set. Without `script` the test says SKIPPED.

use std::process::Command;

/// Output of `mhactl ARGS` run on a pseudo-terminal, with `NO_COLOR` set or not.
fn on_a_terminal(args: &str, no_color: bool) -> Option<String> {
    let bin = env!("CARGO_BIN_EXE_mhactl");
    let mut cmd = Command::new("script");
    cmd.args(["-qec", &format!("{bin} {args}"), "/dev/null"])
        .env("TERM", "xterm-256color")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE");
    if no_color {
        cmd.env("NO_COLOR", "1");
    }
    let out = cmd.output().ok()?;
    Some(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn no_color_leaves_no_escape_code_on_a_terminal() {
    if on_a_terminal("--version", false).is_none() {
        eprintln!("SKIPPED: no `script` (util-linux) to provide a pseudo-terminal");
        return;
    }
    for args in ["bootstrap --help", "bootstrap --no-such-flag", "verify -Z"] {
        let coloured = on_a_terminal(args, false).unwrap();
        // Proof that the terminal is one: without NO_COLOR there are colours.
        assert!(
            coloured.contains('\x1b'),
            "{args}: no colour even without NO_COLOR:\n{coloured}"
        );
        let plain = on_a_terminal(args, true).unwrap();
        assert!(
            !plain.contains('\x1b'),
            "{args}: an escape code with NO_COLOR=1:\n{plain:?}"
        );
        assert!(!plain.trim().is_empty(), "{args}: no output");
    }
}
