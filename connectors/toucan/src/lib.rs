//! carbonmesh connector for the Toucan Protocol carbon bridge.
//!
//! Toucan brings registry credits on chain: a block of units is retired or locked in its
//! registry (Verra, until May 2022; Puro.earth since), recorded as a batch with the registry's
//! serial number, and minted as TCO2 tokens of the project's vintage. The same tonnes then
//! exist twice, in the registry and on chain, which is what carbonmesh's matcher must see.
//!
//! The connector reads Toucan's subgraph (The Graph; GraphQL over HTTP `POST`): TCO2 tokens
//! as projects, batches as credit records carrying the registry's serial, and retirements of
//! tokens. Saved subgraph responses, and TCO2 tokens as the Toucan SDK prints them, import from
//! files. See the crate's README for the mapping and its sources.
#![deny(missing_docs)]

mod normalize;
mod subgraph;

use std::fmt;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record, Rejection,
    http::Request,
};
use carbonmesh_model::RegistryId;

pub use crate::normalize::{REGISTRY, normalize, tonnes};
pub use crate::subgraph::PAGE_SIZE;

/// Which subgraph is read, and with which key.
///
/// The Graph's gateway serves a subgraph at `<gateway>/api/<key>/subgraphs/id/<subgraph id>`;
/// a mirror or the simulator is named whole with `base_url`. The key is never printed: `Debug`
/// shows only whether it is set.
#[derive(Clone, PartialEq, Eq)]
pub struct ToucanConfig {
    /// The subgraph's URL, when named whole (`base_url`).
    pub url: Option<String>,
    /// The Graph API key, for the gateway.
    pub api_key: Option<String>,
    /// The subgraph id on the gateway: Toucan's Polygon deployment unless set.
    pub subgraph: String,
}

impl ToucanConfig {
    /// The Graph's gateway.
    pub const GATEWAY: &'static str = "https://gateway-arbitrum.network.thegraph.com";

    /// Toucan's subgraph on Polygon, where most TCO2 tokens live.
    pub const POLYGON_SUBGRAPH: &'static str = "FU5APMSSCqcRy9jy56aXJiGV3PQmFQHg2tzukvSJBgwW";

    /// The URL queries are sent to, or why there is none.
    pub fn endpoint(&self) -> Result<String, String> {
        if let Some(url) = &self.url {
            return Ok(url.trim_end_matches('/').to_owned());
        }
        match &self.api_key {
            Some(key) => Ok(format!(
                "{}/api/{key}/subgraphs/id/{}",
                Self::GATEWAY,
                self.subgraph
            )),
            None => Err(
                "The Graph's gateway needs an API key: set `api_key` (or name a \
                         subgraph URL with `base_url`)"
                    .to_owned(),
            ),
        }
    }
}

impl Default for ToucanConfig {
    fn default() -> Self {
        Self {
            url: None,
            api_key: None,
            subgraph: Self::POLYGON_SUBGRAPH.to_owned(),
        }
    }
}

impl fmt::Debug for ToucanConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ToucanConfig")
            .field("url", &self.url)
            .field("api_key", &self.api_key.as_ref().map(|_| "<set>"))
            .field("subgraph", &self.subgraph)
            .finish()
    }
}

/// The Toucan connector.
#[derive(Clone)]
pub struct ToucanConnector {
    config: ToucanConfig,
    http: HttpClient,
}

impl ToucanConnector {
    /// A connector querying the subgraph of `config` through `http`.
    pub fn new(config: ToucanConfig, http: HttpClient) -> Self {
        Self { config, http }
    }
}

const FEEDS: [Feed; 3] = [Feed::Projects, Feed::Issuances, Feed::Retirements];

#[async_trait]
impl Connector for ToucanConnector {
    fn registry(&self) -> RegistryId {
        REGISTRY
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    /// The cursor is the id of the last entity read; a full page asks for the ids after it.
    async fn fetch_page(&self, feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError> {
        let url = self
            .config
            .endpoint()
            .map_err(|reason| FetchError::Malformed {
                url: ToucanConfig::GATEWAY.to_owned(),
                reason,
            })?;
        let malformed = |reason: String| FetchError::Malformed {
            url: url.clone(),
            reason,
        };
        let body = subgraph::query(feed, cursor.unwrap_or(""))
            .ok_or_else(|| malformed(format!("Toucan publishes no {feed} feed")))?;
        let response = self
            .http
            .send(&Request::post_json(url.clone(), body))
            .await?;
        let body: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| malformed(format!("response is not valid JSON: {e}")))?;
        let items = subgraph::response_items(feed, &body).map_err(malformed)?;
        let next = subgraph::next_cursor(&items).map_err(malformed)?;
        if next.is_some() && next.as_deref() == cursor {
            return Err(malformed(
                "the page ends at the id it started after: paging would not advance".into(),
            ));
        }
        let mut page = Page::of_json(feed, &url, items, 1)
            .objects_only()
            .map_err(malformed)?;
        page.next = next;
        Ok(page)
    }

    fn detect_feed(&self, _file_name: &str, head: &[u8]) -> Option<Feed> {
        // A saved response is small enough to read whole from the head; a longer one names
        // its entity in its first bytes (`{"data":{"batchTokens":[`).
        if !carbonmesh_connector::looks_like_json(head) {
            return None;
        }
        match carbonmesh_connector::from_saved_json(head) {
            Ok(value) => subgraph::detect(&value),
            Err(_) => {
                let text = String::from_utf8_lossy(head);
                FEEDS.into_iter().find(|&feed| {
                    subgraph::entity(feed).is_some_and(|e| text.contains(&format!("\"{e}\"")))
                })
            }
        }
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        if subgraph::entity(feed).is_none() {
            return Err(FileError::Unsupported {
                file: source.to_owned(),
                feed,
            });
        }
        let malformed = |reason: String| FileError::Malformed {
            file: source.to_owned(),
            reason,
        };
        let value = carbonmesh_connector::from_saved_json(bytes)
            .map_err(|e| malformed(format!("not valid JSON: {e}")))?;
        let items = subgraph::file_items(feed, value).map_err(malformed)?;
        Ok(Page::of_json(feed, source, items, 1))
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        normalize::normalize(raw)
    }
}

/// This connector, as the server registers it.
pub const DESCRIPTOR: carbonmesh_connector::Descriptor = carbonmesh_connector::Descriptor {
    registry: REGISTRY,
    name: "Toucan Protocol carbon bridge",
    // Daily at 06:10 UTC: bridging is rare since 2022, and the whole subgraph is a few dozen
    // pages.
    default_schedule: "0 10 6 * * *",
    feeds: &FEEDS,
    settings: &["api_key", "subgraph"],
    secrets: &["api_key"],
    user_agent: None,
    needs_base_url: false,
    build: |setup| {
        let defaults = ToucanConfig::default();
        let config = ToucanConfig {
            url: setup.base_url(),
            api_key: setup.setting("api_key"),
            subgraph: setup.setting("subgraph").unwrap_or(defaults.subgraph),
        };
        Ok(std::sync::Arc::new(ToucanConnector::new(
            config, setup.http,
        )))
    },
};
