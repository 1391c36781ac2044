//! `carbonmesh demo`: the registry simulator in-process, every built-in connector (a CAD Trust
//! node included) syncing from it over HTTP into the configured database (a SQLite file by
//! default), then serving.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use carbonmesh_connector::Connector;
use carbonmesh_ingest::{Schedule, sync};
use carbonmesh_matcher::MatchSession;
use carbonmesh_simulator::{
    CaseCounts, RegistryUpdates, Scale, Simulator, SimulatorConfig, SimulatorHandle,
};
use carbonmesh_store::Store;

use carbonmesh_model::RegistryId;

use crate::config::{ConnectorSettings, Secret};
use crate::connectors;

/// The credential the simulator expects where the real registry asks for one (any value is
/// accepted; none is refused, as the registry would).
const DEMO_CREDENTIAL: &str = "carbonmesh-demo";

/// The settings that point `registry`'s connector at the simulator at `base_url`.
pub fn simulator_settings(registry: RegistryId, base_url: &str) -> ConnectorSettings {
    // The simulator accepts any credential: give the connector each one it takes.
    let own = crate::connectors::descriptor(registry)
        .map(|d| d.secrets)
        .unwrap_or_default()
        .iter()
        .map(|key| ((*key).to_owned(), Secret::new(DEMO_CREDENTIAL)))
        .collect();
    ConnectorSettings {
        base_url: Some(base_url.to_owned()),
        requests_per_second: 200,
        timeout_seconds: 30,
        own,
        ..ConnectorSettings::default()
    }
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
    matcher: &MatchSession,
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
    for registry in connectors::built_in() {
        if !carbonmesh_simulator::Feed::simulated(registry) {
            println!(
                "  {:<14} not simulated: the demo reads no records of it",
                registry.as_str()
            );
            continue;
        }
        let settings = simulator_settings(registry, &simulator.base_url());
        let connector = connectors::build(registry, &settings)?;
        let mut progress = crate::progress::ProgressLine::new(registry.as_str());
        let mut pages = 0;
        let outcome = sync(store, matcher, connector.as_ref(), "demo", |counts| {
            pages += 1;
            progress.update(counts.seen, pages, None);
        })
        .await
        .with_context(|| format!("sync of {registry} failed"))?;
        progress.finish();
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

/// The secret the demo's simulated Verra signs its change webhooks with. A demo value, public
/// on purpose: real secrets come from the configuration or the environment.
pub const DEMO_WEBHOOK_SECRET: &str = "whsec_Y2FyYm9ubWVzaCBkZW1vIHdlYmhvb2sgc2lnbmluZyBrZXk=";

/// The webhook endpoint of the demo's Verra: its connector (pointed at the simulator) and the
/// demo secret.
pub fn webhook_endpoint(
    connector: Arc<dyn Connector>,
) -> anyhow::Result<carbonmesh_webhook::Endpoint> {
    Ok(carbonmesh_webhook::Endpoint {
        connector,
        secrets: vec![carbonmesh_webhook::WebhookSecret::parse(
            DEMO_WEBHOOK_SECRET,
        )?],
    })
}

/// Plays a registry that pushes its changes, for as long as the demo runs: every `every`,
/// the simulated Verra changes the status of one of its projects (so that its feeds publish
/// the new status from then on) and announces the project in a signed `common_format`
/// delivery to `POST {base_url}/webhooks/verra`. The next poll reads the same project, so it
/// confirms the change instead of undoing it.
pub async fn push_changes(
    store: Arc<dyn Store>,
    registry: RegistryUpdates,
    base_url: String,
    every: Duration,
) {
    let Some(sender) = carbonmesh_simulator::WebhookSender::new(
        &base_url,
        RegistryId::VERRA.as_str(),
        &[DEMO_WEBHOOK_SECRET],
    ) else {
        return;
    };
    const STATUSES: [&str; 3] = ["On Hold", "Under Validation", "Registered"];
    for round in 1u64.. {
        tokio::time::sleep(every).await;
        let projects = match store.projects_page(Some("verra:"), 50).await {
            Ok(p) => p,
            Err(error) => {
                tracing::warn!(%error, "demo webhook: cannot read projects");
                continue;
            }
        };
        let Some(mut project) = projects
            .into_iter()
            .map(|(_, p)| p)
            .filter(|p| p.registry == RegistryId::VERRA)
            .nth((round % 50) as usize)
        else {
            continue;
        };
        // Verra project ids are `VCS<number>`; the simulator knows projects by number.
        let Some(number) = project
            .registry_project_id
            .strip_prefix("VCS")
            .and_then(|n| n.parse::<u64>().ok())
        else {
            tracing::warn!(project = %project.id(), "demo webhook: not a Verra project id");
            continue;
        };
        let status = STATUSES[(round / 50 % 3) as usize];
        registry.set_verra_project_status(number, status);
        project.status = Some(carbonmesh_model::Normalized::new(
            carbonmesh_normalize::project_status(RegistryId::VERRA, status),
            status.to_owned(),
        ));
        let body = serde_json::json!({
            "type": "common_format",
            "timestamp": chrono::Utc::now().to_rfc3339(),
            "data": { "projects": [project], "credits": [] },
        });
        match sender.send(body.to_string().as_bytes()).await {
            Ok(answer) => tracing::info!(
                status = answer.status,
                project = %project.id(),
                "demo registry pushed a signed change"
            ),
            Err(error) => tracing::warn!(%error, "demo webhook delivery failed"),
        }
    }
}

/// What the demo prints once it serves at `address`.
pub fn banner(address: &str) -> String {
    format!(
        "\nTry it:\n\
         \x20 Review console  http://{address}/console   (sign in with a key: carbonmesh keys create --name you --role reviewer)\n\
         \x20 GraphiQL        http://{address}/graphiql\n\
         \x20 GraphQL         http://{address}/graphql\n\
         \x20 health, metrics http://{address}/healthz  http://{address}/readyz  http://{address}/metrics\n\
         \n\
         \x20 # 1. Retirements in Brazil since 2020, with their projects\n\
         \x20 curl -s http://{address}/graphql -H 'content-type: application/json' -d '{{\"query\":\"{{ creditRecords(filter: {{countries: [\\\"BR\\\"], vintageFrom: 2020, transactionTypes: [\\\"retirement\\\"]}}, first: 5) {{ totalCount edges {{ node {{ registry serial quantity project {{ name }} }} }} }} }}\"}}'\n\
         \x20 # 2. Double-counting alerts, most severe first, with their evidence\n\
         \x20 curl -s http://{address}/graphql -H 'content-type: application/json' -d '{{\"query\":\"{{ alerts(first: 5) {{ totalCount edges {{ node {{ kind severity explanation overlap {{ namespace start end units }} }} }} }} }}\"}}'\n\
         \x20 # 3. Every registry, how fresh it is, and the market totals by registry\n\
         \x20 curl -s http://{address}/graphql -H 'content-type: application/json' -d '{{\"query\":\"{{ registries {{ id projects creditRecords lastSuccessfulRun }} statistics {{ byRegistry {{ key issued retired cancelled }} }} }}\"}}'\n\
         \n\
         Reviewing alerts needs a key: carbonmesh keys create --name you --role reviewer\n"
    )
}
