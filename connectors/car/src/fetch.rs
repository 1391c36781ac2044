//! Reading CAR's APX CSV exports into raw records, from a file or an HTTP response.

use std::sync::Arc;

use carbonmesh_connector::{Feed, Page, RawBody, RawRecord, Rejection};
use carbonmesh_normalize::{HeaderMap, RowError, read_csv};

use crate::columns;

/// How strictly to treat the end of the CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Completeness {
    /// A file saved by hand: a bad last row is one unreadable row like any other.
    File,
    /// An HTTP response: a body that stops mid-row was cut off in transit, so the page is
    /// malformed rather than one row short.
    Response,
}

/// Splits a CAR CSV export into raw records of `feed`. Rows that cannot be fitted to the
/// header are kept in `unreadable` with their text; the rest of the file is read.
///
/// Errors (the whole body is unusable): no header, or a required column missing.
pub(crate) fn csv_page(
    feed: Feed,
    source: &str,
    bytes: &[u8],
    completeness: Completeness,
) -> Result<Page, String> {
    let rows = read_csv(bytes).map_err(|e| e.to_string())?;
    let headers = Arc::new(rows.headers().clone());
    let missing = columns::missing_required(feed, &headers);
    if !missing.is_empty() {
        return Err(format!(
            "missing required column(s) for {feed}: {}; the header has {:?}",
            missing.join(", "),
            headers.raw()
        ));
    }
    let mut page = Page::default();
    let mut last_failed = false;
    for row in rows {
        match row {
            Ok(record) => {
                last_failed = false;
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
                    .push(unreadable(feed, source, bytes, &headers, &error));
            }
        }
    }
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

/// The unreadable row kept as its physical line, so a reviewer sees exactly what was there.
fn unreadable(
    feed: Feed,
    source: &str,
    bytes: &[u8],
    headers: &Arc<HeaderMap>,
    error: &RowError,
) -> (RawRecord, Rejection) {
    let text = String::from_utf8_lossy(bytes)
        .lines()
        .nth(usize::try_from(error.line.saturating_sub(1)).unwrap_or(usize::MAX))
        .unwrap_or_default()
        .to_owned();
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

#[cfg(test)]
mod tests {
    use super::*;

    const HEAD: &str = "\"Vintage\",\"Offset Credit Serial Numbers\",\"Quantity of Offset Credits\",\"Status Effective\",\"Project ID\",\"Account Holder\",\"Retirement Reason\",\"Retirement Reason Details\",\n";

    #[test]
    fn a_cut_response_is_malformed_but_a_cut_file_keeps_its_rows() {
        let body = format!(
            "{HEAD}\"2025\",\"CAR-1-US-1335-31-983-KS-2025-9205-1 to 5000\",\"5000\",\"10/27/2025\",\"CAR1335\",\"A\",\"B\",\"C\",\n\"2025\",\"CAR-1-US-13"
        );
        let err = csv_page(
            Feed::Retirements,
            "t",
            body.as_bytes(),
            Completeness::Response,
        )
        .expect_err("truncated");
        assert!(err.contains("truncated"), "{err}");
        let page =
            csv_page(Feed::Retirements, "t", body.as_bytes(), Completeness::File).expect("file");
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.unreadable.len(), 1);
    }

    #[test]
    fn missing_columns_are_named() {
        let err = csv_page(
            Feed::Retirements,
            "t",
            b"Vintage,Quantity\n2025,1\n",
            Completeness::File,
        )
        .expect_err("missing");
        assert!(err.contains("serial"), "{err}");
    }
}
