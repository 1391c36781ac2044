//! Write throughput on SQLite and PostgreSQL.
//!
//!     cargo bench -p carbonmesh-store --bench upsert                       # SQLite only
//!     scripts/with-postgres.sh cargo bench -p carbonmesh-store --bench upsert   # both
//!
//! `CARBONMESH_BENCH_RECORDS` sets the number of records (default 500,000). They are written
//! as new records twice, into fresh databases: by `upsert_credits` in batches of 10,000, as a
//! connector writes pages (the indexes kept live), and as one bulk load (`bulk_load`, the
//! indexes built after). Then again unchanged (a re-sync, in batches), then with one field
//! changed (new versions, in batches).
//!
//! Then the API's read queries on a store of `CARBONMESH_BENCH_QUERY_RECORDS` credit records
//! (default 1,000,000; 0 skips it) in one serial namespace, shaped like Verra's: issuance
//! blocks of every length up to 1,000,000 units, each with retirement pieces inside it. Timed:
//! serial overlap lookups (mean and p99), a filtered credit page of 100 (first and deep pages),
//! the newest-first page, a filtered count, and statistics by vintage.
//! `CARBONMESH_BENCH_QUERY_DB=PATH` keeps that SQLite store in a file and reuses it.

use std::time::{Duration, Instant};

mod common;

use carbonmesh_model::{
    CreditRecord, Normalized, Provenance, RegistryId, SerialRange, TransactionType, UnitStatus,
};
use carbonmesh_store::{Batch, CreditFilter, CreditOrder, DatabaseUrl, Stamped, StatsGroup, Store};
use chrono::Utc;
use rust_decimal::Decimal;

const BATCH: usize = 10_000;

