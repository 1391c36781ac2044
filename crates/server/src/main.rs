//! The `carbonmesh` binary.

use std::io::{self, BufRead, Write};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use carbonmesh_server::cli::{Cli, Command, SerialCommand};
use carbonmesh_server::config::Config;
use carbonmesh_server::http::{AppState, router};
use carbonmesh_store::{DatabaseUrl, Store};

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
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
                serve(&config).await?;
            }
            Command::Serial(_) => unreachable!("handled above"),
        }
        Ok(ExitCode::SUCCESS)
    })
}

fn init_tracing(filter: &str) {
    let filter = EnvFilter::try_from_env("CARBONMESH_LOG")
        .or_else(|_| EnvFilter::try_new(filter))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .init();
}

/// Opens the configured store and applies migrations.
async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let url = DatabaseUrl::parse(&config.database.url)?;
    let store = carbonmesh_store::connect(&url)
        .await
        .with_context(|| format!("cannot open database {url}"))?;
    store
        .migrate()
        .await
        .with_context(|| format!("cannot migrate database {url}"))?;
    Ok(Arc::from(store))
}

async fn serve(config: &Config) -> anyhow::Result<()> {
    let store = open_store(config).await?;
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, backend = %store.backend(), "carbonmesh is serving");
    println!("carbonmesh listening on http://{address}");
    axum::serve(listener, router(AppState { store }))
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server error")?;
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
