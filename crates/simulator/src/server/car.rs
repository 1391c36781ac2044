//! CAR routes: the APX report pages and their bulk CSV download.
//!
//! As on `thereserve2.apx.com`, a client first GETs `myrpt.asp?r=<report>`, which sets the ASP
//! session cookie, reads the hidden form fields (including the `c16e` token), then POSTs them
//! form-encoded to `rptdownload.asp` with `FormatType=csv` and the session cookie to receive the
//! whole report as CSV. A download without the token or the cookie is refused (403). Faults and
//! counters apply to the download.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};

use super::acr::parse_form;
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

/// The ASP session cookie's name, as Classic ASP names it (a random suffix per application).
const SESSION_COOKIE: &str = "ASPSESSIONIDQSCTRBRA";

/// The session id the report page hands out; fixed per data set, like the token.
fn session(state: &AppState) -> String {
    format!(
        "{:024X}",
        u128::from(state.dataset.seed().wrapping_mul(0xc2b2_ae3d_27d4_eb4f))
    )
}

/// Whether the request carries the session cookie the report page set.
fn has_session(state: &AppState, headers: &HeaderMap) -> bool {
    let expected = session(state);
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .any(|(name, value)| name == SESSION_COOKIE && value == expected)
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
    let mut response = Html(format!(
        "<html><body><form id=\"rptdownload\" method=\"post\" action=\"/myModule/include/rptdownload.asp\">\n{inputs}</form></body></html>"
    ))
    .into_response();
    if let Ok(cookie) =
        HeaderValue::from_str(&format!("{SESSION_COOKIE}={}; path=/", session(&state)))
    {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

async fn download(State(state): State<Arc<AppState>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = parse_form(&body);
    if form.get("c16e") != Some(&token(&state)) || !has_session(&state, &headers) {
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
