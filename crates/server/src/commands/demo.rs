//! `carbonmesh demo`

use std::process::ExitCode;

use carbonmesh_matcher::MatchSession;
use carbonmesh_server::cli::DemoArgs;
use carbonmesh_server::config::Config;
use carbonmesh_server::connectors::Catalog;
use carbonmesh_server::demo::{self, DemoSize};
use carbonmesh_server::webhooks;

use super::serve::serve;
use super::store::open_store;

/// Starts the registry simulator, syncs every connector from it, prints what was found and,
/// unless `--no-serve`, serves.
pub async fn run(
    args: DemoArgs,
    mut config: Config,
    catalog: &Catalog,
) -> anyhow::Result<ExitCode> {
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    let store = open_store(&config).await?;
    println!(
        "carbonmesh demo: database {}",
        config.database.url_display()?
    );
    let size = DemoSize {
        seed: args.seed,
        projects: args.projects,
        blocks: args.blocks,
    };
    let matcher = MatchSession::new();
    let (simulator, scheduled) = demo::start_and_sync(store.as_ref(), &matcher, size).await?;
    let counts = store.counts().await?;
    println!(
        "synced: {} projects, {} credit records, {} rejected records kept with reasons",
        counts.projects, counts.credits, counts.rejected
    );
    let mut by_severity = Vec::new();
    for severity in carbonmesh_model::Severity::ALL {
        let filter = carbonmesh_store::AlertFilter {
            severities: vec![*severity],
            ..Default::default()
        };
        by_severity.push(format!("{} {severity}", store.count_alerts(&filter).await?));
    }
    println!("matcher: alerts {}", by_severity.join(", "));
    if !args.no_serve {
        // The simulated Verra also pushes signed changes to the webhook intake.
        let mut endpoints = webhooks::endpoints(catalog)?;
        if let Some((verra, _)) = scheduled
            .iter()
            .find(|(c, _)| c.registry() == carbonmesh_model::RegistryId::VERRA)
        {
            endpoints.insert("verra".into(), demo::webhook_endpoint(verra.clone())?);
        }
        let listen = config.server.listen;
        if listen.port() != 0 {
            println!("{}", demo::banner(&listen.to_string()));
            tokio::spawn(demo::push_changes(
                store.clone(),
                simulator.registry(),
                format!("http://{listen}"),
                std::time::Duration::from_secs(15),
            ));
        }
        serve(&config, store, matcher, scheduled, endpoints).await?;
    }
    simulator.shutdown().await;
    Ok(ExitCode::SUCCESS)
}
