//! `fetch_page` against a loopback GraphQL server that answers like Toucan's subgraph: entities
//! ordered by id, `first` at most 1000, `where: { id_gt }` paging.

use std::sync::{Arc, Mutex};

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use carbonmesh_connector::testkit;
use carbonmesh_connector::{Connector, Feed, FetchError};
use carbonmesh_connector_toucan::{PAGE_SIZE, ToucanConfig, ToucanConnector};
use serde_json::{Value, json};

/// Batches on the server: more than two pages.
const BATCHES: usize = 2 * PAGE_SIZE + 345;

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Subgraph,
    /// The subgraph answers with GraphQL errors (an indexer behind, a bad key).
    Errors,
    /// A persistent server error.
    Down,
}

#[derive(Clone)]
struct Subgraph {
    mode: Mode,
    batches: Arc<Vec<Value>>,
    /// The `after` of every query received.
    seen: Arc<Mutex<Vec<String>>>,
}

async fn answer(State(s): State<Subgraph>, Json(body): Json<Value>) -> Response {
    match s.mode {
        Mode::Down => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Mode::Errors => {
            return Json(json!({ "errors": [{ "message": "indexer is behind" }] })).into_response();
        }
        Mode::Subgraph => {}
    }
    let query = body["query"].as_str().unwrap_or_default();
    let after = body["variables"]["after"].as_str().unwrap_or_default();
    let first = body["variables"]["first"].as_u64().unwrap_or(100) as usize;
    s.seen.lock().expect("lock").push(after.to_owned());
    if !query.contains("batchTokens(") || !query.contains("id_gt: $after") || first > 1000 {
        return Json(json!({ "errors": [{ "message": "unexpected query" }] })).into_response();
    }
    let page: Vec<Value> = s
        .batches
        .iter()
        .filter(|b| b["id"].as_str().is_some_and(|id| id > after))
        .take(first)
        .cloned()
        .collect();
    Json(json!({ "data": { "batchTokens": page } })).into_response()
}

async fn server(mode: Mode) -> (String, Subgraph) {
    // Ids as strings, zero-padded: the subgraph orders string ids as text.
    let batches = (1..=BATCHES)
        .map(|i| {
            json!({
                "id": format!("{i:05}"),
                "serialNumber": format!(
                    "{}-{}-{}-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1",
                    19000 + i,
                    941_000_000 + i * 10,
                    941_000_009 + i * 10
                ),
                "quantity": "10",
                "confirmationStatus": 2,
                "timestamp": "1641900000",
                "tx": "0xabc",
                "creator": { "id": "0x01" },
                "projectVintage": { "name": "2020", "project": { "projectId": "VCS-1340" } }
            })
        })
        .collect();
    let state = Subgraph {
        mode,
        batches: Arc::new(batches),
        seen: Arc::default(),
    };
    let app = Router::new()
        .route("/subgraphs/toucan", post(answer))
        .with_state(state.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}/subgraphs/toucan"), state)
}

fn connector(url: &str) -> ToucanConnector {
    let config = ToucanConfig {
        url: Some(url.to_owned()),
        ..ToucanConfig::default()
    };
    ToucanConnector::new(config, testkit::quick_http())
}

#[tokio::test]
async fn reads_every_batch_page_by_page_after_the_last_id() {
    let (url, state) = server(Mode::Subgraph).await;
    let c = connector(&url);
    let mut cursor: Option<String> = None;
    let mut records = Vec::new();
    for _ in 0..10 {
        let page = c
            .fetch_page(Feed::Issuances, cursor.as_deref())
            .await
            .expect("page");
        records.extend(page.records);
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "the last page ends the feed");
    assert_eq!(records.len(), BATCHES);
    let seen = state.seen.lock().expect("lock").clone();
    assert_eq!(seen, ["", "01000", "02000"], "pages after the last id read");
    assert_eq!(records[0].source, url);
    assert_eq!(records[PAGE_SIZE].line, 1, "positions count within a page");
    let credits: usize = records
        .iter()
        .map(|r| c.normalize(r).expect("normalizes").len())
        .sum();
    assert_eq!(credits, BATCHES);
}

#[tokio::test]
async fn errors_of_the_subgraph_or_the_server_fail_the_page() {
    let (url, _) = server(Mode::Errors).await;
    let error = connector(&url)
        .fetch_page(Feed::Projects, None)
        .await
        .expect_err("graphql errors");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("indexer is behind")),
        "{error}"
    );

    let (url, _) = server(Mode::Down).await;
    let error = connector(&url)
        .fetch_page(Feed::Issuances, None)
        .await
        .expect_err("error status");
    assert!(
        matches!(error, FetchError::Status { status: 500, .. }),
        "{error}"
    );

    let error = connector(&url)
        .fetch_page(Feed::Cancellations, None)
        .await
        .expect_err("no such feed");
    assert!(matches!(error, FetchError::Malformed { .. }), "{error}");
}

#[tokio::test]
async fn the_gateway_needs_a_key() {
    let c = ToucanConnector::new(ToucanConfig::default(), testkit::quick_http());
    let error = c
        .fetch_page(Feed::Projects, None)
        .await
        .expect_err("no key");
    assert!(error.to_string().contains("set `api_key`"), "{error}");
    let keyed = ToucanConfig {
        api_key: Some("k3y".into()),
        ..ToucanConfig::default()
    };
    assert_eq!(
        keyed.endpoint().as_deref(),
        Ok(
            "https://gateway-arbitrum.network.thegraph.com/api/k3y/subgraphs/id/FU5APMSSCqcRy9jy56aXJiGV3PQmFQHg2tzukvSJBgwW"
        )
    );
    assert!(
        !format!("{keyed:?}").contains("k3y"),
        "the key is never printed"
    );
}
