//! The one place that lists carbonmesh's built-in connectors and builds them, and the generic
//! (TOML-described) connectors of the configuration, from config.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use carbonmesh_connector::{Connector, HttpClient, HttpPolicy};
use carbonmesh_model::RegistryId;

use crate::config::{Config, ConnectorSettings, Secret};

use carbonmesh_connector_acr::{AcrConfig, AcrConnector};
use carbonmesh_connector_arb::{ArbConfig, ArbConnector};
use carbonmesh_connector_art::{ArtConfig, ArtConnector};
use carbonmesh_connector_biocarbon::{BiocarbonConfig, BiocarbonConnector};
use carbonmesh_connector_cadt::{CadtConfig, CadtConnector};
use carbonmesh_connector_car::{CarConfig, CarConnector};
use carbonmesh_connector_cercarbono::{CercarbonoConfig, CercarbonoConnector};
use carbonmesh_connector_generic::config::Source;
use carbonmesh_connector_generic::{GenericConfig, GenericConnector};
use carbonmesh_connector_gold_standard::{
    BROWSER_USER_AGENT, GoldStandardConfig, GoldStandardConnector,
};
use carbonmesh_connector_isometric::{IsometricConfig, IsometricConnector};
use carbonmesh_connector_puro::{PuroConfig, PuroConnector};
use carbonmesh_connector_verra::{VerraConfig, VerraConnector};

/// The credentials a connector may take, as `(key, registries using it)`.
const CREDENTIALS: [(&str, &[RegistryId]); 3] = [
    ("api_key", &[RegistryId::Cadt, RegistryId::Biocarbon]),
    ("client_secret", &[RegistryId::Isometric]),
    ("access_token", &[RegistryId::Isometric]),
];

/// Where CARB publishes the offset credit issuance table.
const ARB_PRODUCTION_URL: &str = "https://ww2.arb.ca.gov";

/// Registries with a built-in connector.
pub const BUILT_IN: [RegistryId; 11] = [
    RegistryId::Verra,
    RegistryId::GoldStandard,
    RegistryId::Acr,
    RegistryId::Car,
    RegistryId::Arb,
    RegistryId::Art,
    RegistryId::Isometric,
    RegistryId::Puro,
    RegistryId::Cercarbono,
    RegistryId::Biocarbon,
    RegistryId::Cadt,
];

/// The HTTP client of one connector, from its settings; `default_agent` is the `User-Agent`
/// sent unless configured, carbonmesh's own if `None`.
fn http_client(
    settings: &ConnectorSettings,
    default_agent: Option<&str>,
) -> anyhow::Result<HttpClient> {
    let defaults = HttpPolicy::default();
    let user_agent = settings
        .user_agent
        .clone()
        .or_else(|| default_agent.map(str::to_owned))
        .unwrap_or_else(|| defaults.user_agent.clone());
    let policy = HttpPolicy {
        timeout: Duration::from_secs(settings.timeout_seconds.max(1)),
        max_attempts: settings.max_attempts.max(1),
        requests_per_second: NonZeroU32::new(settings.requests_per_second)
            .context("requests_per_second must be at least 1")?,
        user_agent,
        ..defaults
    };
    HttpClient::new(policy).context("cannot build the HTTP client")
}

