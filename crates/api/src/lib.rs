//! The carbonmesh GraphQL API: one endpoint serving the harmonized view to market observers
//! and the alert review workflow to compliance teams.
#![deny(missing_docs)]

pub mod keys;
