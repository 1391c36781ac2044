//! `fetch_page` against a small registry on loopback, once per pagination style. Every walk is
//! bounded: a connector that never stops paging fails the test instead of hanging it.

use std::collections::HashMap;

use axum::Router;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::routing::get;
use carbonmesh_connector::testkit::quick_http;
use carbonmesh_connector::{Connector, Feed, FetchError, Record};
use carbonmesh_connector_generic::GenericConnector;
use serde_json::{Value, json};

/// Seven retirements: serials `FT-1-<n>-<n>`, one unit each.
const N: usize = 7;

fn item(i: usize) -> Value {
    json!({"id": i, "project": "FT1", "amount": 1, "serial": format!("FT-1-{i}-{i}")})
}

fn items(from: usize, count: usize) -> Vec<Value> {
    (from..(from + count).min(N)).map(item).collect()
}

fn number(q: &HashMap<String, String>, name: &str, default: usize) -> usize {
    q.get(name).and_then(|v| v.parse().ok()).unwrap_or(default)
}

async fn serve() -> String {
    let app = Router::new()
        .route(
            "/none",
            get(|| async { axum::Json(json!({"data": items(0, N)})) }),
        )
        .route(
            "/offset",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let (offset, limit) = (number(&q, "skip", 0), number(&q, "take", 100));
                axum::Json(json!({"data": items(offset, limit), "meta": {"total": N}}))
            }),
        )
        .route(
            "/page",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let (page, size) = (number(&q, "p", 0), number(&q, "per_page", 100));
                axum::Json(json!({"data": items(page * size, size)}))
            }),
        )
        .route(
            "/next",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let at = number(&q, "after", 0);
                let next = (at + 3 < N).then(|| format!("next?after={}", at + 3));
                axum::Json(json!({"page": {"items": items(at, 3)}, "links": {"next": next}}))
            }),
        )
        .route(
            "/csv",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                let (offset, limit) = (number(&q, "offset", 0), number(&q, "limit", 100));
                let mut body = String::from("Project,Amount,Serial\n");
                for i in offset..(offset + limit).min(N) {
                    body.push_str(&format!("FT1,1,FT-1-{i}-{i}\n"));
                }
                body
            }),
        )
        .route(
            "/short",
            get(|| async { axum::Json(json!({"data": items(0, 2), "meta": {"total": N}})) }),
        )
        .route(
            "/loop",
            get(|| async {
                axum::Json(json!({"page": {"items": items(0, 3)}, "links": {"next": "loop"}}))
            }),
        )
        .route(
            "/error",
            get(|| async { (StatusCode::NOT_FOUND, "no such feed") }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn connector(
    base: &str,
    pagination: &str,
    path: &str,
    format: &str,
    records: &str,
) -> GenericConnector {
    let toml = format!(
        r#"
registry = "fetch-test"
[source]
type = "http"
base_url = "{base}"
headers = {{ Accept = "application/json" }}
max_pages = 50
pagination = {pagination}
[serial]
regex = '^(?P<namespace>FT-\d+)-(?P<start>\d+)-(?P<end>\d+)$'
[feeds.retirements]
format = "{format}"
path = "{path}"
{records}
transaction = {{ fixed = "retirement" }}
[feeds.retirements.fields]
project_id = ["project", "Project"]
quantity = ["amount", "Amount"]
serial = ["serial", "Serial"]
"#
    );
    GenericConnector::from_toml("fetch.toml", &toml, quick_http()).unwrap_or_else(|e| panic!("{e}"))
}

/// Walks every page (at most 20), returning the serials read and the number of pages.
async fn walk(c: &GenericConnector) -> (Vec<String>, usize) {
    let mut serials = Vec::new();
    let mut cursor: Option<String> = None;
    for pages in 1..=20 {
        let page = c
            .fetch_page(Feed::Retirements, cursor.as_deref())
            .await
            .unwrap_or_else(|e| panic!("page {pages}: {e}"));
        assert!(page.unreadable.is_empty());
        for raw in &page.records {
            for record in c.normalize(raw).unwrap_or_else(|e| panic!("{e}")) {
                let Record::Credit(credit) = record else {
                    panic!("a project in a credit feed");
                };
                assert_eq!(credit.serial_range.as_ref().map(|r| r.quantity()), Some(1));
                serials.push(credit.serial.unwrap_or_default());
            }
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => return (serials, pages),
        }
    }
    panic!("still paging after 20 pages");
}

fn expected() -> Vec<String> {
    (0..N).map(|i| format!("FT-1-{i}-{i}")).collect()
}

#[tokio::test]
async fn no_pagination_is_one_request() {
    let base = serve().await;
    let c = connector(
        &base,
        "{ style = \"none\" }",
        "/none",
        "json",
        "records = \"data\"",
    );
    assert_eq!(walk(&c).await, (expected(), 1));
}

#[tokio::test]
async fn offset_and_limit_follow_the_announced_total() {
    let base = serve().await;
    let c = connector(
        &base,
        "{ style = \"offset\", offset_param = \"skip\", limit_param = \"take\", page_size = 3 }",
        "/offset",
        "json",
        "records = \"data\"\ntotal = \"meta.total\"",
    );
    assert_eq!(walk(&c).await, (expected(), 3));
    // Record numbers run on across pages.
    let page = c
        .fetch_page(Feed::Retirements, Some("3"))
        .await
        .expect("page");
    assert_eq!(page.records.first().map(|r| r.line), Some(4));
    assert!(page.records[0].source.ends_with("/offset?skip=3&take=3"));
}

#[tokio::test]
async fn page_numbers_stop_at_the_first_short_page() {
    let base = serve().await;
    let c = connector(
        &base,
        "{ style = \"page\", page_param = \"p\", size_param = \"per_page\", page_size = 3, first_page = 0 }",
        "/page",
        "json",
        "records = \"data\"",
    );
    assert_eq!(walk(&c).await, (expected(), 3));
    // Without a total, a feed that fills its last page ends on an empty one.
    let c = connector(
        &base,
        "{ style = \"page\", page_param = \"p\", size_param = \"per_page\", page_size = 7, first_page = 0 }",
        "/page",
        "json",
        "records = \"data\"",
    );
    assert_eq!(walk(&c).await, (expected(), 2));
}

#[tokio::test]
async fn next_links_are_followed_relative_to_the_page() {
    let base = serve().await;
    let c = connector(
        &base,
        "{ style = \"next-link\", next = \"links.next\" }",
        "/next",
        "json",
        "records = \"page.items\"",
    );
    assert_eq!(walk(&c).await, (expected(), 3));
}

#[tokio::test]
async fn csv_pages_use_offsets_too() {
    let base = serve().await;
    let c = connector(
        &base,
        "{ style = \"offset\", page_size = 2 }",
        "/csv",
        "csv",
        "",
    );
    assert_eq!(walk(&c).await, (expected(), 4));
}

#[tokio::test]
async fn short_pages_self_links_caps_and_errors_make_the_run_incomplete() {
    let base = serve().await;
    let c = connector(
        &base,
        "{ style = \"offset\", page_size = 3 }",
        "/short",
        "json",
        "records = \"data\"\ntotal = \"meta.total\"",
    );
    let e = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("short");
    assert!(
        matches!(&e, FetchError::Malformed { reason, .. } if reason.contains("announces 3")),
        "{e}"
    );
    let e = c
        .fetch_page(Feed::Retirements, Some("150"))
        .await
        .expect_err("past the cap");
    assert!(
        matches!(&e, FetchError::Malformed { reason, .. } if reason.contains("cap")),
        "{e}"
    );
    let e = c
        .fetch_page(Feed::Retirements, Some("three"))
        .await
        .expect_err("bad cursor");
    assert!(
        matches!(&e, FetchError::Malformed { reason, .. } if reason.contains("three")),
        "{e}"
    );
    let e = c
        .fetch_page(Feed::Issuances, None)
        .await
        .expect_err("no such feed");
    assert!(e.to_string().contains("no issuances feed"), "{e}");

    let c = connector(
        &base,
        "{ style = \"next-link\", next = \"links.next\" }",
        "/loop",
        "json",
        "records = \"page.items\"",
    );
    let e = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("loop");
    assert!(e.to_string().contains("same page"), "{e}");

    let c = connector(
        &base,
        "{ style = \"none\" }",
        "/error",
        "json",
        "records = \"data\"",
    );
    let e = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("404");
    assert!(matches!(e, FetchError::Status { status: 404, .. }), "{e}");

    let c = connector(
        &base,
        "{ style = \"none\" }",
        "/none",
        "json",
        "records = \"items\"",
    );
    let e = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("no array");
    assert!(
        e.to_string().contains("no array of records at `items`"),
        "{e}"
    );
}

#[tokio::test]
async fn a_files_only_registry_does_not_fetch() {
    let c = GenericConnector::from_toml(
        "files.toml",
        r#"
registry = "files-only-test"
[feeds.retirements]
format = "csv"
transaction = { fixed = "retirement" }
key = "r:{project_id}:{quantity}"
[feeds.retirements.fields]
project_id = "P"
quantity = "Q"
"#,
        quick_http(),
    )
    .expect("config");
    let e = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("files only");
    assert!(e.to_string().contains("files only"), "{e}");
}
