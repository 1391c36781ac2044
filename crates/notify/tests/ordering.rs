//! On PostgreSQL, transactions that took history positions 1 and 2 may commit 2 first. An
//! endpoint must still hear of 1 before 2: the notifier waits for the hole to fill.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use carbonmesh_model::{Alert, AlertEvent, AlertKind, AlertStatus, Channel, Severity};
use carbonmesh_notify::{EndpointSettings, NotificationSettings, SigningSecret};
use carbonmesh_store::{DatabaseUrl, Store};
use chrono::Utc;
use sqlx::Connection;

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn alert(id: &str) -> Alert {
    Alert {
        id: id.into(),
        kind: AlertKind::SerialOverlapIssuance,
        severity: Severity::Critical,
        status: AlertStatus::New,
        explanation: format!("{id} overlaps"),
        records: Vec::new(),
        overlap: None,
        overlap_units: None,
        assignee: None,
        first_seen: Utc::now(),
        last_seen: Utc::now(),
    }
}

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
    store.save_alert(&alert("first"), None).await.expect("save");
    store
        .save_alert(&alert("second"), None)
        .await
        .expect("save");

    let received = Arc::new(Mutex::new(Vec::<String>::new()));
    let app = axum::Router::new().route(
        "/",
        axum::routing::post({
            let received = received.clone();
            move |body: axum::body::Bytes| async move {
                let n: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                let id = n["data"]["alert"]["id"].as_str().unwrap_or("?").to_owned();
                received.lock().expect("lock").push(id);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let endpoint = format!("http://{}/", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    let settings = NotificationSettings {
        poll_interval_ms: 50,
        endpoints: vec![EndpointSettings {
            name: "desk".into(),
            url: endpoint,
            secret: SigningSecret::new(SECRET),
            min_severity: Severity::High,
        }],
        ..NotificationSettings::default()
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = carbonmesh_notify::start(store.clone(), settings, "test".into(), stopped)
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
    let second = AlertEvent {
        alert_id: "second".into(),
        actor: "matcher".into(),
        actor_key: None,
        channel: Some(Channel::System),
        decision: None,
        at: Utc::now(),
        from_status: None,
        to_status: Some(AlertStatus::New),
        reason: None,
        note: None,
    };
    store.add_alert_event(&second).await.expect("position 2");
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(
        received.lock().expect("lock").is_empty(),
        "position 2 was sent before position 1 committed"
    );
    tx.commit().await.expect("commit position 1");

    let deadline = Instant::now() + Duration::from_secs(20);
    while received.lock().expect("lock").len() < 2 {
        assert!(
            Instant::now() < deadline,
            "not both within 20 s: {:?}",
            received.lock()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).expect("stop");
    task.await.expect("notifier");
    assert_eq!(*received.lock().expect("lock"), vec!["first", "second"]);
}
