//! `POST /webhooks/{connector}`: verify, check, store, then answer.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use carbonmesh_model::{DeliveryStatus, WebhookDelivery};
use chrono::Utc;
use serde_json::json;

use crate::payload::Payload;
use crate::signature::{SignatureError, verify};
use crate::{Endpoint, Inbox};

/// Connector name under which requests to an unknown connector are counted.
const UNKNOWN: &str = "(unknown)";

/// Longest `webhook-id` accepted.
const MAX_ID_LEN: usize = 255;

/// The webhook routes, with their state.
pub fn routes(inbox: Arc<Inbox>) -> Router {
    // The handler enforces the cap itself (413 with a JSON reason); axum's default 2 MB
    // limit must not cut in first.
    Router::new()
        .route("/webhooks/{connector}", post(receive))
        .layer(DefaultBodyLimit::disable())
        .with_state(inbox)
}

/// A refusal: status, the reason counted, and a detail for the sender.
struct Refusal {
    status: StatusCode,
    reason: &'static str,
    detail: String,
}

impl Refusal {
    fn new(status: StatusCode, reason: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            reason,
            detail: detail.into(),
        }
    }
}

async fn receive(
    State(inbox): State<Arc<Inbox>>,
    Path(connector): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let Some(endpoint) = inbox.endpoints.get(&connector) else {
        let refusal = Refusal::new(
            StatusCode::NOT_FOUND,
            "unknown connector",
            "no connector of that name accepts webhooks here (configure its webhook_secrets)",
        );
        return refuse(&inbox, UNKNOWN, refusal).await;
    };
    match accept(&inbox, &connector, endpoint, &headers, body).await {
        Ok(response) => response,
        Err(refusal) => refuse(&inbox, &connector, refusal).await,
    }
}

async fn refuse(inbox: &Inbox, connector: &str, refusal: Refusal) -> Response {
    if let Err(error) = inbox
        .store
        .count_rejection(connector, refusal.reason, Utc::now())
        .await
    {
        tracing::warn!(%error, "cannot count a refused webhook");
    }
    tracing::info!(
        connector,
        status = refusal.status.as_u16(),
        reason = refusal.reason,
        detail = %refusal.detail,
        "webhook refused"
    );
    (
        refusal.status,
        axum::Json(json!({ "error": refusal.reason, "detail": refusal.detail })),
    )
        .into_response()
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn accept(
    inbox: &Inbox,
    connector: &str,
    endpoint: &Endpoint,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Refusal> {
    let cap = inbox.settings.max_body_bytes;
    let too_large = || {
        Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body too large",
            format!("the body exceeds {cap} bytes"),
        )
    };
    // Refuse on the declared length before reading anything; a body without one (chunked)
    // is read up to the cap and no further.
    if let Some(length) = header(headers, header::CONTENT_LENGTH.as_str()) {
        match length.parse::<u64>() {
            Ok(n) if n > cap as u64 => return Err(too_large()),
            Ok(_) => {}
            Err(_) => {
                return Err(Refusal::new(
                    StatusCode::BAD_REQUEST,
                    "malformed headers",
                    "content-length is not a number",
                ));
            }
        }
    }

    let id = header(headers, "webhook-id").ok_or_else(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "malformed headers",
            "missing webhook-id header",
        )
    })?;
    if id.is_empty() || id.len() > MAX_ID_LEN || !id.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Refusal::new(
            StatusCode::BAD_REQUEST,
            "malformed headers",
            format!("webhook-id must be 1 to {MAX_ID_LEN} printable ASCII characters"),
        ));
    }
    let timestamp = header(headers, "webhook-timestamp").ok_or_else(|| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "malformed headers",
            "missing webhook-timestamp header",
        )
    })?;
    let timestamp: i64 = timestamp.trim().parse().map_err(|_| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "malformed headers",
            "webhook-timestamp is not unix seconds",
        )
    })?;
    let signatures = header(headers, "webhook-signature").ok_or_else(|| {
        Refusal::new(
            StatusCode::UNAUTHORIZED,
            "missing signature",
            "missing webhook-signature header",
        )
    })?;
    // Cheap clock check before reading the body.
    let now = Utc::now();
    let skew = now.timestamp().saturating_sub(timestamp).saturating_abs();
    if skew > crate::TOLERANCE_SECONDS {
        return Err(timestamp_refusal(SignatureError::Timestamp {
            timestamp,
            skew,
        }));
    }

    let bytes = axum::body::to_bytes(body, cap).await.map_err(|error| {
        let over_cap =
            std::iter::successors(Some(&error as &(dyn std::error::Error + 'static)), |e| {
                e.source()
            })
            .any(|e| e.to_string().contains("length limit"));
        if over_cap {
            too_large()
        } else {
            Refusal::new(
                StatusCode::BAD_REQUEST,
                "malformed body",
                "the body could not be read",
            )
        }
    })?;

    let secret_number = verify(
        &endpoint.secrets,
        id,
        timestamp,
        signatures,
        &bytes,
        now.timestamp(),
    )
    .map_err(timestamp_refusal)?;

    let registry = endpoint.connector.registry();
    let payload = Payload::parse(&bytes, registry, endpoint.connector.feeds())
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, "malformed payload", e.to_string()))?;
    let body = String::from_utf8(bytes.to_vec()).map_err(|_| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            "malformed payload",
            "the body is not UTF-8",
        )
    })?;

    let delivery = WebhookDelivery {
        id: id.to_owned(),
        connector: connector.to_owned(),
        received_at: now,
        verification: format!(
            "v1 HMAC-SHA256 valid with secret {secret_number} of {}",
            endpoint.secrets.len()
        ),
        kind: payload.kind(),
        status: DeliveryStatus::Pending,
        attempts: 0,
        error: None,
        processed_at: None,
        payload: body,
    };
    let (done, written) = tokio::sync::oneshot::channel();
    let answer = match inbox.writes.send((delivery, done)).await {
        Ok(()) => written.await.ok(),
        Err(_) => None,
    };
    let stored = answer.unwrap_or_else(|| Err("the inbox writer stopped".into()));
    match stored {
        Ok(true) => {
            inbox.wake.notify_one();
            Ok((
                StatusCode::ACCEPTED,
                axum::Json(json!({ "status": "accepted", "id": id })),
            )
                .into_response())
        }
        Ok(false) => Ok((
            StatusCode::OK,
            axum::Json(json!({ "status": "duplicate", "id": id })),
        )
            .into_response()),
        Err(error) => {
            tracing::error!(connector, error, "cannot store a webhook delivery");
            let mut response = (
                StatusCode::SERVICE_UNAVAILABLE,
                axum::Json(json!({ "error": "inbox unavailable", "detail": "try again later" })),
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
            Ok(response)
        }
    }
}

