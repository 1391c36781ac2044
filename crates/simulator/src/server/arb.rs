//! California ARB route: the offset credit issuance table, sheet 3, as one CSV.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;

use super::{AppState, csv_response};
use crate::feeds::Feed;

/// The real table is an XLSX linked from this page; the simulator serves sheet 3 as CSV here.
pub(crate) const PATH: &str = "/resources/documents/arb-offset-credit-issuance-table";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new().route(PATH, get(issuance_table))
}

async fn issuance_table(State(state): State<Arc<AppState>>) -> Response {
    let feed = Feed::ArbIssuances;
    match state.admit(feed, 0).await {
        Ok(decision) => {
            let total = state.dataset.len(feed);
            csv_response(Arc::clone(&state.dataset), feed, 0, total, &decision)
        }
        Err(rejection) => rejection,
    }
}
