//! The carbonmesh matcher: finds double counting in the harmonized records and stays quiet on
//! legitimate movements.
//!
//! * [`index`]: per-namespace serial-range index (sorted arrays with a running max end).
//! * [`engine`]: the rules and the matcher state, incremental ([`Matcher::apply`]) and full
//!   ([`Matcher::full`]); both end with the same findings.
//! * [`groups`]: the independent groups of records and projects, checked a batch at a time.
//! * [`persist`]: runs against a store, keeps the stored alerts in step, and the ingest hook
//!   ([`persist::after_write`], [`persist::after_run`]).
//! * [`review`]: the review workflow with its append-only history.
#![deny(missing_docs)]

pub mod engine;
pub mod groups;
pub mod index;
pub mod persist;
pub mod review;
pub mod rules;

pub use engine::{Changes, Finding, MatchConfig, Matcher};
pub use persist::{
    Covered, MatchSession, Mode, Reconciled, RunReport, Written, after_run, after_write,
    check_in_groups, run,
};

/// Why matching or a review step failed.
#[derive(Debug, thiserror::Error)]
pub enum MatchError {
    /// The store failed.
    #[error(transparent)]
    Store(#[from] carbonmesh_store::StoreError),
    /// A review step names an alert that does not exist.
    #[error("no alert {0}")]
    UnknownAlert(String),
    /// The workflow has no such step from the alert's status.
    #[error("an alert in status {from} cannot be moved to {to}")]
    NotAllowed {
        /// The alert's status.
        from: carbonmesh_model::AlertStatus,
        /// The status the step would move it to.
        to: carbonmesh_model::AlertStatus,
    },
    /// A review step lacks what it needs (a named reviewer, a note, a known reason).
    #[error("{0}")]
    Incomplete(String),
    /// The four-eyes rule: the second decision on a critical alert must come from another
    /// key than the first.
    #[error("{0}")]
    SameReviewer(String),
    /// Another reviewer moved the alert between reading and writing it.
    #[error("the alert changed meanwhile; try again")]
    Raced,
    /// A thread panicked while holding the matcher state.
    #[error("the matcher state is unusable after a panic")]
    Poisoned,
}

/// The current time, as the matcher and the review workflow record it.
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}
