//! carbonmesh connector for the Verra (VCS) registry.
//!
//! Reads projects and VCU blocks from Verra's S&P Platts search API (projects, issuances,
//! retirements, cancellations) and from the registry's CSV exports (the VCU export, where one
//! row is a block in its current state, and the project export). See the README for the
//! endpoints and the field mapping.
#![deny(missing_docs)]

pub mod columns;
pub mod fetch;
pub mod normalize;

use async_trait::async_trait;
use std::ops::ControlFlow;

use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, Page, RawRecord, Record, Rejection,
    Request, each_page, looks_like_json,
};
use carbonmesh_model::RegistryId;
use carbonmesh_normalize::normalize_header;

/// The application key the Platts site ships to every browser, sent as `appkey`.
pub const PLATTS_APP_KEY: &str = "wOKHFGuxKApQaujPSKgF";

/// Where and how much to fetch.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerraConfig {
    /// Base URL of the Platts search API (`https://prod-us.api.platts.com`).
    pub base_url: String,
    /// Base URL of the registry's own `uiapi` (`https://registry.verra.org`), for the CSV
    /// exports.
    pub uiapi_base_url: String,
    /// Entities per Platts page; Platts allows at most 400.
    pub page_size: u32,
    /// Rows per uiapi CSV export page (`maxResults`).
    pub export_page_size: u32,
    /// Headers sent with every Platts search, as the registry's own site sends them
    /// (`appkey`, `application`).
    pub platts_headers: Vec<(String, String)>,
}

impl Default for VerraConfig {
    fn default() -> Self {
        Self {
            base_url: "https://prod-us.api.platts.com".into(),
            uiapi_base_url: "https://registry.verra.org".into(),
            page_size: 400,
            export_page_size: 2000,
            platts_headers: vec![
                ("appkey".into(), PLATTS_APP_KEY.into()),
                ("application".into(), "Markit".into()),
            ],
        }
    }
}

impl VerraConfig {
    /// Every endpoint under one base URL (a simulator or a mirror).
    pub fn at(base_url: impl Into<String>) -> Self {
        let base_url = base_url.into();
        Self {
            uiapi_base_url: base_url.clone(),
            base_url,
            ..Self::default()
        }
    }
}

/// The Verra connector.
pub struct VerraConnector {
    config: VerraConfig,
    http: HttpClient,
}

impl VerraConnector {
    /// A connector fetching with `http` from the endpoints in `config`.
    pub fn new(config: VerraConfig, http: HttpClient) -> Self {
        let page_size = config.page_size.clamp(1, fetch::PLATTS_MAX_LIMIT);
        let export_page_size = config.export_page_size.max(1);
        Self {
            config: VerraConfig {
                page_size,
                export_page_size,
                ..config
            },
            http,
        }
    }

    /// The configuration in use.
    pub fn config(&self) -> &VerraConfig {
        &self.config
    }

    async fn fetch_platts(
        &self,
        feed: Feed,
        resource: &str,
        cursor: Option<&str>,
    ) -> Result<Page, FetchError> {
        let url = fetch::platts_url(&self.config.base_url, resource);
        let malformed = |reason: String| FetchError::Malformed {
            url: url.clone(),
            reason,
        };
        let start: u64 = match cursor {
            None => 0,
            Some(c) => c
                .parse()
                .map_err(|_| malformed(format!("cursor `{c}` is not a Platts start offset")))?,
        };
        // Elasticsearch refuses `start + limit` beyond its window: the last page asks for less.
        let limit = match fetch::PLATTS_WINDOW.checked_sub(start) {
            Some(room) if room > 0 => u64::from(self.config.page_size).min(room) as u32,
            _ => {
                return Err(malformed(format!(
                    "Platts cannot page past offset {}: the result set must be split by filters",
                    fetch::PLATTS_WINDOW
                )));
            }
        };
        let mut request = Request::post_json(url.clone(), fetch::platts_request_body(start, limit));
        for (name, value) in &self.config.platts_headers {
            request = request.header(name.clone(), value.clone());
        }
        let response = self.http.send(&request).await?;
        let body: serde_json::Value = serde_json::from_slice(&response.body)
            .map_err(|e| malformed(format!("response is not valid JSON: {e}")))?;
        if !body.is_object() {
            return Err(malformed(
                "a Platts page is a JSON object with `entities`".into(),
            ));
        }
        let (items, total) = fetch::platts_entities(body, feed).map_err(malformed)?;
        let got = items.len() as u64;
        if got > u64::from(limit) {
            return Err(malformed(format!("{got} entities on a page of {limit}")));
        }
        let next = match total {
            Some(total) => {
                let expected = total.saturating_sub(start).min(u64::from(limit));
                if got != expected {
                    return Err(malformed(format!(
                        "{got} entities where the total of {total} announces {expected} from offset {start}"
                    )));
                }
                (start + got < total).then_some(start + got)
            }
            // Without a total, a full page means there may be more.
            None => (got == u64::from(limit)).then_some(start + got),
        };
        if let Some(n) = next
            && n >= fetch::PLATTS_WINDOW
        {
            return Err(malformed(format!(
                "Platts cannot page past offset {}: the result set must be split by filters",
                fetch::PLATTS_WINDOW
            )));
        }
        let mut page = fetch::json_records(feed, &url, items, start + 1);
        page.next = next.map(|n| n.to_string());
        Ok(page)
    }

