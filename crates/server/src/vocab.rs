//! `carbonmesh vocab`: the raw project vocabulary of the store against the taxonomy's mappings.

use std::io::Write;

use carbonmesh_store::Store;
use carbonmesh_taxonomy::RawValueCount;
use clap::{Subcommand, ValueEnum};

/// `carbonmesh vocab …`
#[derive(Debug, Subcommand)]
pub enum VocabCommand {
    /// List the raw sectors, categories and project types of the stored projects that no
    /// mapping covers, with how many projects carry each
    Unmapped {
        /// The format
        #[arg(long, value_enum, default_value = "table")]
        format: VocabFormat,
    },
}

/// How `vocab unmapped` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum VocabFormat {
    /// Aligned columns: registry, field, projects, raw value (last, as it may hold spaces).
    Table,
    /// One JSON array of `{registry, field, raw_value, projects}` objects.
    Json,
}

/// Runs a `vocab` command, writing to `out`.
pub async fn run_vocab(
    store: &dyn Store,
    command: VocabCommand,
    out: &mut dyn Write,
) -> anyhow::Result<()> {
    match command {
        VocabCommand::Unmapped { format } => {
            let unmapped = carbonmesh_api::taxonomy::unmapped_vocabulary(store).await?;
            match format {
                VocabFormat::Json => {
                    let values: Vec<serde_json::Value> = unmapped.iter().map(json).collect();
                    serde_json::to_writer_pretty(&mut *out, &values)?;
                    writeln!(out)?;
                }
                VocabFormat::Table => table(&unmapped, out)?,
            }
        }
    }
    Ok(())
}

fn json(v: &RawValueCount) -> serde_json::Value {
    serde_json::json!({
        "registry": v.registry,
        "field": v.field.as_str(),
        "raw_value": v.raw_value,
        "projects": v.projects,
    })
}

fn table(unmapped: &[RawValueCount], out: &mut dyn Write) -> anyhow::Result<()> {
    if unmapped.is_empty() {
        writeln!(
            out,
            "every sector, category and project type of the stored projects is mapped"
        )?;
        return Ok(());
    }
    let width = |f: &dyn Fn(&RawValueCount) -> usize, header: &str| {
        unmapped
            .iter()
            .map(f)
            .chain([header.len()])
            .max()
            .unwrap_or(0)
    };
    let registry = width(&|v| v.registry.len(), "REGISTRY");
    let field = width(&|v| v.field.as_str().len(), "FIELD");
    let projects = width(&|v| v.projects.to_string().len(), "PROJECTS");
    writeln!(
        out,
        "{:<registry$}  {:<field$}  {:>projects$}  RAW VALUE",
        "REGISTRY", "FIELD", "PROJECTS"
    )?;
    for v in unmapped {
        writeln!(
            out,
            "{:<registry$}  {:<field$}  {:>projects$}  {}",
            v.registry,
            v.field.as_str(),
            v.projects,
            v.raw_value
        )?;
    }
    Ok(())
}
