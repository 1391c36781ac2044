//! The HTTP server: loopback listener, shared state, fault application and response bodies.

mod acr;
mod arb;
mod biocarbon;
mod cadt;
mod car;
mod cercarbono;
mod gold_standard;
mod isometric;
mod puro;
mod verra;

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use carbonmesh_model::RegistryId;
use tokio::sync::oneshot;
use tokio::task::JoinHandle as ServerJoin;

use crate::dataset::Dataset;
use crate::faults::{Counters, Decision, Fault, FaultPlan};
use crate::feeds::{Feed, FeedKind};
use crate::{SimulatorConfig, SimulatorError, formats};

/// Rows rendered per streamed chunk.
const ROWS_PER_CHUNK: u64 = 256;

/// State shared by every handler.
pub(crate) struct AppState {
    pub dataset: Arc<Dataset>,
    pub faults: RwLock<FaultPlan>,
    pub counters: Counters,
    /// Changes the registry made since the data set was generated: the status of a Verra
    /// project, by its number, as the feeds now publish it.
    pub verra_status: RwLock<HashMap<u64, String>>,
}

type Shared = Arc<AppState>;

impl AppState {
    /// Counts the request, applies its delay, and either rejects it or says how to serve it.
    pub(crate) async fn admit(&self, feed: Feed, page: u64) -> Result<Decision, Response> {
        let number = self.counters.hit(feed);
        let firing = match self.faults.read() {
            Ok(plan) => plan.firing(feed, number, page),
            Err(poisoned) => poisoned.into_inner().firing(feed, number, page),
        };
        let decision = Decision::from_faults(firing);
        if let Some(delay) = decision.delay {
            tokio::time::sleep(delay).await;
        }
        match &decision.reject {
            Some(Fault::TooManyRequests { retry_after_secs }) => {
                let mut response = (StatusCode::TOO_MANY_REQUESTS, "rate limited").into_response();
                if let Ok(value) = HeaderValue::from_str(&retry_after_secs.to_string()) {
                    response.headers_mut().insert(header::RETRY_AFTER, value);
                }
                Err(response)
            }
            Some(Fault::Status { status }) => {
                let code =
                    StatusCode::from_u16(*status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
                Err((code, "simulated failure").into_response())
            }
            _ => Ok(decision),
        }
    }
}

/// The rows a page serves after a short-page fault.
pub(crate) fn served_rows(from: u64, to: u64, decision: &Decision) -> (u64, u64) {
    if decision.short_page {
        (from, from + (to - from) / 2)
    } else {
        (from, to)
    }
}

/// A streamed CSV of rows `from..to` of `feed`, generated chunk by chunk as the client reads.
pub(crate) fn csv_response(
    dataset: Arc<Dataset>,
    feed: Feed,
    from: u64,
    to: u64,
    decision: &Decision,
) -> Response {
    let (from, mut to) = served_rows(from, to, decision);
    // A truncated body stops half way and then sends half of the next row.
    let cut_row = if decision.truncate_body && to > from {
        to = from + (to - from) / 2;
        Some(to)
    } else {
        None
    };
    let header = formats::csv_header_bytes(feed, &decision.renames);
    let chunks = (to - from).div_ceil(ROWS_PER_CHUNK);
    let rows_dataset = Arc::clone(&dataset);
    let body_chunks = (0..chunks).map(move |c| {
        let start = from + c * ROWS_PER_CHUNK;
        let end = (start + ROWS_PER_CHUNK).min(to);
        Ok::<Bytes, Infallible>(Bytes::from(formats::csv_rows_bytes(
            &rows_dataset,
            feed,
            start,
            end,
        )))
    });
    let tail = cut_row.map(move |row| {
        let line = formats::csv_rows_bytes(&dataset, feed, row, row + 1);
        Ok::<Bytes, Infallible>(Bytes::from(line[..line.len() / 2].to_vec()))
    });
    let stream = futures::stream::iter(
        std::iter::once(Ok::<Bytes, Infallible>(Bytes::from(header)))
            .chain(body_chunks)
            .chain(tail),
    );
    let mut response = Response::new(Body::from_stream(stream));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    response
}

/// A JSON document, cut in the middle when the decision says so.
pub(crate) fn json_response(value: &serde_json::Value, decision: &Decision) -> Response {
    let mut bytes = serde_json::to_vec(value).unwrap_or_default();
    if decision.truncate_body {
        bytes.truncate(bytes.len() / 2);
    }
    let mut response = Response::new(Body::from(bytes));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// JSON entities of rows `from..to` of `feed`.
pub(crate) fn entities(
    dataset: &Dataset,
    feed: Feed,
    from: u64,
    to: u64,
) -> Vec<serde_json::Value> {
    (from..to)
        .filter_map(|i| dataset.row(feed, i))
        .map(|row| formats::json_entity(feed, &row))
        .collect()
}

/// Changes a simulated registry makes to its own data, which its feeds publish from then on
/// (so that a change it announces by webhook is what the next poll reads too).
#[derive(Clone)]
pub struct RegistryUpdates(Shared);

impl RegistryUpdates {
    /// Verra changes the status of project `number` (its VCS id) to `status`.
    pub fn set_verra_project_status(&self, number: u64, status: &str) {
        match self.0.verra_status.write() {
            Ok(mut map) => map.insert(number, status.to_owned()),
            Err(poisoned) => poisoned.into_inner().insert(number, status.to_owned()),
        };
    }

    /// The status Verra publishes for project `number` when it changed it.
    pub fn verra_project_status(&self, number: u64) -> Option<String> {
        match self.0.verra_status.read() {
            Ok(map) => map.get(&number).cloned(),
            Err(poisoned) => poisoned.into_inner().get(&number).cloned(),
        }
    }
}

/// A running simulator. Dropping it without [`SimulatorHandle::shutdown`] leaves the server
/// running until the runtime stops.
pub struct SimulatorHandle {
    addr: SocketAddr,
    state: Shared,
    stop: Option<oneshot::Sender<()>>,
    serving: Option<ServerJoin<()>>,
}

impl SimulatorHandle {
    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The socket address the server listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The URL of a registry's feed (for POST routes, the URL the request goes to).
    pub fn url_for(&self, registry: RegistryId, kind: FeedKind) -> Result<String, SimulatorError> {
        let feed = Feed::find(registry, kind).ok_or(SimulatorError::NoSuchFeed {
            registry,
            feed: kind,
        })?;
        Ok(format!("{}{}", self.base_url(), path_of(feed)))
    }

    /// The data set being served.
    pub fn dataset(&self) -> &Dataset {
        &self.state.dataset
    }

    /// Replaces the active faults; the next request sees the new plan.
    pub fn set_faults(&self, plan: FaultPlan) {
        match self.state.faults.write() {
            Ok(mut guard) => *guard = plan,
            Err(poisoned) => *poisoned.into_inner() = plan,
        }
    }

    /// Requests received on a route so far (rejected ones included).
    pub fn requests(&self, feed: Feed) -> u64 {
        self.state.counters.get(feed)
    }

    /// Sets every request counter back to zero.
    pub fn reset_counters(&self) {
        self.state.counters.reset();
    }

    /// What changes the simulated registries, shareable with whatever plays them.
    pub fn registry(&self) -> RegistryUpdates {
        RegistryUpdates(self.state.clone())
    }

    /// Stops the server and waits for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(serving) = self.serving.take() {
            let _ = serving.await;
        }
    }
}

