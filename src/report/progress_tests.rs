//! The progress display drawn on a small terminal emulator: what stays on the screen
//! once the spinners have redrawn (a command's messages, a step's activity).

use super::progress::Progress;
use super::ReportOptions;
use crate::engine::Observer;
use indicatif::{ProgressDrawTarget, TermLike};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const WIDTH: usize = 80;

/// A terminal as indicatif drives one: rows of characters, a cursor that moves by
/// relative steps, and the pending wrap of a real terminal (a line written to its last
/// column leaves the cursor there until the next character, which starts a new row).
#[derive(Debug, Clone, Default)]
struct Screen(Arc<Mutex<State>>);

#[derive(Debug, Default)]
struct State {
    rows: Vec<Vec<char>>,
    row: usize,
    col: usize,
}

impl State {
    fn put(&mut self, c: char) {
        match c {
            '\n' => (self.row, self.col) = (self.row + 1, 0),
            '\r' => self.col = 0,
            c => {
                if self.col >= WIDTH {
                    (self.row, self.col) = (self.row + 1, 0);
                }
                while self.rows.len() <= self.row {
                    self.rows.push(Vec::new());
                }
                let line = &mut self.rows[self.row];
                if line.len() <= self.col {
                    line.resize(self.col + 1, ' ');
                }
                line[self.col] = c;
                self.col += 1;
            }
        }
    }
}

impl Screen {
    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.0.lock().unwrap()
    }

    /// The rows as text, trailing blanks removed.
    fn rows(&self) -> Vec<String> {
        let s = self.state();
        s.rows
            .iter()
            .map(|r| r.iter().collect::<String>().trim_end().to_string())
            .collect()
    }

    /// What a plain write to stderr does: text at the cursor.
    fn write_directly(&self, text: &str) {
        let mut s = self.state();
        text.chars().for_each(|c| s.put(c));
    }
}

impl TermLike for Screen {
    fn width(&self) -> u16 {
        WIDTH as u16
    }
    fn height(&self) -> u16 {
        24
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        let mut s = self.state();
        s.row = s.row.saturating_sub(n);
        s.col = s.col.min(WIDTH - 1);
        Ok(())
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        let mut s = self.state();
        s.row += n;
        s.col = s.col.min(WIDTH - 1);
        Ok(())
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        let mut s = self.state();
        s.col = (s.col + n).min(WIDTH - 1);
        Ok(())
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        let mut s = self.state();
        s.col = s.col.saturating_sub(n);
        Ok(())
    }
    fn write_line(&self, text: &str) -> std::io::Result<()> {
        self.write_directly(text);
        self.state().put('\n');
        Ok(())
    }
    fn write_str(&self, text: &str) -> std::io::Result<()> {
        self.write_directly(text);
        Ok(())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        let mut s = self.state();
        let row = s.row;
        if let Some(line) = s.rows.get_mut(row) {
            line.clear();
        }
        s.col = 0;
        Ok(())
    }
    fn flush(&self) -> std::io::Result<()> {
        Ok(())
    }
}

fn on_screen(options: ReportOptions) -> (Screen, Progress) {
    let screen = Screen::default();
    let target = ProgressDrawTarget::term_like(Box::new(screen.clone()));
    let nodes = ["node-a".to_string(), "node-b".to_string()];
    let progress = Progress::drawing_to(&options, &nodes, Some(target), false);
    (screen, progress)
}

/// Long enough for several redraws of the spinners (a tick every 120 ms).
fn let_it_redraw() {
    std::thread::sleep(Duration::from_millis(600));
}

