//! The one place that lists carbonmesh's built-in connectors and builds them from config.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use carbonmesh_connector::{Connector, HttpClient, HttpPolicy};
use carbonmesh_model::RegistryId;

use crate::config::ConnectorSettings;

use carbonmesh_connector_acr::{AcrConfig, AcrConnector};
use carbonmesh_connector_arb::{ArbConfig, ArbConnector};
use carbonmesh_connector_car::{CarConfig, CarConnector};
use carbonmesh_connector_gold_standard::{
    BROWSER_USER_AGENT, GoldStandardConfig, GoldStandardConnector,
};
use carbonmesh_connector_verra::{VerraConfig, VerraConnector};

/// Where CARB publishes the offset credit issuance table.
const ARB_PRODUCTION_URL: &str = "https://ww2.arb.ca.gov";

/// Registries with a built-in connector.
pub const BUILT_IN: [RegistryId; 5] = [
    RegistryId::Verra,
    RegistryId::GoldStandard,
    RegistryId::Acr,
    RegistryId::Car,
    RegistryId::Arb,
];

/// Builds the connector of `registry` with `settings`.
pub fn build(
    registry: RegistryId,
    settings: &ConnectorSettings,
) -> anyhow::Result<Arc<dyn Connector>> {
    let defaults = HttpPolicy::default();
    // Gold Standard's firewall refuses clients that do not look like a browser.
    let user_agent = settings
        .user_agent
        .clone()
        .unwrap_or_else(|| match registry {
            RegistryId::GoldStandard => BROWSER_USER_AGENT.to_owned(),
            _ => defaults.user_agent.clone(),
        });
    let policy = HttpPolicy {
        timeout: Duration::from_secs(settings.timeout_seconds.max(1)),
        max_attempts: settings.max_attempts.max(1),
        requests_per_second: NonZeroU32::new(settings.requests_per_second)
            .context("requests_per_second must be at least 1")?,
        user_agent,
        ..defaults
    };
    let http = HttpClient::new(policy).context("cannot build the HTTP client")?;
    let base = settings.base_url.clone();
    let connector: Arc<dyn Connector> = match registry {
        RegistryId::Verra => Arc::new(VerraConnector::new(
            base.map(VerraConfig::at).unwrap_or_default(),
            http,
        )),
        RegistryId::GoldStandard => Arc::new(GoldStandardConnector::new(
            base.map(|base_url| GoldStandardConfig { base_url })
                .unwrap_or_default(),
            http,
        )),
        RegistryId::Acr => Arc::new(AcrConnector::new(
            base.map(AcrConfig::new).unwrap_or_default(),
            http,
        )),
        RegistryId::Car => Arc::new(CarConnector::new(
            base.map(CarConfig::new).unwrap_or_default(),
            http,
        )),
        RegistryId::Arb => Arc::new(ArbConnector::new(
            ArbConfig::new(base.unwrap_or_else(|| ARB_PRODUCTION_URL.to_owned())),
            http,
        )),
        other => anyhow::bail!(
            "no built-in connector for `{other}` yet (built in: {})",
            BUILT_IN.map(|r| r.as_str()).join(", ")
        ),
    };
    Ok(connector)
}
