//! URLs, pagination and the splitting of response bodies and files into raw records.

use std::ops::ControlFlow;
use std::sync::Arc;

use carbonmesh_connector::{Feed, Page, RawBody, RawRecord, Rejection};
use carbonmesh_normalize::{Column, read_csv_from};
use serde_json::Value;

use crate::columns;

/// Elasticsearch behind Platts refuses `start` at or beyond this offset.
pub const PLATTS_WINDOW: u64 = 10_000;

/// Platts refuses pages larger than this.
pub const PLATTS_MAX_LIMIT: u32 = 400;

/// The Platts resource name of a feed (`…/es/public/<name>/publicReportPageSearch`).
pub fn platts_resource(feed: Feed) -> Option<&'static str> {
    match feed {
        Feed::Projects => Some("project"),
        Feed::Issuances => Some("issuances"),
        Feed::Retirements => Some("retirements"),
        Feed::Cancellations => Some("cancellations"),
        Feed::Transactions => None,
    }
}

/// The Platts search URL of a resource; paging travels in the `POST` body.
pub fn platts_url(base: &str, resource: &str) -> String {
    format!(
        "{}/ci-raas-prod/raas-report-api/es/public/{resource}/publicReportPageSearch",
        base.trim_end_matches('/')
    )
}

/// The JSON body of a Platts search page: `start` offset and `limit`, sorted by `entityId`
/// so that pages do not shift between requests.
pub fn platts_request_body(start: u64, limit: u32) -> Value {
    serde_json::json!({
        "searchFilter": {
            "pagination": {
                "start": start,
                "limit": limit,
                "sortOptions": [{"sort": "entityId", "dir": "ASC"}]
            },
            "filterModel": {}
        }
    })
}

/// The `$skip` offset of an export page, and a digest of the first row of the page before it
/// (to tell an export that ignores `$skip`, and serves the same rows again, from one that
/// honours it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportCursor {
    /// Rows to skip.
    pub skip: u64,
    /// The digest of the previous page's first row, if it had one.
    pub previous_first: Option<String>,
}

impl ExportCursor {
    /// Reads a cursor written by [`ExportCursor::encode`]; `None` is the first page.
    pub fn parse(cursor: Option<&str>) -> Result<Self, String> {
        let Some(text) = cursor else {
            return Ok(Self {
                skip: 0,
                previous_first: None,
            });
        };
        let (skip, key) = match text.split_once('|') {
            Some((skip, key)) => (skip, Some(key.to_owned())),
            None => (text, None),
        };
        let skip = skip
            .parse()
            .map_err(|_| format!("cursor `{text}` is not an export offset"))?;
        Ok(Self {
            skip,
            previous_first: key,
        })
    }

    /// `skip|key`, or `skip` alone.
    pub fn encode(&self) -> String {
        match &self.previous_first {
            Some(key) => format!("{}|{key}", self.skip),
            None => self.skip.to_string(),
        }
    }
}

/// The uiapi export route of a feed: the project export for projects, the VCU export for
/// every other feed.
pub fn export_route(feed: Feed) -> &'static str {
    match feed {
        Feed::Projects => "/uiapi/resource/resource/search",
        _ => "/uiapi/asset/asset/search",
    }
}

/// One page of a uiapi CSV export: `$skip` rows skipped, at most `max_results` rows.
pub fn export_url(base: &str, feed: Feed, skip: u64, max_results: u32) -> String {
    format!(
        "{}{}?$format=csv&$count=true&$skip={skip}&maxResults={max_results}",
        base.trim_end_matches('/'),
        export_route(feed)
    )
}

/// The JSON search body of an export: every VCS project, or every VCS issued block.
pub fn export_request_body(feed: Feed) -> Value {
    match feed {
        Feed::Projects => serde_json::json!({"program": "VCS"}),
        _ => serde_json::json!({"program": "VCS", "issuanceTypeCodes": ["ISSUE"]}),
    }
}

/// A short digest of a raw row, for [`ExportCursor::previous_first`].
pub fn row_digest(record: &RawRecord) -> String {
    record.raw_hash().chars().take(16).collect()
}

/// The required columns of a CSV feed.
pub fn required_columns(feed: Feed) -> &'static [Column<'static>] {
    match feed {
        Feed::Projects => &columns::PROJECTS_REQUIRED,
        _ => &columns::TRANSACTIONS_REQUIRED,
    }
}

