//! Configuration: built-in defaults, then a TOML file, then `CARBONMESH_*` environment
//! variables, then command-line flags; each layer overrides the one before.

use std::collections::BTreeMap;
use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use carbonmesh_model::RegistryId;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Format, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// The whole configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Where records are stored.
    pub database: DatabaseConfig,
    /// The HTTP server.
    pub server: ServerConfig,
    /// Logging.
    pub log: LogConfig,
    /// Registry connectors, by registry id (`[connectors.verra]`, `[connectors.gold-standard]`).
    #[serde(default)]
    pub connectors: BTreeMap<RegistryId, ConnectorSettings>,
    /// Registries read by the generic connector, each described by a TOML file
    /// (`[generic.example-registry]`), by the registry id the file declares.
    #[serde(default)]
    pub generic: BTreeMap<RegistryId, GenericSettings>,
    /// Webhook intake and processing (`[webhooks]`).
    #[serde(default)]
    pub webhooks: carbonmesh_webhook::WebhookSettings,
    /// The GraphQL API: access, limits (`[api]`).
    #[serde(default)]
    pub api: carbonmesh_api::ApiConfig,
    /// Endpoints told of alerts as they are raised and decided (`[notifications]`).
    #[serde(default)]
    pub notifications: carbonmesh_notify::NotificationSettings,
    /// When a scheduled registry counts as overdue (`[freshness]`).
    #[serde(default)]
    pub freshness: FreshnessSettings,
    /// Bulk download snapshots `serve` publishes (`[downloads]`).
    #[serde(default)]
    pub downloads: DownloadSettings,
}

/// `[downloads]`: Parquet and CSV snapshots of the tables observers read, written by `serve`
/// and published at `/downloads/…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DownloadSettings {
    /// Write and publish the snapshots.
    pub enabled: bool,
    /// Where the files are written; unset: `downloads/` beside the SQLite file (in the
    /// working directory on PostgreSQL).
    pub dir: Option<PathBuf>,
    /// How often `serve` looks, in seconds, whether a run completed or records changed
    /// since the last snapshot (and then writes a new one).
    pub check_seconds: u64,
}

impl Default for DownloadSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            dir: None,
            check_seconds: 30,
        }
    }
}

impl DownloadSettings {
    /// The folder the snapshots are written to, for the database at `database_url`.
    pub fn dir_for(&self, database_url: &str) -> PathBuf {
        if let Some(dir) = &self.dir {
            return dir.clone();
        }
        match carbonmesh_store::DatabaseUrl::parse(database_url) {
            Ok(carbonmesh_store::DatabaseUrl::Sqlite(file)) => file
                .parent()
                .map_or_else(|| PathBuf::from("downloads"), |p| p.join("downloads")),
            _ => PathBuf::from("downloads"),
        }
    }
}

/// `[freshness]`: a scheduled connector that has not completed a run for this many ticks of
/// its schedule raises a `registry_overdue` alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FreshnessSettings {
    /// Ticks of a connector's schedule without a complete run before it is overdue.
    pub overdue_after_runs: u32,
    /// How often `serve` checks, in seconds.
    pub check_seconds: u64,
}

impl Default for FreshnessSettings {
    fn default() -> Self {
        Self {
            overdue_after_runs: 3,
            check_seconds: 60,
        }
    }
}

/// A credential: an API key, a client secret, a token. Its `Debug` never shows the value, so
/// it stays out of logs and error messages.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a credential.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The credential itself, to put in a request.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<secret>")
    }
}

/// `[connectors.<registry id>]`: where and how often to poll one registry. (Unknown keys land
/// in [`ConnectorSettings::own`], which the connector's descriptor checks.)
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConnectorSettings {
    /// Poll on the schedule while `carbonmesh serve` runs.
    #[serde(default = "default_true")]
    pub enabled: bool,
    /// Cron expression, seconds first (`0 15 3 * * *`); the connector's polite default if unset.
    #[serde(default)]
    pub schedule: Option<String>,
    /// The registry's base URL; its production endpoint if unset.
    #[serde(default)]
    pub base_url: Option<String>,
    /// Requests per second at most.
    #[serde(default = "default_requests_per_second")]
    pub requests_per_second: u32,
    /// Seconds allowed for one request.
    #[serde(default = "default_timeout_seconds")]
    pub timeout_seconds: u64,
    /// Attempts per request before the run is marked incomplete.
    #[serde(default = "default_max_attempts")]
    pub max_attempts: u32,
    /// The `User-Agent` header; the connector's own choice if unset.
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Secrets (`whsec_…`) the registry signs webhooks with: several during a rotation, any
    /// matching is enough.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub webhook_secrets: Vec<Secret>,
    /// The connector's own settings (CAD Trust's `api_key` and `org_uid`, Isometric's
    /// `client_secret` and `access_token`, …): each connector says which it takes, and any
    /// other key is refused when the configuration is loaded. Never shown, since some are
    /// credentials.
    #[serde(flatten)]
    pub own: BTreeMap<String, Secret>,
}

