//! Paging through a loopback server that answers like a CADT v1 node: `page`/`limit` into
//! `{page, pageCount, data}`, an `x-api-key` check, a 500 before a page succeeds, and a node
//! that serves a short page before the last.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use axum::Router;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::get;
use carbonmesh_connector::testkit::quick_http;
use carbonmesh_connector::{Connector, Feed, FetchError, Page, Record};
use carbonmesh_connector_cadt::{CadtConfig, CadtConnector};
use serde_json::{Value, json};

use common::*;

const KEY: &str = "node-key-1";

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    /// Pages as a node serves them.
    Normal,
    /// Page 1 of the units holds fewer records than asked for although more pages follow.
    ShortPage,
}

/// Serves `records` paginated as CADT does (`pageCount = ceil(count / limit)`).
fn page_of(records: &[Value], q: &HashMap<String, String>, mode: Mode) -> Value {
    let page: usize = q
        .get("page")
        .and_then(|v| v.parse().ok())
        .unwrap_or(1)
        .max(1);
    let limit: usize = q
        .get("limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(15)
        .max(1);
    let mut data: Vec<Value> = records
        .iter()
        .skip((page - 1) * limit)
        .take(limit)
        .cloned()
        .collect();
    if mode == Mode::ShortPage && page == 1 {
        data.truncate(1);
    }
    paginated(page as u64, records.len().div_ceil(limit) as u64, data)
}

/// The server, and how many requests asked for page 2 of the units.
async fn server(mode: Mode) -> (String, Arc<AtomicU32>) {
    let page_two = Arc::new(AtomicU32::new(0));
    let counter = page_two.clone();
    let authorized = |h: &HeaderMap| h.get("x-api-key").and_then(|v| v.to_str().ok()) == Some(KEY);
    let app = Router::new()
        .route(
            CadtConfig::PROJECTS_PATH,
            get(
                move |h: HeaderMap, Query(q): Query<HashMap<String, String>>| async move {
                    if !authorized(&h) {
                        return (
                            StatusCode::UNAUTHORIZED,
                            json!({"message": "unauthorized"}).to_string(),
                        );
                    }
                    (StatusCode::OK, page_of(&projects(), &q, mode).to_string())
                },
            ),
        )
        .route(
            CadtConfig::UNITS_PATH,
            get(
                move |h: HeaderMap, Query(q): Query<HashMap<String, String>>| {
                    let counter = counter.clone();
                    async move {
                        if !authorized(&h) {
                            return (
                                StatusCode::UNAUTHORIZED,
                                json!({"message": "unauthorized"}).to_string(),
                            );
                        }
                        // The first request for page 2 meets a failing node; the retry succeeds.
                        if q.get("page").map(String::as_str) == Some("2")
                            && counter.fetch_add(1, Ordering::SeqCst) == 0
                        {
                            return (
                                StatusCode::INTERNAL_SERVER_ERROR,
                                "sync in progress".to_owned(),
                            );
                        }
                        (StatusCode::OK, page_of(&units(), &q, mode).to_string())
                    }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{address}"), page_two)
}

fn connector(base: &str, key: Option<&str>) -> CadtConnector {
    let config = CadtConfig {
        api_key: key.map(str::to_owned),
        page_limit: 2,
        ..CadtConfig::new(base)
    };
    CadtConnector::new(config, quick_http())
}

/// Every page of `feed`, at most `bound` requests.
async fn walk(c: &CadtConnector, feed: Feed, bound: usize) -> Result<Vec<Page>, FetchError> {
    let mut pages = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..bound {
        let page = c.fetch_page(feed, cursor.as_deref()).await?;
        cursor = page.next.clone();
        pages.push(page);
        if cursor.is_none() {
            return Ok(pages);
        }
    }
    panic!("{feed} did not end within {bound} pages");
}

#[tokio::test]
async fn pages_through_units_and_projects_past_a_failing_request() {
    let (base, page_two) = server(Mode::Normal).await;
    let c = connector(&base, Some(KEY));
    assert_eq!(c.feeds(), &[Feed::Projects, Feed::Transactions]);

    let pages = walk(&c, Feed::Transactions, 10).await.expect("units");
    let sizes: Vec<usize> = pages.iter().map(|p| p.records.len()).collect();
    assert_eq!(sizes, vec![2, 2, 2]);
    assert_eq!(
        page_two.load(Ordering::SeqCst),
        2,
        "page 2 failed once, then was retried"
    );
    let lines: Vec<u64> = pages
        .iter()
        .flat_map(|p| p.records.iter().map(|r| r.line))
        .collect();
    assert_eq!(lines, vec![1, 2, 3, 4, 5, 6]);
    assert!(
        pages[0].records[0]
            .source
            .contains("/v1/units?page=1&limit=2")
    );
    let keys: Vec<String> = pages
        .iter()
        .flat_map(|p| &p.records)
        .flat_map(|r| c.normalize(r).expect("normalizes"))
        .filter_map(|r| match r {
            Record::Credit(c) => Some(c.record_key),
            Record::Project(_) => None,
        })
        .collect();
    assert_eq!(
        keys,
        ["u-1", "u-2", "u-3", "u-4", "u-5", "u-6"].map(|u| format!("unit:{u}"))
    );

    let pages = walk(&c, Feed::Projects, 10).await.expect("projects");
    let sizes: Vec<usize> = pages.iter().map(|p| p.records.len()).collect();
    assert_eq!(sizes, vec![2, 1]);
    assert_eq!(pages[1].next, None);
}

#[tokio::test]
async fn a_short_page_before_the_last_is_malformed() {
    let (base, _) = server(Mode::ShortPage).await;
    let c = connector(&base, Some(KEY));
    let error = walk(&c, Feed::Transactions, 10).await.expect_err("short");
    match error {
        FetchError::Malformed { reason, url } => {
            assert!(reason.contains("short page"), "{reason}");
            assert!(url.contains("page=1"), "{url}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
}

#[tokio::test]
async fn a_node_refusing_the_key_is_a_status_error() {
    let (base, _) = server(Mode::Normal).await;
    let error = connector(&base, None)
        .fetch_page(Feed::Projects, None)
        .await
        .expect_err("no key");
    assert!(
        matches!(
            error,
            FetchError::Status {
                status: 401,
                attempts: 1,
                ..
            }
        ),
        "{error}"
    );
}

#[tokio::test]
async fn bad_cursors_and_missing_lists_are_refused_without_a_request() {
    let c = connector("http://127.0.0.1:9", None);
    for (feed, cursor) in [
        (Feed::Transactions, Some("0")),
        (Feed::Transactions, Some("x")),
        (Feed::Retirements, None),
    ] {
        let error = c.fetch_page(feed, cursor).await.expect_err("refused");
        assert!(matches!(error, FetchError::Malformed { .. }), "{error}");
    }
    // A connector that names no node reads files only, and says why it cannot fetch.
    let files_only = CadtConnector::new(CadtConfig::files_only(), quick_http());
    let error = files_only
        .fetch_page(Feed::Transactions, None)
        .await
        .expect_err("no node");
    assert!(
        error.to_string().contains("no CAD Trust node to read"),
        "{error}"
    );
    assert_eq!(CadtConfig::files_only().page_url(Feed::Projects, 1), None);
    let config = CadtConfig {
        org_uid: Some(ORG.to_owned()),
        ..CadtConfig::new("http://node:31310/")
    };
    assert_eq!(
        config.page_url(Feed::Projects, 3).as_deref(),
        Some(format!("http://node:31310/v1/projects?page=3&limit=100&orgUid={ORG}").as_str())
    );
}
