//! `[notifications]`: where notifications go and how they are retried.

use std::fmt;
use std::time::Duration;

use carbonmesh_model::Severity;
use carbonmesh_webhook::WebhookSecret;
use serde::{Deserialize, Serialize};

/// `[notifications]` and its `[[notifications.endpoints]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NotificationSettings {
    /// How often the alert history is read for news, in milliseconds.
    pub poll_interval_ms: u64,
    /// The first delay before a failed notification is tried again, in milliseconds; each
    /// further failure doubles it.
    pub retry_initial_ms: u64,
    /// The longest delay between two attempts, in milliseconds.
    pub retry_max_ms: u64,
    /// How long an endpoint may take to answer, in milliseconds.
    pub timeout_ms: u64,
    /// Seconds a server holds an endpoint; another takes it over if that server dies.
    pub lease_seconds: u64,
    /// The endpoints.
    pub endpoints: Vec<EndpointSettings>,
}

impl Default for NotificationSettings {
    fn default() -> Self {
        Self {
            poll_interval_ms: 1_000,
            retry_initial_ms: 1_000,
            retry_max_ms: 300_000,
            timeout_ms: 15_000,
            lease_seconds: 30,
            endpoints: Vec::new(),
        }
    }
}

/// One endpoint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EndpointSettings {
    /// Its name in logs, exports and the API (`compliance-team`).
    pub name: String,
    /// Where notifications are posted (`https://…`).
    pub url: String,
    /// The Standard Webhooks secret (`whsec_<base64>`) notifications are signed with.
    pub secret: SigningSecret,
    /// The least serious alerts it hears of: `critical`, `high` (the default), `medium`,
    /// `low` or `info`.
    #[serde(default = "default_min_severity")]
    pub min_severity: Severity,
}

fn default_min_severity() -> Severity {
    Severity::High
}

impl EndpointSettings {
    /// True when alerts of `severity` are announced to this endpoint.
    pub fn wants(&self, severity: Severity) -> bool {
        // Severities are ordered from critical (least) to info.
        severity <= self.min_severity
    }
}

/// A signing secret as configured. Its `Debug` never shows the value.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct SigningSecret(String);

impl SigningSecret {
    /// A secret from its `whsec_…` text.
    pub fn new(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

impl fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningSecret(<redacted>)")
    }
}

/// A configuration that cannot work.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// Two endpoints share a name: their positions would mix.
    #[error("notification endpoint `{0}` is configured twice")]
    DuplicateName(String),
    /// The secret is not `whsec_<base64>`.
    #[error("notification endpoint `{name}`: {error}")]
    Secret {
        /// The endpoint.
        name: String,
        /// What is wrong with it.
        error: carbonmesh_webhook::SecretError,
    },
    /// The URL is not http(s).
    #[error("notification endpoint `{name}`: url `{url}` is not an http:// or https:// URL")]
    Url {
        /// The endpoint.
        name: String,
        /// The URL.
        url: String,
    },
    /// A zero interval or lease.
    #[error("[notifications] {0} must be above zero")]
    Zero(&'static str),
}

/// An endpoint ready to deliver to.
#[derive(Debug, Clone)]
pub(crate) struct Endpoint {
    pub settings: EndpointSettings,
    pub secret: WebhookSecret,
}

impl NotificationSettings {
    /// Checks every endpoint, returning them with their parsed secrets.
    pub(crate) fn endpoints(&self) -> Result<Vec<Endpoint>, SettingsError> {
        for (value, name) in [
            (self.poll_interval_ms, "poll_interval_ms"),
            (self.retry_initial_ms, "retry_initial_ms"),
            (self.timeout_ms, "timeout_ms"),
            (self.lease_seconds, "lease_seconds"),
        ] {
            if value == 0 {
                return Err(SettingsError::Zero(name));
            }
        }
        let mut seen = std::collections::BTreeSet::new();
        self.endpoints
            .iter()
            .map(|e| {
                if !seen.insert(e.name.as_str()) {
                    return Err(SettingsError::DuplicateName(e.name.clone()));
                }
                if !(e.url.starts_with("http://") || e.url.starts_with("https://")) {
                    return Err(SettingsError::Url {
                        name: e.name.clone(),
                        url: e.url.clone(),
                    });
                }
                let secret =
                    WebhookSecret::parse(&e.secret.0).map_err(|error| SettingsError::Secret {
                        name: e.name.clone(),
                        error,
                    })?;
                Ok(Endpoint {
                    settings: e.clone(),
                    secret,
                })
            })
            .collect()
    }

    /// Checks the settings without starting anything (for `serve` to refuse a bad file early).
    pub fn validate(&self) -> Result<(), SettingsError> {
        self.endpoints().map(drop)
    }

    pub(crate) fn poll_interval(&self) -> Duration {
        Duration::from_millis(self.poll_interval_ms)
    }

    pub(crate) fn lease(&self) -> Duration {
        Duration::from_secs(self.lease_seconds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(name: &str, url: &str, secret: &str) -> EndpointSettings {
        EndpointSettings {
            name: name.into(),
            url: url.into(),
            secret: SigningSecret::new(secret),
            min_severity: Severity::High,
        }
    }

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn thresholds_let_through_the_severe_alerts() {
        let e = endpoint("team", "http://127.0.0.1:1/", SECRET);
        assert!(e.wants(Severity::Critical));
        assert!(e.wants(Severity::High));
        assert!(!e.wants(Severity::Medium));
        assert!(!e.wants(Severity::Info));
    }

    #[test]
    fn bad_endpoints_are_refused_by_name_without_showing_the_secret() {
        let settings = |endpoints| NotificationSettings {
            endpoints,
            ..NotificationSettings::default()
        };
        let twice = settings(vec![
            endpoint("team", "http://a/", SECRET),
            endpoint("team", "http://b/", SECRET),
        ]);
        assert_eq!(
            twice.validate().map_err(|e| e.to_string()),
            Err("notification endpoint `team` is configured twice".into())
        );
        let bad_secret = settings(vec![endpoint("team", "http://a/", "hunter2hunter2")]);
        let message = bad_secret.validate().map_err(|e| e.to_string());
        assert_eq!(
            message,
            Err("notification endpoint `team`: a webhook secret starts with `whsec_`".into())
        );
        let bad_url = settings(vec![endpoint("team", "ftp://a/", SECRET)]);
        assert!(bad_url.validate().is_err());
        assert!(
            !format!("{:?}", endpoint("team", "http://a/", SECRET)).contains("MfKQ"),
            "Debug shows the secret"
        );
        assert!(
            settings(vec![endpoint("team", "https://a/", SECRET)])
                .validate()
                .is_ok()
        );
    }
}
