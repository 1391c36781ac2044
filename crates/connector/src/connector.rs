//! The [`Connector`] trait.

use std::ops::ControlFlow;

use async_trait::async_trait;
use carbonmesh_model::RegistryId;

use crate::{Feed, RawRecord, Record, Rejection};

/// Hands a whole file's `page` to a [`Connector::read_file_pages`] callback.
pub fn each_page(
    page: Page,
    each: &mut dyn FnMut(Page) -> ControlFlow<()>,
) -> Result<(), FileError> {
    let _ = each(page);
    Ok(())
}

/// One page of a feed, as fetched.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Page {
    /// The records of the page that could be read.
    pub records: Vec<RawRecord>,
    /// Rows of the page that could not be read at all (e.g. a CSV row with too many fields),
    /// kept with their location, raw text and reason.
    pub unreadable: Vec<(RawRecord, Rejection)>,
    /// The cursor of the next page; `None` when this was the last page.
    pub next: Option<String>,
    /// What was read only after a repair the run should say (rows that were not UTF-8 and
    /// were read as Latin-1), one line each.
    pub warnings: Vec<String>,
}

impl Page {
    /// A page of JSON records: `items` numbered from `first_line` (a record's position in the
    /// whole feed); an element that is not an object goes to `unreadable` with the reason.
    pub fn of_json(
        feed: Feed,
        source: &str,
        items: Vec<serde_json::Value>,
        first_line: u64,
    ) -> Page {
        let mut page = Page::default();
        page.push_json(feed, source, items, first_line);
        page
    }

    /// Adds JSON records to the page, as [`Page::of_json`] reads them.
    pub fn push_json(
        &mut self,
        feed: Feed,
        source: &str,
        items: Vec<serde_json::Value>,
        first_line: u64,
    ) {
        for (item, line) in items.into_iter().zip(first_line..) {
            let is_object = item.is_object();
            let record = RawRecord {
                feed,
                source: source.to_owned(),
                line,
                body: crate::RawBody::Json(item),
            };
            if is_object {
                self.records.push(record);
            } else {
                self.unreadable
                    .push((record, Rejection::record("expected a JSON object")));
            }
        }
    }

    /// The page, unless an element of a fetched JSON page was not an object: a registry that
    /// answers with something else is malformed, not a row to keep. The error is the reason.
    pub fn objects_only(self) -> Result<Page, String> {
        match self.unreadable.first() {
            Some((r, _)) => Err(format!("record {} is not a JSON object", r.line)),
            None => Ok(self),
        }
    }
}

/// Why fetching a page failed. Every variant makes the run incomplete: nothing is deleted
/// or marked stale because of it.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The registry kept answering with an error status after every retry.
    #[error("{url}: HTTP {status} after {attempts} attempts")]
    Status {
        /// The URL.
        url: String,
        /// The last status code.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// The registry could not be reached, or the response did not arrive in time.
    #[error("{url}: {message} after {attempts} attempts")]
    Transport {
        /// The URL.
        url: String,
        /// What went wrong.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
    /// The page arrived but is not what the registry's format promises (truncated, missing
    /// columns, unparseable body).
    #[error("{url}: {reason}")]
    Malformed {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// Why a file could not be read at all (individual bad rows are rejected, not fatal).
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The file's kind could not be told from its header or shape.
    #[error("{file}: cannot tell what it holds ({reason}); pass --kind")]
    UnknownKind {
        /// The file.
        file: String,
        /// What was seen.
        reason: String,
    },
    /// The connector does not read this kind of file.
    #[error("{file}: this registry publishes no {feed} file carbonmesh reads")]
    Unsupported {
        /// The file.
        file: String,
        /// The feed asked for.
        feed: Feed,
    },
    /// The file is not in the registry's format.
    #[error("{file}: {reason}")]
    Malformed {
        /// The file.
        file: String,
        /// What is wrong with it.
        reason: String,
    },
}

/// What a registry said changed, by its own identifiers (a webhook change hint).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changed {
    /// Registry project ids (`VCS1507`, not `verra:VCS1507`).
    pub project_ids: Vec<String>,
    /// Serial numbers or serial blocks, as the registry writes them.
    pub serials: Vec<String>,
}

/// What carbonmesh needs to know to read one registry.
#[async_trait]
pub trait Connector: Send + Sync + 'static {
    /// The registry this connector reads.
    fn registry(&self) -> RegistryId;

    /// When to poll by default: a cron expression with seconds first
    /// (`sec min hour day-of-month month day-of-week`), polite to the registry.
    fn default_schedule(&self) -> &str;

    /// The feeds it polls, in the order a sync should fetch them (projects first).
    fn feeds(&self) -> &[Feed];

    /// Fetches one page of `feed` from the registry, starting at `cursor` (`None` for the
    /// first page). Network errors and error statuses are retried by the client; what is left
    /// is returned as a [`FetchError`].
    async fn fetch_page(&self, feed: Feed, cursor: Option<&str>) -> Result<Page, FetchError>;

    /// Tells which feed a downloaded file holds from its name and first bytes, if it can.
    fn detect_feed(&self, file_name: &str, head: &[u8]) -> Option<Feed>;

    /// Splits a file downloaded by hand into raw records of `feed`.
    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError>;

    /// Reads a file downloaded by hand as [`Connector::read_file`] does, from `file` (read
    /// from its start), handing the raw records to `each` in pages of about `page_records` as
    /// they are read, until `each` breaks: a large export is never held whole, as bytes or as
    /// raw records.
    ///
    /// The default reads the whole file and hands it over as one page; connectors whose
    /// exports run to millions of rows override it.
    fn read_file_pages(
        &self,
        feed: Feed,
        source: &str,
        file: &mut dyn std::io::Read,
        page_records: usize,
        each: &mut dyn FnMut(Page) -> ControlFlow<()>,
    ) -> Result<(), FileError> {
        let _ = page_records;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| FileError::Malformed {
                file: source.to_owned(),
                reason: format!("cannot be read: {e}"),
            })?;
        each_page(self.read_file(feed, source, &bytes)?, each)
    }

    /// True when every row of `feed` stands alone: it gives records no other row of the feed
    /// gives (no record stated on several rows, to be merged or deduplicated). An import then
    /// counts a row it read before, with the same raw hash, as unchanged without normalizing
    /// it again. The default, false, normalizes every row.
    fn rows_stand_alone(&self, feed: Feed) -> bool {
        let _ = feed;
        false
    }

    /// Fetches just the records a registry said changed (a webhook change hint), as one page.
    ///
    /// `None`, the default, means the connector cannot fetch single records: the caller then
    /// syncs the connector's feeds, which contain them (upserts make that safe, and the
    /// checkpoints make it resume). A connector whose registry has a per-record API overrides
    /// this.
    async fn fetch_changed(&self, changed: &Changed) -> Option<Result<Page, FetchError>> {
        let _ = changed;
        None
    }

    /// Normalizes one raw record into common-model records. Pure: no I/O and no clock, so
    /// the same raw record always gives the same result.
    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection>;
}
