//! URLs, pagination and the splitting of response bodies and files into raw records.

use std::sync::Arc;

use carbonmesh_connector::{Feed, Page, RawBody, RawRecord, Rejection};
use carbonmesh_normalize::{Column, read_csv};
use serde_json::Value;

use crate::columns;

/// The response header announcing how many items the resource holds.
pub const TOTAL_HEADER: &str = "x-total-count";

/// Largest page each resource serves: `projects` silently caps at 150, `credits` answers 403
/// above 25.
pub fn max_page_size(feed: Feed) -> u32 {
    match feed {
        Feed::Projects => 150,
        _ => 25,
    }
}

/// A page of the public API: `page` counts from 1, newest first by id, stable across pages.
pub fn page_url(base: &str, feed: Feed, page: u64, size: u32) -> String {
    let resource = match feed {
        Feed::Projects => "projects",
        _ => "credits",
    };
    format!(
        "{}/{resource}?page={page}&size={size}",
        base.trim_end_matches('/')
    )
}

/// The required columns of a CSV feed.
pub fn required_columns(feed: Feed) -> &'static [Column<'static>] {
    match feed {
        Feed::Projects => &columns::PROJECTS_REQUIRED,
        _ => &columns::CREDITS_REQUIRED,
    }
}

/// Splits a CSV export into raw records; rows that cannot be read go to `unreadable`. Fails
/// when the header lacks a required column.
pub fn csv_page(feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, String> {
    let rows = read_csv(bytes).map_err(|e| e.to_string())?;
    let headers = Arc::new(rows.headers().clone());
    for c in required_columns(feed) {
        headers.require(*c).map_err(|e| e.to_string())?;
    }
    let mut page = Page::default();
    for row in rows {
        match row {
            Ok(r) => page.records.push(RawRecord {
                feed,
                source: source.to_owned(),
                line: r.line,
                body: RawBody::Csv {
                    headers: headers.clone(),
                    fields: r.fields,
                },
            }),
            Err(e) => page.unreadable.push((
                RawRecord {
                    feed,
                    source: source.to_owned(),
                    line: e.line,
                    body: RawBody::Csv {
                        headers: headers.clone(),
                        fields: Vec::new(),
                    },
                },
                Rejection::record(e.problem.to_string()),
            )),
        }
    }
    Ok(page)
}

/// What a JSON value is, for an error message: its kind, and an object's first members.
pub fn describe(value: &Value) -> String {
    match value {
        Value::Object(o) if o.is_empty() => "an empty object".to_owned(),
        Value::Object(o) => {
            let members: Vec<String> = o.keys().take(6).map(|k| format!("`{k}`")).collect();
            let more = if o.len() > members.len() { ", …" } else { "" };
            format!("an object with members {}{more}", members.join(", "))
        }
        Value::Array(_) => "an array".to_owned(),
        Value::String(_) => "a string".to_owned(),
        Value::Number(_) => "a number".to_owned(),
        Value::Bool(_) => "a boolean".to_owned(),
        Value::Null => "null".to_owned(),
    }
}
