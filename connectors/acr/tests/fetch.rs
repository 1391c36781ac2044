//! `fetch_page` against a loopback server that answers like GreenTrace.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::Router;
use std::collections::HashMap;

use axum::Form;
use axum::routing::post;
use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy};
use carbonmesh_connector_acr::{AcrConfig, AcrConnector};
use serde_json::{Value, json};

const RETIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/american-carbon-registry/rb-carbon-scraper_acr-retirements.json"
);

fn param(form: &HashMap<String, String>, name: &str) -> Option<u64> {
    form.get(name).and_then(|v| v.parse().ok())
}

/// Serves the fixture's 21 retirements in pages; with `drop_on_page`, that page loses a row.
async fn server(drop_on_page: Option<u64>) -> String {
    let bytes = std::fs::read(RETIREMENTS)
        .unwrap_or_else(|e| panic!("fixture {RETIREMENTS} is missing ({e})"));
    let all: Value = serde_json::from_slice(&bytes).expect("fixture JSON");
    let rows = all["datasets"]["retiredCredits"]["rows"]
        .as_array()
        .expect("rows")
        .clone();
    let app = Router::new().route(
        "/api/greentraceservice/v1/credit/registry/ACR_REGISTRY/holding-summaries/results",
        // GreenTrace takes its paging fields only as a form-encoded POST body.
        post(move |Form(q): Form<HashMap<String, String>>| {
            let rows = rows.clone();
            async move {
                let offset = param(&q, "offset").unwrap_or(0) as usize;
                let max = param(&q, "max").unwrap_or(2000) as usize;
                let page = param(&q, "pageNumber").unwrap_or(1);
                let mut slice: Vec<Value> = rows.iter().skip(offset).take(max).cloned().collect();
                if drop_on_page == Some(page) {
                    slice.pop();
                }
                axum::Json(json!({
                    "datasets": {"retiredCredits": {"rows": slice, "totalCount": rows.len()}}
                }))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn connector(base: &str) -> AcrConnector {
    let policy = HttpPolicy {
        timeout: Duration::from_secs(5),
        max_attempts: 2,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
        requests_per_second: NonZeroU32::new(100).expect("non-zero"),
        ..HttpPolicy::default()
    };
    let config = AcrConfig {
        page_size: 8,
        ..AcrConfig::new(base)
    };
    AcrConnector::new(config, HttpClient::new(policy).expect("client"))
}

#[tokio::test]
async fn pages_through_every_row() {
    let base = server(None).await;
    let c = connector(&base);
    let mut cursor: Option<String> = None;
    let mut lines = Vec::new();
    let mut pages = 0;
    loop {
        let page = c
            .fetch_page(Feed::Retirements, cursor.as_deref())
            .await
            .expect("page");
        pages += 1;
        for raw in &page.records {
            lines.push(raw.line);
            c.normalize(raw).expect("normalizes");
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(lines, (1..=21).collect::<Vec<u64>>());
}

#[tokio::test]
async fn a_page_short_of_what_total_count_announces_is_malformed() {
    let base = server(Some(2)).await;
    let c = connector(&base);
    let first = c.fetch_page(Feed::Retirements, None).await.expect("page 1");
    assert_eq!(first.next.as_deref(), Some("2"));
    let error = c
        .fetch_page(Feed::Retirements, first.next.as_deref())
        .await
        .expect_err("short page");
    match error {
        FetchError::Malformed { reason, url } => {
            assert!(reason.contains("7 rows"), "{reason}");
            assert!(url.ends_with("holding-summaries/results (page 2)"), "{url}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
}

#[tokio::test]
async fn a_body_without_the_dataset_is_malformed() {
    let base = server(None).await;
    let c = connector(&base);
    // The server only knows retirements: a projects URL 404s, which is a status error, while a
    // retirements body read as cancellations lacks the dataset.
    let error = c
        .fetch_page(Feed::Projects, None)
        .await
        .expect_err("no route");
    assert!(
        matches!(error, FetchError::Status { status: 404, .. }),
        "{error}"
    );
    let error = c
        .fetch_page(Feed::Cancellations, None)
        .await
        .expect_err("wrong");
    match error {
        FetchError::Malformed { reason, .. } => {
            assert!(reason.contains("datasets.cancelledCredits"), "{reason}")
        }
        other => panic!("expected Malformed, got {other}"),
    }
}
