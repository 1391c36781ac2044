//! Webhook intake on loopback into a SQLite inbox: concurrent senders post signed deliveries
//! (one common-format project each); reports deliveries/s, ack latency percentiles, how long
//! the worker took to apply them, and counts of lost and duplicated records at the end.
//!
//! `cargo bench -p carbonmesh-webhook --bench intake` (WEBHOOK_BENCH_DELIVERIES and
//! WEBHOOK_BENCH_SENDERS change the size).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use carbonmesh_connector::{
    Connector, Feed, FetchError, FileError, Page, RawRecord, Record, Rejection,
};
use carbonmesh_model::{Project, RegistryId};
use carbonmesh_simulator::{Tamper, WebhookSender};
use carbonmesh_store::{DatabaseUrl, Store};
use carbonmesh_webhook::{Endpoint, Inbox, WebhookSecret, WebhookSettings};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

struct Registry;

#[async_trait]
impl Connector for Registry {
    fn registry(&self) -> RegistryId {
        RegistryId::VERRA
    }
    fn default_schedule(&self) -> &'static str {
        "0 0 3 * * *"
    }
    fn feeds(&self) -> &'static [Feed] {
        &[Feed::Projects]
    }
    async fn fetch_page(&self, _: Feed, _: Option<&str>) -> Result<Page, FetchError> {
        Ok(Page::default())
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
    fn normalize(&self, _: &RawRecord) -> Result<Vec<Record>, Rejection> {
        Ok(Vec::new())
    }
}

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

fn main() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(bench())
}

async fn bench() -> anyhow::Result<()> {
    let deliveries = env("WEBHOOK_BENCH_DELIVERIES", 20_000);
    let senders = env("WEBHOOK_BENCH_SENDERS", 32).max(1);
    let dir = tempfile::tempdir()?;
    let url = DatabaseUrl::Sqlite(dir.path().join("carbonmesh.db"));
    let store: Arc<dyn Store> = Arc::from(carbonmesh_store::connect(&url).await?);
    store.migrate().await?;
    let mut endpoints = HashMap::new();
    endpoints.insert(
        "verra".to_owned(),
        Endpoint {
            connector: Arc::new(Registry),
            secrets: vec![WebhookSecret::parse(SECRET)?],
        },
    );
    let inbox = Inbox::new(
        store.clone(),
        carbonmesh_matcher::MatchSession::new(),
        endpoints,
        WebhookSettings::default(),
    );
    let (_stop, stopped) = tokio::sync::watch::channel(false);
    tokio::spawn(carbonmesh_webhook::run_worker(
        inbox.clone(),
        "bench".into(),
        stopped,
    ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base_url = format!("http://{}", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, carbonmesh_webhook::routes(inbox)).await });

    let sender = WebhookSender::new(&base_url, "verra", &[SECRET])
        .ok_or_else(|| anyhow::anyhow!("bad secret"))?;
    let body = |i: usize| -> anyhow::Result<Vec<u8>> {
        let project = Project::new(RegistryId::VERRA, &format!("VCS{i}"), "Bench project");
        Ok(serde_json::to_vec(&serde_json::json!({
            "type": "common_format",
            "data": { "projects": [project] }
        }))?)
    };

    println!(
        "webhook intake: {deliveries} deliveries from {senders} concurrent senders over loopback into SQLite"
    );
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..senders {
        let sender = sender.clone();
        let bodies: Vec<(String, Vec<u8>)> = (s..deliveries)
            .step_by(senders)
            .map(|i| Ok((format!("msg_bench_{i}"), body(i)?)))
            .collect::<anyhow::Result<_>>()?;
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(bodies.len());
            let mut refused = 0usize;
            for (id, body) in bodies {
                let t = Instant::now();
                match sender.send_as(&id, &body, Tamper::None).await {
                    Ok(answer) if answer.status == 202 => latencies.push(t.elapsed()),
                    _ => refused += 1,
                }
            }
            (latencies, refused)
        }));
    }
    let mut latencies = Vec::with_capacity(deliveries);
    let mut refused = 0;
    for task in tasks {
        let (l, r) = task.await?;
        latencies.extend(l);
        refused += r;
    }
    let intake = started.elapsed();
    latencies.sort_unstable();
    let rate = latencies.len() as f64 / intake.as_secs_f64();
    println!(
        "  acknowledged {} in {:.2} s: {:.0} deliveries/s; ack latency p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; not acknowledged {refused}",
        latencies.len(),
        intake.as_secs_f64(),
        rate,
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );

    // Every acknowledged delivery is applied by the worker.
    loop {
        let counts = store.delivery_counts().await?;
        if counts.pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let applied_in = started.elapsed();
    // Replays of 1,000 ids: acknowledged, no effect.
    let mut replayed = 0;
    for i in 0..deliveries.min(1_000) {
        let answer = sender
            .send_as(&format!("msg_bench_{i}"), &body(i)?, Tamper::None)
            .await?;
        replayed += usize::from(answer.status == 200);
    }
    let counts = store.delivery_counts().await?;
    let records = store.counts().await?;
    let lost = deliveries.saturating_sub(records.projects as usize);
    let duplicated = (records.versions as usize).saturating_sub(records.projects as usize)
        + (counts.applied as usize).saturating_sub(deliveries);
    println!(
        "  all applied {:.2} s after the first send ({:.0} deliveries/s end to end); replays answered 200: {replayed}",
        applied_in.as_secs_f64(),
        deliveries as f64 / applied_in.as_secs_f64()
    );
    println!(
        "  inbox: {} applied, {} failed, {} pending; records: {} projects, {} versions; lost {lost}, duplicated {duplicated}",
        counts.applied, counts.failed, counts.pending, records.projects, records.versions
    );
    anyhow::ensure!(
        lost == 0 && duplicated == 0 && refused == 0,
        "lost or duplicated deliveries"
    );
    Ok(())
}
