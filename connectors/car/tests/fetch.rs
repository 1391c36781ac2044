//! `fetch_page` against a loopback server that answers like CAR's APX report download.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::Router;
use axum::extract::RawQuery;
use axum::routing::get;
use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy};
use carbonmesh_connector_car::{CarConfig, CarConnector};

const RETIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/climate-action-reserve/offsets-db-data_retirements.csv"
);

/// Serves report 206 (retirements) whole, or cut `cut` bytes before its end.
async fn server(cut: usize) -> String {
    let bytes = std::fs::read(RETIREMENTS)
        .unwrap_or_else(|e| panic!("fixture {RETIREMENTS} is missing ({e})"));
    let body = bytes[..bytes.len() - cut].to_vec();
    let app = Router::new().route(
        "/myModule/include/rptdownload.asp",
        get(move |RawQuery(q): RawQuery| {
            let body = body.clone();
            async move {
                let q = q.unwrap_or_default();
                if q.contains("r=206") && q.contains("FormatType=csv") {
                    (axum::http::StatusCode::OK, body)
                } else {
                    (axum::http::StatusCode::NOT_FOUND, Vec::new())
                }
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

fn connector(base: &str) -> CarConnector {
    let policy = HttpPolicy {
        timeout: Duration::from_secs(5),
        max_attempts: 2,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
        requests_per_second: NonZeroU32::new(100).expect("non-zero"),
        ..HttpPolicy::default()
    };
    CarConnector::new(
        CarConfig::new(base),
        HttpClient::new(policy).expect("client"),
    )
}

#[tokio::test]
async fn the_report_downloads_as_one_page() {
    let c = connector(&server(0).await);
    let page = c.fetch_page(Feed::Retirements, None).await.expect("page");
    assert_eq!(page.records.len(), 70);
    assert!(page.unreadable.is_empty());
    assert_eq!(page.next, None);
    for raw in &page.records {
        c.normalize(raw).expect("normalizes");
    }
}

#[tokio::test]
async fn a_download_cut_mid_row_is_malformed() {
    let c = connector(&server(40).await);
    let error = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("truncated");
    match error {
        FetchError::Malformed { reason, url } => {
            assert!(reason.contains("truncated"), "{reason}");
            assert!(
                url.ends_with("rptdownload.asp?r=206&FormatType=csv"),
                "{url}"
            );
        }
        other => panic!("expected Malformed, got {other}"),
    }
}
