//! `carbonmesh migrate`

use std::process::ExitCode;

use carbonmesh_server::config::Config;

use super::store::open_store;

/// Creates or updates the schema of the configured database.
pub async fn run(config: &Config) -> anyhow::Result<ExitCode> {
    let store = open_store(config).await?;
    println!(
        "database {} is migrated ({})",
        config.database.url_display()?,
        store.backend()
    );
    Ok(ExitCode::SUCCESS)
}
