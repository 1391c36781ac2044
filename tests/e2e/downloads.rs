//! Bulk downloads: `serve` publishes Parquet and CSV snapshots with a manifest at
//! `/downloads/…`, to the keys that may read the API, answers conditional requests with 304,
//! and writes a new snapshot once a run completes.

use std::path::Path;
use std::time::{Duration, Instant};

use carbonmesh_e2e::{Server, carbonmesh, fixtures, postgres_database, succeed, token_in};
use parquet::file::reader::{FileReader, SerializedFileReader};
use sha2::{Digest, Sha256};

/// Imports the registry samples in `folder` as `registry` into the configured database.
fn import(dir: &Path, registry: &str, folder: &str) {
    succeed(
        carbonmesh(dir)
            .args([
                "--config",
                "carbonmesh.toml",
                "import",
                "--registry",
                registry,
            ])
            .args(fixtures(folder)),
    );
}

/// GET `path` with the observer's key and extra `headers`.
async fn get(
    server: &Server,
    token: &str,
    path: &str,
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut request = reqwest::Client::new()
        .get(format!("{}{path}", server.base_url))
        .bearer_auth(token);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    request.send().await.expect("GET")
}

/// The manifest once one is published whose `generated_at` differs from `after` (60 s at
/// most).
async fn manifest_after(server: &Server, token: &str, after: Option<&str>) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let response = get(server, token, "/downloads/manifest.json", &[]).await;
        if response.status().as_u16() == 200 {
            let manifest: serde_json::Value = response.json().await.expect("JSON");
            if manifest["generated_at"].as_str() != after {
                return manifest;
            }
        } else {
            assert_eq!(response.status().as_u16(), 503, "before the first snapshot");
        }
        assert!(Instant::now() < deadline, "no new manifest within 60 s");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// The manifest's entry for `name`.
fn entry<'a>(manifest: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    manifest["files"]
        .as_array()
        .and_then(|files| files.iter().find(|f| f["name"] == name))
        .unwrap_or_else(|| panic!("no {name} in {manifest}"))
}

/// Downloads `name`, checking it against its manifest entry: status, ETag, size and
/// sha256. Returns the body and the `Last-Modified` header.
async fn download_checked(
    server: &Server,
    token: &str,
    manifest: &serde_json::Value,
    name: &str,
) -> (Vec<u8>, String) {
    let listed = entry(manifest, name);
    let response = get(server, token, &format!("/downloads/{name}"), &[]).await;
    assert_eq!(response.status().as_u16(), 200, "{name}");
    let header = |h: &str| {
        response
            .headers()
            .get(h)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .unwrap_or_else(|| panic!("{name} has no {h}"))
    };
    let sha256 = listed["sha256"].as_str().expect("sha256");
    assert_eq!(header("etag"), format!("\"{sha256}\""));
    let last_modified = header("last-modified");
    let body = response.bytes().await.expect("body").to_vec();
    assert_eq!(body.len() as u64, listed["bytes"].as_u64().expect("bytes"));
    assert_eq!(hex::encode(Sha256::digest(&body)), sha256, "{name}");
    (body, last_modified)
}

/// Rows of a Parquet file (saved in `dir`), as its footer counts them and as read one by
/// one, and its `generated_at`.
fn parquet_rows(dir: &Path, bytes: Vec<u8>) -> (u64, u64, String) {
    let file = dir.join("downloaded.parquet");
    std::fs::write(&file, bytes).expect("save");
    let reader = SerializedFileReader::new(std::fs::File::open(&file).expect("open"))
        .expect("a Parquet file");
    let footer = reader.metadata().file_metadata().num_rows() as u64;
    let read = reader.get_row_iter(None).expect("rows").count() as u64;
    let generated_at = reader
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|kv| kv.key == "generated_at"))
        .and_then(|kv| kv.value.clone())
        .expect("generated_at");
    (footer, read, generated_at)
}

#[tokio::test]
async fn serve_publishes_snapshots_and_refreshes_them_after_a_run_on_sqlite() {
    snapshots_are_published_and_refreshed("observers.db").await;
}

#[tokio::test]
async fn serve_publishes_snapshots_and_refreshes_them_after_a_run_on_postgres() {
    snapshots_are_published_and_refreshed(&postgres_database("downloads")).await;
}

