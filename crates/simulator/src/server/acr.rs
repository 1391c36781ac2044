//! ACR and ART routes: ICE GreenTrace holdings and project summaries (form-encoded POSTs),
//! one tenant each (`ACR_REGISTRY`, `ART_REGISTRY`) on the same API.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::{AppState, entities, json_response, served_rows};
use crate::feeds::Feed;

pub(crate) const HOLDINGS_PATH: &str =
    "/api/greentraceservice/v1/credit/registry/ACR_REGISTRY/holding-summaries/results";
pub(crate) const PROJECTS_PATH: &str =
    "/api/greentraceservice/v1/project/registry/ACR_REGISTRY/project-summaries/results";

pub(crate) const ART_HOLDINGS_PATH: &str =
    "/api/greentraceservice/v1/credit/registry/ART_REGISTRY/holding-summaries/results";
pub(crate) const ART_PROJECTS_PATH: &str =
    "/api/greentraceservice/v1/project/registry/ART_REGISTRY/project-summaries/results";

/// GreenTrace silently clamps `max` here.
const MAX_PAGE: u64 = 2000;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(HOLDINGS_PATH, post(holdings))
        .route(PROJECTS_PATH, post(projects))
        .route(ART_HOLDINGS_PATH, post(art_holdings))
        .route(ART_PROJECTS_PATH, post(art_projects))
}

/// Decodes an `application/x-www-form-urlencoded` body (`+` and `%XX` escapes).
pub(crate) fn parse_form(body: &[u8]) -> HashMap<String, String> {
    let decode = |s: &str| -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok();
                    match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(k), decode(v))
        })
        .collect()
}

/// The form fields, or `None` when the body is not form-encoded (GreenTrace then answers 500).
fn form(headers: &HeaderMap, body: &[u8]) -> Option<HashMap<String, String>> {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    is_form.then(|| parse_form(body))
}

fn server_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
}

/// `offset` wins when given; otherwise `pageNumber` (from 1) times `max`.
fn window(form: &HashMap<String, String>) -> (u64, u64) {
    let number = |key: &str| form.get(key).and_then(|v| v.parse::<u64>().ok());
    let max = number("max").unwrap_or(MAX_PAGE).clamp(1, MAX_PAGE);
    let offset = number("offset")
        .filter(|o| *o > 0)
        .unwrap_or_else(|| number("pageNumber").unwrap_or(1).max(1).saturating_sub(1) * max);
    (offset, max)
}

async fn serve(
    state: Arc<AppState>,
    feed: Feed,
    dataset_key: &str,
    form: &HashMap<String, String>,
) -> Response {
    let (offset, max) = window(form);
    let decision = match state.admit(feed, offset / max).await {
        Ok(d) => d,
        Err(rejection) => return rejection,
    };
    let total = state.dataset.len(feed);
    let start = offset.min(total);
    let (from, to) = served_rows(start, (start + max).min(total), &decision);
    let body = json!({
        "datasets": { dataset_key: {
            "rows": entities(&state.dataset, feed, from, to),
            "totalCount": total,
        } }
    });
    json_response(&body, &decision)
}

/// A tenant's holdings, by `holdingStatus`: the `ISSUED`, `RETIRED` and `CANCELED` feeds.
async fn tenant_holdings(
    state: Arc<AppState>,
    headers: &HeaderMap,
    body: &[u8],
    [issued, retired, canceled]: [Feed; 3],
) -> Response {
    let Some(form) = form(headers, body) else {
        return server_error();
    };
    let (feed, key) = match form.get("holdingStatus").map(String::as_str) {
        Some("ISSUED") => (issued, "issuedCredits"),
        Some("RETIRED") => (retired, "retiredCredits"),
        Some("CANCELED") => (canceled, "cancelledCredits"),
        _ => return server_error(),
    };
    serve(state, feed, key, &form).await
}

async fn holdings(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let feeds = [Feed::AcrIssued, Feed::AcrRetired, Feed::AcrCanceled];
    tenant_holdings(state, &headers, &body, feeds).await
}

async fn art_holdings(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let feeds = [Feed::ArtIssued, Feed::ArtRetired, Feed::ArtCanceled];
    tenant_holdings(state, &headers, &body, feeds).await
}

async fn projects(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    match form(&headers, &body) {
        Some(form) => serve(state, Feed::AcrProjects, "projects", &form).await,
        None => server_error(),
    }
}

async fn art_projects(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match form(&headers, &body) {
        Some(form) => serve(state, Feed::ArtProjects, "projects", &form).await,
        None => server_error(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn form_bodies_decode() {
        let form =
            super::parse_form(b"offset=0&pageNumber=1&max=2000&holdingStatus=RETIRED&q=a+b%2Cc");
        assert_eq!(
            form.get("holdingStatus").map(String::as_str),
            Some("RETIRED")
        );
        assert_eq!(form.get("q").map(String::as_str), Some("a b,c"));
    }
}
