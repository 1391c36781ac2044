//! The HTTP application.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use axum::{Json, Router};
use carbonmesh_store::Store;
use serde_json::{Value, json};

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The record store.
    pub store: Arc<dyn Store>,
}

/// The router of `carbonmesh serve`.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(healthz))
        .with_state(state)
}

/// Liveness and storage reachability in one cheap call.
async fn healthz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    match state.store.counts().await {
        Ok(counts) => (
            StatusCode::OK,
            Json(json!({
                "status": "ok",
                "backend": state.store.backend().to_string(),
                "projects": counts.projects,
                "credit_records": counts.credits,
            })),
        ),
        Err(error) => {
            tracing::warn!(%error, "health check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "error": "database unreachable" })),
            )
        }
    }
}
