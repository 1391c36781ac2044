//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use carbonmesh_connector::Feed;
use carbonmesh_model::RegistryId;
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use crate::export::{Format, What};

/// carbonmesh: one harmonized, queryable view of the world's carbon-credit registries, watched
/// for double counting.
#[derive(Debug, Parser)]
#[command(name = "carbonmesh", version, max_term_width = 100)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Database: a SQLite file (created on first use) or postgres://user@host/db
    /// [default: carbonmesh.db]
    #[arg(long, global = true, value_name = "URL")]
    pub database: Option<String>,

    /// TOML configuration file; CARBONMESH_* variables and flags override it
    #[arg(long, global = true, env = "CARBONMESH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start the registry simulator, sync every connector from it, and serve: the quickest tour
    #[cfg(feature = "demo")]
    Demo(DemoArgs),
    /// Run the HTTP server and poll the configured connectors on their schedules
    Serve(ServeArgs),
    /// Create or update the database schema (safe to run any number of times)
    Migrate,
    /// Import files downloaded from a registry by hand (rejected rows are kept with reasons)
    Import(ImportArgs),
    /// Poll registries once now (all configured connectors when none is named)
    Sync(SyncArgs),
    /// List the registries this build and configuration read: feeds, schedule, settings
    Connectors,
    /// Write the harmonized tables as CSV or JSON lines
    Export(ExportArgs),
    /// Work with registry serial numbers
    #[command(subcommand)]
    Serial(SerialCommand),
    /// Work with webhooks registries send to `POST /webhooks/<connector>`
    #[command(subcommand)]
    Webhook(WebhookCommand),
    /// Look for double counting in the stored records and bring the alerts up to date
    Match(crate::alerts::MatchArgs),
    /// Review double-counting alerts
    #[command(subcommand)]
    Alerts(crate::alerts::AlertsCommand),
    /// Create, list and revoke API keys for the HTTP API
    #[command(subcommand)]
    Keys(crate::keys::KeysCommand),
    /// Check the stored projects' sectors, categories and types against the taxonomy mappings
    #[command(subcommand)]
    Vocab(crate::vocab::VocabCommand),
}

/// `carbonmesh webhook …`
#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Print the Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature)
    /// that sign a body, as a registry would send them
    Sign {
        /// The signing secret, `whsec_<base64>`
        #[arg(
            long,
            env = "CARBONMESH_WEBHOOK_SIGNING_SECRET",
            hide_env_values = true
        )]
        secret: String,
        /// The delivery id [default: derived from the timestamp and the body]
        #[arg(long, value_name = "ID")]
        id: Option<String>,
        /// Unix seconds [default: now]
        #[arg(long, value_name = "T", allow_negative_numbers = true)]
        timestamp: Option<i64>,
        /// The body to sign; `-` reads standard input
        #[arg(value_name = "FILE")]
        file: String,
    },
}

/// `carbonmesh import`
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The registry the files come from: a built-in id, or one configured in a
    /// `[generic.<id>]` section
    #[arg(long, value_name = "ID")]
    pub registry: String,
    /// What the files hold: projects, issuances, retirements, cancellations or transactions
    /// (detected from each file's header when omitted)
    #[arg(long, value_name = "KIND")]
    pub kind: Option<Feed>,
    /// The share of a file's rows that may be rejected, in percent: beyond it the run ends
    /// `rejected` and the command exits with status 2 (the rows that passed are stored)
    #[arg(long, value_name = "PERCENT", default_value_t = 50.0, value_parser = reject_percent)]
    pub max_rejected: f64,
    /// Normalize every row again, even rows this version of carbonmesh stored before (they
    /// are otherwise counted as unchanged by their raw hash where a row is one record)
    #[arg(long)]
    pub reread: bool,
    /// Files to import
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
}

/// `carbonmesh sync`
#[derive(Debug, Args)]
pub struct SyncArgs {
    /// Registries to poll, e.g. `verra gold-standard`, or ids configured in `[generic.<id>]`
    /// sections
    #[arg(value_name = "CONNECTOR")]
    pub connectors: Vec<String>,
}

/// `carbonmesh export`
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The table
    #[arg(long, value_enum)]
    pub what: What,
    /// The format
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Write to FILE instead of standard output
    #[arg(long, visible_alias = "output", value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// The credit records or projects as carbonmesh held them at this moment: an RFC 3339
    /// time, or a day (its end, UTC)
    #[arg(long, value_name = "WHEN", value_parser = moment)]
    pub as_of: Option<DateTime<Utc>>,
}

/// An RFC 3339 time, or a day standing for its last microsecond (UTC): what was held on that
/// date.
fn moment(text: &str) -> Result<DateTime<Utc>, String> {
    if let Ok(at) = DateTime::parse_from_rfc3339(text) {
        return Ok(at.with_timezone(&Utc));
    }
    let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        format!(
            "`{text}` is neither an RFC 3339 time (2025-06-30T12:00:00Z) nor a day (2025-06-30)"
        )
    })?;
    let end = day
        .and_hms_micro_opt(23, 59, 59, 999_999)
        .ok_or_else(|| format!("`{text}` has no end of day"))?;
    Ok(end.and_utc())
}

/// `carbonmesh serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
}

/// `carbonmesh demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// Seed of the simulated registries' data
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Projects per simulated registry
    #[arg(long, default_value_t = 400)]
    pub projects: u64,
    /// Issuance blocks per simulated registry (each also yields retirements and cancellations)
    #[arg(long, default_value_t = 2_500)]
    pub blocks: u64,
    /// Sync once and exit instead of serving
    #[arg(long)]
    pub no_serve: bool,
}

/// `carbonmesh serial …`
#[derive(Debug, Subcommand)]
pub enum SerialCommand {
    /// Parse serial numbers into integer ranges; prints one JSON object per line and exits
    /// non-zero if any serial fails to parse
    Parse {
        /// The registry the serials come from (detected from each serial when omitted):
        /// verra, gold-standard, acr, car, art, arb, isometric, puro, cercarbono, biocarbon,
        /// cdm, cadt
        #[arg(long, value_name = "ID")]
        registry: Option<RegistryId>,
        /// Serial numbers; `-` reads them from standard input, one a line
        #[arg(required = true, value_name = "SERIAL")]
        serials: Vec<String>,
    },
}

fn reject_percent(text: &str) -> Result<f64, String> {
    let percent: f64 = text
        .trim_end_matches('%')
        .parse()
        .map_err(|_| format!("`{text}` is not a number"))?;
    if (0.0..=100.0).contains(&percent) {
        Ok(percent)
    } else {
        Err(format!("{percent} is not between 0 and 100"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
