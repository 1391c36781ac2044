//! CAR routes: the APX report pages and their bulk CSV download.
//!
//! As on `thereserve2.apx.com`, a client first GETs `myrpt.asp?r=<report>`, reads the hidden
//! form fields (including the `c16e` token), then POSTs them to `rptdownload.asp` with
//! `FormatType=csv` to receive the whole report as CSV. Faults and counters apply to the
//! download.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use super::{AppState, csv_response};
use crate::feeds::Feed;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/myModule/rpt/myrpt.asp", get(report_page))
        .route("/myModule/include/rptdownload.asp", post(download))
}

fn report_feed(report: &str) -> Option<Feed> {
    match report {
        "111" => Some(Feed::CarProjects),
        "112" => Some(Feed::CarIssuances),
        "206" => Some(Feed::CarRetirements),
        "308" => Some(Feed::CarCancellations),
        _ => None,
    }
}

/// The anti-forgery token the page injects; fixed per data set so runs are reproducible.
fn token(state: &AppState) -> String {
    format!(
        "{:016x}",
        state.dataset.seed().wrapping_mul(0x9e37_79b9_7f4a_7c15)
    )
}

async fn report_page(
    State(state): State<Arc<AppState>>,
    Query(query): Query<HashMap<String, String>>,
) -> Response {
    let Some(report) = query.get("r").filter(|r| report_feed(r).is_some()) else {
        return (StatusCode::OK, Html("Invalid report")).into_response();
    };
    let fields = [
        ("c16e", token(&state)),
        ("myFilter", String::new()),
        ("Data", String::new()),
        ("Title", format!("Report {report}")),
        ("Exclude", String::new()),
        ("Columns", String::new()),
        ("Masks", String::new()),
        ("ClassMasks", String::new()),
        ("Headings", String::new()),
        ("Parameters", format!("r={report}")),
        ("ParametersOriginal", format!("r={report}")),
        ("SortORder", String::new()),
        ("FormatType", "csv".to_string()),
        ("ReplaceExpression", String::new()),
        ("ReplaceValue", String::new()),
    ];
    let inputs: String = fields
        .iter()
        .map(|(name, value)| format!("<input type=\"hidden\" name=\"{name}\" value=\"{value}\">\n"))
        .collect();
    Html(format!(
        "<html><body><form id=\"rptdownload\" method=\"post\" action=\"/myModule/include/rptdownload.asp\">\n{inputs}</form></body></html>"
    ))
    .into_response()
}

async fn download(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
    let form: HashMap<String, String> = String::from_utf8_lossy(&body)
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.to_string(), v.replace("%3D", "=").replace("%3d", "=")))
        .collect();
    if form.get("c16e") != Some(&token(&state)) {
        return (StatusCode::FORBIDDEN, "Invalid request").into_response();
    }
    let feed = form
        .get("Parameters")
        .and_then(|p| p.strip_prefix("r="))
        .and_then(report_feed);
    let (Some(feed), Some("csv")) = (feed, form.get("FormatType").map(String::as_str)) else {
        return (StatusCode::BAD_REQUEST, "unknown report").into_response();
    };
    match state.admit(feed, 0).await {
        Ok(decision) => {
            let total = state.dataset.len(feed);
            csv_response(Arc::clone(&state.dataset), feed, 0, total, &decision)
        }
        Err(rejection) => rejection,
    }
}
