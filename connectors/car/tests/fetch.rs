//! `fetch_page` against a loopback server that answers like CAR's APX report page and its
//! bulk download.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::time::Duration;

use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Form, Router};
use carbonmesh_connector::{Connector, Feed, FetchError, HttpClient, HttpPolicy};
use carbonmesh_connector_car::{CarConfig, CarConnector};

const RETIREMENTS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/fixtures/registries/climate-action-reserve/offsets-db-data_retirements.csv"
);

/// The report page of report 206, in the markup APX uses: upper-case tags, mixed quoting.
const PAGE: &str = r#"<HTML><BODY>
<FORM NAME="rptdownload" METHOD="post" ACTION="/myModule/include/rptdownload.asp">
<INPUT TYPE="hidden" NAME="c16e" VALUE="9f2c">
<input type=hidden name=Parameters value="r=206">
<input type='hidden' name='Title' value='Retired &amp; Offset Credits'>
<input type="hidden" name="SortORder" value="">
<input type="hidden" name="FormatType" value="html">
</FORM></BODY></HTML>"#;

/// Serves report 206: the page sets a session cookie; the download needs the token, the
/// cookie and `FormatType=csv`, and returns the fixture whole or cut `cut` bytes before its end.
async fn server(cut: usize) -> String {
    let bytes = std::fs::read(RETIREMENTS)
        .unwrap_or_else(|e| panic!("fixture {RETIREMENTS} is missing ({e})"));
    let body = bytes[..bytes.len() - cut].to_vec();
    let app = Router::new()
        .route(
            "/myModule/rpt/myrpt.asp",
            get(|Query(q): Query<HashMap<String, String>>| async move {
                if q.get("r").map(String::as_str) != Some("206") {
                    return (
                        StatusCode::OK,
                        HeaderMap::new(),
                        "Invalid report".to_owned(),
                    );
                }
                let mut headers = HeaderMap::new();
                headers.insert(
                    "set-cookie",
                    "ASPSESSIONIDAB=S1; path=/".parse().expect("header"),
                );
                (StatusCode::OK, headers, PAGE.to_owned())
            }),
        )
        .route(
            "/myModule/include/rptdownload.asp",
            post(
                move |headers: HeaderMap, Form(f): Form<HashMap<String, String>>| {
                    let body = body.clone();
                    async move {
                        let field = |k: &str| f.get(k).map(String::as_str);
                        let cookie = headers.get("cookie").and_then(|v| v.to_str().ok());
                        let ok = field("c16e") == Some("9f2c")
                            && field("Parameters") == Some("r=206")
                            && field("Title") == Some("Retired & Offset Credits")
                            && field("SortORder") == Some("")
                            && field("FormatType") == Some("csv")
                            && cookie == Some("ASPSESSIONIDAB=S1");
                        if ok {
                            (StatusCode::OK, body)
                        } else {
                            (StatusCode::FORBIDDEN, b"Invalid request".to_vec())
                        }
                    }
                },
            ),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{address}")
}

fn connector(base: &str) -> CarConnector {
    let policy = HttpPolicy {
        timeout: Duration::from_secs(5),
        max_attempts: 2,
        min_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(20),
        max_retry_after: Duration::from_secs(1),
        requests_per_second: NonZeroU32::new(100).expect("non-zero"),
        ..HttpPolicy::default()
    };
    CarConnector::new(
        CarConfig::new(base),
        HttpClient::new(policy).expect("client"),
    )
}

#[tokio::test]
async fn the_report_downloads_as_one_page() {
    let c = connector(&server(0).await);
    let page = c.fetch_page(Feed::Retirements, None).await.expect("page");
    assert_eq!(page.records.len(), 70);
    assert!(page.unreadable.is_empty());
    assert_eq!(page.next, None);
    for raw in &page.records {
        c.normalize(raw).expect("normalizes");
    }
}

#[tokio::test]
async fn a_download_cut_mid_row_is_malformed() {
    let c = connector(&server(40).await);
    let error = c
        .fetch_page(Feed::Retirements, None)
        .await
        .expect_err("truncated");
    match error {
        FetchError::Malformed { reason, url } => {
            assert!(reason.contains("truncated"), "{reason}");
            assert!(url.ends_with("/myModule/rpt/myrpt.asp?r=206"), "{url}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
}

#[tokio::test]
async fn a_report_page_without_a_token_is_malformed() {
    // The server knows report 206 only: the projects page has no form.
    let c = connector(&server(0).await);
    let error = c
        .fetch_page(Feed::Projects, None)
        .await
        .expect_err("no token");
    match error {
        FetchError::Malformed { reason, .. } => {
            assert!(reason.contains("`c16e`"), "{reason}");
            assert!(reason.contains("Invalid report"), "{reason}");
        }
        other => panic!("expected Malformed, got {other}"),
    }
}
