//! Reading Isometric records into raw records: CarbonPlan's flattened CSV exports (files) and
//! Registry API pages, `{"nodes":[…],"total_count":n,"page_info":{…}}` (HTTP responses or saved
//! files).

use carbonmesh_connector::{Feed, Page, RawBody, RawRecord};
use serde_json::Value;

use crate::columns;

pub(crate) use carbonmesh_connector::Completeness;

/// Splits a flattened CSV export into raw records of `feed`, checking its required columns.
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

/// One Registry API page: its nodes as raw records numbered from `first_line`, and the cursor
/// of the next page (`None` on the last page).
pub(crate) struct ApiPage {
    pub(crate) records: Vec<RawRecord>,
    pub(crate) next: Option<String>,
}

/// Reads a Registry API page. A page that says it has a next page must give its cursor.
pub(crate) fn api_page(
    feed: Feed,
    source: &str,
    value: &Value,
    first_line: u64,
) -> Result<ApiPage, String> {
    let nodes = value
        .get("nodes")
        .and_then(Value::as_array)
        .ok_or("no `nodes` array")?;
    let info = value.get("page_info").ok_or("no `page_info` member")?;
    let has_next = info
        .get("has_next_page")
        .and_then(Value::as_bool)
        .ok_or("`page_info.has_next_page` is not a boolean")?;
    let next = if has_next {
        let cursor = info
            .get("end_cursor")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .ok_or("`page_info.has_next_page` is true but `end_cursor` is missing")?;
        Some(cursor.to_owned())
    } else {
        None
    };
    Ok(ApiPage {
        records: records(feed, source, nodes, first_line),
        next,
    })
}

/// The records of a saved JSON file: an API page, a bare array of nodes, or one node.
pub(crate) fn json_file(feed: Feed, source: &str, value: &Value) -> Result<Vec<RawRecord>, String> {
    match value {
        Value::Array(nodes) => Ok(records(feed, source, nodes, 1)),
        Value::Object(o) if o.contains_key("nodes") => {
            let nodes = o
                .get("nodes")
                .and_then(Value::as_array)
                .ok_or("`nodes` is not an array")?;
            Ok(records(feed, source, nodes, 1))
        }
        Value::Object(_) => Ok(records(feed, source, std::slice::from_ref(value), 1)),
        _ => Err("neither an API page, an array of records nor a record".to_owned()),
    }
}

fn records(feed: Feed, source: &str, nodes: &[Value], first_line: u64) -> Vec<RawRecord> {
    nodes
        .iter()
        .zip(first_line..)
        .map(|(node, line)| RawRecord {
            feed,
            source: source.to_owned(),
            line,
            body: RawBody::Json(node.clone()),
        })
        .collect()
}

/// The feed of a JSON head (cut anywhere), by the members only one kind of node has
/// (`retired_at`, `issued_at`, `process_key`), else by the prefix of the first `"id"`.
pub(crate) fn json_feed(head: &str) -> Option<Feed> {
    if head.contains("\"retired_at\"") {
        Some(Feed::Retirements)
    } else if head.contains("\"issued_at\"") {
        Some(Feed::Issuances)
    } else if head.contains("\"process_key\"") {
        Some(Feed::Projects)
    } else {
        first_id(head).and_then(columns::feed_of_id)
    }
}

/// The id of the first record in a JSON head (the first `"id"` member: every Isometric node
/// lists its own id first). The head may be cut anywhere.
pub(crate) fn first_id(head: &str) -> Option<&str> {
    let at = head.find("\"id\"")?;
    let rest = head[at + 4..].trim_start().strip_prefix(':')?.trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"').unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Percent-encodes a query value (an opaque cursor), keeping only RFC 3986 unreserved bytes.
pub(crate) fn encode_query_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_pages_give_their_next_cursor() {
        let body = serde_json::json!({"nodes": [{"id": "ret_1"}, {"id": "ret_2"}],
            "total_count": 5, "page_info": {"has_next_page": true, "end_cursor": "YXJyYXk=",
            "has_previous_page": false, "start_cursor": "x"}});
        let page = api_page(Feed::Retirements, "u", &body, 3).expect("page");
        assert_eq!(page.next.as_deref(), Some("YXJyYXk="));
        assert_eq!(
            page.records.iter().map(|r| r.line).collect::<Vec<_>>(),
            [3, 4]
        );
        let last = serde_json::json!({"nodes": [], "page_info": {"has_next_page": false}});
        assert_eq!(
            api_page(Feed::Retirements, "u", &last, 1)
                .expect("last")
                .next,
            None
        );
        let broken = serde_json::json!({"nodes": [], "page_info": {"has_next_page": true}});
        let err = api_page(Feed::Retirements, "u", &broken, 1)
            .err()
            .unwrap_or_default();
        assert!(err.contains("end_cursor"), "{err}");
        assert!(api_page(Feed::Retirements, "u", &serde_json::json!({}), 1).is_err());
    }

    #[test]
    fn json_files_of_every_shape_read() {
        let node = serde_json::json!({"id": "iss_1"});
        for value in [
            serde_json::json!([node.clone(), node.clone()]),
            serde_json::json!({"nodes": [node.clone(), node.clone()]}),
        ] {
            assert_eq!(
                json_file(Feed::Issuances, "f", &value)
                    .expect("reads")
                    .len(),
                2
            );
        }
        assert_eq!(
            json_file(Feed::Issuances, "f", &node).expect("reads").len(),
            1
        );
        assert!(json_file(Feed::Issuances, "f", &serde_json::json!(3)).is_err());
    }

    #[test]
    fn the_first_id_of_a_head_names_its_feed() {
        assert_eq!(
            first_id("{\"nodes\": [{\"id\" : \"iss_1KP6\", \"x\""),
            Some("iss_1KP6")
        );
        assert_eq!(first_id("[{\"id\":\"ret_1KN"), Some("ret_1KN"));
        assert_eq!(first_id("{\"nodes\": []}"), None);
    }

    #[test]
    fn json_heads_name_their_feed() {
        let node = serde_json::json!({"beneficiary": {"id": "org_1"}, "id": "ret_1",
            "retired_at": "2026-03-30T15:34:34Z"});
        assert_eq!(json_feed(&node.to_string()), Some(Feed::Retirements));
        assert_eq!(
            json_feed("[{\"id\":\"iss_1\",\"issued_at\":"),
            Some(Feed::Issuances)
        );
        assert_eq!(
            json_feed("{\"nodes\":[{\"id\":\"prj_1\",\"name\":\"x\""),
            Some(Feed::Projects)
        );
        assert_eq!(json_feed("{\"nodes\":[]}"), None);
    }

    #[test]
    fn cursors_are_percent_encoded() {
        assert_eq!(encode_query_value("YXJy+/=~a-b"), "YXJy%2B%2F%3D~a-b");
    }
}
