//! An endpoint hears only of alerts at or above its threshold, and moves past the others;
//! an endpoint configured later hears only of what happens after it was added.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use carbonmesh_model::{
    Alert, AlertEvent, AlertKind, AlertStatus, Channel, DeliveryState, Severity,
};
use carbonmesh_notify::{EndpointSettings, NotificationSettings, SigningSecret};
use carbonmesh_store::{DatabaseUrl, Store};
use chrono::Utc;

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn alert(id: &str, severity: Severity) -> Alert {
    Alert {
        id: id.into(),
        kind: AlertKind::QuantityMismatch,
        severity,
        status: AlertStatus::New,
        explanation: format!("{id} is an alert of severity {severity}"),
        records: Vec::new(),
        overlap: None,
        overlap_units: None,
        assignee: None,
        first_seen: Utc::now(),
        last_seen: Utc::now(),
    }
}

async fn raise(store: &dyn Store, id: &str, severity: Severity) {
    let alert = alert(id, severity);
    let event = AlertEvent {
        alert_id: id.into(),
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
    store.save_alert(&alert, Some(&event)).await.expect("save");
}

/// Receives notifications on loopback; the bodies in arrival order.
async fn receiver() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let ids = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new().route(
        "/",
        axum::routing::post({
            let ids = ids.clone();
            move |body: axum::body::Bytes| async move {
                let n: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                ids.lock().expect("lock").push(n);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, ids)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endpoint_hears_of_alerts_at_its_threshold_from_when_it_was_added() {
    let dir = tempfile::tempdir().expect("dir");
    let url = DatabaseUrl::Sqlite(dir.path().join("carbonmesh.db"));
    let store: Arc<dyn Store> = Arc::from(carbonmesh_store::connect(&url).await.expect("open"));
    store.migrate().await.expect("migrate");
    // Raised before the endpoint was configured: not announced.
    raise(store.as_ref(), "before", Severity::Critical).await;

    let (url, received) = receiver().await;
    let settings = NotificationSettings {
        poll_interval_ms: 50,
        endpoints: vec![EndpointSettings {
            name: "desk".into(),
            url,
            secret: SigningSecret::new(SECRET),
            min_severity: Severity::High,
        }],
        ..NotificationSettings::default()
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = carbonmesh_notify::start(store.clone(), settings, "test".into(), stopped)
        .await
        .expect("start");
    raise(store.as_ref(), "info", Severity::Info).await;
    raise(store.as_ref(), "medium", Severity::Medium).await;
    raise(store.as_ref(), "high", Severity::High).await;
    raise(store.as_ref(), "critical", Severity::Critical).await;
    raise(store.as_ref(), "low", Severity::Low).await;

    let last = store.alert_event_position().await.expect("position");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        // The endpoint's position, read by its own holder.
        let now = Utc::now();
        let position = store
            .claim_endpoint("desk", "test", 0, now, now + chrono::Duration::seconds(30))
            .await
            .expect("claim");
        if position == Some(last) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the endpoint stopped at {position:?} of {last}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    stop.send(true).expect("stop");
    task.await.expect("notifier");

    let received = received.lock().expect("lock").clone();
    let ids: Vec<&str> = received
        .iter()
        .map(|n| n["data"]["alert"]["id"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(ids, vec!["high", "critical"]);
    // What endpoints receive is what schema/ documents.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../schema/model/alert-notification.schema.json"
        ))
        .expect("the notification schema"),
    )
    .expect("JSON");
    let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
    for n in &received {
        let errors: Vec<String> = validator.iter_errors(n).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?} in {n}");
        assert_eq!(n["type"], "alert.raised");
    }
    let log = store.notifications_page(None, 10).await.expect("log");
    let logged: Vec<(&str, DeliveryState, u32)> = log
        .iter()
        .map(|d| (d.alert_id.as_str(), d.state, d.attempts))
        .collect();
    assert_eq!(
        logged,
        vec![
            ("high", DeliveryState::Delivered, 1),
            ("critical", DeliveryState::Delivered, 1)
        ]
    );
    assert!(
        log.iter()
            .all(|d| d.message_id == format!("cm_notification_{}", d.position))
    );
}
