//! `carbonmesh keys`: an API key's token is printed once and never stored; keys are listed
//! without their tokens and revoked once.

use std::path::Path;
use std::process::Output;

use carbonmesh_e2e::{carbonmesh, run};
use carbonmesh_store::DatabaseUrl;

fn keys(dir: &Path, db: &Path, args: &[&str]) -> Output {
    run(carbonmesh(dir)
        .arg("--database")
        .arg(db)
        .arg("keys")
        .args(args))
}

/// A new database in `dir`: only the commands that write create one.
fn migrated(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("carbonmesh.db");
    let out = run(carbonmesh(dir).arg("--database").arg(&db).arg("migrate"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    db
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn succeed(output: Output) -> String {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout(&output)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_are_created_listed_and_revoked_and_only_their_hash_is_stored() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = migrated(dir.path());

    let created = succeed(keys(
        dir.path(),
        &db,
        &[
            "create",
            "--name",
            "exchange feed",
            "--role",
            "reviewer",
            "--actor",
            "ana",
        ],
    ));
    let tokens: Vec<&str> = created.lines().filter(|l| l.starts_with("cm_")).collect();
    assert_eq!(tokens.len(), 1, "{created}");
    let token = tokens[0];
    assert_eq!(token.len(), 46, "cm_ and 43 base64url characters: {token}");
    assert!(created.contains("not stored"), "{created}");
    let id = created
        .split_whitespace()
        .find(|w| w.starts_with("key_"))
        .expect("the key id")
        .to_owned();

    // Another key, so the list has more than one row.
    succeed(keys(
        dir.path(),
        &db,
        &["create", "--name", "ops", "--role", "admin"],
    ));
    let listed = succeed(keys(dir.path(), &db, &["list"]));
    assert!(!listed.contains(token), "{listed}");
    let lines: Vec<&str> = listed.lines().collect();
    assert_eq!(lines.len(), 3, "{listed}");
    assert!(lines[0].starts_with("ID "), "{listed}");
    let row = lines
        .iter()
        .find(|l| l.starts_with(&id))
        .expect("the key's row");
    assert!(row.contains("exchange feed"), "{row}");
    assert!(row.contains(" reviewer "), "{row}");
    assert!(row.contains(&token[..10]), "the token's prefix: {row}");
    assert!(row.trim_end().ends_with(" -"), "not revoked: {row}");

    // The store has the token's sha256 and not the token.
    {
        let url = DatabaseUrl::parse(db.to_str().expect("UTF-8 path")).expect("url");
        let store = carbonmesh_store::connect(&url).await.expect("open");
        let sha = carbonmesh_model::sha256_hex(token.as_bytes());
        let key = store
            .api_key_by_hash(&sha)
            .await
            .expect("lookup")
            .expect("the key, by the token's sha256");
        assert_eq!(key.id, id);
        assert_eq!(key.name, "exchange feed");
        assert_eq!(key.role, carbonmesh_model::ApiRole::Reviewer);
        assert_eq!(key.created_by, "ana");
        assert_eq!(key.prefix, token[..10]);
        assert_eq!(store.api_key_by_hash(token).await.expect("lookup"), None);
    }
    for file in ["carbonmesh.db", "carbonmesh.db-wal"] {
        if let Ok(bytes) = std::fs::read(dir.path().join(file)) {
            let secret = &token.as_bytes()[10..];
            assert!(
                !bytes.windows(secret.len()).any(|w| w == secret),
                "the token is in {file}"
            );
        }
    }

    let revoked = succeed(keys(dir.path(), &db, &["revoke", &id]));
    assert_eq!(revoked.trim(), format!("revoked API key {id}"));
    let again = keys(dir.path(), &db, &["revoke", &id]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("already revoked"),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    let unknown = keys(dir.path(), &db, &["revoke", "key_nope"]);
    assert!(!unknown.status.success());

    let listed = succeed(keys(dir.path(), &db, &["list"]));
    let row = listed
        .lines()
        .find(|l| l.starts_with(&id))
        .expect("the revoked key is still listed");
    assert!(!row.trim_end().ends_with(" -"), "revoked: {row}");
    assert!(row.trim_end().ends_with('Z'), "revocation time: {row}");
}

#[test]
fn a_key_needs_a_known_role_and_a_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = migrated(dir.path());
    let out = keys(
        dir.path(),
        &db,
        &["create", "--name", "x", "--role", "root"],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown role"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = keys(
        dir.path(),
        &db,
        &["create", "--name", " ", "--role", "admin"],
    );
    assert!(!out.status.success());
    assert!(stdout(&out).is_empty());
}
