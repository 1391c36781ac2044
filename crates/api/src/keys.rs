//! API key tokens: making them, and recognising them on requests.
//!
//! A token is `cm_` followed by 32 random bytes in unpadded base64url. carbonmesh keeps only
//! its sha256 (hex): the token is shown once, when its key is created, and a request's token
//! is looked up by its hash. Tokens are never logged.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use carbonmesh_model::{ApiKey, ApiRole};
use carbonmesh_store::{Store, StoreError};
use chrono::{SubsecRound as _, Utc};

/// What every token starts with.
pub const TOKEN_PREFIX: &str = "cm_";

/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;

/// Length of a token: the prefix and 32 bytes in unpadded base64 (43 characters).
pub const TOKEN_LEN: usize = TOKEN_PREFIX.len() + (TOKEN_BYTES * 4).div_ceil(3);

/// Characters of the token kept with the key, to recognise it in a list.
pub const DISPLAY_PREFIX_LEN: usize = 10;

/// A key's last use is written at most this often (per key and process).
pub const TOUCH_INTERVAL: Duration = Duration::from_secs(60);

/// A new token and the sha256 (hex) of it, the only form in which it is stored.
pub fn generate() -> (String, String) {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    let token = format!("{TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
    let sha = hash(&token);
    (token, sha)
}

/// The sha256 of a token, in lowercase hex.
pub fn hash(token: &str) -> String {
    carbonmesh_model::sha256_hex(token.as_bytes())
}

/// A new key id: `key_` and 16 random hex digits.
fn new_id() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random number generator failed");
    let mut id = String::with_capacity(4 + 16);
    id.push_str("key_");
    for b in bytes {
        id.push_str(&format!("{b:02x}"));
    }
    id
}

/// Names no key may take: carbonmesh's own actors in alert histories.
pub const RESERVED_NAMES: [&str; 3] = ["matcher", "system", "anonymous"];

