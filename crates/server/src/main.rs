//! The `carbonmesh` binary.

use std::io::{self, BufRead, IsTerminal, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use carbonmesh_connector::Connector;
use carbonmesh_ingest::{Schedule, run_schedule};
use carbonmesh_matcher::MatchSession;
use carbonmesh_model::RegistryId;
use carbonmesh_server::cli::{Cli, Command, SerialCommand, WebhookCommand};
use carbonmesh_server::config::Config;
use carbonmesh_server::demo::{self, DemoSize};
use carbonmesh_server::http::{AppState, router};
use carbonmesh_server::{connectors, export, webhooks};
use carbonmesh_store::{DatabaseUrl, Store};

// An import allocates and frees millions of small strings across threads: mimalloc does that
// in a fraction of glibc's time (see docs/performance.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        // A reader that stops early (`carbonmesh export | head`) is not an error.
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("carbonmesh: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let mut config = Config::load(cli.global.config.as_deref())?;
    if let Some(url) = cli.global.database {
        config.database.url = url;
    }
    init_tracing(&config.log.filter);

    // Parsing serials needs no runtime and no database.
    if let Command::Serial(SerialCommand::Parse { registry, serials }) = cli.command {
        return parse_serials(registry, serials);
    }
    if let Command::Webhook(WebhookCommand::Sign {
        secret,
        id,
        timestamp,
        file,
    }) = &cli.command
    {
        let body = if file == "-" {
            let mut body = Vec::new();
            io::Read::read_to_end(&mut io::stdin(), &mut body)
                .context("cannot read the body from standard input")?;
            body
        } else {
            std::fs::read(file).with_context(|| format!("cannot read {file}"))?
        };
        webhooks::sign(
            secret,
            id.clone(),
            *timestamp,
            &body,
            &mut io::stdout().lock(),
        )?;
        return Ok(ExitCode::SUCCESS);
    }

    // Generic connectors register their registry ids here, before any id given on the
    // command line is parsed and before the store is read.
    let catalog = connectors::Catalog::load(&config)?;

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        match cli.command {
            Command::Migrate => {
                let store = open_store(&config).await?;
                println!(
                    "database {} is migrated ({})",
                    config.database.url_display()?,
                    store.backend()
                );
            }
            Command::Serve(args) => {
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
                    let expression = settings
                        .schedule
                        .clone()
                        .unwrap_or_else(|| connector.default_schedule().to_owned());
                    let schedule = Schedule::parse(&expression)
                        .with_context(|| format!("{} schedule", catalog.section(registry)))?;
                    scheduled.push((connector, schedule));
                }
                let endpoints = webhooks::endpoints(&catalog)?;
                serve(&config, store, MatchSession::new(), scheduled, endpoints).await?;
            }
            Command::Demo(args) => {
                if let Some(listen) = args.listen {
                    config.server.listen = listen;
                }
                let store = open_store(&config).await?;
                println!(
                    "carbonmesh demo: database {}",
                    config.database.url_display()?
                );
                let size = DemoSize {
                    seed: args.seed,
                    projects: args.projects,
                    blocks: args.blocks,
                };
                let matcher = MatchSession::new();
                let (simulator, scheduled) =
                    demo::start_and_sync(store.as_ref(), &matcher, size).await?;
                let counts = store.counts().await?;
                println!(
                    "synced: {} projects, {} credit records, {} rejected records kept with reasons",
                    counts.projects, counts.credits, counts.rejected
                );
                let mut by_severity = Vec::new();
                for severity in carbonmesh_model::Severity::ALL {
                    let filter = carbonmesh_store::AlertFilter {
                        severities: vec![*severity],
                        ..Default::default()
                    };
                    by_severity.push(format!("{} {severity}", store.count_alerts(&filter).await?));
                }
                println!("matcher: alerts {}", by_severity.join(", "));
                if !args.no_serve {
                    // The simulated Verra also pushes signed changes to the webhook intake.
                    let mut endpoints = webhooks::endpoints(&catalog)?;
                    if let Some((verra, _)) = scheduled
                        .iter()
                        .find(|(c, _)| c.registry() == carbonmesh_model::RegistryId::Verra)
                    {
                        endpoints.insert("verra".into(), demo::webhook_endpoint(verra.clone())?);
                    }
                    let listen = config.server.listen;
                    if listen.port() != 0 {
                        println!("{}", demo::banner(&listen.to_string()));
                        tokio::spawn(demo::push_changes(
                            store.clone(),
                            simulator.registry(),
                            format!("http://{listen}"),
                            std::time::Duration::from_secs(15),
                        ));
                    }
                    serve(&config, store, matcher, scheduled, endpoints).await?;
                }
                simulator.shutdown().await;
            }
            Command::Import(args) => {
                let registry = catalog.resolve(&args.registry)?;
                let connector = catalog.build(registry)?;
                let store = open_store(&config).await?;
                let matcher = MatchSession::new();
                let limit = carbonmesh_ingest::RejectLimit::percent(args.max_rejected)
                    .context("--max-rejected is a percentage")?;
                let mut over_limit = false;
                for file in &args.files {
                    let outcome = carbonmesh_ingest::import_file(
                        store.as_ref(),
                        Some(&matcher),
                        connector.clone(),
                        file,
                        carbonmesh_ingest::ImportOptions {
                            feed: args.kind,
                            reject_limit: limit,
                            reread: args.reread,
                        },
                    )
                    .await
                    .context("import failed")?;
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
            }
            Command::Sync(args) => {
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
                let store = open_store(&config).await?;
                let matcher = MatchSession::new();
                let mut all_complete = true;
                for (registry, connector) in names.into_iter().zip(connectors) {
                    let outcome = carbonmesh_ingest::sync(
                        store.as_ref(),
                        &matcher,
                        connector.as_ref(),
                        "manual",
                        |_| {},
                    )
                    .await?;
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
            }
            Command::Export(args) => {
                let store = open_existing_store(&config).await?;
                let written = match &args.out {
                    Some(path) => {
                        let mut file = std::fs::File::create(path)
                            .with_context(|| format!("cannot create {}", path.display()))?;
                        export::export(store.as_ref(), args.what, args.format, &mut file).await?
                    }
                    None => {
                        // Buffered by the export's writer.
                        let mut out = io::stdout();
                        export::export(store.as_ref(), args.what, args.format, &mut out).await?
                    }
                };
                tracing::info!(written, "export finished");
            }
            Command::Match(args) => {
                let store = open_existing_store(&config).await?;
                carbonmesh_server::alerts::run_match(
                    store.as_ref(),
                    &args,
                    &mut io::stdout().lock(),
                )
                .await?;
            }
            Command::Alerts(command) => {
                let store = open_existing_store(&config).await?;
                carbonmesh_server::alerts::run_alerts(
                    store.as_ref(),
                    command,
                    &mut io::stdout().lock(),
                )
                .await?;
            }
            Command::Keys(command) => {
                let store = open_existing_store(&config).await?;
                carbonmesh_server::keys::run_keys(
                    store.as_ref(),
                    command,
                    &mut io::stdout().lock(),
                )
                .await?;
            }
            Command::Serial(_) | Command::Webhook(_) => unreachable!("handled above"),
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// What an import or a sync did, in words: rows read from the source, and the records they
/// made (a row may hold several records, or a record be stated on several rows).
fn summary(counts: &carbonmesh_model::RunCounts) -> String {
    format!(
        "{} rows read; records new {}, changed {}, unchanged {}; rejected {}",
        counts.seen, counts.new, counts.changed, counts.unchanged, counts.rejected
    )
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

fn init_tracing(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .with_ansi(io::stderr().is_terminal())
        .init();
}

/// Opens the configured store (creating a SQLite file that does not exist yet) and applies
/// migrations.
async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = DatabaseUrl::parse(&config.database.url)?;
    let store = connect(url).await?;
    abandon_runs(store.as_ref()).await;
    Ok(store)
}

/// Ends the runs whose process died (`kill -9`, a crash) as `abandoned`.
async fn abandon_runs(store: &dyn Store) {
    match store.abandon_runs(chrono::Utc::now()).await {
        Ok(ids) if ids.is_empty() => {}
        Ok(ids) => tracing::warn!(?ids, "connector runs abandoned by a process that stopped"),
        Err(error) => tracing::warn!(%error, "cannot look for abandoned connector runs"),
    }
}

/// Opens the configured store for a command that only reads or reviews what is there: a
/// SQLite file that does not exist is an error, not a new empty database.
async fn open_existing_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
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

async fn connect(url: DatabaseUrl) -> anyhow::Result<Arc<dyn Store>> {
    let store = carbonmesh_store::connect(&url)
        .await
        .with_context(|| format!("cannot open database {url}"))?;
    store
        .migrate()
        .await
        .with_context(|| format!("cannot migrate database {url}"))?;
    Ok(Arc::from(store))
}

/// Checks every `check_seconds` whether a scheduled connector is overdue (see
/// [`carbonmesh_ingest::freshness`]), until the server stops.
async fn watch_freshness(
    store: Arc<dyn Store>,
    watched: Vec<(String, Schedule)>,
    settings: carbonmesh_server::config::FreshnessSettings,
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
                    tracing::warn!(%connector, "registry overdue: no run completed on schedule");
                }
                for connector in &report.resolved {
                    tracing::info!(%connector, "registry no longer overdue");
                }
            }
            Err(error) => tracing::warn!(%error, "cannot check the registries' freshness"),
        }
    }
}

