//! Reading a registry's CSV export (a file, or an HTTP response body) into raw records.

use std::sync::Arc;

use carbonmesh_normalize::{CsvRecord, HeaderMap, Repair, RowError, read_csv};

use crate::{Feed, Page, RawBody, RawRecord, Rejection};

/// How strictly to treat the end of the CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completeness {
    /// A file saved by hand: a bad last row is one unreadable row like any other.
    File,
    /// An HTTP response: a body that stops mid-row was cut off in transit, so the page is
    /// malformed rather than one row short.
    Response,
}

/// Splits a CSV export into raw records of `feed`. Rows that cannot be fitted to the
/// header are kept in `unreadable` with their text; the rest of the file is read.
/// `missing_required` names the required columns the header lacks.
///
/// Errors (the whole body is unusable): no header, or a required column missing.
pub fn csv_page<S: std::fmt::Display>(
    feed: Feed,
    source: &str,
    bytes: &[u8],
    completeness: Completeness,
    missing_required: impl FnOnce(&HeaderMap) -> Vec<S>,
) -> Result<Page, String> {
    let rows = read_csv(bytes).map_err(|e| e.to_string())?;
    let headers = Arc::new(rows.headers().clone());
    let missing: Vec<String> = missing_required(&headers)
        .iter()
        .map(ToString::to_string)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "missing required column(s) for {feed}: {}; the header has {:?}",
            missing.join(", "),
            headers.raw()
        ));
    }
    let mut page = Page::default();
    let mut pager = CsvPager::new(feed, source, headers);
    let mut last_failed = false;
    for row in rows {
        last_failed = !pager.push(&mut page, row);
    }
    pager.finish(&mut page);
    if completeness == Completeness::Response {
        let ends_cleanly = bytes.last().is_some_and(|b| *b == b'\n' || *b == b'\r');
        if last_failed || !ends_cleanly {
            return Err(format!(
                "the CSV stops mid-row after {} complete rows (truncated response)",
                page.records.len()
            ));
        }
    }
    Ok(page)
}

/// Turns the rows of one CSV source into a page's raw records: a readable row as a record,
/// an unreadable one kept as its text with the reason, and a warning naming the rows that
/// were read as Latin-1.
pub struct CsvPager {
    feed: Feed,
    source: String,
    headers: Arc<HeaderMap>,
    latin1: Latin1Lines,
}

impl CsvPager {
    /// A pager for rows of `feed` read from `source` under `headers`.
    pub fn new(feed: Feed, source: &str, headers: Arc<HeaderMap>) -> Self {
        CsvPager {
            feed,
            source: source.to_owned(),
            headers,
            latin1: Latin1Lines::default(),
        }
    }

    /// Adds `row` to `page`; false when it could not be read.
    pub fn push(&mut self, page: &mut Page, row: Result<CsvRecord, RowError>) -> bool {
        let (line, fields, failed) = match row {
            Ok(record) => {
                self.latin1.note(&record);
                (record.line, record.fields, None)
            }
            // The row as it was: its text in one field.
            Err(error) => (error.line, vec![error.raw], Some(error.problem.to_string())),
        };
        let record = RawRecord {
            feed: self.feed,
            source: self.source.clone(),
            line,
            body: RawBody::Csv {
                headers: self.headers.clone(),
                fields,
            },
        };
        match failed {
            None => {
                page.records.push(record);
                true
            }
            Some(reason) => {
                page.unreadable.push((record, Rejection::record(reason)));
                false
            }
        }
    }

    /// Ends `page`: the warning for its rows read as Latin-1, if any.
    pub fn finish(&mut self, page: &mut Page) {
        page.warnings.extend(self.latin1.warning(&self.source));
    }
}

/// The lines of a CSV that were not UTF-8 and were read as Latin-1: never silently, the run
/// records a warning naming them.
#[derive(Debug, Default)]
struct Latin1Lines {
    lines: Vec<u64>,
    count: u64,
}

impl Latin1Lines {
    /// Most line numbers a warning names.
    const NAMED: usize = 10;

    /// Notes `record` if it was read as Latin-1.
    fn note(&mut self, record: &CsvRecord) {
        if record.repairs.contains(&Repair::Latin1) {
            self.count += 1;
            if self.lines.len() < Self::NAMED {
                self.lines.push(record.line);
            }
        }
    }

    /// The warning for `source`, if any row was read as Latin-1; starts counting again.
    fn warning(&mut self, source: &str) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let lines: Vec<String> = self.lines.iter().map(u64::to_string).collect();
        let more = self.count - self.lines.len() as u64;
        let warning = format!(
            "warning: {source}: {} row(s) were not UTF-8 and were read as Latin-1 (line {}{})",
            self.count,
            lines.join(", "),
            if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            }
        );
        *self = Self::default();
        Some(warning)
    }
}
