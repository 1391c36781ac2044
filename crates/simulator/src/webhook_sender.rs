//! The simulator as a registry that pushes signed webhooks (Standard Webhooks): signs a body
//! with the registry's secret and POSTs it, and on demand signs with the wrong secret,
//! replays an id, sends a stale or future timestamp, truncates the signature or changes the
//! body after signing. Written independently of carbonmesh's verifier, so each checks the
//! other.

use std::sync::atomic::{AtomicU64, Ordering};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// What to get wrong on purpose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Tamper {
    /// Nothing: a correct delivery.
    #[default]
    None,
    /// Sign with a secret the receiver does not know.
    WrongSecret,
    /// Cut the signature short.
    TruncatedSignature,
    /// Send a signature that was never computed.
    ForgedSignature,
    /// Change the body after signing it.
    BodyChangedAfterSigning,
    /// Move the timestamp by this many seconds (negative: in the past).
    ClockSkew(i64),
    /// Send no `webhook-signature` header.
    NoSignature,
}

/// What the receiver answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The `webhook-id` sent.
    pub id: String,
    /// The status code.
    pub status: u16,
    /// The body.
    pub body: String,
}

/// A registry sending webhooks to one carbonmesh connector endpoint.
#[derive(Debug, Clone)]
pub struct WebhookSender {
    client: reqwest::Client,
    url: String,
    secrets: Vec<Vec<u8>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// The `v1,<base64>` signature of a delivery with a raw key.
pub fn sign(key: &[u8], id: &str, timestamp: i64, body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        unreachable!("HMAC takes keys of any length")
    };
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// The raw key of a `whsec_<base64>` secret.
pub fn secret_key(whsec: &str) -> Option<Vec<u8>> {
    STANDARD.decode(whsec.strip_prefix("whsec_")?).ok()
}

impl WebhookSender {
    /// A sender to `{base_url}/webhooks/{connector}` signing with every one of `secrets`
    /// (`whsec_…`; two during a rotation). None when a secret is not `whsec_<base64>`.
    pub fn new(base_url: &str, connector: &str, secrets: &[&str]) -> Option<Self> {
        let secrets = secrets
            .iter()
            .map(|s| secret_key(s))
            .collect::<Option<Vec<_>>>()?;
        Some(Self {
            client: reqwest::Client::new(),
            url: format!("{}/webhooks/{connector}", base_url.trim_end_matches('/')),
            secrets,
        })
    }

    /// A fresh delivery id.
    pub fn next_id() -> String {
        format!(
            "msg_sim_{}_{}",
            std::process::id(),
            NEXT_ID.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Sends `body` as a new delivery.
    pub async fn send(&self, body: &[u8]) -> Result<Answer, reqwest::Error> {
        self.send_as(&Self::next_id(), body, Tamper::None).await
    }

    /// Sends `body` with delivery id `id` (send the same id again to replay), getting
    /// `tamper` wrong.
    pub async fn send_as(
        &self,
        id: &str,
        body: &[u8],
        tamper: Tamper,
    ) -> Result<Answer, reqwest::Error> {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or_default();
        let timestamp = match tamper {
            Tamper::ClockSkew(seconds) => now + seconds,
            _ => now,
        };
        let wrong_key = [0x5au8; 32];
        let keys: Vec<&[u8]> = match tamper {
            Tamper::WrongSecret => vec![&wrong_key],
            _ => self.secrets.iter().map(Vec::as_slice).collect(),
        };
        let mut signature = keys
            .iter()
            .map(|key| sign(key, id, timestamp, body))
            .collect::<Vec<_>>()
            .join(" ");
        let mut body = body.to_vec();
        match tamper {
            Tamper::TruncatedSignature => signature.truncate(signature.len().saturating_sub(10)),
            Tamper::ForgedSignature => {
                signature = format!("v1,{}", STANDARD.encode([7u8; 32]));
            }
            Tamper::BodyChangedAfterSigning => body.extend_from_slice(b" "),
            _ => {}
        }
        let mut request = self
            .client
            .post(&self.url)
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string());
        if tamper != Tamper::NoSignature {
            request = request.header("webhook-signature", signature);
        }
        let response = request.body(body).send().await?;
        let status = response.status().as_u16();
        Ok(Answer {
            id: id.to_owned(),
            status,
            body: response.text().await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_the_reference_example() {
        let key = secret_key("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").expect("key");
        assert_eq!(
            sign(
                &key,
                "msg_p5jXN8AQM9LWM0D4loKWxJek",
                1614265330,
                br#"{"test": 2432232314}"#
            ),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }
}
