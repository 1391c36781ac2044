//! `GET /metrics`: Prometheus text exposition.
//!
//! * HTTP traffic, recorded by the [`track`] middleware that [`instrument`] puts on the whole
//!   router: `carbonmesh_http_requests_total{route,status}` and the
//!   `carbonmesh_http_request_duration_seconds{route}` histogram. `route` is the matched route
//!   template (`/webhooks/{connector}`, not the URI), or `unmatched`, so the label set stays
//!   bounded whatever clients request.
//! * The store's state, read at scrape time with a handful of aggregate queries:
//!   `carbonmesh_records{kind}`, `carbonmesh_rejected_records`,
//!   `carbonmesh_connector_runs_total{connector,status}`,
//!   `carbonmesh_connector_last_success_timestamp_seconds{connector}`,
//!   `carbonmesh_alerts{status}` and `carbonmesh_store_up`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::Response;
use carbonmesh_model::{AlertStatus, RunStatus};
use carbonmesh_store::{AlertFilter, Store, StoreError};
use prometheus::{HistogramOpts, HistogramVec, IntCounterVec, Opts, Registry, TextEncoder};
use tracing::Instrument;

/// The content type of the Prometheus text format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Connector runs read per scrape (newest first): `carbonmesh_connector_runs_total` counts
/// the runs among these.
pub const RUNS_WINDOW: u32 = 10_000;

/// Alerts read per page when the store cannot count them by status directly.
const ALERTS_PAGE: u32 = 1_000;

/// Request duration buckets, in seconds.
const DURATION_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The HTTP metrics of one server; cheap to clone (shared).
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    requests: IntCounterVec,
    duration: HistogramVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// Empty metrics, in a registry of their own.
    pub fn new() -> Metrics {
        let requests = IntCounterVec::new(
            Opts::new(
                "carbonmesh_http_requests_total",
                "HTTP requests answered, by matched route and status code.",
            ),
            &["route", "status"],
        )
        .expect("valid counter definition");
        let duration = HistogramVec::new(
            HistogramOpts::new(
                "carbonmesh_http_request_duration_seconds",
                "Time to answer HTTP requests (until the response head), by matched route.",
            )
            .buckets(DURATION_BUCKETS.to_vec()),
            &["route"],
        )
        .expect("valid histogram definition");
        let registry = Registry::new();
        registry
            .register(Box::new(requests.clone()))
            .expect("metric registered once");
        registry
            .register(Box::new(duration.clone()))
            .expect("metric registered once");
        Metrics {
            inner: Arc::new(Inner {
                registry,
                requests,
                duration,
            }),
        }
    }

    /// Records one answered request.
    pub fn record(&self, route: &str, status: u16, seconds: f64) {
        self.inner
            .requests
            .with_label_values(&[route, &status.to_string()])
            .inc();
        self.inner
            .duration
            .with_label_values(&[route])
            .observe(seconds);
    }

    /// The HTTP metrics in the text format.
    pub fn http_text(&self) -> String {
        TextEncoder::new()
            .encode_to_string(&self.inner.registry.gather())
            .unwrap_or_else(|error| {
                tracing::error!(%error, "could not encode the HTTP metrics");
                String::new()
            })
    }

    /// Everything `/metrics` serves: the HTTP metrics and the store's state. A store that
    /// cannot be read gives `carbonmesh_store_up 0` and no store metrics.
    pub async fn render(&self, store: &dyn Store) -> String {
        let mut text = self.http_text();
        match store_text(store).await {
            Ok(store_text) => {
                text.push_str(&store_text);
                gauge(
                    &mut text,
                    "carbonmesh_store_up",
                    "Whether the store answered this scrape.",
                );
                text.push_str("carbonmesh_store_up 1\n");
            }
            Err(error) => {
                tracing::warn!(%error, "metrics: the store could not be read");
                gauge(
                    &mut text,
                    "carbonmesh_store_up",
                    "Whether the store answered this scrape.",
                );
                text.push_str("carbonmesh_store_up 0\n");
            }
        }
        text
    }
}

/// The middleware recording every request under its matched route: attach with
/// [`instrument`], or `router.layer(axum::middleware::from_fn_with_state(metrics, track))`
/// after every route is added.
///
/// Every request also runs in a `request` span with its id (the caller's `x-request-id` when
/// it sends a usable one, else a new one), method and route, so whatever it logs can be
/// found together; the id is sent back in `x-request-id`.
pub async fn track(State(metrics): State<Metrics>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let id = request
        .headers()
        .get(REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 64 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map_or_else(new_request_id, str::to_owned);
    let span = tracing::info_span!(
        "request",
        id = id.as_str(),
        method = %request.method(),
        route = route.as_str()
    );
    let started = Instant::now();
    let mut response = next.run(request).instrument(span.clone()).await;
    let status = response.status().as_u16();
    let seconds = started.elapsed().as_secs_f64();
    metrics.record(&route, status, seconds);
    span.in_scope(|| tracing::debug!(status, ms = seconds * 1000.0, "answered"));
    if let Ok(value) = axum::http::HeaderValue::from_str(&id) {
        response.headers_mut().insert(REQUEST_ID, value);
    }
    response
}

/// The header that carries a request's id, both ways.
const REQUEST_ID: &str = "x-request-id";

/// A new request id: this process's prefix and a counter, unique among the ids it hands out.
fn new_request_id() -> String {
    static PREFIX: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos());
        format!("{:08x}", nanos ^ std::process::id().rotate_left(16))
    });
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    format!("{}-{n:x}", *PREFIX)
}

