//! The HTTP application.

use std::sync::Arc;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use carbonmesh_store::Store;
use serde_json::{Value, json};

use crate::metrics::{self, Metrics};

/// Shared state of the HTTP handlers.
#[derive(Clone)]
pub struct AppState {
    /// The record store.
    pub store: Arc<dyn Store>,
    /// The HTTP metrics `/metrics` serves; [`metrics::instrument`] records into them.
    pub metrics: Metrics,
}

impl AppState {
    /// State over `store`, with empty metrics.
    pub fn new(store: Arc<dyn Store>) -> AppState {
        AppState {
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
async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let backend = state.store.backend().to_string();
    let checked = async {
        let pending = state.store.pending_migrations().await?;
        Ok::<_, carbonmesh_store::StoreError>((pending, state.store.writable().await?))
    };
    match checked.await {
        Ok((0, true)) => (
            StatusCode::OK,
            Json(json!({ "status": "ready", "backend": backend, "pending_migrations": 0 })),
        ),
        Ok((0, false)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "not ready",
                "backend": backend,
                "pending_migrations": 0,
                "reason": "the database does not take writes (read-only, full or a standby)",
            })),
        ),
        Ok((pending, _)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({
                "status": "not ready",
                "backend": backend,
                "pending_migrations": pending,
                "reason": format!(
                    "{pending} database migration(s) not applied: run carbonmesh migrate"
                ),
            })),
        ),
        Err(error) => {
            tracing::warn!(%error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({
                    "status": "not ready",
                    "backend": backend,
                    "reason": "database unreachable",
                })),
            )
        }
    }
}

/// Prometheus metrics: the HTTP traffic and the store's state, read now.
async fn serve_metrics(State(state): State<AppState>) -> impl IntoResponse {
    let text = state.metrics.render(state.store.as_ref()).await;
    ([(header::CONTENT_TYPE, metrics::CONTENT_TYPE)], text)
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
