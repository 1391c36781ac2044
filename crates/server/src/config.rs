//! Configuration: built-in defaults, then a TOML file, then `CARBONMESH_*` environment
//! variables, then command-line flags; each layer overrides the one before.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;

use carbonmesh_model::RegistryId;

use anyhow::Context;
use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
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
}

/// `[connectors.<registry id>]`: where and how often to poll one registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
            },
            connectors: BTreeMap::new(),
        }
    }
}

impl Config {
    /// Loads the layers below the command line: defaults, the file (if given), the environment.
    ///
    /// Environment variables are `CARBONMESH_<SECTION>_<KEY>`, e.g. `CARBONMESH_DATABASE_URL`
    /// or `CARBONMESH_SERVER_LISTEN`.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            if !file.exists() {
                anyhow::bail!("config file {} does not exist", file.display());
            }
            figment = figment.merge(Toml::file_exact(file));
        }
        let env = Env::prefixed("CARBONMESH_")
            .filter(|key| {
                ["database_url", "server_listen", "log_filter"]
                    .iter()
                    .any(|known| key.as_str().eq_ignore_ascii_case(known))
            })
            .map(|key| key.as_str().replacen('_', ".", 1).into());
        figment.merge(env).extract().with_context(|| match file {
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
            jail.set_env("CARBONMESH_SERVER_LISTEN", "127.0.0.1:9100");
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
                    Config::load(Some(&path))
                        .unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
                    loaded += 1;
                }
            }
            assert!(loaded >= 3, "found {loaded} example configs");
            let production = Config::load(Some(&dir.join("production.toml"))).expect("load");
            assert_eq!(
                production.connectors.len(),
                crate::connectors::BUILT_IN.len()
            );
            for (registry, settings) in &production.connectors {
                let connector = crate::connectors::build(*registry, settings)
                    .unwrap_or_else(|e| panic!("{registry}: {e:#}"));
                let schedule = settings
                    .schedule
                    .clone()
                    .unwrap_or_else(|| connector.default_schedule().to_owned());
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

    #[test]
    fn unknown_keys_and_missing_files_are_errors() {
        figment::Jail::expect_with(|jail| {
            jail.create_file("bad.toml", "[database]\nurll = \"x\"\n")?;
            assert!(Config::load(Some(Path::new("bad.toml"))).is_err());
            assert!(Config::load(Some(Path::new("missing.toml"))).is_err());
            Ok(())
        });
    }
}
