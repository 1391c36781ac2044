//! carbonmesh connector for the ART TREES registry, including the World Bank FCPF units the
//! ART registry holds (Côte d'Ivoire, Costa Rica) beside ART TREES credits (Guyana, …).
//!
//! ART moved from APX (`art.apx.com`, CSV reports) to ICE GreenTrace, where it is the tenant
//! `ART_REGISTRY` of the same API that serves ACR. The connector polls GreenTrace's
//! `project-summaries` and `holding-summaries` pages, and reads both the GreenTrace JSON and the
//! APX CSV exports from files. Serials (`ART-GY-102-2021-11-2759599 to 2760598`,
//! `FCPF-CI-130-2023-20-1 to 46404`) parse to integer ranges in the namespace
//! `art:<prefix>` of their batch. See the crate's README for endpoints and the field mapping.
#![deny(missing_docs)]

mod columns;
mod fetch;
mod normalize;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record, Rejection,
    greentrace, http::Request,
};
use carbonmesh_model::RegistryId;
use carbonmesh_normalize::read_csv;

use crate::fetch::Completeness;
pub use crate::normalize::canonical_program_id;

/// Where and how ART's GreenTrace tenant is read.
///
/// carbonmesh configures every connector with the registry's host (scheme and host, e.g.
/// `https://greentrace.ice.com`, or a loopback simulator `http://127.0.0.1:PORT`); the
/// connector appends GreenTrace's API prefix [`ArtConfig::API_PREFIX`] and ART's tenant paths.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArtConfig {
    /// Scheme and host without a trailing slash: `https://greentrace.ice.com` in production.
    pub base_url: String,
    /// GreenTrace tenant: `ART_REGISTRY`.
    pub tenant: String,
    /// Rows per page (`max`). GreenTrace silently clamps it to 2000.
    pub page_size: u32,
}

impl ArtConfig {
    /// The production GreenTrace host.
    pub const PRODUCTION_URL: &'static str = greentrace::PRODUCTION_URL;

    /// The path of the GreenTrace API under the host.
    pub const API_PREFIX: &'static str = greentrace::API_PREFIX;

    /// ART's GreenTrace tenant.
    pub const TENANT: &'static str = "ART_REGISTRY";

    /// A configuration reading ART's tenant from the GreenTrace host `host`, with the largest
    /// page. A trailing slash is dropped.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            base_url: host.into().trim_end_matches('/').to_owned(),
            tenant: Self::TENANT.to_owned(),
            page_size: 2000,
        }
    }

    /// The API base: host followed by [`ArtConfig::API_PREFIX`].
    pub fn api_url(&self) -> String {
        self.greentrace().api_url()
    }

    /// Rows per page as sent in `max`, within GreenTrace's 1..=2000.
    pub fn max(&self) -> u64 {
        self.greentrace().max()
    }

    fn greentrace(&self) -> greentrace::Tenant<'_> {
        greentrace::Tenant::new("ART", &self.base_url, &self.tenant, self.page_size)
    }
}

impl Default for ArtConfig {
    fn default() -> Self {
        Self::new(Self::PRODUCTION_URL)
    }
}

/// The ART TREES connector.
#[derive(Clone)]
pub struct ArtConnector {
    config: ArtConfig,
    http: HttpClient,
}

impl ArtConnector {
    /// A connector fetching from the GreenTrace host `config.base_url` through `http`.
    pub fn new(config: ArtConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    /// The request for page `page` (1-based) of `feed`: a POST whose paging fields travel as
    /// a form body, the only encoding GreenTrace accepts (a JSON body or a query string gives
    /// HTTP 500). `None` for a feed ART does not publish.
    pub fn page_request(&self, feed: Feed, page: u64) -> Option<Request> {
        self.config.greentrace().page_request(feed, page)
    }
}

#[async_trait]
impl Connector for ArtConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::ART
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    /// Pages are numbered from 1; the cursor is the page number. GreenTrace has no sort key,
    /// so a page is complete only when it holds every row `totalCount` leaves for it.
    async fn fetch_page(&self, feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError> {
        let tenant = self.config.greentrace();
        tenant.fetch_page(&self.http, feed, cursor).await
    }

    fn detect_feed(&self, _file_name: &str, head: &[u8]) -> Option<Feed> {
        greentrace::detect_saved_feed(head, |head| columns::detect(read_csv(head).ok()?.headers()))
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        greentrace::read_saved_file(feed, source, bytes, |feed, source, bytes| {
            fetch::csv_page(feed, source, bytes, Completeness::File)
        })
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        normalize::normalize(raw)
    }
}

/// This connector, as the server registers it.
pub const DESCRIPTOR: carbonmesh_connector::Descriptor = carbonmesh_connector::Descriptor {
    registry: carbonmesh_model::RegistryId::ART,
    name: "ART TREES registry",
    // Daily at 04:55 UTC. ART issues a few times a year and retires a few blocks a week;
    // GreenTrace blocks a client for an hour after about 93 requests in a row, and ART's
    // tenant is small enough to read in a handful of requests.
    default_schedule: "0 55 4 * * *",
    feeds: &greentrace::FEEDS,
    settings: &[],
    secrets: &[],
    user_agent: None,
    needs_base_url: false,
    build: |setup| {
        let config = setup.base_url().map(ArtConfig::new).unwrap_or_default();
        Ok(std::sync::Arc::new(ArtConnector::new(config, setup.http)))
    },
};
