//! `carbonmesh serve`'s operational endpoints: `/readyz` (the database answers and its
//! schema is up to date) and `/metrics` (Prometheus text: HTTP traffic and the store's state).

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use carbonmesh_e2e::{Server, carbonmesh, fixtures, run};
use carbonmesh_store::DatabaseUrl;
use sqlx::Connection;

fn succeed(dir: &Path, args: &[&str]) -> String {
    let out = run(carbonmesh(dir).args(args));
    assert!(
        out.status.success(),
        "carbonmesh {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url).await.expect("request");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// Samples of a Prometheus text exposition: `name{labels}` → value. Checks that every
/// sample's metric has `# TYPE` before it.
fn samples(text: &str) -> HashMap<String, f64> {
    let mut typed = Vec::new();
    let mut samples = HashMap::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            typed.push(rest.split(' ').next().expect("name").to_owned());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("`series value`");
        let name = series.split('{').next().expect("name");
        assert!(
            typed.iter().any(|t| name == t
                || name
                    .strip_prefix(t.as_str())
                    .is_some_and(|s| ["_bucket", "_sum", "_count"].contains(&s))),
            "{name} has no # TYPE line"
        );
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("value of {line}"));
        assert!(
            samples.insert(series.to_owned(), value).is_none(),
            "{series} twice"
        );
    }
    samples
}

