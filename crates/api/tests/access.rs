//! Access settings of the API, served on loopback over a SQLite store: anonymous reads on and
//! off, introspection off, per-key rate budgets, roles of keys.

use std::sync::Arc;

use carbonmesh_api::ApiConfig;
use carbonmesh_model::ApiRole;
use carbonmesh_store::{DatabaseUrl, Store};
use serde_json::{Value, json};

struct Served {
    url: String,
    store: Arc<dyn Store>,
    _dir: tempfile::TempDir,
}

async fn serve(config: ApiConfig) -> Served {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = DatabaseUrl::Sqlite(dir.path().join("access.db"));
    let store: Arc<dyn Store> = Arc::from(carbonmesh_store::connect(&url).await.expect("store"));
    store.migrate().await.expect("migrate");
    let schema = carbonmesh_api::schema(&config, store.clone(), None);
    let app = carbonmesh_api::router(schema, store.clone(), config);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = listener.local_addr().expect("address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    Served {
        url: format!("http://{address}/graphql"),
        store,
        _dir: dir,
    }
}

async fn post(url: &str, token: Option<&str>, query: &str) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(url)
        .json(&json!({ "query": query }));
    if let Some(t) = token {
        request = request.bearer_auth(t);
    }
    let response = request.send().await.expect("response");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

fn code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_anonymous_reads_a_key_is_required() {
    let served = serve(ApiConfig {
        anonymous_read: false,
        ..ApiConfig::default()
    })
    .await;
    let (status, body) = post(&served.url, None, "{ registries { id } }").await;
    assert_eq!(status, 200);
    assert_eq!(code(&body), "UNAUTHENTICATED", "{body:#}");
    // Who am I is always answered.
    let (_, body) = post(&served.url, None, "{ viewer { name role } }").await;
    assert_eq!(
        body["data"]["viewer"],
        json!({"name": "anonymous", "role": null})
    );

    let (_, token) =
        carbonmesh_api::keys::create(served.store.as_ref(), "olga", ApiRole::Observer, "test")
            .await
            .expect("key");
    let (_, body) = post(&served.url, Some(&token), "{ registries { id } }").await;
    assert_eq!(body["data"]["registries"], json!([]), "{body:#}");
    let (_, body) = post(&served.url, Some(&token), "{ apiKeys { id } }").await;
    assert_eq!(code(&body), "FORBIDDEN");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn anonymous_callers_read_but_never_write() {
    let served = serve(ApiConfig::default()).await;
    let (_, body) = post(&served.url, None, "{ registries { id } }").await;
    assert!(body["errors"].is_null(), "{body:#}");
    let (_, body) = post(
        &served.url,
        None,
        "mutation { acknowledgeAlert(id: \"x\") { outcome } }",
    )
    .await;
    assert_eq!(code(&body), "UNAUTHENTICATED");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn introspection_can_be_switched_off() {
    let query = "{ __schema { queryType { name } } }";
    let on = serve(ApiConfig::default()).await;
    let (_, body) = post(&on.url, None, query).await;
    assert_eq!(body["data"]["__schema"]["queryType"]["name"], "Query");
    let off = serve(ApiConfig {
        introspection: false,
        ..ApiConfig::default()
    })
    .await;
    let (_, body) = post(&off.url, None, query).await;
    // Nothing about the schema comes back.
    assert_eq!(body, json!({"data": {"__schema": null}}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_key_has_its_own_request_budget() {
    let served = serve(ApiConfig {
        rate_per_second: 1,
        rate_burst: 3,
        ..ApiConfig::default()
    })
    .await;
    let store = served.store.as_ref();
    let (_, a) = carbonmesh_api::keys::create(store, "a", ApiRole::Observer, "test")
        .await
        .expect("key");
    let (_, b) = carbonmesh_api::keys::create(store, "b", ApiRole::Observer, "test")
        .await
        .expect("key");
    let query = "{ viewer { name } }";
    for _ in 0..3 {
        let (status, _) = post(&served.url, Some(&a), query).await;
        assert_eq!(status, 200);
    }
    let response = reqwest::Client::new()
        .post(&served.url)
        .bearer_auth(&a)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 429);
    // When to come back: the next request's slot, in whole seconds (1 a second here).
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert_eq!(retry_after, Some(1));
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(code(&body), "RATE_LIMITED");
    // Another key is not slowed down by the first.
    let (status, body) = post(&served.url, Some(&b), query).await;
    assert_eq!(status, 200, "{body:#}");
    assert_eq!(body["data"]["viewer"]["name"], "b");
    // A batch spends one request per operation.
    let batch =
        json!([{ "query": query }, { "query": query }, { "query": query }, { "query": query }]);
    let response = reqwest::Client::new()
        .post(&served.url)
        .bearer_auth(&b)
        .json(&batch)
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 429);
}