/// The path of a feed on the simulator (for CAR, the report page; for Verra uiapi, with the
/// `$format=csv` query; for BioCarbon cancellations, the per-project template with `{id}`).
pub fn path_of(feed: Feed) -> &'static str {
    match feed {
        Feed::VerraTransactions => "/uiapi/asset/asset/search?$format=csv",
        Feed::VerraProjectsCsv => "/uiapi/resource/resource/search?$format=csv",
        Feed::VerraIssuances => {
            "/ci-raas-prod/raas-report-api/es/public/issuances/publicReportPageSearch"
        }
        Feed::VerraRetirements => {
            "/ci-raas-prod/raas-report-api/es/public/retirements/publicReportPageSearch"
        }
        Feed::VerraCancellations => {
            "/ci-raas-prod/raas-report-api/es/public/cancellations/publicReportPageSearch"
        }
        Feed::VerraProjects => {
            "/ci-raas-prod/raas-report-api/es/public/project/publicReportPageSearch"
        }
        Feed::GoldStandardCredits => "/credits",
        Feed::GoldStandardProjects => "/projects",
        Feed::AcrIssued | Feed::AcrRetired | Feed::AcrCanceled => acr::HOLDINGS_PATH,
        Feed::AcrProjects => acr::PROJECTS_PATH,
        Feed::CarProjects => "/myModule/rpt/myrpt.asp?r=111",
        Feed::CarIssuances => "/myModule/rpt/myrpt.asp?r=112",
        Feed::CarRetirements => "/myModule/rpt/myrpt.asp?r=206",
        Feed::CarCancellations => "/myModule/rpt/myrpt.asp?r=308",
        Feed::ArbIssuances => arb::PATH,
        Feed::ArtIssued | Feed::ArtRetired | Feed::ArtCanceled => acr::ART_HOLDINGS_PATH,
        Feed::ArtProjects => acr::ART_PROJECTS_PATH,
        Feed::IsometricProjects => "/registry/v0/projects",
        Feed::IsometricIssuances => "/registry/v0/issuances",
        Feed::IsometricRetirements => "/registry/v0/retirements",
        Feed::PuroProjects => "/projects",
        Feed::PuroIssuances => "/issuances",
        Feed::PuroRetirements => "/retirements",
        Feed::CercarbonoProjects => cercarbono::PROJECTS_PATH,
        Feed::CercarbonoIssuances => cercarbono::ISSUANCES_PATH,
        Feed::CercarbonoRetirements => cercarbono::RETIREMENTS_PATH,
        Feed::BiocarbonProjects => "/api/ghg/projects",
        Feed::BiocarbonIssuances => "/api/ghg/carbon-credits",
        Feed::BiocarbonRetirements => "/api/ghg/retreats",
        Feed::BiocarbonCancellations => biocarbon::CANCELLATIONS_PATH,
        Feed::CadtProjects => "/v1/projects",
        Feed::CadtUnits => "/v1/units",
    }
}