/// Puts the [`track`] middleware on every route of `router` (and its fallback). Call it last,
/// once every route is merged: routes added afterwards are not counted.
pub fn instrument<S>(router: Router<S>, metrics: Metrics) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    router.layer(middleware::from_fn_with_state(metrics, track))
}

/// Writes `# HELP` and `# TYPE` lines.
fn header(text: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(text, "# HELP {name} {help}");
    let _ = writeln!(text, "# TYPE {name} {kind}");
}

fn gauge(text: &mut String, name: &str, help: &str) {
    header(text, name, "gauge", help);
}

/// A label value, escaped for the text format.
fn label(value: &str) -> String {
    let mut escaped = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => escaped.push_str("\\\\"),
            '"' => escaped.push_str("\\\""),
            '\n' => escaped.push_str("\\n"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The store metrics, in the text format.
async fn store_text(store: &dyn Store) -> Result<String, StoreError> {
    let mut text = String::new();
    let counts = store.counts().await?;
    gauge(
        &mut text,
        "carbonmesh_records",
        "Current harmonized records, by kind.",
    );
    let _ = writeln!(
        text,
        "carbonmesh_records{{kind=\"project\"}} {}",
        counts.projects
    );
    let _ = writeln!(
        text,
        "carbonmesh_records{{kind=\"credit\"}} {}",
        counts.credits
    );
    gauge(
        &mut text,
        "carbonmesh_rejected_records",
        "Records kept as rejected (they failed to parse or validate).",
    );
    let _ = writeln!(text, "carbonmesh_rejected_records {}", counts.rejected);

    let runs = store.runs(RUNS_WINDOW).await?;
    let mut by_status: BTreeMap<(&str, RunStatus), u64> = BTreeMap::new();
    let mut last_success: BTreeMap<&str, i64> = BTreeMap::new();
    for run in &runs {
        *by_status.entry((&run.connector, run.status)).or_default() += 1;
        if run.status == RunStatus::Complete {
            let at = run.finished_at.unwrap_or(run.started_at).timestamp();
            let last = last_success.entry(&run.connector).or_insert(at);
            *last = (*last).max(at);
        }
    }
    header(
        &mut text,
        "carbonmesh_connector_runs_total",
        "counter",
        &format!(
            "Connector runs (polls, imports, webhook batches) by how they ended, among the \
             latest {RUNS_WINDOW}."
        ),
    );
    for ((connector, status), n) in &by_status {
        let _ = writeln!(
            text,
            "carbonmesh_connector_runs_total{{connector=\"{}\",status=\"{status}\"}} {n}",
            label(connector)
        );
    }
    gauge(
        &mut text,
        "carbonmesh_connector_last_success_timestamp_seconds",
        "When each connector's latest complete run ended (Unix seconds).",
    );
    for (connector, at) in &last_success {
        let _ = writeln!(
            text,
            "carbonmesh_connector_last_success_timestamp_seconds{{connector=\"{}\"}} {at}",
            label(connector)
        );
    }

    let alerts = alert_counts(store).await?;
    gauge(
        &mut text,
        "carbonmesh_alerts",
        "Double-counting alerts, by review status.",
    );
    for (status, n) in alerts {
        let _ = writeln!(text, "carbonmesh_alerts{{status=\"{status}\"}} {n}");
    }
    Ok(text)
}

/// Alerts per status (every status, zeros included): one count query per status, or a walk
/// over the alert pages where the store cannot count them.
async fn alert_counts(store: &dyn Store) -> Result<Vec<(AlertStatus, u64)>, StoreError> {
    let mut counts = Vec::with_capacity(AlertStatus::ALL.len());
    for status in AlertStatus::ALL {
        let filter = AlertFilter {
            statuses: vec![*status],
            ..AlertFilter::default()
        };
        match store.count_alerts(&filter).await {
            Ok(n) => counts.push((*status, n)),
            // A store that cannot count them (or failed to): walk the pages instead, which
            // fails in turn if the database is the problem.
            Err(error) => {
                tracing::debug!(%error, "metrics: counting alerts by status failed; walking them");
                return walk_alert_counts(store).await;
            }
        }
    }
    Ok(counts)
}

async fn walk_alert_counts(store: &dyn Store) -> Result<Vec<(AlertStatus, u64)>, StoreError> {
    let mut counts: BTreeMap<AlertStatus, u64> = AlertStatus::ALL.iter().map(|s| (*s, 0)).collect();
    let mut after: Option<String> = None;
    loop {
        let page = store.alerts_page(after.as_deref(), ALERTS_PAGE).await?;
        for alert in &page {
            *counts.entry(alert.status).or_default() += 1;
        }
        match page.last() {
            Some(last) if page.len() == ALERTS_PAGE as usize => after = Some(last.id.clone()),
            _ => break,
        }
    }
    Ok(counts.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_by_route_and_status() {
        let metrics = Metrics::new();
        metrics.record("/healthz", 200, 0.002);
        metrics.record("/healthz", 200, 0.003);
        metrics.record("unmatched", 404, 0.0001);
        let text = metrics.http_text();
        assert!(
            text.contains("carbonmesh_http_requests_total{route=\"/healthz\",status=\"200\"} 2\n")
        );
        assert!(
            text.contains("carbonmesh_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n")
        );
        assert!(
            text.contains("carbonmesh_http_request_duration_seconds_count{route=\"/healthz\"} 2\n")
        );
        assert!(text.contains(
            "carbonmesh_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"0.005\"} 2\n"
        ));
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}
