//! `fetch_page` against a loopback server that answers like Isometric's Registry API: both
//! credentials required, Relay cursor paging with `first`/`after`, and retirement nodes in the
//! API's nested shape (project and sequestration date per credit batch), built from the
//! retirement fixture.

use std::collections::{BTreeMap, HashMap};
use std::str::FromStr;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use carbonmesh_connector::testkit::{self, credits};
use carbonmesh_connector::{Connector, Feed, FetchError};
use carbonmesh_connector_isometric::{IsometricConfig, IsometricConnector};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const RETIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/isometric/offsets-db-data_retirements.csv"
);

const SECRET: &str = "client-secret-for-tests";
const TOKEN: &str = "token-for-tests";

/// The fixture's rows, as maps.
fn rows() -> Vec<BTreeMap<String, String>> {
    let bytes = std::fs::read(RETIREMENTS)
        .unwrap_or_else(|e| panic!("fixture {RETIREMENTS} is missing ({e})"));
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().expect("header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            headers
                .iter()
                .map(str::to_owned)
                .zip(r.iter().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// A fixture row as the API returns it: nested objects, a JSON list of purposes, and the
/// project and sequestration date inside `credit_batches`.
fn node(row: &BTreeMap<String, String>) -> Value {
    let org = |p: &str| json!({"id": row[&format!("{p}.id")], "name": row[&format!("{p}.name")]});
    let purposes: Vec<String> = row["purposes"]
        .trim_matches(['[', ']'])
        .split(", ")
        .filter(|p| !p.is_empty())
        .map(|p| p.trim_matches('\'').to_owned())
        .collect();
    json!({
        "id": row["retirement_id"],
        "retired_at": row["retired_at"],
        "purposes": purposes,
        "beneficiary": org("beneficiary"),
        "owner": org("owner"),
        "credit_batch_size_total": {
            "credits": row["credit_batch_size_total.credits"].parse::<f64>().expect("credits"),
            "credit_kgs": row["credit_batch_size_total.credit_kgs"].parse::<u64>().expect("kg"),
        },
        "url": row["url"],
        "notes": row["notes"],
        "credit_batches": [{"project_id": row["project_id"], "sequestered_on": row["sequestered_on"]}],
    })
}

/// Opaque cursors with characters that must be percent-encoded.
fn cursor(offset: usize) -> String {
    format!("b2Zmc2V0+{offset}/=")
}

/// Serves `nodes` in pages of `first`; with `stuck`, every page hands back the first cursor.
async fn server(nodes: Vec<Value>, stuck: bool) -> String {
    let nodes = Arc::new(nodes);
    let app = Router::new()
        .route(
            "/registry/v0/retirements",
            get(
                move |State(nodes): State<Arc<Vec<Value>>>,
                      headers: HeaderMap,
                      Query(q): Query<HashMap<String, String>>| async move {
                    let header = |k: &str| headers.get(k).and_then(|v| v.to_str().ok());
                    if header("x-client-secret") != Some(SECRET)
                        || header("authorization") != Some(&format!("Bearer {TOKEN}"))
                    {
                        return (StatusCode::UNAUTHORIZED, "{\"detail\":\"unauthorized\"}")
                            .into_response();
                    }
                    let first = q.get("first").and_then(|v| v.parse::<usize>().ok());
                    let offset = match q.get("after") {
                        None => Some(0),
                        Some(after) => (0..=nodes.len()).find(|o| cursor(*o) == *after),
                    };
                    let (Some(first), Some(offset)) = (first, offset) else {
                        return StatusCode::UNPROCESSABLE_ENTITY.into_response();
                    };
                    let page: Vec<Value> = nodes.iter().skip(offset).take(first).cloned().collect();
                    let end = offset + page.len();
                    let next = if stuck { cursor(first) } else { cursor(end) };
                    Json(json!({
                        "nodes": page,
                        "total_count": nodes.len(),
                        "page_info": {
                            "has_previous_page": offset > 0,
                            "start_cursor": cursor(offset),
                            "has_next_page": end < nodes.len(),
                            "end_cursor": next,
                        },
                    }))
                    .into_response()
                },
            ),
        )
        .with_state(nodes);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn connector(base: &str, credentials: bool) -> IsometricConnector {
    let mut config = IsometricConfig::new(base);
    config.page_size = 25;
    if credentials {
        config = config.with_credentials(SECRET, TOKEN);
    }
    IsometricConnector::new(config, testkit::quick_http())
}

#[tokio::test]
async fn retirements_page_through_by_cursor_with_exact_quantities() {
    let rows = rows();
    let c = connector(&server(rows.iter().map(node).collect(), false).await, true);
    let mut after: Option<String> = None;
    let mut records = Vec::new();
    let mut pages = 0;
    // Bounded: 70 nodes at 25 a page is 3 pages.
    for _ in 0..10 {
        let page = c
            .fetch_page(Feed::Retirements, after.as_deref())
            .await
            .expect("page");
        pages += 1;
        for raw in &page.records {
            records.extend(c.normalize(raw).expect("normalizes"));
        }
        after = page.next;
        if after.is_none() {
            break;
        }
    }
    assert_eq!(after, None, "paging ended");
    assert_eq!(pages, 3);
    let blocks = credits(&records);
    assert_eq!(blocks.len(), rows.len());
    let mut expected: BTreeMap<(String, Option<i32>), Decimal> = BTreeMap::new();
    for row in &rows {
        let year = row["sequestered_on"][..4].parse().ok();
        *expected
            .entry((row["project_id"].clone(), year))
            .or_default() +=
            Decimal::from_str(&row["credit_batch_size_total.credits"]).expect("decimal");
    }
    let mut got: BTreeMap<(String, Option<i32>), Decimal> = BTreeMap::new();
    for c in &blocks {
        *got.entry((c.registry_project_id.clone(), c.vintage))
            .or_default() += c.quantity;
    }
    assert_eq!(got, expected);
    assert!(blocks.iter().all(|c| c.record_key.starts_with("ret_")));
}

#[tokio::test]
async fn missing_credentials_or_a_cursor_that_does_not_advance_fail_plainly() {
    let nodes: Vec<Value> = rows().iter().map(node).collect();
    let c = connector(&server(nodes.clone(), false).await, false);
    let error = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("401");
    assert!(
        matches!(error, FetchError::Status { status: 401, .. }),
        "{error}"
    );
    let c = connector(&server(nodes, true).await, true);
    let first = c.fetch_page(Feed::Retirements, None).await.expect("page 1");
    let next = first.next.expect("a next page");
    let error = c
        .fetch_page(Feed::Retirements, Some(&next))
        .await
        .expect_err("stuck");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("does not advance")),
        "{error}"
    );
}

#[test]
fn requests_carry_the_paths_paging_and_credentials() {
    let c = connector("https://api.isometric.com/", true);
    let r = c
        .page_request(Feed::Issuances, Some("a+b/c="))
        .expect("issuances");
    assert_eq!(
        r.url(),
        "https://api.isometric.com/registry/v0/issuances?first=25&after=a%2Bb%2Fc%3D"
    );
    assert!(c.page_request(Feed::Cancellations, None).is_none());
    let config = IsometricConfig::default().with_credentials(SECRET, TOKEN);
    assert_eq!(config.base_url, IsometricConfig::PRODUCTION_URL);
    let printed = format!("{config:?}");
    assert!(
        !printed.contains(SECRET) && !printed.contains(TOKEN),
        "{printed}"
    );
}
