//! carbonmesh connector for Climate Action Data Trust (CAD Trust) nodes.
//!
//! A CADT node (Chia-Network/cadt, data model v1) serves the projects and units of every
//! organisation it subscribes to over a REST API: `GET /v1/projects` and `GET /v1/units`,
//! paginated with `page`/`limit` into `{page, pageCount, data}`. Projects embed their
//! locations, labels, issuances, estimations, co-benefits, ratings and related projects; units
//! embed their issuance (the only link from a unit to its project) and labels. There is no
//! single production node: every deployment names the node it reads. See the crate's README
//! for the mapping onto the carbonmesh model and the quirks of CADT's data.
#![deny(missing_docs)]

mod columns;
mod fetch;
mod normalize;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record, Rejection, Request,
};
use carbonmesh_model::RegistryId;

pub use crate::normalize::{canonical_project_id, registry_from_link, registry_from_name};

/// Which CADT node to read, and how.
///
/// carbonmesh configures every connector with the registry's host (scheme, host and port of
/// the node, e.g. `http://cadt.example.org:31310`); the connector appends `/v1/projects` and
/// `/v1/units`. CAD Trust has no single production URL, so there is no default.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CadtConfig {
    /// Scheme, host and port of the node, without a trailing slash.
    pub base_url: String,
    /// The node's `CADT_API_KEY`, sent as `x-api-key` when the node requires one.
    pub api_key: Option<String>,
    /// Read only this organisation's records (`orgUid`); every subscribed one when `None`.
    pub org_uid: Option<String>,
    /// Records per page, 1 to [`CadtConfig::MAX_LIMIT`].
    pub page_limit: u32,
}

impl CadtConfig {
    /// Path of the project list.
    pub const PROJECTS_PATH: &'static str = "/v1/projects";
    /// Path of the unit list.
    pub const UNITS_PATH: &'static str = "/v1/units";
    /// The largest `limit` a node accepts.
    pub const MAX_LIMIT: u32 = 1000;
    /// The `limit` used unless configured otherwise.
    pub const DEFAULT_LIMIT: u32 = 100;

    /// A configuration reading every organisation from the node at `base_url`. An empty
    /// `base_url` names no node: the connector then reads saved responses
    /// ([`Connector::read_file`]) and refuses to fetch.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            api_key: None,
            org_uid: None,
            page_limit: Self::DEFAULT_LIMIT,
        }
    }

    /// A configuration naming no node, for reading saved responses only: CAD Trust has no
    /// central endpoint to fall back on, so fetching is refused with the reason.
    pub fn files_only() -> Self {
        Self::new("")
    }

    /// Whether a node is named, so that pages can be fetched.
    pub fn has_node(&self) -> bool {
        !self.base_url.trim().is_empty()
    }

    /// The URL of page `page` of `feed`, if a node is named and serves the feed.
    pub fn page_url(&self, feed: Feed, page: u64) -> Option<String> {
        if !self.has_node() {
            return None;
        }
        let path = match feed {
            Feed::Projects => Self::PROJECTS_PATH,
            Feed::Transactions => Self::UNITS_PATH,
            _ => return None,
        };
        let limit = self.page_limit.clamp(1, Self::MAX_LIMIT);
        let mut url = format!("{}{path}?page={page}&limit={limit}", self.base_url);
        if let Some(org) = self.org_uid.as_deref().filter(|o| !o.trim().is_empty()) {
            url.push_str("&orgUid=");
            url.push_str(org.trim());
        }
        Some(url)
    }
}

/// The CAD Trust connector.
#[derive(Clone)]
pub struct CadtConnector {
    config: CadtConfig,
    http: HttpClient,
}

impl CadtConnector {
    /// A connector reading the node `config.base_url` through `http`.
    pub fn new(config: CadtConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    /// The configuration in use.
    pub fn config(&self) -> &CadtConfig {
        &self.config
    }
}

/// Units list every block in its current state (held, retired, cancelled, buffer, exported):
/// one combined ledger.
const FEEDS: [Feed; 2] = [Feed::Projects, Feed::Transactions];

#[async_trait]
impl Connector for CadtConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::CADT
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    /// Page `cursor` (a page number from 1) of `/v1/projects` or `/v1/units`.
    async fn fetch_page(&self, feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError> {
        if !self.config.has_node() {
            return Err(FetchError::Malformed {
                url: String::new(),
                reason: "no CAD Trust node to read: CAD Trust has no central endpoint, so the \
                         node's address (`base_url`) must be configured to fetch; saved \
                         responses import without one"
                    .to_owned(),
            });
        }
        let page: u64 =
            match cursor {
                None => 1,
                Some(c) => c.trim().parse().ok().filter(|p| *p >= 1).ok_or_else(|| {
                    FetchError::Malformed {
                        url: self.config.base_url.clone(),
                        reason: format!("cursor `{c}` is not a page number"),
                    }
                })?,
            };
        let url = self
            .config
            .page_url(feed, page)
            .ok_or_else(|| FetchError::Malformed {
                url: self.config.base_url.clone(),
                reason: format!("a CAD Trust node has no {feed} list"),
            })?;
        let mut request = Request::get(url.as_str());
        if let Some(key) = self.config.api_key.as_deref() {
            request = request.header("x-api-key", key);
        }
        let body = self.http.send(&request).await?.body;
        let limit = u64::from(self.config.page_limit.clamp(1, CadtConfig::MAX_LIMIT));
        fetch::api_page(feed, &url, &body, page, limit)
            .map_err(|reason| FetchError::Malformed { url, reason })
    }

    fn detect_feed(&self, _file_name: &str, head: &[u8]) -> Option<Feed> {
        fetch::detect(head)
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        if !FEEDS.contains(&feed) {
            return Err(FileError::Unsupported {
                file: source.to_owned(),
                feed,
            });
        }
        fetch::file_page(feed, source, bytes).map_err(|reason| FileError::Malformed {
            file: source.to_owned(),
            reason,
        })
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        normalize::normalize(raw)
    }
}

/// This connector, as the server registers it.
pub const DESCRIPTOR: carbonmesh_connector::Descriptor = carbonmesh_connector::Descriptor {
    registry: carbonmesh_model::RegistryId::CADT,
    name: "Climate Action Data Trust node",
    // Every six hours at minute 50: a node syncs its subscriptions continuously, but each
    // organisation's data changes a few times a day at most.
    default_schedule: "0 50 */6 * * *",
    feeds: &FEEDS,
    settings: &["api_key", "org_uid"],
    secrets: &["api_key"],
    user_agent: None,
    needs_base_url: true,
    build: |setup| {
        let config = CadtConfig {
            api_key: setup.setting("api_key"),
            org_uid: setup.setting("org_uid"),
            ..setup
                .base_url()
                .map(CadtConfig::new)
                .unwrap_or_else(CadtConfig::files_only)
        };
        Ok(std::sync::Arc::new(CadtConnector::new(config, setup.http)))
    },
};
