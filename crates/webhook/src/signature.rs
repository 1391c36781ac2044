//! Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a `webhook-timestamp` may be from the receiver's clock, either way.
pub const TOLERANCE_SECONDS: i64 = 5 * 60;

/// The prefix of a Standard Webhooks symmetric secret.
pub const SECRET_PREFIX: &str = "whsec_";

/// A webhook signing secret (`whsec_<base64>`). Its `Debug` never shows the key.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    key: Vec<u8>,
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

/// A secret that is not `whsec_` followed by base64.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    /// No `whsec_` prefix.
    #[error("a webhook secret starts with `whsec_`")]
    Prefix,
    /// Not base64 after the prefix.
    #[error("a webhook secret is base64 after `whsec_`")]
    Base64,
    /// Too short to be a secret.
    #[error("a webhook secret holds at least 16 bytes (24 to 64 recommended)")]
    TooShort,
}

impl WebhookSecret {
    /// Parses `whsec_<base64>`; the value itself never appears in the error.
    pub fn parse(text: &str) -> Result<Self, SecretError> {
        let encoded = text
            .trim()
            .strip_prefix(SECRET_PREFIX)
            .ok_or(SecretError::Prefix)?;
        let key = STANDARD.decode(encoded).map_err(|_| SecretError::Base64)?;
        if key.len() < 16 {
            return Err(SecretError::TooShort);
        }
        Ok(Self { key })
    }

    /// A secret from raw key bytes.
    pub fn from_bytes(key: impl Into<Vec<u8>>) -> Self {
        Self { key: key.into() }
    }

    /// The `whsec_…` form, for the sender's configuration.
    pub fn to_whsec(&self) -> String {
        format!("{SECRET_PREFIX}{}", STANDARD.encode(&self.key))
    }

    fn mac(&self, id: &str, timestamp: i64, body: &[u8]) -> HmacSha256 {
        // HMAC takes keys of any length: this cannot fail.
        let mut mac = match HmacSha256::new_from_slice(&self.key) {
            Ok(mac) => mac,
            Err(_) => unreachable!("HMAC accepts keys of any length"),
        };
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }

    /// The `v1,<base64>` signature of a delivery.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let tag = self.mac(id, timestamp, body).finalize().into_bytes();
        format!("v1,{}", STANDARD.encode(tag))
    }

    /// True when `tag` is this secret's HMAC of the delivery; compared in constant time.
    fn verifies(&self, id: &str, timestamp: i64, body: &[u8], tag: &[u8]) -> bool {
        self.mac(id, timestamp, body).verify_slice(tag).is_ok()
    }
}

/// Why a delivery's signature headers were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    /// The timestamp is too far from the receiver's clock.
    #[error(
        "webhook-timestamp {timestamp} is {skew} s from the server's clock (at most {TOLERANCE_SECONDS} s allowed)"
    )]
    Timestamp {
        /// The timestamp sent.
        timestamp: i64,
        /// Its distance from now, in seconds.
        skew: i64,
    },
    /// The header holds no `v1,` signature.
    #[error("webhook-signature holds no v1 signature")]
    NoV1,
    /// No signature matches any of the connector's secrets.
    #[error("no signature in webhook-signature matches this connector's secrets")]
    Mismatch,
}

/// Checks the timestamp against `now` (unix seconds) and the space-separated signatures
/// against every secret (several during a rotation). Returns the 1-based number of the secret
/// that matched.
pub fn verify(
    secrets: &[WebhookSecret],
    id: &str,
    timestamp: i64,
    signatures: &str,
    body: &[u8],
    now: i64,
) -> Result<usize, SignatureError> {
    let skew = now.saturating_sub(timestamp).saturating_abs();
    if skew > TOLERANCE_SECONDS {
        return Err(SignatureError::Timestamp { timestamp, skew });
    }
    let tags: Vec<Vec<u8>> = signatures
        .split(' ')
        .filter_map(|one| one.strip_prefix("v1,"))
        .filter_map(|encoded| STANDARD.decode(encoded).ok())
        .collect();
    let any_v1 = signatures.split(' ').any(|one| one.starts_with("v1,"));
    if !any_v1 {
        return Err(SignatureError::NoV1);
    }
    for (n, secret) in secrets.iter().enumerate() {
        // Every tag is checked against every secret: the time taken does not depend on
        // which one matched.
        let mut matched = false;
        for tag in &tags {
            matched |= secret.verifies(id, timestamp, body, tag);
        }
        if matched {
            return Ok(n + 1);
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification and its reference libraries.
    #[test]
    fn matches_the_reference_example() {
        let secret =
            WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        let id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
        let body = br#"{"test": 2432232314}"#;
        let signature = secret.sign(id, 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert_eq!(
            verify(
                std::slice::from_ref(&secret),
                id,
                1614265330,
                &signature,
                body,
                1614265330
            ),
            Ok(1)
        );
        assert_eq!(
            verify(&[secret], id, 1614265330, &signature, b"{}", 1614265330),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn rotation_truncation_and_clock() {
        let old = WebhookSecret::from_bytes([1u8; 32]);
        let new = WebhookSecret::from_bytes([2u8; 32]);
        let body = b"{}";
        let both = format!("{} {}", new.sign("m", 100, body), old.sign("m", 100, body));
        assert_eq!(
            verify(std::slice::from_ref(&old), "m", 100, &both, body, 100),
            Ok(1)
        );
        assert_eq!(
            verify(
                &[new.clone(), old.clone()],
                "m",
                100,
                &old.sign("m", 100, body),
                body,
                100
            ),
            Ok(2)
        );
        let full = old.sign("m", 100, body);
        let truncated = &full[..full.len() - 8];
        assert_eq!(
            verify(std::slice::from_ref(&old), "m", 100, truncated, body, 100),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(std::slice::from_ref(&old), "m", 100, "v1a,abc", body, 100),
            Err(SignatureError::NoV1)
        );
        assert!(matches!(
            verify(std::slice::from_ref(&old), "m", 100, &full, body, 100 + 361),
            Err(SignatureError::Timestamp { skew: 361, .. })
        ));
        assert!(matches!(
            verify(std::slice::from_ref(&old), "m", 100, &full, body, 100 - 361),
            Err(SignatureError::Timestamp { .. })
        ));
        assert_eq!(verify(&[old], "m", 100, &full, body, 100 + 300), Ok(1));
    }

    #[test]
    fn secrets_parse_and_stay_hidden() {
        assert_eq!(
            WebhookSecret::parse("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
            Err(SecretError::Prefix)
        );
        assert_eq!(WebhookSecret::parse("whsec_!!!"), Err(SecretError::Base64));
        assert_eq!(
            WebhookSecret::parse("whsec_YWJj"),
            Err(SecretError::TooShort)
        );
        let secret =
            WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("secret");
        assert_eq!(format!("{secret:?}"), "WebhookSecret(<redacted>)");
        assert_eq!(secret.to_whsec(), "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw");
    }
}
