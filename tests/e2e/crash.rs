//! `kill -9` during a bulk load: whenever the import dies, the database is as it was before
//! it started (same records, every index, totals in step) or holds the whole load; never a
//! half-written or half-indexed table. On SQLite and on PostgreSQL.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use carbonmesh_e2e::{POSTGRES_URL_VAR, carbonmesh, succeed};
use carbonmesh_model::RunStatus;
use carbonmesh_store::{CreditFilter, DatabaseUrl, StatsGroup};

/// Rows of the large file: enough for the load to take seconds in a test build.
const ROWS: u64 = 60_000;

/// The records, the totals' records, and the credit indexes a store has.
async fn state(url: &DatabaseUrl) -> (u64, u64, Vec<String>) {
    let store = carbonmesh_store::connect(url).await.expect("open");
    let counts = store.counts().await.expect("counts");
    let stats = store
        .statistics(StatsGroup::Registry, &CreditFilter::default())
        .await
        .expect("statistics");
    let records: u64 = stats.iter().map(|s| s.records).sum();
    let exported = store
        .credits_page(None, u32::MAX)
        .await
        .expect("records")
        .len() as u64;
    assert_eq!(counts.credits, exported, "counted and stored records agree");
    let indexes = match url {
        DatabaseUrl::Sqlite(path) => {
            let pool = sqlx::SqlitePool::connect(&format!("sqlite:{}", path.display()))
                .await
                .expect("open");
            let check: String = sqlx::query_scalar("PRAGMA integrity_check")
                .fetch_one(&pool)
                .await
                .expect("integrity check");
            assert_eq!(check, "ok");
            sqlx::query_scalar(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'credits' \
                 AND name NOT LIKE 'sqlite_%' ORDER BY name",
            )
            .fetch_all(&pool)
            .await
            .expect("indexes")
        }
        DatabaseUrl::Postgres(text) => {
            let pool = sqlx::PgPool::connect(text).await.expect("connect");
            sqlx::query_scalar(
                "SELECT indexname::text FROM pg_indexes WHERE tablename = 'credits' \
                 AND indexname <> 'credits_pkey' ORDER BY indexname",
            )
            .fetch_all(&pool)
            .await
            .expect("indexes")
        }
    };
    (exported, records, indexes)
}

fn import(dir: &Path, database: &str, file: &Path) -> Command {
    let mut command = carbonmesh(dir);
    command
        .args([
            "--database",
            database,
            "import",
            "--registry",
            "verra",
            "--kind",
        ])
        .args(["transactions"])
        .arg(file);
    command
}

/// After killed imports, the next command that writes finds their runs: none stays
/// `running`, each killed one is `abandoned` with the reason.
async fn killed_runs_are_abandoned(dir: &Path, database: &str, url: &DatabaseUrl) {
    succeed(carbonmesh(dir).args(["--database", database, "migrate"]));
    let store = carbonmesh_store::connect(url).await.expect("open");
    let runs = store.runs(100).await.expect("runs");
    assert!(
        runs.iter().all(|r| r.status != RunStatus::Running),
        "{runs:?}"
    );
    let abandoned: Vec<_> = runs
        .iter()
        .filter(|r| r.status == RunStatus::Abandoned)
        .collect();
    assert!(!abandoned.is_empty(), "{runs:?}");
    for run in abandoned {
        assert!(run.finished_at.is_some(), "{run:?}");
        assert!(
            run.errors
                .iter()
                .any(|e| e.contains("stopped before it ended")),
            "{run:?}"
        );
    }
}

/// `database` is killed into; `scratch`, of the same backend, times a whole load first.
async fn killed_loads_leave_the_store_as_it_was(database: &str, url: DatabaseUrl, scratch: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let small = dir.path().join("small.csv");
    let large = dir.path().join("large.csv");
    carbonmesh_simulator::write_verra_transactions_csv(7, 2_000, &small).expect("small export");
    carbonmesh_simulator::write_verra_transactions_csv(8, ROWS, &large).expect("large export");

    succeed(&mut import(dir.path(), database, &small));
    let before = state(&url).await;
    assert_eq!((before.0, before.1), (2_000, 2_000));
    assert_eq!(before.2.len(), 6, "every credit index: {:?}", before.2);

    // How long a whole load takes here, in a scratch database of the same backend.
    succeed(&mut import(dir.path(), scratch, &small));
    let started = Instant::now();
    succeed(&mut import(dir.path(), scratch, &large));
    let whole = started.elapsed();

    // Kills spread over the load, from reading the file to building the indexes and committing.
    for fraction in [0.15, 0.4, 0.65, 0.85, 0.95] {
        let mut child = import(dir.path(), database, &large)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start the import");
        let at = whole.mul_f64(fraction);
        let deadline = Instant::now() + at;
        while Instant::now() < deadline {
            if child.try_wait().expect("poll").is_some() {
                break;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        child.kill().expect("kill -9");
        let status = child.wait().expect("reap");
        let after = state(&url).await;
        let complete = (before.0 + ROWS, before.0 + ROWS, before.2.clone());
        eprintln!(
            "killed at {fraction} of {whole:.1?} ({status}): {}",
            if after == before {
                "as before"
            } else {
                "complete"
            }
        );
        assert!(
            after == before || after == complete,
            "killed at {fraction} of the load ({status}): {after:?}, expected {before:?} or the whole load"
        );
        if after == complete {
            // It finished before the kill: nothing left to test at later points.
            killed_runs_are_abandoned(dir.path(), database, &url).await;
            return;
        }
    }

    killed_runs_are_abandoned(dir.path(), database, &url).await;

    // The same load, left to finish, stores everything.
    succeed(&mut import(dir.path(), database, &large));
    let after = state(&url).await;
    assert_eq!(after, (before.0 + ROWS, before.0 + ROWS, before.2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_bulk_load_killed_at_any_point() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("killed.db");
    let scratch = dir.path().join("scratch.db");
    killed_loads_leave_the_store_as_it_was(
        &path.display().to_string(),
        DatabaseUrl::Sqlite(path.clone()),
        &scratch.display().to_string(),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_bulk_load_killed_at_any_point() {
    let admin = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
        panic!("{POSTGRES_URL_VAR} is not set: run scripts/test.sh, which starts PostgreSQL")
    });
    let admin_pool = sqlx::PgPool::connect(&admin).await.expect("connect");
    let (base, _) = admin.rsplit_once('/').expect("a database in the URL");
    let mut urls = Vec::new();
    for role in ["killed", "scratch"] {
        let name = format!("carbonmesh_crash_{role}_{}", std::process::id());
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin_pool)
            .await
            .expect("create database");
        urls.push((name.clone(), format!("{base}/{name}")));
    }
    killed_loads_leave_the_store_as_it_was(
        &urls[0].1,
        DatabaseUrl::parse(&urls[0].1).expect("url"),
        &urls[1].1,
    )
    .await;
    for (name, _) in urls {
        sqlx::query(&format!("DROP DATABASE {name} WITH (FORCE)"))
            .execute(&admin_pool)
            .await
            .expect("drop database");
    }
}
