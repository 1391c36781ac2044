//! The webhook endpoint on loopback, with the inbox in a SQLite store and a test registry:
//! refusals, replays, rotation, and a record received by webhook and by poll stored once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::time::Duration;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, Page, RawBody, RawRecord, Record, Rejection,
};
use carbonmesh_model::{DeliveryStatus, Project, RecordKind, RegistryId};
use carbonmesh_simulator::{Tamper, WebhookSender};
use carbonmesh_store::{DatabaseUrl, DeliveryCounts, Store};
use carbonmesh_webhook::{Endpoint, Inbox, WebhookSecret, WebhookSettings};
use serde_json::{Value, json};

const OLD: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const NEW: &str = "whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=";

/// A registry publishing projects as JSON objects `{"id", "name"}`, one page.
struct TestRegistry {
    projects: Mutex<Vec<Value>>,
}

#[async_trait]
impl Connector for TestRegistry {
    fn registry(&self) -> RegistryId {
        RegistryId::VERRA
    }
    fn default_schedule(&self) -> &'static str {
        "0 0 3 * * *"
    }
    fn feeds(&self) -> &'static [Feed] {
        &[Feed::Projects]
    }
    async fn fetch_page(&self, feed: Feed, _: Option<&str>) -> Result<Page, FetchError> {
        let projects = self.projects.lock().expect("lock").clone();
        Ok(Page {
            records: projects
                .into_iter()
                .enumerate()
                .map(|(i, p)| RawRecord {
                    feed,
                    source: "https://registry.test/projects".into(),
                    line: i as u64 + 1,
                    body: RawBody::Json(p),
                })
                .collect(),
            ..Page::default()
        })
    }
    fn detect_feed(&self, _: &str, _: &[u8]) -> Option<Feed> {
        None
    }
    fn read_file(&self, feed: Feed, _: &str, _: &[u8]) -> Result<Page, FileError> {
        Err(FileError::Unsupported {
            file: "-".into(),
            feed,
        })
    }
    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        let id = raw
            .clean_field(&["id"])
            .ok_or_else(|| Rejection::field("id", "missing"))?;
        let name = raw.clean_field(&["name"]).unwrap_or_default();
        Ok(vec![Record::Project(Project::new(
            RegistryId::VERRA,
            &id,
            &name,
        ))])
    }
}

struct Harness {
    store: Arc<dyn Store>,
    registry: Arc<TestRegistry>,
    base_url: String,
    _dir: tempfile::TempDir,
    _stop: tokio::sync::watch::Sender<bool>,
}

async fn start(settings: WebhookSettings) -> Harness {
    let dir = tempfile::tempdir().expect("dir");
    let url = DatabaseUrl::Sqlite(dir.path().join("carbonmesh.db"));
    let store: Arc<dyn Store> = Arc::from(carbonmesh_store::connect(&url).await.expect("open"));
    store.migrate().await.expect("migrate");
    let registry = Arc::new(TestRegistry {
        projects: Mutex::new(Vec::new()),
    });
    let mut endpoints = HashMap::new();
    endpoints.insert(
        "verra".to_owned(),
        Endpoint {
            connector: registry.clone(),
            secrets: vec![
                WebhookSecret::parse(OLD).expect("old"),
                WebhookSecret::parse(NEW).expect("new"),
            ],
        },
    );
    let inbox = Inbox::new(
        store.clone(),
        carbonmesh_matcher::MatchSession::new(),
        endpoints,
        settings,
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(carbonmesh_webhook::run_worker(
        inbox.clone(),
        "test".into(),
        stopped,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base_url = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        axum::serve(listener, carbonmesh_webhook::routes(inbox))
            .await
            .expect("serve")
    });
    Harness {
        store,
        registry,
        base_url,
        _dir: dir,
        _stop: stop,
    }
}

fn common(id: &str, name: &str) -> Vec<u8> {
    let project = Project::new(RegistryId::VERRA, id, name);
    serde_json::to_vec(&json!({
        "type": "common_format",
        "data": { "projects": [project] }
    }))
    .expect("json")
}

fn raw(id: &str, name: &str) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "type": "registry_format",
        "data": { "feed": "projects", "records": [{ "id": id, "name": name }] }
    }))
    .expect("json")
}

