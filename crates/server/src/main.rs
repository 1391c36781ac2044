//! The `carbonmesh` binary: loads the configuration, starts logging and hands the command to
//! its module under `commands/`.

use std::io::{self, IsTerminal};
use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tracing_subscriber::EnvFilter;

use carbonmesh_server::cli::{Cli, Command};
use carbonmesh_server::config::{Config, LogConfig, LogFormat};
use carbonmesh_server::connectors;

mod commands;

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
    init_tracing(&config.log);

    // Parsing serials and signing webhooks need no runtime and no database.
    let command = match cli.command {
        Command::Serial(command) => return commands::serial::run(command),
        Command::Webhook(command) => return commands::webhook::run(command),
        command => command,
    };

    // Every `[generic.<id>]` file is read and checked before any command runs.
    let catalog = connectors::Catalog::load(&config)?;
    if let Command::Connectors = command {
        return commands::connectors::run(&catalog);
    }

    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        match command {
            Command::Migrate => commands::migrate::run(&config).await,
            Command::Serve(args) => commands::serve::run(args, config, &catalog).await,
            #[cfg(feature = "demo")]
            Command::Demo(args) => commands::demo::run(args, config, &catalog).await,
            Command::Import(args) => commands::import::run(args, &config, &catalog).await,
            Command::Sync(args) => commands::sync::run(args, &config, &catalog).await,
            Command::Export(args) => commands::export::run(args, &config).await,
            Command::Match(args) => commands::matching::run(args, &config).await,
            Command::Alerts(command) => commands::alerts::run(command, &config).await,
            Command::Keys(command) => commands::keys::run(command, &config).await,
            Command::Vocab(command) => commands::vocab::run(command, &config).await,
            Command::Serial(_) | Command::Webhook(_) | Command::Connectors => {
                unreachable!("handled above")
            }
        }
    })
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<io::Error>()
            .is_some_and(|e| e.kind() == io::ErrorKind::BrokenPipe)
    })
}

/// Logs to standard error, as `[log]` says: events the filter lets through, as text or as
/// one JSON object per line.
fn init_tracing(log: &LogConfig) {
    let filter = EnvFilter::try_new(&log.filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr);
    match log.format {
        LogFormat::Text => subscriber.with_ansi(io::stderr().is_terminal()).init(),
        LogFormat::Json => subscriber.json().with_ansi(false).init(),
    }
}
