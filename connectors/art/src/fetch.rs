//! Reading ART's APX CSV exports into raw records; GreenTrace JSON pages are read by
//! `carbonmesh_connector::greentrace`.

use carbonmesh_connector::{Feed, Page};

use crate::columns;

pub(crate) use carbonmesh_connector::Completeness;

/// Splits an ART APX CSV export into raw records of `feed`, checking its required columns.
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

    const HEAD: &str = "Vintage,Credit Serial Numbers,Quantity of Credits,Status Effective,Program ID,Account Holder,Retirement Reason,Purpose of Retirement,Unnamed: 8\n";

    #[test]
    fn a_cut_response_is_malformed_but_a_cut_file_keeps_its_rows() {
        let body = format!(
            "{HEAD}2016,ART-GY-102-2016-9-1 to 1400,1400,06/27/2023,ART102,Hess,Pledge,Travel,\n2016,ART-GY-102-20"
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
            b"Vintage,Quantity of Credits\n2025,1\n",
            Completeness::File,
        )
        .expect_err("missing");
        assert!(
            err.contains("serial numbers (\"Credit Serial Numbers\")"),
            "{err}"
        );
    }
}
