//! `fetch_page` against a loopback server that answers like the EcoRegistry front-end API:
//! the `platform` and `lng` headers are required (a refusal arrives inside an HTTP 200), a
//! wrong `Origin` is a 500, and every feed is one response.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use carbonmesh_connector::testkit::{self, quick_http};
use carbonmesh_connector::{Connector, Feed, FetchError, Page};
use carbonmesh_connector_cercarbono::{CercarbonoConfig, CercarbonoConnector};
use serde_json::{Value, json};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/cercarbono/"
);

fn fixture_json(name: &str) -> Value {
    serde_json::from_slice(&testkit::read_fixture(DIR, name)).expect("json")
}

/// `analytics/projects` as the API shapes it, built from the issuance sample: one project
/// per code, its batches in `serials[]`.
fn analytics_projects() -> Value {
    let bytes = testkit::read_fixture(DIR, "offsets-db-data_issuances.csv");
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let mut projects: Vec<(String, Vec<Value>)> = Vec::new();
    for row in reader.records() {
        let row = row.expect("row");
        let serial = row[1].to_owned();
        let code = serial.split('_').nth(1).expect("project").to_owned();
        let item = json!({
            "verification": row[0].parse::<u32>().expect("verification"),
            "serial": serial,
            "issued_quantity": row[2].parse::<u64>().expect("quantity"),
            "issuance_date": &row[3],
            "year": row[4].parse::<i32>().expect("year"),
            "is_buffer": &row[5] == "True",
            "vintage_of_credits": &row[6],
            "global_goals": [],
            "elegible": [{"description": "Voluntary compensation", "code": "CV"}],
        });
        match projects.iter_mut().find(|(c, _)| *c == code) {
            Some((_, serials)) => serials.push(item),
            None => projects.push((code, vec![item])),
        }
    }
    let items: Vec<Value> = projects
        .into_iter()
        .map(|(id, serials)| {
            json!({"id": id.parse::<u32>().expect("id"), "name": format!("Project {id}"),
                   "standard": "Carbono", "stage": "Certified", "locations": [], "serials": serials})
        })
        .collect();
    json!({ "project": items })
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// As the API answers.
    Normal,
    /// Every request is refused inside an HTTP 200.
    Refuse,
    /// The retirement ledger stops mid-body.
    Cut,
}

/// The server, and how many requests reached the retirement route.
async fn server(mode: Mode) -> (String, Arc<AtomicU32>) {
    let hits = Arc::new(AtomicU32::new(0));
    let answer = move |headers: HeaderMap, body: Value, cut: bool| {
        let ok = headers.get("platform").and_then(|v| v.to_str().ok()) == Some("ecoregistry")
            && headers.get("lng").is_some();
        let origin = headers.get("origin").and_then(|v| v.to_str().ok());
        if origin != Some(CercarbonoConfig::ORIGIN) {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal Server Error".to_owned(),
            );
        }
        if !ok || mode == Mode::Refuse {
            let refusal = json!({"status": 0, "codeMessages": [{"codeMessage": "ERROR_401",
                "param": "invalid", "message": "No autorizado"}]});
            return (StatusCode::OK, refusal.to_string());
        }
        let mut text = body.to_string();
        if cut {
            text.truncate(text.len() / 2);
        }
        (StatusCode::OK, text)
    };
    let projects = fixture_json("rb-carbon-scraper_cercarbono-projects.json");
    let analytics = analytics_projects();
    let retirements = fixture_json("rb-carbon-scraper_cercarbono-retirements.json");
    let counter = hits.clone();
    let app = Router::new()
        .route(
            CercarbonoConfig::PROJECTS_PATH,
            get(move |h: HeaderMap| {
                let body = projects.clone();
                async move { answer(h, body, false) }
            }),
        )
        .route(
            CercarbonoConfig::ISSUANCES_PATH,
            get(move |h: HeaderMap| {
                let body = analytics.clone();
                async move { answer(h, body, false) }
            }),
        )
        .route(
            CercarbonoConfig::RETIREMENTS_PATH,
            get(move |h: HeaderMap| {
                let body = retirements.clone();
                let n = counter.fetch_add(1, Ordering::SeqCst);
                async move {
                    // The first request fails with a 500; the client retries.
                    if n == 0 {
                        return (StatusCode::INTERNAL_SERVER_ERROR, "busy".to_owned());
                    }
                    answer(h, body, mode == Mode::Cut)
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), hits)
}

fn connector(base: &str) -> CercarbonoConnector {
    CercarbonoConnector::new(CercarbonoConfig::new(base), quick_http())
}

/// Every page of `feed`, with a bound on the number of requests.
async fn walk(c: &CercarbonoConnector, feed: Feed) -> Result<Vec<Page>, FetchError> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..5 {
        let page = c.fetch_page(feed, cursor.as_deref()).await?;
        cursor = page.next.clone();
        pages.push(page);
        if cursor.is_none() {
            return Ok(pages);
        }
    }
    panic!("{feed} did not end within 5 pages");
}

#[tokio::test]
async fn every_feed_is_one_page_and_normalizes() {
    let (base, hits) = server(Mode::Normal).await;
    let c = connector(&base);
    assert_eq!(
        c.feeds(),
        &[Feed::Projects, Feed::Issuances, Feed::Retirements]
    );
    for (feed, expected) in [
        (Feed::Projects, 5),
        (Feed::Issuances, 70),
        (Feed::Retirements, 24),
    ] {
        let pages = walk(&c, feed).await.expect("pages");
        assert_eq!(pages.len(), 1, "{feed}");
        let page = &pages[0];
        assert_eq!(page.records.len(), expected, "{feed}");
        assert!(page.unreadable.is_empty());
        for raw in &page.records {
            assert!(raw.source.starts_with(&base), "{}", raw.source);
            c.normalize(raw).expect("normalizes");
        }
    }
    // The retirement ledger answered 500 once, then the retry succeeded.
    assert_eq!(hits.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn a_refusal_inside_http_200_is_malformed_not_empty() {
    let (base, _) = server(Mode::Refuse).await;
    let error = connector(&base)
        .fetch_page(Feed::Projects, None)
        .await
        .expect_err("refused");
    match error {
        FetchError::Malformed { reason, url } => {
            assert!(reason.contains("ERROR_401"), "{reason}");
            assert!(url.ends_with(CercarbonoConfig::PROJECTS_PATH), "{url}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
}

#[tokio::test]
async fn a_cut_ledger_is_malformed() {
    let (base, _) = server(Mode::Cut).await;
    let error = connector(&base)
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("cut");
    assert!(
        matches!(&error, FetchError::Malformed { reason, .. } if reason.contains("not valid JSON")),
        "{error}"
    );
}

#[tokio::test]
async fn feeds_the_api_lacks_are_refused_without_a_request() {
    let c = connector("http://127.0.0.1:9");
    let error = c
        .fetch_page(Feed::Cancellations, None)
        .await
        .expect_err("no feed");
    assert!(matches!(error, FetchError::Malformed { .. }), "{error}");
    assert_eq!(
        CercarbonoConfig::default().base_url,
        CercarbonoConfig::PRODUCTION_URL
    );
}
