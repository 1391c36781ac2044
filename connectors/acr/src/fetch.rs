//! Reading the registry's CSV exports into raw records, from a file or an HTTP response.

use carbonmesh_connector::{Feed, Page};

use crate::columns;

pub(crate) use carbonmesh_connector::Completeness;

/// Splits a ACR CSV export into raw records of `feed`, checking its required columns.
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
