//! Harmonized project categories and types as a user meets them: `carbonmesh vocab unmapped`
//! names exactly the raw values no mapping covers, every real registry sample maps, and the
//! API serves the harmonized values and the same gaps.
//!
//! Expectations are computed here from the exported projects and the mapping file itself
//! (`crates/taxonomy/data/mappings.csv`, read with the documented matching rule), not from
//! the code under test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use carbonmesh_e2e::{Server, carbonmesh, fixtures, succeed, token_in};
use serde_json::{Value, json};

/// `(registry, field, raw value)` → projects carrying it.
type Vocabulary = BTreeMap<(String, String, String), u64>;

const FIELDS: [&str; 3] = ["sector", "category", "project_type"];

/// The documented matching rule: case and runs of white space do not matter.
fn fold(raw: &str) -> String {
    raw.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// The keys the mapping file covers: `(registry, field, folded raw value)`.
fn mapped_keys() -> BTreeSet<(String, String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../taxonomy/data/mappings.csv");
    let mut reader = csv::Reader::from_path(&path).expect("mappings.csv");
    reader
        .records()
        .map(|r| {
            let r = r.expect("mapping row");
            (r[0].to_owned(), r[1].to_owned(), fold(&r[2]))
        })
        .collect()
}

/// The raw values the exported projects carry, counted.
fn exported_vocabulary(dir: &Path, db: &str) -> Vocabulary {
    let jsonl = succeed(carbonmesh(dir).args([
        "--database",
        db,
        "export",
        "--what",
        "projects",
        "--format",
        "jsonl",
    ]));
    let mut found = Vocabulary::new();
    for line in jsonl.lines() {
        let p: Value = serde_json::from_str(line).expect("JSON line");
        for field in FIELDS {
            if let Some(v) = p[field].as_str().filter(|v| !v.trim().is_empty()) {
                let registry = p["registry"].as_str().expect("registry").to_owned();
                *found
                    .entry((registry, field.to_owned(), v.to_owned()))
                    .or_default() += 1;
            }
        }
    }
    found
}

/// What `vocab unmapped` should print: the found values no mapping row covers.
fn expected_unmapped(found: &Vocabulary) -> Vocabulary {
    let mapped = mapped_keys();
    found
        .iter()
        .filter(|((r, f, v), _)| !mapped.contains(&(r.clone(), f.clone(), fold(v))))
        .map(|(k, n)| (k.clone(), *n))
        .collect()
}

/// `vocab unmapped --format json`, as a map.
fn unmapped_json(dir: &Path, db: &str) -> Vocabulary {
    let out =
        succeed(carbonmesh(dir).args(["--database", db, "vocab", "unmapped", "--format", "json"]));
    let values: Vec<Value> = serde_json::from_str(&out).expect("a JSON array");
    values
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().expect("string").to_owned();
            (
                (s("registry"), s("field"), s("raw_value")),
                v["projects"].as_u64().expect("count"),
            )
        })
        .collect()
}

/// `vocab unmapped` as a table: a header, then registry, field, projects and the raw value.
fn unmapped_table(dir: &Path, db: &str) -> Vocabulary {
    let out = succeed(carbonmesh(dir).args(["--database", db, "vocab", "unmapped"]));
    let mut lines = out.lines();
    let header = lines.next().expect("a header");
    assert!(header.starts_with("REGISTRY"), "{out}");
    lines
        .map(|l| {
            let mut words = l.split_whitespace();
            let registry = words.next().expect("registry").to_owned();
            let field = words.next().expect("field").to_owned();
            let count: u64 = words.next().expect("count").parse().expect("a number");
            // The raw value is the rest of the line, after the count's column.
            let raw = l[l.find(&format!(" {count}  ")).expect("count column") + 1..]
                .split_once("  ")
                .expect("raw value column")
                .1;
            ((registry, field, raw.to_owned()), count)
        })
        .collect()
}

/// A Verra project export of two projects whose words no mapping knows, so that the demo's
/// store surely holds gaps to list.
const UNKNOWN_WORDS: &str = "ID,Name,Proponent,Project Type,AFOLU Activities,Methodology,Status,Country/Area\n\
990001,Orbital Mirror Project,Example Proponent,Space-based solar reflection,,VM0001,Registered,Kenya\n\
990002,Kelp Raft Project,Example Proponent,Agriculture Forestry and Other Land Use,KELP,VM0033,Registered,Chile\n";

