//! Downloads over HTTP: `GET /exports/alerts.csv` and `/exports/alerts.jsonl`, the file
//! `carbonmesh export --what alerts` writes, for the same API keys that may read alerts
//! through GraphQL (the console's download button uses it).

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use carbonmesh_api::auth::{Actor, AuthError, actor};
use carbonmesh_api::keys::KeyUses;
use carbonmesh_model::ApiRole;
use carbonmesh_store::Store;

use crate::export::{Format, What, export, now};

#[derive(Clone)]
struct Downloads {
    store: Arc<dyn Store>,
    uses: Arc<KeyUses>,
    anonymous_read: bool,
}

/// The download routes over `store`; `anonymous_read` as the API's `[api]` setting.
pub fn routes(store: Arc<dyn Store>, anonymous_read: bool) -> axum::Router {
    axum::Router::new()
        .route("/exports/{file}", get(download))
        .with_state(Downloads {
            store,
            uses: Arc::default(),
            anonymous_read,
        })
}

fn refuse(status: StatusCode, message: &str) -> Response {
    (status, format!("{message}\n")).into_response()
}

/// The caller when it may read what the API lets observers read (a key of any role, or
/// anyone while `anonymous_read` is on); else the answer refusing it.
pub async fn reader(
    store: &dyn Store,
    uses: &KeyUses,
    headers: &HeaderMap,
    anonymous_read: bool,
) -> Result<Actor, Response> {
    let caller = match actor(store, uses, headers, anonymous_read).await {
        Ok(caller) => caller,
        Err(AuthError::InvalidKey) => {
            return Err(refuse(
                StatusCode::UNAUTHORIZED,
                "unknown or revoked API key",
            ));
        }
        Err(error) => {
            tracing::error!(%error, "cannot authenticate a download");
            return Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal error"));
        }
    };
    if !caller.role.is_some_and(|r| r.allows(ApiRole::Observer)) {
        return Err(refuse(StatusCode::UNAUTHORIZED, "an API key is required"));
    }
    Ok(caller)
}

/// `GET /exports/{file}`
async fn download(
    State(d): State<Downloads>,
    Path(file): Path<String>,
    headers: HeaderMap,
) -> Response {
    let (what, format, content_type) = match file.as_str() {
        "alerts.csv" => (What::Alerts, Format::Csv, "text/csv; charset=utf-8"),
        "alerts.jsonl" => (What::Alerts, Format::Jsonl, "application/jsonl"),
        _ => {
            return refuse(
                StatusCode::NOT_FOUND,
                "no such export: alerts.csv or alerts.jsonl",
            );
        }
    };
    let caller = match reader(d.store.as_ref(), &d.uses, &headers, d.anonymous_read).await {
        Ok(caller) => caller,
        Err(refused) => return refused,
    };
    let mut body = Vec::new();
    if let Err(error) = export(d.store.as_ref(), what, format, now(), &mut body).await {
        tracing::error!(%error, file, "export failed");
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, "the export failed");
    }
    tracing::info!(file, actor = %caller.name, bytes = body.len(), "export downloaded");
    let disposition = format!(
        "attachment; filename=\"carbonmesh-{}\"",
        file.replace(
            '.',
            &format!("-{}.", chrono::Utc::now().format("%Y%m%dT%H%M%SZ"))
        )
    );
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    response
}
