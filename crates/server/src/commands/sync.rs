//! `carbonmesh sync`

use std::process::ExitCode;

use carbonmesh_matcher::MatchSession;
use carbonmesh_model::RegistryId;
use carbonmesh_server::cli::SyncArgs;
use carbonmesh_server::config::Config;
use carbonmesh_server::connectors::Catalog;
use carbonmesh_server::progress::ProgressLine;

use super::store::open_store;
use super::summary;

/// Polls the named registries (every configured one when none is named) once; fails when a
/// run does not complete.
pub async fn run(args: SyncArgs, config: &Config, catalog: &Catalog) -> anyhow::Result<ExitCode> {
    let names: Vec<RegistryId> = if args.connectors.is_empty() {
        catalog.configured()
    } else {
        args.connectors
            .iter()
            .map(|name| catalog.resolve(name))
            .collect::<anyhow::Result<_>>()?
    };
    anyhow::ensure!(
        !names.is_empty(),
        "no connector named and none configured: name one, e.g. `carbonmesh sync verra`"
    );
    let connectors = names
        .iter()
        .map(|registry| catalog.build(*registry))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let store = open_store(config).await?;
    let matcher = MatchSession::new();
    let mut all_complete = true;
    for (registry, connector) in names.into_iter().zip(connectors) {
        let mut progress = ProgressLine::new(registry.as_str());
        let mut pages = 0;
        let outcome = carbonmesh_ingest::sync(
            store.as_ref(),
            &matcher,
            connector.as_ref(),
            "manual",
            |counts| {
                pages += 1;
                progress.update(counts.seen, pages, None);
            },
        )
        .await?;
        progress.finish();
        all_complete &= outcome.status == carbonmesh_model::RunStatus::Complete;
        println!(
            "{registry}: run {} {}: {}{}",
            outcome.run_id,
            outcome.status,
            summary(&outcome.counts),
            outcome
                .errors
                .iter()
                .map(|e| match e.starts_with("warning: ") {
                    true => format!("\n  {e}"),
                    false => format!("\n  error: {e}"),
                })
                .collect::<String>()
        );
    }
    if !all_complete {
        return Ok(ExitCode::FAILURE);
    }
    Ok(ExitCode::SUCCESS)
}
