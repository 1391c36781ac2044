//! Notifications, as a compliance team meets them: an endpoint on loopback that is down for a
//! while, a server killed while it retries, a restart, and the endpoint back: every alert
//! raised or decided arrives once, in order, signed with the endpoint's secret.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use carbonmesh_e2e::{Server, carbonmesh, free_port, postgres_database, run};
use carbonmesh_webhook::WebhookSecret;
use carbonmesh_webhook::signature::verify;

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

/// Two Verra issuances claiming units 941467400..=941467431 twice: one critical alert.
const DOUBLE_ISSUANCE: &str = "Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details
2026-04-03,,2020-01-01,2020-12-31,1340,Bale Mountains Eco-region REDD+ project,Ethiopia,Agriculture Forestry and Other Land Use,VM0015,\"1,454,054\",425,19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1,,,,,
2026-04-05,,2020-01-01,2020-12-31,4471,Another Forest Project,Ethiopia,Agriculture Forestry and Other Land Use,VM0015,\"101\",101,19400-941467400-941467500-VCS-VCU-1507-VER-ET-14-4471-01012020-31122020-1,,,,,
";

/// One request the endpoint received.
#[derive(Debug, Clone)]
struct Received {
    id: String,
    timestamp: i64,
    signature: String,
    body: Vec<u8>,
    accepted: bool,
}

