//! What the database engine alone can insert into `credit_records` on this machine: rows
//! built by the database itself beforehand (untimed, in a staging table), then copied into
//! `credit_records` in transactions of 10,000 with one `INSERT ... SELECT` each: no client
//! work at all (no parsing, JSON, hashing, binding or round trips). The batched upsert
//! (`--bench upsert`) does these inserts and more, so it cannot beat these figures.
//!
//!     cargo bench -p carbonmesh-store --bench ceiling                          # SQLite only
//!     scripts/with-postgres.sh cargo bench -p carbonmesh-store --bench ceiling   # both
//!
//! Rows have the shape of the upsert bench's records (keys, serials, a JSON payload of the
//! same fields). Each backend is measured twice on a fresh database: with the schema's
//! indexes, and with only the primary key (the secondary indexes the API reads through
//! dropped). `CARBONMESH_BENCH_RECORDS` sets the rows (default 500,000).

use std::time::Instant;

mod common;

use carbonmesh_store::DatabaseUrl;
use sqlx::{Connection, Executor, PgConnection};

const BATCH: usize = 10_000;

/// The staging table: `credit_records`' columns, their types, and the row number `i`.
const STAGING: &str =
    "CREATE TABLE staging AS SELECT CAST(0 AS BIGINT) AS i, * FROM credit_records WHERE false";

/// The columns every statement fills.
const COLUMNS: &str = "registry, record_key, project_id, transaction_type, transaction_type_raw, \
    quantity, serial, serial_namespace, serial_start, serial_end, vintage, event_date, status, \
    status_raw, payload, content_hash, version, source, raw_hash, fetched_at, run_id, updated_at";

/// Builds rows `0 .. ?1` into `staging` (see [`STAGING`]), stamped `?2`.
fn sqlite_staging() -> String {
    format!(
        "INSERT INTO staging (i, {COLUMNS}) \
         WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1), \
         r AS (SELECT i, 100000000 + i * 1000 AS s, i % 997 AS q, 100 + i % 4000 AS p, \
               1 + i % 12 AS m FROM n) \
         SELECT i, 'verra', printf('%d-%d-%d', 10000 + i, s, s + q), 'verra:' || p, 'retirement', \
           'Retirement', q + 1, \
           printf('%d-%d-%d-VCS-VCU-1507-VER-ET-14-%d-01012020-31122020-1', 10000 + i, s, s + q, p), \
           'verra', s, s + q, 2015 + i % 10, printf('2024-%02d-01', m), 'retired', 'Retired', \
           printf('{{\"registry\":\"verra\",\"record_key\":\"%d-%d-%d\",\"registry_project_id\":\"%d\",\
\"transaction_type\":{{\"value\":\"retirement\",\"raw\":\"Retirement\"}},\"quantity\":\"%d\",\
\"serial\":\"%d-%d-%d-VCS-VCU-1507-VER-ET-14-%d-01012020-31122020-1\",\
\"serial_range\":{{\"namespace\":\"verra\",\"start\":%d,\"end\":%d}},\"vintage\":%d,\
\"event_date\":\"2024-%02d-01\",\"status\":{{\"value\":\"retired\",\"raw\":\"Retired\"}},\
\"beneficiary\":\"Acme Corp\",\"reason\":\"Voluntary\"}}', \
             10000 + i, s, s + q, p, q + 1, 10000 + i, s, s + q, p, s, s + q, 2015 + i % 10, m), \
           lower(hex(randomblob(32))), 1, \
           printf('https://registry.verra.org/export.csv#line=%d', i + 2), \
           lower(hex(randomblob(32))), ?2, 1, ?2 \
         FROM r"
    )
}

/// Builds rows `0 .. $1` into `staging` (see [`STAGING`]), stamped now.
fn postgres_staging() -> String {
    format!(
        "INSERT INTO staging (i, {COLUMNS}) \
         SELECT i, 'verra', format('%s-%s-%s', 10000 + i, s, s + q), 'verra:' || p, 'retirement', \
           'Retirement', q + 1, \
           format('%s-%s-%s-VCS-VCU-1507-VER-ET-14-%s-01012020-31122020-1', 10000 + i, s, s + q, p), \
           'verra', s, s + q, 2015 + i % 10, make_date(2024, m, 1), 'retired', 'Retired', \
           format('{{\"registry\":\"verra\",\"record_key\":\"%s-%s-%s\",\"registry_project_id\":\"%s\",\
\"transaction_type\":{{\"value\":\"retirement\",\"raw\":\"Retirement\"}},\"quantity\":\"%s\",\
\"serial\":\"%s-%s-%s-VCS-VCU-1507-VER-ET-14-%s-01012020-31122020-1\",\
\"serial_range\":{{\"namespace\":\"verra\",\"start\":%s,\"end\":%s}},\"vintage\":%s,\
\"event_date\":\"%s\",\"status\":{{\"value\":\"retired\",\"raw\":\"Retired\"}},\
\"beneficiary\":\"Acme Corp\",\"reason\":\"Voluntary\"}}', \
             10000 + i, s, s + q, p, q + 1, 10000 + i, s, s + q, p, s, s + q, 2015 + i % 10, \
             make_date(2024, m, 1))::json, \
           md5(i::text) || md5(s::text), 1, \
           format('https://registry.verra.org/export.csv#line=%s', i + 2), \
           md5(p::text) || md5(q::text), now(), 1, now() \
         FROM (SELECT i, 100000000 + i * 1000 AS s, i % 997 AS q, 100 + i % 4000 AS p, \
               (1 + i % 12)::int AS m FROM generate_series(0, $1::bigint - 1) AS i) r"
    )
}