fn value(samples: &HashMap<String, f64>, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("no sample {series}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_wants_every_migration_applied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("carbonmesh.db");

    // A store opened without migrating has every migration pending; after migrate, none.
    {
        let url = DatabaseUrl::parse(db.to_str().expect("UTF-8 path")).expect("url");
        let store = carbonmesh_store::connect(&url).await.expect("open");
        let pending = store.pending_migrations().await.expect("pending");
        assert!(pending >= 6, "{pending} pending on an empty database");
        store.migrate().await.expect("migrate");
        assert_eq!(store.pending_migrations().await.expect("pending"), 0);
    }

    let server = Server::start(dir.path(), db.to_str().expect("UTF-8 path"))
        .await
        .expect("serve");
    let readyz = format!("{}/readyz", server.base_url);
    let (status, body) = get(&readyz).await;
    assert_eq!(status, 200, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(json["status"], "ready");
    assert_eq!(json["pending_migrations"], 0);

    // Forget the newest migration: the schema is behind the binary, so not ready.
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}", db.display()))
        .await
        .expect("connect");
    for sql in [
        "CREATE TABLE forgotten AS SELECT * FROM _sqlx_migrations \
         WHERE version = (SELECT MAX(version) FROM _sqlx_migrations)",
        "DELETE FROM _sqlx_migrations WHERE version IN (SELECT version FROM forgotten)",
    ] {
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    }
    let (status, body) = get(&readyz).await;
    assert_eq!(status, 503, "{body}");
    let json: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(json["status"], "not ready");
    assert_eq!(json["pending_migrations"], 1);
    assert!(
        json["reason"]
            .as_str()
            .is_some_and(|r| r.contains("carbonmesh migrate")),
        "{body}"
    );
    // Liveness does not depend on the schema.
    assert_eq!(get(&format!("{}/healthz", server.base_url)).await.0, 200);

    for sql in [
        "INSERT INTO _sqlx_migrations SELECT * FROM forgotten",
        "DROP TABLE forgotten",
    ] {
        sqlx::query(sql).execute(&mut conn).await.expect(sql);
    }
    let (status, body) = get(&readyz).await;
    assert_eq!(status, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_requests_and_report_the_store() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Records, runs, rejections and alerts to report: the ACR and CAR samples raise alerts.
    for (registry, folder) in [
        ("acr", "american-carbon-registry"),
        ("car", "climate-action-reserve"),
    ] {
        let files = fixtures(folder);
        let mut args = vec!["import", "--registry", registry];
        args.extend(files.iter().map(|f| f.to_str().expect("UTF-8 path")));
        succeed(dir.path(), &args);
    }
    let alerts: Vec<serde_json::Value> =
        succeed(dir.path(), &["alerts", "list", "--format", "jsonl"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("alert JSON"))
            .collect();
    assert!(!alerts.is_empty());
    let mut alerts_by_status: BTreeMap<String, f64> = BTreeMap::new();
    for alert in &alerts {
        *alerts_by_status
            .entry(alert["status"].as_str().expect("status").to_owned())
            .or_default() += 1.0;
    }

    let server = Server::start(dir.path(), "carbonmesh.db")
        .await
        .expect("serve");
    let base = &server.base_url;
    let (status, first) = get(&format!("{base}/metrics")).await;
    assert_eq!(status, 200);
    let first = samples(&first);
    // The start-up wait polled /healthz at least once.
    let healthz_ok = "carbonmesh_http_requests_total{route=\"/healthz\",status=\"200\"}";
    let before = value(&first, healthz_ok);
    assert!(before >= 1.0);

    let (_, health) = get(&format!("{base}/healthz")).await;
    let health: serde_json::Value = serde_json::from_str(&health).expect("JSON");
    get(&format!("{base}/healthz")).await;
    assert_eq!(get(&format!("{base}/readyz")).await.0, 200);
    assert_eq!(get(&format!("{base}/no/such/page?x=1")).await.0, 404);
    assert_eq!(get(&format!("{base}/another/missing/page")).await.0, 404);

    let response = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/plain; version=0.0.4")),
        "{:?}",
        response.headers()
    );
    let text = response.text().await.expect("body");
    let m = samples(&text);

    // Every answer carries its request id: the caller's when it sent one, else a new one.
    let client = reqwest::Client::new();
    let echoed = client
        .get(format!("{base}/healthz"))
        .header("x-request-id", "req-7f3a")
        .send()
        .await
        .expect("request");
    assert_eq!(
        echoed
            .headers()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some("req-7f3a")
    );
    let ids: Vec<String> =
        futures::future::join_all((0..2).map(|_| client.get(format!("{base}/healthz")).send()))
            .await
            .into_iter()
            .map(|r| {
                r.expect("request")
                    .headers()
                    .get("x-request-id")
                    .and_then(|v| v.to_str().ok())
                    .expect("a request id")
                    .to_owned()
            })
            .collect();
    assert_ne!(ids[0], ids[1], "{ids:?}");

    // HTTP traffic, by matched route: unknown paths share one label.
    assert_eq!(value(&m, healthz_ok), before + 2.0);
    assert_eq!(
        value(
            &m,
            "carbonmesh_http_request_duration_seconds_count{route=\"/healthz\"}"
        ),
        before + 2.0
    );
    assert_eq!(
        value(
            &m,
            "carbonmesh_http_request_duration_seconds_bucket{route=\"/healthz\",le=\"+Inf\"}"
        ),
        before + 2.0
    );
    assert_eq!(
        value(
            &m,
            "carbonmesh_http_requests_total{route=\"/readyz\",status=\"200\"}"
        ),
        1.0
    );
    assert_eq!(
        value(
            &m,
            "carbonmesh_http_requests_total{route=\"unmatched\",status=\"404\"}"
        ),
        2.0
    );
    // The first scrape is counted; this one is not yet.
    assert_eq!(
        value(
            &m,
            "carbonmesh_http_requests_total{route=\"/metrics\",status=\"200\"}"
        ),
        1.0
    );
    assert!(!text.contains("no/such/page"));

    // The store, read at scrape time.
    assert_eq!(value(&m, "carbonmesh_store_up"), 1.0);
    let projects = health["projects"].as_f64().expect("projects");
    let credits = health["credit_records"].as_f64().expect("credits");
    assert!(projects > 0.0 && credits > 0.0);
    assert_eq!(value(&m, "carbonmesh_records{kind=\"project\"}"), projects);
    assert_eq!(value(&m, "carbonmesh_records{kind=\"credit\"}"), credits);

    let url = DatabaseUrl::parse(
        dir.path()
            .join("carbonmesh.db")
            .to_str()
            .expect("UTF-8 path"),
    )
    .expect("url");
    let store = carbonmesh_store::connect(&url).await.expect("open");
    let counts = store.counts().await.expect("counts");
    assert_eq!(
        value(&m, "carbonmesh_rejected_records"),
        counts.rejected as f64
    );
    let runs = store.runs(1_000).await.expect("runs");
    for connector in ["acr", "car"] {
        let complete = runs
            .iter()
            .filter(|r| r.connector == connector && r.status.as_str() == "complete")
            .count();
        assert!(complete > 0, "{connector} imports are complete runs");
        assert_eq!(
            value(
                &m,
                &format!(
                    "carbonmesh_connector_runs_total{{connector=\"{connector}\",status=\"complete\"}}"
                )
            ),
            complete as f64
        );
        let last = runs
            .iter()
            .filter(|r| r.connector == connector && r.status.as_str() == "complete")
            .map(|r| r.finished_at.unwrap_or(r.started_at).timestamp())
            .max()
            .expect("a complete run");
        assert_eq!(
            value(
                &m,
                &format!(
                    "carbonmesh_connector_last_success_timestamp_seconds{{connector=\"{connector}\"}}"
                )
            ),
            last as f64
        );
    }
    let runs_total: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("carbonmesh_connector_runs_total{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(runs_total, runs.len() as f64);

    // Every status is reported, zeros included, and they add up to the listed alerts.
    for status in [
        "new",
        "acknowledged",
        "in_review",
        "escalated",
        "confirmed",
        "dismissed",
        "resolved",
    ] {
        assert_eq!(
            value(&m, &format!("carbonmesh_alerts{{status=\"{status}\"}}")),
            alerts_by_status.get(status).copied().unwrap_or(0.0),
            "{status}"
        );
    }
    let alerts_total: f64 = m
        .iter()
        .filter(|(k, _)| k.starts_with("carbonmesh_alerts{"))
        .map(|(_, v)| v)
        .sum();
    assert_eq!(alerts_total, alerts.len() as f64);
}

#[test]
fn read_only_commands_need_an_existing_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let missing = dir.path().join("nothing-here.db");
    let missing = missing.to_str().expect("UTF-8 path");
    for args in [
        &["alerts", "list"][..],
        &["export", "--what", "credits"],
        &["keys", "list"],
        &["match"],
    ] {
        let out = run(carbonmesh(dir.path())
            .args(["--database", missing])
            .args(args));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{args:?} succeeded on no database");
        assert!(
            stderr.contains("there is no database at") && stderr.contains("nothing-here.db"),
            "{args:?}: {stderr}"
        );
        assert!(
            !Path::new(missing).exists(),
            "{args:?} created the database"
        );
    }
    // The commands that write create it.
    succeed(dir.path(), &["--database", missing, "migrate"]);
    let out = succeed(dir.path(), &["--database", missing, "alerts", "list"]);
    assert!(out.trim().is_empty(), "{out}");
}

#[test]
fn an_unreachable_postgres_fails_fast_with_its_cause() {
    let dir = tempfile::tempdir().expect("tempdir");
    // Nothing listens on a port just found free.
    let url = format!(
        "postgres://carbonmesh@127.0.0.1:{}/carbonmesh",
        carbonmesh_e2e::free_port()
    );
    let started = std::time::Instant::now();
    let out = run(carbonmesh(dir.path()).args(["--database", &url, "alerts", "list"]));
    let elapsed = started.elapsed();
    let stderr = String::from_utf8_lossy(&out.stderr).to_lowercase();
    assert!(!out.status.success());
    assert!(stderr.contains("connection refused"), "{stderr}");
    assert!(!stderr.contains("pool timed out"), "{stderr}");
    assert!(elapsed.as_secs() < 5, "failed after {elapsed:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_not_ready_when_the_database_takes_no_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = carbonmesh_e2e::postgres_database("readonly");
    let server = Server::start(dir.path(), &url).await.expect("serve");
    let readyz = format!("{}/readyz", server.base_url);
    let (status, body) = get(&readyz).await;
    assert_eq!(status, 200, "{body}");

    // The database turns read-only (as a standby or a full disk would be); the server's
    // connections are dropped and come back read-only.
    let (_, name) = url.rsplit_once('/').expect("database name");
    let admin = std::env::var(carbonmesh_e2e::POSTGRES_URL_VAR).expect("PostgreSQL URL");
    let mut conn = sqlx::PgConnection::connect(&admin).await.expect("connect");
    for sql in [
        format!("ALTER DATABASE {name} SET default_transaction_read_only = on"),
        format!(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
             WHERE datname = '{name}' AND pid <> pg_backend_pid()"
        ),
    ] {
        sqlx::query(&sql)
            .execute(&mut conn)
            .await
            .expect("admin statement");
    }
    let (status, body) = get(&readyz).await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("does not take writes"), "{body}");
    // Liveness is not readiness: the process still answers.
    assert_eq!(get(&format!("{}/healthz", server.base_url)).await.0, 200);

    sqlx::query(&format!(
        "ALTER DATABASE {name} SET default_transaction_read_only = off"
    ))
    .execute(&mut conn)
    .await
    .expect("admin statement");
    sqlx::query(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = '{name}' AND pid <> pg_backend_pid()"
    ))
    .execute(&mut conn)
    .await
    .expect("admin statement");
    let (status, body) = get(&readyz).await;
    assert_eq!(status, 200, "{body}");
}
