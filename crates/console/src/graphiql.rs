//! GraphiQL at `/graphiql`, served from files built into the binary (see
//! `assets/graphiql/README.md`): it works without the internet, and the page loads scripts
//! from this server only.

use axum::Router;
use axum::extract::Path;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::{Asset, REVALIDATE, asset, secured, serve_asset};

/// The vendored GraphiQL release.
pub const GRAPHIQL_VERSION: &str = "4.0.3";

const ASSETS: [Asset; 5] = [
    asset!(
        "graphiql/",
        "graphiql.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("graphiql/", "graphiql.min.css", "text/css; charset=utf-8"),
    asset!(
        "graphiql/",
        "react.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!(
        "graphiql/",
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("graphiql/", "start.js", "text/javascript; charset=utf-8"),
];

/// Scripts, styles and connections from this server only; GraphiQL sets inline styles.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; \
     connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/// The page. Asset URLs carry the versions, so browsers may keep them for good.
fn page() -> String {
    let v = format!("{GRAPHIQL_VERSION}-{}", env!("CARGO_PKG_VERSION"));
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>carbonmesh · GraphiQL</title>
    <link rel="stylesheet" href="/graphiql/assets/graphiql.min.css?v={v}">
    <script src="/graphiql/assets/react.production.min.js?v={v}"></script>
    <script src="/graphiql/assets/react-dom.production.min.js?v={v}"></script>
  </head>
  <body style="margin: 0; height: 100vh; overflow: hidden">
    <div id="graphiql" style="height: 100vh">Loading…</div>
    <script src="/graphiql/assets/graphiql.min.js?v={v}"></script>
    <script src="/graphiql/assets/start.js?v={v}"></script>
  </body>
</html>
"#
    )
}

/// GraphiQL's routes: `/graphiql` and its files under `/graphiql/assets/`.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/graphiql", get(graphiql_page))
        .route("/graphiql/assets/{name}", get(graphiql_asset))
}

/// `GET /graphiql`
async fn graphiql_page() -> Response {
    secured(
        axum::response::Html(page()).into_response(),
        CONTENT_SECURITY_POLICY,
        REVALIDATE,
    )
}

/// `GET /graphiql/assets/{name}`. The page's URLs carry the versions, so browsers may keep
/// the files for good.
async fn graphiql_asset(Path(name): Path<String>) -> Response {
    serve_asset(
        &ASSETS,
        &name,
        CONTENT_SECURITY_POLICY,
        "public, max-age=31536000, immutable",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_every_file_from_this_server() {
        let page = page();
        let sources: Vec<&str> = page
            .split(['"', '\''])
            .filter(|s| s.starts_with('/') || s.contains("://"))
            .collect();
        assert_eq!(sources.len(), 5, "{sources:?}");
        for source in sources {
            let name = source
                .strip_prefix("/graphiql/assets/")
                .and_then(|s| s.split('?').next())
                .unwrap_or_else(|| panic!("{source} is not served here"));
            assert!(ASSETS.iter().any(|a| a.name == name), "{name} not built in");
        }
        assert!(ASSETS.iter().all(|a| !a.bytes.is_empty()));
    }
}
