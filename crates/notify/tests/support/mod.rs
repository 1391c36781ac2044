//! What the notifier's tests share: alerts, their raising, a receiving endpoint on loopback,
//! and the settings pointing at it.

use std::sync::{Arc, Mutex};

use carbonmesh_model::{Alert, AlertEvent, AlertKind, AlertStatus, Channel, Severity};
use carbonmesh_notify::{EndpointSettings, NotificationSettings, SigningSecret};
use chrono::Utc;

/// The endpoint's signing secret.
pub const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// A new alert of `severity`.
pub fn alert(id: &str, severity: Severity) -> Alert {
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

/// The history entry of an alert raised by the matcher.
pub fn raised(id: &str) -> AlertEvent {
    AlertEvent {
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
    }
}

/// An endpoint on loopback answering 200: its URL, and the bodies received in order.
pub async fn receiver() -> (String, Arc<Mutex<Vec<serde_json::Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let app = axum::Router::new().route(
        "/",
        axum::routing::post({
            let received = received.clone();
            move |body: axum::body::Bytes| async move {
                let n: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                received.lock().expect("lock").push(n);
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

/// The alert ids of received notifications, in order.
pub fn alert_ids(received: &Mutex<Vec<serde_json::Value>>) -> Vec<String> {
    received
        .lock()
        .expect("lock")
        .iter()
        .map(|n| n["data"]["alert"]["id"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// One endpoint `desk` at `url` for alerts of severity high and above, polled every 50 ms.
pub fn settings(url: String) -> NotificationSettings {
    NotificationSettings {
        poll_interval_ms: 50,
        endpoints: vec![EndpointSettings {
            name: "desk".into(),
            url,
            secret: SigningSecret::new(SECRET),
            min_severity: Severity::High,
        }],
        ..NotificationSettings::default()
    }
}