/// Why a key could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// The name is taken (by a key, revoked or not, or by carbonmesh itself).
    #[error("{0}")]
    Name(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Creates and stores a key for `name` with `role`, recorded as created by `created_by`.
/// Returns the key and its token: the token is not stored, so this is the only time it is
/// known. Names are unique, revoked keys' included, since they name people in histories.
pub async fn create(
    store: &dyn Store,
    name: &str,
    role: ApiRole,
    created_by: &str,
) -> Result<(ApiKey, String), CreateError> {
    let name = name.trim();
    if RESERVED_NAMES.iter().any(|r| r.eq_ignore_ascii_case(name)) {
        return Err(CreateError::Name(format!(
            "`{name}` is carbonmesh's own name in alert histories; choose another"
        )));
    }
    if store
        .api_keys()
        .await?
        .iter()
        .any(|k| k.name.eq_ignore_ascii_case(name))
    {
        return Err(CreateError::Name(format!(
            "a key named `{name}` exists already (names identify reviewers in alert \
             histories); choose another"
        )));
    }
    let (token, sha) = generate();
    let key = ApiKey {
        id: new_id(),
        name: name.to_owned(),
        role,
        prefix: token[..DISPLAY_PREFIX_LEN].to_owned(),
        created_by: created_by.to_owned(),
        created_at: Utc::now().trunc_subsecs(0),
        revoked_at: None,
        last_used_at: None,
    };
    store.insert_api_key(&key, &sha).await?;
    Ok((key, token))
}

/// The active key a token belongs to; `None` for a malformed, unknown or revoked token.
/// Records the key's use at most once a minute per key ([`TOUCH_INTERVAL`]); a failure to
/// record it is logged and does not refuse the request.
pub async fn authenticate(
    store: &dyn Store,
    uses: &KeyUses,
    token: &str,
) -> Result<Option<ApiKey>, StoreError> {
    if !well_formed(token) {
        return Ok(None);
    }
    let Some(mut key) = store.api_key_by_hash(&hash(token)).await? else {
        return Ok(None);
    };
    if key.revoked_at.is_some() {
        return Ok(None);
    }
    let now = Utc::now().trunc_subsecs(0);
    let recently_written = key
        .last_used_at
        .is_some_and(|at| (now - at).to_std().is_ok_and(|age| age < TOUCH_INTERVAL));
    if !recently_written && uses.due(&key.id, Instant::now()) {
        match store.touch_api_key(&key.id, now).await {
            Ok(()) => key.last_used_at = Some(now),
            Err(error) => {
                tracing::warn!(key = %key.id, %error, "could not record an API key's use")
            }
        }
    }
    Ok(Some(key))
}

/// Whether `token` has a token's shape (checked before any database work).
fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN
        && token.starts_with(TOKEN_PREFIX)
        && token[TOKEN_PREFIX.len()..]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// When this process last wrote each key's use: owned by whatever serves the API, so a
/// key's use is written at most once a minute ([`TOUCH_INTERVAL`]) per key and process.
#[derive(Debug, Default)]
pub struct KeyUses {
    last: Mutex<HashMap<String, Instant>>,
}

impl KeyUses {
    /// Whether the use of key `id` should be written at `now`, noting it if so.
    fn due(&self, id: &str, now: Instant) -> bool {
        let mut last = self.last.lock().unwrap_or_else(PoisonError::into_inner);
        if last
            .get(id)
            .is_some_and(|at| now.saturating_duration_since(*at) < TOUCH_INTERVAL)
        {
            return false;
        }
        // Entries older than the interval decide nothing: drop them before the map grows.
        if last.len() >= 4_096 {
            last.retain(|_, at| now.saturating_duration_since(*at) < TOUCH_INTERVAL);
        }
        last.insert(id.to_owned(), now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use carbonmesh_store::DatabaseUrl;

    async fn store(dir: &tempfile::TempDir) -> Box<dyn Store> {
        let url = DatabaseUrl::Sqlite(dir.path().join("keys.db"));
        let store = carbonmesh_store::connect(&url).await.expect("open");
        store.migrate().await.expect("migrate");
        store
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (token, sha) = generate();
        assert_eq!(token.len(), TOKEN_LEN);
        assert_eq!(TOKEN_LEN, 46);
        assert!(token.starts_with("cm_"));
        assert!(well_formed(&token));
        assert_eq!(sha, hash(&token));
        assert_eq!(sha.len(), 64);
        assert!(
            sha.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        let decoded = URL_SAFE_NO_PAD
            .decode(&token[3..])
            .expect("base64url without padding");
        assert_eq!(decoded.len(), 32);
        let (other, other_sha) = generate();
        assert_ne!(token, other);
        assert_ne!(sha, other_sha);
    }

    #[test]
    fn hash_is_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn malformed_tokens_are_recognised_without_a_lookup() {
        let (token, _) = generate();
        assert!(!well_formed(&token[1..]));
        assert!(!well_formed(&format!("xx_{}", &token[3..])));
        assert!(!well_formed(&format!("{}=", &token[..TOKEN_LEN - 1])));
        assert!(!well_formed(""));
        assert!(!well_formed(&format!("{}é", &token[..TOKEN_LEN - 2])));
    }

    #[test]
    fn uses_are_written_at_most_once_a_minute_per_key() {
        let start = Instant::now();
        let (uses, other) = (KeyUses::default(), KeyUses::default());
        assert!(uses.due("a", start));
        assert!(!uses.due("a", start + Duration::from_secs(59)));
        assert!(uses.due("b", start + Duration::from_secs(1)));
        // Another server's uses are its own.
        assert!(other.due("a", start + Duration::from_secs(1)));
        assert!(uses.due("a", start + Duration::from_secs(60)));
        assert!(!uses.due("a", start + Duration::from_secs(61)));
    }

    #[tokio::test]
    async fn created_keys_authenticate_until_revoked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = store(&dir).await;
        let (key, token) = create(store.as_ref(), "exchange", ApiRole::Reviewer, "ops")
            .await
            .expect("create");
        assert!(key.id.starts_with("key_"));
        assert_eq!(key.prefix, token[..DISPLAY_PREFIX_LEN]);
        assert_eq!(
            (key.name.as_str(), key.role),
            ("exchange", ApiRole::Reviewer)
        );
        assert_eq!(key.created_by, "ops");

        // Only the hash is stored.
        let stored = store
            .api_key_by_hash(&hash(&token))
            .await
            .expect("lookup")
            .expect("stored by hash");
        assert_eq!(stored, key);
        assert_eq!(store.api_key_by_hash(&token).await.expect("lookup"), None);

        let uses = KeyUses::default();
        let first = authenticate(store.as_ref(), &uses, &token)
            .await
            .expect("authenticate")
            .expect("a valid token");
        assert_eq!(first.id, key.id);
        let used = first.last_used_at.expect("first use recorded");
        let listed = store.api_keys().await.expect("list");
        assert_eq!(listed[0].last_used_at, Some(used));

        // A second use within the minute writes nothing.
        let second = authenticate(store.as_ref(), &uses, &token)
            .await
            .expect("authenticate")
            .expect("still valid");
        assert_eq!(second.last_used_at, Some(used));
        assert_eq!(
            store.api_keys().await.expect("list")[0].last_used_at,
            Some(used)
        );

        let (unknown, _) = generate();
        assert_eq!(
            authenticate(store.as_ref(), &uses, &unknown)
                .await
                .expect("authenticate"),
            None
        );
        assert_eq!(
            authenticate(store.as_ref(), &uses, "not a token")
                .await
                .expect("authenticate"),
            None
        );

        assert!(
            store
                .revoke_api_key(&key.id, Utc::now())
                .await
                .expect("revoke")
        );
        assert_eq!(
            authenticate(store.as_ref(), &uses, &token)
                .await
                .expect("authenticate"),
            None
        );
    }
}
