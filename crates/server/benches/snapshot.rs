//! Bulk download snapshots of 1M credit records: a Verra VCU export written by the registry
//! simulator is imported into a fresh SQLite file, then the credits table is exported as
//! Parquet and as CSV, and the whole snapshot `serve` publishes (projects, credits and runs,
//! each as Parquet and CSV, with the manifest) is written as `serve` writes it.
//!
//!     cargo bench -p carbonmesh-server --bench snapshot
//!
//! `ROWS` (default 1,000,000) and `SEED` (1) change the data; `SNAPSHOT_DB=FILE` keeps the
//! SQLite database in FILE and, when FILE exists, measures on it without importing. Under
//! `scripts/with-postgres.sh` the same runs on PostgreSQL too. Prints seconds, rows per
//! second, file sizes and peak RSS. Target: the whole snapshot of 1M credit records in at
//! most 10 s.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use carbonmesh_model::RegistryId;
use carbonmesh_server::config::ConnectorSettings;
use carbonmesh_server::export::{self, Format, What};
use carbonmesh_server::snapshots::Snapshots;
use carbonmesh_store::{DatabaseUrl, Store};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[allow(dead_code)]
#[path = "../../store/benches/common/mod.rs"]
mod common;

fn env_number(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn peak_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// Exports `what` as `format` into `dir`, timed.
async fn one_file(label: &str, store: &dyn Store, dir: &Path, what: What, format: Format) {
    let path = dir.join(format!("{}.{}", what.table(), format.extension()));
    let mut file =
        std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path).expect("create"));
    reset_peak();
    let started = Instant::now();
    let rows = export::export(store, what, format, export::now(), &mut file)
        .await
        .expect("export");
    std::io::Write::flush(&mut file).expect("flush");
    let seconds = started.elapsed().as_secs_f64();
    let bytes = std::fs::metadata(&path).expect("size").len();
    println!(
        "{label:<10} {:<44} {rows:>8} rows {seconds:>6.2} s {:>9.0} rows/s {:>7.1} MiB  peak RSS {:>5.0} MiB",
        format!(
            "export --what {} --format {}",
            what.table(),
            format.extension()
        ),
        rows as f64 / seconds,
        mib(bytes),
        peak_mib(),
    );
}

async fn bench(label: &str, url: DatabaseUrl, export_file: &Path, rows: u64, dir: &Path) {
    let store: Arc<dyn Store> = carbonmesh_store::connect(&url).await.expect("open").into();
    store.migrate().await.expect("migrate");
    if store.counts().await.expect("counts").credits == 0 {
        import(label, store.as_ref(), export_file, rows).await;
    }
    measure(label, store, rows, dir).await;
}

async fn import(label: &str, store: &dyn Store, export_file: &Path, rows: u64) {
    if !export_file.exists() {
        let seed = env_number("SEED", 1);
        let started = Instant::now();
        carbonmesh_simulator::write_verra_transactions_csv(seed, rows, export_file)
            .expect("write the export");
        println!(
            "Verra VCU export: {rows} rows (seed {seed}), written in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    let connector =
        carbonmesh_server::connectors::build(RegistryId::VERRA, &ConnectorSettings::default())
            .expect("the Verra connector");
    let started = Instant::now();
    let counts = carbonmesh_ingest::import_file(
        store,
        None,
        connector,
        export_file,
        carbonmesh_ingest::ImportOptions::default(),
    )
    .await
    .expect("import")
    .counts;
    assert_eq!((counts.new, counts.rejected), (rows, 0));
    println!(
        "{label:<10} {rows} credit records imported in {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

async fn measure(label: &str, store: Arc<dyn Store>, rows: u64, dir: &Path) {
    let files = dir.join(format!("{label}-files"));
    std::fs::create_dir_all(&files).expect("mkdir");
    for format in [Format::Parquet, Format::Csv] {
        one_file(label, store.as_ref(), &files, What::Credits, format).await;
    }

    let snapshots = Snapshots::new(dir.join(format!("{label}-downloads")));
    reset_peak();
    let started = Instant::now();
    let manifest = snapshots.refresh(store.clone()).await.expect("snapshot");
    let seconds = started.elapsed().as_secs_f64();
    let credits = manifest
        .files
        .iter()
        .filter(|f| f.table == "credits")
        .map(|f| f.rows)
        .max()
        .unwrap_or(0);
    assert_eq!(credits, rows);
    let bytes: u64 = manifest.files.iter().map(|f| f.bytes).sum();
    println!(
        "{label:<10} {:<44} {credits:>8} credit records {seconds:>6.2} s  {:.1} MiB in {} files  peak RSS {:>5.0} MiB",
        "snapshot (projects, credits, runs; Parquet and CSV)",
        mib(bytes),
        manifest.files.len(),
        peak_mib(),
    );
}

fn main() {
    let rows = env_number("ROWS", 1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let export_file = dir.path().join("verra.csv");
    let database = std::env::var_os("SNAPSHOT_DB")
        .map_or_else(|| dir.path().join("bench.db"), std::path::PathBuf::from);
    common::runtime().block_on(async {
        let sqlite = DatabaseUrl::parse(&format!("sqlite://{}", database.display())).expect("url");
        bench("sqlite", sqlite, &export_file, rows, dir.path()).await;
        match std::env::var("CARBONMESH_TEST_POSTGRES_URL") {
            Ok(url) => {
                let url = DatabaseUrl::parse(&url).expect("url");
                let url = common::fresh_postgres(&url, "carbonmesh_snapshot_bench").await;
                bench("postgres", url, &export_file, rows, dir.path()).await;
            }
            Err(_) => common::postgres_not_measured(),
        }
    });
}
