//! `--log-file PATH`: a copy of what mhactl writes to stderr at the chosen verbosity
//! (progress lines, warnings, log messages, the final error), for CI artefacts and
//! support tickets. Lines are appended without colours or spinner redraws, each run
//! starting with a header line. What reaches stderr is masked already (no secret is
//! printed), so the file holds no secret either.
//!
//! Every stderr line of mhactl's own goes through [`log_eprintln!`] (or [`line`]); the
//! tracing log gets its own layer writing here ([`crate::cli`]).

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

static LOG: OnceLock<Mutex<File>> = OnceLock::new();

/// Open (create or append to) the log file for this run and write its header line.
pub fn open(path: &Path, header: &str) -> std::io::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    writeln!(file, "{header}")?;
    let _ = LOG.set(Mutex::new(file));
    Ok(())
}

/// The current time in UTC, `2026-11-27T09:00:00Z`, for the header line.
pub fn now_utc() -> String {
    let t = time::OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Is a log file open?
pub fn enabled() -> bool {
    LOG.get().is_some()
}

/// Append one line (colour codes removed) when a log file is open.
pub fn line(text: &str) {
    if let Some(file) = LOG.get() {
        let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
        let _ = writeln!(file, "{}", strip_ansi(text));
    }
}

/// A writer for the tracing layer that writes into the log file.
pub struct Writer;

impl Write for Writer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(file) = LOG.get() {
            let mut file = file.lock().unwrap_or_else(|e| e.into_inner());
            file.write_all(buf)?;
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `text` without ANSI escape sequences (`ESC [ ... letter`).
pub fn strip_ansi(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\x1b' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// `eprintln!` that also appends the line to `--log-file`.
#[macro_export]
macro_rules! log_eprintln {
    ($($arg:tt)*) => {{
        let text = format!($($arg)*);
        eprintln!("{text}");
        $crate::log_file::line(&text);
    }};
}

#[cfg(test)]
mod tests {
    #[test]
    fn colour_codes_are_removed() {
        assert_eq!(
            super::strip_ansi("\x1b[1;31mFAILED\x1b[0m node-a"),
            "FAILED node-a"
        );
    }
}
