//! carbonmesh connector for the Isometric registry.
//!
//! Isometric publishes no unit serials: a record's identity is its own id (`prj_…`, `iss_…`,
//! `ret_…`), and quantities are fractional tonnes given exactly in kilograms
//! (`credits: 2765.37`, `credit_kgs: 2765370`). The connector keeps every quantity exact as a
//! decimal number of tonnes computed from the kilograms, and gives each issuance and retirement
//! the synthetic range `1..=kilograms` in its own namespace `isometric:<record id>`
//! ([`carbonmesh_serials::isometric_record`]), which can never overlap another record.
//!
//! It polls the Registry API (`/registry/v0/projects`, `/issuances`, `/retirements`, Relay
//! cursor paging with `first`/`after`) and reads both API pages and CarbonPlan's flattened CSV
//! exports from files. See the crate's README for endpoints and the field mapping.
#![deny(missing_docs)]

mod columns;
mod fetch;
mod normalize;

use std::fmt;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record, Rejection,
    http::Request, looks_like_json,
};
use carbonmesh_model::RegistryId;
use carbonmesh_normalize::read_csv;

use crate::fetch::Completeness;

/// Where and how the Isometric Registry API is read.
///
/// carbonmesh configures every connector with the registry's host (scheme and host, e.g.
/// `https://api.isometric.com`, or a loopback simulator `http://127.0.0.1:PORT`); the connector
/// appends [`IsometricConfig::API_PREFIX`] and each feed's path.
///
/// The API asks for two credentials: an `x-client-secret` header identifying the client and a
/// bearer access token. Both are optional here (a mirror may not need them) and are never
/// printed: `Debug` shows only whether each is set.
#[derive(Clone, PartialEq, Eq)]
pub struct IsometricConfig {
    /// Scheme and host without a trailing slash: `https://api.isometric.com` in production.
    pub base_url: String,
    /// Nodes per page (`first`).
    pub page_size: u32,
    /// Sent as the `x-client-secret` header when set.
    pub client_secret: Option<String>,
    /// Sent as `Authorization: Bearer <token>` when set.
    pub access_token: Option<String>,
}

impl IsometricConfig {
    /// The production Registry API host.
    pub const PRODUCTION_URL: &'static str = "https://api.isometric.com";

    /// The path of the Registry API (version 0) under the host.
    pub const API_PREFIX: &'static str = "/registry/v0";

    /// The largest page asked for.
    pub const MAX_PAGE_SIZE: u32 = 100;

    /// A configuration reading from the host `host`, 100 nodes per page, no credentials.
    /// A trailing slash is dropped.
    pub fn new(host: impl Into<String>) -> Self {
        Self {
            base_url: host.into().trim_end_matches('/').to_owned(),
            page_size: Self::MAX_PAGE_SIZE,
            client_secret: None,
            access_token: None,
        }
    }

    /// The same configuration with the API credentials.
    pub fn with_credentials(
        mut self,
        client_secret: impl Into<String>,
        access_token: impl Into<String>,
    ) -> Self {
        self.client_secret = Some(client_secret.into());
        self.access_token = Some(access_token.into());
        self
    }

    /// The API base: host followed by [`IsometricConfig::API_PREFIX`].
    pub fn api_url(&self) -> String {
        format!("{}{}", self.base_url, Self::API_PREFIX)
    }

    /// Nodes per page as sent in `first`, within 1..=[`IsometricConfig::MAX_PAGE_SIZE`].
    pub fn first(&self) -> u32 {
        self.page_size.clamp(1, Self::MAX_PAGE_SIZE)
    }
}

impl Default for IsometricConfig {
    fn default() -> Self {
        Self::new(Self::PRODUCTION_URL)
    }
}

impl fmt::Debug for IsometricConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |v: &Option<String>| if v.is_some() { "<set>" } else { "<none>" };
        f.debug_struct("IsometricConfig")
            .field("base_url", &self.base_url)
            .field("page_size", &self.page_size)
            .field("client_secret", &set(&self.client_secret))
            .field("access_token", &set(&self.access_token))
            .finish()
    }
}

/// The Isometric connector.
#[derive(Clone)]
pub struct IsometricConnector {
    config: IsometricConfig,
    http: HttpClient,
}

