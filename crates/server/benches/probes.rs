//! Probes under expensive load: 30 concurrent `statistics` callers on a SQLite store of
//! 300,000 credit records, while `/healthz` and `/readyz` are asked every few milliseconds,
//! all on loopback in this process (clients and server share the 2 cores).
//!
//!     cargo bench -p carbonmesh-server --bench probes
//!
//! `PROBE_RECORDS` (default 300,000), `PROBE_CLIENTS` (30) and `PROBE_SECONDS` (10) change the
//! sizes. Prints the statistics answered and refused (`BUSY`, the instance's limit on
//! expensive operations) and the probes' latencies. Target: `/healthz` p99 at most 50 ms.

use std::sync::Arc;
use std::time::{Duration, Instant};

use carbonmesh_api::ApiConfig;
use carbonmesh_matcher::MatchSession;
use carbonmesh_model::{
    CreditRecord, Normalized, Project, Provenance, RegistryId, SerialRange, TransactionType,
    UnitStatus,
};
use carbonmesh_server::http::{AppState, router};
use carbonmesh_store::{DatabaseUrl, Stamped, Store};
use rust_decimal::Decimal;
use serde_json::{Value, json};

const PROJECTS: u64 = 5_000;
const COUNTRIES: [&str; 6] = ["IN", "CN", "BR", "US", "ID", "KE"];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn provenance() -> Provenance {
    Provenance {
        source: "bench".into(),
        raw_hash: "0".repeat(64),
        fetched_at: chrono::Utc::now(),
        run_id: None,
    }
}

fn credit(i: u64) -> CreditRecord {
    let start = 100_000_000 + i * 1_000;
    let retired = i.is_multiple_of(3);
    CreditRecord {
        registry: RegistryId::VERRA,
        record_key: format!("{i:08}-{start}"),
        registry_project_id: format!("VCS{}", i % PROJECTS),
        transaction_type: if retired {
            Normalized::new(TransactionType::Retirement, "Retirement")
        } else {
            Normalized::new(TransactionType::Issuance, "Issuance")
        },
        quantity: Decimal::from(1_000),
        serial: None,
        serial_range: Some(SerialRange {
            namespace: "verra".into(),
            start,
            end: start + 999,
        }),
        vintage: Some(2010 + (i % 15) as i32),
        monitoring_period: None,
        event_date: chrono::NaiveDate::from_ymd_opt(2020, 1, 1),
        status: if retired {
            Normalized::new(UnitStatus::Retired, "Retired")
        } else {
            Normalized::new(UnitStatus::Active, "Active")
        },
        account: None,
        beneficiary: None,
        reason: None,
        note: None,
    }
}

async fn fill(store: &dyn Store, records: u64) {
    let projects: Vec<Stamped<Project>> = (0..PROJECTS)
        .map(|i| {
            let mut p = Project::new(RegistryId::VERRA, &format!("VCS{i}"), &format!("P{i}"));
            p.country = Some(COUNTRIES[(i % 6) as usize].into());
            p.category = Some(["Forestry", "Energy", "Waste"][(i % 3) as usize].into());
            Stamped {
                record: p,
                provenance: provenance(),
            }
        })
        .collect();
    store.upsert_projects(&projects).await.expect("projects");
    for chunk in (0..records).collect::<Vec<_>>().chunks(50_000) {
        let credits: Vec<Stamped<CreditRecord>> = chunk
            .iter()
            .map(|&i| Stamped {
                record: credit(i),
                provenance: provenance(),
            })
            .collect();
        store.upsert_credits(&credits).await.expect("credits");
    }
}

/// p50, p99 and max of `samples`, in milliseconds.
fn percentiles(samples: &mut [Duration]) -> (f64, f64, f64) {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 * q).ceil() as usize).clamp(1, samples.len()) - 1;
        samples[i].as_secs_f64() * 1000.0
    };
    (at(0.5), at(0.99), at(1.0))
}

async fn probe(
    client: reqwest::Client,
    url: String,
    every: Duration,
    until: Instant,
) -> Vec<Duration> {
    let mut latencies = Vec::new();
    while Instant::now() < until {
        let started = Instant::now();
        let response = client.get(&url).send().await.expect("probe");
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        latencies.push(started.elapsed());
        tokio::time::sleep(every).await;
    }
    latencies
}

