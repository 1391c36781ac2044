//! GraphiQL at `/graphiql`, served from files built into the binary (see
//! `assets/graphiql/README.md`): it works without the internet, and the page loads scripts
//! from this server only.

use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// The vendored GraphiQL release.
pub const GRAPHIQL_VERSION: &str = "4.0.3";

/// One file of the page.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../assets/graphiql/", $name)),
        }
    };
}

const ASSETS: [Asset; 5] = [
    asset!("graphiql.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.min.css", "text/css; charset=utf-8"),
    asset!("react.production.min.js", "text/javascript; charset=utf-8"),
    asset!(
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("start.js", "text/javascript; charset=utf-8"),
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

/// `GET /graphiql`
pub(crate) async fn graphiql_page() -> Response {
    let mut response = axum::response::Html(page()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

/// `GET /graphiql/assets/{name}`
pub(crate) async fn graphiql_asset(Path(name): Path<String>) -> Response {
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ],
        asset.bytes,
    )
        .into_response()
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
