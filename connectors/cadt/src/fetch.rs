//! CADT's paginated responses (`{page, pageCount, data}`) and saved copies of them, split
//! into raw records.

use carbonmesh_connector::{Feed, Page};
use serde_json::Value;

/// A number the node may send as a JSON number or a numeric string.
fn count(v: Option<&Value>) -> Option<u64> {
    match v? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// One page of `/v1/projects` or `/v1/units`, asked for as `page` with `limit`.
///
/// The page must echo `page`, hold an array `data` of at most `limit` objects and a
/// `pageCount`; a page before the last must be full (a short one means records went missing
/// between requests or the node cut the page). The next cursor is `page + 1` while
/// `page < pageCount`.
pub(crate) fn api_page(
    feed: Feed,
    url: &str,
    bytes: &[u8],
    page: u64,
    limit: u64,
) -> Result<Page, String> {
    let body: Value =
        serde_json::from_slice(bytes).map_err(|e| format!("response is not valid JSON: {e}"))?;
    let Value::Object(o) = &body else {
        let shown: String = body.to_string().chars().take(120).collect();
        return Err(format!(
            "expected a paginated object {{page, pageCount, data}}, got {shown}"
        ));
    };
    if let (None, Some(message)) = (o.get("data"), o.get("message")) {
        return Err(format!("the node answered with a message: {message}"));
    }
    let data = o
        .get("data")
        .and_then(Value::as_array)
        .ok_or("the page has no `data` array")?;
    let echoed = count(o.get("page")).ok_or("the page has no `page` number")?;
    if echoed != page {
        return Err(format!(
            "asked for page {page}, the node answered page {echoed}"
        ));
    }
    let pages = count(o.get("pageCount")).ok_or("the page has no `pageCount` number")?;
    let got = data.len() as u64;
    if got > limit {
        return Err(format!("{got} records on a page of {limit}"));
    }
    if page < pages && got < limit {
        return Err(format!(
            "page {page} of {pages} holds {got} records where {limit} were asked for (a short \
             page before the last)"
        ));
    }
    if page > pages && got > 0 {
        return Err(format!(
            "page {page} holds records beyond pageCount {pages}"
        ));
    }
    let page_out = Page::of_json(feed, url, data.clone(), (page - 1) * limit + 1).objects_only()?;
    Ok(Page {
        next: (page < pages).then(|| (page + 1).to_string()),
        ..page_out
    })
}

/// A saved response: a paginated object or a bare array (the node answers without paging
/// when `page` is not given).
pub(crate) fn file_page(feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, String> {
    let body: Value =
        carbonmesh_connector::from_saved_json(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    let items = match body {
        Value::Array(items) => items,
        Value::Object(mut o) => match o.remove("data") {
            Some(Value::Array(items)) => items,
            _ => {
                if let Some(message) = o.get("message") {
                    return Err(format!("the node answered with a message: {message}"));
                }
                let members: Vec<String> = o.keys().take(6).map(|k| format!("`{k}`")).collect();
                return Err(format!(
                    "not a saved CAD Trust response: a page of /v1/projects or /v1/units is \
                     `{{page, pageCount, data}}` (or a bare array of records), this object has \
                     {}",
                    match members.is_empty() {
                        true => "no members".to_owned(),
                        false => format!("the members {}", members.join(", ")),
                    }
                ));
            }
        },
        _ => return Err("expected a JSON array or object".to_owned()),
    };
    Ok(Page::of_json(feed, source, items, 1))
}

/// Which list a saved response holds: units carry `warehouseUnitId` (and embed an issuance
/// with a `warehouseProjectId`), projects only `warehouseProjectId`.
pub(crate) fn detect(head: &[u8]) -> Option<Feed> {
    if !carbonmesh_connector::looks_like_json(head) {
        return None;
    }
    let text = String::from_utf8_lossy(head);
    if text.contains("\"warehouseUnitId\"") || text.contains("\"unitBlockStart\"") {
        Some(Feed::Transactions)
    } else if text.contains("\"warehouseProjectId\"") || text.contains("\"projectName\"") {
        Some(Feed::Projects)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_checked_against_page_count() {
        let full = br#"{"page":1,"pageCount":2,"data":[{"a":1},{"a":2}]}"#;
        let p = api_page(Feed::Projects, "u", full, 1, 2).expect("page");
        assert_eq!(p.next.as_deref(), Some("2"));
        let last = br#"{"page":"2","pageCount":2,"data":[{"a":3}]}"#;
        let p = api_page(Feed::Projects, "u", last, 2, 2).expect("last");
        assert_eq!((p.next, p.records[0].line), (None, 3));
        let short = br#"{"page":1,"pageCount":3,"data":[{"a":1}]}"#;
        let e = api_page(Feed::Projects, "u", short, 1, 2).expect_err("short");
        assert!(e.contains("short page"), "{e}");
        let wrong = br#"{"page":3,"pageCount":3,"data":[]}"#;
        assert!(api_page(Feed::Projects, "u", wrong, 2, 2).is_err());
        let empty = br#"{"page":1,"pageCount":0,"data":[]}"#;
        let p = api_page(Feed::Projects, "u", empty, 1, 2).expect("empty");
        assert!(p.records.is_empty() && p.next.is_none());
        let bare = br#"[{"a":1}]"#;
        assert!(api_page(Feed::Projects, "u", bare, 1, 2).is_err());
    }

    #[test]
    fn units_are_told_from_projects() {
        assert_eq!(
            detect(br#"{"page":1,"data":[{"warehouseUnitId":"u","issuance":{"warehouseProjectId":"p"}}]}"#),
            Some(Feed::Transactions)
        );
        assert_eq!(
            detect(br#"[{"warehouseProjectId":"p","projectName":"x"}]"#),
            Some(Feed::Projects)
        );
        assert_eq!(detect(b"a,b\n"), None);
    }
}
