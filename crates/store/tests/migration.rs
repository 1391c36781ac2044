//! A database written by the store before the compact layout (schema 0008, see
//! `fixtures/README.md`) migrates with every record, version, alert, key and run intact, on
//! SQLite and on PostgreSQL.

use std::borrow::Cow;

use carbonmesh_model::{CreditRecord, Project, RecordKind, RecordVersion};
use carbonmesh_store::{CreditFilter, DatabaseUrl, Stamped, StatsGroup};
use serde_json::Value;
use sqlx::migrate::Migrator;

// Only the database helpers are used here, not the per-backend store tests.
#[allow(dead_code, unused_macros, unused_imports)]
mod support;

const LEGACY_SQL: &str = include_str!("fixtures/legacy-0008.sql");
const EXPECTED: &str = include_str!("fixtures/legacy-0008.expected.json");

/// Migrations 0001 to 0008 only: the schema the fixture was written with.
fn legacy_migrator(full: &'static Migrator) -> Migrator {
    Migrator {
        migrations: Cow::Owned(
            full.migrations
                .iter()
                .filter(|m| m.version <= 8)
                .cloned()
                .collect(),
        ),
        ..Migrator::DEFAULT
    }
}

static SQLITE: Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES: Migrator = sqlx::migrate!("./migrations/postgres");

/// Writes the legacy database: schema 0008, then the fixture's rows.
async fn write_legacy(url: &DatabaseUrl) {
    match url {
        DatabaseUrl::Sqlite(path) => {
            let pool = sqlx::SqlitePool::connect_with(
                sqlx::sqlite::SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true),
            )
            .await
            .expect("open");
            legacy_migrator(&SQLITE)
                .run(&pool)
                .await
                .expect("schema 0008");
            for statement in LEGACY_SQL.lines().filter(|l| !l.trim().is_empty()) {
                sqlx::query(statement)
                    .execute(&pool)
                    .await
                    .expect(statement);
            }
            pool.close().await;
        }
        DatabaseUrl::Postgres(text) => {
            let pool = sqlx::PgPool::connect(text).await.expect("connect");
            legacy_migrator(&POSTGRES)
                .run(&pool)
                .await
                .expect("schema 0008");
            for statement in LEGACY_SQL.lines().filter(|l| !l.trim().is_empty()) {
                // The dump names every column, generated positions included.
                let statement =
                    statement.replacen(") VALUES (", ") OVERRIDING SYSTEM VALUE VALUES (", 1);
                sqlx::query(&statement)
                    .execute(&pool)
                    .await
                    .expect(&statement);
            }
            for (table, column) in [
                ("connector_runs", "id"),
                ("rejected_records", "id"),
                ("webhook_deliveries", "seq"),
                ("alert_events", "seq"),
            ] {
                sqlx::query(&format!(
                    "SELECT setval(pg_get_serial_sequence('{table}', '{column}'), \
                     (SELECT MAX({column}) FROM {table}))"
                ))
                .execute(&pool)
                .await
                .expect("sequence");
            }
            pool.close().await;
        }
    }
}

fn value<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).expect("json")
}

/// A version without its content hash (credit hashes are computed afresh by the migration).
fn without_hash(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("content_hash");
    }
    v
}

