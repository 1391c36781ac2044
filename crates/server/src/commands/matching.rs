//! `carbonmesh match` (`match` is a keyword, hence the module's name).

use std::io;
use std::process::ExitCode;

use carbonmesh_server::alerts::MatchArgs;
use carbonmesh_server::config::Config;

use super::store::open_existing_store;

/// Looks for double counting in the stored records and brings the alerts up to date.
pub async fn run(args: MatchArgs, config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(config).await?;
    carbonmesh_server::alerts::run_match(store.as_ref(), &args, &mut io::stdout().lock()).await?;
    Ok(ExitCode::SUCCESS)
}