/// `[generic.<registry id>]`: a registry read by the generic connector, described by a TOML
/// file (see `connectors/generic/README.md`). The other keys are those of
/// `[connectors.<registry id>]` and override the file where it has the same setting
/// (`schedule`, and `base_url` for the file's HTTP source).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GenericSettings {
    /// The registry's description, a TOML file; a relative path is taken from the working
    /// directory, like a SQLite database path.
    pub file: PathBuf,
    /// The polling settings, the same type as a built-in connector's section. (A key that is
    /// none of them lands in its `own` settings, which the generic connector does not take:
    /// it is refused when the configuration loads.)
    #[serde(flatten)]
    pub polling: ConnectorSettings,
}

fn default_true() -> bool {
    true
}

fn default_requests_per_second() -> u32 {
    2
}

fn default_timeout_seconds() -> u64 {
    60
}

fn default_max_attempts() -> u32 {
    5
}

impl ConnectorSettings {
    /// The schedule to poll on: the configured one, else the connector's `default`.
    pub fn schedule_or(&self, default: &str) -> String {
        self.schedule.clone().unwrap_or_else(|| default.to_owned())
    }
}

impl Default for ConnectorSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            schedule: None,
            base_url: None,
            requests_per_second: default_requests_per_second(),
            timeout_seconds: default_timeout_seconds(),
            max_attempts: default_max_attempts(),
            user_agent: None,
            webhook_secrets: Vec::new(),
            own: BTreeMap::new(),
        }
    }
}

/// `[database]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseConfig {
    /// A SQLite file path (`carbonmesh.db`, `sqlite:PATH`) or `postgres://user@host/db`.
    pub url: String,
}

/// `[server]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerConfig {
    /// Address and port to listen on.
    pub listen: SocketAddr,
}

/// `[log]`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogConfig {
    /// A `tracing` filter, e.g. `info` or `carbonmesh=debug,sqlx=warn`.
    pub filter: String,
    /// How each event is written to standard error.
    pub format: LogFormat,
}

/// `[log] format`
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// A line of text per event, coloured on a terminal: for people.
    #[default]
    Text,
    /// One JSON object per line and event (`timestamp`, `level`, `fields`, `target`, spans):
    /// for a log collector.
    Json,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            database: DatabaseConfig {
                url: "carbonmesh.db".into(),
            },
            server: ServerConfig {
                listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            },
            log: LogConfig {
                filter: "info".into(),
                format: LogFormat::Text,
            },
            connectors: BTreeMap::new(),
            generic: BTreeMap::new(),
            webhooks: carbonmesh_webhook::WebhookSettings::default(),
            api: carbonmesh_api::ApiConfig::default(),
            notifications: carbonmesh_notify::NotificationSettings::default(),
            freshness: FreshnessSettings::default(),
            downloads: DownloadSettings::default(),
        }
    }
}

/// The prefix of every configuration variable.
const ENV_PREFIX: &str = "CARBONMESH_";

/// Variables with the prefix that are not configuration keys: the file itself, the reviewer's
/// key of `alerts transition`, the secret of `webhook sign` (the test suite's,
/// `CARBONMESH_TEST_*`, are not read either).
const NOT_KEYS: [&str; 3] = [
    "CARBONMESH_CONFIG",
    "CARBONMESH_API_KEY",
    "CARBONMESH_WEBHOOK_SIGNING_SECRET",
];

/// The key path a configuration variable sets, lower case: `SERVER__LISTEN` is
/// `server.listen`; `CONNECTORS__GOLD_STANDARD__SCHEDULE` is
/// `connectors.gold-standard.schedule` (registry ids are written with underscores, since
/// variable names cannot hold a dash).
fn key_path(name: &str) -> String {
    let mut parts: Vec<String> = name.split("__").map(str::to_ascii_lowercase).collect();
    if parts.len() >= 3 && matches!(parts[0].as_str(), "connectors" | "generic") {
        parts[1] = parts[1].replace('_', "-");
    }
    parts.join(".")
}

