//! carbonmesh connector for the Puro.earth registry.
//!
//! `registry.puro.earth` has no API: its `/projects`, `/issuances` and `/retirements` pages
//! embed their records as JSON in the Next.js server-component stream. The connector fetches
//! those pages, joins the stream and takes the first `{"data":[…]}` object. Files are read as
//! the saved page, the `{"data":[…]}` object or the bare array. Every transaction yields one
//! credit record per bundle (certificate range). See the crate's README for the mapping.
#![deny(missing_docs)]

mod columns;
mod fetch;
mod normalize;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record, Rejection,
    http::Request,
};
use carbonmesh_model::RegistryId;

pub use crate::normalize::normalize;

/// Where the registry's pages are read.
///
/// carbonmesh configures every connector with the registry's host (scheme and host, e.g.
/// `https://registry.puro.earth`, or a loopback simulator `http://127.0.0.1:PORT`); the
/// connector appends each feed's page path (`/projects`, `/issuances`, `/retirements`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PuroConfig {
    /// Scheme and host without a trailing slash.
    pub base_url: String,
}

impl PuroConfig {
    /// The production registry host.
    pub const PRODUCTION_URL: &'static str = "https://registry.puro.earth";

    /// A configuration reading from the host `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
        }
    }

    /// The page of `feed`, if the registry publishes one.
    pub fn page_url(&self, feed: Feed) -> Option<String> {
        columns::page_path(feed).map(|path| format!("{}{path}", self.base_url))
    }
}

impl Default for PuroConfig {
    fn default() -> Self {
        Self::new(Self::PRODUCTION_URL)
    }
}

/// The Puro.earth connector.
#[derive(Clone)]
pub struct PuroConnector {
    config: PuroConfig,
    http: HttpClient,
}

impl PuroConnector {
    /// A connector fetching from the host `config.base_url` through `http`.
    pub fn new(config: PuroConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    /// The configuration in use.
    pub fn config(&self) -> &PuroConfig {
        &self.config
    }
}

const FEEDS: [Feed; 3] = [Feed::Projects, Feed::Issuances, Feed::Retirements];

#[async_trait]
impl Connector for PuroConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::PURO
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    /// Each feed is one page holding every record: no paging, no counts. The cursor is
    /// ignored and there is never a next page.
    async fn fetch_page(&self, feed: Feed, _cursor: Option<&str>) -> Result<Page, FetchError> {
        let url = self
            .config
            .page_url(feed)
            .ok_or_else(|| FetchError::Malformed {
                url: self.config.base_url.clone(),
                reason: format!("Puro.earth publishes no {feed} page"),
            })?;
        let response = self.http.send(&Request::get(url.clone())).await?;
        let items = fetch::items(&response.body).map_err(|reason| FetchError::Malformed {
            url: url.clone(),
            reason,
        })?;
        Page::of_json(feed, &url, items, 1)
            .objects_only()
            .map_err(|reason| FetchError::Malformed { url, reason })
    }

    fn detect_feed(&self, file_name: &str, head: &[u8]) -> Option<Feed> {
        if carbonmesh_connector::looks_like_json(head)
            && let Some(feed) = fetch::detect_json(&String::from_utf8_lossy(head))
        {
            return Some(feed);
        }
        // A saved HTML page carries its records far past any head: go by the name.
        fetch::detect_name(file_name)
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        if columns::page_path(feed).is_none() {
            return Err(FileError::Unsupported {
                file: source.to_owned(),
                feed,
            });
        }
        let items = fetch::items(bytes).map_err(|reason| FileError::Malformed {
            file: source.to_owned(),
            reason,
        })?;
        Ok(Page::of_json(feed, source, items, 1))
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        normalize::normalize(raw)
    }
}

/// This connector, as the server registers it.
pub const DESCRIPTOR: carbonmesh_connector::Descriptor = carbonmesh_connector::Descriptor {
    registry: carbonmesh_model::RegistryId::PURO,
    name: "Puro.earth registry",
    // Daily at 05:20 UTC: three page loads, the retirements page about 5 MB.
    default_schedule: "0 20 5 * * *",
    feeds: &FEEDS,
    settings: &[],
    secrets: &[],
    user_agent: None,
    needs_base_url: false,
    build: |setup| {
        let config = setup.base_url().map(PuroConfig::new).unwrap_or_default();
        Ok(std::sync::Arc::new(PuroConnector::new(config, setup.http)))
    },
};
