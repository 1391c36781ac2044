//! `carbonmesh vocab …`

use std::io;
use std::process::ExitCode;

use carbonmesh_server::config::Config;
use carbonmesh_server::vocab::VocabCommand;

use super::store::open_existing_store;

/// Reports on the stored projects' raw vocabulary.
pub async fn run(command: VocabCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(config).await?;
    carbonmesh_server::vocab::run_vocab(store.as_ref(), command, &mut io::stdout().lock()).await?;
    Ok(ExitCode::SUCCESS)
}
