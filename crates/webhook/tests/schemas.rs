//! The payload JSON Schemas in `schema/webhooks/` match the code, and each example in
//! `schema/examples/` is valid against its schema and accepted by the parser.

use std::path::PathBuf;

use carbonmesh_connector::Feed;
use carbonmesh_model::RegistryId;
use carbonmesh_webhook::Payload;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema")
}

#[test]
fn exported_webhook_schemas_match_the_code() {
    let dir = root().join("webhooks");
    let bless = std::env::var_os("CARBONMESH_BLESS").is_some();
    let mut drifted = Vec::new();
    for (file, generated) in carbonmesh_webhook::payload::json_schemas() {
        let path = dir.join(file);
        if bless {
            std::fs::create_dir_all(&dir).expect("create schema/webhooks");
            std::fs::write(&path, &generated).expect("write schema");
        } else if std::fs::read_to_string(&path).ok().as_deref() != Some(generated.as_str()) {
            drifted.push(file);
        }
    }
    assert!(
        drifted.is_empty(),
        "schema/webhooks drifted from the code for {drifted:?}; rerun with CARBONMESH_BLESS=1"
    );
}

#[test]
fn every_example_is_valid() {
    for (example, schema) in [
        ("change-hint.json", "change-hint.schema.json"),
        ("registry-format.json", "registry-format.schema.json"),
        ("common-format.json", "common-format.schema.json"),
    ] {
        let read = |path: PathBuf| -> serde_json::Value {
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        };
        let schema = read(root().join("webhooks").join(schema));
        let instance = read(root().join("examples").join(example));
        let validator = jsonschema::validator_for(&schema).expect("a valid JSON Schema");
        let errors: Vec<String> = validator
            .iter_errors(&instance)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{example}: {errors:?}");
        let body = serde_json::to_vec(&instance).expect("json");
        Payload::parse(
            &body,
            RegistryId::VERRA,
            &[Feed::Projects, Feed::Transactions],
        )
        .unwrap_or_else(|e| panic!("{example}: {e}"));
    }
    // The schemas refuse what the parser refuses.
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("webhooks/change-hint.schema.json")).expect("read"),
    )
    .expect("json");
    let validator = jsonschema::validator_for(&schema).expect("schema");
    assert!(!validator.is_valid(&serde_json::json!({"type": "common_format", "data": {}})));
}
