//! Puro.earth routes: the registry's Next.js pages `/projects` (reached through the Gold
//! Standard route of the same path when no `page`/`size` is given), `/issuances` and
//! `/retirements`, each embedding every record in its server-component stream. No paging.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use axum::routing::get;

use super::{AppState, entities, served_rows};
use crate::feeds::Feed;
use crate::formats::puro::page_html;

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route(
            "/issuances",
            get(|State(state): State<Arc<AppState>>| page(state, Feed::PuroIssuances)),
        )
        .route(
            "/retirements",
            get(|State(state): State<Arc<AppState>>| page(state, Feed::PuroRetirements)),
        )
}

/// One whole page; a truncated body stops half way through the HTML.
pub(crate) async fn page(state: Arc<AppState>, feed: Feed) -> Response {
    let decision = match state.admit(feed, 0).await {
        Ok(d) => d,
        Err(rejection) => return rejection,
    };
    let total = state.dataset.len(feed);
    let (from, to) = served_rows(0, total, &decision);
    let records = entities(&state.dataset, feed, from, to);
    let title = match feed {
        Feed::PuroProjects => "Projects | Puro Registry",
        Feed::PuroIssuances => "Issuances | Puro Registry",
        _ => "Retirements | Puro Registry",
    };
    let mut html = page_html(title, &records);
    if decision.truncate_body {
        let mut cut = html.len() / 2;
        while !html.is_char_boundary(cut) {
            cut -= 1;
        }
        html.truncate(cut);
    }
    let mut response = Response::new(Body::from(html));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}
