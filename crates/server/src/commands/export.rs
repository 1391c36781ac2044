//! `carbonmesh export`

use std::io;
use std::process::ExitCode;

use anyhow::Context;

use carbonmesh_server::cli::ExportArgs;
use carbonmesh_server::config::Config;
use carbonmesh_server::export;

use super::store::open_existing_store;

/// Writes a harmonized table to `--out` or standard output.
pub async fn run(args: ExportArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(config).await?;
    let generated_at = export::now();
    // Either is buffered by the export's writer.
    let mut out: Box<dyn io::Write + Send> = match &args.out {
        Some(path) => Box::new(
            std::fs::File::create(path)
                .with_context(|| format!("cannot create {}", path.display()))?,
        ),
        None => Box::new(io::stdout()),
    };
    let written = export::export_as_of(
        store.as_ref(),
        args.what,
        args.format,
        generated_at,
        args.as_of,
        &mut *out,
    )
    .await?;
    tracing::info!(target: "carbonmesh", written, "export finished");
    Ok(ExitCode::SUCCESS)
}
