//! `carbonmesh keys …`

use std::io;
use std::process::ExitCode;

use carbonmesh_server::config::Config;
use carbonmesh_server::keys::KeysCommand;

use super::store::open_existing_store;

/// Creates, lists and revokes API keys.
pub async fn run(command: KeysCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(config).await?;
    carbonmesh_server::keys::run_keys(store.as_ref(), command, &mut io::stdout().lock()).await?;
    Ok(ExitCode::SUCCESS)
}
