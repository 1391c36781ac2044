//! Double counting is detected whichever way a record arrives: the same overlapping pair of
//! Verra issuances, imported from a file, polled, pushed in the registry's format and pushed
//! in the common format (with and without its serial range), raises the same alert at once.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, HttpClient, HttpPolicy, Page, RawRecord, Record,
    Rejection,
};
use carbonmesh_connector_verra::{VerraConfig, VerraConnector};
use carbonmesh_matcher::MatchSession;
use carbonmesh_model::{AlertKind, CreditRecord, RegistryId};
use carbonmesh_simulator::WebhookSender;
use carbonmesh_store::{DatabaseUrl, Store};
use carbonmesh_webhook::{Endpoint, Inbox, WebhookSecret, WebhookSettings};
use serde_json::json;

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// Two issuances of different projects whose serials share units 941467400..=941467431, in
/// the columns of Verra's VCU export (the first row is a real one).
const EXPORT: &str = "Issuance Date,Sustainable Development Goals,Vintage Start,Vintage End,ID,Name,Country/Area,Project Type,Methodology,Total Vintage Quantity,Quantity Issued,Serial Number,Additional Certifications,Retirement/Cancellation Date,Retirement Beneficiary,Retirement Reason,Retirement Details
2026-04-03,,2020-01-01,2020-12-31,1340,Bale Mountains Eco-region REDD+ project,Ethiopia,Agriculture Forestry and Other Land Use,VM0015,\"1,454,054\",425,19385-941467007-941467431-VCS-VCU-1507-VER-ET-14-1340-01012020-31122020-1,CCB-No Distinction,,,,
2026-04-05,,2020-01-01,2020-12-31,4471,Another Forest Project,Ethiopia,Agriculture Forestry and Other Land Use,VM0015,\"101\",101,19400-941467400-941467500-VCS-VCU-1507-VER-ET-14-4471-01012020-31122020-1,,,,,
";

fn verra() -> Arc<VerraConnector> {
    let http = HttpClient::new(HttpPolicy::default()).expect("http client");
    Arc::new(VerraConnector::new(VerraConfig::default(), http))
}

async fn fresh_store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    let url = DatabaseUrl::Sqlite(dir.path().join("carbonmesh.db"));
    let store: Arc<dyn Store> = Arc::from(carbonmesh_store::connect(&url).await.expect("open"));
    store.migrate().await.expect("migrate");
    store
}

/// The export's rows as the Verra connector normalizes them.
fn normalized_credits() -> Vec<CreditRecord> {
    let connector = verra();
    let page = connector
        .read_file(Feed::Transactions, "export.csv", EXPORT.as_bytes())
        .expect("read");
    page.records
        .iter()
        .flat_map(|raw| connector.normalize(raw).expect("normalize"))
        .filter_map(|record| match record {
            Record::Credit(credit) => Some(credit),
            Record::Project(_) => None,
        })
        .collect()
}

/// The alerts stored, as (kind, the record keys of their evidence), sorted.
async fn alerts(store: &dyn Store) -> Vec<(AlertKind, Vec<String>)> {
    let mut out: Vec<(AlertKind, Vec<String>)> = store
        .alerts_page(None, 100)
        .await
        .expect("alerts")
        .into_iter()
        .map(|alert| {
            let mut keys: Vec<String> = alert.records.into_iter().map(|r| r.record_key).collect();
            keys.sort();
            (alert.kind, keys)
        })
        .collect();
    out.sort_by(|a, b| (a.0.as_str(), &a.1).cmp(&(b.0.as_str(), &b.1)));
    out
}

/// Waits (at most 5 s) until the webhook worker has applied what was delivered.
async fn applied(store: &dyn Store) {
    for _ in 0..200 {
        let counts = store.delivery_counts().await.expect("counts");
        if counts.pending == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("deliveries still pending after 5 s");
}

/// A Verra that publishes the export as its transactions feed, for the poll path.
struct PolledVerra(Arc<VerraConnector>);

#[async_trait]
impl Connector for PolledVerra {
    fn registry(&self) -> RegistryId {
        RegistryId::VERRA
    }
    fn default_schedule(&self) -> &'static str {
        "0 0 3 * * *"
    }
    fn feeds(&self) -> &'static [Feed] {
        &[Feed::Transactions]
    }
    async fn fetch_page(&self, feed: Feed, _: Option<&str>) -> Result<Page, FetchError> {
        Ok(self
            .0
            .read_file(
                feed,
                "https://registry.verra.org/export.csv",
                EXPORT.as_bytes(),
            )
            .expect("read"))
    }
    fn detect_feed(&self, name: &str, bytes: &[u8]) -> Option<Feed> {
        self.0.detect_feed(name, bytes)
    }
    fn read_file(&self, feed: Feed, source: &str, bytes: &[u8]) -> Result<Page, FileError> {
        self.0.read_file(feed, source, bytes)
    }
    fn normalize(&self, raw: &RawRecord) -> Result<Vec<Record>, Rejection> {
        self.0.normalize(raw)
    }
}