async fn snapshots_are_published_and_refreshed(database: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let snapshots = dir.path().join("published");
    std::fs::write(
        dir.path().join("carbonmesh.toml"),
        format!(
            "[database]\nurl = \"{database}\"\n\n[api]\nanonymous_read = false\n\n\
             [downloads]\ndir = \"{}\"\ncheck_seconds = 1\n",
            snapshots.display()
        ),
    )
    .expect("write config");
    import(dir.path(), "verra", "verra");
    let token = token_in(&succeed(carbonmesh(dir.path()).args([
        "--config",
        "carbonmesh.toml",
        "keys",
        "create",
        "--name",
        "olga",
        "--role",
        "observer",
    ])));
    let server = Server::start_with_config(dir.path(), &dir.path().join("carbonmesh.toml"))
        .await
        .expect("serve");

    // Observers only, as the API: no key, no file.
    let anonymous = reqwest::Client::new()
        .get(format!("{}/downloads/manifest.json", server.base_url))
        .send()
        .await
        .expect("GET");
    assert_eq!(anonymous.status().as_u16(), 401);
    let unknown = get(&server, "cm_not-a-key", "/downloads/credits.csv", &[]).await;
    assert_eq!(unknown.status().as_u16(), 401);

    let manifest = manifest_after(&server, &token, None).await;
    let generated_at = manifest["generated_at"].as_str().expect("generated_at");
    assert!(
        manifest["registries"]["verra"]["last_successful_run"].is_string(),
        "{manifest}"
    );
    for name in [
        "projects.parquet",
        "projects.csv",
        "credits.parquet",
        "credits.csv",
        "runs.parquet",
        "runs.csv",
    ] {
        let listed = entry(&manifest, name);
        assert_eq!(listed["url"], format!("/downloads/{name}"));
    }
    let missing = get(&server, &token, "/downloads/alerts.csv", &[]).await;
    assert_eq!(missing.status().as_u16(), 404);

    // The files, checked against the manifest.
    let credits = entry(&manifest, "credits.parquet")["rows"]
        .as_u64()
        .expect("rows");
    let (parquet, last_modified) =
        download_checked(&server, &token, &manifest, "credits.parquet").await;
    let (footer, read, stamped) = parquet_rows(dir.path(), parquet);
    assert_eq!((footer, read), (credits, credits));
    assert_eq!(stamped, generated_at);
    let verra_rows = u64::try_from(
        fixtures("verra")
            .iter()
            .filter(|f| f.ends_with("offsets-db-data_transactions.csv"))
            .map(|f| std::fs::read_to_string(f).expect("read").lines().count() - 1)
            .sum::<usize>(),
    )
    .expect("rows");
    assert_eq!(
        credits, verra_rows,
        "one credit record per row of the VCU export"
    );
    let (csv, _) = download_checked(&server, &token, &manifest, "credits.csv").await;
    let csv_rows = csv::Reader::from_reader(csv.as_slice()).records().count() as u64;
    assert_eq!(csv_rows, credits);
    assert_eq!(entry(&manifest, "credits.csv")["rows"], credits);
    // The files on disk are the ones served, and no temporary file is left.
    let on_disk = std::fs::read(snapshots.join("credits.csv")).expect("on disk");
    assert_eq!(on_disk, csv);
    let names: Vec<String> = std::fs::read_dir(&snapshots)
        .expect("folder")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.iter().all(|n| !n.ends_with(".tmp")), "{names:?}");
    assert!(names.contains(&"manifest.json".to_owned()), "{names:?}");

    // Conditional requests: the ETag or the last modification answer 304, with no body.
    let etag = format!(
        "\"{}\"",
        entry(&manifest, "credits.parquet")["sha256"]
            .as_str()
            .expect("sha")
    );
    let same = get(
        &server,
        &token,
        "/downloads/credits.parquet",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(same.status().as_u16(), 304);
    assert_eq!(
        same.headers().get("etag").and_then(|v| v.to_str().ok()),
        Some(etag.as_str())
    );
    assert!(same.bytes().await.expect("body").is_empty());
    let since = get(
        &server,
        &token,
        "/downloads/credits.parquet",
        &[("if-modified-since", &last_modified)],
    )
    .await;
    assert_eq!(since.status().as_u16(), 304);
    let other = get(
        &server,
        &token,
        "/downloads/credits.parquet",
        &[("if-none-match", "\"0000\"")],
    )
    .await;
    assert_eq!(other.status().as_u16(), 200);

    // Nothing changed: the snapshot stays as it is.
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let again = get(&server, &token, "/downloads/manifest.json", &[]).await;
    let again: serde_json::Value = again.json().await.expect("JSON");
    assert_eq!(again["generated_at"], manifest["generated_at"]);

    // A run completes (an import of another registry, by another process): a new snapshot,
    // whose manifest names the new registry and counts its records.
    import(dir.path(), "gold-standard", "gold-standard");
    let newer = manifest_after(&server, &token, Some(generated_at)).await;
    assert!(
        newer["registries"]["gold-standard"]["last_successful_run"].is_string(),
        "{newer}"
    );
    let more = entry(&newer, "credits.parquet")["rows"]
        .as_u64()
        .expect("rows");
    assert!(
        more > credits,
        "{more} credit records after, {credits} before"
    );
    assert_ne!(
        entry(&newer, "credits.parquet")["sha256"],
        entry(&manifest, "credits.parquet")["sha256"]
    );
    // The old ETag no longer matches: the new file comes whole.
    let changed = get(
        &server,
        &token,
        "/downloads/credits.parquet",
        &[("if-none-match", &etag)],
    )
    .await;
    assert_eq!(changed.status().as_u16(), 200);
    let (parquet, _) = download_checked(&server, &token, &newer, "credits.parquet").await;
    let (footer, _, _) = parquet_rows(dir.path(), parquet);
    assert_eq!(footer, more);
}
