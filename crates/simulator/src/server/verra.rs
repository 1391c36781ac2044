//! Verra routes: the legacy `uiapi` CSV exports and the S&P Platts report search.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::json;

use super::{AppState, csv_response, entities, json_response, served_rows};
use crate::feeds::Feed;

/// Platts refuses pages larger than this.
const PLATTS_MAX_LIMIT: u64 = 400;
/// Elasticsearch refuses `start` at or beyond this.
const PLATTS_MAX_WINDOW: u64 = 10_000;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/uiapi/asset/asset/search", post(asset_search))
        .route("/uiapi/resource/resource/search", post(resource_search))
        .route(
            "/ci-raas-prod/raas-report-api/es/public/{report}/publicReportPageSearch",
            post(platts_search),
        )
}

/// `$skip` and `maxResults` (also `$maxResults`) select rows; both default to everything.
/// Returns the rows `from..to` and the zero-based page number the request asks for.
fn skip_and_max(query: &HashMap<String, String>, total: u64) -> (u64, u64, u64) {
    let number = |key: &str| query.get(key).and_then(|v| v.parse::<u64>().ok());
    let requested = number("$skip").unwrap_or(0);
    let skip = requested.min(total);
    let max = number("maxResults")
        .or_else(|| number("$maxResults"))
        .unwrap_or(total);
    // The page asked for, not the rows left: the last, shorter page keeps its number.
    let page = requested / max.max(1);
    (skip, (skip.saturating_add(max)).min(total), page)
}

async fn uiapi_csv(state: Arc<AppState>, feed: Feed, query: HashMap<String, String>) -> Response {
    if query.get("$format").map(String::as_str) != Some("csv") {
        return (
            StatusCode::BAD_REQUEST,
            "the simulator serves this search as $format=csv",
        )
            .into_response();
    }
    let total = state.dataset.len(feed);
    let (from, to, page) = skip_and_max(&query, total);
    match state.admit(feed, page).await {
        Ok(decision) => csv_response(Arc::clone(&state.dataset), feed, from, to, &decision),
        Err(rejection) => rejection,
    }
}

async fn asset_search(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    uiapi_csv(state, Feed::VerraTransactions, query).await
}

async fn resource_search(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    uiapi_csv(state, Feed::VerraProjectsCsv, query).await
}

async fn platts_search(
    State(state): State<Arc<AppState>>,
    Path(report): Path<String>,
    body: Bytes,
) -> Response {
    let feed = match report.as_str() {
        "issuances" => Feed::VerraIssuances,
        "retirements" => Feed::VerraRetirements,
        "cancellations" => Feed::VerraCancellations,
        "project" => Feed::VerraProjects,
        _ => return StatusCode::NOT_FOUND.into_response(),
    };
    let request: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(_) => return (StatusCode::BAD_REQUEST, "request body must be JSON").into_response(),
    };
    let pagination = &request["searchFilter"]["pagination"];
    let start = pagination["start"].as_u64().unwrap_or(0);
    let limit = pagination["limit"].as_u64().unwrap_or(50);
    if limit > PLATTS_MAX_LIMIT {
        return (StatusCode::INTERNAL_SERVER_ERROR, "limit too large").into_response();
    }
    if start >= PLATTS_MAX_WINDOW {
        return (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Result window is too large, from + size must be less than or equal to: [10000]",
        )
            .into_response();
    }
    let decision = match state.admit(feed, start / limit.max(1)).await {
        Ok(d) => d,
        Err(rejection) => return rejection,
    };
    let total = state.dataset.len(feed);
    let to = start.saturating_add(limit).min(total);
    let (from, to) = served_rows(start.min(total), to, &decision);
    let mut rows = entities(&state.dataset, feed, from, to);
    if feed == Feed::VerraProjects {
        published_status(&state, &mut rows);
    }
    let page = json!({
        "entities": rows,
        "totalCount": total,
    });
    json_response(&page, &decision)
}

/// Projects as Verra publishes them now: with the statuses it changed since.
fn published_status(state: &AppState, projects: &mut [serde_json::Value]) {
    let Ok(changed) = state.verra_status.read() else {
        return;
    };
    if changed.is_empty() {
        return;
    }
    for project in projects {
        let Some(status) = project["projectId"].as_u64().and_then(|n| changed.get(&n)) else {
            continue;
        };
        project["status"] = json!(status);
        project["publicStateNameEn"] = json!(status);
    }
}
