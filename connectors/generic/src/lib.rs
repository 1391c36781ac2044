//! A carbonmesh connector configured entirely in TOML.
//!
//! A registry that publishes CSV or JSON (over HTTP, or as files downloaded by hand) can be
//! read without writing Rust: its configuration names the registry id, where each feed is
//! fetched and how it is paged, the columns or JSON paths that hold each model field, how dates
//! are written, which serial grammar applies (a built-in one, or a regular expression with the
//! named groups `namespace`, `start` and `end`) and how the registry's words map onto
//! transaction types and statuses. See the crate's README for every key, and
//! `config/generic/` for annotated examples.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use carbonmesh_connector_generic::{GenericConfig, GenericConnector};
//! let config = GenericConfig::from_file("config/generic/example-registry.toml".as_ref())?;
//! let http = carbonmesh_connector::HttpClient::new(Default::default())?;
//! let connector = GenericConnector::new(&config, http)?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

pub mod config;
mod fetch;
mod json_path;
mod normalize;
mod spec;

use async_trait::async_trait;
use carbonmesh_connector::{
    Completeness, Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record,
    Rejection, Request,
};
use carbonmesh_model::RegistryId;

pub use crate::config::GenericConfig;
pub use crate::spec::{DEFAULT_MAX_PAGES, DEFAULT_SCHEDULE};

/// A configuration that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read {path}: {reason}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// The TOML is malformed, or a key is unknown, missing or of the wrong type.
    #[error("{origin}: {}", errors.join("; "))]
    Parse {
        /// The file name, or what the text came from.
        origin: String,
        /// Every problem, each naming its key.
        errors: Vec<String>,
    },
    /// The keys parse but their values do not fit together.
    #[error("`{key}`: {reason}")]
    Invalid {
        /// The key at fault, dotted (`feeds.issuances.transaction`).
        key: String,
        /// What is wrong.
        reason: String,
    },
}

/// A connector reading one registry as its configuration describes.
pub struct GenericConnector {
    spec: spec::Spec,
    http: HttpClient,
}

impl std::fmt::Debug for GenericConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenericConnector")
            .field("registry", &self.spec.registry)
            .field("feeds", &self.spec.feed_order)
            .finish_non_exhaustive()
    }
}

impl GenericConnector {
    /// Checks `config` and builds the connector.
    pub fn new(config: &GenericConfig, http: HttpClient) -> Result<Self, ConfigError> {
        Ok(Self {
            spec: spec::compile(config)?,
            http,
        })
    }

    /// Parses TOML text and builds the connector.
    pub fn from_toml(origin: &str, text: &str, http: HttpClient) -> Result<Self, ConfigError> {
        Self::new(&GenericConfig::from_toml(origin, text)?, http)
    }

    fn feed(&self, feed: Feed) -> Option<&spec::FeedSpec> {
        self.spec.feeds.get(&feed)
    }
}

#[async_trait]
impl Connector for GenericConnector {
    fn registry(&self) -> RegistryId {
        self.spec.registry
    }

    fn default_schedule(&self) -> &str {
        &self.spec.schedule
    }

    fn feeds(&self) -> &[Feed] {
        &self.spec.feed_order
    }

    async fn fetch_page(&self, feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError> {
        let registry = self.spec.registry;
        let (Some(http), Some(spec)) = (&self.spec.http, self.feed(feed)) else {
            let reason = if self.spec.http.is_none() {
                format!("{registry} is configured to be read from files only")
            } else {
                format!("{registry} has no {feed} feed configured")
            };
            return Err(FetchError::Malformed {
                url: String::new(),
                reason,
            });
        };
        let feed_url = spec.url.as_deref().unwrap_or(http.base_url.as_str());
        let window = fetch::window(&http.paging, feed_url, cursor).map_err(|reason| {
            FetchError::Malformed {
                url: feed_url.to_owned(),
                reason,
            }
        })?;
        let malformed = |reason: String| FetchError::Malformed {
            url: window.url.clone(),
            reason,
        };
        if window.index >= http.max_pages {
            return Err(malformed(format!(
                "page {} is past the configured cap of {} pages",
                window.index + 1,
                http.max_pages
            )));
        }
        let request = http
            .headers
            .iter()
            .fold(Request::get(window.url.clone()), |r, (k, v)| {
                r.header(k.clone(), v.clone())
            });
        let response = self.http.send(&request).await?;
        let (page, doc) = fetch::body_records(
            spec,
            &window.url,
            &response.body,
            Completeness::Response,
            window.first_line,
        )
        .map_err(malformed)?;
        if let Some((r, reason)) = page.unreadable.first()
            && spec.format == config::FormatConfig::Json
        {
            return Err(malformed(format!("record {}: {reason}", r.line)));
        }
        let got = (page.records.len() + page.unreadable.len()) as u64;
        let next = fetch::next_cursor(&http.paging, spec, &window, got, doc.as_ref())
            .map_err(malformed)?;
        Ok(Page { next, ..page })
    }

    fn detect_feed(&self, file_name: &str, head: &[u8]) -> Option<Feed> {
        fetch::detect(self.spec.feeds.values(), file_name, head)
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        let spec = self.feed(feed).ok_or_else(|| FileError::Unsupported {
            file: source.to_owned(),
            feed,
        })?;
        fetch::body_records(spec, source, bytes, Completeness::File, 1)
            .map(|(page, _)| page)
            .map_err(|reason| FileError::Malformed {
                file: source.to_owned(),
                reason,
            })
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        let spec = self.feed(raw.feed).ok_or_else(|| {
            Rejection::record(format!(
                "{} has no {} feed configured",
                self.spec.registry, raw.feed
            ))
        })?;
        normalize::normalize(self.spec.registry, spec, raw)
    }
}
