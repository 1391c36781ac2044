//! The one place that lists carbonmesh's built-in connectors and builds them, and the generic
//! (TOML-described) connectors of the configuration, from config.

use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use carbonmesh_connector::{Connector, HttpClient, HttpPolicy, Setup};
use carbonmesh_model::RegistryId;

use crate::config::{Config, ConnectorSettings};

use carbonmesh_connector::Descriptor;
use carbonmesh_connector_generic::config::Source;
use carbonmesh_connector_generic::{GenericConfig, GenericConnector};

/// Lists the descriptors of the connectors whose features are on: `"feature" => crate`.
macro_rules! built_in {
    ($($feature:literal => $krate:ident,)*) => {
        /// Every built-in connector of this build, in the order listed.
        // One push per connector, each behind its feature (a `vec![]` cannot hold `#[cfg]`s);
        // every feature may be off.
        #[allow(clippy::vec_init_then_push)]
        pub fn descriptors() -> Vec<Descriptor> {
            #[allow(unused_mut)]
            let mut all = Vec::new();
            $(
                #[cfg(feature = $feature)]
                all.push($krate::DESCRIPTOR);
            )*
            all
        }
    };
}

// Every built-in connector, one line each: a connector crate exports its descriptor, and its
// Cargo feature (on by default) puts it here.
built_in! {
    "verra" => verra,
    "gold-standard" => gold_standard,
    "acr" => acr,
    "car" => car,
    "arb" => arb,
    "art" => art,
    "isometric" => isometric,
    "puro" => puro,
    "cercarbono" => cercarbono,
    "biocarbon" => biocarbon,
    "cadt" => cadt,
    "toucan" => toucan,
}

/// The descriptor of `registry`'s built-in connector, if this build has one.
pub fn descriptor(registry: RegistryId) -> Option<Descriptor> {
    descriptors().into_iter().find(|d| d.registry == registry)
}

/// Registries with a built-in connector in this build.
pub fn built_in() -> Vec<RegistryId> {
    descriptors().iter().map(|d| d.registry).collect()
}

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

/// Refuses a setting that `descriptor`'s connector does not take, rather than ignoring it.
fn check_keys(descriptor: &Descriptor, settings: &ConnectorSettings) -> anyhow::Result<()> {
    for key in settings.own.keys() {
        if !descriptor.settings.contains(&key.as_str()) {
            let takes = if descriptor.settings.is_empty() {
                "none beyond the polling settings".to_owned()
            } else {
                descriptor.settings.join(", ")
            };
            anyhow::bail!(
                "`{key}` is not a setting of the {} connector (its own: {takes})",
                descriptor.registry
            );
        }
    }
    Ok(())
}

