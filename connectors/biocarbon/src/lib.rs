//! carbonmesh connector for the BioCarbon Registry, published through Global CarbonTrace.
//!
//! `biocarbonregistry.com` no longer resolves; the registry's data is served by the Laravel API
//! behind `globalcarbontrace.io`. The connector pages through projects (`/api/ghg/projects`),
//! issuance blocks (`/api/ghg/carbon-credits`) and retirements (`/api/ghg/retreats`), and reads
//! cancellations project by project. Files are read as saved API responses. See the crate's
//! README for the endpoints and the mapping.
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
use serde_json::Value;

pub use crate::normalize::{canonical_project_id, normalize};

/// Where and how the Global CarbonTrace API is read.
///
/// carbonmesh configures every connector with the registry's host (scheme and host, e.g.
/// `https://api.globalcarbontrace.io`, or a loopback simulator `http://127.0.0.1:PORT`); the
/// connector appends the API paths (`/api/ghg/…`) itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BiocarbonConfig {
    /// Scheme and host without a trailing slash.
    pub base_url: String,
    /// The public `x-api-key` the registry's web site sends. Without it the API answers every
    /// request with HTTP 200 and `{"status":403,"data":[]}`, which the connector reports as a
    /// malformed page. carbonmesh ships no key: take it from the site and configure it.
    pub api_key: Option<String>,
    /// Records per page (`per_page`); the API honours at least 5000.
    pub page_size: u32,
}

impl BiocarbonConfig {
    /// The production API host.
    pub const PRODUCTION_URL: &'static str = "https://api.globalcarbontrace.io";

    /// The header carrying the API key.
    pub const API_KEY_HEADER: &'static str = "x-api-key";

    /// A configuration reading from the host `base_url`, without a key, 1000 records a page.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            api_key: None,
            page_size: 1000,
        }
    }

    /// Records per page as sent, at least 1.
    pub fn per_page(&self) -> u64 {
        u64::from(self.page_size.max(1))
    }

    /// Page `page` (1-based) of the paged resource of `feed`; cancellations page through the
    /// project list.
    pub fn page_url(&self, feed: Feed, page: u64) -> Option<String> {
        let resource = match feed {
            Feed::Cancellations => columns::resource(Feed::Projects)?,
            _ => columns::resource(feed)?,
        };
        Some(format!(
            "{}{resource}?per_page={}&page={page}",
            self.base_url,
            self.per_page()
        ))
    }

    /// The cancellations of the project with internal number `initiative`.
    pub fn cancellations_url(&self, initiative: &str) -> String {
        format!(
            "{}{}",
            self.base_url,
            columns::cancellations_path(initiative)
        )
    }
}

impl Default for BiocarbonConfig {
    fn default() -> Self {
        Self::new(Self::PRODUCTION_URL)
    }
}

/// The BioCarbon Registry connector.
#[derive(Clone)]
pub struct BiocarbonConnector {
    config: BiocarbonConfig,
    http: HttpClient,
}

