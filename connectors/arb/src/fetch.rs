//! Reading the registry's CSV exports into raw records, from a file or an HTTP response.

use carbonmesh_connector::{Feed, Page};

use crate::columns;

pub(crate) use carbonmesh_connector::Completeness;

/// Splits a the ARB table CSV export into raw records of `feed`, checking its required columns.
pub(crate) fn csv_page(
    feed: Feed,
    source: &str,
    bytes: &[u8],
    completeness: Completeness,
) -> Result<Page, String> {
    carbonmesh_connector::csv_page(feed, source, bytes, completeness, |headers| {
        columns::missing_required(feed, headers)
    })
}

/// What a body is when it is plainly not a CSV: CARB's page (HTML) or its workbook (XLSX, a
/// zip archive). `None` otherwise.
pub(crate) fn not_csv(body: &[u8]) -> Option<&'static str> {
    if body.starts_with(b"PK\x03\x04") {
        return Some("an XLSX workbook");
    }
    let start = body.iter().position(|b| !b.is_ascii_whitespace())?;
    (body[start] == b'<').then_some("an HTML page")
}

#[cfg(test)]
mod tests {
    #[test]
    fn html_and_xlsx_are_told_from_csv() {
        assert_eq!(super::not_csv(b"PK\x03\x04rest"), Some("an XLSX workbook"));
        assert_eq!(super::not_csv(b"\n <!DOCTYPE html>"), Some("an HTML page"));
        assert_eq!(super::not_csv(b"CARB Project ID,OPR Project ID\n"), None);
        assert_eq!(super::not_csv(b""), None);
    }
}