fn record(i: u64, beneficiary: &str, fetched_at: chrono::DateTime<Utc>) -> Stamped<CreditRecord> {
    let start = 100_000_000 + i * 1_000;
    let quantity = 1 + i % 997;
    Stamped {
        record: CreditRecord {
            registry: RegistryId::VERRA,
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
            fetched_at,
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

/// Writes `records` as one bulk load; records per second, commit included.
async fn bulk(store: &dyn Store, records: &[Stamped<CreditRecord>]) -> f64 {
    let started = Instant::now();
    let mut load = store
        .bulk_load(records.len() as u64)
        .await
        .expect("bulk load");
    for batch in records.chunks(BATCH) {
        load.write(Batch {
            credits: batch.to_vec(),
            ..Batch::default()
        })
        .await
        .expect("write");
    }
    let counts = load.finish().await.expect("commit");
    assert_eq!(counts.new, records.len() as u64);
    records.len() as f64 / started.elapsed().as_secs_f64()
}

async fn bench(label: &str, url: DatabaseUrl, bulk_url: DatabaseUrl, n: u64) {
    let store = carbonmesh_store::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    let now = Utc::now();
    let first: Vec<_> = (0..n).map(|i| record(i, "Acme Corp", now)).collect();
    let second: Vec<_> = (0..n).map(|i| record(i, "Globex Inc", now)).collect();

    let (insert_rate, new, _, _) = pass(store.as_ref(), &first).await;
    assert_eq!(new, n);
    let (noop_rate, _, _, unchanged) = pass(store.as_ref(), &first).await;
    assert_eq!(unchanged, n);
    let (change_rate, _, changed, _) = pass(store.as_ref(), &second).await;
    assert_eq!(changed, n);
    drop(store);
    let fresh = carbonmesh_store::connect(&bulk_url).await.expect("open");
    fresh.migrate().await.expect("migrate");
    let bulk_rate = bulk(fresh.as_ref(), &first).await;
    println!(
        "{label:<10} {n:>9} records  new: {insert_rate:>9.0}/s (batches of {BATCH}), {bulk_rate:>9.0}/s (one bulk load)  unchanged: {noop_rate:>9.0}/s  changed: {change_rate:>9.0}/s"
    );
}

/// The query store's records: groups of one issuance block and three retirement pieces
/// inside it. Block lengths: mostly up to 1,000 units, some up to 100,000, one in 500 of
/// 1,000,000 (a long block that queried ranges fall inside).
fn query_records(n: u64) -> Vec<Stamped<CreditRecord>> {
    let fetched_at = Utc::now();
    let mut records = Vec::with_capacity(n as usize);
    let mut next = 1_000_000_000u64;
    let mut i = 0u64;
    while records.len() < n as usize {
        let length = match i % 500 {
            0 => 1_000_000,
            1..=20 => 1 + (i * 7_919) % 100_000,
            _ => 1 + (i * 7_919) % 1_000,
        };
        let start = next;
        next += length + (i % 3) * 50;
        let mut issuance = record(i, "Issuer", fetched_at);
        let project = format!("{}", 100 + i % 4_000);
        let pieces = [
            (TransactionType::Issuance, start, start + length - 1),
            (TransactionType::Retirement, start, start + length / 4),
            (
                TransactionType::Retirement,
                start + length / 4 + 1,
                start + length / 2,
            ),
            (
                TransactionType::Cancellation,
                start + length / 2 + 1,
                start + length - 1,
            ),
        ];
        for (piece, (kind, s, e)) in pieces.into_iter().enumerate() {
            if s > e || records.len() >= n as usize {
                continue;
            }
            let r = &mut issuance.record;
            r.record_key = format!("{}-{s}-{e}", 10_000 + i);
            r.registry_project_id = project.clone();
            r.transaction_type = Normalized::new(kind, kind.as_str());
            r.quantity = Decimal::new(((e - s + 1) * 100 + piece as u64) as i64, 2);
            r.serial_range = Some(SerialRange {
                namespace: "verra".into(),
                start: s,
                end: e,
            });
            r.status = Normalized::new(
                match kind {
                    TransactionType::Retirement => UnitStatus::Retired,
                    TransactionType::Cancellation => UnitStatus::Cancelled,
                    _ => UnitStatus::Active,
                },
                "",
            );
            records.push(issuance.clone());
        }
        i += 1;
    }
    records
}

/// Mean and 99th percentile.
fn summary(mut times: Vec<Duration>) -> String {
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    let p99 = times[(times.len() * 99 / 100).min(times.len() - 1)];
    format!("mean {:>8.1} µs  p99 {:>8.1} µs", micros(mean), micros(p99))
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn timed<T>(f: impl std::future::Future<Output = T>) -> (Duration, T) {
    let started = Instant::now();
    let out = f.await;
    (started.elapsed(), out)
}

async fn queries(label: &str, url: DatabaseUrl, n: u64) {
    let store = carbonmesh_store::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    let records = query_records(n);
    // A store kept from an earlier run (CARBONMESH_BENCH_QUERY_DB) is not written again; one
    // holding other records (the PostgreSQL database of the upsert passes) is added to.
    let first = &records[0].record;
    let written = store
        .credit(first.registry, &first.record_key)
        .await
        .expect("read")
        .is_some()
        && store.counts().await.expect("counts").credits >= n;
    if !written {
        let started = Instant::now();
        bulk(store.as_ref(), &records).await;
        println!(
            "{label:<10} {n} credit records written in {:.1} s",
            started.elapsed().as_secs_f64()
        );
    }
    println!("{label:<10} queries on {n} credit records");
    let last = records
        .iter()
        .filter_map(|r| r.record.serial_range.as_ref().map(|s| s.end))
        .max()
        .expect("serials");

    // Overlap lookups of 1 to 1,000 units anywhere in the namespace.
    let mut seed = 1u64;
    let mut random = move |below: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) % below
    };
    let mut times = Vec::new();
    let mut found = 0;
    for _ in 0..10_000 {
        let start = 1_000_000_000 + random(last - 1_000_000_000);
        let end = start + random(1_000);
        let (t, hits) = timed(store.credits_overlapping("verra", start, end, 100)).await;
        times.push(t);
        found += hits.expect("overlap").len();
    }
    println!(
        "{label:<10}   credits_overlapping x10000    {}  ({:.1} blocks each)",
        summary(times),
        found as f64 / 10_000.0
    );
    // Inside the first 1,000,000-unit issuance, far from its start.
    let long = records[0].record.serial_range.clone().expect("serial");
    let mut times = Vec::new();
    for k in 0..1_000 {
        let start = long.start + 600_000 + k * 300;
        let (t, hits) = timed(store.credits_overlapping("verra", start, start + 10, 100)).await;
        // The long issuance contains every such range, whatever the store's size.
        assert!(
            !hits.expect("overlap").is_empty(),
            "the long issuance is found"
        );
        times.push(t);
    }
    println!(
        "{label:<10}   credits_overlapping in a 1M-unit block x1000  {}",
        summary(times)
    );

    let filter = CreditFilter {
        vintage_from: Some(2022),
        transaction_types: vec![TransactionType::Retirement],
        ..Default::default()
    };
    let mut times = Vec::new();
    let mut after: Option<String> = None;
    let mut deep = Vec::new();
    for page in 0..200 {
        let (t, result) =
            timed(store.query_credits(&filter, CreditOrder::Key, after.as_deref(), 100)).await;
        let result = result.expect("page");
        if page < 20 {
            times.push(t);
        } else {
            deep.push(t);
        }
        after = result.items.last().map(|(c, _)| c.clone());
    }
    println!(
        "{label:<10}   query_credits(vintage>=2022, retirement, 100) pages 1-20  {}",
        summary(times)
    );
    println!(
        "{label:<10}   query_credits(vintage>=2022, retirement, 100) pages 21-200  {}",
        summary(deep)
    );
    let mut times = Vec::new();
    let mut deep = Vec::new();
    let mut after: Option<String> = None;
    for page in 0..200 {
        let (t, result) = timed(store.query_credits(
            &CreditFilter::default(),
            CreditOrder::EventDateDesc,
            after.as_deref(),
            100,
        ))
        .await;
        let result = result.expect("page");
        assert_eq!(result.items.len(), 100);
        after = result.items.last().map(|(c, _)| c.clone());
        if page < 20 {
            times.push(t)
        } else {
            deep.push(t)
        }
    }
    println!(
        "{label:<10}   query_credits(newest first, 100) pages 21-200  {}",
        summary(deep)
    );
    println!(
        "{label:<10}   query_credits(newest first, 100) pages 1-20  {}",
        summary(times)
    );
    let (t, count) = timed(store.count_credits(&filter)).await;
    println!(
        "{label:<10}   count_credits(vintage>=2022, retirement) = {}  {:.0} ms",
        count.expect("count"),
        t.as_secs_f64() * 1e3
    );
    // Statistics, as the API asks for them: every grouping, with and without filters, each
    // 50 times.
    let filters = [
        ("no filter", CreditFilter::default()),
        ("vintage>=2022, retirement", filter.clone()),
        (
            "one project",
            CreditFilter {
                project_id: Some("verra:150".into()),
                ..Default::default()
            },
        ),
    ];
    for (name, filter) in &filters {
        for group in [
            StatsGroup::Registry,
            StatsGroup::Vintage,
            StatsGroup::Country,
            StatsGroup::Category,
        ] {
            let mut times = Vec::new();
            let mut records = 0;
            for _ in 0..50 {
                let (t, rows) = timed(store.statistics(group, filter)).await;
                records = rows
                    .expect("statistics")
                    .iter()
                    .map(|r| r.records)
                    .sum::<u64>();
                times.push(t);
            }
            println!(
                "{label:<10}   statistics by {group:?} ({name}) over {records} records x50  {}",
                summary(times)
            );
        }
    }
}

fn main() {
    let n = common::records();
    common::runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        bench(
            "sqlite",
            DatabaseUrl::Sqlite(dir.path().join("bench.db")),
            DatabaseUrl::Sqlite(dir.path().join("bulk.db")),
            n,
        )
        .await;
        match std::env::var("CARBONMESH_TEST_POSTGRES_URL") {
            Ok(url) => {
                let url = DatabaseUrl::parse(&url).expect("url");
                let bulk_url = common::fresh_postgres(&url, "bench_bulk").await;
                bench("postgres", url, bulk_url, n).await;
            }
            Err(_) => common::postgres_not_measured(),
        }
        let q: u64 = std::env::var("CARBONMESH_BENCH_QUERY_RECORDS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(1_000_000);
        if q > 0 {
            let path = std::env::var("CARBONMESH_BENCH_QUERY_DB")
                .map_or_else(|_| dir.path().join("queries.db"), Into::into);
            queries("sqlite", DatabaseUrl::Sqlite(path), q).await;
            if let Ok(url) = std::env::var("CARBONMESH_TEST_POSTGRES_URL") {
                queries("postgres", DatabaseUrl::parse(&url).expect("url"), q).await;
            }
        }
    });
}
