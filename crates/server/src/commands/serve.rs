//! `carbonmesh serve`, and the server `demo` runs as well.

use std::collections::HashMap;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;

use carbonmesh_connector::Connector;
use carbonmesh_ingest::{Schedule, run_schedule};
use carbonmesh_matcher::MatchSession;
use carbonmesh_server::cli::ServeArgs;
use carbonmesh_server::config::{Config, FreshnessSettings};
use carbonmesh_server::connectors::Catalog;
use carbonmesh_server::http::{AppState, router};
use carbonmesh_server::snapshots::{self, Snapshots};
use carbonmesh_server::webhooks;
use carbonmesh_store::Store;

use super::store::{abandon_runs, open_store};

/// Serves HTTP and polls every enabled connector on its schedule until Ctrl-C or SIGTERM.
pub async fn run(
    args: ServeArgs,
    mut config: Config,
    catalog: &Catalog,
) -> anyhow::Result<ExitCode> {
    if let Some(listen) = args.listen {
        config.server.listen = listen;
    }
    let store = open_store(&config).await?;
    let mut scheduled = Vec::new();
    for registry in catalog.configured() {
        let settings = catalog.settings(registry);
        if !settings.enabled {
            continue;
        }
        let connector = catalog.build(registry)?;
        let expression = settings.schedule_or(connector.default_schedule());
        let schedule = Schedule::parse(&expression)
            .with_context(|| format!("{} schedule", catalog.section(registry)))?;
        scheduled.push((connector, schedule));
    }
    let endpoints = webhooks::endpoints(catalog)?;
    serve(&config, store, MatchSession::new(), scheduled, endpoints).await?;
    Ok(ExitCode::SUCCESS)
}

/// Checks every `check_seconds` whether a scheduled connector is overdue (see
/// [`carbonmesh_ingest::freshness`]), until the server stops.
async fn watch_freshness(
    store: Arc<dyn Store>,
    watched: Vec<(String, Schedule)>,
    settings: FreshnessSettings,
    mut stopped: tokio::sync::watch::Receiver<bool>,
) {
    let since = chrono::Utc::now();
    let every = std::time::Duration::from_secs(settings.check_seconds.max(1));
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = stopped.changed() => return,
        }
        let checked = carbonmesh_ingest::freshness::check_freshness(
            store.as_ref(),
            &watched,
            since,
            chrono::Utc::now(),
            settings.overdue_after_runs,
        )
        .await;
        match checked {
            Ok(report) => {
                for connector in &report.raised {
                    tracing::warn!(
                        target: "carbonmesh",
                        %connector,
                        "registry overdue: no run completed on schedule"
                    );
                }
                for connector in &report.resolved {
                    tracing::info!(target: "carbonmesh", %connector, "registry no longer overdue");
                }
            }
            Err(error) => {
                tracing::warn!(target: "carbonmesh", %error, "cannot check the registries' freshness")
            }
        }
    }
}

/// Serves HTTP and polls `scheduled` connectors until Ctrl-C or SIGTERM.
pub async fn serve(
    config: &Config,
    store: Arc<dyn Store>,
    matcher: MatchSession,
    scheduled: Vec<(Arc<dyn Connector>, Schedule)>,
    endpoints: HashMap<String, carbonmesh_webhook::Endpoint>,
) -> anyhow::Result<()> {
    let instance = format!(
        "{}-{}",
        std::env::var("HOSTNAME").unwrap_or_else(|_| "carbonmesh".into()),
        std::process::id()
    );
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut pollers = Vec::new();
    let runnable = scheduled.clone();
    let watched: Vec<(String, Schedule)> = scheduled
        .iter()
        .map(|(c, s)| (c.registry().as_str().to_owned(), s.clone()))
        .collect();
    for (connector, schedule) in scheduled {
        tracing::info!(
            target: "carbonmesh",
            connector = %connector.registry(),
            schedule = schedule.expression(),
            "polling on schedule"
        );
        pollers.push(tokio::spawn(run_schedule(
            store.clone(),
            matcher.clone(),
            connector,
            schedule,
            instance.clone(),
            stopped.clone(),
        )));
    }
    // Registries that stopped completing runs raise an alert while this one serves.
    if !watched.is_empty() {
        pollers.push(tokio::spawn(watch_freshness(
            store.clone(),
            watched,
            config.freshness.clone(),
            stopped.clone(),
        )));
    }
    // Runs of instances that died are found while this one serves.
    pollers.push(tokio::spawn({
        let store = store.clone();
        let mut stopped = stopped.clone();
        async move {
            let every = (carbonmesh_store::RUN_LEASE / 2)
                .to_std()
                .unwrap_or(std::time::Duration::from_secs(150));
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => abandon_runs(store.as_ref()).await,
                    _ = stopped.changed() => return,
                }
            }
        }
    }));
    let inbox = carbonmesh_webhook::Inbox::new(
        store.clone(),
        matcher.clone(),
        endpoints,
        config.webhooks.clone(),
    );
    if config.webhooks.worker {
        pollers.push(tokio::spawn(carbonmesh_webhook::run_worker(
            inbox.clone(),
            instance.clone(),
            stopped.clone(),
        )));
    }
    if !config.notifications.endpoints.is_empty() {
        pollers.push(
            carbonmesh_notify::start(
                store.clone(),
                config.notifications.clone(),
                instance.clone(),
                stopped.clone(),
            )
            .await
            .context("cannot start notifications ([notifications])")?,
        );
    }
    // Bulk download snapshots, written at start-up and after runs complete.
    let snapshots = config.downloads.enabled.then(|| {
        let dir = config.downloads.dir_for(&config.database.url);
        let snapshots = Snapshots::new(dir);
        pollers.push(tokio::spawn(snapshots::keep_fresh(
            snapshots.clone(),
            store.clone(),
            std::time::Duration::from_secs(config.downloads.check_seconds.max(1)),
            stopped.clone(),
        )));
        snapshots
    });
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(
        target: "carbonmesh",
        %address,
        backend = %store.backend(),
        "carbonmesh is serving"
    );
    println!("carbonmesh listening on http://{address}");
    println!("review console: http://{address}/console");
    let state = AppState::new(store.clone());
    let metrics = state.metrics.clone();
    let mut app = router(state).merge(carbonmesh_console::router());
    if config.api.graphiql {
        app = app.merge(carbonmesh_console::graphiql::router());
    }
    if let Some(snapshots) = snapshots {
        app = app.merge(snapshots::http::routes(
            snapshots,
            store.clone(),
            config.api.anonymous_read,
        ));
    }
    let app = app
        .merge(carbonmesh_server::downloads::routes(
            store.clone(),
            config.api.anonymous_read,
        ))
        .merge(carbonmesh_webhook::routes(inbox))
        .merge(carbonmesh_server::graphql::routes(
            &config.api,
            store,
            matcher,
            runnable,
        ));
    // Last, so that every route above is counted.
    let app = carbonmesh_server::metrics::instrument(app, metrics);
    // The client's address is kept for the limit on failed authentications.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown_signal())
    .await
    .context("server error")?;
    // Stop polling; a poll under way runs to its end first.
    let _ = stop.send(true);
    for poller in pollers {
        let _ = poller.await;
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(term) => term,
                Err(_) => return std::future::pending().await,
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!(target: "carbonmesh", "shutting down");
}
