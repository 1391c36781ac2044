//! An endpoint hears only of alerts at or above its threshold, and moves past the others;
//! an endpoint configured later hears only of what happens after it was added.

mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use carbonmesh_model::{DeliveryState, Severity};
use carbonmesh_store::{DatabaseUrl, Store};
use chrono::Utc;

use support::{alert, alert_ids, raised, receiver, settings};

async fn raise(store: &dyn Store, id: &str, severity: Severity) {
    store
        .save_alert(&alert(id, severity), Some(&raised(id)))
        .await
        .expect("save");
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
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = carbonmesh_notify::start(store.clone(), settings(url), "test".into(), stopped)
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

    assert_eq!(alert_ids(&received), vec!["high", "critical"]);
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
    for n in received.lock().expect("lock").iter() {
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
