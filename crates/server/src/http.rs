//! The HTTP application.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use carbonmesh_store::Store;
use serde_json::{Value, json};

use crate::health::{self, Health};
use crate::metrics::{self, Metrics};

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The record store.
    pub store: Arc<dyn Store>,
    /// The HTTP metrics `/metrics` serves; [`metrics::instrument`] records into them.
    pub metrics: Metrics,
    /// The database's state as last checked, which the probes report.
    pub health: Health,
}

impl AppState {
    /// State over `store`, with empty metrics; starts checking the database in the
    /// background.
    pub fn new(store: Arc<dyn Store>) -> AppState {
        AppState {
            health: Health::start(store.clone()),
            store,
            metrics: Metrics::new(),
        }
    }
}

/// The router of `carbonmesh serve`: `/healthz`, `/readyz` and `/metrics`. Merge the other
/// routes into it, then pass the whole to [`metrics::instrument`] with `state.metrics`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/metrics", get(serve_metrics))
        .with_state(state)
}

/// Readiness: the database answers, takes writes, and every embedded migration is applied.
/// Answered from a check asked for now, or the last one if that takes more than a moment.
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backend = state.store.backend().to_string();
    let snapshot = state.health.fresh().await;
    let pending = snapshot
        .as_ref()
        .and_then(|s| s.result.as_ref().ok())
        .map(|c| c.pending_migrations);
    match health::not_ready(snapshot.as_deref()) {
        None => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "backend": backend, "pending_migrations": 0 })),
        ),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "not ready",
                "backend": backend,
                "pending_migrations": pending,
                "reason": reason,
            })),
        ),
    }
}

/// Prometheus metrics: the HTTP traffic and the store's state, read now.
async fn serve_metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics.render(state.store.as_ref()).await;
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text)
}

/// Liveness, with the database's reachability and counts as last checked: answered at once,
/// whatever the database is busy with.
async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backend = state.store.backend().to_string();
    match state.health.last() {
        Some(snapshot) => match &snapshot.result {
            Ok(checked) => (
                StatusCode::OK,
                Json(json!({
                    "status": "ok",
                    "backend": backend,
                    "projects": checked.projects,
                    "credit_records": checked.credits,
                    "checked_seconds_ago": snapshot.at.elapsed().as_secs(),
                })),
            ),
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "error": "database unreachable" })),
            ),
        },
        None => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "status": "starting", "backend": backend })),
        ),
    }
}
