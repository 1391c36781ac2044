//! The GraphQL API of the running binary, on SQLite and on PostgreSQL: every query, mutation
//! and subscription, role enforcement, and hostile requests refused before any database work.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

use carbonmesh_e2e::{Server, carbonmesh, fixtures, postgres_database, succeed};
use carbonmesh_simulator::{CaseCounts, Scale, Simulator, SimulatorConfig};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

/// Runs `carbonmesh --config CONFIG ARGS…`, which must succeed; returns stdout.
fn cli(dir: &Path, config: &Path, args: &[&str]) -> String {
    succeed(carbonmesh(dir).arg("--config").arg(config).args(args))
}

fn import(dir: &Path, config: &Path, registry: &str, folder: &str) {
    let files = fixtures(folder);
    let mut args = vec!["import", "--registry", registry];
    args.extend(files.iter().map(|f| f.to_str().expect("UTF-8 path")));
    cli(dir, config, &args);
}

/// Creates an API key through the CLI and returns its token.
fn create_key(dir: &Path, config: &Path, name: &str, role: &str) -> String {
    let out = cli(
        dir,
        config,
        &["keys", "create", "--name", name, "--role", role],
    );
    carbonmesh_e2e::token_in(&out)
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    /// POSTs one operation; returns the HTTP status and the JSON body.
    async fn post(&self, token: Option<&str>, body: &Value) -> (u16, Value) {
        let mut request = self.http.post(format!("{}/graphql", self.base)).json(body);
        if let Some(t) = token {
            request = request.bearer_auth(t);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        (status, response.json().await.expect("JSON body"))
    }

    /// Runs an operation that must succeed; returns `data`.
    async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let (status, body) = self
            .post(token, &json!({ "query": query, "variables": variables }))
            .await;
        assert_eq!(status, 200, "{body:#}");
        assert!(body.get("errors").is_none(), "{query}\n{body:#}");
        body["data"].clone()
    }

    /// Runs an operation that must fail; returns the first error's code and message.
    async fn err(&self, token: Option<&str>, query: &str, variables: Value) -> (String, String) {
        let (_, body) = self
            .post(token, &json!({ "query": query, "variables": variables }))
            .await;
        let e = &body["errors"][0];
        assert!(e.is_object(), "expected an error: {body:#}");
        (
            e["extensions"]["code"].as_str().unwrap_or("").to_owned(),
            e["message"].as_str().unwrap_or("").to_owned(),
        )
    }
}

