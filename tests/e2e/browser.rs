//! Pages in a real headless Chromium (installed by `scripts/with-chromium.sh`): what a user
//! opening them sees once their scripts ran.

use carbonmesh_e2e::{Browser, Server, rendered_dom};

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

/// Two people at once, each in a Chromium of their own driven over WebDriver: one types a query
/// into GraphiQL and runs it, and the other's browser, with a profile of its own, never sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn graphiql_runs_a_typed_query() {
    let dir = tempfile::tempdir().expect("dir");
    let database = dir.path().join("carbonmesh.db");
    let server = Server::start(dir.path(), &database.display().to_string())
        .await
        .expect("serve");
    let graphiql = format!("{}/graphiql", server.base_url);
    let (alice, bob) = tokio::try_join!(Browser::start(), Browser::start()).expect("browsers");
    for browser in [&alice, &bob] {
        browser.goto(&graphiql).await.expect("open GraphiQL");
        let container = browser
            .wait_for(".graphiql-container")
            .await
            .expect("GraphiQL");
        assert!(container.is_displayed().await.expect("displayed"));
    }
    assert!(
        alice
            .exists(r#"[aria-label="Show Documentation Explorer"]"#)
            .await
            .expect("look")
    );

    // CodeMirror takes keys from a hidden textarea: empty the editor, click into it, type.
    alice
        .execute(
            "document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.setValue('')",
            vec![],
        )
        .await
        .expect("empty the editor");
    alice
        .click(".graphiql-query-editor .CodeMirror")
        .await
        .expect("focus the editor");
    let editor = alice.client.active_element().await.expect("focused");
    editor.send_keys("{ __typename").await.expect("type");
    alice.click(".graphiql-execute-button").await.expect("run");
    let result = alice
        .wait_for_text(".result-window", "__typename")
        .await
        .expect("result");
    assert!(result.contains(r#""__typename": "Query""#), "{result}");

    // GraphiQL keeps the query in the browser's storage, which Bob's profile does not share.
    let stored = "return localStorage.getItem('graphiql:query')";
    // (GraphiQL saves a moment after the last key.)
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let alices = alice.execute(stored, vec![]).await.expect("Alice's");
        if alices.as_str().is_some_and(|q| q.contains("__typename")) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{alices}");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let bobs = bob.execute(stored, vec![]).await.expect("Bob's");
    assert!(!bobs.to_string().contains("__typename"), "{bobs}");

    // GraphiQL's schema query passes the API's limits: the documentation lists the roots.
    alice
        .click(r#"[aria-label="Show Documentation Explorer"]"#)
        .await
        .expect("open the documentation");
    let docs = alice
        .wait_for_text(".graphiql-doc-explorer", "Query")
        .await
        .expect("documentation");
    assert!(docs.contains("query"), "{docs}");
    assert!(!docs.contains("too deep"), "{docs}");

    let png = dir.path().join("graphiql.png");
    alice.screenshot(&png).await.expect("screenshot");
    assert!(std::fs::read(&png).expect("read").starts_with(b"\x89PNG"));
    tokio::try_join!(alice.close(), bob.close()).expect("close");
}