    /// One page of a uiapi CSV export. The export announces no total in CSV, so paging ends
    /// on the first empty page: a short page is followed from where it stopped, and no row
    /// is lost to it.
    async fn fetch_export(&self, feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError> {
        let max = self.config.export_page_size;
        let base = &self.config.uiapi_base_url;
        let cursor =
            fetch::ExportCursor::parse(cursor).map_err(|reason| FetchError::Malformed {
                url: fetch::export_url(base, feed, 0, max),
                reason,
            })?;
        let url = fetch::export_url(base, feed, cursor.skip, max);
        let malformed = |reason: String| FetchError::Malformed {
            url: url.clone(),
            reason,
        };
        let request = Request::post_json(url.clone(), fetch::export_request_body(feed));
        let bytes = self.http.send(&request).await?.body;
        let mut page = fetch::csv_page(feed, &url, &bytes).map_err(malformed)?;
        fetch::check_csv_complete(&bytes, &page).map_err(malformed)?;
        let rows = (page.records.len() + page.unreadable.len()) as u64;
        if rows > u64::from(max) {
            return Err(malformed(format!("{rows} rows on a page of {max}")));
        }
        let first = page.records.first().map(fetch::row_digest);
        // An export that ignores `$skip` serves the same rows again; paging would never end.
        if cursor.previous_first.is_some() && first == cursor.previous_first {
            return Err(malformed(format!(
                "the page at $skip={} starts with the same row as the page before: the export ignored $skip",
                cursor.skip
            )));
        }
        // Lines count from the start of the whole export, not of this page.
        for r in &mut page.records {
            r.line += cursor.skip;
        }
        for (r, _) in &mut page.unreadable {
            r.line += cursor.skip;
        }
        page.next = (rows > 0).then(|| {
            fetch::ExportCursor {
                skip: cursor.skip + rows,
                previous_first: first,
            }
            .encode()
        });
        Ok(page)
    }
}

#[async_trait]
impl Connector for VerraConnector {
    fn registry(&self) -> RegistryId {
        RegistryId::VERRA
    }

    fn default_schedule(&self) -> &str {
        DESCRIPTOR.default_schedule
    }

    fn feeds(&self) -> &[Feed] {
        DESCRIPTOR.feeds
    }

