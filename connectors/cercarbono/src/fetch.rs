//! Splitting API responses and export files into raw records.

use carbonmesh_connector::{Completeness, Feed, Page};
use serde_json::Value;

use crate::columns;

/// Splits an offsets-db-data CSV export into raw records of `feed`, checking its columns.
pub(crate) fn csv_page(feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, String> {
    carbonmesh_connector::csv_page(feed, source, bytes, Completeness::File, |headers| {
        columns::missing_required(feed, headers)
    })
}

/// Which feed a JSON body holds, from the members its first bytes show.
pub(crate) fn detect_json(head: &[u8]) -> Option<Feed> {
    let text = String::from_utf8_lossy(head);
    let has = |member: &str| text.contains(&format!("\"{member}\""));
    if has("retirements") || (has("final_user") && has("reason_using")) {
        Some(Feed::Retirements)
    } else if has("issued_quantity") || has("evaluation_criteria") {
        Some(Feed::Issuances)
    } else if has("certificatedVerification") || has("standardName") || has("projectStage") {
        Some(Feed::Projects)
    } else {
        None
    }
}

/// The API's refusal inside an HTTP 200: `{"status":0,"codeMessages":[{"codeMessage":
/// "ERROR_401",…,"message":"No autorizado"}]}`, sent when the `platform` and `lng` headers
/// are missing.
fn refusal(body: &Value) -> Option<String> {
    let messages = body.get("codeMessages").and_then(Value::as_array);
    let refused = body.get("status").and_then(Value::as_i64) == Some(0)
        || messages.is_some_and(|m| !m.is_empty());
    if !refused {
        return None;
    }
    let said: Vec<String> = messages
        .into_iter()
        .flatten()
        .map(|m| {
            let code = m.get("codeMessage").and_then(Value::as_str).unwrap_or("?");
            let text = m.get("message").and_then(Value::as_str).unwrap_or("");
            format!("{code} {text}").trim().to_owned()
        })
        .collect();
    Some(format!(
        "the API refused the request (status 0: {}); it needs the `platform: ecoregistry` and \
         `lng` headers",
        if said.is_empty() {
            "no message".to_owned()
        } else {
            said.join("; ")
        }
    ))
}

fn array<'a>(body: &'a Value, member: &str, what: &str) -> Result<&'a Vec<Value>, String> {
    match body {
        Value::Array(items) => Ok(items),
        Value::Object(o) => o.get(member).and_then(Value::as_array).ok_or_else(|| {
            let keys: Vec<&String> = o.keys().take(12).collect();
            format!("expected {what} in a `{member}` array; the object has {keys:?}")
        }),
        _ => Err(format!("expected a JSON object holding {what}")),
    }
}

/// Splits an EcoRegistry response (or a saved copy) into raw records of `feed`.
///
/// * projects: `{"projects": [...]}` (the standard's list), `{"project": [...]}` (analytics),
///   a bare array, or one project detail `{"project": {...}, "locations": [...], ...}`, which
///   is one record;
/// * issuances: every element of every project's `serials` array in `{"project": [...]}`;
/// * retirements: `{"retirements": [...]}`.
pub(crate) fn json_page(feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, String> {
    let body: Value =
        carbonmesh_connector::from_saved_json(bytes).map_err(|e| format!("not valid JSON: {e}"))?;
    if let Some(reason) = refusal(&body) {
        return Err(reason);
    }
    let items: Vec<Value> = match feed {
        Feed::Projects => match body.get("project") {
            Some(Value::Object(_)) => vec![body.clone()],
            Some(Value::Array(items)) => items.clone(),
            _ => array(&body, "projects", "projects")?.clone(),
        },
        Feed::Issuances => {
            let projects = array(&body, "project", "projects with their serials")?;
            projects
                .iter()
                .filter_map(|p| p.get("serials").and_then(Value::as_array))
                .flatten()
                .cloned()
                .collect()
        }
        Feed::Retirements => array(&body, "retirements", "retirements")?.clone(),
        Feed::Cancellations | Feed::Transactions => {
            return Err(format!("EcoRegistry publishes no Cercarbono {feed} feed"));
        }
    };
    Ok(Page::of_json(feed, source, items, 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_inside_http_200_is_an_error() {
        let body = br#"{"status":0,"codeMessages":[{"codeMessage":"ERROR_401","param":"invalid","message":"No autorizado"}]}"#;
        let error = json_page(Feed::Retirements, "r", body).expect_err("refused");
        assert!(error.contains("ERROR_401 No autorizado"), "{error}");
    }

    #[test]
    fn issuances_flatten_every_projects_serials() {
        let body = br#"{"project":[{"id":1,"serials":[{"serial":"A"},{"serial":"B"}]},{"id":2,"serials":""},{"id":3,"serials":[7]}]}"#;
        let page = json_page(Feed::Issuances, "i", body).expect("page");
        assert_eq!(page.records.len(), 2);
        assert_eq!(page.unreadable.len(), 1);
        assert_eq!(page.unreadable[0].0.line, 3);
    }

    #[test]
    fn a_missing_array_is_named() {
        let error = json_page(Feed::Retirements, "r", br#"{"status":1}"#).expect_err("no array");
        assert!(error.contains("`retirements`"), "{error}");
    }
}
