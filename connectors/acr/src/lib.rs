//! carbonmesh connector for the American Carbon Registry registry.
//!
//! ACR moved from APX (`acr2.apx.com`, CSV reports) to ICE GreenTrace in 2026. The connector
//! fetches GreenTrace's `project-summaries` and `holding-summaries` pages, and reads both the
//! GreenTrace JSON and the legacy APX CSV exports from files. See the crate's README for the
//! endpoints and the field mapping.
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
pub use crate::normalize::canonical_project_id;

/// Where and how the GreenTrace API is read.
///
/// carbonmesh configures every connector with the registry's host (scheme and host, e.g.
/// `https://greentrace.ice.com`, or a loopback simulator `http://127.0.0.1:PORT`); the
/// connector appends GreenTrace's API prefix [`AcrConfig::API_PREFIX`] itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AcrConfig {
    /// Scheme and host without a trailing slash: `https://greentrace.ice.com` in production.
    pub base_url: String,
    /// GreenTrace tenant: `ACR_REGISTRY`.
    pub tenant: String,
    /// Rows per page (`max`). GreenTrace silently clamps it to 2000.
    pub page_size: u32,
}

impl AcrConfig {
    /// The production GreenTrace host.
    pub const PRODUCTION_URL: &'static str = greentrace::PRODUCTION_URL;

    /// The path of the GreenTrace API under the host.
    pub const API_PREFIX: &'static str = greentrace::API_PREFIX;

    /// A configuration reading from the GreenTrace host `host`, with ACR's tenant and the
    /// largest page. A URL that already ends in [`AcrConfig::API_PREFIX`] is taken as its host,
    /// so older configurations holding the full API base keep working.
    pub fn new(host: impl Into<String>) -> Self {
        let host = host.into();
        let host = host.trim_end_matches('/');
        let host = host.strip_suffix(Self::API_PREFIX).unwrap_or(host);
        Self {
            base_url: host.to_owned(),
            tenant: "ACR_REGISTRY".to_owned(),
            page_size: 2000,
        }
    }

    /// The API base: host followed by [`AcrConfig::API_PREFIX`].
    pub fn api_url(&self) -> String {
        self.greentrace().api_url()
    }

    /// Rows per page as sent in `max`, within GreenTrace's 1..=2000.
    pub fn max(&self) -> u64 {
        self.greentrace().max()
    }

    fn greentrace(&self) -> greentrace::Tenant<'_> {
        greentrace::Tenant::new("ACR", &self.base_url, &self.tenant, self.page_size)
    }
}

impl Default for AcrConfig {
    fn default() -> Self {
        Self::new(Self::PRODUCTION_URL)
    }
}

/// The American Carbon Registry connector.
#[derive(Clone)]
pub struct AcrConnector {
    config: AcrConfig,
    http: HttpClient,
}

impl AcrConnector {
    /// A connector fetching from the GreenTrace host `config.base_url` through `http`.
    pub fn new(config: AcrConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    /// The request for page `page` (1-based) of `feed`: a POST whose paging fields travel as
    /// a form body, the only encoding GreenTrace accepts (a JSON body or a query string gives
    /// HTTP 500).
    pub fn page_request(&self, feed: Feed, page: u64) -> Option<Request> {
        self.config.greentrace().page_request(feed, page)
    }
}

#[async_trait]
impl Connector for AcrConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::ACR
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
    registry: carbonmesh_model::RegistryId::ACR,
    name: "ACR (American Carbon Registry)",
    // Daily at 04:40 UTC. GreenTrace blocks a client for an hour after about 93 requests in a
    // row, so the whole registry is read once a day, at the client's spaced request rate.
    default_schedule: "0 40 4 * * *",
    feeds: &greentrace::FEEDS,
    settings: &[],
    secrets: &[],
    user_agent: None,
    needs_base_url: false,
    build: |setup| {
        let config = setup.base_url().map(AcrConfig::new).unwrap_or_default();
        Ok(std::sync::Arc::new(AcrConnector::new(config, setup.http)))
    },
};
