//! The import's write path alone: a Verra VCU transactions export read, normalized and stored
//! by `import_file`, without the double-counting check (`carbonmesh import` adds it; see
//! `scripts/bench-import.sh` for the command end to end).
//!
//!     cargo bench -p carbonmesh-ingest --bench import                          # SQLite only
//!     scripts/with-postgres.sh cargo bench -p carbonmesh-ingest --bench import  # both
//!
//! `ROWS` (default 1,000,000) and `SEED` (default 1) size the export, written by the
//! simulator. Per backend, into a fresh database: the export (one bulk load), the same export
//! again (every record unchanged), then ROWS/10 new records into it (a load small beside the
//! table, so the indexes stay live). Each pass prints records per second and the process's
//! peak resident memory during it.

use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use carbonmesh_connector::{Connector, HttpClient, HttpPolicy};
use carbonmesh_connector_verra::{VerraConfig, VerraConnector};
use carbonmesh_store::{DatabaseUrl, Store};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// The store benches' helpers: runtime, PostgreSQL databases.
#[allow(dead_code)]
#[path = "../../store/benches/common/mod.rs"]
mod common;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// Writes ROWS + ROWS/10 rows and splits them into the export and an export of new records.
fn write_exports(dir: &Path, rows: u64, seed: u64) -> (PathBuf, PathBuf) {
    let all = dir.join("all.csv");
    let extra = rows / 10;
    carbonmesh_simulator::write_verra_transactions_csv(seed, rows + extra, &all)
        .expect("write the export");
    let export = dir.join("export.csv");
    let new = dir.join("new.csv");
    let mut lines = std::io::BufReader::new(std::fs::File::open(&all).expect("open")).lines();
    let header = lines.next().expect("a header").expect("read");
    let mut first = BufWriter::new(std::fs::File::create(&export).expect("create"));
    let mut second = BufWriter::new(std::fs::File::create(&new).expect("create"));
    writeln!(first, "{header}").expect("write");
    writeln!(second, "{header}").expect("write");
    for (i, line) in lines.enumerate() {
        let line = line.expect("read");
        let out = if (i as u64) < rows {
            &mut first
        } else {
            &mut second
        };
        writeln!(out, "{line}").expect("write");
    }
    first.flush().expect("flush");
    second.flush().expect("flush");
    std::fs::remove_file(&all).expect("remove");
    (export, new)
}

/// Resets the process's peak RSS to its current RSS (Linux `clear_refs`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The process's peak RSS (VmHWM) in MiB.
fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// CPU seconds the process has used (user + system), from /proc/self/stat.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map_or(vec![], |(_, rest)| rest.split_whitespace().collect());
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of the line, 11 and 12 after the name; the
    // kernel counts them in USER_HZ, 100 on Linux.
    (ticks(11) + ticks(12)) / 100.0
}

/// Imports `path` and prints one line: what was done, at what rate, in how much memory.
async fn pass(
    label: &str,
    what: &str,
    store: &dyn Store,
    connector: &Arc<dyn Connector>,
    path: &Path,
) -> carbonmesh_model::RunCounts {
    reset_peak();
    let cpu = cpu_seconds();
    let started = Instant::now();
    let counts = carbonmesh_ingest::import_file(
        store,
        None,
        connector.clone(),
        path,
        carbonmesh_ingest::ImportOptions::default(),
    )
    .await
    .expect("import")
    .counts;
    let seconds = started.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu;
    println!(
        "{label:<10} {what:<26} {:>9} rows {seconds:>7.2} s {:>9.0} rows/s  cpu {cpu:>6.1} s  peak RSS {:>6.0} MiB  (new {}, unchanged {}, changed {}, rejected {})",
        counts.seen,
        counts.seen as f64 / seconds,
        peak_mib(),
        counts.new,
        counts.unchanged,
        counts.changed,
        counts.rejected,
    );
    counts
}

async fn bench(label: &str, url: DatabaseUrl, export: &Path, new: &Path, rows: u64) {
    let store = carbonmesh_store::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    let http = HttpClient::new(HttpPolicy::default()).expect("http client");
    let connector: Arc<dyn Connector> = Arc::new(VerraConnector::new(VerraConfig::default(), http));

    let fresh = pass(
        label,
        "export, fresh database",
        store.as_ref(),
        &connector,
        export,
    )
    .await;
    assert_eq!((fresh.seen, fresh.rejected), (rows, 0));
    assert_eq!(fresh.new, rows);
    let again = pass(
        label,
        "same export, unchanged",
        store.as_ref(),
        &connector,
        export,
    )
    .await;
    assert_eq!(again.unchanged, rows);
    let added = pass(
        label,
        "new records into it",
        store.as_ref(),
        &connector,
        new,
    )
    .await;
    assert_eq!(added.new, rows / 10);
}

fn main() {
    // RUST_LOG=debug shows where an import's time goes.
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .init();
    }
    let rows = env_number("ROWS", 1_000_000);
    let seed = env_number("SEED", 1);
    let dir = tempfile::tempdir().expect("temp dir");
    let started = Instant::now();
    let (export, new) = write_exports(dir.path(), rows, seed);
    println!(
        "export: {rows} rows + {} new (seed {seed}), written in {:.1} s; matcher off",
        rows / 10,
        started.elapsed().as_secs_f64()
    );
    common::runtime().block_on(async {
        let sqlite = DatabaseUrl::parse(&format!(
            "sqlite://{}",
            dir.path().join("bench.db").display()
        ))
        .expect("url");
        bench("sqlite", sqlite, &export, &new, rows).await;
        match std::env::var("CARBONMESH_TEST_POSTGRES_URL") {
            Ok(url) => {
                let url = DatabaseUrl::parse(&url).expect("url");
                let url = common::fresh_postgres(&url, "carbonmesh_import_bench").await;
                bench("postgres", url, &export, &new, rows).await;
            }
            Err(_) => common::postgres_not_measured(),
        }
    });
}
