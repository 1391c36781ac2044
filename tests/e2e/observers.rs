//! What market observers read: project roll-ups and the time series of issuances and
//! retirements, checked against the demo's own credit records as `carbonmesh export` writes
//! them.

use std::collections::BTreeMap;
use std::path::Path;
use std::str::FromStr;

use carbonmesh_e2e::{Server, carbonmesh, succeed};
use rust_decimal::Decimal;
use serde_json::{Value, json};

/// Registries that list blocks in their current state (`RegistryId::reports_blocks`).
const BLOCK_REGISTRIES: [&str; 2] = ["verra", "cadt"];

fn decimal(v: &Value) -> Decimal {
    let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    Decimal::from_str(&text).unwrap_or_else(|_| panic!("a decimal: {v}"))
}

/// The demo's database and an observer key.
fn demo(dir: &Path) -> (String, String) {
    let db = dir.join("demo.db");
    let db = db.to_str().expect("UTF-8 path").to_owned();
    succeed(carbonmesh(dir).args([
        "--database",
        &db,
        "demo",
        "--no-serve",
        "--projects",
        "24",
        "--blocks",
        "60",
    ]));
    let out = succeed(carbonmesh(dir).args([
        "--database",
        &db,
        "keys",
        "create",
        "--name",
        "analyst",
        "--role",
        "observer",
    ]));
    (db, carbonmesh_e2e::token_in(&out))
}

/// `serve` on `db`, with no rate limit in the way of a test that pages as fast as it can.
async fn serve(dir: &Path, db: &str) -> Server {
    let config = dir.join("serve.toml");
    std::fs::write(
        &config,
        format!(
            "[database]\nurl = \"{db}\"\n\n[api]\nrate_per_second = 100000\nrate_burst = 100000\n"
        ),
    )
    .expect("write config");
    Server::start_with_config(dir, &config)
        .await
        .expect("serve")
}

