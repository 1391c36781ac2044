//! `fetch_page` against a loopback server that answers like GreenTrace's `ART_REGISTRY`
//! tenant: form-encoded POSTs, pages of `max` rows, `totalCount` in every page. The rows are
//! the blocks of the APX retirement fixture in GreenTrace's holding shape.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Form, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::post;
use axum::{Json, Router};
use carbonmesh_connector::testkit::{self, credits};
use carbonmesh_connector::{Connector, Feed, FetchError, Record};
use carbonmesh_connector_art::{ArtConfig, ArtConnector};
use serde_json::{Value, json};

const RETIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/art-trees/offsets-db-data_retirements.csv"
);

const HOLDINGS: &str =
    "/api/greentraceservice/v1/credit/registry/ART_REGISTRY/holding-summaries/results";

/// The fixture's retirements as GreenTrace holding rows.
fn holdings() -> Vec<Value> {
    let bytes = std::fs::read(RETIREMENTS)
        .unwrap_or_else(|e| panic!("fixture {RETIREMENTS} is missing ({e})"));
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let headers = reader.headers().expect("header").clone();
    let at = |name: &str| headers.iter().position(|h| h == name).expect(name);
    let (serial, qty, program, vintage, holder) = (
        at("Credit Serial Numbers"),
        at("Quantity of Credits"),
        at("Program ID"),
        at("Vintage"),
        at("Account Holder"),
    );
    reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            json!({
                "holdingSerialNumber": &r[serial],
                "holdingStatus": "RETIRED",
                "holdingQuantity": r[qty].parse::<u64>().expect("quantity"),
                "projectReferenceId": &r[program],
                "vintage": &r[vintage],
                "registryAccountName": &r[holder],
                "retirementDate": "2026-04-08",
            })
        })
        .collect()
}

/// Serves `rows` in pages of the requested `max`; `short` drops the last row of every page.
async fn server(rows: Vec<Value>, short: bool) -> String {
    let rows = Arc::new(rows);
    let app = Router::new()
        .route(
            HOLDINGS,
            post(
                move |State(rows): State<Arc<Vec<Value>>>,
                      Form(f): Form<HashMap<String, String>>| async move {
                    let number = |k: &str| f.get(k).and_then(|v| v.parse::<usize>().ok());
                    let (Some(offset), Some(page), Some(max)) =
                        (number("offset"), number("pageNumber"), number("max"))
                    else {
                        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                    };
                    if f.get("holdingStatus").map(String::as_str) != Some("RETIRED")
                        || offset != (page - 1) * max
                    {
                        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                    }
                    let mut page: Vec<Value> =
                        rows.iter().skip(offset).take(max).cloned().collect();
                    if short {
                        page.pop();
                    }
                    let body = json!({"datasets": {"retiredCredits": {
                    "rows": page, "totalCount": rows.len()}}});
                    Json(body).into_response()
                },
            ),
        )
        .with_state(rows);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn connector(base: &str) -> ArtConnector {
    let mut config = ArtConfig::new(base);
    config.page_size = 3;
    ArtConnector::new(config, testkit::quick_http())
}

#[tokio::test]
async fn retirements_page_through_to_the_last_page() {
    let rows = holdings();
    let c = connector(&server(rows.clone(), false).await);
    let mut cursor: Option<String> = None;
    let mut records = Vec::new();
    let mut pages = 0;
    // Bounded: 8 rows at 3 a page is 3 pages.
    for _ in 0..10 {
        let page = c
            .fetch_page(Feed::Retirements, cursor.as_deref())
            .await
            .expect("page");
        pages += 1;
        assert!(page.unreadable.is_empty());
        for raw in &page.records {
            records.extend(c.normalize(raw).expect("normalizes"));
        }
        cursor = page.next;
        if cursor.is_none() {
            break;
        }
    }
    assert_eq!(cursor, None, "paging ended");
    assert_eq!(pages, 3);
    let blocks = credits(&records);
    assert_eq!(blocks.len(), rows.len());
    for (c, row) in blocks.iter().zip(&rows) {
        assert_eq!(c.serial.as_deref(), row["holdingSerialNumber"].as_str());
        let range = c.serial_range.as_ref().expect("range");
        assert_eq!(
            range.end - range.start + 1,
            row["holdingQuantity"].as_u64().expect("quantity")
        );
        assert!(c.record_key.starts_with("retired:"));
    }
    assert!(records.iter().all(|r| matches!(r, Record::Credit(_))));
}

#[tokio::test]
async fn a_page_short_of_its_total_or_a_bad_cursor_is_malformed() {
    let c = connector(&server(holdings(), true).await);
    let error = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("short");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("totalCount 8 announces 3")),
        "{error}"
    );
    let error = c
        .fetch_page(Feed::Retirements, Some("0"))
        .await
        .expect_err("cursor");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("not a page number")),
        "{error}"
    );
    // Projects live at another path this server does not answer: an error status, not a page.
    let error = c.fetch_page(Feed::Projects, None).await.expect_err("404");
    assert!(
        matches!(error, FetchError::Status { status: 404, .. }),
        "{error}"
    );
}

#[test]
fn requests_use_the_art_tenant_paths() {
    let c = connector("https://greentrace.ice.com/");
    let projects = c.page_request(Feed::Projects, 1).expect("projects");
    assert_eq!(
        projects.url(),
        "https://greentrace.ice.com/api/greentraceservice/v1/project/registry/ART_REGISTRY/project-summaries/results"
    );
    let issued = c.page_request(Feed::Issuances, 2).expect("issuances");
    assert!(
        issued
            .url()
            .ends_with("/credit/registry/ART_REGISTRY/holding-summaries/results")
    );
    assert!(c.page_request(Feed::Transactions, 1).is_none());
    assert_eq!(ArtConfig::default().base_url, ArtConfig::PRODUCTION_URL);
}