impl IsometricConnector {
    /// A connector fetching from the host `config.base_url` through `http`.
    pub fn new(config: IsometricConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    /// The request for the page of `feed` after `cursor` (`None` for the first page):
    /// `GET /registry/v0/<feed>?first=<n>[&after=<cursor>]` with the configured credentials.
    /// `None` for a feed Isometric does not publish.
    pub fn page_request(&self, feed: Feed, cursor: Option<&str>) -> Option<Request> {
        let path = columns::api_path(feed)?;
        let mut url = format!(
            "{}{path}?first={}",
            self.config.api_url(),
            self.config.first()
        );
        if let Some(c) = cursor {
            url.push_str("&after=");
            url.push_str(&fetch::encode_query_value(c));
        }
        let mut request = Request::get(url).header("Accept", "application/json");
        if let Some(secret) = &self.config.client_secret {
            request = request.header("x-client-secret", secret.as_str());
        }
        if let Some(token) = &self.config.access_token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        Some(request)
    }
}

const FEEDS: [Feed; 3] = [Feed::Projects, Feed::Issuances, Feed::Retirements];

#[async_trait]
impl Connector for IsometricConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::ISOMETRIC
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    /// The cursor is the API's opaque `end_cursor`, sent back as `after`. A page that claims a
    /// next page but hands back the cursor it was asked with would loop forever: malformed.
    async fn fetch_page(&self, feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError> {
        let request = self
            .page_request(feed, cursor)
            .ok_or_else(|| FetchError::Malformed {
                url: self.config.api_url(),
                reason: format!("Isometric publishes no {feed} feed"),
            })?;
        let url = request.url().to_owned();
        let malformed = |reason: String| FetchError::Malformed {
            url: url.clone(),
            reason,
        };
        let response = self.http.send(&request).await?;
        let body: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| malformed(format!("response is not valid JSON: {e}")))?;
        let page = fetch::api_page(feed, &url, &body, 1).map_err(malformed)?;
        if page.next.is_some() && (page.records.is_empty() || page.next.as_deref() == cursor) {
            return Err(malformed(
                "the page announces a next page but does not advance (no nodes, or the same \
                 cursor)"
                    .to_owned(),
            ));
        }
        Ok(Page {
            records: page.records,
            next: page.next,
            ..Page::default()
        })
    }

    fn detect_feed(&self, _file_name: &str, head: &[u8]) -> Option<Feed> {
        if looks_like_json(head) {
            let text = String::from_utf8_lossy(head);
            return fetch::json_feed(&text);
        }
        let rows = read_csv(head).ok()?;
        columns::detect(rows.headers())
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        let malformed = |reason: String| FileError::Malformed {
            file: source.to_owned(),
            reason,
        };
        if columns::api_path(feed).is_none() {
            return Err(FileError::Unsupported {
                file: source.to_owned(),
                feed,
            });
        }
        if looks_like_json(bytes) {
            let json = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            let value: serde_json::Value = serde_json::from_slice(json)
                .map_err(|e| malformed(format!("not valid JSON: {e}")))?;
            let records = fetch::json_file(feed, source, &value).map_err(malformed)?;
            return Ok(Page {
                records,
                ..Page::default()
            });
        }
        fetch::csv_page(feed, source, bytes, Completeness::File).map_err(malformed)
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        normalize::normalize(raw)
    }
}

/// This connector, as the server registers it.
pub const DESCRIPTOR: carbonmesh_connector::Descriptor = carbonmesh_connector::Descriptor {
    registry: carbonmesh_model::RegistryId::ISOMETRIC,
    name: "Isometric registry",
    // Every six hours at minute 35: Isometric issues and retires continuously, and a poll of
    // the whole registry is a few dozen requests.
    default_schedule: "0 35 */6 * * *",
    feeds: &FEEDS,
    settings: &["client_secret", "access_token"],
    secrets: &["client_secret", "access_token"],
    user_agent: None,
    needs_base_url: false,
    build: |setup| {
        let config = IsometricConfig {
            client_secret: setup.setting("client_secret"),
            access_token: setup.setting("access_token"),
            ..setup
                .base_url()
                .map(IsometricConfig::new)
                .unwrap_or_default()
        };
        Ok(std::sync::Arc::new(IsometricConnector::new(
            config, setup.http,
        )))
    },
};