fn main() {
    let records = env("PROBE_RECORDS", 300_000);
    let clients = env("PROBE_CLIENTS", 30);
    let seconds = env("PROBE_SECONDS", 10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let dir = tempfile::tempdir().expect("dir");
        let url = DatabaseUrl::Sqlite(dir.path().join("probes.db"));
        let store: Arc<dyn Store> =
            Arc::from(carbonmesh_store::connect(&url).await.expect("open"));
        store.migrate().await.expect("migrate");
        let started = Instant::now();
        fill(store.as_ref(), records).await;
        println!(
            "{records} credit records, {PROJECTS} projects written in {:.1} s",
            started.elapsed().as_secs_f64()
        );

        let config = ApiConfig {
            rate_per_second: 1_000_000,
            rate_burst: 1_000_000,
            ..ApiConfig::default()
        };
        let app = router(AppState::new(store.clone())).merge(carbonmesh_server::graphql::routes(
            &config,
            store.clone(),
            MatchSession::new(),
            Vec::new(),
        ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move { axum::serve(listener, app).await.expect("serve") });
        let client = reqwest::Client::new();
        // Ready before the load starts.
        let ready = format!("{base}/readyz");
        for _ in 0..100 {
            if client.get(&ready).send().await.is_ok_and(|r| r.status().is_success()) {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let until = Instant::now() + Duration::from_secs(seconds);
        let query = json!({ "query": "{ statistics(filter: {vintageFrom: 2012}) { byRegistry { key issued retired records } byCountry { key issued } byVintage { key issued } byCategory { key retired } } }" });
        let callers: Vec<_> = (0..clients)
            .map(|_| {
                let client = client.clone();
                let url = format!("{base}/graphql");
                let query = query.clone();
                tokio::spawn(async move {
                    let (mut answered, mut busy, mut latencies) = (0u64, 0u64, Vec::new());
                    while Instant::now() < until {
                        let started = Instant::now();
                        let body: Value = client
                            .post(&url)
                            .json(&query)
                            .send()
                            .await
                            .expect("statistics")
                            .json()
                            .await
                            .expect("JSON");
                        match body["errors"][0]["extensions"]["code"].as_str() {
                            None => {
                                let registries = body["data"]["statistics"]["byRegistry"]
                                    .as_array()
                                    .expect("byRegistry");
                                assert_eq!(registries.len(), 1, "{body}");
                                answered += 1;
                                latencies.push(started.elapsed());
                            }
                            Some("BUSY") => busy += 1,
                            Some(other) => panic!("statistics failed: {other}: {body}"),
                        }
                    }
                    (answered, busy, latencies)
                })
            })
            .collect();
        let healthz = tokio::spawn(probe(
            client.clone(),
            format!("{base}/healthz"),
            Duration::from_millis(10),
            until,
        ));
        let readyz = tokio::spawn(probe(
            client.clone(),
            ready,
            Duration::from_millis(100),
            until,
        ));
        let (mut answered, mut busy, mut latencies) = (0, 0, Vec::new());
        for caller in callers {
            let (a, b, l) = caller.await.expect("caller");
            answered += a;
            busy += b;
            latencies.extend(l);
        }
        let mut healthz = healthz.await.expect("healthz");
        let mut readyz = readyz.await.expect("readyz");
        let (s50, s99, _) = percentiles(&mut latencies);
        println!(
            "statistics: {clients} callers for {seconds} s: {answered} answered ({:.0}/s, p50 {s50:.1} ms, p99 {s99:.1} ms), {busy} refused BUSY",
            answered as f64 / seconds as f64
        );
        let (h50, h99, hmax) = percentiles(&mut healthz);
        println!(
            "/healthz meanwhile: {} probes, p50 {h50:.2} ms, p99 {h99:.2} ms, max {hmax:.2} ms (target: p99 at most 50 ms: {})",
            healthz.len(),
            if h99 <= 50.0 { "met" } else { "NOT met" }
        );
        let (r50, r99, rmax) = percentiles(&mut readyz);
        println!(
            "/readyz meanwhile: {} probes, p50 {r50:.2} ms, p99 {r99:.2} ms, max {rmax:.2} ms",
            readyz.len()
        );
    });
}
