//! `GET /downloads/{file}`: the published snapshot's files and `manifest.json`, to the
//! callers that may read the API, with `ETag` (the quoted sha256) and `Last-Modified` (when
//! the snapshot was generated) so that a client downloads a file again only when it changed.

use std::sync::Arc;
use std::time::SystemTime;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use carbonmesh_api::keys::KeyUses;
use carbonmesh_store::Store;
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

use super::{MANIFEST, Snapshots};
use crate::downloads::reader;

#[derive(Clone)]
struct Downloads {
    snapshots: Arc<Snapshots>,
    store: Arc<dyn Store>,
    uses: Arc<KeyUses>,
    anonymous_read: bool,
}

/// The routes over `snapshots`; `anonymous_read` as the API's `[api]` setting.
pub fn routes(
    snapshots: Arc<Snapshots>,
    store: Arc<dyn Store>,
    anonymous_read: bool,
) -> axum::Router {
    axum::Router::new()
        .route("/downloads/{file}", get(download))
        .with_state(Downloads {
            snapshots,
            store,
            uses: Arc::default(),
            anonymous_read,
        })
}

/// Bytes read from a file per chunk of the response body.
const CHUNK: usize = 256 * 1024;

fn answer(status: StatusCode, message: &str) -> Response {
    (status, format!("{message}\n")).into_response()
}

/// Whether the request's validators say the client holds this version: `If-None-Match`
/// naming the ETag (or `*`), else, without `If-None-Match`, `If-Modified-Since` at or after
/// the last modification (RFC 9110, 13.2.2).
fn not_modified(headers: &HeaderMap, etag: &str, modified: DateTime<Utc>) -> bool {
    if let Some(tags) = headers.get(header::IF_NONE_MATCH) {
        let Ok(tags) = tags.to_str() else {
            return false;
        };
        return tags.split(',').map(str::trim).any(|tag| {
            let tag = tag.strip_prefix("W/").unwrap_or(tag);
            tag == "*" || tag == etag
        });
    }
    headers
        .get(header::IF_MODIFIED_SINCE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| httpdate::parse_http_date(v).ok())
        .and_then(|since| since.duration_since(SystemTime::UNIX_EPOCH).ok())
        .is_some_and(|since| modified.timestamp() <= since.as_secs() as i64)
}

/// The validators and caching headers of one version of a file.
fn validators(etag: &str, modified: DateTime<Utc>) -> [(header::HeaderName, String); 3] {
    [
        (header::ETAG, etag.to_owned()),
        (
            header::LAST_MODIFIED,
            httpdate::fmt_http_date(SystemTime::from(modified)),
        ),
        // Stored by caches, but checked with the server before each use.
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ]
}

fn with_headers(mut response: Response, headers: &[(header::HeaderName, String)]) -> Response {
    for (name, value) in headers {
        if let Ok(value) = HeaderValue::from_str(value) {
            response.headers_mut().insert(name.clone(), value);
        }
    }
    response
}

fn content_type(name: &str) -> &'static str {
    if name.ends_with(".parquet") {
        "application/vnd.apache.parquet"
    } else if name.ends_with(".csv") {
        "text/csv; charset=utf-8"
    } else {
        "application/json"
    }
}

