//! The carbonmesh matcher: finds double counting in the harmonized records and stays quiet on
//! legitimate movements.
//!
//! * [`index`]: per-namespace serial-range index (sorted arrays with a running max end).
//! * [`engine`]: the rules and the matcher state, incremental ([`Matcher::apply`]) and full
//!   ([`Matcher::full`]); both end with the same findings.
//! * [`persist`]: runs against a store, keeps the stored alerts in step, and the ingest hook
//!   ([`persist::after_write`], [`persist::after_run`]).
//! * [`review`]: the review workflow with its append-only history.
#![deny(missing_docs)]

pub mod engine;
pub mod index;
pub mod persist;
pub mod review;
pub mod rules;

pub use engine::{Changes, Finding, MatchConfig, Matcher};
pub use persist::{Mode, Reconciled, RunReport, after_run, after_write, run};

/// Why matching or a review step failed.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] carbonmesh_store::StoreError),
    /// A review step is not allowed.
    #[error("{0}")]
    Workflow(String),
    /// A thread panicked while holding the matcher state.
    #[error("the matcher state is unusable after a panic")]
    Poisoned,
}

/// The current time, as the matcher and the review workflow record it.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
