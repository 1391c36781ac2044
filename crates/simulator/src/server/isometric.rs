//! Isometric routes: Registry API v0 lists with Relay cursor paging (`first`, `after`),
//! behind the `x-client-secret` header and a bearer token.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::json;

use super::{AppState, entities, json_response, served_rows};
use crate::feeds::Feed;

/// Largest `first` the API serves.
const MAX_FIRST: u64 = 100;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    let list = |feed: Feed| {
        move |State(state): State<Arc<AppState>>,
              headers: HeaderMap,
              Query(query): Query<HashMap<String, String>>| async move {
            serve(state, feed, &headers, &query).await
        }
    };
    Router::new()
        .route("/registry/v0/projects", get(list(Feed::IsometricProjects)))
        .route(
            "/registry/v0/issuances",
            get(list(Feed::IsometricIssuances)),
        )
        .route(
            "/registry/v0/retirements",
            get(list(Feed::IsometricRetirements)),
        )
}

/// The opaque cursor after `offset` rows (characters a client must percent-encode).
pub(crate) fn cursor(offset: u64) -> String {
    format!("YXJy:{offset}+=")
}

fn offset_of(cursor: &str) -> Option<u64> {
    cursor
        .strip_prefix("YXJy:")?
        .strip_suffix("+=")?
        .parse()
        .ok()
}

async fn serve(
    state: Arc<AppState>,
    feed: Feed,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Response {
    let present = |name: header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| !v.trim().is_empty())
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7);
    if !present(header::HeaderName::from_static("x-client-secret")) || !bearer {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"detail\":\"Authentication credentials were not provided.\"}",
        )
            .into_response();
    }
    let first = query
        .get("first")
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(MAX_FIRST);
    if first == 0 || first > MAX_FIRST {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            [(header::CONTENT_TYPE, "application/json")],
            "{\"detail\":\"first must be between 1 and 100\"}",
        )
            .into_response();
    }
    let offset = match query.get("after") {
        None => 0,
        Some(after) => match offset_of(after) {
            Some(o) => o,
            None => {
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    [(header::CONTENT_TYPE, "application/json")],
                    "{\"detail\":\"invalid cursor\"}",
                )
                    .into_response();
            }
        },
    };
    let decision = match state.admit(feed, offset / first).await {
        Ok(d) => d,
        Err(rejection) => return rejection,
    };
    let total = state.dataset.len(feed);
    let start = offset.min(total);
    let (from, to) = served_rows(start, (start + first).min(total), &decision);
    let body = json!({
        "nodes": entities(&state.dataset, feed, from, to),
        "total_count": total,
        "page_info": {
            "has_previous_page": from > 0,
            "has_next_page": to < total,
            "start_cursor": cursor(from),
            "end_cursor": cursor(to),
        },
    });
    json_response(&body, &decision)
}
