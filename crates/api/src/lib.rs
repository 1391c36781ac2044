//! The carbonmesh GraphQL API: one endpoint serving the harmonized view to market observers
//! and the alert review workflow to compliance teams.
//!
//! * [`query`], [`mutation`], [`subscription`]: the roots; [`types`]: what they return.
//! * [`loaders`]: data loaders, so nested fields cost one query per kind, not per parent.
//! * [`auth`]: API keys and roles (observer ⊂ reviewer ⊂ admin), per-key rate budgets.
//! * [`http`]: the axum routes and the limits enforced before any database work.
#![deny(missing_docs)]

pub mod auth;
pub mod budget;
pub mod error;
pub mod http;
pub mod keys;
pub mod loaders;
pub mod mutation;
pub mod query;
pub mod subscription;
pub mod taxonomy;
pub mod types;

pub use http::{ApiConfig, ApiSchema, router, schema, sdl};
pub use mutation::{ConnectorSchedule, SyncTrigger};