/// Refuses a setting that `registry`'s connector does not take, rather than ignoring it.
fn check_keys(registry: RegistryId, settings: &ConnectorSettings) -> anyhow::Result<()> {
    let set = [
        ("api_key", settings.api_key.is_some()),
        ("client_secret", settings.client_secret.is_some()),
        ("access_token", settings.access_token.is_some()),
        ("org_uid", settings.org_uid.is_some()),
    ];
    for (key, is_set) in set {
        let users: &[RegistryId] = match CREDENTIALS.iter().find(|(k, _)| *k == key) {
            Some((_, users)) => users,
            None => &[RegistryId::Cadt],
        };
        if is_set && !users.contains(&registry) {
            anyhow::bail!(
                "`{key}` is not a setting of the {registry} connector (only of {})",
                users
                    .iter()
                    .map(|r| r.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    Ok(())
}

fn expose(secret: &Option<Secret>) -> Option<String> {
    secret.as_ref().map(|s| s.expose().to_owned())
}

/// Builds the built-in connector of `registry` with `settings`.
pub fn build(
    registry: RegistryId,
    settings: &ConnectorSettings,
) -> anyhow::Result<Arc<dyn Connector>> {
    check_keys(registry, settings)?;
    // Gold Standard's firewall refuses clients that do not look like a browser.
    let agent = (registry == RegistryId::GoldStandard).then_some(BROWSER_USER_AGENT);
    let http = http_client(settings, agent)?;
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
        RegistryId::Art => Arc::new(ArtConnector::new(
            base.map(ArtConfig::new).unwrap_or_default(),
            http,
        )),
        RegistryId::Isometric => Arc::new(IsometricConnector::new(
            IsometricConfig {
                client_secret: expose(&settings.client_secret),
                access_token: expose(&settings.access_token),
                ..base.map(IsometricConfig::new).unwrap_or_default()
            },
            http,
        )),
        RegistryId::Puro => Arc::new(PuroConnector::new(
            base.map(PuroConfig::new).unwrap_or_default(),
            http,
        )),
        RegistryId::Cercarbono => Arc::new(CercarbonoConnector::new(
            base.map(CercarbonoConfig::new).unwrap_or_default(),
            http,
        )),
        RegistryId::Biocarbon => Arc::new(BiocarbonConnector::new(
            BiocarbonConfig {
                api_key: expose(&settings.api_key),
                ..base.map(BiocarbonConfig::new).unwrap_or_default()
            },
            http,
        )),
        RegistryId::Cadt => {
            // CAD Trust has no central endpoint: without a node the connector reads saved
            // responses only (a configured section must name one, see `Catalog::build`).
            let config = match base.filter(|b| !b.trim().is_empty()) {
                Some(base) => CadtConfig::new(base),
                None => CadtConfig::files_only(),
            };
            Arc::new(CadtConnector::new(
                CadtConfig {
                    api_key: expose(&settings.api_key),
                    org_uid: settings.org_uid.clone(),
                    ..config
                },
                http,
            ))
        }
        other => anyhow::bail!(
            "no connector for `{other}` (built in: {}; any other registry can be described in a \
             [generic.<id>] file)",
            BUILT_IN.map(|r| r.as_str()).join(", ")
        ),
    };
    Ok(connector)
}

/// Builds a generic connector from its description and polling settings: `settings.base_url`
/// replaces the description's HTTP base URL, `settings.schedule` is applied by the caller.
pub fn build_generic(
    description: &GenericConfig,
    settings: &ConnectorSettings,
) -> anyhow::Result<Arc<dyn Connector>> {
    let mut description = description.clone();
    if let Some(base_url) = &settings.base_url {
        match &mut description.source {
            Source::Http(http) => http.base_url.clone_from(base_url),
            Source::Files => anyhow::bail!(
                "`base_url` is set, but the description reads files only (`source.type = \"files\"`)"
            ),
        }
    }
    let http = http_client(settings, None)?;
    // Registers a new registry id.
    Ok(Arc::new(GenericConnector::new(&description, http)?))
}

/// One `[generic.<id>]` section, its file read.
#[derive(Debug, Clone)]
struct Generic {
    file: PathBuf,
    description: GenericConfig,
    settings: ConnectorSettings,
}

/// Every connector the configuration names: the built-in ones with their settings, and the
/// generic ones with their descriptions read and their registry ids registered.
///
/// Load it once at start-up, before parsing registry ids given on the command line and before
/// reading the store: records of a custom registry name it by its id.
#[derive(Debug, Clone)]
pub struct Catalog {
    built_in: BTreeMap<RegistryId, ConnectorSettings>,
    generic: BTreeMap<RegistryId, Generic>,
}

impl Catalog {
    /// Reads every `[generic.<id>]` file of `config` and checks it by building its connector,
    /// which registers a new registry id. Errors name the section, the file and the key.
    pub fn load(config: &Config) -> anyhow::Result<Catalog> {
        let mut generic = BTreeMap::new();
        for (name, section) in &config.generic {
            let file = &section.file;
            let at = || format!("[generic.{name}] file = {:?}", file.display().to_string());
            let description = GenericConfig::from_file(file).with_context(at)?;
            if description.registry != *name {
                anyhow::bail!(
                    "{}: the file describes registry `{}`; name its section [generic.{}]",
                    at(),
                    description.registry,
                    description.registry
                );
            }
            if let Some(built_in) = RegistryId::builtin(name)
                && config.connectors.contains_key(&built_in)
            {
                anyhow::bail!(
                    "[generic.{name}] and [connectors.{name}] both configure `{name}`: keep one"
                );
            }
            let settings = section.connector_settings();
            let connector = build_generic(&description, &settings).with_context(at)?;
            generic.insert(
                connector.registry(),
                Generic {
                    file: file.clone(),
                    description,
                    settings,
                },
            );
        }
        Ok(Catalog {
            built_in: config.connectors.clone(),
            generic,
        })
    }

    /// Every configured registry: `[connectors.*]` sections, then `[generic.*]` ones.
    pub fn configured(&self) -> Vec<RegistryId> {
        self.built_in
            .keys()
            .chain(self.generic.keys())
            .copied()
            .collect()
    }

    /// The registry named `name` on the command line: a built-in id or a configured one.
    pub fn resolve(&self, name: &str) -> anyhow::Result<RegistryId> {
        Ok(name.parse::<RegistryId>()?)
    }

    /// The settings of `registry`: configured, else the defaults.
    pub fn settings(&self, registry: RegistryId) -> ConnectorSettings {
        match self.generic.get(&registry) {
            Some(generic) => generic.settings.clone(),
            None => self.built_in.get(&registry).cloned().unwrap_or_default(),
        }
    }

    /// The configuration section of `registry`: `[generic.<id>]` or `[connectors.<id>]`.
    pub fn section(&self, registry: RegistryId) -> String {
        if self.generic.contains_key(&registry) {
            format!("[generic.{registry}]")
        } else {
            format!("[connectors.{registry}]")
        }
    }

    /// Builds the connector of `registry`: its `[generic.<id>]` description when there is
    /// one, else the built-in connector.
    ///
    /// A configured `[connectors.cadt]` section is polled, so it must name the node to read:
    /// CAD Trust has no central endpoint. Without a section, the CAD Trust connector reads
    /// saved responses only (`carbonmesh import`) and refuses to fetch with the reason.
    pub fn build(&self, registry: RegistryId) -> anyhow::Result<Arc<dyn Connector>> {
        let settings = self.settings(registry);
        match self.generic.get(&registry) {
            Some(generic) => build_generic(&generic.description, &settings)
                .with_context(|| format!("[generic.{registry}] file {}", generic.file.display())),
            None => {
                let no_node = settings
                    .base_url
                    .as_deref()
                    .is_none_or(|b| b.trim().is_empty());
                if registry == RegistryId::Cadt && self.built_in.contains_key(&registry) && no_node
                {
                    return Err(anyhow::anyhow!(
                        "`base_url` is required: CAD Trust has no central endpoint, name the \
                         node to read (e.g. base_url = \"http://cadt.example.org:31310\")"
                    )
                    .context(self.section(registry)));
                }
                build(registry, &settings).with_context(|| self.section(registry))
            }
        }
    }
}