/// Builds the built-in connector of `registry` with `settings`.
pub fn build(
    registry: RegistryId,
    settings: &ConnectorSettings,
) -> anyhow::Result<Arc<dyn Connector>> {
    let Some(descriptor) = descriptor(registry) else {
        anyhow::bail!(
            "no connector for `{registry}` (built in: {}; any other registry can be described in \
             a [generic.<id>] file)",
            built_in()
                .iter()
                .map(|r| r.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    };
    check_keys(&descriptor, settings)?;
    let http = http_client(settings, descriptor.user_agent)?;
    let own: BTreeMap<String, String> = settings
        .own
        .iter()
        .map(|(k, v)| (k.clone(), v.expose().to_owned()))
        .collect();
    (descriptor.build)(Setup {
        base_url: settings.base_url.as_deref(),
        settings: &own,
        http,
    })
    .map_err(|reason| anyhow::anyhow!(reason))
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
/// generic ones with their descriptions read.
#[derive(Debug, Clone)]
pub struct Catalog {
    built_in: BTreeMap<RegistryId, ConnectorSettings>,
    generic: BTreeMap<RegistryId, Generic>,
}

impl Catalog {
    /// Reads every `[generic.<id>]` file of `config` and checks it by building its connector.
    /// Errors name the section, the file and the key.
    pub fn load(config: &Config) -> anyhow::Result<Catalog> {
        let mut generic = BTreeMap::new();
        for (name, section) in &config.generic {
            if let Some(key) = section.polling.own.keys().next() {
                anyhow::bail!(
                    "[generic.{name}]: `{key}` is not a setting (file, and the polling settings of \
                     [connectors.<id>]: enabled, schedule, base_url, requests_per_second, \
                     timeout_seconds, max_attempts, user_agent, webhook_secrets)"
                );
            }
            let file = &section.file;
            let at = || format!("[generic.{name}] file = {:?}", file.display().to_string());
            let description = GenericConfig::from_file(file).with_context(at)?;
            if description.registry.trim() != name.as_str() {
                anyhow::bail!(
                    "{}: the file describes registry `{}`; name its section [generic.{}]",
                    at(),
                    description.registry,
                    description.registry
                );
            }
            if config.connectors.contains_key(name) {
                anyhow::bail!(
                    "[generic.{name}] and [connectors.{name}] both configure `{name}`: keep one"
                );
            }
            let settings = section.polling.clone();
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
        // A key a connector does not take is refused now, whatever the command.
        for (registry, settings) in &config.connectors {
            if let Some(descriptor) = descriptor(*registry) {
                check_keys(&descriptor, settings)
                    .with_context(|| format!("[connectors.{registry}]"))?;
            }
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

    /// The registry named `name` on the command line: one with a connector in this build or a
    /// `[generic.<id>]` description.
    pub fn resolve(&self, name: &str) -> anyhow::Result<RegistryId> {
        let id = name.parse::<RegistryId>()?;
        if descriptor(id).is_none() && !self.generic.contains_key(&id) {
            let known: Vec<String> = built_in()
                .into_iter()
                .chain(self.generic.keys().copied())
                .map(|r| r.to_string())
                .collect();
            anyhow::bail!(
                "unknown registry `{}` (this build reads: {}; describe another with a \
                 [generic.<id>] section)",
                name.trim(),
                known.join(", ")
            );
        }
        Ok(id)
    }

    /// Whether `registry` is read through a `[generic.<id>]` description.
    pub fn is_generic(&self, registry: RegistryId) -> bool {
        self.generic.contains_key(&registry)
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
    /// A configured section of a registry without a central endpoint (CAD Trust) is polled, so
    /// it must name the node to read; without a section, such a connector reads saved
    /// responses only (`carbonmesh import`) and refuses to fetch with the reason.
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
                let needs_node = descriptor(registry).is_some_and(|d| d.needs_base_url);
                if needs_node && self.built_in.contains_key(&registry) && no_node {
                    return Err(anyhow::anyhow!(
                        "`base_url` is required: {registry} has no central endpoint, name the \
                         one to read (e.g. base_url = \"http://node.example.org:31310\")"
                    )
                    .context(self.section(registry)));
                }
                build(registry, &settings).with_context(|| self.section(registry))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One descriptor per registry; each builds from default settings (a registry without a
    /// central endpoint reads files only) and names credentials among its own settings.
    #[test]
    fn every_descriptor_builds_its_registry() {
        let all = descriptors();
        // The default build has a connector for every connector crate of the workspace (the
        // generic one aside, which the configuration instantiates).
        let crates = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/../../connectors"))
            .expect("connectors/")
            .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
            .filter(|name| name != "generic")
            .count();
        assert_eq!(all.len(), crates, "a connector crate is not in `built_in!`");
        let mut seen = std::collections::BTreeSet::new();
        for d in &all {
            assert!(seen.insert(d.registry), "{} twice", d.registry);
            assert!(
                d.secrets.iter().all(|s| d.settings.contains(s)),
                "{}: a credential that is not one of its settings",
                d.registry
            );
            let connector = build(d.registry, &ConnectorSettings::default())
                .unwrap_or_else(|e| panic!("{}: {e:#}", d.registry));
            assert_eq!(connector.registry(), d.registry);
            assert_eq!(connector.feeds(), d.feeds);
            assert_eq!(connector.default_schedule(), d.default_schedule);
            carbonmesh_ingest::Schedule::parse(d.default_schedule)
                .unwrap_or_else(|e| panic!("{}: {e}", d.registry));
        }
        let stray = ConnectorSettings {
            own: [("api_key".to_owned(), crate::config::Secret::new("k"))].into(),
            ..ConnectorSettings::default()
        };
        let Err(error) = build(RegistryId::VERRA, &stray) else {
            panic!("Verra takes no key");
        };
        assert!(format!("{error:#}").contains("`api_key` is not a setting of the verra connector"));
    }
}
