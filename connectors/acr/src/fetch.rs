//! Reading the registry's CSV exports into raw records, from a file or an HTTP response.

use carbonmesh_connector::{Feed, Page, RawBody, RawRecord};

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

/// The rows of a GreenTrace response: `{"datasets":{"<key>":{"rows":[…],"totalCount":n}}}`.
/// Returns the page's raw records and the announced total.
pub(crate) fn json_rows(
    feed: Feed,
    source: &str,
    value: &serde_json::Value,
    first_line: u64,
) -> Result<(Vec<RawRecord>, Option<u64>), String> {
    let key = columns::dataset(feed).ok_or_else(|| format!("ACR publishes no {feed} dataset"))?;
    let dataset = value
        .get("datasets")
        .and_then(|d| d.get(key))
        .ok_or_else(|| format!("no `datasets.{key}` member"))?;
    let rows = dataset
        .get("rows")
        .and_then(|r| r.as_array())
        .ok_or_else(|| format!("`datasets.{key}.rows` is not an array"))?;
    let total = dataset
        .get("totalCount")
        .and_then(serde_json::Value::as_u64);
    let records = rows
        .iter()
        .zip(first_line..)
        .map(|(row, line)| RawRecord {
            feed,
            source: source.to_owned(),
            line,
            body: RawBody::Json(row.clone()),
        })
        .collect();
    Ok((records, total))
}
