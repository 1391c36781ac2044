//! `docs/data-model.md` must match the code: the JSON Schemas and the source-field table.
//! Regenerate it with `CARBONMESH_BLESS=1 cargo test -p carbonmesh-model --test data_model_doc`.
//!
//! Every source field the table names is checked against the real registry samples in
//! `../shared/fixtures/registries/`: a field marked as in the samples must be a CSV header or a
//! JSON key (or dotted key path) of one of its registry's sample files, and one marked as not
//! in them must not be.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

#[test]
fn the_data_model_reference_matches_the_code() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/data-model.md");
    let generated =
        carbonmesh_model::reference::data_model_markdown().unwrap_or_else(|e| panic!("{e}"));
    if std::env::var_os("CARBONMESH_BLESS").is_some() {
        std::fs::write(&path, &generated).expect("write docs/data-model.md");
        return;
    }
    let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        on_disk == generated,
        "docs/data-model.md drifted from the code; rerun with CARBONMESH_BLESS=1"
    );
}

/// Header and key comparison ignores case and runs of white space, as the connectors do.
fn norm(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// Every key of a JSON document, alone and as a dotted path from where an object starts.
fn keys(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(norm(k));
                out.insert(norm(&path));
                keys(v, &path, out);
                keys(v, "", out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| keys(v, prefix, out)),
        _ => {}
    }
}

/// The headers and keys of every sample file of a registry folder.
fn sample_names(folder: &Path) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let entries = std::fs::read_dir(folder)
        .unwrap_or_else(|e| panic!("registry samples missing at {}: {e}", folder.display()));
    for entry in entries {
        let file = entry.expect("sample entry").path();
        let text = std::fs::read_to_string(&file).expect("UTF-8 sample");
        match file.extension().and_then(|e| e.to_str()) {
            Some("csv") => {
                let mut reader = csv::Reader::from_reader(text.as_bytes());
                names.extend(reader.headers().expect("CSV header").iter().map(norm));
            }
            Some("json") => {
                let value: Value = serde_json::from_str(&text).expect("JSON sample");
                keys(&value, "", &mut names);
            }
            _ => {}
        }
    }
    names
}

#[test]
fn every_source_field_is_checked_against_the_real_registry_samples() {
    let root =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/registries");
    // Registry id -> its samples' folder; registries without samples (cadt, cdm) are not named.
    let folders: BTreeMap<&str, &str> = [
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
        ("toucan", "toucan"),
    ]
    .into_iter()
    .collect();
    let mut names: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let mut checked = 0;
    for s in carbonmesh_model::reference::source_fields().expect("source-fields.csv") {
        let Some(folder) = folders.get(s.registry.as_str()) else {
            continue;
        };
        let known = names
            .entry(folder)
            .or_insert_with(|| sample_names(&root.join(folder)));
        let found = known.contains(&norm(&s.source));
        match s.in_samples.as_str() {
            "yes" => assert!(found, "{s:?}: not a header or key of {folder}/*"),
            "no" => assert!(!found, "{s:?}: the samples show it; mark it in_samples=yes"),
            other => panic!("{s:?}: in_samples is `{other}`, not yes or no"),
        }
        checked += 1;
    }
    assert!(checked > 100, "{checked} source fields checked");
}
