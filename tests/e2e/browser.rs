//! Pages in a real headless Chromium (installed by `scripts/with-chromium.sh`): what a user
//! opening them sees once their scripts ran.

use carbonmesh_e2e::{Server, rendered_dom};

/// GraphiQL renders from the files built into the binary alone: the page's policy lets the
/// browser load nothing from elsewhere, so a rendered editor proves it works offline.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_renders_offline() {
    let dir = tempfile::tempdir().expect("dir");
    let database = dir.path().join("carbonmesh.db");
    let server = Server::start(dir.path(), &database.display().to_string())
        .await
        .expect("serve");
    let dom = rendered_dom(&format!("{}/graphiql", server.base_url))
        .await
        .expect("Chromium");
    assert!(dom.contains(r#"class="graphiql-container""#), "{dom}");
    assert!(
        dom.contains(r#"aria-label="Show Documentation Explorer""#),
        "{dom}"
    );
    assert!(!dom.contains("Loading…"), "GraphiQL never started: {dom}");
}