/// Issue 20: reinit's messages ("reinit: stopping the server") were written to stderr
/// and erased by the spinners' next redraw. Through [`Progress::message`] they stay,
/// above the spinners; a direct write at the same moment (the old way) is gone.
#[test]
fn a_command_s_message_stays_above_the_spinners() {
    let (screen, progress) = on_screen(ReportOptions::default());
    progress.started("node-a", "connect");
    let_it_redraw();
    screen.write_directly("reinit: written past the display");
    progress.message("reinit: stopping the server on node-a");
    let_it_redraw();
    progress.message("reinit: copying the data from node-b");
    let_it_redraw();
    let rows = screen.rows();
    let row_of = |text: &str| rows.iter().position(|r| r.contains(text));
    let first = row_of("reinit: stopping the server on node-a");
    let second = row_of("reinit: copying the data from node-b");
    // (The write past the display left a stale spinner row above, as on a real terminal.)
    let spinner = rows.iter().rposition(|r| r.contains("node-a"));
    assert!(
        first.is_some() && second.is_some() && first < second && second < spinner,
        "the messages are not on the screen, in order, above the spinners: {rows:#?}"
    );
    assert!(rows[spinner.unwrap()].ends_with("connect"), "{rows:#?}");
    // The control: what bypassed the display was drawn over.
    assert_eq!(row_of("written past the display"), None, "{rows:#?}");
    progress.finish();
}

/// A long step's activity is shown on its node's spinner line, not as lines (without
/// `-v`), and replaced by the next.
#[test]
fn a_step_s_activity_updates_its_node_s_spinner_line() {
    let (screen, progress) = on_screen(ReportOptions::default());
    progress.started("node-b", "install-packages");
    let sink = progress
        .activity_sink()
        .expect("the display shows activities");
    sink.activity(
        "node-b",
        "install-packages",
        "apt: unpacking mariadb-server (12%)",
    );
    let_it_redraw();
    let rows = screen.rows();
    let line = rows.iter().find(|r| r.contains("node-b")).cloned();
    assert!(
        line.as_deref()
            .is_some_and(|l| l.contains("install-packages: apt: unpacking mariadb-server (12%)")),
        "{rows:#?}"
    );
    sink.activity(
        "node-b",
        "install-packages",
        "apt: configuring mariadb-server (64%)",
    );
    let_it_redraw();
    let rows = screen.rows();
    assert_eq!(
        rows.iter().filter(|r| r.contains("apt: ")).count(),
        1,
        "one line per node, updated in place: {rows:#?}"
    );
    assert!(rows
        .iter()
        .any(|r| r.contains("configuring mariadb-server (64%)")));
    progress.finish();
}

/// With `-v`, each activity is also printed as a line above the spinners.
#[test]
fn verbose_prints_each_activity_as_a_line() {
    let (screen, progress) = on_screen(ReportOptions {
        verbose: 1,
        ..ReportOptions::default()
    });
    let sink = progress
        .activity_sink()
        .expect("the display shows activities");
    sink.activity("node-a", "install-packages", "apt: unpacking a (10%)");
    sink.activity("node-a", "install-packages", "apt: unpacking b (20%)");
    let_it_redraw();
    let rows = screen.rows();
    for text in ["apt: unpacking a (10%)", "apt: unpacking b (20%)"] {
        assert!(
            rows.iter().any(
                |r| r.starts_with("node-a   install-packages  running   ") && r.ends_with(text)
            ),
            "{text}: {rows:#?}"
        );
    }
    progress.finish();
}

/// A dry run shows each changed step's whole plan under its line (it is the result);
/// a real run only the first line, unless `-v`.
#[test]
fn a_dry_run_shows_each_changed_step_s_plan() {
    let report = |node: &str| {
        crate::engine::StepReport {
        node: node.into(),
        step: "keepalived".into(),
        status: crate::engine::StepStatus::Changed,
        detail: "would write /etc/keepalived/keepalived.conf\n    write /etc/keepalived/keepalived.conf (mode 600)".into(),
        diff: None,
        ms: 10,
    }
    };
    let (screen, progress) = on_screen(ReportOptions::default());
    let progress = progress.with_plans(true);
    progress.finished(&report("node-a"));
    let_it_redraw();
    let rows = screen.rows();
    assert!(
        rows.iter()
            .any(|r| r.starts_with("node-a   keepalived        changed   would write")),
        "{rows:#?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("write /etc/keepalived/keepalived.conf (mode 600)")),
        "{rows:#?}"
    );
    progress.finish();
    let (screen, progress) = on_screen(ReportOptions::default());
    progress.finished(&report("node-b"));
    let_it_redraw();
    let rows = screen.rows();
    assert!(
        rows.iter().any(|r| r.starts_with("node-b   keepalived")),
        "{rows:#?}"
    );
    assert!(!rows.iter().any(|r| r.contains("(mode 600)")), "{rows:#?}");
    progress.finish();
}
