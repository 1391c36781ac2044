//! How a connector presents itself to the server: a [`Descriptor`] each connector crate
//! exports, with the factory that builds the connector from its settings. The server keeps one
//! list of descriptors (one line per connector, each behind a Cargo feature) and needs nothing
//! else of a connector crate.

use std::collections::BTreeMap;
use std::sync::Arc;

use carbonmesh_model::RegistryId;

use crate::{Connector, Feed, HttpClient};

/// What a connector's factory is given: its section of the configuration and an HTTP client
/// built from the section's polling settings (rate, timeout, attempts, `User-Agent`).
pub struct Setup<'a> {
    /// `base_url`, when the section sets it (a mirror, a simulator, a CAD Trust node).
    pub base_url: Option<&'a str>,
    /// The settings of the connector's own ([`Descriptor::settings`]), by key, as set.
    pub settings: &'a BTreeMap<String, String>,
    /// The HTTP client to fetch with.
    pub http: HttpClient,
}

impl Setup<'_> {
    /// The setting `key` ([`Descriptor::settings`]), when set and not blank.
    pub fn setting(&self, key: &str) -> Option<String> {
        self.settings
            .get(key)
            .filter(|v| !v.trim().is_empty())
            .cloned()
    }

    /// `base_url` as set and not blank.
    pub fn base_url(&self) -> Option<String> {
        self.base_url
            .filter(|b| !b.trim().is_empty())
            .map(str::to_owned)
    }
}

/// A built-in connector, as its crate exports it (`pub const DESCRIPTOR`).
#[derive(Clone, Copy)]
pub struct Descriptor {
    /// The registry it reads.
    pub registry: RegistryId,
    /// The registry's name, for people (`Gold Standard Impact Registry`).
    pub name: &'static str,
    /// When to poll unless configured: a cron expression with seconds first, polite to the
    /// registry ([`Connector::default_schedule`] answers with it).
    pub default_schedule: &'static str,
    /// The feeds it reads, in the order a sync fetches them ([`Connector::feeds`]).
    pub feeds: &'static [Feed],
    /// Settings of its own beyond the polling ones every connector takes (`api_key`,
    /// `org_uid`): any other key in its section is refused.
    pub settings: &'static [&'static str],
    /// Which of [`Descriptor::settings`] are credentials: never logged nor shown.
    pub secrets: &'static [&'static str],
    /// The `User-Agent` it sends unless configured (`None`: carbonmesh's own).
    pub user_agent: Option<&'static str>,
    /// Whether a configured section must name `base_url`: the registry has no central
    /// endpoint (CAD Trust's nodes). Unconfigured, such a connector reads saved files only.
    pub needs_base_url: bool,
    /// Builds the connector; errors say which setting is missing or wrong.
    pub build: fn(Setup<'_>) -> Result<Arc<dyn Connector>, String>,
}

impl std::fmt::Debug for Descriptor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Descriptor")
            .field("registry", &self.registry)
            .field("name", &self.name)
            .field("default_schedule", &self.default_schedule)
            .field("feeds", &self.feeds)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}
