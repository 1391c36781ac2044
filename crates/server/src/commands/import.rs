//! `carbonmesh import`

use std::process::ExitCode;

use anyhow::Context;

use carbonmesh_matcher::MatchSession;
use carbonmesh_server::cli::ImportArgs;
use carbonmesh_server::config::Config;
use carbonmesh_server::connectors::Catalog;
use carbonmesh_server::progress::ProgressLine;

use super::store::open_store;
use super::summary;

/// Imports files downloaded from a registry by hand; exits with status 2 when a file has more
/// rejected rows than `--max-rejected` allows.
pub async fn run(args: ImportArgs, config: &Config, catalog: &Catalog) -> anyhow::Result<ExitCode> {
    let registry = catalog.resolve(&args.registry)?;
    let connector = catalog.build(registry)?;
    let store = open_store(config).await?;
    let matcher = MatchSession::new();
    let limit = carbonmesh_ingest::RejectLimit::percent(args.max_rejected)
        .context("--max-rejected is a percentage")?;
    let mut over_limit = false;
    for file in &args.files {
        let progress = carbonmesh_ingest::ImportProgress::default();
        let import = carbonmesh_ingest::import_file_reporting(
            store.as_ref(),
            Some(&matcher),
            connector.clone(),
            file,
            carbonmesh_ingest::ImportOptions {
                feed: args.kind,
                reject_limit: limit,
                reread: args.reread,
            },
            &progress,
        );
        tokio::pin!(import);
        let mut line = ProgressLine::new(file.display().to_string());
        line.update(0, 0, None);
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(200));
        let outcome = loop {
            tokio::select! {
                outcome = &mut import => break outcome,
                _ = tick.tick() => line.update(
                    progress.rows(),
                    progress.pages(),
                    Some(progress.expected_rows()),
                ),
            }
        };
        line.finish();
        let outcome = outcome.context("import failed")?;
        let counts = outcome.counts;
        println!("{}: {}", file.display(), summary(&counts));
        for warning in &outcome.warnings {
            eprintln!("carbonmesh: {warning}");
        }
        if outcome.status == carbonmesh_model::RunStatus::Rejected {
            over_limit = true;
            eprintln!(
                "carbonmesh: {}: {} of {} rows rejected, more than the {}% allowed \
                 (--max-rejected); see `carbonmesh export --what rejected`",
                file.display(),
                counts.rejected,
                counts.seen,
                args.max_rejected
            );
        }
    }
    if over_limit {
        return Ok(ExitCode::from(2));
    }
    Ok(ExitCode::SUCCESS)
}
