//! Importing files downloaded from a registry by hand, through the connector's own reader and
//! normalizer, as one bulk load.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use carbonmesh_connector::{Connector, Feed, FileError};
use carbonmesh_matcher::MatchSession;
use carbonmesh_model::{CreditRecord, Project, RunCounts, RunStatus};
use carbonmesh_store::{Batch, Store, StoreError};
use chrono::Utc;

use crate::apply::normalize_page;

/// Raw records normalized and handed to the store at once.
const PAGE: usize = 50_000;

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

/// Imports one file as one connector run (trigger `import`) and returns what it did.
///
/// `feed` says what the file holds; when `None` the connector tells it from the file's header.
/// The records are written in one transaction (see [`carbonmesh_store::BulkLoad`]): an import
/// that fails or is killed leaves the store as it was.
pub async fn import_file(
    store: &dyn Store,
    matcher: &MatchSession,
    connector: Arc<dyn Connector>,
    feed: Option<Feed>,
    path: &Path,
) -> Result<RunCounts, ImportError> {
    let source = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|source_error| ImportError::Io {
        path: source.clone(),
        source: source_error,
    })?;
    let run_id = store
        .start_run(connector.registry().as_str(), "import")
        .await?;
    match import_bytes(store, matcher, connector, feed, &source, bytes, run_id).await {
        Ok(counts) => {
            store
                .finish_run(run_id, RunStatus::Complete, counts, &[])
                .await?;
            Ok(counts)
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

/// Rows a file of `len` bytes holds, judged from the lines of its first bytes.
fn estimated_rows(head: &[u8], len: usize) -> u64 {
    let lines = head.iter().filter(|b| **b == b'\n').count().max(1);
    (len as u64).saturating_mul(lines as u64) / (head.len().max(1) as u64)
}

async fn import_bytes(
    store: &dyn Store,
    matcher: &MatchSession,
    connector: Arc<dyn Connector>,
    feed: Option<Feed>,
    source: &str,
    bytes: Vec<u8>,
    run_id: i64,
) -> Result<RunCounts, ImportError> {
    let file_name = Path::new(source)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let head = &bytes[..bytes.len().min(64 * 1024)];
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
    let expected = estimated_rows(head, bytes.len());
    let fetched_at = Utc::now();

    // Reading and normalizing is CPU work, writing is database work: the file is read and
    // normalized page by page on a blocking thread while the store writes the previous page,
    // so both cores are busy and only a few pages are held at a time.
    let mut load = store.bulk_load(expected).await?;
    let mut rows = 0u64;
    let mut projects: Vec<Project> = Vec::new();
    let mut credits: Vec<CreditRecord> = Vec::new();
    let (sender, mut receiver) = tokio::sync::mpsc::channel(2);
    let reader = {
        let connector = connector.clone();
        let source = source.to_owned();
        tokio::task::spawn_blocking(move || {
            connector.read_file_pages(feed, &source, &bytes, PAGE, &mut |page| {
                let normalized =
                    normalize_page(connector.as_ref(), &page, Some(run_id), fetched_at);
                match sender.blocking_send(normalized) {
                    Ok(()) => ControlFlow::Continue(()),
                    // The writer stopped on an error, which it reports.
                    Err(_) => ControlFlow::Break(()),
                }
            })
        })
    };
    while let Some(normalized) = receiver.recv().await {
        rows += normalized.raw_records;
        projects.extend(normalized.projects.iter().map(|p| p.record.clone()));
        credits.extend(normalized.credits.iter().map(|c| c.record.clone()));
        load.write(Batch {
            projects: normalized.projects,
            credits: normalized.credits,
            rejected: normalized.rejected,
        })
        .await?;
    }
    reader
        .await
        .map_err(|e| ImportError::Normalizer(e.to_string()))??;
    let written = load.finish().await?;
    // The matcher checks the written records once they are committed. A matcher failure
    // never fails the import: `carbonmesh match --full` reconciles later.
    if let Err(error) = carbonmesh_matcher::after_write(store, matcher, &projects, &credits).await {
        tracing::warn!(%error, "matching the imported records failed");
    }
    Ok(RunCounts {
        seen: rows,
        ..written
    })
}