/// Copies the staged rows from `first` (a placeholder, `?1` or `$1`) on, one batch of them,
/// into `credit_records`.
fn copy_batch(first: &str) -> String {
    format!(
        "INSERT INTO credit_records ({COLUMNS}) SELECT {COLUMNS} FROM staging \
         WHERE i BETWEEN {first} AND {first} + {BATCH} - 1"
    )
}

/// Rows per second inserting `n` rows into a fresh SQLite database at `path`.
async fn sqlite(path: &std::path::Path, n: i64, primary_key_only: bool) -> f64 {
    let url = DatabaseUrl::Sqlite(path.to_path_buf());
    let store = carbonmesh_store::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    drop(store);
    let path = path.to_path_buf();
    tokio::task::spawn_blocking(move || {
        let conn = rusqlite::Connection::open(&path).expect("open");
        conn.pragma_update(None, "synchronous", "normal")
            .expect("pragma");
        if primary_key_only {
            let names: Vec<String> = conn
                .prepare(
                    "SELECT name FROM sqlite_master WHERE type = 'index' \
                     AND tbl_name = 'credit_records' AND sql IS NOT NULL",
                )
                .and_then(|mut s| {
                    s.query_map([], |row| row.get(0))?
                        .collect::<Result<Vec<String>, _>>()
                })
                .expect("indexes");
            for name in names {
                conn.execute_batch(&format!("DROP INDEX {name}"))
                    .expect("drop");
            }
        }
        conn.execute_batch(STAGING).expect("staging");
        conn.execute(
            &sqlite_staging(),
            rusqlite::params![n, "2026-11-26T12:00:00.000000Z"],
        )
        .expect("stage");
        conn.execute_batch("CREATE INDEX staging_i ON staging (i)")
            .expect("index");
        let copy = copy_batch("?1");
        let started = Instant::now();
        for first in (0..n).step_by(BATCH) {
            conn.execute(&copy, [first]).expect("insert");
        }
        n as f64 / started.elapsed().as_secs_f64()
    })
    .await
    .expect("writer")
}

/// Rows per second inserting `n` rows into a fresh database of the PostgreSQL server at
/// `url` (created, then dropped).
async fn postgres(url: &str, n: i64, primary_key_only: bool) -> f64 {
    let (base, _) = url.rsplit_once('/').expect("a database name in the URL");
    let name = format!("carbonmesh_ceiling_{}", std::process::id());
    let mut admin = PgConnection::connect(url).await.expect("connect");
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await
        .expect("drop");
    admin
        .execute(format!("CREATE DATABASE {name}").as_str())
        .await
        .expect("create");
    let fresh = format!("{base}/{name}");
    let store = carbonmesh_store::connect(&DatabaseUrl::parse(&fresh).expect("url"))
        .await
        .expect("open");
    store.migrate().await.expect("migrate");
    drop(store);
    let mut conn = PgConnection::connect(&fresh).await.expect("connect");
    if primary_key_only {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes WHERE tablename = 'credit_records' \
             AND indexname <> 'credit_records_pkey'",
        )
        .fetch_all(&mut conn)
        .await
        .expect("indexes");
        for name in names {
            conn.execute(format!("DROP INDEX {name}").as_str())
                .await
                .expect("drop");
        }
    }
    conn.execute(STAGING).await.expect("staging");
    sqlx::query(&postgres_staging())
        .bind(n)
        .execute(&mut conn)
        .await
        .expect("stage");
    conn.execute("CREATE INDEX staging_i ON staging (i); ANALYZE staging")
        .await
        .expect("index");
    let copy = copy_batch("$1");
    let started = Instant::now();
    for first in (0..n).step_by(BATCH) {
        sqlx::query(&copy)
            .bind(first)
            .execute(&mut conn)
            .await
            .expect("insert");
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    drop(conn);
    admin
        .execute(format!("DROP DATABASE {name}").as_str())
        .await
        .expect("drop");
    rate
}

fn main() {
    let n = common::records() as i64;
    common::runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let all = sqlite(&dir.path().join("all.db"), n, false).await;
        let key_only = sqlite(&dir.path().join("key.db"), n, true).await;
        println!(
            "sqlite     {n:>9} rows  engine only, all indexes: {all:>9.0}/s  primary key only: {key_only:>9.0}/s"
        );
        match std::env::var("CARBONMESH_TEST_POSTGRES_URL") {
            Ok(url) => {
                let all = postgres(&url, n, false).await;
                let key_only = postgres(&url, n, true).await;
                println!(
                    "postgres   {n:>9} rows  engine only, all indexes: {all:>9.0}/s  primary key only: {key_only:>9.0}/s"
                );
            }
            Err(_) => common::postgres_not_measured(),
        }
    });
}
