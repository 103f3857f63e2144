//! Progress of long-running CLI work (`mwf demo`, `mwf export`), shown on
//! standard error when it is a terminal and silent otherwise, so that logs and
//! pipes stay clean. Redrawn at most five times a second.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

const REDRAW_EVERY: Duration = Duration::from_millis(200);

/// A one-line counter: `label: done/total (pct%)`, or `label: done` when the
/// total is unknown.
pub struct Progress {
    label: String,
    total: Option<u64>,
    done: u64,
    enabled: bool,
    started: Instant,
    last_drawn: Option<Instant>,
}

impl Progress {
    /// Progress shown on standard error if it is a terminal.
    pub fn new(label: impl Into<String>, total: Option<u64>) -> Progress {
        Progress::with_display(label, total, std::io::stderr().is_terminal())
    }

    /// A progress that never draws (library callers, tests, servers).
    pub fn hidden() -> Progress {
        Progress::with_display("", None, false)
    }

    fn with_display(label: impl Into<String>, total: Option<u64>, enabled: bool) -> Progress {
        Progress {
            label: label.into(),
            total,
            done: 0,
            enabled,
            started: Instant::now(),
            last_drawn: None,
        }
    }

    /// Starts a new stage with its own label and total.
    pub fn stage(&mut self, label: impl Into<String>, total: Option<u64>) {
        self.finish();
        *self = Progress::with_display(label, total, self.enabled);
    }

    pub fn set_total(&mut self, total: u64) {
        self.total = Some(total);
    }

    pub fn add(&mut self, n: u64) {
        self.done += n;
        if self.enabled
            && self
                .last_drawn
                .is_none_or(|at| at.elapsed() >= REDRAW_EVERY)
        {
            self.draw();
        }
    }

    pub fn done(&self) -> u64 {
        self.done
    }

    fn line(&self) -> String {
        match self.total {
            Some(total) if total > 0 => format!(
                "{}: {}/{} ({}%)",
                self.label,
                self.done,
                total,
                self.done.min(total) * 100 / total
            ),
            _ => format!("{}: {}", self.label, self.done),
        }
    }

    fn draw(&mut self) {
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{}", self.line());
        let _ = err.flush();
        self.last_drawn = Some(Instant::now());
    }

    /// Draws the final count with the time taken and ends the line.
    pub fn finish(&mut self) {
        if self.enabled && self.last_drawn.is_some() {
            let elapsed = self.started.elapsed().as_secs_f64();
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "\r\x1b[2K{} in {elapsed:.1}s", self.line());
            self.last_drawn = None;
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}

#[cfg(test)]
mod tests {
    use super::Progress;

    #[test]
    fn the_line_shows_the_share_done_when_the_total_is_known() {
        let mut p = Progress::with_display("entries", Some(200), false);
        p.add(50);
        assert_eq!(p.line(), "entries: 50/200 (25%)");
        let mut q = Progress::with_display("workers", None, false);
        q.add(7);
        assert_eq!(q.line(), "workers: 7");
    }
}
