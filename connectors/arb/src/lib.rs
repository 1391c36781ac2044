//! carbonmesh connector for the California ARB Offset Credit Issuance Table.
//!
//! CARB publishes one table of every ARB offset credit issuance. Each row ties a CARB project
//! (`CAOD1007`) to the project in its offset project registry (`ACR1007`, `CAR997`, a Verra
//! number): the link that matches an ACR or CAR cancel-to-convert to the compliance offsets it
//! became. The table publishes no serials. See the crate's README for the source and mapping.
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
pub use crate::normalize::opr_reference;

/// Where the issuance table is fetched from.
///
/// carbonmesh configures every connector with the registry's host (scheme and host); the
/// connector appends the table's path, [`ArbConfig::TABLE_PATH`], CARB's own page path.
///
/// CARB publishes the table as an XLSX linked from that page, and carbonmesh does not read
/// XLSX yet: the connector reads the CSV of sheet 3 served at that path (by the carbonmesh
/// simulator, or a mirror that converts the sheet). Pointed at CARB itself, a fetch fails
/// with [`FetchError::Malformed`] saying the table came as HTML or XLSX.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArbConfig {
    /// Scheme and host without a trailing slash: `https://ww2.arb.ca.gov` in production, a
    /// loopback simulator (`http://127.0.0.1:PORT`) in tests and demos.
    pub base_url: String,
    /// Path of the sheet-3 CSV under `base_url`.
    pub table_path: String,
}

impl ArbConfig {
    /// CARB's host.
    pub const PRODUCTION_URL: &'static str = "https://ww2.arb.ca.gov";

    /// The issuance table's page on CARB's site, where the sheet-3 CSV is read from.
    pub const TABLE_PATH: &'static str = "/resources/documents/arb-offset-credit-issuance-table";

    /// A configuration reading the table from the host `base_url` + [`ArbConfig::TABLE_PATH`].
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            base_url: base_url.into().trim_end_matches('/').to_owned(),
            table_path: Self::TABLE_PATH.to_owned(),
        }
    }

    /// The table's URL.
    pub fn table_url(&self) -> String {
        format!("{}{}", self.base_url, self.table_path)
    }
}

impl Default for ArbConfig {
    fn default() -> Self {
        Self::new(Self::PRODUCTION_URL)
    }
}

/// The California ARB issuance-table connector.
#[derive(Clone)]
pub struct ArbConnector {
    config: ArbConfig,
    http: HttpClient,
}

impl ArbConnector {
    /// A connector fetching the table from `config` through `http`.
    pub fn new(config: ArbConfig, http: HttpClient) -> Self {
        Self { config, http }
    }
}

/// ARB projects come from the issuance rows themselves, so one feed carries everything.
const FEEDS: [Feed; 1] = [Feed::Issuances];

#[async_trait]
impl Connector for ArbConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::ARB
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    /// The table is one file: one page, the cursor is ignored.
    async fn fetch_page(&self, feed: Feed, _cursor: Option<&str>) -> Result<Page, FetchError> {
        let url = self.config.table_url();
        if feed != Feed::Issuances {
            return Err(FetchError::Malformed {
                url,
                reason: format!("the ARB table has no {feed} feed"),
            });
        }
        let body = self.http.get(&url).await?;
        if let Some(kind) = fetch::not_csv(&body) {
            return Err(FetchError::Malformed {
                url,
                reason: format!(
                    "the table came as {kind}, not the sheet-3 CSV; carbonmesh does not read \
                     CARB's XLSX yet, so point the ARB connector at a host serving the CSV"
                ),
            });
        }
        fetch::csv_page(feed, &url, &body, Completeness::Response)
            .map_err(|reason| FetchError::Malformed { url, reason })
    }

    fn detect_feed(&self, _file_name: &str, head: &[u8]) -> Option<Feed> {
        let rows = read_csv(head).ok()?;
        columns::detect(rows.headers())
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        if feed != Feed::Issuances {
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

/// This connector, as the server registers it.
pub const DESCRIPTOR: carbonmesh_connector::Descriptor = carbonmesh_connector::Descriptor {
    registry: carbonmesh_model::RegistryId::ARB,
    name: "California Air Resources Board offset credits",
    // Mondays at 05:10 UTC: CARB updates the table about twice a month.
    default_schedule: "0 10 5 * * MON",
    feeds: &FEEDS,
    settings: &[],
    secrets: &[],
    user_agent: None,
    needs_base_url: false,
    build: |setup| {
        let config = setup.base_url().map(ArbConfig::new).unwrap_or_default();
        Ok(std::sync::Arc::new(ArbConnector::new(config, setup.http)))
    },
};
