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
    let mut latin1 = Latin1Lines::default();
    let mut last_failed = false;
    for row in rows {
        match row {
            Ok(record) => {
                last_failed = false;
                latin1.note(&record);
                page.records.push(RawRecord {
                    feed,
                    source: source.to_owned(),
                    line: record.line,
                    body: RawBody::Csv {
                        headers: headers.clone(),
                        fields: record.fields,
                    },
                });
            }
            Err(error) => {
                last_failed = true;
                page.unreadable
                    .push(unreadable(feed, source, &headers, &error));
            }
        }
    }
    page.warnings.extend(latin1.warning(source));
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

/// The unreadable row kept as its text, so a reviewer sees exactly what was there.
fn unreadable(
    feed: Feed,
    source: &str,
    headers: &Arc<HeaderMap>,
    error: &RowError,
) -> (RawRecord, Rejection) {
    let text = error.raw.clone();
    let record = RawRecord {
        feed,
        source: source.to_owned(),
        line: error.line,
        body: RawBody::Csv {
            headers: headers.clone(),
            fields: vec![text],
        },
    };
    (record, Rejection::record(error.problem.to_string()))
}

/// The lines of a CSV that were not UTF-8 and were read as Latin-1: never silently, the run
/// records a warning naming them.
#[derive(Debug, Default)]
pub struct Latin1Lines {
    lines: Vec<u64>,
    count: u64,
}

impl Latin1Lines {
    /// Most line numbers a warning names.
    const NAMED: usize = 10;

    /// Notes `record` if it was read as Latin-1.
    pub fn note(&mut self, record: &CsvRecord) {
        if record.repairs.contains(&Repair::Latin1) {
            self.count += 1;
            if self.lines.len() < Self::NAMED {
                self.lines.push(record.line);
            }
        }
    }

    /// The warning for `source`, if any row was read as Latin-1; starts counting again.
    pub fn warning(&mut self, source: &str) -> Option<String> {
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
