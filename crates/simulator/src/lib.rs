//! A local registry simulator for carbonmesh: deterministic data for Verra, Gold Standard, ACR,
//! Climate Action Reserve, the California ARB issuance table, ART TREES, Isometric, Puro.earth,
//! Cercarbono, BioCarbon and a CAD Trust node, served over HTTP in each registry's real formats,
//! with injected double-counting cases, a ground truth, and faults on demand. Used by the demo,
//! end-to-end tests and benchmarks.
//!
//! # Data
//!
//! Every row is a pure function of `(seed, registry, feed, index)` (a splitmix64 counter hash),
//! so any page streams in constant memory at any scale. Each issuance block is published as
//! four contiguous, disjoint current-state pieces (retired, retired, retired or cancelled,
//! held). Verra blocks sit in their own slots of one registry-wide counter; the other
//! registries restart numbering at 1 in every batch. Injected cases ([`CaseKind`]) sit in
//! fresh batches or on distinct base blocks of Verra, Gold Standard, ACR and CAR, and
//! [`Dataset::ground_truth`] lists them. ART, Isometric, Puro, Cercarbono, BioCarbon and the
//! CAD Trust node serve base data only (no cases); their blocks go to their projects in turn
//! (block `b` to project `b % projects`), so per-project routes need no scan. Serials follow
//! each registry's grammar (`ART-GY-102-2021-11-1 to 500`, `PURO_PR_CORC_…_<issuance uuid>_1-500`,
//! Cercarbono batch serials with positions `1..=quantity`, `BCR-…-0000001-0000500`, CAD Trust
//! blocks `CMS-B000017-000000001` of the node's own organisation); Isometric publishes none
//! and states kilograms, its ranges are the synthetic `1..=kilograms` of each record.
//! [`Scale`] sets the size of every registry ([`Scale::with`] for one).
//!
//! # Routes
//!
//! Paths mirror the real ones; the host is the simulator's.
//!
//! | route | real counterpart | paging |
//! |---|---|---|
//! | `POST /uiapi/asset/asset/search?$format=csv` | `registry.verra.org/uiapi/asset/asset/search` VCU export (CSV) | `$skip`, `maxResults` |
//! | `POST /uiapi/resource/resource/search?$format=csv` | `registry.verra.org/uiapi/resource/resource/search` project export (CSV) | `$skip`, `maxResults` |
//! | `POST /ci-raas-prod/raas-report-api/es/public/{issuances,retirements,cancellations,project}/publicReportPageSearch` | `prod-us.api.platts.com` (Verra since 2026), JSON `{"entities":[…],"totalCount":n}` | body `searchFilter.pagination.start/limit`; `limit` > 400 and `start` ≥ 10,000 fail with 500 |
//! | `GET /credits?page=&size=` | `public-api.goldstandard.org/credits`, JSON array, `X-Total-Count` | `page` from 1; `size` > 25 → 403 |
//! | `GET /projects?page=&size=` | `public-api.goldstandard.org/projects` | `page` from 1; `size` capped at 150 |
//! | `POST /api/greentraceservice/v1/credit/registry/ACR_REGISTRY/holding-summaries/results` | ICE GreenTrace (ACR) holdings, `holdingStatus=ISSUED\|RETIRED\|CANCELED` | form body `offset` or `pageNumber`, `max` ≤ 2000; a non-form body → 500 |
//! | `POST /api/greentraceservice/v1/project/registry/ACR_REGISTRY/project-summaries/results` | ICE GreenTrace (ACR) projects | as above |
//! | `GET /myModule/rpt/myrpt.asp?r=111\|112\|206\|308` | `thereserve2.apx.com` (CAR) report page with the download form; sets the session cookie | — |
//! | `POST /myModule/include/rptdownload.asp` | CAR bulk CSV download (form with the page's hidden fields, `c16e` token, `FormatType=csv`, and the page's `ASPSESSIONID…` cookie; 403 without them) | whole report |
//! | `GET /resources/documents/arb-offset-credit-issuance-table` | CARB offset credit issuance table (XLSX sheet 3, served as CSV) | whole table |
//! | `POST /api/greentraceservice/v1/credit/registry/ART_REGISTRY/holding-summaries/results` | ICE GreenTrace (ART TREES) holdings, as ACR's | as ACR |
//! | `POST /api/greentraceservice/v1/project/registry/ART_REGISTRY/project-summaries/results` | ICE GreenTrace (ART TREES) programs | as ACR |
//! | `GET /registry/v0/{projects,issuances,retirements}?first=&after=` | `api.isometric.com/registry/v0`, `{"nodes":[…],"total_count":n,"page_info":{…}}`; `x-client-secret` and `Authorization: Bearer` required (401 without) | Relay: `first` ≤ 100 (else 422), opaque `after` = the previous `end_cursor` |
//! | `GET /projects` (no `page`/`size`), `GET /issuances`, `GET /retirements` | `registry.puro.earth` Next.js pages, `{"data":[…]}` in the `self.__next_f.push` stream | whole list per page |
//! | `GET /platform/project/public-by-standard/cercarbono-co2` | EcoRegistry (Cercarbono) projects, `{"status":1,"projects":[…]}` | whole list |
//! | `GET /platform/analytics/projects` | EcoRegistry issued batches, `{"project":[{…,"serials":[…]}]}` | whole list |
//! | `GET /platform/analytics/get-retirements` | EcoRegistry retirements, `{"status":1,"retirements":[…]}`; all three need `platform: ecoregistry` and `lng` (else HTTP 200 with `status: 0`), another `Origin` → 500 | whole list |
//! | `GET /api/ghg/{projects,carbon-credits,retreats}?per_page=&page=` | `api.globalcarbontrace.io` (BioCarbon), Laravel envelope; `x-api-key` required (else HTTP 200 with `status: 403`) | `page` from 1, `per_page` ≤ 5000 (default 15) |
//! | `GET /api/ghg/carbon-credits/project/{id}/cancellations` | BioCarbon cancellations of one project, `{"status":200,"data":[…]}` | whole list per project |
//! | `GET /v1/projects?page=&limit=`, `GET /v1/units?page=&limit=` | a CAD Trust node's v1 API, `{page, pageCount, data}` (a bare array without `page`); `orgUid=` filters | `page` from 1, `limit` ≤ 1000 (default 10) |
//! | `GET /_simulator/ground-truth` | none: the injected cases as JSON | — |
//!
//! Puro's `/projects` shares its path with Gold Standard's: a request with `page` or `size` is
//! Gold Standard's API, one without is Puro's page.
//!
//! # Faults
//!
//! [`FaultPlan`] rules per route ([`Feed`]) fire by request number or page ([`Trigger`]) and
//! inject 429 + `Retry-After`, any status, delays, truncated bodies, short pages and renamed
//! CSV columns ([`Fault`]). [`SimulatorHandle::set_faults`] swaps the plan at runtime and
//! [`SimulatorHandle::requests`] counts requests per route.