fn exported_credits(dir: &Path, db: &str) -> Vec<Value> {
    let out = succeed(carbonmesh(dir).args([
        "--database",
        db,
        "export",
        "--what",
        "credits",
        "--format",
        "jsonl",
    ]));
    out.lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

/// A project's roll-up computed from its exported records, as `Project.rollup` documents it.
#[derive(Debug, Default, Clone, PartialEq)]
struct Rollup {
    records: u64,
    issued: Decimal,
    retired: Decimal,
    cancelled: Decimal,
    converted: Decimal,
    buffer: Decimal,
    remaining: Decimal,
    first_issuance: Option<String>,
    last_issuance: Option<String>,
    first_retirement: Option<String>,
    last_retirement: Option<String>,
}

fn expected_rollups(records: &[Value]) -> BTreeMap<String, Rollup> {
    let mut by_project: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in records {
        let id = format!(
            "{}:{}",
            r["registry"].as_str().expect("registry"),
            r["registry_project_id"].as_str().expect("project")
        );
        by_project.entry(id).or_default().push(r);
    }
    let kind = |r: &Value| {
        r["transaction_type"]["value"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    by_project
        .into_iter()
        .map(|(id, records)| {
            let of = |k: &str| -> Decimal {
                records
                    .iter()
                    .filter(|r| kind(r) == k)
                    .map(|r| decimal(&r["quantity"]))
                    .sum()
            };
            let days = |k: &str| -> Vec<String> {
                let mut d: Vec<String> = records
                    .iter()
                    .filter(|r| kind(r) == k)
                    .filter_map(|r| r["event_date"].as_str().map(str::to_owned))
                    .collect();
                d.sort();
                d
            };
            let (retired, cancelled, converted, buffer) = (
                of("retirement"),
                of("cancellation"),
                of("conversion"),
                of("buffer"),
            );
            let registry = id.split(':').next().unwrap_or("");
            let (issued, remaining) = if BLOCK_REGISTRIES.contains(&registry) {
                let active = records
                    .iter()
                    .filter(|r| r["status"]["value"] == "active")
                    .map(|r| decimal(&r["quantity"]))
                    .sum();
                (
                    of("issuance") + retired + cancelled + converted + buffer,
                    active,
                )
            } else {
                let issued = of("issuance");
                (issued, issued - retired - cancelled - converted - buffer)
            };
            let (issuances, retirements) = (days("issuance"), days("retirement"));
            let rollup = Rollup {
                records: records.len() as u64,
                issued: issued.normalize(),
                retired: retired.normalize(),
                cancelled: cancelled.normalize(),
                converted: converted.normalize(),
                buffer: buffer.normalize(),
                remaining: remaining.normalize(),
                first_issuance: issuances.first().cloned(),
                last_issuance: issuances.last().cloned(),
                first_retirement: retirements.first().cloned(),
                last_retirement: retirements.last().cloned(),
            };
            (id, rollup)
        })
        .collect()
}

fn served_rollup(v: &Value) -> Rollup {
    let day = |f: &str| v[f].as_str().map(str::to_owned);
    Rollup {
        records: v["records"].as_u64().expect("records"),
        issued: decimal(&v["issued"]).normalize(),
        retired: decimal(&v["retired"]).normalize(),
        cancelled: decimal(&v["cancelled"]).normalize(),
        converted: decimal(&v["converted"]).normalize(),
        buffer: decimal(&v["buffer"]).normalize(),
        remaining: decimal(&v["remaining"]).normalize(),
        first_issuance: day("firstIssuance"),
        last_issuance: day("lastIssuance"),
        first_retirement: day("firstRetirement"),
        last_retirement: day("lastRetirement"),
    }
}

struct Api {
    url: String,
    token: String,
    http: reqwest::Client,
}

impl Api {
    async fn data(&self, query: &str, variables: Value) -> Value {
        let body: Value = self
            .http
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .expect("request")
            .json()
            .await
            .expect("JSON");
        assert!(body.get("errors").is_none(), "{query}\n{body:#}");
        body["data"].clone()
    }

    /// Every node of connection `field`, page by page: `variables` plus `after`; checks
    /// `totalCount` when the query asks for it.
    async fn walk(&self, query: &str, variables: Value, field: &str) -> Vec<Value> {
        let mut nodes = Vec::new();
        let mut after: Option<String> = None;
        let mut total = None;
        for _ in 0..1000 {
            let mut vars = variables.clone();
            vars["after"] = json!(after);
            let data = self.data(query, vars).await;
            let c = &data[field];
            total = c["totalCount"].as_u64().or(total);
            nodes.extend(
                c["edges"]
                    .as_array()
                    .expect("edges")
                    .iter()
                    .map(|e| e["node"].clone()),
            );
            if c["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = c["pageInfo"]["endCursor"].as_str().map(str::to_owned);
        }
        if let Some(total) = total {
            assert_eq!(
                nodes.len() as u64,
                total,
                "totalCount of {field} {variables}"
            );
        }
        nodes
    }

    /// Every project in `order`, `first` at a time, with its roll-up.
    async fn projects(
        &self,
        order: &str,
        filter: Value,
        first: u32,
    ) -> Vec<(String, Option<Rollup>)> {
        let query = "query($order: ProjectOrderBy, $filter: ProjectFilterInput, $first: Int, \
                     $after: String) { projects(orderBy: $order, filter: $filter, first: $first, \
                     after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { \
                     id rollup { records issued retired cancelled converted buffer remaining \
                     firstIssuance lastIssuance firstRetirement lastRetirement } } } } }";
        self.walk(
            query,
            json!({"order": order, "filter": filter, "first": first}),
            "projects",
        )
        .await
        .iter()
        .map(|node| {
            let rollup = (!node["rollup"].is_null()).then(|| served_rollup(&node["rollup"]));
            (node["id"].as_str().expect("id").to_owned(), rollup)
        })
        .collect()
    }
}

/// `projects { rollup }` equals the sums of each project's records, for every project of the
/// demo; listings by retired units and by first issuance page in that order, also filtered;
/// `statistics { byEventMonth }` sums the records of each month.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn project_rollups_and_monthly_statistics_follow_the_demo_records() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, token) = demo(dir.path());
    let records = exported_credits(dir.path(), &db);
    let expected = expected_rollups(&records);
    assert!(expected.len() >= 20, "the demo's projects with records");
    assert!(
        expected.values().any(|r| r.first_retirement.is_some()),
        "the demo retires units"
    );

    let server = serve(dir.path(), &db).await;
    let api = Api {
        url: format!("{}/graphql", server.base_url),
        token,
        http: reqwest::Client::new(),
    };

    let kg = |d: Decimal| (d * Decimal::from(1000)).floor();
    let by_retired = api.projects("RETIRED_DESC", Value::Null, 7).await;
    for (id, rollup) in &by_retired {
        assert_eq!(rollup.as_ref(), expected.get(id), "{id}");
    }
    let retired_kg = |r: &Option<Rollup>| r.as_ref().map_or(Decimal::ZERO, |r| kg(r.retired));
    let mut order: Vec<(Decimal, String)> = by_retired
        .iter()
        .map(|(id, r)| (-retired_kg(r), id.clone()))
        .collect();
    order.sort();
    assert_eq!(
        by_retired.iter().map(|(id, _)| id).collect::<Vec<_>>(),
        order.iter().map(|(_, id)| id).collect::<Vec<_>>(),
        "most retired first, then id"
    );
    let with_rollups = by_retired.iter().filter(|(_, r)| r.is_some()).count();
    assert_eq!(with_rollups, expected.len(), "every project with records");

    let by_first = api.projects("FIRST_ISSUANCE", Value::Null, 5).await;
    let first = |r: &Option<Rollup>| r.as_ref().and_then(|r| r.first_issuance.clone());
    let keys: Vec<(bool, Option<String>, String)> = by_first
        .iter()
        .map(|(id, r)| (first(r).is_none(), first(r), id.clone()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted, "by first issuance, then id");
    assert_eq!(by_first.len(), by_retired.len());

    // Filtered: at least the median retired amount, first issued from the median day on.
    let mut retired: Vec<Decimal> = expected
        .values()
        .map(|r| r.retired)
        .filter(|d| !d.is_zero())
        .collect();
    retired.sort();
    let threshold = retired[retired.len() / 2];
    let many = api
        .projects(
            "RETIRED_DESC",
            json!({ "retiredAtLeast": threshold.to_string() }),
            3,
        )
        .await;
    let want: Vec<&String> = by_retired
        .iter()
        .filter(|(_, r)| retired_kg(r) >= kg(threshold))
        .map(|(id, _)| id)
        .collect();
    assert_eq!(many.iter().map(|(id, _)| id).collect::<Vec<_>>(), want);
    let mut days: Vec<String> = expected
        .values()
        .filter_map(|r| r.first_issuance.clone())
        .collect();
    days.sort();
    let from = days[days.len() / 2].clone();
    let later = api
        .projects("FIRST_ISSUANCE", json!({ "firstIssuanceFrom": from }), 4)
        .await;
    let want: Vec<&String> = by_first
        .iter()
        .filter(|(_, r)| first(r).is_some_and(|d| d >= from))
        .map(|(id, _)| id)
        .collect();
    assert!(!want.is_empty());
    assert_eq!(later.iter().map(|(id, _)| id).collect::<Vec<_>>(), want);

    // Monthly statistics: the records of each month, summed by transaction type.
    let data = api
        .data(
            "{ statistics { byEventMonth { key issued retired records } } }",
            Value::Null,
        )
        .await;
    let mut months: BTreeMap<Option<String>, (Decimal, Decimal, u64)> = BTreeMap::new();
    for r in &records {
        let month = r["event_date"].as_str().map(|d| d[..7].to_owned());
        let e = months.entry(month).or_default();
        e.2 += 1;
        match r["transaction_type"]["value"].as_str() {
            Some("issuance") => e.0 += decimal(&r["quantity"]),
            Some("retirement") => e.1 += decimal(&r["quantity"]),
            _ => {}
        }
    }
    let served: BTreeMap<Option<String>, (Decimal, Decimal, u64)> =
        data["statistics"]["byEventMonth"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|row| {
                (
                    row["key"].as_str().map(str::to_owned),
                    (
                        decimal(&row["issued"]).normalize(),
                        decimal(&row["retired"]).normalize(),
                        row["records"].as_u64().expect("records"),
                    ),
                )
            })
            .collect();
    let months: BTreeMap<_, _> = months
        .into_iter()
        .map(|(k, (i, r, n))| (k, (i.normalize(), r.normalize(), n)))
        .collect();
    assert!(months.len() > 3, "the demo spans months");
    assert_eq!(served, months);
    drop(server);
}

/// A config syncing Verra and Gold Standard from the simulator at `base_url`.
fn sync_config(dir: &Path, db: &str, base_url: &str) -> String {
    let mut text = format!("[database]\nurl = \"{db}\"\n");
    for registry in ["verra", "gold-standard"] {
        text.push_str(&format!(
            "\n[connectors.{registry}]\nbase_url = \"{base_url}\"\nrequests_per_second = 500\n"
        ));
    }
    let path = dir.join("carbonmesh.toml");
    std::fs::write(&path, text).expect("write config");
    path.display().to_string()
}

/// What `export` prints of `what`, one JSON value per line, keyed by registry and key.
fn exported(dir: &Path, config: &str, what: &str, as_of: Option<&str>) -> BTreeMap<String, Value> {
    let mut args = vec![
        "--config", config, "export", "--what", what, "--format", "jsonl",
    ];
    if let Some(at) = as_of {
        args.extend(["--as-of", at]);
    }
    succeed(carbonmesh(dir).args(&args))
        .lines()
        .map(|l| {
            let mut v: Value = serde_json::from_str(l).expect("JSON line");
            // The time of the export itself, not of the data.
            v.as_object_mut().map(|o| o.remove("generated_at"));
            let key = v
                .get("record_key")
                .or_else(|| v.get("registry_project_id"))
                .and_then(Value::as_str)
                .expect("key")
                .to_owned();
            (
                format!("{}:{key}", v["registry"].as_str().expect("registry")),
                v,
            )
        })
        .collect()
}

/// One sync's moment and what `export` printed right after it.
struct Moment {
    at: String,
    credits: BTreeMap<String, Value>,
    projects: BTreeMap<String, Value>,
}

/// Four syncs of a simulator that grows, changes a project each time, then shrinks (the
/// blocks it no longer lists are retracted): after each, the moment and the export. Then
/// `creditRecords`, `projects`, `project` and `statistics` with `asOf` each moment equal
/// what was current at it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn as_of_queries_see_each_sync_as_it_was() {
    use carbonmesh_simulator::{CaseCounts, Scale, Simulator, SimulatorConfig};
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("asof.db");
    let db = db.to_str().expect("UTF-8 path").to_owned();
    let mut moments: Vec<Moment> = Vec::new();
    let mut withdrawn: Option<u64> = None;
    for blocks in [20, 30, 40, 30] {
        let sim = Simulator::start(SimulatorConfig {
            seed: 11,
            scale: Scale::uniform(8, blocks),
            cases: CaseCounts::each(0),
            ..SimulatorConfig::default()
        })
        .await
        .expect("simulator");
        // Each sync changes the status Verra publishes for one more project.
        if let Some(previous) = moments.last() {
            let number = previous
                .projects
                .keys()
                .filter_map(|k| k.strip_prefix("verra:VCS"))
                .filter_map(|n| n.parse::<u64>().ok())
                .find(|n| Some(*n) != withdrawn)
                .expect("a Verra project");
            sim.registry().set_verra_project_status(number, "Withdrawn");
            withdrawn = Some(number);
        }
        let config = sync_config(dir.path(), &db, &sim.base_url());
        succeed(carbonmesh(dir.path()).args([
            "--config",
            &config,
            "sync",
            "verra",
            "gold-standard",
        ]));
        let at = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
        moments.push(Moment {
            at,
            credits: exported(dir.path(), &config, "credits", None),
            projects: exported(dir.path(), &config, "projects", None),
        });
        sim.shutdown().await;
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(moments[0].credits.len() < moments[1].credits.len());
    assert!(moments[1].credits.len() < moments[2].credits.len());
    assert_ne!(
        moments[0].projects, moments[1].projects,
        "a project changed"
    );
    assert_ne!(
        moments[1].projects, moments[2].projects,
        "a project changed"
    );

    let (_, token) = {
        let out = succeed(carbonmesh(dir.path()).args([
            "--database",
            &db,
            "keys",
            "create",
            "--name",
            "auditor",
            "--role",
            "observer",
        ]));
        ((), carbonmesh_e2e::token_in(&out))
    };
    let server = serve(dir.path(), &db).await;
    let api = Api {
        url: format!("{}/graphql", server.base_url),
        token,
        http: reqwest::Client::new(),
    };
    // `export --as-of` each moment prints what `export` printed then.
    let config = dir.path().join("carbonmesh.toml").display().to_string();
    for m in &moments {
        assert_eq!(
            exported(dir.path(), &config, "credits", Some(&m.at)),
            m.credits,
            "export --what credits --as-of {}",
            m.at
        );
        assert_eq!(
            exported(dir.path(), &config, "projects", Some(&m.at)),
            m.projects,
            "export --what projects --as-of {}",
            m.at
        );
    }
    // A day stands for its end: today holds everything current.
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    assert_eq!(
        exported(dir.path(), &config, "credits", Some(&today)),
        moments[3].credits
    );
    let refused = carbonmesh_e2e::run(carbonmesh(dir.path()).args([
        "--config", &config, "export", "--what", "runs", "--as-of", &today,
    ]));
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(
        stderr.contains("--as-of reads the versions kept of credit records and projects"),
        "{stderr}"
    );

    for m in &moments {
        // Credit records as of the moment, page by page.
        let query = "query($at: DateTime, $after: String) { creditRecords(asOf: $at, first: 50, \
                     after: $after) { totalCount pageInfo { hasNextPage endCursor } edges { node { \
                     registry recordKey quantity status { value raw } } } } }";
        let served: BTreeMap<String, (Decimal, Value)> = api
            .walk(query, json!({ "at": m.at }), "creditRecords")
            .await
            .iter()
            .map(|n| {
                let key = format!(
                    "{}:{}",
                    n["registry"].as_str().expect("registry"),
                    n["recordKey"].as_str().expect("key")
                );
                (
                    key,
                    (
                        decimal(&n["quantity"]).normalize(),
                        n["status"]["raw"].clone(),
                    ),
                )
            })
            .collect();
        let expected: BTreeMap<String, (Decimal, Value)> = m
            .credits
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    (
                        decimal(&v["quantity"]).normalize(),
                        v["status"]["raw"].clone(),
                    ),
                )
            })
            .collect();
        assert_eq!(served, expected, "creditRecords as of {}", m.at);

        // Projects, one by one and listed, as of the moment.
        let data = api
            .data(
                "query($at: DateTime) { projects(asOf: $at, first: 100) { edges { node { \
                 id name status { raw } } } } }",
                json!({ "at": m.at }),
            )
            .await;
        let listed: BTreeMap<String, Value> = data["projects"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| {
                (
                    e["node"]["id"].as_str().expect("id").to_owned(),
                    e["node"]["status"]["raw"].clone(),
                )
            })
            .collect();
        let expected: BTreeMap<String, Value> = m
            .projects
            .iter()
            .map(|(k, v)| (k.clone(), v["status"]["raw"].clone()))
            .collect();
        assert_eq!(listed, expected, "projects as of {}", m.at);
        if let Some(number) = withdrawn {
            let id = format!("verra:VCS{number}");
            let data = api
                .data(
                    "query($id: String!, $at: DateTime) { project(id: $id, asOf: $at) { status { raw } } }",
                    json!({ "id": id, "at": m.at }),
                )
                .await;
            assert_eq!(
                data["project"]["status"]["raw"], expected[&id],
                "{id} as of {}",
                m.at
            );
        }

        // Statistics as of the moment count the records then current.
        let data = api
            .data(
                "query($at: DateTime) { statistics(asOf: $at) { byRegistry { key records } } }",
                json!({ "at": m.at }),
            )
            .await;
        let counted: u64 = data["statistics"]["byRegistry"]
            .as_array()
            .expect("rows")
            .iter()
            .map(|r| r["records"].as_u64().expect("records"))
            .sum();
        assert_eq!(
            counted as usize,
            m.credits.len(),
            "statistics as of {}",
            m.at
        );
    }
    drop(server);
}

/// Who claimed what on the demo's data: the beneficiary most records name, searched as its
/// registry wrote it, is one harmonized name with the demo's records of every spelling; a
/// claim search lists exactly the records naming it, or whose account, reason or note holds
/// the words.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beneficiaries_and_claims_follow_the_demo_records() {
    use carbonmesh_model::{beneficiary_key, beneficiary_matches};
    let dir = tempfile::tempdir().expect("tempdir");
    let (db, token) = demo(dir.path());
    let records = exported_credits(dir.path(), &db);
    let mut by_name: BTreeMap<String, Vec<&Value>> = BTreeMap::new();
    for r in &records {
        if let Some(key) = r["beneficiary"].as_str().and_then(beneficiary_key) {
            by_name.entry(key).or_default().push(r);
        }
    }
    let (name, named) = by_name
        .iter()
        .max_by_key(|(name, named)| (named.len(), std::cmp::Reverse((*name).clone())))
        .expect("the demo names beneficiaries");
    let raw = named[0]["beneficiary"].as_str().expect("raw").to_owned();

    let server = serve(dir.path(), &db).await;
    let api = Api {
        url: format!("{}/graphql", server.base_url),
        token,
        http: reqwest::Client::new(),
    };
    let data = api
        .data(
            "query($s: String!) { beneficiaries(search: $s, first: 100) { name spellings \
             registries records units } }",
            json!({ "s": raw }),
        )
        .await;
    let groups = data["beneficiaries"].as_array().expect("groups");
    let group = groups
        .iter()
        .find(|g| g["name"] == name.as_str())
        .unwrap_or_else(|| panic!("{name} among {groups:#?}"));
    assert_eq!(group["records"].as_u64(), Some(named.len() as u64));
    let units: Decimal = named.iter().map(|r| decimal(&r["quantity"])).sum();
    assert_eq!(decimal(&group["units"]).normalize(), units.normalize());
    let mut spellings: Vec<&str> = named
        .iter()
        .filter_map(|r| r["beneficiary"].as_str())
        .collect();
    spellings.sort();
    spellings.dedup();
    let served: Vec<&str> = group["spellings"]
        .as_array()
        .expect("spellings")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(served, spellings);
    // Every other group holds the search's words too.
    for g in groups {
        assert!(
            beneficiary_matches(g["name"].as_str().expect("name"), &raw),
            "{g}"
        );
    }

    // The claim search: by harmonized beneficiary, or account, reason or note.
    let needle = raw.to_lowercase();
    let mut expected: Vec<String> = records
        .iter()
        .filter(|r| {
            r["beneficiary"]
                .as_str()
                .and_then(beneficiary_key)
                .is_some_and(|k| beneficiary_matches(&k, &raw))
                || ["account", "reason", "note"].iter().any(|f| {
                    r[*f]
                        .as_str()
                        .is_some_and(|t| t.to_lowercase().contains(&needle))
                })
        })
        .map(|r| {
            format!(
                "{}:{}",
                r["registry"].as_str().unwrap_or(""),
                r["record_key"].as_str().unwrap_or("")
            )
        })
        .collect();
    expected.sort();
    let mut found: Vec<String> = api
        .walk(
            "query($c: String, $after: String) { creditRecords(filter: {claim: $c}, first: 50, \
             after: $after) { pageInfo { hasNextPage endCursor } edges { node { registry recordKey } } } }",
            json!({ "c": raw }),
            "creditRecords",
        )
        .await
        .iter()
        .map(|n| {
            format!(
                "{}:{}",
                n["registry"].as_str().unwrap_or(""),
                n["recordKey"].as_str().unwrap_or("")
            )
        })
        .collect();
    found.sort();
    assert_eq!(found, expected);
    drop(server);
}