    async fn fetch_page(&self, feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError> {
        match fetch::platts_resource(feed) {
            Some(resource) => self.fetch_platts(feed, resource, cursor).await,
            None => self.fetch_export(feed, cursor).await,
        }
    }

    fn rows_stand_alone(&self, feed: Feed) -> bool {
        // A row of the VCU export is one block in its current state, keyed by its serial.
        feed == Feed::Transactions
    }

    fn detect_feed(&self, file_name: &str, head: &[u8]) -> Option<Feed> {
        if looks_like_json(head) {
            let text = String::from_utf8_lossy(head);
            if fetch::looks_like_uiapi_assets(&text) {
                return Some(Feed::Transactions);
            }
            let kinds: Vec<Feed> = [
                (Feed::Cancellations, "cancellation_date"),
                (Feed::Cancellations, "/cancellations/"),
                (Feed::Retirements, "retiredDate"),
                (Feed::Retirements, "/retirements/"),
                (Feed::Issuances, "issueDate"),
                (Feed::Issuances, "/issuances/"),
                (Feed::Projects, "/project/"),
                (Feed::Projects, "projectRegistrationDate"),
            ]
            .into_iter()
            .filter(|(_, marker)| text.contains(marker))
            .map(|(f, _)| f)
            .collect();
            // A file saving several resources needs the kind given explicitly.
            return match kinds.first() {
                Some(f) if kinds.iter().all(|k| k == f) => Some(*f),
                _ => None,
            };
        }
        let first_line = head.split(|b| *b == b'\n').next().unwrap_or_default();
        let headers: Vec<String> = String::from_utf8_lossy(first_line)
            .split(',')
            .map(|h| normalize_header(h.trim_matches('"')))
            .collect();
        let has = |h: &str| headers.iter().any(|x| x == h);
        if has("serial number") && has("quantity issued") {
            return Some(Feed::Transactions);
        }
        if has("id") && (has("proponent") || has("crediting period start date")) {
            return Some(Feed::Projects);
        }
        let name = file_name.to_ascii_lowercase();
        if name.contains("transaction") || name.contains("vcu") {
            Some(Feed::Transactions)
        } else if name.contains("project") {
            Some(Feed::Projects)
        } else {
            None
        }
    }

    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        let malformed = |reason: String| FileError::Malformed {
            file: source.to_owned(),
            reason,
        };
        if looks_like_json(bytes) {
            let value: serde_json::Value = carbonmesh_connector::from_saved_json(bytes)
                .map_err(|e| malformed(format!("not valid JSON: {e}")))?;
            // A saved uiapi asset search holds VCU export rows as JSON; Platts pages hold
            // one feed's entities.
            let items = match feed {
                Feed::Transactions => fetch::uiapi_assets(value).map_err(malformed)?,
                _ => fetch::platts_entities(value, feed).map_err(malformed)?.0,
            };
            return Ok(fetch::json_records(feed, source, items, 1));
        }
        fetch::csv_page(feed, source, bytes).map_err(malformed)
    }

    fn read_file_pages(
        &self,
        feed: Feed,
        source: &str,
        file: &mut dyn std::io::Read,
        page_records: usize,
        each: &mut dyn FnMut(Page) -> ControlFlow<()>,
    ) -> Result<(), FileError> {
        // Verra's VCU export runs to millions of rows: stream it page by page. A JSON file
        // (Platts pages) is read whole.
        let mut file = std::io::BufReader::new(file);
        let first = std::io::BufRead::fill_buf(&mut file)
            .map_err(|e| FileError::Malformed {
                file: source.to_owned(),
                reason: format!("cannot be read: {e}"),
            })?
            .iter()
            .find(|b| !b.is_ascii_whitespace())
            .copied();
        if first.is_some_and(|b| b == b'[' || b == b'{') {
            let mut bytes = Vec::new();
            std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|e| {
                FileError::Malformed {
                    file: source.to_owned(),
                    reason: format!("cannot be read: {e}"),
                }
            })?;
            return each_page(self.read_file(feed, source, &bytes)?, each);
        }
        fetch::csv_pages(feed, source, file, page_records, each).map_err(|reason| {
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
    registry: carbonmesh_model::RegistryId::VERRA,
    name: "Verra Verified Carbon Standard registry",
    // Daily at 03:17 UTC: off the hour, outside Verra's working day.
    default_schedule: "0 17 3 * * *",
    // Projects come from Platts (about 5,000, inside its 10,000 window); every block in
    // its current state comes from the VCU CSV export, which pages past that window.
    // Issuances, retirements and cancellations stay fetchable from Platts on request.
    feeds: &[Feed::Projects, Feed::Transactions],
    settings: &[],
    secrets: &[],
    user_agent: None,
    needs_base_url: false,
    build: |setup| {
        let config = setup.base_url().map(VerraConfig::at).unwrap_or_default();
        Ok(std::sync::Arc::new(VerraConnector::new(config, setup.http)))
    },
};
