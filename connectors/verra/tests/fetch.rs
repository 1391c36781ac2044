//! Paging through a loopback server that answers like Platts and the uiapi export.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query};
use axum::routing::post;
use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy};
use carbonmesh_connector_verra::{VerraConfig, VerraConnector};
use serde_json::{Value, json};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/verra/"
);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{DIR}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path} is missing: {e}"))
}

/// Five issuance entities shaped like the Platts sample, with distinct entity ids.
fn issuances() -> Vec<Value> {
    let saved: Value = serde_json::from_slice(&fixture(
        "rb-carbon-scraper_platts-publicReportPageSearch-samples.json",
    ))
    .expect("json");
    let sample = saved
        .as_object()
        .and_then(|m| m.iter().find(|(k, _)| k.contains("/issuances/")))
        .map(|(_, v)| v["entities"][0].clone())
        .expect("issuance sample");
    (0..5)
        .map(|i| {
            let mut e = sample.clone();
            e["entityId"] = json!(110200001032597_u64 + i);
            e
        })
        .collect()
}

/// `truncated`: the Platts pages drop an entity and the CSV export is cut mid-row.
async fn server(truncated: bool) -> String {
    let entities = issuances();
    let csv = fixture("offsets-db-data_transactions.csv");
    let app = Router::new()
        .route(
            "/ci-raas-prod/raas-report-api/es/public/{resource}/publicReportPageSearch",
            post(
                move |Path(resource): Path<String>, axum::Json(body): axum::Json<Value>| {
                    let entities = entities.clone();
                    async move {
                        let pagination = &body["searchFilter"]["pagination"];
                        let start = pagination["start"].as_u64().unwrap_or(0) as usize;
                        let limit = pagination["limit"].as_u64().unwrap_or(50) as usize;
                        let all = if resource == "issuances" {
                            entities
                        } else {
                            Vec::new()
                        };
                        let mut page: Vec<Value> =
                            all.iter().skip(start).take(limit).cloned().collect();
                        if truncated {
                            page.pop();
                        }
                        axum::Json(json!({"entities": page, "totalCount": all.len()}))
                    }
                },
            ),
        )
        .route(
            "/uiapi/asset/asset/search",
            post(move |Query(q): Query<HashMap<String, String>>| {
                let mut body = csv.clone();
                // Past the first page, only the header is left.
                if q.get("$skip").is_some_and(|s| s != "0") {
                    let header_end = body.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1);
                    body.truncate(header_end);
                } else if truncated {
                    // Cut ten bytes into a row half-way through the file.
                    let half = body.len() / 2;
                    let row_start = body[..half]
                        .iter()
                        .rposition(|b| *b == b'\n')
                        .map_or(0, |i| i + 1);
                    body.truncate(row_start + 10);
                }
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

fn connector(base: &str) -> VerraConnector {
    let http = HttpClient::new(HttpPolicy {
        timeout: Duration::from_secs(5),
        max_attempts: 1,
        requests_per_second: NonZeroU32::new(1000).expect("non-zero"),
        ..HttpPolicy::default()
    })
    .expect("client");
    VerraConnector::new(
        VerraConfig {
            page_size: 2,
            ..VerraConfig::at(base)
        },
        http,
    )
}

#[tokio::test]
async fn pages_through_platts_by_offset() {
    let base = server(false).await;
    let c = connector(&base);
    let mut cursor: Option<String> = None;
    let mut keys = Vec::new();
    let mut pages = 0;
    loop {
        let page = c
            .fetch_page(Feed::Issuances, cursor.as_deref())
            .await
            .expect("page");
        pages += 1;
        for raw in &page.records {
            for r in c.normalize(raw).expect("normalizes") {
                if let carbonmesh_connector::Record::Credit(credit) = r {
                    keys.push(credit.record_key);
                }
            }
        }
        match page.next {
            Some(n) => cursor = Some(n),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(keys.len(), 5);
    assert_eq!(keys[4], "issuance:110200001032601");

    // An empty resource is one empty page.
    let empty = c.fetch_page(Feed::Retirements, None).await.expect("page");
    assert!(empty.records.is_empty() && empty.next.is_none());

    let export = c
        .fetch_page(Feed::Transactions, None)
        .await
        .expect("export");
    assert_eq!(export.records.len(), 140);
    assert!(export.unreadable.is_empty());
    // The export ends on its first empty page.
    let rest = c
        .fetch_page(Feed::Transactions, export.next.as_deref())
        .await
        .expect("export");
    assert!(rest.records.is_empty() && rest.next.is_none());
}

#[tokio::test]
async fn short_or_cut_pages_are_malformed() {
    let base = server(true).await;
    let c = connector(&base);
    let error = c
        .fetch_page(Feed::Issuances, None)
        .await
        .expect_err("short page");
    assert!(matches!(error, FetchError::Malformed { .. }), "{error}");
    let error = c
        .fetch_page(Feed::Transactions, None)
        .await
        .expect_err("cut CSV");
    assert!(matches!(error, FetchError::Malformed { .. }), "{error}");
}
