//! A progress line for long runs on a terminal: records, rate and pages, redrawn in place on
//! standard error. When standard error is not a terminal (a pipe, a log file, CI) nothing is
//! drawn: the run's summary line is all that is written.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

/// One run's progress line.
pub struct ProgressLine {
    label: String,
    started: Instant,
    drawn: Option<Instant>,
    shown: bool,
}

/// The least time between two redraws.
const EVERY: Duration = Duration::from_millis(200);

impl ProgressLine {
    /// A line for `label` (a registry, a file), drawn only when standard error is a terminal.
    pub fn new(label: impl Into<String>) -> Self {
        ProgressLine {
            label: label.into(),
            started: Instant::now(),
            drawn: None,
            shown: std::io::stderr().is_terminal(),
        }
    }

    /// Shows `records` read in `pages` pages, of about `expected` when known.
    pub fn update(&mut self, records: u64, pages: u64, expected: Option<u64>) {
        if !self.shown || self.drawn.is_some_and(|at| at.elapsed() < EVERY) {
            return;
        }
        self.drawn = Some(Instant::now());
        let seconds = self.started.elapsed().as_secs_f64().max(0.001);
        let of = expected
            .filter(|e| *e > 0)
            .map(|e| format!(" of ~{e}"))
            .unwrap_or_default();
        let mut err = std::io::stderr().lock();
        // Return to the start of the line and clear it, then draw.
        let _ = write!(
            err,
            "\r\x1b[2K  {}: {records}{of} records, {:.0}/s, {pages} pages",
            self.label,
            records as f64 / seconds
        );
        let _ = err.flush();
    }

    /// Clears the line, so the summary that follows starts on a clean line.
    pub fn finish(self) {
        if self.shown && self.drawn.is_some() {
            let mut err = std::io::stderr().lock();
            let _ = write!(err, "\r\x1b[2K");
            let _ = err.flush();
        }
    }
}