impl BiocarbonConnector {
    /// A connector fetching from the host `config.base_url` through `http`.
    pub fn new(config: BiocarbonConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    /// The configuration in use.
    pub fn config(&self) -> &BiocarbonConfig {
        &self.config
    }

    fn request(&self, url: &str) -> Request {
        let request = Request::get(url);
        match &self.config.api_key {
            Some(key) => request.header(BiocarbonConfig::API_KEY_HEADER, key.clone()),
            None => request,
        }
    }

    async fn get_json(&self, url: &str) -> Result<Value, FetchError> {
        let response = self.http.send(&self.request(url)).await?;
        serde_json::from_slice(&response.body).map_err(|e| FetchError::Malformed {
            url: url.to_owned(),
            reason: format!("response is not valid JSON: {e}"),
        })
    }

    /// Page `page` of a paged resource, checked against the envelope's own counts: the server
    /// must serve the page asked for, holding every record `total` leaves for it.
    async fn laravel(
        &self,
        feed: Feed,
        page: u64,
    ) -> Result<(String, fetch::LaravelPage), FetchError> {
        let url = self
            .config
            .page_url(feed, page)
            .ok_or_else(|| FetchError::Malformed {
                url: self.config.base_url.clone(),
                reason: format!("BioCarbon publishes no {feed} feed"),
            })?;
        let malformed = |reason: String| FetchError::Malformed {
            url: url.clone(),
            reason,
        };
        let body = self.get_json(&url).await?;
        let p = fetch::laravel_page(body).map_err(malformed)?;
        if let Some(served) = p.current_page
            && served != page
        {
            return Err(malformed(format!(
                "asked for page {page}, got page {served}"
            )));
        }
        // The server's `per_page` is the one that places records on pages.
        let per_page = p.per_page.unwrap_or(self.config.per_page()).max(1);
        let total = p
            .total
            .ok_or_else(|| malformed("the page has no `total`".into()))?;
        let before = (page - 1).saturating_mul(per_page);
        let expected = total.saturating_sub(before).min(per_page);
        let got = p.data.len() as u64;
        if got != expected {
            return Err(malformed(format!(
                "{got} records where total {total} announces {expected} on page {page} of {per_page}"
            )));
        }
        Ok((url, p))
    }

    /// The cancellations of every project on page `page` of the project list.
    async fn cancellations(&self, page: u64) -> Result<Page, FetchError> {
        let (_, projects) = self.laravel(Feed::Projects, page).await?;
        let mut out = Page::default();
        for project in &projects.data {
            let raw = RawRecord {
                feed: Feed::Projects,
                source: String::new(),
                line: 0,
                body: carbonmesh_connector::RawBody::Json(project.clone()),
            };
            let Some(initiative) = raw.clean_field(&[columns::ID]) else {
                return Err(FetchError::Malformed {
                    url: self
                        .config
                        .page_url(Feed::Projects, page)
                        .unwrap_or_default(),
                    reason: "a project without `id`: its cancellations cannot be asked for".into(),
                });
            };
            let url = self.config.cancellations_url(&initiative);
            let body = self.get_json(&url).await?;
            let response = fetch::laravel_page(body).map_err(|reason| FetchError::Malformed {
                url: url.clone(),
                reason,
            })?;
            let items = response
                .data
                .into_iter()
                .map(|i| fetch::with_initiative(i, &initiative))
                .collect();
            let got = Page::of_json(Feed::Cancellations, &url, items, 1)
                .objects_only()
                .map_err(|reason| FetchError::Malformed {
                    url: url.clone(),
                    reason,
                })?;
            out.records.extend(got.records);
        }
        out.next = next(page, &projects);
        Ok(out)
    }
}

/// The cursor of the page after `page`, if the envelope says there is one.
fn next(page: u64, p: &fetch::LaravelPage) -> Option<String> {
    let more = match p.last_page {
        Some(last) => page < last,
        None => p.has_next_url,
    };
    more.then(|| (page + 1).to_string())
}

const FEEDS: [Feed; 4] = [
    Feed::Projects,
    Feed::Issuances,
    Feed::Retirements,
    Feed::Cancellations,
];

#[async_trait]
impl Connector for BiocarbonConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::BIOCARBON
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    /// The cursor is the 1-based page number. Cancellations page through the project list: each
    /// page fetches the cancellations of that page's projects.
    async fn fetch_page(&self, feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError> {
        let page: u64 = match cursor {
            None => 1,
            Some(c) => c
                .parse()
                .ok()
                .filter(|p| *p >= 1)
                .ok_or_else(|| FetchError::Malformed {
                    url: self.config.base_url.clone(),
                    reason: format!("cursor `{c}` is not a page number"),
                })?,
        };
        if feed == Feed::Cancellations {
            return self.cancellations(page).await;
        }
        let (url, p) = self.laravel(feed, page).await?;
        let per_page = p.per_page.unwrap_or(self.config.per_page()).max(1);
        let next = next(page, &p);
        let first_line = (page - 1).saturating_mul(per_page) + 1;
        let got = Page::of_json(feed, &url, p.data, first_line)
            .objects_only()
            .map_err(|reason| FetchError::Malformed { url, reason })?;
        Ok(Page { next, ..got })
    }

    fn detect_feed(&self, file_name: &str, head: &[u8]) -> Option<Feed> {
        if carbonmesh_connector::looks_like_json(head)
            && let Some(feed) = fetch::detect_json(&String::from_utf8_lossy(head))
        {
            return Some(feed);
        }
        fetch::detect_name(file_name)
    }

    /// Reads a saved Laravel page, a bare array of records, or cancellations saved per project
    /// (`{"<project id>": {"status": 200, "data": […]}, …}`). Records are numbered by their
    /// position in the file.
    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        let malformed = |reason: String| FileError::Malformed {
            file: source.to_owned(),
            reason,
        };
        if feed == Feed::Transactions {
            return Err(FileError::Unsupported {
                file: source.to_owned(),
                feed,
            });
        }
        let value: Value = carbonmesh_connector::from_saved_json(bytes)
            .map_err(|e| malformed(format!("not valid JSON: {e}")))?;
        match value {
            Value::Array(items) => Ok(Page::of_json(feed, source, items, 1)),
            Value::Object(object)
                if feed == Feed::Cancellations && !object.contains_key("data") =>
            {
                Ok(fetch::cancellations_by_project(source, object))
            }
            object => {
                let p = fetch::laravel_page(object).map_err(malformed)?;
                Ok(Page::of_json(feed, source, p.data, 1))
            }
        }
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        normalize::normalize(raw)
    }
}

/// This connector, as the server registers it.
pub const DESCRIPTOR: carbonmesh_connector::Descriptor = carbonmesh_connector::Descriptor {
    registry: carbonmesh_model::RegistryId::BIOCARBON,
    name: "BioCarbon registry",
    // Daily at 05:30 UTC: a dozen pages of 1000, and one request per project for cancellations.
    default_schedule: "0 30 5 * * *",
    feeds: &FEEDS,
    settings: &["api_key"],
    secrets: &["api_key"],
    user_agent: None,
    needs_base_url: false,
    build: |setup| {
        let config = BiocarbonConfig {
            api_key: setup.setting("api_key"),
            ..setup
                .base_url()
                .map(BiocarbonConfig::new)
                .unwrap_or_default()
        };
        Ok(std::sync::Arc::new(BiocarbonConnector::new(
            config, setup.http,
        )))
    },
};
