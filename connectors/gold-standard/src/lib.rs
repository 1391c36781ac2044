//! carbonmesh connector for the Gold Standard Impact Registry.
//!
//! Reads projects and credit blocks from the public REST API (`/projects`, `/credits`) and
//! the registry's CSV exports (projects, issuances, and retirements, which also hold
//! cancellations). See the README for the endpoints and the field mapping.
#![deny(missing_docs)]

pub mod columns;
pub mod fetch;
pub mod normalize;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record, Rejection,
    Request, looks_like_json,
};
use carbonmesh_model::RegistryId;
use carbonmesh_normalize::normalize_header;
use serde_json::Value;

/// A browser `User-Agent` for [`carbonmesh_connector::HttpPolicy::user_agent`]: the public
/// API sits behind a firewall that answers other agents with 403.
pub const BROWSER_USER_AGENT: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/// Where to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GoldStandardConfig {
    /// Base URL of the public API (`https://public-api.goldstandard.org`).
    pub base_url: String,
}

impl Default for GoldStandardConfig {
    fn default() -> Self {
        Self {
            base_url: "https://public-api.goldstandard.org".into(),
        }
    }
}

/// The Gold Standard connector.
pub struct GoldStandardConnector {
    config: GoldStandardConfig,
    http: HttpClient,
}

impl GoldStandardConnector {
    /// A connector fetching with `http` from `config.base_url`.
    pub fn new(config: GoldStandardConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    /// The configuration in use.
    pub fn config(&self) -> &GoldStandardConfig {
        &self.config
    }
}

#[async_trait]
impl Connector for GoldStandardConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::GOLD_STANDARD
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    async fn fetch_page(&self, feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError> {
        let page_no: u64 = match cursor {
            None => 1,
            Some(c) => c.parse().map_err(|_| FetchError::Malformed {
                url: self.config.base_url.clone(),
                reason: format!("cursor `{c}` is not a page number"),
            })?,
        };
        let size = fetch::max_page_size(feed);
        let url = fetch::page_url(&self.config.base_url, feed, page_no, size);
        let malformed = |reason: String| FetchError::Malformed {
            url: url.clone(),
            reason,
        };
        let response = self.http.send(&Request::get(url.clone())).await?;
        let items = match serde_json::from_slice(&response.body) {
            Ok(Value::Array(items)) => items,
            Ok(other) => {
                // Errors can arrive inside an HTTP 200.
                let shown: String = other.to_string().chars().take(200).collect();
                return Err(malformed(format!("expected a JSON array, got {shown}")));
            }
            Err(e) => return Err(malformed(format!("response is not valid JSON: {e}"))),
        };
        if items.len() > size as usize {
            return Err(malformed(format!(
                "{} items on a page of {size}",
                items.len()
            )));
        }
        let before = (page_no - 1) * u64::from(size);
        let page = Page::of_json(feed, &url, items, before + 1)
            .objects_only()
            .map_err(malformed)?;
        let got = page.records.len() as u64;
        let total =
            match response.header(fetch::TOTAL_HEADER) {
                None => None,
                Some(v) => Some(v.trim().parse::<u64>().map_err(|_| {
                    malformed(format!("{} `{v}` is not a count", fetch::TOTAL_HEADER))
                })?),
            };
        let next = match total {
            Some(total) => {
                let expected = total.saturating_sub(before).min(u64::from(size));
                if got != expected {
                    return Err(malformed(format!(
                        "{got} items where {} {total} announces {expected} on page {page_no} of size {size}",
                        fetch::TOTAL_HEADER
                    )));
                }
                before + got < total
            }
            // Without a total, a full page means there may be more.
            None => got == u64::from(size),
        };
        Ok(Page {
            next: next.then(|| (page_no + 1).to_string()),
            ..page
        })
    }

    fn detect_feed(&self, file_name: &str, head: &[u8]) -> Option<Feed> {
        if looks_like_json(head) {
            let text = String::from_utf8_lossy(head);
            return if text.contains("\"starting_credit_number\"")
                || text.contains("\"number_of_credits\"")
            {
                Some(Feed::Transactions)
            } else if text.contains("\"sustaincert_id\"") {
                Some(Feed::Projects)
            } else {
                None
            };
        }
        let first_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
        let headers: Vec<String> = String::from_utf8_lossy(first_line)
            .split(',')
            .map(|h| normalize_header(h.trim_matches('"')))
            .collect();
        let has = |h: &str| headers.iter().any(|x| x == h);
        if has("serial number") && has("credit status") {
            return Some(if has("retirement date") {
                Feed::Retirements
            } else {
                Feed::Issuances
            });
        }
        if has("gsid") && has("project developer name") {
            return Some(Feed::Projects);
        }
        let name = file_name.to_ascii_lowercase();
        ["retirement", "issuance", "credit", "project"]
            .iter()
            .zip([
                Feed::Retirements,
                Feed::Issuances,
                Feed::Transactions,
                Feed::Projects,
            ])
            .find(|(k, _)| name.contains(*k))
            .map(|(_, f)| f)
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        let malformed = |reason: String| FileError::Malformed {
            file: source.to_owned(),
            reason,
        };
        if looks_like_json(bytes) {
            let items = match carbonmesh_connector::from_saved_json(bytes) {
                Ok(Value::Array(items)) => items,
                Ok(other) => {
                    return Err(malformed(format!(
                        "not a saved Gold Standard API response: `/projects` and `/credits` \
                         answer a JSON array of items, this file holds {}",
                        fetch::describe(&other)
                    )));
                }
                Err(e) => return Err(malformed(format!("not valid JSON: {e}"))),
            };
            return Ok(Page::of_json(feed, source, items, 1));
        }
        fetch::csv_page(feed, source, bytes).map_err(malformed)
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        normalize::normalize(raw)
    }
}

/// This connector, as the server registers it.
pub const DESCRIPTOR: carbonmesh_connector::Descriptor = carbonmesh_connector::Descriptor {
    registry: carbonmesh_model::RegistryId::GOLD_STANDARD,
    name: "Gold Standard Impact Registry",
    // Daily at 04:41 UTC; a full credits walk is thousands of pages at one per second.
    default_schedule: "0 41 4 * * *",
    // `/credits` lists every block in its current state: one combined ledger.
    feeds: &[Feed::Projects, Feed::Transactions],
    settings: &[],
    secrets: &[],
    // Gold Standard's firewall refuses clients that do not look like a browser.
    user_agent: Some(BROWSER_USER_AGENT),
    needs_base_url: false,
    build: |setup| {
        let config = setup
            .base_url()
            .map(|base_url| GoldStandardConfig { base_url })
            .unwrap_or_default();
        Ok(std::sync::Arc::new(GoldStandardConnector::new(
            config, setup.http,
        )))
    },
};