/// Serves HTTP and polls `scheduled` connectors until Ctrl-C or SIGTERM.
async fn serve(
    config: &Config,
    store: Arc<dyn Store>,
    matcher: MatchSession,
    scheduled: Vec<(Arc<dyn Connector>, Schedule)>,
    endpoints: std::collections::HashMap<String, carbonmesh_webhook::Endpoint>,
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
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, backend = %store.backend(), "carbonmesh is serving");
    println!("carbonmesh listening on http://{address}");
    println!("review console: http://{address}/console");
    let state = AppState::new(store.clone());
    let metrics = state.metrics.clone();
    let app = router(state)
        .merge(carbonmesh_console::router())
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
    tracing::info!("shutting down");
}

fn parse_serials(
    registry: Option<carbonmesh_model::RegistryId>,
    serials: Vec<String>,
) -> anyhow::Result<ExitCode> {
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let all_ok = if serials.iter().any(|s| s == "-") {
        let mut read_error = None;
        let stdin = io::stdin();
        let lines = stdin.lock().lines().map_while(|line| match line {
            Ok(line) => Some(line),
            Err(error) => {
                read_error = Some(error);
                None
            }
        });
        let named = serials.iter().filter(|s| *s != "-").cloned();
        let ok = carbonmesh_serials::run_parse_command(
            registry,
            named.chain(lines.filter(|l| !l.trim().is_empty())),
            &mut out,
        )?;
        if let Some(error) = read_error {
            return Err(error).context("cannot read serials from standard input");
        }
        ok
    } else {
        carbonmesh_serials::run_parse_command(registry, serials, &mut out)?
    };
    out.flush()?;
    Ok(if all_ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}
