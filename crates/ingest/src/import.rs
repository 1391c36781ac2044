//! Importing files downloaded from a registry by hand, through the connector's own reader and
//! normalizer, as one bulk load.

use std::io::Read as _;
use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;
use tracing::Instrument;

use carbonmesh_connector::{Connector, Feed, FileError};
use carbonmesh_matcher::{Covered, MatchSession, Written, check_in_groups};
use carbonmesh_model::{CreditRecord, Project, RunCounts, RunStatus};
use carbonmesh_store::{Batch, CreditFilter, Store, StoreError};
use chrono::Utc;

use crate::apply::{KnownRows, normalize_page};

/// Raw records normalized and handed to the store at once. A few pages are in flight (the
/// reader's, two in the channel, the writer's): 10,000 keeps them near 50 MB (at 50,000 they
/// were a third of a re-import's peak memory) at the same throughput.
const PAGE: usize = 10_000;

/// Why a file could not be imported at all (bad rows are rejected, not fatal).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: String,
        /// The error.
        source: std::io::Error,
    },
    /// The file is not in a format the connector reads.
    #[error(transparent)]
    File(#[from] FileError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The normalizing thread died.
    #[error("normalizing failed: {0}")]
    Normalizer(String),
}

/// The share of a file's rows an import may reject and still be complete. Beyond it the
/// records that passed are stored all the same, and the run ends `rejected`: a file where most
/// rows fail is most likely not what it was taken for (another export, a changed layout).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RejectLimit(f64);

impl RejectLimit {
    /// Half the rows.
    pub const DEFAULT: RejectLimit = RejectLimit(0.5);

    /// A limit in percent of the rows read, 0 to 100 (100: never `rejected`).
    pub fn percent(percent: f64) -> Option<Self> {
        (0.0..=100.0)
            .contains(&percent)
            .then_some(RejectLimit(percent / 100.0))
    }

    /// Whether `counts` rejected more than the limit allows.
    pub fn exceeded(self, counts: &RunCounts) -> bool {
        counts.seen > 0 && counts.rejected as f64 > self.0 * counts.seen as f64
    }

    /// The limit in percent.
    pub fn as_percent(self) -> f64 {
        self.0 * 100.0
    }
}

impl Default for RejectLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// How to import a file.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ImportOptions {
    /// What the file holds; `None` lets the connector tell it from the file's header.
    pub feed: Option<Feed>,
    /// The share of rejected rows beyond which the run ends `rejected`.
    pub reject_limit: RejectLimit,
    /// Normalize every row, even those read before (see [`Connector::rows_stand_alone`]):
    /// after a connector's normalizer changed without a new carbonmesh version.
    pub reread: bool,
}

/// How far an import has got, readable while it runs: a progress display polls it.
#[derive(Debug, Default)]
pub struct ImportProgress {
    rows: std::sync::atomic::AtomicU64,
    pages: std::sync::atomic::AtomicU64,
    expected_rows: std::sync::atomic::AtomicU64,
}