#[test]
fn vocab_unmapped_lists_exactly_the_raw_values_of_the_demo_no_mapping_covers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("demo.db");
    let db = db.to_str().expect("UTF-8 path");
    succeed(carbonmesh(dir.path()).args([
        "--database",
        db,
        "demo",
        "--no-serve",
        "--projects",
        "12",
        "--blocks",
        "20",
    ]));
    let file = dir.path().join("verra-projects.csv");
    std::fs::write(&file, UNKNOWN_WORDS).expect("write file");
    succeed(
        carbonmesh(dir.path())
            .args([
                "--database",
                db,
                "import",
                "--registry",
                "verra",
                "--kind",
                "projects",
            ])
            .arg(&file),
    );

    let found = exported_vocabulary(dir.path(), db);
    let expected = expected_unmapped(&found);
    let key = |r: &str, f: &str, v: &str| (r.to_owned(), f.to_owned(), v.to_owned());
    assert_eq!(
        expected.get(&key("verra", "sector", "Space-based solar reflection")),
        Some(&1)
    );
    assert_eq!(expected.get(&key("verra", "category", "KELP")), Some(&1));
    assert!(
        !expected.contains_key(&key(
            "verra",
            "sector",
            "Agriculture Forestry and Other Land Use"
        )),
        "a mapped value is not a gap"
    );
    assert!(found.len() > expected.len(), "most demo values are mapped");

    assert_eq!(unmapped_json(dir.path(), db), expected);
    assert_eq!(unmapped_table(dir.path(), db), expected);

    // The export carries the harmonized values beside the raw ones: a project whose words
    // all map shows a category, one whose words no row covers shows none.
    let csv_text =
        succeed(carbonmesh(dir.path()).args(["--database", db, "export", "--what", "projects"]));
    let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .expect("header")
        .iter()
        .map(String::from)
        .collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .unwrap_or_else(|| panic!("no column {name} in {header:?}"))
    };
    let (id, category, ty) = (
        col("project_id"),
        col("harmonized_category"),
        col("harmonized_type"),
    );
    let rows: BTreeMap<String, (String, String)> = reader
        .records()
        .map(|r| {
            let r = r.expect("row");
            (r[id].to_owned(), (r[category].to_owned(), r[ty].to_owned()))
        })
        .collect();
    assert_eq!(rows["verra:VCS990001"], (String::new(), String::new()));
    // The sector maps to a category; the unknown AFOLU activity adds no type.
    assert_eq!(
        rows["verra:VCS990002"],
        ("forestry-land-use".to_owned(), String::new())
    );
    assert!(
        rows.values()
            .any(|(c, t)| c == "chemical-processes" && t == "ozone-depleting-substances"),
        "the demo's ODS projects are typed: {rows:?}"
    );
}

/// Every registry sample that carries sectors, categories or project types maps in full.
#[test]
fn every_raw_category_of_the_real_registry_samples_is_mapped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("samples.db");
    let db = db.to_str().expect("UTF-8 path");
    for (registry, folder) in [
        ("verra", "verra"),
        ("gold-standard", "gold-standard"),
        ("acr", "american-carbon-registry"),
        ("car", "climate-action-reserve"),
        ("arb", "carb-arb"),
        ("art", "art-trees"),
        ("isometric", "isometric"),
        ("puro", "puro-earth"),
        ("cercarbono", "cercarbono"),
        ("biocarbon", "biocarbon"),
    ] {
        // A sample may hold a bad row on purpose; what is stored is what is checked.
        carbonmesh_e2e::run(
            carbonmesh(dir.path())
                .args(["--database", db, "import", "--registry", registry])
                .args(fixtures(folder)),
        );
    }
    let found = exported_vocabulary(dir.path(), db);
    let registries: BTreeSet<&str> = found.keys().map(|(r, _, _)| r.as_str()).collect();
    assert_eq!(
        registries.len(),
        10,
        "every registry's words: {registries:?}"
    );
    assert_eq!(expected_unmapped(&found), Vocabulary::new());
    assert_eq!(unmapped_json(dir.path(), db), Vocabulary::new());
}

