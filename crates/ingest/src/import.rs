//! Importing files downloaded from a registry by hand, through the connector's own reader and
//! normalizer.

use std::ops::ControlFlow;
use std::path::Path;
use std::sync::Arc;

use carbonmesh_connector::{Connector, Feed, FileError};
use carbonmesh_model::{RunCounts, RunStatus};
use carbonmesh_store::{Store, StoreError};
use chrono::Utc;

use crate::apply::{normalize_page, write_normalized};

/// Raw records normalized and written per batch: bounds memory held by one transaction.
const BATCH: usize = 50_000;

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
pub async fn import_file(
    store: &dyn Store,
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
    match import_bytes(store, connector, feed, &source, bytes, run_id).await {
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

async fn import_bytes(
    store: &dyn Store,
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
    let fetched_at = Utc::now();

    // Reading and normalizing is CPU work, writing is database work: the file is read and
    // normalized page by page on a blocking thread while the previous page is written, so
    // both cores are busy and only a few pages are held at a time.
    let mut counts = RunCounts::default();
    let (sender, mut receiver) = tokio::sync::mpsc::channel(2);
    let reader = {
        let connector = connector.clone();
        let source = source.to_owned();
        tokio::task::spawn_blocking(move || {
            connector.read_file_pages(feed, &source, &bytes, BATCH, &mut |page| {
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
        counts += write_normalized(store, normalized).await?.counts;
    }
    reader
        .await
        .map_err(|e| ImportError::Normalizer(e.to_string()))??;
    Ok(counts)
}
