//! Cercarbono routes: EcoRegistry's front-end API. Every feed is one whole response; the
//! `platform: ecoregistry` and `lng` headers are required (a refusal arrives inside an HTTP
//! 200) and an `Origin` other than the registry's site is answered with a 500.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use carbonmesh_model::RegistryId;
use serde_json::{Value, json};

use super::{AppState, entities, json_response, served_rows};
use crate::feeds::Feed;
use crate::formats::cercarbono::{analytics_project, batch_entity};

pub(crate) const PROJECTS_PATH: &str = "/platform/project/public-by-standard/cercarbono-co2";
pub(crate) const ISSUANCES_PATH: &str = "/platform/analytics/projects";
pub(crate) const RETIREMENTS_PATH: &str = "/platform/analytics/get-retirements";

/// The only `Origin` the API accepts.
const ORIGIN: &str = "https://registry.cercarbono.com";

pub(crate) fn routes() -> Router<Arc<AppState>> {
    let feed = |feed: Feed| {
        move |State(state): State<Arc<AppState>>, headers: HeaderMap| async move {
            serve(state, feed, &headers).await
        }
    };
    Router::new()
        .route(PROJECTS_PATH, get(feed(Feed::CercarbonoProjects)))
        .route(ISSUANCES_PATH, get(feed(Feed::CercarbonoIssuances)))
        .route(RETIREMENTS_PATH, get(feed(Feed::CercarbonoRetirements)))
}

async fn serve(state: Arc<AppState>, feed: Feed, headers: &HeaderMap) -> Response {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if header("origin").is_some_and(|o| o != ORIGIN) {
        return (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response();
    }
    let decision = match state.admit(feed, 0).await {
        Ok(d) => d,
        Err(rejection) => return rejection,
    };
    if header("platform") != Some("ecoregistry") || header("lng").is_none() {
        let refusal = json!({"status": 0, "codeMessages": [{"codeMessage": "ERROR_401",
            "param": "invalid", "message": "No autorizado"}]});
        return json_response(&refusal, &decision);
    }
    let dataset = &state.dataset;
    let body = match feed {
        Feed::CercarbonoIssuances => {
            // Batches grouped under their projects, as `analytics/projects` lists them.
            let registry = RegistryId::CERCARBONO;
            let projects = dataset.projects(registry);
            let (from, to) = served_rows(0, projects, &decision);
            let items: Vec<Value> = (from..to)
                .map(|p| {
                    let project = dataset.project(registry, p);
                    let batches = dataset
                        .blocks_of_project(registry, p)
                        .filter_map(|b| dataset.block(registry, b))
                        .map(|row| batch_entity(&row, &project))
                        .collect();
                    analytics_project(&project, batches)
                })
                .collect();
            json!({ "project": items })
        }
        _ => {
            let total = dataset.len(feed);
            let (from, to) = served_rows(0, total, &decision);
            let items = entities(dataset, feed, from, to);
            if feed == Feed::CercarbonoProjects {
                json!({"status": 1, "standardName": "Carbono", "standardId": 1,
                       "creditUnit": "tCO2e", "acceptsDmrv": true, "projects": items})
            } else {
                json!({"status": 1, "retirements": items})
            }
        }
    };
    json_response(&body, &decision)
}
