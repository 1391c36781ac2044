//! `fetch_page` against a loopback server that answers like `registry.puro.earth`: HTML pages
//! whose records sit in the Next.js server-component stream.

use axum::Router;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse};
use axum::routing::get;
use carbonmesh_connector::testkit::{self, credits};
use carbonmesh_connector::{Connector, Feed, FetchError, Record};
use carbonmesh_connector_puro::{PuroConfig, PuroConnector};
use serde_json::{Value, json};

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/puro-earth/"
);

fn items(name: &str) -> Vec<Value> {
    match serde_json::from_slice(&testkit::read_fixture(DIR, name)) {
        Ok(Value::Array(items)) => items,
        other => panic!("{name} is not a JSON array: {other:?}"),
    }
}

/// A page embedding `items` as the registry does: the stream cut into pushes of 500 chars.
fn page(items: &[Value]) -> String {
    let stream = format!(
        "0:[\"$\",\"html\",null,{{}}]\n2:[\"$\",\"section\",null,{}]\n",
        json!({ "data": items })
    );
    let chars: Vec<char> = stream.chars().collect();
    let mut html = String::from("<!DOCTYPE html><html><head></head><body>");
    html.push_str("<script>(self.__next_f=self.__next_f||[]).push([0])</script>");
    for chunk in chars.chunks(500) {
        let chunk: String = chunk.iter().collect();
        html.push_str(&format!(
            "<script>self.__next_f.push({})</script>",
            json!([1, chunk])
        ));
    }
    html.push_str("</body></html>");
    html
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Real,
    /// A page without the records (maintenance, a changed front end).
    NoData,
    /// A persistent server error.
    Error,
}

async fn server(mode: Mode) -> String {
    let serve = move |name: &'static str| {
        let body = page(&items(name));
        move || {
            let body = body.clone();
            async move {
                match mode {
                    Mode::Real => Html(body).into_response(),
                    Mode::NoData => {
                        Html("<html><body>Down for maintenance</body></html>").into_response()
                    }
                    Mode::Error => StatusCode::INTERNAL_SERVER_ERROR.into_response(),
                }
            }
        }
    };
    let app = Router::new()
        .route(
            "/projects",
            get(serve("rb-carbon-scraper_puro-projects.json")),
        )
        .route(
            "/issuances",
            get(serve("rb-carbon-scraper_puro-issuances.json")),
        )
        .route(
            "/retirements",
            get(serve("rb-carbon-scraper_puro-retirements.json")),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn connector(base: &str) -> PuroConnector {
    PuroConnector::new(PuroConfig::new(base), testkit::quick_http())
}

#[tokio::test]
async fn syncs_every_feed_from_the_pages() {
    let base = server(Mode::Real).await;
    let c = connector(&base);
    let mut fetched = Vec::new();
    for &feed in c.feeds() {
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        // The registry does not page: one page per feed. The loop is bounded all the same.
        loop {
            pages += 1;
            assert!(pages <= 3, "{feed}: too many pages");
            let page = c
                .fetch_page(feed, cursor.as_deref())
                .await
                .unwrap_or_else(|e| panic!("{feed}: {e}"));
            assert!(page.unreadable.is_empty());
            fetched.push((feed, page.records.clone()));
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
        assert_eq!(pages, 1, "{feed}");
    }
    let count = |feed: Feed| -> usize {
        fetched
            .iter()
            .filter(|(f, _)| *f == feed)
            .map(|(_, r)| r.len())
            .sum()
    };
    assert_eq!(count(Feed::Projects), 6);
    assert_eq!(count(Feed::Issuances), 11);
    assert_eq!(count(Feed::Retirements), 45);
    let retirements = &fetched
        .iter()
        .find(|(f, _)| *f == Feed::Retirements)
        .expect("retirements")
        .1;
    assert_eq!(retirements[0].source, format!("{base}/retirements"));
    assert_eq!(retirements[44].line, 45);
    let records: Vec<Record> = retirements
        .iter()
        .flat_map(|r| c.normalize(r).expect("normalizes"))
        .collect();
    assert_eq!(credits(&records).len(), 57);
}

#[tokio::test]
async fn a_page_without_records_or_an_error_is_not_a_sync() {
    let base = server(Mode::NoData).await;
    let error = connector(&base)
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("no records");
    assert!(matches!(error, FetchError::Malformed { .. }), "{error}");

    let base = server(Mode::Error).await;
    let error = connector(&base)
        .fetch_page(Feed::Issuances, None)
        .await
        .expect_err("error status");
    assert!(
        matches!(error, FetchError::Status { status: 500, .. }),
        "{error}"
    );

    let error = connector(&base)
        .fetch_page(Feed::Cancellations, None)
        .await
        .expect_err("no such page");
    assert!(matches!(error, FetchError::Malformed { .. }), "{error}");
}