/// Waits until no delivery is pending.
async fn drained(store: &dyn Store) -> DeliveryCounts {
    for _ in 0..200 {
        let counts = store.delivery_counts().await.expect("counts");
        if counts.pending == 0 {
            return counts;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("deliveries still pending after 5 s");
}

async fn versions(store: &dyn Store, id: &str) -> usize {
    store
        .versions(RecordKind::Project, RegistryId::VERRA, id)
        .await
        .expect("versions")
        .len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refusals_have_their_status_and_reason_and_change_nothing() {
    let h = start(WebhookSettings {
        max_body_bytes: 4096,
        ..WebhookSettings::default()
    })
    .await;
    let sender = WebhookSender::new(&h.base_url, "verra", &[OLD]).expect("sender");
    let body = common("VCS1", "Refused");
    let cases: Vec<(Tamper, Vec<u8>, u16, &str)> = vec![
        (
            Tamper::ForgedSignature,
            body.clone(),
            401,
            "invalid signature",
        ),
        (
            Tamper::TruncatedSignature,
            body.clone(),
            401,
            "invalid signature",
        ),
        (Tamper::WrongSecret, body.clone(), 401, "invalid signature"),
        (
            Tamper::BodyChangedAfterSigning,
            body.clone(),
            401,
            "invalid signature",
        ),
        (Tamper::NoSignature, body.clone(), 401, "missing signature"),
        (
            Tamper::ClockSkew(-360),
            body.clone(),
            401,
            "timestamp out of tolerance",
        ),
        (
            Tamper::ClockSkew(360),
            body.clone(),
            401,
            "timestamp out of tolerance",
        ),
        (Tamper::None, vec![b' '; 5000], 413, "body too large"),
        (
            Tamper::None,
            b"{\"type\": \"common_format\", ".to_vec(),
            400,
            "malformed payload",
        ),
        (
            Tamper::None,
            b"{\"type\": \"gossip\"}".to_vec(),
            400,
            "malformed payload",
        ),
        (
            Tamper::None,
            serde_json::to_vec(&json!({"type": "common_format", "data": {"projects": [
                Project::new(RegistryId::GOLD_STANDARD, "GS1", "Elsewhere")]}}))
            .expect("json"),
            400,
            "malformed payload",
        ),
    ];
    let mut expected_counts: HashMap<&str, u64> = HashMap::new();
    for (tamper, body, status, reason) in &cases {
        let answer = sender
            .send_as(&WebhookSender::next_id(), body, *tamper)
            .await
            .expect("send");
        assert_eq!(answer.status, *status, "{tamper:?}: {}", answer.body);
        assert!(!answer.body.contains('\n'), "one line: {}", answer.body);
        let json: Value = serde_json::from_str(&answer.body).expect("JSON reason");
        assert_eq!(json["error"], *reason, "{tamper:?}");
        assert!(json["detail"].as_str().is_some_and(|d| !d.is_empty()));
        *expected_counts.entry(reason).or_default() += 1;
    }
    let unknown = WebhookSender::new(&h.base_url, "nope", &[OLD]).expect("sender");
    let answer = unknown.send(&body).await.expect("send");
    assert_eq!(answer.status, 404, "{}", answer.body);
    assert!(answer.body.contains("unknown connector"));

    // Nothing was stored or applied; every refusal was counted.
    assert_eq!(
        h.store.delivery_counts().await.expect("counts"),
        DeliveryCounts::default()
    );
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(h.store.counts().await.expect("counts").projects, 0);
    let counted = h.store.rejection_counts().await.expect("rejections");
    for (reason, n) in expected_counts {
        let got: u64 = counted
            .iter()
            .filter(|c| c.connector == "verra" && c.reason == reason)
            .map(|c| c.count)
            .sum();
        assert_eq!(got, n, "{reason}");
    }
    assert!(
        counted
            .iter()
            .any(|c| c.connector == "(unknown)" && c.count == 1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replay_is_acknowledged_without_a_second_effect() {
    let h = start(WebhookSettings::default()).await;
    let sender = WebhookSender::new(&h.base_url, "verra", &[OLD]).expect("sender");
    let id = WebhookSender::next_id();
    let first = sender
        .send_as(&id, &common("VCS7", "First"), Tamper::None)
        .await
        .expect("send");
    assert_eq!(first.status, 202, "{}", first.body);
    drained(h.store.as_ref()).await;
    // The same id again, even with another body, is acknowledged and ignored.
    for body in [common("VCS7", "First"), common("VCS7", "Changed")] {
        let again = sender
            .send_as(&id, &body, Tamper::None)
            .await
            .expect("send");
        assert_eq!(again.status, 200, "{}", again.body);
        assert!(again.body.contains("duplicate"));
    }
    let counts = drained(h.store.as_ref()).await;
    assert_eq!((counts.applied, counts.pending, counts.failed), (1, 0, 0));
    assert_eq!(versions(h.store.as_ref(), "VCS7").await, 1);
    let project = h
        .store
        .project("verra:VCS7")
        .await
        .expect("read")
        .expect("present");
    assert_eq!(project.name, "First");
    let delivery = h
        .store
        .delivery("verra", &id)
        .await
        .expect("read")
        .expect("kept");
    assert_eq!(delivery.status, DeliveryStatus::Applied);
    assert_eq!(
        delivery.verification,
        "v1 HMAC-SHA256 valid with secret 1 of 2"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_rotation_either_secret_is_accepted() {
    let h = start(WebhookSettings::default()).await;
    for (secrets, id) in [
        (vec![OLD], "VCS1"),
        (vec![NEW], "VCS2"),
        (vec![NEW, OLD], "VCS3"),
    ] {
        let sender = WebhookSender::new(&h.base_url, "verra", &secrets).expect("sender");
        let answer = sender.send(&common(id, "Rotated")).await.expect("send");
        assert_eq!(answer.status, 202, "{secrets:?}: {}", answer.body);
    }
    assert_eq!(drained(h.store.as_ref()).await.applied, 3);
    assert_eq!(h.store.counts().await.expect("counts").projects, 3);
}

/// Webhook then poll, poll then webhook, in the registry's format and in the common format:
/// one record, one version per real change.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_and_poll_of_the_same_record_store_it_once() {
    let h = start(WebhookSettings::default()).await;
    let sender = WebhookSender::new(&h.base_url, "verra", &[NEW]).expect("sender");
    let store = h.store.as_ref();

    // Webhook first, then the poll finds the same record: nothing new.
    assert_eq!(
        sender
            .send(&raw("VCS10", "Alpha"))
            .await
            .expect("send")
            .status,
        202
    );
    drained(store).await;
    *h.registry.projects.lock().expect("lock") = vec![json!({"id": "VCS10", "name": "Alpha"})];
    let poll = carbonmesh_ingest::sync(
        store,
        &carbonmesh_matcher::MatchSession::new(),
        h.registry.as_ref(),
        "poll",
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!((poll.counts.new, poll.counts.unchanged), (0, 1));
    assert_eq!(versions(store, "VCS10").await, 1);

    // Poll first (a real change), then the webhook of that change, in either format.
    *h.registry.projects.lock().expect("lock") = vec![json!({"id": "VCS10", "name": "Beta"})];
    let poll = carbonmesh_ingest::sync(
        store,
        &carbonmesh_matcher::MatchSession::new(),
        h.registry.as_ref(),
        "poll",
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(poll.counts.changed, 1);
    assert_eq!(
        sender
            .send(&raw("VCS10", "Beta"))
            .await
            .expect("send")
            .status,
        202
    );
    assert_eq!(
        sender
            .send(&common("VCS10", "Beta"))
            .await
            .expect("send")
            .status,
        202
    );
    let counts = drained(store).await;
    assert_eq!((counts.applied, counts.failed), (3, 0));
    assert_eq!(versions(store, "VCS10").await, 2);
    assert_eq!(store.counts().await.expect("counts").projects, 1);

    // A change hint makes the connector fetch (here: sync) the record.
    *h.registry.projects.lock().expect("lock") = vec![json!({"id": "VCS10", "name": "Gamma"})];
    let hint = serde_json::to_vec(&json!({
        "type": "change_hint",
        "data": { "project_ids": ["VCS10"] }
    }))
    .expect("json");
    assert_eq!(sender.send(&hint).await.expect("send").status, 202);
    drained(store).await;
    let project = store
        .project("verra:VCS10")
        .await
        .expect("read")
        .expect("present");
    assert_eq!(project.name, "Gamma");
    assert_eq!(versions(store, "VCS10").await, 3);
}
