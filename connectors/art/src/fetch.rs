//! Reading ART's records into raw records: APX CSV exports (files) and GreenTrace JSON pages
//! (HTTP responses or saved files).

use carbonmesh_connector::{Feed, Page, RawBody, RawRecord};

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

/// The rows of a GreenTrace response: `{"datasets":{"<key>":{"rows":[…],"totalCount":n}}}`.
/// Returns the page's raw records, numbered from `first_line`, and the announced total.
pub(crate) fn json_rows(
    feed: Feed,
    source: &str,
    value: &serde_json::Value,
    first_line: u64,
) -> Result<(Vec<RawRecord>, Option<u64>), String> {
    let key = columns::dataset(feed).ok_or_else(|| format!("ART publishes no {feed} dataset"))?;
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

    #[test]
    fn greentrace_rows_are_numbered_from_the_page_offset() {
        let body = serde_json::json!({"datasets": {"retiredCredits": {
            "rows": [{"holdingKey": "a"}, {"holdingKey": "b"}], "totalCount": 7}}});
        let (rows, total) = json_rows(Feed::Retirements, "u", &body, 5).expect("rows");
        assert_eq!(total, Some(7));
        assert_eq!(rows.iter().map(|r| r.line).collect::<Vec<_>>(), [5, 6]);
        assert!(json_rows(Feed::Issuances, "u", &body, 1).is_err());
    }
}