/// Variables of an earlier naming that carbonmesh no longer reads, each with what replaces it:
/// refused rather than ignored, so a deployment never runs on settings it did not mean.
fn retired(name: &str) -> Option<String> {
    let rest = name.strip_prefix(ENV_PREFIX)?;
    if rest.contains("__")
        || NOT_KEYS.contains(&name)
        || rest.starts_with("TEST_")
        || rest == "BLESS"
    {
        return None;
    }
    let instead = match rest {
        "DATABASE_URL" => "CARBONMESH_DATABASE__URL".to_owned(),
        "SERVER_LISTEN" => "CARBONMESH_SERVER__LISTEN".to_owned(),
        "LOG" | "LOG_FILTER" => "CARBONMESH_LOG__FILTER".to_owned(),
        _ => {
            if let Some(id) = rest.strip_prefix("WEBHOOK_SECRET_") {
                format!("CARBONMESH_CONNECTORS__{id}__WEBHOOK_SECRETS (a list: [\"whsec_…\", …])")
            } else if let Some(rest) = rest.strip_prefix("CONNECTORS_") {
                let key = ["API_KEY", "CLIENT_SECRET", "ACCESS_TOKEN"]
                    .into_iter()
                    .find(|k| rest.ends_with(&format!("_{k}")))?;
                let id = &rest[..rest.len() - key.len() - 1];
                format!("CARBONMESH_CONNECTORS__{id}__{key}")
            } else {
                return None;
            }
        }
    };
    Some(instead)
}

impl Config {
    /// Loads the layers below the command line: defaults, the file (if given), the environment.
    ///
    /// Every key can be set from the environment by one rule: `CARBONMESH_` and the key's path
    /// in upper case, levels separated by `__` (`CARBONMESH_SERVER__LISTEN`,
    /// `CARBONMESH_API__RATE_PER_SECOND`, `CARBONMESH_CONNECTORS__CADT__API_KEY`); lists and
    /// tables are written as in TOML (`["whsec_a", "whsec_b"]`). Variables of the earlier
    /// naming are refused with their replacement.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        Self::load_from(file, std::env::vars())
    }

    /// [`Config::load`] with the environment given.
    pub fn load_from(
        file: Option<&Path>,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                anyhow::bail!("config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let mut variables = Vec::new();
        for (name, value) in environment {
            if let Some(instead) = retired(&name) {
                anyhow::bail!(
                    "{name} is no longer read: configuration variables are CARBONMESH_<SECTION>__<KEY>; set {instead}"
                );
            }
            if let Some(rest) = name.strip_prefix(ENV_PREFIX).filter(|r| r.contains("__")) {
                variables.push((key_path(rest), value));
            }
        }
        for (key, value) in variables {
            let value: figment::value::Value = value
                .parse()
                .unwrap_or_else(|_| figment::value::Value::from(value));
            figment = figment.merge((key, value));
        }
        figment.extract().with_context(|| match file {
            Some(file) => format!(
                "invalid configuration in {} or CARBONMESH_* variables",
                file.display()
            ),
            None => "invalid configuration in CARBONMESH_* variables".to_owned(),
        })
    }
}

