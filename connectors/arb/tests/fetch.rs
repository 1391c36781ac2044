//! `fetch_page` against a loopback server holding the issuance table.

use std::num::NonZeroU32;
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy};
use carbonmesh_connector_arb::{ArbConfig, ArbConnector};

const TABLE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/carb-arb/offsets-db-data_nc-arboc_issuance_sheet3.csv"
);

/// Serves the table whole, cut `cut` bytes before its end, or without its `CARB Issuance ID`
/// column.
async fn server(cut: usize, drop_column: bool) -> String {
    let bytes = std::fs::read(TABLE).unwrap_or_else(|e| panic!("fixture {TABLE} is missing ({e})"));
    let mut body = bytes[..bytes.len() - cut].to_vec();
    if drop_column {
        body = String::from_utf8(body)
            .expect("utf-8")
            .replacen("CARB Issuance ID", "Issuance", 1)
            .into_bytes();
    }
    let app = Router::new().route(
        ArbConfig::TABLE_PATH,
        get(move || {
            let body = body.clone();
            async move { body }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn connector(base: &str) -> ArbConnector {
    let policy = HttpPolicy {
        timeout: Duration::from_secs(5),
        max_attempts: 2,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
        requests_per_second: NonZeroU32::new(100).expect("non-zero"),
        ..HttpPolicy::default()
    };
    ArbConnector::new(
        ArbConfig::new(base),
        HttpClient::new(policy).expect("client"),
    )
}

#[tokio::test]
async fn the_table_is_one_page() {
    let c = connector(&server(0, false).await);
    let page = c.fetch_page(Feed::Issuances, None).await.expect("page");
    assert_eq!(page.records.len(), 70);
    assert_eq!(page.next, None);
}

#[tokio::test]
async fn a_cut_table_or_a_missing_column_is_malformed() {
    let c = connector(&server(25, false).await);
    let error = c.fetch_page(Feed::Issuances, None).await.expect_err("cut");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("truncated")),
        "{error}"
    );
    let c = connector(&server(0, true).await);
    let error = c
        .fetch_page(Feed::Issuances, None)
        .await
        .expect_err("column");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("carb issuance id")),
        "{error}"
    );
}