async fn exercise(database: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let simulator = Simulator::start(SimulatorConfig {
        seed: 11,
        scale: Scale::uniform(4, 12),
        cases: CaseCounts::default(),
        ..SimulatorConfig::default()
    })
    .await
    .expect("simulator");
    let config = dir.path().join("carbonmesh.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{database}\"\n\n\
             [api]\nrate_per_second = 1000\nrate_burst = 1000\nsubscription_poll_ms = 100\n\n\
             [connectors.verra]\nbase_url = \"{}\"\nschedule = \"0 0 0 1 1 *\"\n\
             requests_per_second = 500\n",
            simulator.base_url()
        ),
    )
    .expect("write config");
    cli(dir.path(), &config, &["migrate"]);
    import(dir.path(), &config, "verra", "verra");
    import(dir.path(), &config, "gold-standard", "gold-standard");
    import(dir.path(), &config, "isometric", "isometric");
    let observer = create_key(dir.path(), &config, "olga", "observer");
    let ana = create_key(dir.path(), &config, "ana", "reviewer");
    let ben = create_key(dir.path(), &config, "ben", "reviewer");
    let admin = create_key(dir.path(), &config, "root-ops", "admin");

    let server = Server::start_with_config(dir.path(), &config)
        .await
        .expect("server starts");
    let api = Api {
        base: server.base_url.clone(),
        http: reqwest::Client::new(),
    };

    // -------------------------------------------------------------------------------------
    // Subscriptions, opened before the data they report arrives.
    let mut raised = subscribe(
        &server.base_url,
        Some(&observer),
        "subscription { alertRaised { id kind severity status } }",
    )
    .await;
    let mut changed = subscribe(
        &server.base_url,
        Some(&observer),
        "subscription { alertChanged { id status assignee } }",
    )
    .await;
    let mut records = subscribe(
        &server.base_url,
        None,
        "subscription { recordChanged(registry: \"car\") { kind registry recordKey version } }",
    )
    .await;

    // ACR, CAR and CARB records: conversions, a project listed twice, fresh CAR records.
    import(dir.path(), &config, "acr", "american-carbon-registry");
    import(dir.path(), &config, "car", "climate-action-reserve");
    import(dir.path(), &config, "arb", "carb-arb");

    let first_raised = next_data(&mut raised).await;
    assert!(
        first_raised["alertRaised"]["id"].is_string(),
        "{first_raised:#}"
    );
    assert_eq!(first_raised["alertRaised"]["status"], "NEW");
    let first_record = next_data(&mut records).await;
    assert_eq!(first_record["recordChanged"]["registry"], "car");

    // -------------------------------------------------------------------------------------
    // Projects: every Verra project page by page, then one by id.
    let all = walk(&api, None, "projects", "projects(filter: {registries: [\"verra\"]}, orderBy: NAME, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name registry country creditRecords(first: 3) { recordKey } } } }", 7).await;
    assert!(all.len() > 7, "more than one page of Verra projects");
    let ids: BTreeSet<&str> = all.iter().map(|n| n["id"].as_str().expect("id")).collect();
    assert_eq!(ids.len(), all.len(), "every project exactly once");
    let names: Vec<String> = all
        .iter()
        .map(|n| n["name"].as_str().unwrap_or("").to_owned())
        .collect();
    assert!(names.windows(2).all(|w| w[0] <= w[1]), "ordered by name");
    assert!(all.iter().all(|n| n["registry"] == "verra"));
    let some_id = all[0]["id"].as_str().expect("id").to_owned();
    let one = api
        .ok(None, "query($id: String!) { project(id: $id) { id name registryProjectId status { value raw } } }", json!({"id": some_id}))
        .await;
    assert_eq!(one["project"]["id"], some_id.as_str());
    let missing = api
        .ok(None, "{ project(id: \"verra:VCS0\") { id } }", json!({}))
        .await;
    assert!(missing["project"].is_null());

    // Filters: country, search, category.
    let country = all
        .iter()
        .find_map(|n| n["country"].as_str())
        .expect("a project with a country")
        .to_owned();
    let by_country = walk(&api, None, "projects", &format!("projects(filter: {{registries: [\"verra\"], countries: [\"{country}\"]}}, first: $first, after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ id country }} }} }}"), 50).await;
    assert_eq!(
        by_country.len(),
        all.iter()
            .filter(|n| n["country"] == country.as_str())
            .count()
    );
    let word = names[0]
        .split_whitespace()
        .max_by_key(|w| w.len())
        .expect("a word")
        .to_lowercase();
    let searched = walk(&api, None, "projects", &format!("projects(filter: {{search: \"{word}\"}}, first: $first, after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ id name }} }} }}"), 50).await;
    assert!(!searched.is_empty());
    assert!(searched.iter().all(|n| {
        n["name"]
            .as_str()
            .unwrap_or("")
            .to_lowercase()
            .contains(&word)
    }));

    // Credit records: vintage range and transaction type, with their projects (loaders).
    let retirements = walk(&api, None, "creditRecords", "creditRecords(filter: {registries: [\"verra\"], transactionTypes: [\"retirement\"], vintageFrom: 2010, vintageTo: 2030}, first: $first, after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id recordKey quantity vintage serial serialRange { namespace start end units } transactionType { value raw } projectId project { id registry } } } }", 100).await;
    assert!(!retirements.is_empty());
    for r in &retirements {
        assert_eq!(r["transactionType"]["value"], "retirement");
        let v = r["vintage"].as_i64().expect("vintage");
        assert!((2010..=2030).contains(&v));
    }
    // Each record's project comes through the loader: the one `project(id)` returns (the
    // samples list only some of the projects their transactions name).
    for r in retirements.iter().take(40) {
        let direct = api
            .ok(
                None,
                "query($id: String!) { project(id: $id) { id registry } }",
                json!({"id": r["projectId"]}),
            )
            .await;
        assert_eq!(r["project"], direct["project"], "{r:#}");
    }
    // Each record links to its project's page at the registry, where the project is known.
    let isometric = api
        .ok(
            None,
            "{ creditRecords(filter: {registries: [\"isometric\"]}, first: 100) { edges { node { projectId registryUrl project { registryProjectId registryUrl } } } } }",
            json!({}),
        )
        .await;
    let isometric = isometric["creditRecords"]["edges"]
        .as_array()
        .expect("edges");
    let mut linked = 0;
    for edge in isometric {
        let r = &edge["node"];
        assert_eq!(r["registryUrl"], r["project"]["registryUrl"], "{r:#}");
        if let Some(url) = r["registryUrl"].as_str() {
            let id = r["project"]["registryProjectId"]
                .as_str()
                .expect("project id");
            assert!(url.starts_with("https://") && url.ends_with(id), "{r:#}");
            linked += 1;
        }
    }
    assert!(
        linked > 0,
        "no Isometric record with a known project: {isometric:#?}"
    );
    // A project with credit records: its records name it, through the loader, and the
    // project's own `creditRecords` agree with the filtered connection.
    // (The Verra samples' transactions and projects do not meet; ACR's do.)
    let acr = api
        .ok(None, "{ projects(filter: {registries: [\"acr\"]}, first: 100) { edges { node { id creditRecords(first: 3) { recordKey } } } } }", json!({}))
        .await;
    let listed = acr["projects"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["creditRecords"].as_array().is_some_and(|c| !c.is_empty()))
        .expect("an ACR project with credit records in the sample")
        .clone();
    let pid = listed["id"].as_str().expect("id");
    let of_project = walk(&api, None, "creditRecords", &format!("creditRecords(filter: {{projectId: \"{pid}\"}}, first: $first, after: $after) {{ totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ recordKey project {{ id }} }} }} }}"), 2).await;
    assert!(of_project.iter().all(|r| r["project"]["id"] == pid));
    let first_keys: Vec<&Value> = of_project.iter().take(3).map(|r| &r["recordKey"]).collect();
    let nested: Vec<&Value> = listed["creditRecords"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| &r["recordKey"])
        .collect();
    assert_eq!(nested, first_keys);

    // serialLookup: a retired block's own serial finds it, with the whole range as overlap.
    let block = retirements
        .iter()
        .find(|r| r["serial"].is_string() && r["serialRange"].is_object())
        .expect("a serialized retirement");
    let lookup = api
        .ok(None, "query($s: String!) { serialLookup(serial: $s) { registry range { namespace start end } truncated matches { overlap { start end units } record { recordKey registry } } } }", json!({"s": block["serial"]}))
        .await;
    let l = &lookup["serialLookup"];
    assert_eq!(l["range"]["start"], block["serialRange"]["start"]);
    let hit = l["matches"]
        .as_array()
        .expect("matches")
        .iter()
        .find(|m| m["record"]["recordKey"] == block["recordKey"])
        .expect("the block itself");
    assert_eq!(hit["overlap"]["units"], block["serialRange"]["units"]);
    let (code, _) = api
        .err(
            None,
            "{ serialLookup(serial: \"not a serial\") { registry } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");

    // Statistics: Verra's retired total equals the retirements just listed.
    let stats = api
        .ok(None, "{ statistics(filter: {registries: [\"verra\"], vintageFrom: 2010, vintageTo: 2030}) { byRegistry { key issued retired cancelled records } byVintage { key retired } byCountry { key } byCategory { key } } }", json!({}))
        .await;
    let verra = &stats["statistics"]["byRegistry"][0];
    assert_eq!(verra["key"], "verra");
    let listed: f64 = retirements
        .iter()
        .map(|r| {
            r["quantity"]
                .as_str()
                .expect("decimal as string")
                .parse::<f64>()
                .expect("number")
        })
        .sum();
    let counted: f64 = verra["retired"]
        .as_str()
        .expect("decimal")
        .parse()
        .expect("number");
    assert!((listed - counted).abs() < 1e-6, "{listed} vs {counted}");

    // Registries with freshness and their runs.
    let regs = api
        .ok(
            None,
            "{ registries { id projects creditRecords lastWrite recentRuns { trigger status } } }",
            json!({}),
        )
        .await;
    let by_id: BTreeMap<&str, &Value> = regs["registries"]
        .as_array()
        .expect("list")
        .iter()
        .map(|r| (r["id"].as_str().expect("id"), r))
        .collect();
    assert!(by_id["verra"]["creditRecords"].as_u64().expect("count") > 0);
    assert_eq!(by_id["car"]["recentRuns"][0]["trigger"], "import");

    // The change feed since the start.
    let changes = api
        .ok(None, "{ changes(since: \"2000-01-01T00:00:00Z\", registry: \"gold-standard\", first: 5) { pageInfo { hasNextPage } edges { node { kind registry recordKey version recordedAt source } } } }", json!({}))
        .await;
    let edges = changes["changes"]["edges"].as_array().expect("edges");
    assert_eq!(edges.len(), 5);
    assert!(
        edges
            .iter()
            .all(|e| e["node"]["registry"] == "gold-standard")
    );
    assert_eq!(changes["changes"]["pageInfo"]["hasNextPage"], true);

    // -------------------------------------------------------------------------------------
    // Alerts and the review workflow.
    let alerts = api
        .ok(None, "{ alerts(filter: {kinds: [\"project_duplicate_candidate\"]}, first: 10) { totalCount edges { node { id kind severity status explanation records { registry recordKey project { id name } } history { actor toStatus reason } } } } }", json!({}))
        .await;
    assert_eq!(alerts["alerts"]["totalCount"], 1);
    let alert = &alerts["alerts"]["edges"][0]["node"];
    let id = alert["id"].as_str().expect("id").to_owned();
    assert_eq!(alert["records"][0]["project"]["id"], "acr:ACR234");
    assert_eq!(alert["history"][0]["actor"], "matcher");

    // A conversion's evidence: the cancellation (serialized) and the CARB issuance (no
    // serial) both resolve to their current credit records, neither to a project.
    let links = api
        .ok(None, "{ alerts(filter: {kinds: [\"linked_conversion\"]}, first: 1) { edges { node { records { registry recordKey serial creditRecord { registry recordKey } project { id } } } } } }", json!({}))
        .await;
    let records = links["alerts"]["edges"][0]["node"]["records"]
        .as_array()
        .expect("records")
        .clone();
    assert_eq!(records.len(), 2, "{links:#}");
    assert!(records.iter().any(|r| r["serial"].is_null()), "{links:#}");
    for r in &records {
        assert_eq!(r["creditRecord"]["recordKey"], r["recordKey"], "{r:#}");
        assert_eq!(r["creditRecord"]["registry"], r["registry"], "{r:#}");
        assert!(r["project"].is_null(), "{r:#}");
    }

    let ack = "mutation($id: String!) { acknowledgeAlert(id: $id) { outcome alert { status assignee } } }";
    // An observer may read but not review; the refusal says no more than that.
    let (code, message) = api.err(Some(&observer), ack, json!({"id": id})).await;
    assert_eq!(code, "FORBIDDEN");
    assert_eq!(message, "this needs the reviewer role");
    let (code, _) = api.err(None, ack, json!({"id": id})).await;
    assert_eq!(code, "UNAUTHENTICATED");
    let (status, body) = api
        .post(
            Some("cm_not-a-key"),
            &json!({"query": "{ registries { id } }"}),
        )
        .await;
    assert_eq!(status, 401);
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");

    let done = api.ok(Some(&ana), ack, json!({"id": id})).await;
    assert_eq!(done["acknowledgeAlert"]["outcome"], "MOVED");
    assert_eq!(done["acknowledgeAlert"]["alert"]["assignee"], "ana");
    // alertChanged saw every alert raised by the imports, then this step.
    let mut seen = Value::Null;
    for _ in 0..500 {
        seen = next_data(&mut changed).await;
        if seen["alertChanged"]["id"] == id.as_str() && seen["alertChanged"]["status"] != "NEW" {
            break;
        }
    }
    assert_eq!(seen["alertChanged"]["id"], id.as_str());
    assert_eq!(seen["alertChanged"]["status"], "ACKNOWLEDGED");

    api.ok(
        Some(&ana),
        "mutation($id: String!) { assignAlert(id: $id, assignee: \"ben\") { outcome } }",
        json!({"id": id}),
    )
    .await;
    api.ok(Some(&ben), "mutation($id: String!) { commentOnAlert(id: $id, note: \"Digester moved registries.\") { outcome } }", json!({"id": id})).await;
    api.ok(
        Some(&ben),
        "mutation($id: String!) { startAlertReview(id: $id) { outcome } }",
        json!({"id": id}),
    )
    .await;
    api.ok(
        Some(&ben),
        "mutation($id: String!) { escalateAlert(id: $id) { outcome } }",
        json!({"id": id}),
    )
    .await;
    api.ok(
        Some(&ben),
        "mutation($id: String!) { confirmAlert(id: $id) { outcome alert { status } } }",
        json!({"id": id}),
    )
    .await;
    api.ok(
        Some(&ben),
        "mutation($id: String!) { reopenAlert(id: $id, note: \"Registry restated.\") { outcome } }",
        json!({"id": id}),
    )
    .await;
    let (code, _) = api
        .err(Some(&ben), "mutation($id: String!) { dismissAlert(id: $id, reason: \"looks_fine\", note: \"x\") { outcome } }", json!({"id": id}))
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let dismissed = api
        .ok(Some(&ben), "mutation($id: String!) { dismissAlert(id: $id, reason: \"sequential_transition_no_period_overlap\", note: \"No shared vintage.\") { outcome alert { status history { actor fromStatus toStatus reason note } } } }", json!({"id": id}))
        .await;
    let after = &dismissed["dismissAlert"]["alert"];
    assert_eq!(after["status"], "DISMISSED");
    let steps: Vec<(String, String)> = after["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or("").to_owned(),
                e["reason"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("matcher", "raised"),
        ("ana", "review"),
        ("ana", "assigned"),
        ("ben", "comment"),
        ("ben", "review"),
        ("ben", "review"),
        ("ben", "confirmed"),
        ("ben", "reopened"),
        ("ben", "sequential_transition_no_period_overlap"),
    ]
    .iter()
    .map(|(a, r)| (a.to_string(), r.to_string()))
    .collect();
    assert_eq!(steps, expected);
    // A move out of order is a conflict.
    let (code, _) = api
        .err(
            Some(&ben),
            "mutation($id: String!) { escalateAlert(id: $id) { outcome } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(code, "CONFLICT");
    let one = api
        .ok(
            None,
            "query($id: String!) { alert(id: $id) { status history { actor } } }",
            json!({"id": id}),
        )
        .await;
    assert_eq!(one["alert"]["status"], "DISMISSED");

    // -------------------------------------------------------------------------------------
    // Admin: keys, a sync, the operators' views.
    let (code, _) = api.err(Some(&ana), "{ apiKeys { id } }", json!({})).await;
    assert_eq!(code, "FORBIDDEN");
    let created = api
        .ok(Some(&admin), "mutation { createApiKey(name: \"dashboard\", role: \"observer\") { token key { id name role prefix createdBy } } }", json!({}))
        .await;
    let token = created["createApiKey"]["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let key_id = created["createApiKey"]["key"]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    assert_eq!(created["createApiKey"]["key"]["createdBy"], "root-ops");
    let me = api
        .ok(Some(&token), "{ viewer { name role } }", json!({}))
        .await;
    assert_eq!(
        me["viewer"],
        json!({"name": "dashboard", "role": "observer"})
    );
    let keys = api
        .ok(
            Some(&admin),
            "{ apiKeys { name role revokedAt } }",
            json!({}),
        )
        .await;
    assert_eq!(keys["apiKeys"].as_array().expect("keys").len(), 5);
    api.ok(
        Some(&admin),
        "mutation($id: String!) { revokeApiKey(id: $id) }",
        json!({"id": key_id}),
    )
    .await;
    let (status, _) = api
        .post(Some(&token), &json!({"query": "{ viewer { name } }"}))
        .await;
    assert_eq!(status, 401, "a revoked key stops working at once");

    let (code, _) = api
        .err(
            Some(&admin),
            "mutation { triggerSync(connector: \"nowhere\") { connector } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "BAD_USER_INPUT");
    let started = api
        .ok(
            Some(&admin),
            "mutation { triggerSync(connector: \"verra\") { connector triggeredBy } }",
            json!({}),
        )
        .await;
    assert_eq!(started["triggerSync"]["triggeredBy"], "root-ops");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let regs = api
            .ok(
                None,
                "{ registries { id lastSuccessfulRun recentRuns { trigger status } } }",
                json!({}),
            )
            .await;
        let verra = regs["registries"]
            .as_array()
            .expect("list")
            .iter()
            .find(|r| r["id"] == "verra")
            .cloned()
            .expect("verra");
        if verra["recentRuns"][0]["trigger"] == "api:root-ops"
            && verra["recentRuns"][0]["status"] == "complete"
        {
            assert!(verra["lastSuccessfulRun"].is_string());
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the triggered run did not finish: {verra:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }

    let rejected = api
        .ok(
            Some(&admin),
            "{ rejectedRecords(first: 5) { edges { node { connector source reason } } } }",
            json!({}),
        )
        .await;
    assert!(rejected["rejectedRecords"]["edges"].is_array());
    let (code, _) = api
        .err(
            Some(&observer),
            "{ rejectedRecords(first: 5) { edges { cursor } } }",
            json!({}),
        )
        .await;
    assert_eq!(code, "FORBIDDEN");
    let deliveries = api
        .ok(
            Some(&admin),
            "{ webhookDeliveries(first: 5) { edges { node { id status } } } }",
            json!({}),
        )
        .await;
    assert_eq!(deliveries["webhookDeliveries"]["edges"], json!([]));

    // GET serves queries, never mutations.
    let got: Value = api
        .http
        .get(format!(
            "{}/graphql?query=%7B%20viewer%20%7B%20name%20%7D%20%7D",
            server.base_url
        ))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    assert_eq!(got["data"]["viewer"]["name"], "anonymous");
    let refused = api
        .http
        .get(format!(
            "{}/graphql?query=mutation%20%7B%20revokeApiKey(id%3A%22x%22)%20%7D",
            server.base_url
        ))
        .send()
        .await
        .expect("GET");
    assert_eq!(refused.status().as_u16(), 405);

    hostile_requests_are_refused_quickly(&api).await;

    let graphiql = api
        .http
        .get(format!("{}/graphiql", server.base_url))
        .send()
        .await
        .expect("GraphiQL");
    // GraphiQL works offline: the page loads every file from this server, and each is the
    // vendored file, served whole.
    let policy = graphiql
        .headers()
        .get("content-security-policy")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(policy.contains("script-src 'self'"), "{policy}");
    let page = graphiql.text().await.expect("page");
    assert!(
        !page.contains("://"),
        "a remote address in the page: {page}"
    );
    let assets = Path::new(env!("CARGO_MANIFEST_DIR")).join("../console/assets/graphiql");
    let mut served = 0;
    for link in page
        .split('"')
        .filter(|s| s.starts_with("/graphiql/assets/"))
    {
        let name = link["/graphiql/assets/".len()..]
            .split('?')
            .next()
            .expect("name");
        let asset = api
            .http
            .get(format!("{}{link}", server.base_url))
            .send()
            .await
            .expect("asset");
        assert_eq!(asset.status().as_u16(), 200, "{link}");
        let bytes = asset.bytes().await.expect("body");
        assert_eq!(
            bytes.as_ref(),
            std::fs::read(assets.join(name)).expect("vendored file"),
            "{name}"
        );
        served += 1;
    }
    assert_eq!(served, 5, "{page}");
    let missing = api
        .http
        .get(format!("{}/graphiql/assets/secret.js", server.base_url))
        .send()
        .await
        .expect("GET");
    assert_eq!(missing.status().as_u16(), 404);

    drop(server);
    simulator.shutdown().await;
}

/// Walks a connection page by page; checks `totalCount` against what was walked.
async fn walk(
    api: &Api,
    token: Option<&str>,
    field: &str,
    selection: &str,
    first: u32,
) -> Vec<Value> {
    let query = format!("query($first: Int, $after: String) {{ {selection} }}");
    let mut nodes = Vec::new();
    let mut after: Option<String> = None;
    let mut total = None;
    for _ in 0..10_000 {
        let data = api
            .ok(token, &query, json!({"first": first, "after": after}))
            .await;
        let c = &data[field];
        total = c["totalCount"].as_u64().or(total);
        let edges = c["edges"].as_array().expect("edges");
        assert!(edges.len() <= first as usize);
        nodes.extend(edges.iter().map(|e| e["node"].clone()));
        if c["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = c["pageInfo"]["endCursor"].as_str().map(str::to_owned);
    }
    if let Some(total) = total {
        assert_eq!(total as usize, nodes.len(), "totalCount of {field}");
    }
    nodes
}

/// Depth 50, 10,000 aliases, a batch of 100, `first: 1000000000`, a 10 MB body: each
/// refused with a clear code, fast.
async fn hostile_requests_are_refused_quickly(api: &Api) {
    let mut deep = String::from(
        "{ alerts(first: 1) { edges { node { records { project { creditRecords(first: 1) { project { creditRecords(first: 1) { project {",
    );
    for _ in 0..50 {
        deep.push_str(" creditRecords(first: 1) { project {");
    }
    deep.push_str(" id");
    for _ in 0..50 {
        deep.push_str(" } }");
    }
    deep.push_str(" } } } } } } } } } }");
    let aliases: String = (0..10_000)
        .map(|i| format!("a{i}: viewer {{ name }} "))
        .collect();
    let few: String = (0..100)
        .map(|i| format!("a{i}: viewer {{ name }} "))
        .collect();
    let batch: Vec<Value> = (0..100)
        .map(|_| json!({"query": "{ viewer { name } }"}))
        .collect();
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            "depth 50",
            json!({"query": deep}),
            200,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "10,000 aliases",
            json!({"query": format!("{{ {aliases} }}")}),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "100 aliases",
            json!({"query": format!("{{ {few} }}")}),
            200,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "a batch of 100",
            Value::Array(batch),
            400,
            "GRAPHQL_VALIDATION_FAILED",
        ),
        (
            "first: 1000000000",
            json!({"query": "{ creditRecords(first: 1000000000) { edges { cursor } } }"}),
            200,
            "BAD_USER_INPUT",
        ),
    ];
    for (what, body, status, code) in cases {
        let started = Instant::now();
        let (got, response) = api.post(None, &body).await;
        let took = started.elapsed();
        assert_eq!(got, status, "{what}: {response:#}");
        assert_eq!(
            response["errors"][0]["extensions"]["code"], code,
            "{what}: {response:#}"
        );
        assert!(response["data"].is_null(), "{what}: nothing ran");
        assert!(took < Duration::from_millis(750), "{what} took {took:?}");
    }
    // A 10 MB body: refused on its Content-Length, before the server reads it. The client
    // sends the headers and a first slice only, and gets the answer.
    let started = Instant::now();
    let address = api.base.trim_start_matches("http://").to_owned();
    let mut stream = tokio::net::TcpStream::connect(&address)
        .await
        .expect("connect");
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: {address}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        10 * 1024 * 1024
    );
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream.write_all(head.as_bytes()).await.expect("headers");
    stream
        .write_all(&[b' '; 16 * 1024])
        .await
        .expect("a first slice");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut answer)).await;
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("PAYLOAD_TOO_LARGE"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(2));
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a `graphql-transport-ws` subscription.
async fn subscribe(base: &str, token: Option<&str>, query: &str) -> Socket {
    let url = format!("{}/graphql/ws", base.replace("http://", "ws://"));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("header"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("websocket");
    let payload = match token {
        Some(t) => json!({"Authorization": format!("Bearer {t}")}),
        None => json!({}),
    };
    socket
        .send(Message::text(
            json!({"type": "connection_init", "payload": payload}).to_string(),
        ))
        .await
        .expect("init");
    let ack = next_message(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack:#}");
    socket
        .send(Message::text(
            json!({"id": "1", "type": "subscribe", "payload": {"query": query}}).to_string(),
        ))
        .await
        .expect("subscribe");
    socket
}

async fn next_message(socket: &mut Socket) -> Value {
    let deadline = Duration::from_secs(30);
    loop {
        let message = tokio::time::timeout(deadline, socket.next())
            .await
            .expect("a message within 30 s")
            .expect("socket open")
            .expect("message");
        if let Message::Text(text) = message {
            let v: Value = serde_json::from_str(&text).expect("JSON message");
            if v["type"] != "ping" && v["type"] != "pong" {
                return v;
            }
        }
    }
}

/// The next `next` payload's data of a subscription.
async fn next_data(socket: &mut Socket) -> Value {
    let m = next_message(socket).await;
    assert_eq!(m["type"], "next", "{m:#}");
    assert!(m["payload"]["errors"].is_null(), "{m:#}");
    m["payload"]["data"].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_sqlite() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("api.db");
    exercise(&format!("sqlite://{}", db.display())).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_on_postgres() {
    exercise(&postgres_database("graphql")).await;
}

/// Every serial the demo stores, looked up as published with its record's registry as the
/// hint, finds its own record: CAD Trust unit blocks, batch serials and every grammar.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stored_serial_is_found_by_serial_lookup() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("demo.db");
    let db = db.to_str().expect("UTF-8 path");
    succeed(carbonmesh(dir.path()).args([
        "--database",
        db,
        "demo",
        "--no-serve",
        "--projects",
        "24",
        "--blocks",
        "60",
    ]));
    let exported = succeed(carbonmesh(dir.path()).args([
        "--database",
        db,
        "export",
        "--what",
        "credits",
        "--format",
        "jsonl",
    ]));
    let records: Vec<Value> = exported
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect();
    let out = succeed(carbonmesh(dir.path()).args([
        "--database",
        db,
        "keys",
        "create",
        "--name",
        "analyst",
        "--role",
        "observer",
    ]));
    let token = carbonmesh_e2e::token_in(&out);
    // One lookup per record, as fast as the test sends them: no rate limit in the way.
    let config = dir.path().join("carbonmesh.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{db}\"\n\n[api]\nrate_per_second = 100000\nrate_burst = 100000\n"
        ),
    )
    .expect("write config");
    let server = Server::start_with_config(dir.path(), &config)
        .await
        .expect("serve");
    let api = Api {
        base: server.base_url.clone(),
        http: reqwest::Client::new(),
    };
    let query = "query($s: String!, $r: String) { serialLookup(serial: $s, registry: $r) \
                 { truncated matches { record { registry recordKey } } } }";
    let mut checked = BTreeMap::<String, usize>::new();
    for record in &records {
        let Some(serial) = record["serial"].as_str() else {
            continue;
        };
        let registry = record["registry"].as_str().expect("registry");
        let key = record["record_key"].as_str().expect("record key");
        let data = api
            .ok(Some(&token), query, json!({ "s": serial, "r": registry }))
            .await;
        let lookup = &data["serialLookup"];
        let found = lookup["matches"]
            .as_array()
            .expect("matches")
            .iter()
            .any(|m| m["record"]["registry"] == registry && m["record"]["recordKey"] == key);
        assert!(
            found || lookup["truncated"] == true,
            "{registry} `{serial}` did not find {key}: {lookup:#}"
        );
        *checked.entry(registry.to_owned()).or_default() += 1;
    }
    assert!(checked.contains_key("cadt"), "{checked:?}");
    assert!(checked.len() >= 8, "{checked:?}");

    // Without the hint, a CAD Trust block still reads (no other grammar does); an unknown
    // shape is a clear error.
    let (code, message) = api
        .err(Some(&token), query, json!({ "s": "no-such serial" }))
        .await;
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    assert!(message.contains("cannot read"), "{message}");
}

/// A revoked key's subscription ends within a second; guessing tokens from one address is
/// slowed down with `429` and `Retry-After`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn revocation_ends_subscriptions_and_failed_logins_are_limited() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("keys.db");
    let db = db.to_str().expect("UTF-8 path");
    let config = dir.path().join("carbonmesh.toml");
    std::fs::write(
        &config,
        format!("[database]\nurl = \"{db}\"\n\n[api]\nsubscription_poll_ms = 100\n"),
    )
    .expect("write config");
    cli(dir.path(), &config, &["migrate"]);
    let out = cli(
        dir.path(),
        &config,
        &["keys", "create", "--name", "watcher", "--role", "observer"],
    );
    let token = carbonmesh_e2e::token_in(&out);
    let id = out
        .strip_prefix("created API key ")
        .and_then(|rest| rest.split_whitespace().next())
        .expect("the key's id")
        .to_owned();
    let server = Server::start_with_config(dir.path(), &config)
        .await
        .expect("serve");
    let mut socket = subscribe(
        &server.base_url,
        Some(&token),
        "subscription { alertRaised { id } }",
    )
    .await;
    // Revoked while the subscription is open.
    cli(dir.path(), &config, &["keys", "revoke", &id]);
    let revoked = Instant::now();
    let ended = next_message(&mut socket).await;
    let waited = revoked.elapsed();
    assert!(
        ended["type"] == "error"
            || ended["payload"]["errors"][0]["message"]
                .as_str()
                .is_some_and(|m| m.contains("revoked")),
        "{ended:#}"
    );
    assert!(waited < Duration::from_secs(1), "ended after {waited:?}");

    // Ten wrong tokens are mistakes; the eleventh is told to wait.
    let api = Api {
        base: server.base_url.clone(),
        http: reqwest::Client::new(),
    };
    let wrong = format!("cm_{}", "x".repeat(token.len() - 3));
    for _ in 0..10 {
        let (status, _) = api
            .post(Some(&wrong), &json!({ "query": "{ viewer { name } }" }))
            .await;
        assert_eq!(status, 401);
    }
    let response = api
        .http
        .post(format!("{}/graphql", server.base_url))
        .bearer_auth(&wrong)
        .json(&json!({ "query": "{ viewer { name } }" }))
        .send()
        .await
        .expect("response");
    assert_eq!(response.status().as_u16(), 429);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .expect("Retry-After in seconds");
    assert!((1..=6).contains(&retry_after), "{retry_after}");
}
