//! carbonmesh connector for the Climate Action Reserve registry.
//!
//! CAR runs on the Xpansiv/APX platform at `thereserve2.apx.com`. Its public reports (projects,
//! issuances, retirements, cancellations) download as CSV; the connector reads those exports,
//! whose quoting is broken (embedded `"` not doubled) and whose rows end with a trailing comma.
//! See the crate's README for the endpoints and the field mapping.
#![deny(missing_docs)]

mod columns;
mod fetch;
mod normalize;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record, Rejection,
};
use carbonmesh_model::RegistryId;
use carbonmesh_normalize::read_csv;

use crate::fetch::Completeness;

/// Where the CAR reports are fetched from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarConfig {
    /// Scheme and host, without a trailing slash: `https://thereserve2.apx.com` in production,
    /// a loopback simulator in tests and demos.
    pub base_url: String,
}

impl CarConfig {
    /// The production CAR host.
    pub const PRODUCTION_URL: &'static str = "https://thereserve2.apx.com";

    /// A configuration reading from `base_url`.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
        }
    }
}

impl Default for CarConfig {
    fn default() -> Self {
        Self::new(Self::PRODUCTION_URL)
    }
}

/// The Climate Action Reserve connector.
#[derive(Clone)]
pub struct CarConnector {
    config: CarConfig,
    http: HttpClient,
}

impl CarConnector {
    /// A connector fetching from `config.base_url` through `http`.
    pub fn new(config: CarConfig, http: HttpClient) -> Self {
        Self { config, http }
    }

    /// The URL of the CSV export of `feed`.
    pub fn export_url(&self, feed: Feed) -> Option<String> {
        report_id(feed).map(|r| {
            format!(
                "{}/myModule/include/rptdownload.asp?r={r}&FormatType=csv",
                self.config.base_url
            )
        })
    }
}

/// The APX report number of each feed (`/myModule/rpt/myrpt.asp?r=<id>`).
fn report_id(feed: Feed) -> Option<u16> {
    match feed {
        Feed::Projects => Some(111),
        Feed::Issuances => Some(112),
        Feed::Retirements => Some(206),
        Feed::Cancellations => Some(308),
        Feed::Transactions => None,
    }
}

const FEEDS: [Feed; 4] = [
    Feed::Projects,
    Feed::Issuances,
    Feed::Retirements,
    Feed::Cancellations,
];

#[async_trait]
impl Connector for CarConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::Car
    }

    /// Daily at 03:20 UTC: CAR's reports change a few times a day at most, and each
    /// download is the whole report.
    fn default_schedule(&self) -> &'static str {
        "0 20 3 * * *"
    }

    fn feeds(&self) -> &'static [Feed] {
        &FEEDS
    }

    /// Each report downloads whole in one CSV, so there is one page per feed and the cursor
    /// is ignored.
    async fn fetch_page(&self, feed: Feed, _cursor: Option<&str>) -> Result<Page, FetchError> {
        let url = self.export_url(feed).ok_or_else(|| FetchError::Malformed {
            url: self.config.base_url.clone(),
            reason: format!("CAR publishes no {feed} report"),
        })?;
        let body = self.http.get(&url).await?;
        fetch::csv_page(feed, &url, &body, Completeness::Response)
            .map_err(|reason| FetchError::Malformed { url, reason })
    }

    fn detect_feed(&self, _file_name: &str, head: &[u8]) -> Option<Feed> {
        let rows = read_csv(head).ok()?;
        columns::detect(rows.headers())
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        if report_id(feed).is_none() {
            return Err(FileError::Unsupported {
                file: source.to_owned(),
                feed,
            });
        }
        fetch::csv_page(feed, source, bytes, Completeness::File).map_err(|reason| {
            FileError::Malformed {
                file: source.to_owned(),
                reason,
            }
        })
    }

    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        normalize::normalize(raw)
    }
}
