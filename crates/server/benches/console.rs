//! The review console's first render with 10,000 alerts in the database: a real headless
//! Chromium (run under `scripts/with-chromium.sh`, which installs it) opens the queue of a
//! `carbonmesh serve` on a SQLite file, signed in as a reviewer, again and again.
//!
//!     scripts/with-chromium.sh cargo bench -p carbonmesh-server --bench console
//!
//! Prints the time from navigation start to the queue drawn (page, scripts, the viewer and
//! queue queries, the table), as the page marks it (`carbonmesh:queue-rendered`), and the
//! size of the console's files. `CONSOLE_ALERTS` (default 10,000) and `CONSOLE_RUNS` (20)
//! change the sizes. Targets: first render at most 300 ms, files at most 300 KB.

use std::sync::Arc;
use std::time::{Duration, Instant};

use carbonmesh_e2e::{Browser, Server};
use carbonmesh_model::{
    Alert, AlertKind, AlertRecordRef, AlertStatus, ApiRole, RegistryId, SerialRange, Severity,
};
use carbonmesh_store::{DatabaseUrl, Store};
use chrono::Utc;
use serde_json::json;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

const REGISTRIES: [RegistryId; 5] = [
    RegistryId::VERRA,
    RegistryId::GOLD_STANDARD,
    RegistryId::ACR,
    RegistryId::CAR,
    RegistryId::ARB,
];

/// Alert `i`: three in ten need action (spread over kinds, severities and statuses), the
/// rest are informational links, as in real data.
fn alert(i: u64) -> Alert {
    let now = Utc::now();
    let start = 1_000_000 + i * 1_000;
    let range = |s: u64, e: u64| SerialRange {
        namespace: "verra".into(),
        start: s,
        end: e,
    };
    let record = |n: u64, s: u64, e: u64| AlertRecordRef {
        registry: REGISTRIES[((i + n) % 5) as usize],
        record_key: format!("bench-{i}-{n}"),
        version: 1,
        serial: Some(format!("{s}-{e}")),
        range: Some(range(s, e)),
    };
    let (kind, severity) = match i % 10 {
        0 => (AlertKind::SerialOverlapIssuance, Severity::Critical),
        1 => (AlertKind::CrossRegistrySerialOverlap, Severity::High),
        2 => (AlertKind::QuantityMismatch, Severity::Medium),
        _ => (AlertKind::LinkedConversion, Severity::Info),
    };
    let status = match i % 7 {
        0 => AlertStatus::Acknowledged,
        1 => AlertStatus::InReview,
        2 => AlertStatus::Dismissed,
        _ => AlertStatus::New,
    };
    Alert {
        id: format!("{}-{i:016x}", kind.as_str()),
        kind,
        severity,
        status,
        explanation: format!(
            "Units {}–{} of namespace verra are claimed by two records (alert {i})",
            start + 500,
            start + 999
        ),
        records: vec![
            record(0, start, start + 999),
            record(1, start + 500, start + 1_499),
        ],
        overlap: Some(range(start + 500, start + 999)),
        overlap_units: Some(500),
        assignee: (status != AlertStatus::New).then(|| format!("reviewer-{}", i % 4)),
        first_seen: now - chrono::Duration::seconds(i as i64),
        last_seen: now - chrono::Duration::seconds(i as i64),
    }
}

fn main() {
    let alerts = env("CONSOLE_ALERTS", 10_000);
    let runs = env("CONSOLE_RUNS", 20).max(1) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("console.db");
        let store: Arc<dyn Store> = Arc::from(
            carbonmesh_store::connect(&DatabaseUrl::Sqlite(path.clone()))
                .await
                .expect("open"),
        );
        store.migrate().await.expect("migrate");
        for i in 0..alerts {
            store.save_alert(&alert(i), None).await.expect("save alert");
        }
        let (_, token) = carbonmesh_api::keys::create(store.as_ref(), "bench", ApiRole::Reviewer, "bench")
            .await
            .expect("key");
        drop(store);
        let server = Server::start(dir.path(), &format!("sqlite:{}", path.display()))
            .await
            .expect("serve");
        let browser = Browser::start().await.expect("Chromium");
        browser
            .goto(&format!("{}/console", server.base_url))
            .await
            .expect("open");
        browser
            .execute(
                "sessionStorage.setItem('carbonmesh.token', arguments[0]);",
                vec![json!(token)],
            )
            .await
            .expect("sign in");
        let mut samples = Vec::with_capacity(runs);
        // One warm-up load (the first compiles the page's scripts), then the measured ones.
        for run in 0..=runs {
            browser.goto("about:blank").await.expect("blank");
            browser
                .goto(&format!("{}/console#/queue", server.base_url))
                .await
                .expect("open the queue");
            let deadline = Instant::now() + Duration::from_secs(30);
            let rendered = loop {
                let mark = browser
                    .execute(
                        "const m = performance.getEntriesByName('carbonmesh:queue-rendered');\
                         return m.length ? m[0].startTime : null;",
                        vec![],
                    )
                    .await
                    .expect("read the mark");
                if let Some(ms) = mark.as_f64() {
                    break ms;
                }
                assert!(Instant::now() < deadline, "the queue never rendered");
                tokio::time::sleep(Duration::from_millis(20)).await;
            };
            let rows = browser
                .execute(
                    "return document.querySelectorAll('#queue tbody tr[data-alert-id]').length;",
                    vec![],
                )
                .await
                .expect("rows");
            assert_eq!(rows, json!(50), "the queue shows its first page");
            if run > 0 {
                samples.push(rendered);
            }
        }
        browser.close().await.expect("close");
        samples.sort_by(f64::total_cmp);
        let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
        println!("console: {alerts} alerts in SQLite, {runs} loads of the queue in headless Chromium");
        let verdict = |met: bool| if met { "met" } else { "MISSED" };
        println!(
            "  first render (navigation start → queue drawn): median {:.0} ms, p95 {:.0} ms, max {:.0} ms (target: at most 300 ms: {})",
            at(0.5),
            at(0.95),
            at(1.0),
            verdict(at(1.0) <= 300.0)
        );
        let kb = carbonmesh_console::assets_size() as f64 / 1024.0;
        println!(
            "  console files: {kb:.1} KB in all (target: at most 300 KB: {})",
            verdict(kb <= 300.0)
        );
    });
}
