//! Paging through a loopback server that answers like the Gold Standard public API.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::Router;
use axum::extract::Query;
use axum::routing::get;
use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy, Record};
use carbonmesh_connector_gold_standard::{GoldStandardConfig, GoldStandardConnector};
use serde_json::{Value, json};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/gold-standard/"
);

fn fixture(name: &str) -> Vec<u8> {
    let path = format!("{DIR}{name}");
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {path} is missing: {e}"))
}

/// 30 credit blocks shaped like the sample: the 8 real ones repeated under new ids.
fn credits() -> Vec<Value> {
    let sample: Vec<Value> =
        serde_json::from_slice(&fixture("rb-carbon-scraper_gs-credits.json")).expect("json");
    (0..30)
        .map(|i| {
            let mut c = sample[i % sample.len()].clone();
            c["id"] = json!(format!("{}", 900_000 - i));
            c
        })
        .collect()
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Whole,
    /// The body stops mid-array.
    Cut,
    /// An error object inside an HTTP 200.
    ErrorObject,
}

async fn server(mode: Mode) -> String {
    let all = credits();
    let projects: Value =
        serde_json::from_slice(&fixture("rb-carbon-scraper_gs-projects.json")).expect("json");
    let app = Router::new()
        .route(
            "/credits",
            get(move |Query(q): Query<HashMap<String, String>>| {
                let all = all.clone();
                async move {
                    let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
                    let size: usize = q.get("size").and_then(|v| v.parse().ok()).unwrap_or(25);
                    let items: Vec<Value> = all
                        .iter()
                        .skip((page.max(1) - 1) * size)
                        .take(size)
                        .cloned()
                        .collect();
                    let mut body = Value::Array(items).to_string().into_bytes();
                    match mode {
                        Mode::Whole => body,
                        Mode::Cut => {
                            body.truncate(body.len() / 2);
                            body
                        }
                        Mode::ErrorObject => json!({"status": 403}).to_string().into_bytes(),
                    }
                }
            }),
        )
        .route(
            "/projects",
            get(move || {
                let projects = projects.clone();
                async move { axum::Json(projects) }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn connector(base: &str) -> GoldStandardConnector {
    let http = HttpClient::new(HttpPolicy {
        timeout: Duration::from_secs(5),
        max_attempts: 1,
        requests_per_second: NonZeroU32::new(1000).expect("non-zero"),
        ..HttpPolicy::default()
    })
    .expect("client");
    GoldStandardConnector::new(
        GoldStandardConfig {
            base_url: base.to_owned(),
        },
        http,
    )
}

#[tokio::test]
async fn pages_through_credits_by_page_number() {
    let base = server(Mode::Whole).await;
    let c = connector(&base);
    let first = c
        .fetch_page(Feed::Transactions, None)
        .await
        .expect("page 1");
    assert_eq!(first.records.len(), 25);
    assert_eq!(first.next.as_deref(), Some("2"));
    let second = c
        .fetch_page(Feed::Transactions, first.next.as_deref())
        .await
        .expect("page 2");
    assert_eq!(second.records.len(), 5);
    assert_eq!(second.next, None);
    assert_eq!(second.records[0].line, 26);
    let keys: Vec<String> = first
        .records
        .iter()
        .chain(&second.records)
        .flat_map(|r| c.normalize(r).expect("normalizes"))
        .filter_map(|r| match r {
            Record::Credit(c) => Some(c.record_key),
            Record::Project(_) => None,
        })
        .collect();
    assert_eq!(keys.len(), 30);

    let projects = c.fetch_page(Feed::Projects, None).await.expect("projects");
    assert_eq!(projects.records.len(), 5);
    assert_eq!(projects.next, None);
}

#[tokio::test]
async fn cut_or_wrong_pages_are_malformed() {
    for mode in [Mode::Cut, Mode::ErrorObject] {
        let base = server(mode).await;
        let c = connector(&base);
        let error = c
            .fetch_page(Feed::Transactions, None)
            .await
            .expect_err("malformed");
        assert!(matches!(error, FetchError::Malformed { .. }), "{error}");
    }
}
