//! BioCarbon routes: Global CarbonTrace's `/api/ghg/…` resources in Laravel's paging envelope,
//! behind the site's public `x-api-key` (without it: HTTP 200 with `{"status":403,…}`), and
//! cancellations per project.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use carbonmesh_model::RegistryId;
use serde_json::{Value, json};

use super::{AppState, entities, json_response, served_rows};
use crate::catalog::first_project_number;
use crate::faults::Decision;
use crate::feeds::Feed;
use crate::formats;

pub(crate) const CANCELLATIONS_PATH: &str = "/api/ghg/carbon-credits/project/{id}/cancellations";

/// Laravel's default page size, and the largest the API honours.
const DEFAULT_PER_PAGE: u64 = 15;
const MAX_PER_PAGE: u64 = 5000;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    let paged = |feed: Feed| {
        move |State(state): State<Arc<AppState>>,
              headers: HeaderMap,
              Query(query): Query<HashMap<String, String>>| async move {
            page(state, feed, &headers, &query).await
        }
    };
    Router::new()
        .route("/api/ghg/projects", get(paged(Feed::BiocarbonProjects)))
        .route(
            "/api/ghg/carbon-credits",
            get(paged(Feed::BiocarbonIssuances)),
        )
        .route("/api/ghg/retreats", get(paged(Feed::BiocarbonRetirements)))
        .route(CANCELLATIONS_PATH, get(cancellations))
}

fn keyed(headers: &HeaderMap) -> bool {
    headers
        .get("x-api-key")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| !v.trim().is_empty())
}

fn refusal(decision: &Decision) -> Response {
    let body = json!({"status": 403, "data": [], "message": "Forbidden"});
    json_response(&body, decision)
}

async fn page(
    state: Arc<AppState>,
    feed: Feed,
    headers: &HeaderMap,
    query: &HashMap<String, String>,
) -> Response {
    let number = |key: &str| query.get(key).and_then(|v| v.parse::<u64>().ok());
    let per_page = number("per_page")
        .unwrap_or(DEFAULT_PER_PAGE)
        .clamp(1, MAX_PER_PAGE);
    let current = number("page").unwrap_or(1).max(1);
    let decision = match state.admit(feed, current - 1).await {
        Ok(d) => d,
        Err(rejection) => return rejection,
    };
    if !keyed(headers) {
        return refusal(&decision);
    }
    let total = state.dataset.len(feed);
    let start = (current - 1).saturating_mul(per_page).min(total);
    let (from, to) = served_rows(start, (start + per_page).min(total), &decision);
    let last = total.div_ceil(per_page).max(1);
    let path = match feed {
        Feed::BiocarbonProjects => "/api/ghg/projects",
        Feed::BiocarbonIssuances => "/api/ghg/carbon-credits",
        _ => "/api/ghg/retreats",
    };
    let url = |p: u64| Value::from(format!("{path}?page={p}"));
    let body = json!({
        "current_page": current,
        "data": entities(&state.dataset, feed, from, to),
        "first_page_url": url(1),
        "from": if to > from { Value::from(from + 1) } else { Value::Null },
        "last_page": last,
        "last_page_url": url(last),
        "next_page_url": if current < last { url(current + 1) } else { Value::Null },
        "path": path,
        "per_page": per_page,
        "prev_page_url": if current > 1 { url(current - 1) } else { Value::Null },
        "to": if to > from { Value::from(to) } else { Value::Null },
        "total": total,
    });
    json_response(&body, &decision)
}

/// The cancellations of one project (its `id`, the registry's internal number).
async fn cancellations(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let registry = RegistryId::BIOCARBON;
    let index = id
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_sub(first_project_number(registry)))
        .filter(|i| *i < state.dataset.projects(registry));
    let decision = match state
        .admit(Feed::BiocarbonCancellations, index.unwrap_or(u64::MAX))
        .await
    {
        Ok(d) => d,
        Err(rejection) => return rejection,
    };
    if !keyed(&headers) {
        return refusal(&decision);
    }
    let rows = index.map_or_else(Vec::new, |i| {
        state.dataset.cancellations_of_project(registry, i)
    });
    let (from, to) = served_rows(0, rows.len() as u64, &decision);
    let data: Vec<Value> = rows
        .iter()
        .skip(from as usize)
        .take((to - from) as usize)
        .map(|row| formats::json_entity(Feed::BiocarbonCancellations, row))
        .collect();
    json_response(&json!({"status": 200, "data": data}), &decision)
}
