//! The JSON Schemas in `schema/model/` must match the code. Regenerate them with
//! `CARBONMESH_BLESS=1 cargo test -p carbonmesh-model --test schema_drift`.

use std::path::PathBuf;

#[test]
fn exported_json_schemas_match_the_code() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../schema/model");
    let bless = std::env::var_os("CARBONMESH_BLESS").is_some();
    let mut drifted = Vec::new();
    for (file, generated) in carbonmesh_model::schema::json_schemas() {
        let path = dir.join(file);
        if bless {
            std::fs::create_dir_all(&dir).expect("create schema/model");
            std::fs::write(&path, &generated).expect("write schema");
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        if on_disk != generated {
            drifted.push(file);
        }
    }
    assert!(
        drifted.is_empty(),
        "schema/model drifted from the code for {drifted:?}; rerun with CARBONMESH_BLESS=1"
    );
}
