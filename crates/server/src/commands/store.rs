//! Opening the configured database, for the commands that need one.

use std::sync::Arc;

use anyhow::Context;

use carbonmesh_server::config::Config;
use carbonmesh_store::{DatabaseUrl, Store};

/// Opens the configured store (creating a SQLite file that does not exist yet) and applies
/// migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = DatabaseUrl::parse(&config.database.url)?;
    let store = connect(url).await?;
    abandon_runs(store.as_ref()).await;
    Ok(store)
}

/// Ends the runs whose process died (`kill -9`, a crash) as `abandoned`.
pub async fn abandon_runs(store: &dyn Store) {
    match store.abandon_runs(chrono::Utc::now()).await {
        Ok(ids) if ids.is_empty() => {}
        Ok(ids) => tracing::warn!(
            target: "carbonmesh",
            ?ids,
            "connector runs abandoned by a process that stopped"
        ),
        Err(error) => {
            tracing::warn!(target: "carbonmesh", %error, "cannot look for abandoned connector runs")
        }
    }
}

/// Opens the configured store for a command that only reads or reviews what is there: a
/// SQLite file that does not exist is an error, not a new empty database.
pub async fn open_existing_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = DatabaseUrl::parse(&config.database.url)?;
    if let DatabaseUrl::Sqlite(path) = &url {
        anyhow::ensure!(
            path.exists(),
            "there is no database at {}: `carbonmesh import`, `sync`, `serve`, `demo` or \
             `migrate` creates one (or name another with --database)",
            path.display()
        );
    }
    connect(url).await
}

/// Connects to `url` and applies migrations.
pub async fn connect(url: DatabaseUrl) -> anyhow::Result<Arc<dyn Store>> {
    let store = carbonmesh_store::connect(&url)
        .await
        .with_context(|| format!("cannot open database {url}"))?;
    store
        .migrate()
        .await
        .with_context(|| format!("cannot migrate database {url}"))?;
    Ok(Arc::from(store))
}