fn timestamp_refusal(error: SignatureError) -> Refusal {
    let reason = match error {
        SignatureError::Timestamp { .. } => "timestamp out of tolerance",
        SignatureError::NoV1 | SignatureError::Mismatch => "invalid signature",
    };
    Refusal::new(StatusCode::UNAUTHORIZED, reason, error.to_string())
}

/// Deliveries the writer takes into one transaction at most.
const WRITE_BATCH: usize = 128;

/// Verified deliveries waiting for the writer, at most.
pub(crate) const WRITE_QUEUE: usize = 1024;

/// A verified delivery, and where its handler waits to learn whether it was new.
pub(crate) type PendingWrite = (
    WebhookDelivery,
    tokio::sync::oneshot::Sender<Result<bool, String>>,
);

/// Writes verified deliveries to the store until every handler is gone. Whatever arrived while
/// the previous transaction ran goes into the next one (group commit): under load a commit
/// serves many acknowledgements, and a delivery alone is written at once. Each handler
/// acknowledges only after the transaction holding its delivery committed.
pub(crate) async fn write_deliveries(
    store: Arc<dyn carbonmesh_store::Store>,
    mut queue: tokio::sync::mpsc::Receiver<PendingWrite>,
) {
    let mut batch: Vec<PendingWrite> = Vec::with_capacity(WRITE_BATCH);
    while queue.recv_many(&mut batch, WRITE_BATCH).await > 0 {
        let (deliveries, waiting): (Vec<WebhookDelivery>, Vec<_>) = batch.drain(..).unzip();
        match store.insert_deliveries(&deliveries).await {
            Ok(inserted) => {
                for (new, done) in inserted.into_iter().zip(waiting) {
                    // A handler that went away (client disconnected) needs no answer.
                    let _ = done.send(Ok(new));
                }
            }
            Err(error) => {
                let error = error.to_string();
                for done in waiting {
                    let _ = done.send(Err(error.clone()));
                }
            }
        }
    }
}
