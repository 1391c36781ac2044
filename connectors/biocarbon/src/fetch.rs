//! Laravel paging envelopes, errors disguised as success, and the splitting of response bodies
//! and files into raw records.

use carbonmesh_connector::{Feed, Page, RawBody, RawRecord, Rejection};
use serde_json::{Map, Value};

use crate::columns as col;

/// One page of a Laravel paginator:
/// `{current_page, data, last_page, per_page, total, next_page_url, …}`.
#[derive(Debug)]
pub(crate) struct LaravelPage {
    /// The page's records.
    pub(crate) data: Vec<Value>,
    /// The page number the server says it served.
    pub(crate) current_page: Option<u64>,
    /// The number of the last page.
    pub(crate) last_page: Option<u64>,
    /// Records per page, as the server applied it.
    pub(crate) per_page: Option<u64>,
    /// Records in the whole resource.
    pub(crate) total: Option<u64>,
    /// Whether the server names a next page.
    pub(crate) has_next_url: bool,
}

/// A `status` member other than 200: the API answers a missing key with HTTP 200 and
/// `{"status":403,"data":[],…}`.
pub(crate) fn refused(value: &Value) -> Option<String> {
    let status = match value.get("status")? {
        Value::Number(n) => n.as_u64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    };
    if status == Some(200) {
        return None;
    }
    let shown = value
        .get("status")
        .map(Value::to_string)
        .unwrap_or_default();
    let message = value
        .get("message")
        .and_then(Value::as_str)
        .map(|m| format!(" ({m})"))
        .unwrap_or_default();
    Some(format!(
        "the API answered status {shown}{message} inside HTTP 200; \
         Global CarbonTrace refuses requests without its public `x-api-key`"
    ))
}

fn count(object: &Map<String, Value>, name: &str) -> Result<Option<u64>, String> {
    match object.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .map(Some)
            .ok_or_else(|| format!("`{name}` {n} is not a count")),
        Some(Value::String(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| format!("`{name}` `{s}` is not a count")),
        Some(other) => Err(format!("`{name}` {other} is not a count")),
    }
}

/// Reads a Laravel page, refusing errors disguised as success.
pub(crate) fn laravel_page(value: Value) -> Result<LaravelPage, String> {
    if let Some(reason) = refused(&value) {
        return Err(reason);
    }
    let Value::Object(mut object) = value else {
        return Err("expected a Laravel page object with `data`".into());
    };
    let data = match object.remove("data") {
        Some(Value::Array(data)) => data,
        _ => return Err("the page has no `data` array".into()),
    };
    Ok(LaravelPage {
        data,
        current_page: count(&object, "current_page")?,
        last_page: count(&object, "last_page")?,
        per_page: count(&object, "per_page")?,
        total: count(&object, "total")?,
        has_next_url: object
            .get("next_page_url")
            .and_then(Value::as_str)
            .is_some_and(|u| !u.trim().is_empty()),
    })
}

/// A cancellation as published, with the project it was asked for added as `initiative_id`
/// (the response names its project only in the URL). A member already present is kept.
pub(crate) fn with_initiative(item: Value, initiative: &str) -> Value {
    match item {
        Value::Object(mut object) => {
            if !object.contains_key(col::INITIATIVE_ID) {
                let id = initiative
                    .parse::<u64>()
                    .map_or_else(|_| Value::String(initiative.to_owned()), Value::from);
                object.insert(col::INITIATIVE_ID.to_owned(), id);
            }
            Value::Object(object)
        }
        other => other,
    }
}

/// The cancellations of several projects saved as one object keyed by project number:
/// `{"35": {"status": 200, "data": […]}, …}`. Records are numbered across the file in key
/// order; a project whose response is an error becomes one unreadable entry.
pub(crate) fn cancellations_by_project(source: &str, object: Map<String, Value>) -> Page {
    let mut page = Page::default();
    let mut line = 1;
    for (initiative, response) in object {
        let rejected = |reason: String| {
            (
                RawRecord {
                    feed: Feed::Cancellations,
                    source: source.to_owned(),
                    line,
                    body: RawBody::Json(response.clone()),
                },
                Rejection::record(format!("project {initiative}: {reason}")),
            )
        };
        let items = match laravel_page(response.clone()) {
            Ok(p) => p.data,
            Err(reason) => {
                page.unreadable.push(rejected(reason));
                line += 1;
                continue;
            }
        };
        let n = items.len() as u64;
        let items = items
            .into_iter()
            .map(|i| with_initiative(i, &initiative))
            .collect();
        page.push_json(Feed::Cancellations, source, items, line);
        line += n;
    }
    page
}

/// The feed of a JSON head, by members only that feed's records have.
pub(crate) fn detect_json(head: &str) -> Option<Feed> {
    let has = |name: &str| head.contains(&format!("\"{name}\""));
    if has(col::INITIAL_SERIAL) || has(col::FINAL_USER) || has("nit_to_name") {
        Some(Feed::Retirements)
    } else if has(col::CANCELLATION_DATE) {
        Some(Feed::Cancellations)
    } else if has(col::DROPOUTS) || has(col::OUT_OF) || has("credits_destination_id") {
        Some(Feed::Issuances)
    } else if has(col::PERIOD_START) || has(col::TYPE) || has(col::METHODOLOGIES) {
        Some(Feed::Projects)
    } else if is_keyed_by_project(head) {
        Some(Feed::Cancellations)
    } else {
        None
    }
}

/// `{"<digits>": {"status": …` : per-project responses saved together.
fn is_keyed_by_project(head: &str) -> bool {
    let rest = head
        .trim_start()
        .strip_prefix('{')
        .unwrap_or_default()
        .trim_start();
    let Some(rest) = rest.strip_prefix('"') else {
        return false;
    };
    let Some(end) = rest.find('"') else {
        return false;
    };
    let key = &rest[..end];
    !key.is_empty()
        && key.bytes().all(|b| b.is_ascii_digit())
        && rest[end + 1..]
            .trim_start()
            .strip_prefix(':')
            .is_some_and(|r| r.trim_start().starts_with('{'))
}

/// The feed a file name suggests.
pub(crate) fn detect_name(file_name: &str) -> Option<Feed> {
    let name = file_name.to_ascii_lowercase();
    [
        ("retreat", Feed::Retirements),
        ("retire", Feed::Retirements),
        ("cancel", Feed::Cancellations),
        ("carbon-credit", Feed::Issuances),
        ("issuance", Feed::Issuances),
        ("project", Feed::Projects),
    ]
    .into_iter()
    .find(|(k, _)| name.contains(k))
    .map(|(_, f)| f)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn errors_inside_http_200_are_refused() {
        let e = laravel_page(json!({"status": 403, "data": [], "message": "Forbidden"}))
            .expect_err("refused");
        assert!(e.contains("403") && e.contains("x-api-key"), "{e}");
        assert!(laravel_page(json!({"status": 200, "data": []})).is_ok());
        assert!(laravel_page(json!([1, 2])).is_err());
    }

    #[test]
    fn keyed_cancellations_are_detected() {
        assert_eq!(
            detect_json("{\n \"116\": {\n  \"status\": 200,\n  \"data\": []"),
            Some(Feed::Cancellations)
        );
        assert_eq!(detect_json("{\"current_page\":1,\"data\":[]"), None);
    }

    #[test]
    fn cancellations_name_their_project() {
        let v = with_initiative(json!({"serial": "x"}), "35");
        assert_eq!(v["initiative_id"], 35);
        let kept = with_initiative(json!({"initiative_id": 9}), "35");
        assert_eq!(kept["initiative_id"], 9);
    }
}