mod cases;
mod catalog;
mod config;
mod dataset;
mod error;
mod export;
mod faults;
mod feeds;
pub mod formats;
mod ledger;
mod rng;
mod server;
mod webhook_sender;

pub use cases::{CaseKind, InjectedCase, OverlapRange, RecordRef};
pub use catalog::{Country, ProjectInfo, ProjectType};
pub use config::{CaseCounts, RegistryScale, Scale, SimulatorConfig};
pub use dataset::{ArbRow, Dataset, FeedRow};
pub use error::SimulatorError;
pub use export::{write_csv, write_verra_transactions_csv};
pub use faults::{Fault, FaultPlan, FaultRule, Trigger};
pub use feeds::{Feed, FeedKind};
pub use ledger::{CreditRow, Product, UnitState};
pub use server::{RegistryUpdates, SimulatorHandle, path_of};
pub use webhook_sender::{Answer, Tamper, WebhookSender};

/// Starts a simulator serving the data set of `config`.
pub struct Simulator;

impl Simulator {
    /// Generates the data set and starts serving it on `config.bind` (loopback, ephemeral port
    /// by default). Must be called inside a Tokio runtime.
    pub async fn start(config: SimulatorConfig) -> Result<SimulatorHandle, SimulatorError> {
        server::start(config).await
    }
}

/// The ground truth of the data set `config` describes, without starting a server.
pub fn ground_truth(config: &SimulatorConfig) -> Result<Vec<InjectedCase>, SimulatorError> {
    Ok(Dataset::new(config)?.ground_truth().to_vec())
}