/// A notification endpoint on loopback that refuses its first `refuse` requests with 503.
async fn endpoint(port: u16, refuse: usize) -> Arc<Mutex<Vec<Received>>> {
    let seen = Arc::new(Mutex::new(Vec::<Received>::new()));
    let app = axum::Router::new().route(
        "/hooks/carbonmesh",
        axum::routing::post({
            let seen = seen.clone();
            move |headers: HeaderMap, body: axum::body::Bytes| async move {
                let header = |name: &str| {
                    headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or_default()
                        .to_owned()
                };
                let mut seen = seen.lock().expect("lock");
                let accepted = seen.len() >= refuse;
                seen.push(Received {
                    id: header("webhook-id"),
                    timestamp: header("webhook-timestamp").parse().unwrap_or(0),
                    signature: header("webhook-signature"),
                    body: body.to_vec(),
                    accepted,
                });
                match accepted {
                    true => StatusCode::NO_CONTENT,
                    false => StatusCode::SERVICE_UNAVAILABLE,
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the endpoint's port");
    tokio::spawn(async move { axum::serve(listener, app).await });
    seen
}

fn write_config(dir: &Path, database: &str, receiver_port: u16) -> PathBuf {
    let config = dir.join("carbonmesh.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{database}\"\n\n\
             [notifications]\npoll_interval_ms = 100\nretry_initial_ms = 200\nretry_max_ms = 400\n\
             lease_seconds = 2\n\n\
             [[notifications.endpoints]]\nname = \"compliance\"\n\
             url = \"http://127.0.0.1:{receiver_port}/hooks/carbonmesh\"\n\
             secret = \"{SECRET}\"\nmin_severity = \"high\"\n"
        ),
    )
    .expect("write config");
    config
}

fn cli(dir: &Path, config: &Path, key: Option<&str>, args: &[&str]) -> String {
    let mut command = carbonmesh(dir);
    command.arg("--config").arg(config).args(args);
    if let Some(key) = key {
        command.env("CARBONMESH_API_KEY", key);
    }
    let output = run(&mut command);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn notifications(dir: &Path, config: &Path) -> Vec<serde_json::Value> {
    cli(
        dir,
        config,
        None,
        &["export", "--what", "notifications", "--format", "jsonl"],
    )
    .lines()
    .map(|l| serde_json::from_str(l).expect("JSON line"))
    .collect()
}

async fn every_alert_change_arrives_once_in_order_across_a_crash(database: &str) {
    let dir = tempfile::tempdir().expect("dir");
    let receiver_port = free_port();
    let config = write_config(dir.path(), database, receiver_port);
    // The endpoint is down: nothing listens on its port yet.
    let server = Server::start_with_config(dir.path(), &config)
        .await
        .expect("serve");

    let file = dir.path().join("vcus.csv");
    std::fs::write(&file, DOUBLE_ISSUANCE).expect("write");
    let file = file.to_str().expect("UTF-8 path");
    cli(
        dir.path(),
        &config,
        None,
        &["import", "--registry", "verra", file],
    );
    let alerts: Vec<serde_json::Value> = cli(
        dir.path(),
        &config,
        None,
        &["alerts", "list", "--format", "jsonl"],
    )
    .lines()
    .map(|l| serde_json::from_str(l).expect("JSON line"))
    .collect();
    let critical = alerts
        .iter()
        .find(|a| a["kind"] == "serial_overlap_issuance")
        .expect("the double issuance");
    let id = critical["id"].as_str().expect("id").to_owned();

    // The server tries, fails, and logs the failure: then it dies before any delivery.
    let deadline = Instant::now() + Duration::from_secs(30);
    let failing = loop {
        let rows = notifications(dir.path(), &config);
        if let Some(row) = rows.first() {
            break row.clone();
        }
        assert!(Instant::now() < deadline, "no delivery attempt within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(failing["state"], "retrying", "{failing}");
    assert_eq!(failing["type"], "alert.raised");
    assert!(
        failing["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("cannot connect")),
        "{failing}"
    );
    drop(server); // SIGKILL

    // Meanwhile two reviewers confirm the double issuance, and one reopens it.
    let token = |name: &str| {
        carbonmesh_e2e::token_in(&cli(
            dir.path(),
            &config,
            None,
            &["keys", "create", "--name", name, "--role", "reviewer"],
        ))
    };
    let (ana, ben) = (token("ana"), token("ben"));
    let step = |key: &str, args: &[&str]| {
        let mut all = vec!["alerts", "transition", id.as_str()];
        all.extend_from_slice(args);
        cli(dir.path(), &config, Some(key), &all);
    };
    step(&ana, &["acknowledge"]);
    step(&ana, &["confirm", "--note", "Same units in two issuances."]);
    step(&ben, &["confirm"]);
    step(&ana, &["reopen", "--note", "Verra corrected one serial."]);

    // The endpoint comes back, answering 503 twice first; a new server takes over the
    // endpoint once the dead one's lease runs out.
    let received = endpoint(receiver_port, 2).await;
    let server = Server::start_with_config(dir.path(), &config)
        .await
        .expect("serve again");
    let deadline = Instant::now() + Duration::from_secs(30);
    while received
        .lock()
        .expect("lock")
        .iter()
        .filter(|r| r.accepted)
        .count()
        < 3
    {
        assert!(
            Instant::now() < deadline,
            "not every notification arrived within 30 s: {:?}",
            received.lock().expect("lock")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Nothing more comes.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let received = received.lock().expect("lock").clone();

    let secret = WebhookSecret::parse(SECRET).expect("secret");
    let now = chrono::Utc::now().timestamp();
    for r in &received {
        verify(
            std::slice::from_ref(&secret),
            &r.id,
            r.timestamp,
            &r.signature,
            &r.body,
            now,
        )
        .unwrap_or_else(|e| panic!("{}: {e}", r.id));
    }
    // The refused attempts were the first notification, with its id, tried again.
    assert!(!received[0].accepted && !received[1].accepted);
    assert_eq!(received[0].id, received[2].id);
    assert_eq!(received[1].id, received[2].id);
    let accepted: Vec<serde_json::Value> = received
        .iter()
        .filter(|r| r.accepted)
        .map(|r| serde_json::from_slice(&r.body).expect("JSON body"))
        .collect();
    let summary: Vec<(String, String, String)> = accepted
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap_or_default().to_owned(),
                n["data"]["alert"]["id"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                n["data"]["event"]["to_status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            ("alert.raised".into(), id.clone(), "new".into()),
            ("alert.confirmed".into(), id.clone(), "confirmed".into()),
            ("alert.reopened".into(), id.clone(), "in_review".into()),
        ]
    );
    let positions: Vec<i64> = accepted
        .iter()
        .map(|n| n["data"]["position"].as_i64().expect("position"))
        .collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{positions:?}");
    let ids: Vec<&str> = received
        .iter()
        .filter(|r| r.accepted)
        .map(|r| r.id.as_str())
        .collect();
    let expected: Vec<String> = positions
        .iter()
        .map(|p| format!("cm_notification_{p}"))
        .collect();
    assert_eq!(ids, expected);
    assert_eq!(accepted[0]["data"]["alert"]["severity"], "critical");
    assert_eq!(accepted[2]["data"]["event"]["actor"], "ana");

    // Deliveries are visible: in the export and through the API.
    let log = notifications(dir.path(), &config);
    let states: Vec<(&str, &str)> = log
        .iter()
        .map(|n| {
            (
                n["type"].as_str().unwrap_or_default(),
                n["state"].as_str().unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        states,
        vec![
            ("alert.raised", "delivered"),
            ("alert.confirmed", "delivered"),
            ("alert.reopened", "delivered"),
        ]
    );
    assert!(
        log[0]["attempts"].as_u64().is_some_and(|a| a >= 4),
        "the first server's failures, two 503s and the delivery: {}",
        log[0]
    );
    let answer: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/graphql", server.base_url))
        .bearer_auth(&ben)
        .json(&serde_json::json!({
            "query": "{ notificationDeliveries(first: 10) { edges { node { endpoint type alertId state attempts messageId } } } }"
        }))
        .send()
        .await
        .expect("POST /graphql")
        .json()
        .await
        .expect("JSON answer");
    let nodes = answer["data"]["notificationDeliveries"]["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("{answer}"));
    assert_eq!(nodes.len(), 3, "{answer}");
    assert!(
        nodes.iter().all(|e| e["node"]["state"] == "delivered"
            && e["node"]["endpoint"] == "compliance"
            && e["node"]["alertId"] == id.as_str()),
        "{answer}"
    );
    assert_eq!(nodes[0]["node"]["messageId"], ids[0]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_alert_change_arrives_once_in_order_across_a_crash_on_sqlite() {
    let dir = tempfile::tempdir().expect("dir");
    let database = dir.path().join("carbonmesh.db");
    every_alert_change_arrives_once_in_order_across_a_crash(&database.display().to_string()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_alert_change_arrives_once_in_order_across_a_crash_on_postgres() {
    every_alert_change_arrives_once_in_order_across_a_crash(&postgres_database("notifications"))
        .await;
}