async fn graphql(base: &str, token: &str, query: &str) -> Value {
    let body: Value = reqwest::Client::new()
        .post(format!("{base}/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON body");
    assert!(body.get("errors").is_none(), "{query}\n{body:#}");
    body["data"].clone()
}

/// The API serves each project's harmonized category and type, the one list, and the same
/// gaps as `vocab unmapped`, to an observer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_serves_harmonized_values_and_the_unmapped_vocabulary() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("api.db");
    let db = db.to_str().expect("UTF-8 path");
    let file = dir.path().join("verra-projects.csv");
    std::fs::write(&file, UNKNOWN_WORDS).expect("write file");
    succeed(
        carbonmesh(dir.path())
            .args(["--database", db, "import", "--registry", "verra"])
            .args(fixtures("verra"))
            .arg(&file),
    );
    let token = token_in(&succeed(carbonmesh(dir.path()).args([
        "--database",
        db,
        "keys",
        "create",
        "--name",
        "analyst",
        "--role",
        "observer",
    ])));
    let expected = unmapped_json(dir.path(), db);
    let server = Server::start(dir.path(), db).await.expect("serve");

    let data = graphql(
        &server.base_url,
        &token,
        "{ unmappedVocabulary { registry field rawValue projects } }",
    )
    .await;
    let served: Vocabulary = data["unmappedVocabulary"]
        .as_array()
        .expect("list")
        .iter()
        .map(|v| {
            let s = |k: &str| v[k].as_str().expect("string").to_owned();
            (
                (s("registry"), s("field"), s("rawValue")),
                v["projects"].as_u64().expect("count"),
            )
        })
        .collect();
    assert_eq!(served, expected);
    assert_eq!(served.len(), 2, "the two unknown words: {served:?}");

    let data = graphql(
        &server.base_url,
        &token,
        "{ projects(first: 100) { edges { node { id sector category \
         harmonizedCategory { id name } harmonizedType { id category } } } } \
         harmonizedCategories { id types { id } } }",
    )
    .await;
    let listed: BTreeSet<&str> = data["harmonizedCategories"]
        .as_array()
        .expect("categories")
        .iter()
        .map(|c| c["id"].as_str().expect("id"))
        .collect();
    assert!(listed.contains("forestry-land-use"), "{listed:?}");
    let nodes: BTreeMap<&str, &Value> = data["projects"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .map(|e| (e["node"]["id"].as_str().expect("id"), &e["node"]))
        .collect();
    assert!(nodes["verra:VCS990001"]["harmonizedCategory"].is_null());
    for node in nodes.values() {
        // An AFOLU project whose activity is REDD is typed REDD+, in its category.
        if node["category"] == "REDD" {
            assert_eq!(node["harmonizedType"]["id"], "redd-plus", "{node:#}");
            assert_eq!(node["harmonizedCategory"]["id"], "forestry-land-use");
        }
        if let Some(t) = node["harmonizedType"].as_object() {
            assert_eq!(t["category"], node["harmonizedCategory"]["id"], "{node:#}");
            assert!(listed.contains(t["category"].as_str().expect("category")));
        }
    }
    assert!(
        nodes.values().any(|n| n["category"] == "REDD"),
        "the Verra sample has REDD projects"
    );

    // Filtering by harmonized category or type returns exactly the projects that carry it.
    for (filter, path, id) in [
        (
            "harmonizedCategory",
            "harmonizedCategory",
            "forestry-land-use",
        ),
        ("harmonizedType", "harmonizedType", "redd-plus"),
        ("harmonizedCategory", "harmonizedCategory", "transportation"),
    ] {
        let mut expected: Vec<&str> = nodes
            .iter()
            .filter(|(_, n)| n[path]["id"] == id)
            .map(|(id, _)| *id)
            .collect();
        expected.sort_unstable();
        assert!(!expected.is_empty(), "{id}: the sample has some");
        let data = graphql(
            &server.base_url,
            &token,
            &format!(
                "{{ projects(first: 100, filter: {{{filter}: \"{id}\"}}) \
                 {{ totalCount edges {{ node {{ id }} }} }} }}"
            ),
        )
        .await;
        let mut got: Vec<&str> = data["projects"]["edges"]
            .as_array()
            .expect("edges")
            .iter()
            .map(|e| e["node"]["id"].as_str().expect("id"))
            .collect();
        got.sort_unstable();
        assert_eq!(got, expected, "{filter} {id}");
        assert_eq!(data["projects"]["totalCount"], expected.len());
    }
    let body: Value = reqwest::Client::new()
        .post(format!("{}/graphql", server.base_url))
        .bearer_auth(&token)
        .json(&json!({ "query": "{ projects(filter: {harmonizedCategory: \"oceans\"}) { totalCount } }" }))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("JSON body");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{body:#}"
    );
}