/// A webhook intake for Verra on loopback, with its worker: returns the sender and a guard
/// that stops the worker when dropped.
async fn intake(store: Arc<dyn Store>) -> (WebhookSender, tokio::sync::watch::Sender<bool>) {
    let mut endpoints = HashMap::new();
    endpoints.insert(
        "verra".to_owned(),
        Endpoint {
            connector: verra(),
            secrets: vec![WebhookSecret::parse(SECRET).expect("secret")],
        },
    );
    let inbox = Inbox::new(
        store,
        MatchSession::new(),
        endpoints,
        WebhookSettings::default(),
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
    let sender = WebhookSender::new(&base_url, "verra", &[SECRET]).expect("sender");
    (sender, stop)
}

/// Pushes `body` through a fresh intake and returns the alerts raised without any manual step.
async fn pushed(body: serde_json::Value) -> Vec<(AlertKind, Vec<String>)> {
    let dir = tempfile::tempdir().expect("dir");
    let store = fresh_store(&dir).await;
    let (sender, _stop) = intake(store.clone()).await;
    let answer = sender
        .send(&serde_json::to_vec(&body).expect("json"))
        .await
        .expect("send");
    assert_eq!(answer.status, 202, "{}", answer.body);
    applied(store.as_ref()).await;
    alerts(store.as_ref()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_path_raises_the_same_alert_for_the_same_overlap() {
    // Imported from a file.
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("export.csv");
    std::fs::write(&file, EXPORT).expect("write");
    let store = fresh_store(&dir).await;
    carbonmesh_ingest::import_file(
        store.as_ref(),
        Some(&MatchSession::new()),
        verra(),
        &file,
        carbonmesh_ingest::ImportOptions::default(),
    )
    .await
    .expect("import");
    let imported = alerts(store.as_ref()).await;
    assert!(
        imported
            .iter()
            .any(|(kind, keys)| *kind == AlertKind::SerialOverlapIssuance && keys.len() == 2),
        "{imported:?}"
    );

    // Imported in two files, each by a command of its own: the second finds the store
    // holding records and matches once its load has committed. Importing it again changes
    // nothing and leaves the alert as it was.
    let dir = tempfile::tempdir().expect("dir");
    let store = fresh_store(&dir).await;
    let mut lines = EXPORT.lines();
    let header = lines.next().expect("header");
    let first = dir.path().join("first.csv");
    let second = dir.path().join("second.csv");
    std::fs::write(
        &first,
        format!("{header}\n{}\n", lines.next().expect("row")),
    )
    .expect("write");
    std::fs::write(
        &second,
        format!("{header}\n{}\n", lines.next().expect("row")),
    )
    .expect("write");
    for (file, new) in [(&first, 1), (&second, 1), (&second, 0)] {
        let outcome = carbonmesh_ingest::import_file(
            store.as_ref(),
            Some(&MatchSession::new()),
            verra(),
            file,
            carbonmesh_ingest::ImportOptions::default(),
        )
        .await
        .expect("import");
        assert_eq!((outcome.counts.new, outcome.counts.rejected), (new, 0));
    }
    assert_eq!(
        alerts(store.as_ref()).await,
        imported,
        "imported in two files"
    );

    // Polled.
    let dir = tempfile::tempdir().expect("dir");
    let store = fresh_store(&dir).await;
    let outcome = carbonmesh_ingest::sync(
        store.as_ref(),
        &MatchSession::new(),
        &PolledVerra(verra()),
        "poll",
        |_| {},
    )
    .await
    .expect("sync");
    assert_eq!(outcome.counts.rejected, 0);
    assert_eq!(alerts(store.as_ref()).await, imported, "poll");

    // Pushed in the registry's format.
    let registry_format = pushed(json!({
        "type": "registry_format",
        "data": { "feed": "transactions", "file": EXPORT }
    }))
    .await;
    assert_eq!(registry_format, imported, "registry_format webhook");

    // Pushed in the common format, as normalized.
    let credits = normalized_credits();
    assert!(credits.iter().all(|c| c.serial_range.is_some()));
    let common = pushed(json!({
        "type": "common_format",
        "data": { "credits": credits }
    }))
    .await;
    assert_eq!(common, imported, "common_format webhook");

    // Pushed in the common format without the ranges: derived from the serials.
    let bare: Vec<CreditRecord> = credits
        .iter()
        .cloned()
        .map(|mut c| {
            c.serial_range = None;
            c
        })
        .collect();
    let derived = pushed(json!({
        "type": "common_format",
        "data": { "credits": bare }
    }))
    .await;
    assert_eq!(
        derived, imported,
        "common_format webhook without serial_range"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_common_format_range_that_contradicts_its_serial_is_refused() {
    let dir = tempfile::tempdir().expect("dir");
    let store = fresh_store(&dir).await;
    let (sender, _stop) = intake(store.clone()).await;
    let mut credits = normalized_credits();
    let range = credits[0].serial_range.as_mut().expect("range");
    // The serial names 941467007..=941467431; the stated range claims other units.
    range.start = 1;
    range.end = 425;
    let answer = sender
        .send(
            &serde_json::to_vec(&json!({
                "type": "common_format",
                "data": { "credits": [credits[0].clone()] }
            }))
            .expect("json"),
        )
        .await
        .expect("send");
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(
        answer.body.contains("serial_range") && answer.body.contains("contradicts serial"),
        "{}",
        answer.body
    );

    // A date more than a day ahead is refused too.
    let mut future = normalized_credits().remove(1);
    future.event_date = Some(chrono::Utc::now().date_naive() + chrono::Days::new(30));
    let answer = sender
        .send(
            &serde_json::to_vec(&json!({
                "type": "common_format",
                "data": { "credits": [future] }
            }))
            .expect("json"),
        )
        .await
        .expect("send");
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body.contains("in the future"), "{}", answer.body);
    assert_eq!(store.counts().await.expect("counts").credits, 0);
}
