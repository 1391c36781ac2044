//! Webhook wiring of the binary: which connectors accept webhooks (those with secrets), and
//! `carbonmesh webhook sign`.

use std::collections::{BTreeSet, HashMap};
use std::io::Write;

use anyhow::Context;
use carbonmesh_model::RegistryId;
use carbonmesh_webhook::{Endpoint, WebhookSecret};

use crate::config::Secret;
use crate::connectors::{Catalog, built_in};

/// The webhook secrets of `registry`, as configured (`webhook_secrets`, or
/// `CARBONMESH_CONNECTORS__<ID>__WEBHOOK_SECRETS`). Errors name the secret, never its value.
pub fn secrets(registry: RegistryId, configured: &[Secret]) -> anyhow::Result<Vec<WebhookSecret>> {
    configured
        .iter()
        .enumerate()
        .map(|(i, one)| {
            WebhookSecret::parse(one.expose()).with_context(|| {
                format!(
                    "[connectors.{registry}] webhook_secrets: secret {} is invalid",
                    i + 1
                )
            })
        })
        .collect()
}

/// Every connector that has webhook secrets, by name, with its connector built.
pub fn endpoints(catalog: &Catalog) -> anyhow::Result<HashMap<String, Endpoint>> {
    let registries: BTreeSet<RegistryId> =
        built_in().into_iter().chain(catalog.configured()).collect();
    let mut endpoints = HashMap::new();
    for registry in registries {
        let settings = catalog.settings(registry);
        let secrets = secrets(registry, &settings.webhook_secrets)?;
        if secrets.is_empty() {
            continue;
        }
        let connector = catalog.build(registry)?;
        tracing::info!(
            connector = %registry,
            secrets = secrets.len(),
            "accepting webhooks at /webhooks/{registry}"
        );
        endpoints.insert(
            registry.as_str().to_owned(),
            Endpoint { connector, secrets },
        );
    }
    Ok(endpoints)
}

/// `carbonmesh webhook sign`: prints the three Standard Webhooks headers for `body`.
pub fn sign(
    secret: &str,
    id: Option<String>,
    timestamp: Option<i64>,
    body: &[u8],
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    let secret = WebhookSecret::parse(secret).context("--secret")?;
    let timestamp = match timestamp {
        Some(t) => t,
        None => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .context("the clock is before 1970")?
            .as_secs() as i64,
    };
    let id = id.unwrap_or_else(|| {
        let mut seed = timestamp.to_string().into_bytes();
        seed.extend_from_slice(body);
        format!("msg_{}", &carbonmesh_model::sha256_hex(&seed)[..24])
    });
    writeln!(out, "webhook-id: {id}")?;
    writeln!(out, "webhook-timestamp: {timestamp}")?;
    writeln!(
        out,
        "webhook-signature: {}",
        secret.sign(&id, timestamp, body)
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

    #[test]
    fn an_invalid_secret_is_named_never_shown() {
        let configured = vec![Secret::new(SECRET)];
        assert_eq!(
            secrets(RegistryId::GOLD_STANDARD, &configured)
                .expect("file")
                .len(),
            1
        );
        let error = secrets(RegistryId::VERRA, &[Secret::new("whsec_nope!")]).expect_err("invalid");
        let message = format!("{error:#}");
        assert!(message.contains("[connectors.verra] webhook_secrets: secret 1"));
        assert!(!message.contains("nope"), "{message}");
    }

    #[test]
    fn sign_prints_the_reference_headers() {
        let mut out = Vec::new();
        sign(
            SECRET,
            Some("msg_p5jXN8AQM9LWM0D4loKWxJek".into()),
            Some(1614265330),
            br#"{"test": 2432232314}"#,
            &mut out,
        )
        .expect("sign");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek\nwebhook-timestamp: 1614265330\n\
             webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=\n"
        );
    }
}
