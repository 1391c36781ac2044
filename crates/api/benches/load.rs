//! GraphQL load on loopback: 1 million credit records (and 20,000 projects) in a SQLite file,
//! the API served by axum in this process, concurrent clients for a fixed time per query.
//! Every response body is checked: a wrong or error answer fails the run.
//!
//! `cargo bench -p carbonmesh-api --bench load` (`LOAD_RECORDS`, `LOAD_CLIENTS` for the
//! lookups, `LOAD_PAGE_CLIENTS` for the filtered pages, `LOAD_SECONDS` override the defaults:
//! 1,000,000, 32, 4, 10; `LOAD_DB=FILE` keeps the database in FILE and reuses it).

use std::sync::Arc;
use std::time::{Duration, Instant};

use carbonmesh_model::{
    CreditRecord, Normalized, Project, ProjectStatus, Provenance, RegistryId, SerialRange,
    TransactionType, UnitStatus,
};
use carbonmesh_store::{DatabaseUrl, Stamped, Store};
use chrono::Utc;
use rust_decimal::Decimal;
use serde_json::{Value, json};

const PROJECTS: u64 = 20_000;
const BLOCK: u64 = 1_000;
const COUNTRIES: [&str; 8] = ["IN", "CN", "BR", "US", "ID", "PE", "KE", "TR"];

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One fetch: every record of the bench was read at the same time.
fn provenance() -> Provenance {
    static FETCHED: std::sync::OnceLock<chrono::DateTime<Utc>> = std::sync::OnceLock::new();
    Provenance {
        source: "bench".into(),
        raw_hash: "0".repeat(64),
        fetched_at: *FETCHED.get_or_init(Utc::now),
        run_id: None,
    }
}

fn project(i: u64) -> Project {
    let mut p = Project::new(
        RegistryId::VERRA,
        &format!("VCS{i}"),
        &format!("Bench Forest Conservation Project {i}"),
    );
    p.country = Some(COUNTRIES[(i % 8) as usize].into());
    p.methodology = Some(["VM0007", "VM0015", "ACM0002"][(i % 3) as usize].into());
    p.status = Some(Normalized::new(ProjectStatus::Registered, "Registered"));
    p
}

/// Record `i`: block `i` of Verra's unit numbers; every third one a retirement.
fn credit(i: u64) -> CreditRecord {
    let start = 100_000_000 + i * BLOCK;
    let end = start + BLOCK - 1;
    let project = i % PROJECTS;
    let retired = i.is_multiple_of(3);
    let vintage = 2010 + (i % 15) as i32;
    CreditRecord {
        registry: RegistryId::VERRA,
        record_key: format!("{i:08}-{start}-{end}"),
        registry_project_id: format!("VCS{project}"),
        transaction_type: if retired {
            Normalized::new(TransactionType::Retirement, "Retirement")
        } else {
            Normalized::new(TransactionType::Issuance, "Issuance")
        },
        quantity: Decimal::from(BLOCK),
        serial: Some(format!(
            "{}-{start}-{end}-VCS-VCU-263-VER-IN-14-{project}-01012019-31122019-0",
            1000 + i
        )),
        serial_range: Some(SerialRange {
            namespace: "verra".into(),
            start,
            end,
        }),
        vintage: Some(vintage),
        monitoring_period: None,
        event_date: chrono::NaiveDate::from_ymd_opt(vintage + 1, 3, 4),
        status: if retired {
            Normalized::new(UnitStatus::Retired, "Retired")
        } else {
            Normalized::new(UnitStatus::Active, "Active")
        },
        account: None,
        beneficiary: retired.then(|| format!("Buyer {}", i % 500)),
        reason: None,
        note: None,
    }
}

/// A vintage with retirements in every country (records repeat every 120: country i % 8,
/// vintage i % 15, retirement i % 3 == 0).
fn vintage(n: u64) -> i64 {
    2010 + (n % 5 * 3) as i64
}

/// Request `n` of the filtered page: retirements of one country and vintage, 100 of them;
/// `args` go first in the field's arguments (`asOf: …, `).
fn filtered_page(n: u64, args: &str) -> Value {
    let country = COUNTRIES[(n % 8) as usize];
    let query = format!(
        "query($c: String!, $v: Int!) {{ creditRecords({args}filter: {{countries: [$c], \
         vintageFrom: $v, vintageTo: $v, transactionTypes: [\"retirement\"]}}, first: 100) \
         {{ edges {{ node {{ recordKey vintage quantity project {{ country }} }} }} }} }}"
    );
    json!({"query": query, "variables": {"c": country, "v": vintage(n)}})
}

