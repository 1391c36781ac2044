//! Webhooks: registries push signed changes; nothing is lost and nothing is applied twice.
//!
//! `POST /webhooks/{connector}` verifies a delivery the Standard Webhooks way (`webhook-id`,
//! `webhook-timestamp`, `webhook-signature`: `v1,` HMAC-SHA256 over `id.timestamp.body` with
//! the connector's `whsec_` secret, any of several during a rotation, timestamps within five
//! minutes), checks its payload, and writes it to the inbox table before answering 2xx. A
//! worker then applies inbox rows through the same store upserts as polling, with retries;
//! rows are leased, so any number of instances sharing a database each apply a delivery once.
//! A `webhook-id` seen before is answered 2xx and has no second effect; ids are kept for the
//! retention period (three days by default, the longest retry horizon of common senders).
//!
//! Requests refused at the door are not stored: they are answered 4xx with a one-line JSON
//! reason and counted by connector and reason in the store.
#![deny(missing_docs)]

mod intake;
pub mod payload;
pub mod signature;
mod worker;

use std::collections::HashMap;
use std::sync::Arc;

use carbonmesh_connector::Connector;
use carbonmesh_store::Store;
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

pub use intake::routes;
pub use payload::{Payload, PayloadError};
pub use signature::{SecretError, SignatureError, TOLERANCE_SECONDS, WebhookSecret};
pub use worker::{ApplyError, apply, run_worker};

/// `[webhooks]`: how deliveries are received and processed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebhookSettings {
    /// Largest body accepted, in bytes; larger ones are refused with 413 before being read.
    pub max_body_bytes: usize,
    /// Hours a delivery id is remembered after it arrived (redeliveries within it have no
    /// effect); applied and failed deliveries older than that are pruned.
    pub retention_hours: u64,
    /// Seconds a worker holds a delivery it claimed; if it dies, another takes it after that.
    pub lease_seconds: u64,
    /// Attempts before a delivery that keeps failing is given up on.
    pub max_attempts: u32,
    /// Apply deliveries in this process (turn off on instances that should only receive).
    pub worker: bool,
    /// Wait this long before applying each delivery. For tests of crash safety only.
    pub processing_delay_ms: u64,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            max_body_bytes: 1024 * 1024,
            retention_hours: 72,
            lease_seconds: 60,
            max_attempts: 10,
            worker: true,
            processing_delay_ms: 0,
        }
    }
}

/// A connector that accepts webhooks, with its secrets.
pub struct Endpoint {
    /// The connector that normalizes and fetches its records.
    pub connector: Arc<dyn Connector>,
    /// Its signing secrets: several during a rotation, any of them matching is enough.
    pub secrets: Vec<WebhookSecret>,
}

/// The webhook inbox of one process: the store, the connectors that accept webhooks by
/// name, and the settings.
pub struct Inbox {
    store: Arc<dyn Store>,
    /// Checks applied records for double counting on arrival.
    matcher: carbonmesh_matcher::MatchSession,
    endpoints: HashMap<String, Endpoint>,
    settings: WebhookSettings,
    wake: Notify,
    /// Verified deliveries on their way into the store (see [`intake::write_deliveries`]).
    writes: tokio::sync::mpsc::Sender<intake::PendingWrite>,
}

impl Inbox {
    /// An inbox for `endpoints`, by connector name (`verra`, `gold-standard`, …). Starts the
    /// task that writes verified deliveries, so it must be called inside a tokio runtime.
    pub fn new(
        store: Arc<dyn Store>,
        matcher: carbonmesh_matcher::MatchSession,
        endpoints: HashMap<String, Endpoint>,
        settings: WebhookSettings,
    ) -> Arc<Self> {
        let (writes, queue) = tokio::sync::mpsc::channel(intake::WRITE_QUEUE);
        tokio::spawn(intake::write_deliveries(store.clone(), queue));
        Arc::new(Self {
            store,
            matcher,
            endpoints,
            settings,
            wake: Notify::new(),
            writes,
        })
    }

    /// The settings.
    pub fn settings(&self) -> &WebhookSettings {
        &self.settings
    }

    /// The connectors that accept webhooks, by name.
    pub fn connectors(&self) -> impl Iterator<Item = &str> {
        self.endpoints.keys().map(String::as_str)
    }
}
