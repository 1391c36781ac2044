//! `fetch_page` against a loopback server that answers like the Global CarbonTrace API:
//! Laravel pages, the `x-api-key` check answered inside HTTP 200, per-project cancellations.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query};
use axum::http::HeaderMap;
use axum::routing::get;
use carbonmesh_connector::testkit::{self, credits};
use carbonmesh_connector::{Connector, Feed, FetchError, Page, Record};
use carbonmesh_connector_biocarbon::{BiocarbonConfig, BiocarbonConnector};
use serde_json::{Value, json};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/biocarbon/"
);
const KEY: &str = "test-key";

fn fixture(name: &str) -> Value {
    serde_json::from_slice(&testkit::read_fixture(DIR, name)).expect("fixture JSON")
}

fn rows(name: &str) -> Vec<Value> {
    fixture(name)["data"].as_array().expect("data").clone()
}

/// A Laravel page of `all`, as `/api/ghg/…?per_page=&page=` serves it. With `drop`, the page
/// loses its last record.
fn laravel(all: &[Value], q: &HashMap<String, String>, drop: bool) -> Value {
    let per_page: usize = q.get("per_page").and_then(|v| v.parse().ok()).unwrap_or(15);
    let page: usize = q.get("page").and_then(|v| v.parse().ok()).unwrap_or(1);
    let mut data: Vec<Value> = all
        .iter()
        .skip((page.max(1) - 1) * per_page)
        .take(per_page)
        .cloned()
        .collect();
    if drop {
        data.pop();
    }
    let last_page = all.len().div_ceil(per_page).max(1);
    json!({
        "current_page": page,
        "data": data,
        "last_page": last_page,
        "per_page": per_page,
        "total": all.len(),
        "next_page_url": (page < last_page).then(|| format!("?page={}", page + 1)),
    })
}

fn refused(headers: &HeaderMap) -> Option<Value> {
    (headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(KEY))
        .then(|| json!({"status": 403, "data": [], "message": "Forbidden"}))
}

async fn server(drop_on_page: Option<usize>) -> String {
    let blocks = rows("rb-carbon-scraper_biocarbon-carbon-credits.json");
    let retreats = rows("rb-carbon-scraper_biocarbon-retreats-page1.json");
    let projects = rows("rb-carbon-scraper_biocarbon-projects-page1.json");
    let cancellations = fixture("rb-carbon-scraper_biocarbon-cancellations.json");
    let paged = move |all: Vec<Value>| {
        move |headers: HeaderMap, Query(q): Query<HashMap<String, String>>| {
            let all = all.clone();
            async move {
                if let Some(error) = refused(&headers) {
                    return axum::Json(error);
                }
                let page = q.get("page").and_then(|v| v.parse().ok());
                axum::Json(laravel(&all, &q, page.is_some() && page == drop_on_page))
            }
        }
    };
    let app = Router::new()
        .route("/api/ghg/carbon-credits", get(paged(blocks)))
        .route("/api/ghg/retreats", get(paged(retreats)))
        .route("/api/ghg/projects", get(paged(projects)))
        .route(
            "/api/ghg/carbon-credits/project/{id}/cancellations",
            get(move |headers: HeaderMap, Path(id): Path<String>| {
                let cancellations = cancellations.clone();
                async move {
                    if let Some(error) = refused(&headers) {
                        return axum::Json(error);
                    }
                    axum::Json(match cancellations.get(&id) {
                        Some(response) => response.clone(),
                        None => json!({"status": 200, "data": []}),
                    })
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

fn connector(base: &str, key: Option<&str>, page_size: u32) -> BiocarbonConnector {
    let config = BiocarbonConfig {
        api_key: key.map(str::to_owned),
        page_size,
        ..BiocarbonConfig::new(base)
    };
    BiocarbonConnector::new(config, testkit::quick_http())
}

/// Every page of `feed`, at most `limit` of them.
async fn sync(c: &BiocarbonConnector, feed: Feed, limit: usize) -> Vec<Page> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        assert!(pages.len() < limit, "{feed}: more than {limit} pages");
        let page = c
            .fetch_page(feed, cursor.as_deref())
            .await
            .unwrap_or_else(|e| panic!("{feed}: {e}"));
        cursor = page.next.clone();
        pages.push(page);
        if cursor.is_none() {
            return pages;
        }
    }
}

fn normalized(c: &BiocarbonConnector, pages: &[Page]) -> Vec<Record> {
    pages
        .iter()
        .flat_map(|p| &p.records)
        .flat_map(|r| c.normalize(r).expect("normalizes"))
        .collect()
}

#[tokio::test]
async fn pages_through_issuance_blocks() {
    let base = server(None).await;
    let c = connector(&base, Some(KEY), 50);
    let pages = sync(&c, Feed::Issuances, 10).await;
    let sizes: Vec<usize> = pages.iter().map(|p| p.records.len()).collect();
    assert_eq!(sizes, vec![50, 50, 44]);
    assert_eq!(pages[1].records[0].line, 51);
    assert!(pages[2].records[0].source.contains("per_page=50&page=3"));
    let records = normalized(&c, &pages);
    assert_eq!(credits(&records).len(), 144);
    testkit::assert_unique_keys("carbon-credits", &records);
}

#[tokio::test]
async fn pages_through_retirements_and_cancellations() {
    let base = server(None).await;
    let c = connector(&base, Some(KEY), 15);
    let retirements = sync(&c, Feed::Retirements, 10).await;
    assert_eq!(retirements.len(), 3);
    assert_eq!(credits(&normalized(&c, &retirements)).len(), 40);

    // Cancellations walk the project list (5 projects, 2 a page) and ask each project.
    let c = connector(&base, Some(KEY), 2);
    let cancellations = sync(&c, Feed::Cancellations, 10).await;
    assert_eq!(cancellations.len(), 3);
    let records = normalized(&c, &cancellations);
    let mut projects: Vec<String> = credits(&records)
        .iter()
        .map(|c| c.registry_project_id.clone())
        .collect();
    projects.sort();
    // Of the five listed projects only 35 has cancellations in the sample.
    assert_eq!(projects, vec!["35", "35"]);
    assert!(cancellations.iter().flat_map(|p| &p.records).all(|r| {
        r.source
            .ends_with("/api/ghg/carbon-credits/project/35/cancellations")
    }));
}

#[tokio::test]
async fn a_missing_key_or_a_short_page_is_malformed() {
    let base = server(None).await;
    let error = connector(&base, None, 50)
        .fetch_page(Feed::Issuances, None)
        .await
        .expect_err("refused inside HTTP 200");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("x-api-key")),
        "{error}"
    );

    let base = server(Some(2)).await;
    let c = connector(&base, Some(KEY), 50);
    let first = c.fetch_page(Feed::Issuances, None).await.expect("page 1");
    let error = c
        .fetch_page(Feed::Issuances, first.next.as_deref())
        .await
        .expect_err("short page");
    assert!(matches!(error, FetchError::Malformed { .. }), "{error}");

    let error = c
        .fetch_page(Feed::Issuances, Some("0"))
        .await
        .expect_err("no page 0");
    assert!(matches!(error, FetchError::Malformed { .. }), "{error}");
}
