//! What the database engine alone inserts into `credits` on this machine: rows built by the
//! database itself beforehand (untimed, in a staging table), then copied into `credits` with
//! `INSERT ... SELECT`: no client work at all (no parsing, hashing, binding or round trips).
//! The store's writers do these inserts and more, so they cannot beat these figures.
//!
//!     cargo bench -p carbonmesh-store --bench ceiling                          # SQLite only
//!     scripts/with-postgres.sh cargo bench -p carbonmesh-store --bench ceiling   # both
//!
//! Rows have the shape of a Verra VCU export's records (a 70-character key that is also the
//! serial, 2,000 projects, dates over twelve years, a beneficiary term). Each backend is measured
//! on a fresh database twice: with the credit indexes live, in transactions of 10,000 (the
//! incremental path), and in one transaction with the indexes dropped first and built after
//! (the bulk path). `CARBONMESH_BENCH_RECORDS` sets the rows (default 500,000).

use std::time::Instant;

mod common;

use carbonmesh_store::DatabaseUrl;
use sqlx::{Connection, Executor, PgConnection, SqliteConnection};

const BATCH: i64 = 10_000;

/// The credit indexes (as migration 0009 makes them), dropped and built by the bulk path.
const SQLITE_INDEXES: [&str; 5] = [
    "CREATE UNIQUE INDEX credits_key ON credits (registry, key_hash)",
    "CREATE INDEX credits_project ON credits (project)",
    "CREATE INDEX credits_serial ON credits (namespace, serial_bucket, serial_start) WHERE namespace IS NOT NULL",
    "CREATE INDEX credits_event ON credits (event_day DESC)",
    "CREATE INDEX credits_written ON credits (written_at)",
];
const POSTGRES_INDEXES: [&str; 5] = [
    "CREATE UNIQUE INDEX credits_key ON credits (registry, key_hash)",
    "CREATE INDEX credits_project ON credits (project)",
    "CREATE INDEX credits_serial ON credits (namespace, serial_bucket, serial_start) WHERE namespace IS NOT NULL",
    "CREATE INDEX credits_event ON credits (event_day DESC NULLS LAST, id)",
    "CREATE INDEX credits_written ON credits (written_at, id)",
];
const INDEX_NAMES: [&str; 5] = [
    "credits_key",
    "credits_project",
    "credits_serial",
    "credits_event",
    "credits_written",
];

/// The columns filled from the staging table.
const COLUMNS: &str = "registry, key_hash, record_key, project, kind, kind_raw, quantity, \
    namespace, serial_start, serial_end, serial_bucket, vintage, period_start, period_end, \
    event_day, status, status_raw, beneficiary, flags, content_hash, raw_hash, origin, line, \
    version, written_at";

/// Staging rows `0 .. ?1` in SQLite (values as the store writes them: integers and blobs).
const SQLITE_STAGING: &str = "CREATE TABLE staging AS \
    WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?1 - 1) \
    SELECT i, 1 AS registry, abs(random()) AS key_hash, \
      printf('%d-%d-%d-VCS-VCU-%d-VER-IN-14-%d-01012015-31122015-0', 10000 + i % 9000, \
        100000000 + i * 1000, 100000000 + i * 1000 + i % 997, 100 + i % 900, 1000 + i % 2000) \
        AS record_key, \
      1000 + abs(random()) % 2000 AS project, 2 + i % 2 AS kind, 5 AS kind_raw, \
      (1 + i % 997) * 1000 AS quantity, 4 AS namespace, 100000000 + i * 1000 AS serial_start, \
      100000000 + i * 1000 + i % 997 AS serial_end, 5 AS serial_bucket, 2010 + i % 14 AS vintage, \
      16436 AS period_start, 16800 AS period_end, 15000 + abs(random()) % 4500 AS event_day, \
      6 + i % 2 AS status, 8 AS status_raw, 9 AS beneficiary, 1 AS flags, \
      randomblob(32) AS content_hash, randomblob(32) AS raw_hash, 1 AS origin, i + 2 AS line, \
      1 AS version, 1765000000000000 AS written_at FROM n";

