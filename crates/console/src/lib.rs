//! The review console at `/console`: a queue of alerts, each alert with its evidence, the
//! serial ranges drawn on one axis and its review history, and the registries' freshness.
//!
//! It is a client of the public GraphQL API and nothing else: the page signs in with an API
//! key (kept in the tab's session storage, sent in the `Authorization` header and the
//! websocket's `connection_init`, never in a URL), and can do exactly what that key can do.
//! Its files are plain HTML, CSS and JavaScript modules built into the binary: no build
//! step, nothing loaded from elsewhere, and registry text is only ever set as text.
#![deny(missing_docs)]

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;

pub mod graphiql;

/// One file built into the binary, served under its name.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

/// An [`Asset`] of `assets/` (a file, or `folder/file` served as `file`).
macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        asset!("", $name, $content_type)
    };
    ($folder:literal, $name:literal, $content_type:literal) => {
        $crate::Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../assets/", $folder, $name)),
        }
    };
}
pub(crate) use asset;

/// The answer to `GET …/assets/{name}` from `assets`, with `policy` as its content security
/// policy and `cache` as its `Cache-Control`.
fn serve_asset(
    assets: &[Asset],
    name: &str,
    policy: &'static str,
    cache: &'static str,
) -> Response {
    let Some(asset) = assets.iter().find(|a| a.name == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    secured(
        ([(header::CONTENT_TYPE, asset.content_type)], asset.bytes).into_response(),
        policy,
        cache,
    )
}

/// Small files, always revalidated: a new binary serves new files at once.
const REVALIDATE: &str = "no-cache";

/// Every file the page loads.
const ASSETS: [Asset; 8] = [
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("main.js", "text/javascript; charset=utf-8"),
    asset!("api.js", "text/javascript; charset=utf-8"),
    asset!("dom.js", "text/javascript; charset=utf-8"),
    asset!("queue.js", "text/javascript; charset=utf-8"),
    asset!("alert.js", "text/javascript; charset=utf-8"),
    asset!("registries.js", "text/javascript; charset=utf-8"),
    asset!("format.js", "text/javascript; charset=utf-8"),
];

/// The page itself.
const INDEX: &str = include_str!("../assets/index.html");

/// Scripts, styles and connections from this server only; no inline script or style, so
/// text a registry published can never run as code even if it reached markup.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self' ws: wss:; frame-ancestors 'none'; \
     base-uri 'none'; form-action 'none'; object-src 'none'";

/// The console's routes: `/console` and its files under `/console/assets/`; `/` leads to it.
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/console") }))
        .route("/console", get(page))
        .route("/console/assets/{name}", get(console_asset))
}

/// Total size of the console's files, in bytes.
pub fn assets_size() -> usize {
    INDEX.len() + ASSETS.iter().map(|a| a.bytes.len()).sum::<usize>()
}

fn secured(mut response: Response, policy: &'static str, cache: &'static str) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// `GET /console`
async fn page() -> Response {
    secured(
        axum::response::Html(INDEX).into_response(),
        CONTENT_SECURITY_POLICY,
        REVALIDATE,
    )
}

/// `GET /console/assets/{name}`
async fn console_asset(Path(name): Path<String>) -> Response {
    serve_asset(&ASSETS, &name, CONTENT_SECURITY_POLICY, REVALIDATE)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The page and every module it imports are served from here.
    #[test]
    fn every_file_the_page_loads_is_built_in() {
        let mut wanted: Vec<String> = Vec::new();
        for text in std::iter::once(INDEX).chain(
            ASSETS
                .iter()
                .filter(|a| a.name.ends_with(".js"))
                .filter_map(|a| std::str::from_utf8(a.bytes).ok()),
        ) {
            for part in text.split(['"', '\'']) {
                if let Some(name) = part.strip_prefix("/console/assets/") {
                    wanted.push(name.split('?').next().unwrap_or(name).to_owned());
                } else if let Some(name) = part.strip_prefix("./").filter(|n| n.ends_with(".js")) {
                    wanted.push(name.to_owned());
                }
            }
        }
        assert!(wanted.len() >= ASSETS.len(), "{wanted:?}");
        for name in wanted {
            assert!(
                ASSETS.iter().any(|a| a.name == name),
                "{name} is not built in"
            );
        }
    }

    /// No file sets markup from strings: registry text reaches the page as text only.
    #[test]
    fn no_script_sets_markup() {
        for a in ASSETS.iter().filter(|a| a.name.ends_with(".js")) {
            let text = std::str::from_utf8(a.bytes).unwrap_or_default();
            for sink in [
                "innerHTML",
                "outerHTML",
                "insertAdjacentHTML",
                "document.write",
            ] {
                assert!(!text.contains(sink), "{} uses {sink}", a.name);
            }
        }
    }
}