impl DatabaseConfig {
    /// The URL with any password hidden, for messages.
    pub fn url_display(&self) -> anyhow::Result<String> {
        Ok(carbonmesh_store::DatabaseUrl::parse(&self.url)?.to_string())
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail API returns figment::Error by value
mod tests {
    use super::*;

    #[test]
    fn file_then_environment_override_defaults() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "carbonmesh.toml",
                "[database]\nurl = \"postgres://db/carbonmesh\"\n[server]\nlisten = \"0.0.0.0:9000\"\n",
            )?;
            jail.set_env("CARBONMESH_SERVER__LISTEN", "127.0.0.1:9100");
            let config =
                Config::load(Some(Path::new("carbonmesh.toml"))).map_err(|e| e.to_string())?;
            assert_eq!(config.database.url, "postgres://db/carbonmesh");
            assert_eq!(config.server.listen.port(), 9100);
            assert_eq!(config.log.filter, "info");
            Ok(())
        });
    }

    #[test]
    fn every_example_config_loads() {
        // Inside a jail: other tests set CARBONMESH_* variables while they run.
        figment::Jail::expect_with(|_| {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
            let mut loaded = 0;
            for entry in std::fs::read_dir(&dir).expect("config/ exists") {
                let path = entry.expect("entry").path();
                if path.extension().is_some_and(|e| e == "toml") {
                    let config = Config::load(Some(&path))
                        .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
                    crate::connectors::Catalog::load(&config)
                        .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
                    loaded += 1;
                }
            }
            assert!(loaded >= 3, "found {loaded} example configs");
            let production = Config::load(Some(&dir.join("production.toml"))).expect("load");
            assert_eq!(
                production.connectors.len(),
                crate::connectors::built_in().len()
            );
            for registry in crate::connectors::built_in() {
                assert!(
                    production.connectors.contains_key(&registry),
                    "production.toml lacks [connectors.{registry}]"
                );
            }
            assert!(
                production
                    .connectors
                    .values()
                    .all(|s| s.own.keys().all(|k| k == "org_uid")),
                "credentials belong in the environment, not in production.toml"
            );
            for (registry, settings) in &production.connectors {
                let connector = crate::connectors::build(*registry, settings)
                    .unwrap_or_else(|e| panic!("{registry}: {e:#}"));
                let schedule = settings.schedule_or(connector.default_schedule());
                carbonmesh_ingest::Schedule::parse(&schedule)
                    .unwrap_or_else(|e| panic!("{registry}: {e}"));
            }
            let defaults = Config::load(Some(&dir.join("carbonmesh.toml"))).expect("load");
            assert_eq!(
                defaults,
                Config::default(),
                "config/carbonmesh.toml documents the defaults"
            );
            Ok(())
        });
    }

    fn example(name: &str) -> String {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../config/generic")
            .join(name)
            .display()
            .to_string()
    }

    fn load_str(jail: &mut figment::Jail, text: &str) -> anyhow::Result<Config> {
        jail.create_file("c.toml", text)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        Config::load(Some(Path::new("c.toml")))
    }

    #[test]
    fn a_generic_section_registers_its_registry_and_builds_its_connector() {
        figment::Jail::expect_with(|jail| {
            let text = format!(
                "[generic.example-registry]\nfile = {:?}\nbase_url = \"http://127.0.0.1:9\"\n\
                 requests_per_second = 50\n",
                example("example-registry.toml")
            );
            let config = load_str(jail, &text).map_err(|e| e.to_string())?;
            let catalog = crate::connectors::Catalog::load(&config).map_err(|e| e.to_string())?;
            let id = catalog
                .resolve("example-registry")
                .map_err(|e| e.to_string())?;
            assert!(
                crate::connectors::descriptor(id).is_none(),
                "no built-in connector"
            );
            assert_eq!(catalog.configured(), vec![id]);
            assert_eq!(catalog.section(id), "[generic.example-registry]");
            let connector = catalog.build(id).map_err(|e| e.to_string())?;
            assert_eq!(connector.registry(), id);
            // The file's schedule, as no section overrides it.
            assert_eq!(connector.default_schedule(), "0 20 5 * * *");
            assert_eq!(catalog.settings(id).requests_per_second, 50);

            // A built-in registry described by a file replaces the built-in connector.
            let text = format!("[generic.art]\nfile = {:?}\n", example("art-trees.toml"));
            let config = load_str(jail, &text).map_err(|e| e.to_string())?;
            let catalog = crate::connectors::Catalog::load(&config).map_err(|e| e.to_string())?;
            assert_eq!(catalog.section(RegistryId::ART), "[generic.art]");
            assert_eq!(
                catalog
                    .build(RegistryId::ART)
                    .map_err(|e| e.to_string())?
                    .default_schedule(),
                "0 45 4 * * *"
            );
            Ok(())
        });
    }

    #[test]
    fn generic_section_errors_name_the_section_file_and_key() {
        figment::Jail::expect_with(|jail| {
            let message = |jail: &mut figment::Jail, text: &str| -> String {
                match load_str(jail, text).and_then(|c| crate::connectors::Catalog::load(&c)) {
                    Ok(_) => panic!("accepted: {text}"),
                    Err(e) => format!("{e:#}"),
                }
            };
            let missing = message(jail, "[generic.nowhere]\nfile = \"missing.toml\"\n");
            assert!(
                missing.contains("[generic.nowhere]") && missing.contains("missing.toml"),
                "{missing}"
            );

            let text = format!(
                "[generic.other-name]\nfile = {:?}\n",
                example("example-registry.toml")
            );
            let mismatch = message(jail, &text);
            assert!(
                mismatch.contains("[generic.example-registry]"),
                "{mismatch}"
            );

            jail.create_file(
                "typo.toml",
                "registry = \"typo-registry\"\n[feeds.issuances]\nformat = \"csv\"\n\
                 transaction = { fixed = \"issuance\" }\n\
                 fields = { project_id = \"P\", quantity = \"Q\", vintag = \"V\" }\n",
            )?;
            let typo = message(jail, "[generic.typo-registry]\nfile = \"typo.toml\"\n");
            assert!(
                typo.contains("typo.toml") && typo.contains("vintag"),
                "{typo}"
            );

            let text = format!(
                "[connectors.art]\n[generic.art]\nfile = {:?}\n",
                example("art-trees.toml")
            );
            let both = message(jail, &text);
            assert!(both.contains("keep one"), "{both}");

            let text = format!(
                "[generic.art]\nfile = {:?}\nbase_url = \"http://127.0.0.1:9\"\n",
                example("art-trees.toml")
            );
            let files_only = message(jail, &text);
            assert!(files_only.contains("base_url"), "{files_only}");

            let unknown = message(jail, "[generic.x]\nfile = \"x.toml\"\nshedule = \"\"\n");
            assert!(unknown.contains("shedule"), "{unknown}");
            Ok(())
        });
    }

    #[test]
    fn connector_keys_are_checked_per_registry() {
        figment::Jail::expect_with(|jail| {
            let build = |jail: &mut figment::Jail, text: &str, registry: RegistryId| {
                load_str(jail, text)
                    .and_then(|c| crate::connectors::Catalog::load(&c))
                    .and_then(|c| c.build(registry))
                    .map(|_| ())
                    .map_err(|e| format!("{e:#}"))
            };
            let cadt = build(jail, "[connectors.cadt]\n", RegistryId::CADT).expect_err("no url");
            assert!(
                cadt.contains("[connectors.cadt]") && cadt.contains("base_url"),
                "{cadt}"
            );
            // Not configured, CAD Trust is read from saved files only.
            build(jail, "", RegistryId::CADT).expect("cadt for files");
            build(
                jail,
                "[connectors.cadt]\nbase_url = \"http://127.0.0.1:31310\"\napi_key = \"k\"\norg_uid = \"o\"\n",
                RegistryId::CADT,
            )
            .expect("cadt with a node");
            build(
                jail,
                "[connectors.biocarbon]\napi_key = \"k\"\n",
                RegistryId::BIOCARBON,
            )
            .expect("biocarbon with a key");
            build(
                jail,
                "[connectors.isometric]\nclient_secret = \"s\"\naccess_token = \"t\"\n",
                RegistryId::ISOMETRIC,
            )
            .expect("isometric with credentials");
            build(jail, "[connectors.isometric]\n", RegistryId::ISOMETRIC)
                .expect("isometric without credentials");
            let stray = build(
                jail,
                "[connectors.verra]\napi_key = \"k\"\n",
                RegistryId::VERRA,
            )
            .expect_err("verra takes no key");
            assert!(
                stray.contains("[connectors.verra]") && stray.contains("api_key"),
                "{stray}"
            );
            Ok(())
        });
    }

    #[test]
    fn credentials_from_the_file_are_never_shown() {
        figment::Jail::expect_with(|jail| {
            let config = load_str(
                jail,
                "[connectors.biocarbon]\napi_key = \"from-file-7c1\"\n\
                 [connectors.isometric]\nclient_secret = \"from-file-9d2\"\n",
            )
            .map_err(|e| e.to_string())?;
            let shown = format!("{config:?}");
            assert!(!shown.contains("from-file"), "{shown}");
            Ok(())
        });
    }

    /// One rule for every key: a nested key, a secret, a connector's setting under an id with
    /// a dash, and a list, all from the environment over the file.
    #[test]
    fn one_rule_sets_any_key_from_the_environment() {
        let env = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "carbonmesh.toml",
                "[api]\nrate_per_second = 50\n[connectors.isometric]\nclient_secret = \"file-1\"\n",
            )?;
            let config = Config::load_from(
                Some(Path::new("carbonmesh.toml")),
                env(&[
                    ("CARBONMESH_API__RATE_PER_SECOND", "7"),
                    ("CARBONMESH_API__ANONYMOUS_READ", "false"),
                    ("CARBONMESH_CONNECTORS__ISOMETRIC__ACCESS_TOKEN", "token-5b6"),
                    ("CARBONMESH_CONNECTORS__GOLD_STANDARD__SCHEDULE", "0 5 4 * * *"),
                    (
                        "CARBONMESH_CONNECTORS__VERRA__WEBHOOK_SECRETS",
                        "[\"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw\", \"whsec_QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=\"]",
                    ),
                    ("CARBONMESH_CONFIG", "ignored: not a key"),
                    ("CARBONMESH_API_KEY", "ignored: the reviewer's key"),
                    ("PATH", "/usr/bin"),
                ]),
            )
            .map_err(|e| format!("{e:#}"))?;
            assert_eq!(config.api.rate_per_second, 7);
            assert!(!config.api.anonymous_read);
            let isometric = &config.connectors[&RegistryId::ISOMETRIC];
            let own = |key: &str| isometric.own.get(key).map(Secret::expose);
            assert_eq!(own("access_token"), Some("token-5b6"));
            assert_eq!(own("client_secret"), Some("file-1"));
            assert!(!format!("{config:?}").contains("token-5b6"));
            assert_eq!(
                config.connectors[&RegistryId::GOLD_STANDARD]
                    .schedule
                    .as_deref(),
                Some("0 5 4 * * *")
            );
            assert_eq!(
                config.connectors[&RegistryId::VERRA].webhook_secrets.len(),
                2
            );
            let catalog = crate::connectors::Catalog::load(&config).map_err(|e| e.to_string())?;
            assert_eq!(
                catalog
                    .settings(RegistryId::ISOMETRIC)
                    .own
                    .get("access_token")
                    .map(Secret::expose),
                Some("token-5b6")
            );
            Ok(())
        });
    }

    #[test]
    fn variables_of_the_earlier_naming_are_refused_with_their_replacement() {
        for (old, new) in [
            ("CARBONMESH_DATABASE_URL", "CARBONMESH_DATABASE__URL"),
            ("CARBONMESH_LOG", "CARBONMESH_LOG__FILTER"),
            (
                "CARBONMESH_CONNECTORS_GOLD_STANDARD_API_KEY",
                "CARBONMESH_CONNECTORS__GOLD_STANDARD__API_KEY",
            ),
            (
                "CARBONMESH_WEBHOOK_SECRET_VERRA",
                "CARBONMESH_CONNECTORS__VERRA__WEBHOOK_SECRETS",
            ),
        ] {
            let error =
                Config::load_from(None, [(old.to_owned(), "x".to_owned())]).expect_err("refused");
            let message = format!("{error:#}");
            assert!(message.contains(old) && message.contains(new), "{message}");
        }
        for fine in [
            "CARBONMESH_TEST_POSTGRES_URL",
            "CARBONMESH_BLESS",
            "CARBONMESH_CONFIG",
        ] {
            Config::load_from(None, [(fine.to_owned(), "x".to_owned())]).expect(fine);
        }
    }

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "[database]\nurll = \"x\"\n")?;
            assert!(Config::load(Some(Path::new("bad.toml"))).is_err());
            assert!(Config::load(Some(Path::new("missing.toml"))).is_err());
            Ok(())
        });
    }

    #[test]
    fn the_log_format_is_text_or_json() {
        figment::Jail::expect_with(|jail| {
            let config = load_str(jail, "[log]\nformat = \"json\"\n").map_err(|e| e.to_string())?;
            assert_eq!(config.log.format, LogFormat::Json);
            assert_eq!(config.log.filter, "info");
            let error = format!(
                "{:#}",
                load_str(jail, "[log]\nformat = \"logfmt\"\n").expect_err("logfmt is refused")
            );
            assert!(error.contains("logfmt"), "{error}");

            // The environment, which overrides the file.
            jail.set_env("CARBONMESH_LOG__FORMAT", "json");
            let config = Config::load(None).map_err(|e| e.to_string())?;
            assert_eq!(config.log.format, LogFormat::Json);
            jail.set_env("CARBONMESH_LOG__FORMAT", "xml");
            let error = format!("{:#}", Config::load(None).expect_err("xml is refused"));
            assert!(error.contains("xml") && error.contains("json"), "{error}");
            Ok(())
        });
    }
}
