//! `schema/carbonmesh.graphql` is the API's SDL as the code defines it. When the schema
//! changes on purpose, regenerate it with
//! `CARBONMESH_BLESS=1 cargo test -p carbonmesh-api --test sdl_drift`.

use std::path::Path;

#[test]
fn the_exported_sdl_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schema/carbonmesh.graphql");
    let sdl = carbonmesh_api::sdl();
    if std::env::var_os("CARBONMESH_BLESS").is_some() {
        std::fs::write(&path, &sdl).expect("write schema/carbonmesh.graphql");
    }
    let stored = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        stored == sdl,
        "schema/carbonmesh.graphql drifted from the code; rerun with CARBONMESH_BLESS=1"
    );
    // The SDL is the contract clients build on: the roots and the review workflow are there.
    for needle in [
        "type Query",
        "type Mutation",
        "type Subscription",
        "serialLookup(",
        "dismissAlert(id: String!, reason: String!, note: String!): ReviewResult!",
        "alertRaised: Alert!",
    ] {
        assert!(sdl.contains(needle), "SDL lacks `{needle}`");
    }
}