/// Whether the answer to [`filtered_page`] `n` is a full page of that country and vintage.
fn full_filtered_page(n: u64, v: &Value) -> bool {
    let country = COUNTRIES[(n % 8) as usize];
    v["data"]["creditRecords"]["edges"]
        .as_array()
        .is_some_and(|e| {
            e.len() == 100
                && e.iter().all(|e| {
                    e["node"]["project"]["country"] == country && e["node"]["vintage"] == vintage(n)
                })
        })
}

async fn load(store: &dyn Store, records: u64) -> anyhow::Result<()> {
    let started = Instant::now();
    let projects: Vec<Stamped<Project>> = (0..PROJECTS)
        .map(|i| Stamped {
            record: project(i),
            provenance: provenance(),
        })
        .collect();
    store.upsert_projects(&projects).await?;
    let mut i = 0;
    while i < records {
        let n = (records - i).min(50_000);
        let batch: Vec<Stamped<CreditRecord>> = (i..i + n)
            .map(|k| Stamped {
                record: credit(k),
                provenance: provenance(),
            })
            .collect();
        store.upsert_credits(&batch).await?;
        i += n;
    }
    println!(
        "loaded {PROJECTS} projects and {records} credit records in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Builds the body of request `n`.
type BodyFn = Box<dyn Fn(u64) -> Value + Send + Sync>;
/// Checks the answer to request `n`.
type CheckFn = Box<dyn Fn(u64, &Value) -> bool + Send + Sync>;

/// One request shape: the body for request `n`, and a check of the answer.
struct Shape {
    name: &'static str,
    /// Concurrent clients sending it.
    clients: u64,
    body: BodyFn,
    check: CheckFn,
}

async fn hammer(url: &str, shape: Arc<Shape>, seconds: u64) -> anyhow::Result<()> {
    let clients = shape.clients;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(clients as usize)
        .build()?;
    let mut tasks = Vec::new();
    for c in 0..clients {
        let http = http.clone();
        let shape = shape.clone();
        let url = url.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut bad = 0u64;
            let mut n = c * 7_919;
            while Instant::now() < deadline {
                n += 1;
                let t = Instant::now();
                let answer: Value = http
                    .post(&url)
                    .json(&(shape.body)(n))
                    .send()
                    .await?
                    .json()
                    .await?;
                latencies.push(t.elapsed());
                if !(shape.check)(n, &answer) {
                    bad += 1;
                    if bad == 1 {
                        eprintln!("{}: unexpected answer {answer}", shape.name);
                    }
                }
            }
            anyhow::Ok((latencies, bad))
        }));
    }
    let mut all = Vec::new();
    let mut bad = 0;
    for t in tasks {
        let (l, b) = t.await??;
        all.extend(l);
        bad += b;
    }
    all.sort();
    let pct = |p: f64| all[((all.len() as f64 * p) as usize).min(all.len() - 1)];
    println!(
        "{:<28} {:>8.0} req/s   p50 {:>6.2} ms   p99 {:>6.2} ms   ({} requests, {} clients, {} wrong)",
        shape.name,
        all.len() as f64 / seconds as f64,
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        all.len(),
        clients,
        bad
    );
    anyhow::ensure!(bad == 0, "{}: {bad} wrong answers", shape.name);
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let records = env("LOAD_RECORDS", 1_000_000);
    let clients = env("LOAD_CLIENTS", 32);
    let page_clients = env("LOAD_PAGE_CLIENTS", 4);
    let seconds = env("LOAD_SECONDS", 10);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        // LOAD_DB keeps the database at a path, loaded once, for later runs and inspection.
        let dir = tempfile::tempdir()?;
        let path = std::env::var_os("LOAD_DB")
            .map(std::path::PathBuf::from)
            .unwrap_or_else(|| dir.path().join("load.db"));
        let fresh = !path.exists();
        let url = DatabaseUrl::Sqlite(path);
        let store: Arc<dyn Store> = Arc::from(carbonmesh_store::connect(&url).await?);
        store.migrate().await?;
        if fresh {
            load(store.as_ref(), records).await?;
        }

        let config = carbonmesh_api::ApiConfig {
            rate_per_second: 1_000_000,
            rate_burst: 1_000_000,
            ..carbonmesh_api::ApiConfig::default()
        };
        let schema = carbonmesh_api::schema(&config, store.clone(), None);
        let app = carbonmesh_api::router(schema, store.clone(), config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?;
        tokio::spawn(async move { axum::serve(listener, app).await });
        let endpoint = format!("http://{address}/graphql");

        let shapes = [
            Shape {
                name: "project(id)",
                clients,
                body: Box::new(|n| {
                    json!({"query": "query($id: String!) { project(id: $id) { id name country methodology } }",
                           "variables": {"id": format!("verra:VCS{}", n % PROJECTS)}})
                }),
                check: Box::new(|n, v| {
                    v["data"]["project"]["id"] == format!("verra:VCS{}", n % PROJECTS).as_str()
                }),
            },
            Shape {
                name: "serialLookup",
                clients,
                body: Box::new(move |n| {
                    let i = n * 7_907 % records;
                    json!({"query": "query($s: String!) { serialLookup(serial: $s) { matches { record { recordKey } overlap { units } } } }",
                           "variables": {"s": credit(i).serial}})
                }),
                check: Box::new(move |n, v| {
                    let i = n * 7_907 % records;
                    let m = &v["data"]["serialLookup"]["matches"];
                    m.as_array().is_some_and(|a| a.len() == 1)
                        && m[0]["record"]["recordKey"] == credit(i).record_key.as_str()
                        && m[0]["overlap"]["units"] == BLOCK
                }),
            },
            Shape {
                name: "creditRecords(first: 100)",
                clients: page_clients,
                body: Box::new(|n| filtered_page(n, "")),
                check: Box::new(full_filtered_page),
            },
            Shape {
                name: "creditRecords(asOf, 100)",
                clients: page_clients,
                body: Box::new(|n| filtered_page(n, "asOf: \"2100-01-01T00:00:00Z\", ")),
                check: Box::new(full_filtered_page),
            },
            Shape {
                name: "project(id, asOf)",
                clients,
                body: Box::new(|n| {
                    json!({"query": "query($id: String!) { project(id: $id, asOf: \"2100-01-01T00:00:00Z\") { id name } }",
                           "variables": {"id": format!("verra:VCS{}", n % PROJECTS)}})
                }),
                check: Box::new(|n, v| {
                    v["data"]["project"]["id"] == format!("verra:VCS{}", n % PROJECTS).as_str()
                }),
            },
            Shape {
                name: "project { rollup }",
                clients,
                body: Box::new(|n| {
                    json!({"query": "query($id: String!) { project(id: $id) { rollup { records issued retired } } }",
                           "variables": {"id": format!("verra:VCS{}", n % PROJECTS)}})
                }),
                check: Box::new(move |n, v| {
                    // Records of project p: i = p, p + PROJECTS, …; every third retired.
                    let p = n % PROJECTS;
                    let count = (p..records).step_by(PROJECTS as usize).count() as u64;
                    v["data"]["project"]["rollup"]["records"] == count
                }),
            },
            Shape {
                name: "beneficiaries(search)",
                clients: 1,
                body: Box::new(|n| {
                    json!({"query": "query($s: String!) { beneficiaries(search: $s) { name records } }",
                           "variables": {"s": format!("Buyer {}", n % 500)}})
                }),
                check: Box::new(move |n, v| {
                    let b = n % 500;
                    let count = (0..records).filter(|i| i % 3 == 0 && i % 500 == b).count() as u64;
                    let groups = &v["data"]["beneficiaries"];
                    groups.as_array().is_some_and(|g| g.len() == 1)
                        && groups[0]["name"] == format!("buyer {b}").as_str()
                        && groups[0]["records"] == count
                }),
            },
            Shape {
                name: "statistics { byEventMonth }",
                clients: 1,
                body: Box::new(|_| json!({"query": "{ statistics { byEventMonth { key records } } }"})),
                check: Box::new(move |_, v| {
                    v["data"]["statistics"]["byEventMonth"]
                        .as_array()
                        .is_some_and(|rows| rows.iter().filter_map(|r| r["records"].as_u64()).sum::<u64>() == records)
                }),
            },
        ];
        println!(
            "GraphQL on loopback, SQLite, {records} credit records; {seconds} s a query"
        );
        for shape in shapes {
            hammer(&endpoint, Arc::new(shape), seconds).await?;
        }
        anyhow::Ok(())
    })
}
