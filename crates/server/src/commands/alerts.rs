//! `carbonmesh alerts …`

use std::io;
use std::process::ExitCode;

use carbonmesh_server::alerts::AlertsCommand;
use carbonmesh_server::config::Config;

use super::store::open_existing_store;

/// Reviews double-counting alerts.
pub async fn run(command: AlertsCommand, config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_existing_store(config).await?;
    carbonmesh_server::alerts::run_alerts(store.as_ref(), command, &mut io::stdout().lock())
        .await?;
    Ok(ExitCode::SUCCESS)
}
