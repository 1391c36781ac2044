//! Reading CAR's APX CSV exports into raw records, from a file or an HTTP response.

use carbonmesh_connector::{Feed, Page};

use crate::columns;

pub(crate) use carbonmesh_connector::Completeness;

/// Splits a CAR CSV export into raw records of `feed`, checking its required columns.
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
