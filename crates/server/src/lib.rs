//! The `carbonmesh` binary's library: command line, configuration and HTTP application, kept
//! out of `main.rs` so that tests can drive them.

pub mod alert_export;
pub mod alerts;
pub mod cli;
pub mod config;
pub mod connectors;
#[cfg(feature = "demo")]
pub mod demo;
pub mod downloads;
pub mod export;
pub mod graphql;
pub mod health;
pub mod http;
pub mod keys;
pub mod metrics;
pub mod progress;
pub mod snapshots;
pub mod vocab;
pub mod webhooks;