/// `GET /downloads/{file}`
async fn download(
    State(d): State<Downloads>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = reader(d.store.as_ref(), &d.uses, &headers, d.anonymous_read).await {
        return refused;
    }
    let current = d.snapshots.current().await;
    let Some(published) = current.as_ref() else {
        let mut response = answer(
            StatusCode::SERVICE_UNAVAILABLE,
            "the first snapshot is being written",
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
        return response;
    };
    let modified = published.manifest.generated_at;
    if name == MANIFEST {
        let etag = format!(
            "\"{}\"",
            hex::encode(Sha256::digest(&published.manifest_json))
        );
        let headers_out = validators(&etag, modified);
        if not_modified(&headers, &etag, modified) {
            return with_headers(StatusCode::NOT_MODIFIED.into_response(), &headers_out);
        }
        let body = published.manifest_json.clone();
        let response = ([(header::CONTENT_TYPE, content_type(MANIFEST))], body).into_response();
        return with_headers(response, &headers_out);
    }
    let Some(entry) = published.manifest.files.iter().find(|f| f.name == name) else {
        return answer(
            StatusCode::NOT_FOUND,
            "no such file: see /downloads/manifest.json",
        );
    };
    let etag = format!("\"{}\"", entry.sha256);
    let headers_out = validators(&etag, modified);
    if not_modified(&headers, &etag, modified) {
        return with_headers(StatusCode::NOT_MODIFIED.into_response(), &headers_out);
    }
    // Opened while the snapshot is held: the file read is the one the ETag names, even if
    // a newer one is renamed into place while it is sent.
    let path = d.snapshots.dir().join(&entry.name);
    let file = match tokio::fs::File::open(&path).await {
        Ok(file) => file,
        Err(error) => {
            tracing::error!(%error, path = %path.display(), "cannot open a download");
            return answer(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let length = entry.bytes;
    drop(current);
    let body = Body::from_stream(futures::stream::unfold(file, |mut file| async move {
        let mut chunk = vec![0; CHUNK];
        match file.read(&mut chunk).await {
            Ok(0) => None,
            Ok(n) => {
                chunk.truncate(n);
                Some((Ok::<_, std::io::Error>(Bytes::from(chunk)), file))
            }
            Err(error) => Some((Err(error), file)),
        }
    }));
    let mut response = ([(header::CONTENT_TYPE, content_type(&name))], body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, value);
    }
    with_headers(response, &headers_out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).expect("header"));
        }
        map
    }

    fn at(text: &str) -> DateTime<Utc> {
        text.parse().expect("instant")
    }

    const ETAG: &str = "\"abc\"";

    #[test]
    fn if_none_match_names_the_etag_in_a_list_weak_or_as_a_star() {
        let modified = at("2026-12-07T22:04:53Z");
        for value in ["\"abc\"", "\"x\", \"abc\"", "W/\"abc\"", "*"] {
            let h = headers(&[(header::IF_NONE_MATCH, value)]);
            assert!(not_modified(&h, ETAG, modified), "{value}");
        }
        let other = headers(&[(header::IF_NONE_MATCH, "\"abd\"")]);
        assert!(!not_modified(&other, ETAG, modified));
        assert!(!not_modified(&HeaderMap::new(), ETAG, modified));
    }

    #[test]
    fn if_modified_since_counts_whole_seconds_and_yields_to_if_none_match() {
        let modified = at("2026-12-07T22:04:53Z");
        let same = "Mon, 07 Dec 2026 22:04:53 GMT";
        let before = "Mon, 07 Dec 2026 22:04:52 GMT";
        assert!(not_modified(
            &headers(&[(header::IF_MODIFIED_SINCE, same)]),
            ETAG,
            modified
        ));
        assert!(!not_modified(
            &headers(&[(header::IF_MODIFIED_SINCE, before)]),
            ETAG,
            modified
        ));
        assert!(!not_modified(
            &headers(&[(header::IF_MODIFIED_SINCE, "yesterday")]),
            ETAG,
            modified
        ));
        // A changed ETag wins over a date the file is not newer than.
        let both = headers(&[
            (header::IF_NONE_MATCH, "\"old\""),
            (header::IF_MODIFIED_SINCE, same),
        ]);
        assert!(!not_modified(&both, ETAG, modified));
    }

    #[test]
    fn last_modified_is_an_http_date() {
        let [_, (name, value), _] = validators(ETAG, at("2026-12-07T22:04:53Z"));
        assert_eq!(name, header::LAST_MODIFIED);
        assert_eq!(value, "Mon, 07 Dec 2026 22:04:53 GMT");
    }
}
