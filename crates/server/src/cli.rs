//! The command line.

use std::net::SocketAddr;
use std::path::PathBuf;

use carbonmesh_model::RegistryId;
use clap::{Args, Parser, Subcommand};

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
    #[arg(
        long,
        global = true,
        env = "CARBONMESH_DATABASE_URL",
        value_name = "URL"
    )]
    pub database: Option<String>,

    /// TOML configuration file; CARBONMESH_* variables and flags override it
    #[arg(long, global = true, env = "CARBONMESH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP server
    Serve(ServeArgs),
    /// Create or update the database schema (safe to run any number of times)
    Migrate,
    /// Work with registry serial numbers
    #[command(subcommand)]
    Serial(SerialCommand),
}

/// `carbonmesh serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on [default: 127.0.0.1:8080]
    #[arg(long, env = "CARBONMESH_SERVER_LISTEN", value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
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

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_cli_is_well_formed() {
        Cli::command().debug_assert();
    }
}
