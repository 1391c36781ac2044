//! Who is calling: an API key from `Authorization: Bearer <token>` (or `X-Api-Key`), or an
//! anonymous observer when the configuration allows it; and each caller's request budget.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use axum::http::HeaderMap;
use carbonmesh_model::ApiRole;
use carbonmesh_store::Store;
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The caller of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// The key's name (recorded with every mutation), or `anonymous`.
    pub name: String,
    /// The role; `None` for an anonymous caller when anonymous reads are off.
    pub role: Option<ApiRole>,
    /// The key's id.
    pub key_id: Option<String>,
}

impl Actor {
    /// A caller without a key.
    pub fn anonymous(read_allowed: bool) -> Actor {
        Actor {
            name: "anonymous".into(),
            role: read_allowed.then_some(ApiRole::Observer),
            key_id: None,
        }
    }
}

/// Why a request's credentials were refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The token is unknown or revoked.
    #[error("unknown or revoked API key")]
    InvalidKey,
    /// The store could not be asked.
    #[error("could not check the API key")]
    Store(#[source] anyhow::Error),
}

/// The token a request carries, if any.
fn token(headers: &HeaderMap) -> Option<&str> {
    if let Some(v) = headers.get(axum::http::header::AUTHORIZATION) {
        let v = v.to_str().ok()?.trim();
        return v
            .strip_prefix("Bearer ")
            .or_else(|| v.strip_prefix("bearer "))
            .map(str::trim);
    }
    headers.get("x-api-key")?.to_str().ok().map(str::trim)
}

/// Resolves the caller from request headers (or a websocket's init payload, as headers).
pub async fn actor(
    store: &dyn Store,
    uses: &crate::keys::KeyUses,
    headers: &HeaderMap,
    anonymous_read: bool,
) -> Result<Actor, AuthError> {
    let Some(token) = token(headers).filter(|t| !t.is_empty()) else {
        return Ok(Actor::anonymous(anonymous_read));
    };
    match crate::keys::authenticate(store, uses, token)
        .await
        .map_err(|e| AuthError::Store(anyhow::Error::from(e)))?
    {
        Some(key) => Ok(Actor {
            name: key.name,
            role: Some(key.role),
            key_id: Some(key.id),
        }),
        None => Err(AuthError::InvalidKey),
    }
}

/// Per-caller request budgets: keys by id, anonymous callers together.
#[derive(Clone)]
pub struct RateLimits {
    limiter: Arc<DefaultKeyedRateLimiter<String>>,
}

impl RateLimits {
    /// `per_second` requests a second per key, with bursts of `burst`.
    pub fn new(per_second: NonZeroU32, burst: NonZeroU32) -> RateLimits {
        RateLimits {
            limiter: Arc::new(RateLimiter::keyed(
                Quota::per_second(per_second).allow_burst(burst),
            )),
        }
    }

    /// Whether `actor` may make `operations` more requests now (a batch counts each); when
    /// not, how long until it may.
    pub fn allow(&self, actor: &Actor, operations: NonZeroU32) -> Result<(), Duration> {
        let key = actor
            .key_id
            .clone()
            .unwrap_or_else(|| "anonymous".to_owned());
        match self.limiter.check_key_n(&key, operations) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(not_until)) => Err(not_until.wait_time_from(DefaultClock::default().now())),
            // More operations at once than the burst ever allows.
            Err(_) => Err(Duration::from_secs(1)),
        }
    }
}

/// Failed authentications per client address: a few in a row are mistakes, many are someone
/// guessing tokens, who is then told to wait.
#[derive(Clone)]
pub struct AuthFailures {
    limiter: Arc<DefaultKeyedRateLimiter<IpAddr>>,
}

impl AuthFailures {
    /// 10 failures at once, then one every 6 seconds, per address.
    pub fn new() -> AuthFailures {
        AuthFailures {
            limiter: Arc::new(RateLimiter::keyed(
                Quota::per_minute(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN))
                    .allow_burst(NonZeroU32::new(10).unwrap_or(NonZeroU32::MIN)),
            )),
        }
    }

    /// Counts a failed authentication from `address`; when it is one too many, how long the
    /// address must wait.
    pub fn failed(&self, address: IpAddr) -> Option<Duration> {
        match self.limiter.check_key(&address) {
            Ok(()) => None,
            Err(not_until) => Some(not_until.wait_time_from(DefaultClock::default().now())),
        }
    }
}

impl Default for AuthFailures {
    fn default() -> Self {
        Self::new()
    }
}
