//! carbonmesh connector for Cercarbono, published on the EcoRegistry platform.
//!
//! Cercarbono runs no backend of its own: its registry site is a front end of EcoRegistry,
//! whose public front-end API serves the project list of the standard, every project's issued
//! batch serials (`analytics/projects`) and the whole retirement ledger
//! (`analytics/get-retirements`), each in one response without paging. A serial names a
//! batch, not a range; retirements exported with `from`/`to` positions carry the range inside
//! the batch. Batches migrated from BioCarbon keep a `BCR2CDC_` prefix. See the crate's README
//! for the endpoints, the mapping and the quirks.
#![deny(missing_docs)]

mod columns;
mod fetch;
mod normalize;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record, Rejection,
    Request, looks_like_json,
};
use carbonmesh_model::RegistryId;
use carbonmesh_normalize::read_csv;

pub use crate::normalize::converted_from_reference;

/// Where the EcoRegistry front-end API is reached.
///
/// carbonmesh configures every connector with the registry's host (scheme and host); the
/// connector appends the API paths ([`CercarbonoConfig::PROJECTS_PATH`],
/// [`CercarbonoConfig::ISSUANCES_PATH`], [`CercarbonoConfig::RETIREMENTS_PATH`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CercarbonoConfig {
    /// Scheme and host without a trailing slash: [`CercarbonoConfig::PRODUCTION_URL`] in
    /// production, a loopback server (`http://127.0.0.1:PORT`) in tests and demos.
    pub base_url: String,
}

impl CercarbonoConfig {
    /// The EcoRegistry front-end API host.
    pub const PRODUCTION_URL: &'static str = "https://api-front.ecoregistry.io";

    /// The Cercarbono CO2 standard's project list, converted projects included.
    pub const PROJECTS_PATH: &'static str = "/platform/project/public-by-standard/cercarbono-co2";

    /// Every EcoRegistry project with its issued batch serials (`serials[]`).
    pub const ISSUANCES_PATH: &'static str = "/platform/analytics/projects";

    /// The whole EcoRegistry retirement ledger.
    pub const RETIREMENTS_PATH: &'static str = "/platform/analytics/get-retirements";

    /// The `Origin` (and `Referer`) the API accepts; another origin is answered with HTTP 500.
    pub const ORIGIN: &'static str = "https://registry.cercarbono.com";

    /// A configuration reading from the host `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
        }
    }

    /// The URL of `feed`, if the API serves it.
    pub fn feed_url(&self, feed: Feed) -> Option<String> {
        let path = match feed {
            Feed::Projects => Self::PROJECTS_PATH,
            Feed::Issuances => Self::ISSUANCES_PATH,
            Feed::Retirements => Self::RETIREMENTS_PATH,
            Feed::Cancellations | Feed::Transactions => return None,
        };
        Some(format!("{}{path}", self.base_url))
    }
}

impl Default for CercarbonoConfig {
    fn default() -> Self {
        Self::new(Self::PRODUCTION_URL)
    }
}

/// The Cercarbono connector.
#[derive(Clone)]
pub struct CercarbonoConnector {
    config: CercarbonoConfig,
    http: HttpClient,
}

impl CercarbonoConnector {
    /// A connector fetching from `config.base_url` through `http`.
    pub fn new(config: CercarbonoConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    /// The configuration in use.
    pub fn config(&self) -> &CercarbonoConfig {
        &self.config
    }
}

const FEEDS: [Feed; 3] = [Feed::Projects, Feed::Issuances, Feed::Retirements];

#[async_trait]
impl Connector for CercarbonoConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::CERCARBONO
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    /// Each feed is one response holding the whole data set: one page, the cursor is ignored.
    async fn fetch_page(&self, feed: Feed, _cursor: Option<&str>) -> Result<Page, FetchError> {
        let url = self
            .config
            .feed_url(feed)
            .ok_or_else(|| FetchError::Malformed {
                url: self.config.base_url.clone(),
                reason: format!("EcoRegistry publishes no Cercarbono {feed} feed"),
            })?;
        let request = Request::get(url.as_str())
            .header("platform", "ecoregistry")
            .header("lng", "en")
            .header("Origin", CercarbonoConfig::ORIGIN)
            .header("Referer", format!("{}/", CercarbonoConfig::ORIGIN));
        let body = self.http.send(&request).await?.body;
        fetch::json_page(feed, &url, &body).map_err(|reason| FetchError::Malformed { url, reason })
    }

    fn detect_feed(&self, _file_name: &str, head: &[u8]) -> Option<Feed> {
        if looks_like_json(head) {
            return fetch::detect_json(head);
        }
        let rows = read_csv(head).ok()?;
        columns::detect(rows.headers())
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        if !FEEDS.contains(&feed) {
            return Err(FileError::Unsupported {
                file: source.to_owned(),
                feed,
            });
        }
        let malformed = |reason: String| FileError::Malformed {
            file: source.to_owned(),
            reason,
        };
        if looks_like_json(bytes) {
            return fetch::json_page(feed, source, bytes).map_err(malformed);
        }
        fetch::csv_page(feed, source, bytes).map_err(malformed)
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        normalize::normalize(raw)
    }
}

/// This connector, as the server registers it.
pub const DESCRIPTOR: carbonmesh_connector::Descriptor = carbonmesh_connector::Descriptor {
    registry: carbonmesh_model::RegistryId::CERCARBONO,
    name: "Cercarbono (EcoRegistry)",
    // Daily at 05:35 UTC: the three feeds are three requests, each the whole data set.
    default_schedule: "0 35 5 * * *",
    feeds: &FEEDS,
    settings: &[],
    secrets: &[],
    user_agent: None,
    needs_base_url: false,
    build: |setup| {
        let config = setup
            .base_url()
            .map(CercarbonoConfig::new)
            .unwrap_or_default();
        Ok(std::sync::Arc::new(CercarbonoConnector::new(
            config, setup.http,
        )))
    },
};
