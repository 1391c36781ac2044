//! Batched upsert throughput on SQLite and PostgreSQL.
//!
//!     cargo bench -p carbonmesh-store --bench upsert                       # SQLite only
//!     scripts/with-postgres.sh cargo bench -p carbonmesh-store --bench upsert   # both
//!
//! `CARBONMESH_BENCH_RECORDS` sets the number of records (default 500,000). Records are
//! written in batches of 10,000, as a connector writes pages: first as new records, then
//! again unchanged (a re-sync), then with one field changed (new versions).

use std::time::Instant;

use carbonmesh_model::{
    CreditRecord, Normalized, Provenance, RegistryId, SerialRange, TransactionType, UnitStatus,
};
use carbonmesh_store::{DatabaseUrl, Stamped, Store};
use chrono::Utc;
use rust_decimal::Decimal;

const BATCH: usize = 10_000;

fn record(i: u64, beneficiary: &str) -> Stamped<CreditRecord> {
    let start = 100_000_000 + i * 1_000;
    let quantity = 1 + i % 997;
    Stamped {
        record: CreditRecord {
            registry: RegistryId::Verra,
            record_key: format!("{}-{}-{}", 10_000 + i, start, start + quantity - 1),
            registry_project_id: format!("{}", 100 + i % 4_000),
            transaction_type: Normalized::new(TransactionType::Retirement, "Retirement"),
            quantity: Decimal::from(quantity),
            serial: Some(format!(
                "{}-{}-{}-VCS-VCU-1507-VER-ET-14-{}-01012020-31122020-1",
                10_000 + i,
                start,
                start + quantity - 1,
                100 + i % 4_000
            )),
            serial_range: Some(SerialRange {
                namespace: "verra".into(),
                start,
                end: start + quantity - 1,
            }),
            vintage: Some(2015 + (i % 10) as i32),
            monitoring_period: None,
            event_date: chrono::NaiveDate::from_ymd_opt(2024, 1 + (i % 12) as u32, 1),
            status: Normalized::new(UnitStatus::Retired, "Retired"),
            account: None,
            beneficiary: Some(beneficiary.into()),
            reason: Some("Voluntary".into()),
            note: None,
        },
        provenance: Provenance {
            source: format!("https://registry.verra.org/export.csv#line={}", i + 2),
            raw_hash: carbonmesh_model::sha256_hex(&i.to_le_bytes()),
            fetched_at: Utc::now(),
            run_id: Some(1),
        },
    }
}

async fn pass(store: &dyn Store, records: &[Stamped<CreditRecord>]) -> (f64, u64, u64, u64) {
    let started = Instant::now();
    let (mut new, mut changed, mut unchanged) = (0, 0, 0);
    for batch in records.chunks(BATCH) {
        let counts = store.upsert_credits(batch).await.expect("upsert");
        new += counts.new;
        changed += counts.changed;
        unchanged += counts.unchanged;
    }
    (
        records.len() as f64 / started.elapsed().as_secs_f64(),
        new,
        changed,
        unchanged,
    )
}

async fn bench(label: &str, url: DatabaseUrl, n: u64) {
    let store = carbonmesh_store::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    let first: Vec<_> = (0..n).map(|i| record(i, "Acme Corp")).collect();
    let second: Vec<_> = (0..n).map(|i| record(i, "Globex Inc")).collect();

    let (insert_rate, new, _, _) = pass(store.as_ref(), &first).await;
    assert_eq!(new, n);
    let (noop_rate, _, _, unchanged) = pass(store.as_ref(), &first).await;
    assert_eq!(unchanged, n);
    let (change_rate, _, changed, _) = pass(store.as_ref(), &second).await;
    assert_eq!(changed, n);
    println!(
        "{label:<10} {n:>9} records  new: {insert_rate:>9.0}/s  unchanged: {noop_rate:>9.0}/s  changed: {change_rate:>9.0}/s"
    );
}

fn main() {
    let n: u64 = std::env::var("CARBONMESH_BENCH_RECORDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500_000);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        bench(
            "sqlite",
            DatabaseUrl::Sqlite(dir.path().join("bench.db")),
            n,
        )
        .await;
        match std::env::var("CARBONMESH_TEST_POSTGRES_URL") {
            Ok(url) => {
                bench("postgres", DatabaseUrl::parse(&url).expect("url"), n).await;
            }
            Err(_) => println!(
                "postgres   not measured: run under scripts/with-postgres.sh to include it"
            ),
        }
    });
}
