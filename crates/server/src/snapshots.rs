//! Bulk download snapshots: Parquet and CSV files of the tables market observers read, and
//! a manifest describing them, written by `serve` into a folder and published over HTTP
//! (see [`http`]).
//!
//! Each file is written to a temporary name and renamed into place, so a reader of the
//! folder never sees half a file. A background task writes a new set at start-up and
//! whenever a run completed or records changed since the last one; the export runs on a
//! blocking thread, so the API's workers never wait for it.

pub mod http;

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use carbonmesh_store::Store;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::RwLock;

use crate::export::{self, Format, What};

/// The tables published, each as Parquet and CSV: what observers read through the API
/// (projects, credit records, and the connector runs that tell how fresh each registry is).
/// Rejected records are left out (reviewers read them), and so are alerts, which have their
/// own audit export, and the webhook inbox, which is the operators'.
pub const TABLES: [What; 3] = [What::Projects, What::Credits, What::Runs];

/// The formats each table is published in.
pub const FORMATS: [Format; 2] = [Format::Parquet, Format::Csv];

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";

/// The URL path the files are published under.
pub const URL_PREFIX: &str = "/downloads/";

/// `manifest.json`: when the snapshot was generated, how fresh each registry is, and each
/// file with what a downloader checks it by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// When the files were generated (every file carries the same instant).
    pub generated_at: DateTime<Utc>,
    /// Each registry's last successful (complete) run, by registry id.
    pub registries: BTreeMap<String, RegistryFreshness>,
    /// The files.
    pub files: Vec<FileEntry>,
}

/// One registry in the manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegistryFreshness {
    /// When its last complete run finished.
    pub last_successful_run: DateTime<Utc>,
}

/// One published file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Its file name, e.g. `credits.parquet`.
    pub name: String,
    /// Its URL path, e.g. `/downloads/credits.parquet`.
    pub url: String,
    /// The table, e.g. `credits`.
    pub table: String,
    /// `parquet` or `csv`.
    pub format: String,
    /// Data rows (a CSV's header row not counted).
    pub rows: u64,
    /// Size in bytes.
    pub bytes: u64,
    /// SHA-256 of the file, in hex; its HTTP `ETag` in quotes.
    pub sha256: String,
}

/// The snapshot being served: the manifest and its bytes as written.
#[derive(Debug, Clone)]
pub struct Published {
    /// The manifest.
    pub manifest: Manifest,
    /// `manifest.json` as written.
    pub manifest_json: Vec<u8>,
}

/// The folder of snapshots and the one currently published.
#[derive(Debug)]
pub struct Snapshots {
    dir: PathBuf,
    /// Taken for writing only while files are renamed into place, so that a reader opens a
    /// file and reads its manifest entry from the same snapshot.
    current: RwLock<Option<Published>>,
}

impl Snapshots {
    /// Snapshots in `dir`, none published yet.
    pub fn new(dir: PathBuf) -> Arc<Snapshots> {
        Arc::new(Snapshots {
            dir,
            current: RwLock::new(None),
        })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The snapshot published, if one has been written since start-up.
    pub async fn current(&self) -> tokio::sync::RwLockReadGuard<'_, Option<Published>> {
        self.current.read().await
    }

    /// Writes every file and the manifest, then publishes them. The export runs on a
    /// blocking thread.
    pub async fn refresh(self: &Arc<Self>, store: Arc<dyn Store>) -> anyhow::Result<Manifest> {
        let this = self.clone();
        let handle = tokio::runtime::Handle::current();
        let written = tokio::task::spawn_blocking(move || {
            handle.block_on(write_files(&this.dir, store.as_ref()))
        })
        .await
        .context("the snapshot writer stopped")?;
        let (manifest, temporaries) = written?;
        let manifest_tmp = temporary(&self.dir, MANIFEST);
        let published = self.publish(manifest, &temporaries, &manifest_tmp).await;
        if published.is_err() {
            for (tmp, _) in &temporaries {
                let _ = std::fs::remove_file(tmp);
            }
            let _ = std::fs::remove_file(&manifest_tmp);
        }
        published
    }

    /// Writes the manifest, renames every file into place and publishes the snapshot.
    async fn publish(
        &self,
        manifest: Manifest,
        temporaries: &[(PathBuf, String)],
        manifest_tmp: &Path,
    ) -> anyhow::Result<Manifest> {
        let manifest_json = serde_json::to_vec_pretty(&manifest)?;
        let written = std::fs::File::create(manifest_tmp).and_then(|mut file| {
            file.write_all(&manifest_json)?;
            file.sync_all()
        });
        written.with_context(|| format!("cannot write {}", manifest_tmp.display()))?;
        let mut current = self.current.write().await;
        // The manifest last: a reader of the folder finds the files it names in place.
        let manifest_file = (manifest_tmp.to_owned(), MANIFEST.to_owned());
        for (tmp, name) in temporaries.iter().chain([&manifest_file]) {
            let path = self.dir.join(name);
            std::fs::rename(tmp, &path)
                .with_context(|| format!("cannot rename {} into place", path.display()))?;
        }
        *current = Some(Published {
            manifest: manifest.clone(),
            manifest_json,
        });
        Ok(manifest)
    }
}

