//! The one place every command's `--output json` document is written (issue 20 item 5):
//! the envelope fields every document starts with (`schema`, `mhactl_version`,
//! `command`, `duration_s`, `counts`; `ok` comes from the command's report), and the
//! rounding of every non-integer number to 3 decimals, so a script never sees
//! `1.5745359419999998`. Commands hand their report here instead of calling serde_json
//! themselves; docs/json.md and docs/json-schema/mhactl.schema.json describe the result.

use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use anyhow::Result;
use serde::Serialize;
use serde_json::ser::{CompactFormatter, Formatter, PrettyFormatter};

/// The document layout's version. It changes (to 2, ...) only when a field is renamed,
/// removed or changes its type or meaning; adding a field keeps it.
pub const SCHEMA_VERSION: u32 = 1;

/// Decimals kept in every non-integer number (milliseconds in seconds).
const DECIMALS: i32 = 3;

/// The command as typed and when it started, set once by the command line.
static RUN: OnceLock<(&'static str, Instant)> = OnceLock::new();

/// Note the command (`bootstrap`, `lab up`, ...) and start its clock: `duration_s` is the
/// time from here until the document is written.
pub fn begin(command: &'static str) {
    let _ = RUN.set((command, Instant::now()));
}

/// The command [`begin`] noted (`None` before, as in unit tests).
pub fn command() -> Option<&'static str> {
    RUN.get().map(|(command, _)| *command)
}

/// The counts of a command that has them (`null` for the others).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Counts {
    /// bootstrap and rotate-certs: steps by status.
    Steps {
        /// Steps that changed something (in a dry run: would change).
        changed: usize,
        /// Steps that found nothing to do.
        unchanged: usize,
        /// Steps that failed.
        failed: usize,
        /// Steps not run (after a failure, or outside `--limit`).
        skipped: usize,
    },
    /// verify: checks run, failed (counting for `ok`: severity `error`, not-run
    /// included) and warnings (failed checks of severity `warning`).
    Checks {
        /// Every check reported.
        checks: usize,
        /// Failed checks that make verify fail.
        failed: usize,
        /// Failed checks that are reported only.
        warnings: usize,
    },
}

/// The envelope, then the command's own fields (flattened, in their declared order).
#[derive(Serialize)]
struct Document<'a, T: Serialize> {
    schema: u32,
    mhactl_version: &'static str,
    command: &'a str,
    duration_s: f64,
    counts: Option<Counts>,
    #[serde(flatten)]
    body: &'a T,
}

/// The document for `body` (an object with at least `ok`), as the command line's
/// command after the time since [`begin`].
pub fn render<T: Serialize>(counts: Option<Counts>, body: &T) -> Result<String> {
    let (command, elapsed) = match RUN.get() {
        Some((command, started)) => (*command, started.elapsed()),
        // Only a test calls a command without the command line.
        None => ("unknown", Duration::ZERO),
    };
    render_as(command, elapsed, counts, body)
}

/// [`render`] and print it on standard output (one document, newline-terminated).
pub fn print<T: Serialize>(counts: Option<Counts>, body: &T) -> Result<()> {
    let text = render(counts, body)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{text}")?;
    Ok(())
}

/// The document for `body` as `command` after `elapsed`, pretty-printed.
pub fn render_as<T: Serialize>(
    command: &str,
    elapsed: Duration,
    counts: Option<Counts>,
    body: &T,
) -> Result<String> {
    let doc = Document {
        schema: SCHEMA_VERSION,
        mhactl_version: env!("CARGO_PKG_VERSION"),
        command,
        duration_s: elapsed.as_secs_f64(),
        counts,
        body,
    };
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut buf, Rounding::default());
    doc.serialize(&mut ser)?;
    Ok(String::from_utf8(buf)?)
}

/// `x` rounded to [`DECIMALS`] places.
fn round(x: f64) -> f64 {
    let scale = 10f64.powi(DECIMALS);
    let r = (x * scale).round() / scale;
    // Rounding must not turn a huge finite value into infinity (serde would print null).
    if r.is_finite() {
        r
    } else {
        x
    }
}

/// serde_json's pretty layout, rounding floats as they are written: rounding here rather
/// than in each report keeps field order and covers fields added later.
#[derive(Default)]
struct Rounding(PrettyFormatter<'static>);

impl Formatter for Rounding {
    fn write_f32<W: ?Sized + Write>(&mut self, w: &mut W, value: f32) -> std::io::Result<()> {
        CompactFormatter.write_f64(w, round(f64::from(value)))
    }
    fn write_f64<W: ?Sized + Write>(&mut self, w: &mut W, value: f64) -> std::io::Result<()> {
        CompactFormatter.write_f64(w, round(value))
    }
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_array(w)
    }
    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array(w)
    }
    fn begin_array_value<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_array_value(w, first)
    }
    fn end_array_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_array_value(w)
    }
    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object(w)
    }
    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object(w)
    }
    fn begin_object_key<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        self.0.begin_object_key(w, first)
    }
    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.begin_object_value(w)
    }
    fn end_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        self.0.end_object_value(w)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    #[derive(Serialize)]
    struct Report {
        ok: bool,
        gap_s: f64,
        maybe_s: Option<f64>,
        nested: Vec<f64>,
        ms: u64,
    }

    #[test]
    fn the_envelope_comes_first_then_the_report_in_its_order() {
        let body = Report {
            ok: true,
            gap_s: 1.574_535_941_999_999_8,
            maybe_s: None,
            nested: vec![0.000_4, 2.0, 12.345_6],
            ms: 1574,
        };
        let counts = Counts::Checks {
            checks: 3,
            failed: 1,
            warnings: 0,
        };
        let text = render_as(
            "verify",
            Duration::from_nanos(1_574_535_942),
            Some(counts),
            &body,
        )
        .unwrap();
        let keys: Vec<&str> = text
            .lines()
            .filter(|l| l.starts_with("  \""))
            .map(|l| l.trim().split('"').nth(1).unwrap())
            .collect();
        assert_eq!(
            keys,
            [
                "schema",
                "mhactl_version",
                "command",
                "duration_s",
                "counts",
                "ok",
                "gap_s",
                "maybe_s",
                "nested",
                "ms"
            ],
            "{text}"
        );
        assert!(text.contains("\"gap_s\": 1.575,"), "{text}");
        assert!(text.contains("\"duration_s\": 1.575,"), "{text}");
        assert!(!text.contains("1.5745"), "{text}");
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["schema"], 1);
        assert_eq!(v["mhactl_version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(v["command"], "verify");
        assert_eq!(v["counts"]["failed"], 1);
        assert_eq!(v["nested"], serde_json::json!([0.0, 2.0, 12.346]));
        assert_eq!(v["maybe_s"], Value::Null);
        assert_eq!(v["ms"], 1574);
    }

    #[test]
    fn without_counts_the_key_is_null_and_the_layout_is_serde_jsons() {
        let body = serde_json::json!({"ok": false, "list": [], "empty": {}});
        let text = render_as("status", Duration::ZERO, None, &body).unwrap();
        let v: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["counts"], Value::Null);
        assert_eq!(v["duration_s"], 0.0);
        // serde_json's pretty layout (two-space indent, empty containers on one line).
        assert!(text.starts_with("{\n  \"schema\": 1,\n"), "{text}");
        assert!(
            text.contains("  \"empty\": {},\n  \"list\": [],\n"),
            "{text}"
        );
        assert!(text.ends_with("\n}"), "{text}");
    }
}
