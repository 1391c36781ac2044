//! CAD Trust node routes: `/v1/projects` and `/v1/units` with offset paging (`page` from 1,
//! `limit` up to 1000), answering `{page, pageCount, data}`; without `page`, a bare array of
//! every record.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use serde_json::{Value, json};

use super::{AppState, entities, json_response, served_rows};
use crate::feeds::Feed;
use crate::formats::serial::CADT_ORG_UID;

/// The node's largest page, and its default.
const MAX_LIMIT: u64 = 1000;
const DEFAULT_LIMIT: u64 = 10;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    let list = |feed: Feed| {
        move |State(state): State<Arc<AppState>>, Query(query): Query<HashMap<String, String>>| async move {
            serve(state, feed, &query).await
        }
    };
    Router::new()
        .route("/v1/projects", get(list(Feed::CadtProjects)))
        .route("/v1/units", get(list(Feed::CadtUnits)))
}

async fn serve(state: Arc<AppState>, feed: Feed, query: &HashMap<String, String>) -> Response {
    let number = |key: &str| query.get(key).and_then(|v| v.parse::<u64>().ok());
    let limit = number("limit").unwrap_or(DEFAULT_LIMIT).clamp(1, MAX_LIMIT);
    let page = number("page");
    let decision = match state.admit(feed, page.unwrap_or(1).max(1) - 1).await {
        Ok(d) => d,
        Err(rejection) => return rejection,
    };
    // Another organisation's records: none on this node.
    let total = match query.get("orgUid") {
        Some(org) if org != CADT_ORG_UID => 0,
        _ => state.dataset.len(feed),
    };
    let Some(page) = page else {
        let (from, to) = served_rows(0, total, &decision);
        let all = entities(&state.dataset, feed, from, to);
        return json_response(&Value::Array(all), &decision);
    };
    let page = page.max(1);
    let start = (page - 1).saturating_mul(limit).min(total);
    let (from, to) = served_rows(start, (start + limit).min(total), &decision);
    let body = json!({
        "page": page,
        "pageCount": total.div_ceil(limit),
        "data": entities(&state.dataset, feed, from, to),
    });
    json_response(&body, &decision)
}