/// A temporary name in `dir` for `name`, unique to this process.
fn temporary(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.{}.tmp", std::process::id()))
}

/// A writer that counts and hashes what passes through it.
struct Hashing<W: Write> {
    inner: W,
    sha256: Sha256,
    bytes: u64,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha256.update(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Writes every published file under a temporary name; returns the manifest and the
/// (temporary path, final name) of each. Nothing is left behind on failure.
async fn write_files(
    dir: &Path,
    store: &dyn Store,
) -> anyhow::Result<(Manifest, Vec<(PathBuf, String)>)> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let generated_at = export::now();
    let registries = store
        .last_complete_runs()
        .await
        .context("cannot read the connector runs")?
        .into_iter()
        .map(|(registry, at)| {
            let freshness = RegistryFreshness {
                last_successful_run: at,
            };
            (registry, freshness)
        })
        .collect();
    let mut files = Vec::new();
    let mut temporaries: Vec<(PathBuf, String)> = Vec::new();
    for what in TABLES {
        let names: Vec<String> = FORMATS
            .iter()
            .map(|f| format!("{}.{}", what.table(), f.extension()))
            .collect();
        temporaries.extend(names.iter().map(|n| (temporary(dir, n), n.clone())));
        let written = write_table(store, what, generated_at, dir, &names).await;
        match written {
            Ok(entries) => files.extend(entries),
            Err(error) => {
                for (tmp, _) in &temporaries {
                    let _ = std::fs::remove_file(tmp);
                }
                return Err(error);
            }
        }
    }
    let manifest = Manifest {
        generated_at,
        registries,
        files,
    };
    Ok((manifest, temporaries))
}

/// Writes `what` in every format, to the temporary names of `names`, in one pass over the
/// table; each file synced to disk.
async fn write_table(
    store: &dyn Store,
    what: What,
    generated_at: DateTime<Utc>,
    dir: &Path,
    names: &[String],
) -> anyhow::Result<Vec<FileEntry>> {
    let mut outs = Vec::new();
    for name in names {
        let tmp = temporary(dir, name);
        let file = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot create {}", tmp.display()))?;
        outs.push(Hashing {
            inner: BufWriter::with_capacity(1 << 20, file),
            sha256: Sha256::new(),
            bytes: 0,
        });
    }
    let outputs = FORMATS
        .iter()
        .zip(outs.iter_mut())
        .map(|(format, out)| (*format, out as &mut (dyn Write + Send)))
        .collect();
    let rows = export::export_many(store, what, generated_at, outputs)
        .await
        .with_context(|| format!("cannot write {}", names.join(", ")))?;
    let mut entries = Vec::new();
    for ((out, name), format) in outs.into_iter().zip(names).zip(FORMATS) {
        let Hashing {
            inner,
            sha256,
            bytes,
        } = out;
        let file = inner.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        entries.push(FileEntry {
            name: name.clone(),
            url: format!("{URL_PREFIX}{name}"),
            table: what.table().to_owned(),
            format: format.extension().to_owned(),
            rows,
            bytes,
            sha256: hex::encode(sha256.finalize()),
        });
    }
    Ok(entries)
}

/// What a snapshot was written from: when it differs, records or runs changed.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Signature {
    counts: (u64, u64, u64),
    complete_runs: Vec<(String, DateTime<Utc>)>,
    newest_run: Option<(i64, String)>,
}

async fn signature(store: &dyn Store) -> anyhow::Result<Signature> {
    let counts = store.counts().await?;
    Ok(Signature {
        counts: (counts.projects, counts.credits, counts.versions),
        complete_runs: store.last_complete_runs().await?,
        newest_run: store
            .runs(1)
            .await?
            .into_iter()
            .next()
            .map(|r| (r.id, r.status.to_string())),
    })
}

/// Writes a snapshot now, then again whenever, looked at every `every`, a run completed or
/// records changed since the last; until `stopped`. A failed write is logged and tried again
/// at the next look; the last good snapshot stays published meanwhile.
pub async fn keep_fresh(
    snapshots: Arc<Snapshots>,
    store: Arc<dyn Store>,
    every: Duration,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let mut written: Option<Signature> = None;
    loop {
        match signature(store.as_ref()).await {
            Ok(now) if written.as_ref() != Some(&now) => {
                let started = std::time::Instant::now();
                match snapshots.refresh(store.clone()).await {
                    Ok(manifest) => {
                        tracing::info!(
                            target: "carbonmesh",
                            dir = %snapshots.dir().display(),
                            generated_at = %manifest.generated_at,
                            seconds = started.elapsed().as_secs_f64(),
                            "download snapshot written"
                        );
                        written = Some(now);
                    }
                    Err(error) => tracing::warn!(
                        target: "carbonmesh",
                        error = format!("{error:#}"),
                        "cannot write the download snapshot"
                    ),
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(
                target: "carbonmesh",
                %error,
                "cannot tell whether the download snapshot is current"
            ),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopped.changed() => return,
        }
    }
}