/// Staging rows `0 .. $1` in PostgreSQL, with the column types of `credits`.
const POSTGRES_STAGING: &str = "CREATE TABLE staging AS \
    SELECT i::bigint AS i, 1 AS registry, (random() * 9e18)::bigint AS key_hash, \
      format('%s-%s-%s-VCS-VCU-%s-VER-IN-14-%s-01012015-31122015-0', 10000 + i % 9000, \
        100000000 + i * 1000, 100000000 + i * 1000 + i % 997, 100 + i % 900, 1000 + i % 2000) \
        AS record_key, \
      1000 + (random() * 1999)::int AS project, 2 + (i % 2)::int AS kind, 5 AS kind_raw, \
      ((1 + i % 997) * 1000)::bigint AS quantity, 4 AS namespace, \
      (100000000 + i * 1000)::bigint AS serial_start, \
      (100000000 + i * 1000 + i % 997)::bigint AS serial_end, 5::smallint AS serial_bucket, \
      (2010 + i % 14)::int AS vintage, DATE '2015-01-01' AS period_start, \
      DATE '2015-12-31' AS period_end, DATE '2011-01-01' + (random() * 4500)::int AS event_day, \
      6 + (i % 2)::int AS status, 8 AS status_raw, 9 AS beneficiary, \
      1::smallint AS flags, sha256(i::text::bytea) AS content_hash, \
      sha256((i + 1)::text::bytea) AS raw_hash, 1::bigint AS origin, (i + 2)::bigint AS line, \
      1 AS version, now() AS written_at FROM generate_series(0, $1 - 1) AS i";

async fn sqlite(path: &std::path::Path, n: i64, bulk: bool) -> f64 {
    let url = DatabaseUrl::Sqlite(path.to_owned());
    let store = carbonmesh_store::connect(&url).await.expect("open");
    store.migrate().await.expect("migrate");
    drop(store);
    let mut conn = SqliteConnection::connect(&format!("sqlite:{}", path.display()))
        .await
        .expect("connect");
    conn.execute(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536",
    )
    .await
    .expect("pragmas");
    sqlx::query(SQLITE_STAGING)
        .bind(n)
        .execute(&mut conn)
        .await
        .expect("staging");
    let started = Instant::now();
    copy(&mut conn, n, bulk, &SQLITE_INDEXES, "BEGIN IMMEDIATE").await;
    n as f64 / started.elapsed().as_secs_f64()
}

async fn postgres(url: &DatabaseUrl, n: i64, bulk: bool) -> f64 {
    let store = carbonmesh_store::connect(url).await.expect("open");
    store.migrate().await.expect("migrate");
    drop(store);
    let DatabaseUrl::Postgres(text) = url else {
        unreachable!("a PostgreSQL URL")
    };
    let mut conn = PgConnection::connect(text).await.expect("connect");
    sqlx::query(POSTGRES_STAGING)
        .bind(n)
        .execute(&mut conn)
        .await
        .expect("staging");
    let started = Instant::now();
    copy(&mut conn, n, bulk, &POSTGRES_INDEXES, "BEGIN").await;
    n as f64 / started.elapsed().as_secs_f64()
}

/// Copies the staging rows into `credits`: in transactions of [`BATCH`] through the live
/// indexes, or (`bulk`) in one transaction that drops the indexes and builds them after.
async fn copy<C>(conn: &mut C, n: i64, bulk: bool, indexes: &[&str; 5], begin: &str)
where
    for<'c> &'c mut C: Executor<'c>,
{
    let insert = |lo: i64, hi: i64| {
        format!(
            "INSERT INTO credits ({COLUMNS}) SELECT {COLUMNS} FROM staging WHERE i >= {lo} AND i < {hi}"
        )
    };
    if bulk {
        conn.execute(begin).await.expect("begin");
        for name in INDEX_NAMES {
            conn.execute(format!("DROP INDEX {name}").as_str())
                .await
                .expect("drop index");
        }
        conn.execute(insert(0, n).as_str()).await.expect("insert");
        for create in indexes {
            conn.execute(*create).await.expect("create index");
        }
        conn.execute("COMMIT").await.expect("commit");
    } else {
        for lo in (0..n).step_by(BATCH as usize) {
            conn.execute(begin).await.expect("begin");
            conn.execute(insert(lo, lo + BATCH).as_str())
                .await
                .expect("insert");
            conn.execute("COMMIT").await.expect("commit");
        }
    }
}

fn main() {
    let n = common::records() as i64;
    common::runtime().block_on(async {
        let dir = tempfile::tempdir().expect("tempdir");
        let live = sqlite(&dir.path().join("live.db"), n, false).await;
        let bulk = sqlite(&dir.path().join("bulk.db"), n, true).await;
        println!(
            "sqlite     {n:>9} rows  engine only, indexes live: {live:>9.0}/s  indexes built after: {bulk:>9.0}/s"
        );
        match std::env::var("CARBONMESH_TEST_POSTGRES_URL") {
            Ok(url) => {
                let url = DatabaseUrl::parse(&url).expect("url");
                let a = common::fresh_postgres(&url, "ceiling_live").await;
                let b = common::fresh_postgres(&url, "ceiling_bulk").await;
                let live = postgres(&a, n, false).await;
                let bulk = postgres(&b, n, true).await;
                println!(
                    "postgres   {n:>9} rows  engine only, indexes live: {live:>9.0}/s  indexes built after: {bulk:>9.0}/s"
                );
            }
            Err(_) => common::postgres_not_measured(),
        }
    });
}
