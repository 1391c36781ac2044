//! On PostgreSQL, transactions that took history positions 1 and 2 may commit 2 first. An
//! endpoint must still hear of 1 before 2: the notifier waits for the hole to fill.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use carbonmesh_model::Severity;
use carbonmesh_store::{DatabaseUrl, Store};
use sqlx::Connection;

use support::{alert, alert_ids, raised, receiver, settings};

/// A fresh database on the server of `CARBONMESH_TEST_POSTGRES_URL` (set by
/// `scripts/test.sh`); fails loudly without it.
async fn fresh_database() -> String {
    let admin = std::env::var("CARBONMESH_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!(
            "CARBONMESH_TEST_POSTGRES_URL is not set: run scripts/test.sh, which starts PostgreSQL"
        )
    });
    let name = format!("carbonmesh_notify_{}", std::process::id());
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .expect("create database");
    let (base, _) = admin.rsplit_once('/').expect("URL with a database name");
    format!("{base}/{name}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_committed_out_of_order_arrive_in_order() {
    let url = fresh_database().await;
    let store: Arc<dyn Store> = Arc::from(
        carbonmesh_store::connect(&DatabaseUrl::parse(&url).expect("url"))
            .await
            .expect("open"),
    );
    store.migrate().await.expect("migrate");
    store
        .save_alert(&alert("first", Severity::Critical), None)
        .await
        .expect("save");
    store
        .save_alert(&alert("second", Severity::Critical), None)
        .await
        .expect("save");

    let (endpoint, received) = receiver().await;
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = carbonmesh_notify::start(store.clone(), settings(endpoint), "test".into(), stopped)
        .await
        .expect("start");

    // Position 1 is taken by a transaction that stays open while position 2 commits.
    let mut slow = sqlx::PgConnection::connect(&url).await.expect("connect");
    let mut tx = slow.begin().await.expect("begin");
    sqlx::query(
        "INSERT INTO alert_events (alert_id, actor, at, from_status, to_status, channel) \
         VALUES ('first', 'matcher', now(), NULL, 'new', 'system')",
    )
    .execute(&mut *tx)
    .await
    .expect("hold position 1");
    let second = raised("second");
    store.add_alert_event(&second).await.expect("position 2");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(
        alert_ids(&received).is_empty(),
        "position 2 was sent before position 1 committed"
    );
    tx.commit().await.expect("commit position 1");

    let deadline = Instant::now() + Duration::from_secs(20);
    while alert_ids(&received).len() < 2 {
        assert!(
            Instant::now() < deadline,
            "not both within 20 s: {:?}",
            received.lock()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).expect("stop");
    task.await.expect("notifier");
    assert_eq!(alert_ids(&received), vec!["first", "second"]);
}
