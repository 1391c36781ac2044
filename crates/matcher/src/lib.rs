//! The carbonmesh matcher: finds double counting in the harmonized records and stays quiet on
//! legitimate movements.
//!
//! * [`index`]: per-namespace serial-range index (sorted arrays with a running max end).
//! * [`engine`]: the rules and the matcher state, incremental ([`Matcher::apply`]) and full
//!   ([`Matcher::full`]); both end with the same findings.
#![deny(missing_docs)]

pub mod engine;
pub mod index;
pub mod rules;

pub use engine::{Changes, Finding, MatchConfig, Matcher};