/// Splits a CSV body into raw records; rows that cannot be read go to `unreadable`. Fails
/// when the header lacks a required column.
pub fn csv_page(feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, String> {
    let mut whole = Page::default();
    csv_pages(feed, source, bytes, usize::MAX, &mut |page| {
        whole.records.extend(page.records);
        whole.unreadable.extend(page.unreadable);
        ControlFlow::Continue(())
    })?;
    Ok(whole)
}

/// Splits a CSV body into pages of at most `page_records` raw records (each with the
/// unreadable rows met since the previous page), handed to `each` as they are read until it
/// breaks. Fails when the header lacks a required column.
pub fn csv_pages<R: std::io::Read>(
    feed: Feed,
    source: &str,
    bytes: R,
    page_records: usize,
    each: &mut dyn FnMut(Page) -> ControlFlow<()>,
) -> Result<(), String> {
    let rows = read_csv_from(bytes).map_err(|e| e.to_string())?;
    let headers = Arc::new(rows.headers().clone());
    for c in required_columns(feed) {
        headers.require(*c).map_err(|e| e.to_string())?;
    }
    let page_records = page_records.max(1);
    let mut page = Page::default();
    let mut pager = carbonmesh_connector::CsvPager::new(feed, source, headers);
    for row in rows {
        pager.push(&mut page, row);
        if page.records.len() >= page_records {
            pager.finish(&mut page);
            if each(std::mem::take(&mut page)).is_break() {
                return Ok(());
            }
        }
    }
    pager.finish(&mut page);
    if !page.records.is_empty() || !page.unreadable.is_empty() || !page.warnings.is_empty() {
        let _ = each(page);
    }
    Ok(())
}

/// Checks that a fetched CSV body is whole: it ends with a line break and its last row reads.
pub fn check_csv_complete(bytes: &[u8], page: &Page) -> Result<(), String> {
    if !bytes.ends_with(b"\n") {
        return Err("the CSV ends mid-row (no final line break): truncated".into());
    }
    let last_good = page.records.last().map_or(0, |r| r.line);
    if let Some((r, why)) = page.unreadable.iter().find(|(r, _)| r.line > last_good) {
        return Err(format!(
            "the CSV ends with an unreadable row at line {}: {why}",
            r.line
        ));
    }
    Ok(())
}

/// The entities of a Platts page, and the total it announces. Accepts a bare array,
/// `{"entities": […]}`, and `{"<url>": {"entities": […]}}` as saved from several endpoints
/// (where the URL naming the feed's resource is picked).
pub fn platts_entities(value: Value, feed: Feed) -> Result<(Vec<Value>, Option<u64>), String> {
    match value {
        Value::Array(items) => Ok((items, None)),
        Value::Object(mut map) => {
            if let Some(entities) = map.remove("entities") {
                let total = [
                    "totalCount",
                    "totalEntities",
                    "total",
                    "totalElements",
                    "count",
                ]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_u64));
                return match entities {
                    Value::Array(items) => Ok((items, total)),
                    other => Err(format!("`entities` is not an array but {}", kind(&other))),
                };
            }
            let resource = platts_resource(feed)
                .ok_or_else(|| format!("Platts publishes no {feed} resource"))?;
            let segment = format!("/{resource}/");
            let key = map
                .keys()
                .find(|k| k.contains(&segment))
                .cloned()
                .ok_or_else(|| format!("no `entities` and no saved `{resource}` response"))?;
            match map.remove(&key) {
                Some(inner) => platts_entities(inner, feed),
                None => Err(format!("no `{resource}` response")),
            }
        }
        other => Err(format!(
            "expected a JSON object or array, found {}",
            kind(&other)
        )),
    }
}

/// The blocks of a saved uiapi asset search (`POST /uiapi/asset/asset/search`), the shape
/// `{"totalCount": N, "value": [ … ]}` (a bare array of blocks is read too). Each block has
/// the uiapi keys the VCU export's columns accept (`serialNumbers`, `quantity`, …).
pub fn uiapi_assets(value: Value) -> Result<Vec<Value>, String> {
    match value {
        Value::Array(items) => Ok(items),
        Value::Object(mut map) => match map.remove("value") {
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(format!("`value` is not an array but {}", kind(&other))),
            None => Err("no `value` array: not a saved uiapi asset search".into()),
        },
        other => Err(format!(
            "expected a JSON object or array, found {}",
            kind(&other)
        )),
    }
}

/// Whether the first bytes of a JSON file look like a saved uiapi asset search.
pub fn looks_like_uiapi_assets(head: &str) -> bool {
    head.contains("\"serialNumbers\"") && head.contains("\"resourceIdentifier\"")
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Raw records of JSON entities; `first_line` is the 1-based position of the first one.
pub fn json_records(feed: Feed, source: &str, items: Vec<Value>, first_line: u64) -> Page {
    let mut page = Page::default();
    for (i, item) in items.into_iter().enumerate() {
        let record = RawRecord {
            feed,
            source: source.to_owned(),
            line: first_line + i as u64,
            body: RawBody::Json(item.clone()),
        };
        if item.is_object() {
            page.records.push(record);
        } else {
            page.unreadable.push((
                record,
                Rejection::record(format!("expected an entity object, found {}", kind(&item))),
            ));
        }
    }
    page
}
