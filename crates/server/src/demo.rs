//! `carbonmesh demo`: the registry simulator in-process, every built-in connector (a CAD Trust
//! node included) syncing from it over HTTP into the configured database (a SQLite file by
//! default), then serving.

use std::io::{IsTerminal, Write};
use std::sync::Arc;

use anyhow::Context;
use carbonmesh_connector::Connector;
use carbonmesh_ingest::{Schedule, sync};
use carbonmesh_simulator::{CaseCounts, Scale, Simulator, SimulatorConfig, SimulatorHandle};
use carbonmesh_store::Store;

use carbonmesh_model::RegistryId;

use crate::config::{ConnectorSettings, Secret};
use crate::connectors;

/// The credential the simulator expects where the real registry asks for one (any value is
/// accepted; none is refused, as the registry would).
const DEMO_CREDENTIAL: &str = "carbonmesh-demo";

/// The settings that point `registry`'s connector at the simulator at `base_url`.
pub fn simulator_settings(registry: RegistryId, base_url: &str) -> ConnectorSettings {
    let credential = || Some(Secret::new(DEMO_CREDENTIAL));
    let mut settings = ConnectorSettings {
        base_url: Some(base_url.to_owned()),
        requests_per_second: 200,
        timeout_seconds: 30,
        ..ConnectorSettings::default()
    };
    match registry {
        RegistryId::Biocarbon => settings.api_key = credential(),
        RegistryId::Isometric => {
            settings.client_secret = credential();
            settings.access_token = credential();
        }
        _ => {}
    }
    settings
}

/// The demo's data set.
#[derive(Debug, Clone, Copy)]
pub struct DemoSize {
    /// Seed of the simulated registries.
    pub seed: u64,
    /// Projects per registry.
    pub projects: u64,
    /// Issuance blocks per registry.
    pub blocks: u64,
}

/// Connectors pointed at the simulator, each with the schedule the demo polls it on.
pub type DemoConnectors = Vec<(Arc<dyn Connector>, Schedule)>;

/// Starts the simulator and syncs every built-in connector from it once (the simulator serves
/// every built-in registry, and a CAD Trust node), showing progress.
pub async fn start_and_sync(
    store: &dyn Store,
    size: DemoSize,
) -> anyhow::Result<(SimulatorHandle, DemoConnectors)> {
    let simulator = Simulator::start(SimulatorConfig {
        seed: size.seed,
        scale: Scale::uniform(size.projects, size.blocks),
        cases: CaseCounts::each(2),
        ..SimulatorConfig::default()
    })
    .await
    .context("cannot start the registry simulator")?;
    println!("registry simulator serving at {}", simulator.base_url());

    // Poll the simulator every minute, so the demo shows scheduled polling too.
    let schedule = Schedule::parse("0 * * * * *")?;
    let mut built = Vec::new();
    for registry in connectors::BUILT_IN {
        let settings = simulator_settings(registry, &simulator.base_url());
        let connector = connectors::build(registry, &settings)?;
        let interactive = std::io::stdout().is_terminal();
        let outcome = sync(store, connector.as_ref(), "demo", |counts| {
            if interactive {
                print!(
                    "\r  {:<14} {:>8} records read, {:>8} new, {:>6} rejected",
                    registry.as_str(),
                    counts.seen,
                    counts.new,
                    counts.rejected
                );
                let _ = std::io::stdout().flush();
            }
        })
        .await
        .with_context(|| format!("sync of {registry} failed"))?;
        if interactive {
            print!("\r");
        }
        println!(
            "  {:<14} {:>8} records read, {:>8} new, {:>6} rejected  (run {} {})",
            registry.as_str(),
            outcome.counts.seen,
            outcome.counts.new,
            outcome.counts.rejected,
            outcome.run_id,
            outcome.status
        );
        for error in &outcome.errors {
            println!("    error: {error}");
        }
        built.push((connector, schedule.clone()));
    }
    Ok((simulator, built))
}
