//! The commands of the `carbonmesh` binary, one module each: each reads its arguments, opens
//! what it needs and calls the library (`carbonmesh_server`, the ingest and store crates) that
//! holds the logic.
//!
//! Their log events name the target `carbonmesh`, the binary's, as they did when every command
//! lived in `main.rs`: log lines and filters written against it stay as they were.

pub mod alerts;
pub mod connectors;
#[cfg(feature = "demo")]
pub mod demo;
pub mod export;
pub mod import;
pub mod keys;
pub mod matching;
pub mod migrate;
pub mod serial;
pub mod serve;
pub mod store;
pub mod sync;
pub mod vocab;
pub mod webhook;

/// What an import or a sync did, in words: rows read from the source, and the records they
/// made (a row may hold several records, or a record be stated on several rows).
pub fn summary(counts: &carbonmesh_model::RunCounts) -> String {
    format!(
        "{} rows read; records new {}, changed {}, unchanged {}; rejected {}",
        counts.seen, counts.new, counts.changed, counts.unchanged, counts.rejected
    )
}
