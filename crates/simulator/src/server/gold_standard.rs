//! Gold Standard routes: `public-api.goldstandard.org` `/credits` and `/projects`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::{AppState, entities, json_response, served_rows};
use crate::feeds::Feed;

/// `/credits` answers 403 above this page size.
const CREDITS_MAX_SIZE: u64 = 25;
/// `/projects` silently caps page sizes here.
const PROJECTS_MAX_SIZE: u64 = 150;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/credits", get(credits))
        .route("/projects", get(projects))
}

async fn credits(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let size = number(&query, "size").unwrap_or(CREDITS_MAX_SIZE);
    if size > CREDITS_MAX_SIZE {
        return (StatusCode::FORBIDDEN, "Forbidden").into_response();
    }
    page(state, Feed::GoldStandardCredits, &query, size).await
}

/// `/projects` with `page` or `size` is Gold Standard's API; without either it is the
/// Puro.earth registry page of the same path.
async fn projects(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    if !query.contains_key("page") && !query.contains_key("size") {
        return super::puro::page(state, Feed::PuroProjects).await;
    }
    let size = number(&query, "size")
        .unwrap_or(PROJECTS_MAX_SIZE)
        .min(PROJECTS_MAX_SIZE);
    page(state, Feed::GoldStandardProjects, &query, size).await
}

fn number(query: &HashMap<String, String>, key: &str) -> Option<u64> {
    query.get(key).and_then(|v| v.parse().ok())
}

/// One page: `page` counts from 1, the body is a bare JSON array and totals are in headers.
async fn page(
    state: Arc<AppState>,
    feed: Feed,
    query: &HashMap<String, String>,
    size: u64,
) -> Response {
    let size = size.max(1);
    let page_number = number(query, "page").unwrap_or(1).max(1);
    let decision = match state.admit(feed, page_number - 1).await {
        Ok(d) => d,
        Err(rejection) => return rejection,
    };
    let total = state.dataset.len(feed);
    let start = ((page_number - 1).saturating_mul(size)).min(total);
    let (from, to) = served_rows(start, (start + size).min(total), &decision);
    let rows = entities(&state.dataset, feed, from, to);
    let mut response = json_response(&serde_json::Value::Array(rows), &decision);
    let headers = response.headers_mut();
    headers.insert("x-total-count", HeaderValue::from(total));
    if feed == Feed::GoldStandardCredits {
        headers.insert(
            "x-total-number-of-credits",
            HeaderValue::from(total_credits(&state, feed)),
        );
    }
    response
}

/// The sum of credits over the feed; computed only for small feeds, as it walks every row.
fn total_credits(state: &AppState, feed: Feed) -> u64 {
    let total = state.dataset.len(feed);
    if total > 100_000 {
        return 0;
    }
    (0..total)
        .filter_map(|i| state.dataset.row(feed, i))
        .map(|row| match row {
            crate::dataset::FeedRow::Credit(c, _) => c.quantity,
            _ => 0,
        })
        .sum()
}
