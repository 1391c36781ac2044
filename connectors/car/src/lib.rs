//! carbonmesh connector for the Climate Action Reserve registry.
//!
//! CAR runs on the Xpansiv/APX platform at `thereserve2.apx.com`. Its public reports (projects,
//! issuances, retirements, cancellations) download as CSV in two steps: the report page
//! (`GET /myModule/rpt/myrpt.asp?r=<report>`) hands out a session cookie and a form of hidden
//! fields with the `c16e` token; posting those fields back form-encoded to
//! `/myModule/include/rptdownload.asp` returns the CSV. The exports' quoting is broken
//! (embedded `"` not doubled) and their rows end with a trailing comma. See the crate's README
//! for the endpoints and the field mapping.
#![deny(missing_docs)]

mod columns;
mod fetch;
mod normalize;
mod report;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record, Rejection, Request,
};
use carbonmesh_model::RegistryId;
use carbonmesh_normalize::read_csv;

use crate::fetch::Completeness;

/// Where the CAR reports are fetched from.
///
/// carbonmesh configures every connector with the registry's host (scheme and host); the
/// connector appends the APX report paths itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarConfig {
    /// Scheme and host, without a trailing slash: `https://thereserve2.apx.com` in production,
    /// a loopback simulator (`http://127.0.0.1:PORT`) in tests and demos.
    pub base_url: String,
}

impl CarConfig {
    /// The production CAR host.
    pub const PRODUCTION_URL: &'static str = "https://thereserve2.apx.com";

    /// The report page path; the report number goes in `r`.
    pub const REPORT_PATH: &'static str = "/myModule/rpt/myrpt.asp";

    /// The bulk download the report page's form posts to.
    pub const DOWNLOAD_PATH: &'static str = "/myModule/include/rptdownload.asp";

    /// A configuration reading from the CAR host `base_url`.
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

    /// The URL of the report page of `feed` (`…/myrpt.asp?r=206`).
    pub fn report_url(&self, feed: Feed) -> Option<String> {
        report_id(feed).map(|r| format!("{}{}?r={r}", self.config.base_url, CarConfig::REPORT_PATH))
    }

    /// The URL the download form posts to.
    pub fn download_url(&self) -> String {
        format!("{}{}", self.config.base_url, CarConfig::DOWNLOAD_PATH)
    }

    /// Step two of a download: the form-encoded POST built from the report page `html` and the
    /// `Set-Cookie` values its response carried.
    ///
    /// Every hidden field of the page goes back as it came, `FormatType` is forced to `csv`,
    /// and the session cookie is echoed (the HTTP client keeps no cookies). Without a `c16e`
    /// token in the page, in an input or set by a script, there is nothing to post.
    fn download_request<'a>(
        &self,
        report_url: &str,
        html: &str,
        set_cookies: impl Iterator<Item = &'a str>,
    ) -> Result<Request, String> {
        let mut fields = report::hidden_inputs(html);
        let has_token = fields
            .iter()
            .any(|(n, v)| n == report::TOKEN_FIELD && !v.is_empty());
        if !has_token {
            let token = report::scripted_token(html).ok_or_else(|| {
                let snippet: String = html.chars().take(120).collect();
                format!(
                    "the report page has no `{}` download token (page starts {snippet:?})",
                    report::TOKEN_FIELD
                )
            })?;
            fields.retain(|(n, _)| n != report::TOKEN_FIELD);
            fields.insert(0, (report::TOKEN_FIELD.to_owned(), token));
        }
        match fields.iter_mut().find(|(n, _)| n == "FormatType") {
            Some((_, v)) => "csv".clone_into(v),
            None => fields.push(("FormatType".to_owned(), "csv".to_owned())),
        }
        let mut request =
            Request::post_form(self.download_url(), fields).header("Referer", report_url);
        if let Some(cookie) = report::cookie_header(set_cookies) {
            request = request.header("Cookie", cookie);
        }
        Ok(request)
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
        RegistryId::CAR
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    /// Each report downloads whole in one CSV, so there is one page per feed and the cursor
    /// is ignored. Two requests: the report page, then the form post that returns the CSV.
    async fn fetch_page(&self, feed: Feed, _cursor: Option<&str>) -> Result<Page, FetchError> {
        let url = self.report_url(feed).ok_or_else(|| FetchError::Malformed {
            url: self.config.base_url.clone(),
            reason: format!("CAR publishes no {feed} report"),
        })?;
        let malformed = |reason: String| FetchError::Malformed {
            url: url.clone(),
            reason,
        };
        let page = self.http.send(&Request::get(url.as_str())).await?;
        let html = String::from_utf8_lossy(&page.body);
        let set_cookies = page
            .headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok());
        let download = self
            .download_request(&url, &html, set_cookies)
            .map_err(malformed)?;
        let body = self.http.send(&download).await?.body;
        // APX answers a refused download with an HTML page and status 200.
        if body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'<') {
            return Err(malformed(
                "the download returned an HTML page instead of CSV (token or session refused)"
                    .to_owned(),
            ));
        }
        fetch::csv_page(feed, &url, &body, Completeness::Response).map_err(malformed)
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

/// This connector, as the server registers it.
pub const DESCRIPTOR: carbonmesh_connector::Descriptor = carbonmesh_connector::Descriptor {
    registry: carbonmesh_model::RegistryId::CAR,
    name: "Climate Action Reserve",
    // Daily at 03:20 UTC: CAR's reports change a few times a day at most, and each
    // download is the whole report.
    default_schedule: "0 20 3 * * *",
    feeds: &FEEDS,
    settings: &[],
    secrets: &[],
    user_agent: None,
    needs_base_url: false,
    build: |setup| {
        let config = setup.base_url().map(CarConfig::new).unwrap_or_default();
        Ok(std::sync::Arc::new(CarConnector::new(config, setup.http)))
    },
};