async fn legacy_database_migrates_intact(db: &support::TestDb) {
    write_legacy(db.url()).await;
    let store = carbonmesh_store::connect(db.url()).await.expect("open");
    assert_eq!(
        store.pending_migrations().await.expect("pending"),
        10,
        "0009 to 0018"
    );
    store.migrate().await.expect("migrate");
    assert_eq!(store.pending_migrations().await.expect("pending"), 0);
    // Migrating again changes nothing.
    store.migrate().await.expect("migrate again");

    let expected: Value = serde_json::from_str(EXPECTED).expect("expected json");
    let mut credits = Vec::new();
    for e in expected["credits"].as_array().expect("credits") {
        let record: CreditRecord = serde_json::from_value(e.clone()).expect("credit");
        let stored = store
            .credit(record.registry, &record.record_key)
            .await
            .expect("read")
            .expect("present");
        assert_eq!(value(&stored), *e);
        credits.push(stored);
    }
    let mut projects = Vec::new();
    for e in expected["projects"].as_array().expect("projects") {
        let record: Project = serde_json::from_value(e.clone()).expect("project");
        let stored = store
            .project(&record.id())
            .await
            .expect("read")
            .expect("present");
        assert_eq!(value(&stored), *e);
        projects.push(stored);
    }
    for versions in expected["versions"].as_array().expect("versions") {
        let versions: Vec<RecordVersion> =
            serde_json::from_value(versions.clone()).expect("versions");
        let first = &versions[0];
        let stored = store
            .versions(first.kind, first.registry, &first.record_key)
            .await
            .expect("versions");
        assert_eq!(stored.len(), versions.len(), "{}", first.record_key);
        for (s, e) in stored.iter().zip(&versions) {
            match e.kind {
                // Project hashes keep their definition; credit hashes are computed afresh.
                RecordKind::Project => assert_eq!(value(s), value(e)),
                RecordKind::Credit => {
                    assert_eq!(without_hash(value(s)), without_hash(value(e)));
                    assert_eq!(s.content_hash.len(), 64);
                }
            }
        }
    }
    let alerts = store.alerts_page(None, 100).await.expect("alerts");
    assert_eq!(value(&alerts), expected["alerts"]);
    for (alert, events) in alerts
        .iter()
        .zip(expected["alert_events"].as_array().expect("events"))
    {
        assert_eq!(
            value(&store.alert_events(&alert.id).await.expect("events")),
            *events
        );
    }
    assert_eq!(
        value(&store.api_keys().await.expect("keys")),
        expected["api_keys"]
    );
    assert_eq!(
        value(&store.runs(100).await.expect("runs")),
        expected["runs"]
    );
    // Rejections kept before 0010 were each seen once, last when first.
    let rejected = store.rejected(100).await.expect("rejected");
    for r in &rejected {
        assert_eq!((r.seen_count, r.last_seen_at), (1, r.rejected_at), "{r:?}");
    }
    let mut rejected = value(&rejected);
    for r in rejected.as_array_mut().expect("rejections") {
        let r = r.as_object_mut().expect("a rejection");
        r.remove("last_seen_at");
        r.remove("seen_count");
    }
    assert_eq!(rejected, expected["rejected"]);
    let c = store.counts().await.expect("counts");
    assert_eq!(
        serde_json::json!({"projects": c.projects, "credits": c.credits, "versions": c.versions, "rejected": c.rejected}),
        expected["counts"]
    );
    let stats: Vec<Value> = store
        .statistics(StatsGroup::Registry, &CreditFilter::default())
        .await
        .expect("statistics")
        .iter()
        .map(|s| {
            serde_json::json!([
                s.key,
                s.issued.to_string(),
                s.retired.to_string(),
                s.cancelled.to_string(),
                s.records
            ])
        })
        .collect();
    assert_eq!(Value::Array(stats), expected["statistics_by_registry"]);

    // The carried-over hashes are today's: the same records again change nothing.
    let versions_before = store.counts().await.expect("counts").versions;
    let again: Vec<Stamped<CreditRecord>> = credits
        .iter()
        .map(|c| Stamped {
            record: c.clone(),
            provenance: carbonmesh_model::Provenance {
                source: "again.csv:1".into(),
                raw_hash: carbonmesh_model::sha256_hex(b"again"),
                fetched_at: chrono::Utc::now(),
                run_id: None,
            },
        })
        .collect();
    let counts = store.upsert_credits(&again).await.expect("again");
    assert_eq!((counts.unchanged, counts.new, counts.changed), (6, 0, 0));
    assert_eq!(
        store.counts().await.expect("counts").versions,
        versions_before
    );
    assert_eq!(projects.len(), 3);
}

mod sqlite {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn legacy_database_migrates_intact() {
        super::legacy_database_migrates_intact(&crate::support::TestDb::sqlite().await).await;
    }
}

mod postgres {
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn legacy_database_migrates_intact() {
        let db = crate::support::TestDb::postgres().await;
        super::legacy_database_migrates_intact(&db).await;
        db.drop_database().await;
    }
}