/// Starts serving `config`'s data set.
pub(crate) async fn start(config: SimulatorConfig) -> Result<SimulatorHandle, SimulatorError> {
    let dataset = Arc::new(Dataset::new(&config)?);
    let state: Shared = Arc::new(AppState {
        dataset,
        faults: RwLock::new(config.faults.clone()),
        counters: Counters::new(),
        verra_status: RwLock::new(HashMap::new()),
    });
    let app = Router::new()
        .merge(verra::routes())
        .merge(gold_standard::routes())
        .merge(acr::routes())
        .merge(car::routes())
        .merge(arb::routes())
        .merge(isometric::routes())
        .merge(puro::routes())
        .merge(cercarbono::routes())
        .merge(biocarbon::routes())
        .merge(cadt::routes())
        .route("/_simulator/ground-truth", get(ground_truth))
        .with_state(Arc::clone(&state));
    let listener = tokio::net::TcpListener::bind(config.bind)
        .await
        .map_err(|source| SimulatorError::Bind {
            addr: config.bind,
            source,
        })?;
    let addr = listener
        .local_addr()
        .map_err(|source| SimulatorError::Bind {
            addr: config.bind,
            source,
        })?;
    let (stop, stopped) = oneshot::channel::<()>();
    let serving = tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
        if let Err(error) = served {
            tracing::warn!(%error, "registry simulator stopped with an error");
        }
    });
    tracing::info!(%addr, "registry simulator listening");
    Ok(SimulatorHandle {
        addr,
        state,
        stop: Some(stop),
        serving: Some(serving),
    })
}

/// `GET /_simulator/ground-truth`: the injected cases, for tests that run the binary.
async fn ground_truth(axum::extract::State(state): axum::extract::State<Shared>) -> Response {
    axum::Json(state.dataset.ground_truth().to_vec()).into_response()
}