impl ImportProgress {
    /// Rows read and written so far.
    pub fn rows(&self) -> u64 {
        self.rows.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Pages of rows written so far.
    pub fn pages(&self) -> u64 {
        self.pages.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// The rows the file holds, judged from its first lines (0 until the file is opened).
    pub fn expected_rows(&self) -> u64 {
        self.expected_rows
            .load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// What an import did: its run, how the run ended, its counts and warnings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOutcome {
    /// The connector run that recorded it.
    pub run_id: i64,
    /// `complete`, or `rejected` when more rows were rejected than the limit allows.
    pub status: RunStatus,
    /// Rows read, records written, rows and records rejected.
    pub counts: RunCounts,
    /// Rows read only after a repair the user should know of (kept on the run too).
    pub warnings: Vec<String>,
}

/// Imports one file as one connector run (trigger `import`) and returns what it did.
///
/// The records are written in one transaction (see [`carbonmesh_store::BulkLoad`]): an import
/// that fails or is killed leaves the store as it was. More rejected rows than the options'
/// limit allows end the run `rejected` (the records that passed are kept). Where the feed's
/// rows stand alone, rows this version of carbonmesh stored before (same raw hash) are counted
/// as unchanged without normalizing them again. `matcher` checks the records for double
/// counting as they are written, or once the load has committed when the store already held
/// records; `None` leaves that to a later `carbonmesh match` (the storage benches measure the
/// write path alone).
pub async fn import_file(
    store: &dyn Store,
    matcher: Option<&MatchSession>,
    connector: Arc<dyn Connector>,
    path: &Path,
    options: ImportOptions,
) -> Result<ImportOutcome, ImportError> {
    let progress = ImportProgress::default();
    import_file_reporting(store, matcher, connector, path, options, &progress).await
}

/// [`import_file`], keeping `progress` up to date as pages are written.
pub async fn import_file_reporting(
    store: &dyn Store,
    matcher: Option<&MatchSession>,
    connector: Arc<dyn Connector>,
    path: &Path,
    options: ImportOptions,
    progress: &ImportProgress,
) -> Result<ImportOutcome, ImportError> {
    let ImportOptions {
        feed,
        reject_limit,
        reread,
    } = options;
    let source = path.display().to_string();
    let io = |source_error| ImportError::Io {
        path: source.clone(),
        source: source_error,
    };
    let mut file = std::fs::File::open(path).map_err(io)?;
    let len = file.metadata().map_err(io)?.len();
    // The first bytes tell the feed and the size of a row; the file is then read from its
    // start again, a block at a time.
    let mut head = Vec::with_capacity(HEAD);
    std::io::Read::by_ref(&mut file)
        .take(HEAD as u64)
        .read_to_end(&mut head)
        .map_err(io)?;
    let connector_name = connector.registry().as_str().to_owned();
    let run_id = store.start_run(&connector_name, "import").await?;
    let file = std::io::Cursor::new(head.clone()).chain(file);
    let imported = import_stream(
        store,
        matcher,
        connector,
        feed,
        &source,
        &head,
        len,
        Box::new(file),
        run_id,
        reread,
        progress,
    );
    // Everything the import logs carries its connector, run id and file.
    let span = tracing::info_span!(
        "import",
        connector = connector_name.as_str(),
        run = run_id,
        file = source.as_str()
    );
    match crate::renewing(store, run_id, imported)
        .instrument(span)
        .await
    {
        Ok((counts, warnings)) => {
            let (status, mut errors) = if reject_limit.exceeded(&counts) {
                let why = format!(
                    "{} of {} rows rejected, more than the {}% allowed",
                    counts.rejected,
                    counts.seen,
                    reject_limit.as_percent()
                );
                (RunStatus::Rejected, vec![why])
            } else {
                (RunStatus::Complete, Vec::new())
            };
            errors.extend(warnings.iter().cloned());
            store.finish_run(run_id, status, counts, &errors).await?;
            Ok(ImportOutcome {
                run_id,
                status,
                counts,
                warnings,
            })
        }
        Err(error) => {
            let message = error.to_string();
            store
                .finish_run(run_id, RunStatus::Failed, RunCounts::default(), &[message])
                .await?;
            Err(error)
        }
    }
}

/// Bytes read first, to tell the feed and the size of a row.
const HEAD: usize = 64 * 1024;

/// Rows a file of `len` bytes holds, judged from the lines of its first bytes.
fn estimated_rows(head: &[u8], len: u64) -> u64 {
    let lines = head.iter().filter(|b| **b == b'\n').count().max(1);
    len.saturating_mul(lines as u64) / (head.len().max(1) as u64)
}

#[allow(clippy::too_many_arguments)]
async fn import_stream(
    store: &dyn Store,
    matcher: Option<&MatchSession>,
    connector: Arc<dyn Connector>,
    feed: Option<Feed>,
    source: &str,
    head: &[u8],
    len: u64,
    mut file: Box<dyn std::io::Read + Send>,
    run_id: i64,
    reread: bool,
    progress: &ImportProgress,
) -> Result<(RunCounts, Vec<String>), ImportError> {
    let file_name = Path::new(source)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let feed = match feed.or_else(|| connector.detect_feed(&file_name, head)) {
        Some(feed) => feed,
        None => {
            return Err(FileError::UnknownKind {
                file: source.to_owned(),
                reason: "its header matches none of this registry's exports".into(),
            }
            .into());
        }
    };
    let expected = estimated_rows(head, len);
    progress
        .expected_rows
        .store(expected, std::sync::atomic::Ordering::Relaxed);
    let fetched_at = Utc::now();

    // Reading and normalizing is CPU work, writing is database work: the file is read and
    // normalized page by page on a blocking thread while the store writes the previous page,
    // so both cores are busy and only a few pages are held at a time.
    let started = std::time::Instant::now();
    let matching = Matching::choose(store, matcher, run_id).await;
    let (during_load, mut written) = match matching {
        Matching::DuringLoad(session) => (Some(session), None),
        Matching::InGroups(covered) => (None, Some(Written::new(covered))),
        Matching::Off => (None, None),
    };
    let known = match reread || !connector.rows_stand_alone(feed) {
        true => None,
        false => Some(Arc::new(KnownRows::new(
            store
                .raw_hashes_of_this_version(connector.registry())
                .await?,
        ))),
    };
    tracing::debug!(
        rows = known.as_ref().map_or(0, |k| k.len()),
        s = started.elapsed().as_secs_f64(),
        "rows read before"
    );
    let load = store.bulk_load(expected).await?;
    // Three stages: the file read into raw pages, the pages normalized (or their rows found
    // unchanged by raw hash), the records written. On a re-import nothing is written, and
    // reading and hashing share both cores.
    let (raw_pages, mut raw_received) = tokio::sync::mpsc::channel(1);
    let (sender, receiver) = tokio::sync::mpsc::channel(2);
    let reader = {
        let connector = connector.clone();
        let source = source.to_owned();
        tokio::task::spawn_blocking(move || {
            connector.read_file_pages(feed, &source, &mut file, PAGE, &mut |page| {
                match raw_pages.blocking_send(page) {
                    Ok(()) => ControlFlow::Continue(()),
                    // The writer stopped on an error, which it reports.
                    Err(_) => ControlFlow::Break(()),
                }
            })
        })
    };
    let normalizer = tokio::task::spawn_blocking(move || {
        while let Some(page) = raw_received.blocking_recv() {
            let normalized = normalize_page(
                connector.as_ref(),
                &page,
                Some(run_id),
                fetched_at,
                known.as_deref(),
            );
            drop(page);
            if sender.blocking_send(normalized).is_err() {
                return;
            }
        }
    });
    let outcome = write_pages(
        load,
        receiver,
        (reader, normalizer),
        (during_load, written.as_mut()),
        progress,
    )
    .await;
    let read = started.elapsed();
    let (rows, counts, warnings) = match outcome {
        Ok(done) => done,
        Err(error) => {
            // The load rolled back: the matcher saw records that were not stored.
            if let Some(session) = during_load {
                session.forget().await;
            }
            return Err(error);
        }
    };
    let loaded = started.elapsed();
    // A matcher failure never fails the import: `carbonmesh match` reconciles.
    let matched = match (matching, written) {
        (Matching::DuringLoad(session), _) => session.save(store).await.map(|_| ()),
        (Matching::InGroups(covered), Some(written)) if counts.new + counts.changed > 0 => {
            check_in_groups(store, covered, written, Utc::now())
                .await
                .map(|_| ())
        }
        _ => Ok(()),
    };
    if let Err(error) = matched {
        tracing::warn!(%error, "matching the import failed");
    }
    tracing::debug!(
        read_s = read.as_secs_f64(),
        committed_s = loaded.as_secs_f64(),
        matched_s = started.elapsed().as_secs_f64(),
        "import timings"
    );
    Ok((
        RunCounts {
            seen: rows,
            ..counts
        },
        warnings,
    ))
}

/// When an import is checked for double counting.
#[derive(Clone, Copy)]
enum Matching<'a> {
    /// Not at all (the storage benches measure the write path alone).
    Off,
    /// Each page as it is written, against the session's state, which holds every stored
    /// record already (a server that has been matching its writes).
    DuringLoad(&'a MatchSession),
    /// Once the load has committed, and only if it changed anything: the groups of what it
    /// wrote (every group when the store held no record before), read back from the store a
    /// batch at a time (see `carbonmesh_matcher::groups`), so that memory does not grow with
    /// the store.
    InGroups(Covered),
}

impl<'a> Matching<'a> {
    /// How to match a load written by the run `run`.
    async fn choose(
        store: &dyn Store,
        session: Option<&'a MatchSession>,
        run: i64,
    ) -> Matching<'a> {
        let Some(session) = session else {
            return Matching::Off;
        };
        if session.has_state().await {
            return Matching::DuringLoad(session);
        }
        match store.count_credits(&CreditFilter::default()).await {
            Ok(0) => Matching::InGroups(Covered::Everything),
            Ok(_) => Matching::InGroups(Covered::WrittenBy(run)),
            Err(error) => {
                tracing::warn!(%error, "counting the stored records failed: the import is not matched");
                Matching::Off
            }
        }
    }
}

/// Writes the normalized pages as they arrive (and hands them to the matcher, or notes what
/// the check after the load needs of them), then commits;
/// returns the raw rows read and what the load wrote.
async fn write_pages(
    mut load: Box<dyn carbonmesh_store::BulkLoad>,
    mut pages: tokio::sync::mpsc::Receiver<crate::apply::Normalized>,
    (reader, normalizer): (
        tokio::task::JoinHandle<Result<(), FileError>>,
        tokio::task::JoinHandle<()>,
    ),
    (matcher, mut written): (Option<&MatchSession>, Option<&mut Written>),
    progress: &ImportProgress,
) -> Result<(u64, RunCounts, Vec<String>), ImportError> {
    let mut rows = 0u64;
    let mut unchanged = 0u64;
    let mut warnings = Vec::new();
    while let Some(normalized) = pages.recv().await {
        rows += normalized.raw_records;
        progress
            .rows
            .store(rows, std::sync::atomic::Ordering::Relaxed);
        progress
            .pages
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        unchanged += normalized.unchanged;
        warnings.extend(normalized.warnings);
        let checked: Option<(Vec<Project>, Vec<CreditRecord>)> = matcher.map(|_| {
            (
                normalized
                    .projects
                    .iter()
                    .map(|p| p.record.clone())
                    .collect(),
                normalized
                    .credits
                    .iter()
                    .map(|c| c.record.clone())
                    .collect(),
            )
        });
        if let Some(written) = written.as_deref_mut() {
            for c in &normalized.credits {
                written.add(&c.record);
            }
        }
        load.write(Batch {
            projects: normalized.projects,
            credits: normalized.credits,
            rejected: normalized.rejected,
        })
        .await?;
        if let (Some(matcher), Some((projects, credits))) = (matcher, checked) {
            matcher.apply_unsaved(projects, credits).await;
        }
    }
    normalizer
        .await
        .map_err(|e| ImportError::Normalizer(e.to_string()))?;
    reader
        .await
        .map_err(|e| ImportError::Normalizer(e.to_string()))??;
    let mut counts = load.finish().await?;
    counts.unchanged += unchanged;
    Ok((rows, counts, warnings))
}
