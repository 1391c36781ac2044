//! The delivery loop of each endpoint.

use std::sync::Arc;
use std::time::{Duration, Instant};

use backon::BackoffBuilder;
use carbonmesh_model::{
    AlertEvent, AlertNotification, DeliveryState, NotificationData, NotificationDelivery,
    NotificationType,
};
use carbonmesh_store::{Store, StoreError};
use chrono::Utc;
use tokio::sync::watch;

use crate::settings::{Endpoint, NotificationSettings, SettingsError};

/// History entries read at a time.
const BATCH: u32 = 100;

/// How long a hole in the history positions is waited for before it is taken for a rolled
/// back transaction. On PostgreSQL, transactions that took positions 7 and 8 may commit 8
/// first; reading past 7 then would skip it for good.
const GAP_GRACE: Duration = Duration::from_secs(5);

/// The `webhook-id` of the notification of history entry `position`: the same on every
/// attempt and from every server, so receivers drop repeats by it.
pub fn message_id(position: i64) -> String {
    format!("cm_notification_{position}")
}

/// The notification a history entry announces to an endpoint with `wants`, or `None` when it
/// announces nothing to it (no status change worth a notice, or an alert below the threshold).
pub async fn build_notification(
    store: &dyn Store,
    position: i64,
    event: AlertEvent,
    wants: impl Fn(carbonmesh_model::Severity) -> bool,
) -> Result<Option<AlertNotification>, StoreError> {
    let Some(kind) = NotificationType::of(&event) else {
        return Ok(None);
    };
    let Some(alert) = store.alert(&event.alert_id).await? else {
        return Ok(None);
    };
    if !wants(alert.severity) {
        return Ok(None);
    }
    Ok(Some(AlertNotification {
        kind,
        timestamp: event.at,
        data: NotificationData {
            position,
            event,
            alert,
        },
    }))
}

/// Starts delivering to every configured endpoint, until `stopped` turns true; `holder` names
/// this server in the endpoints' leases. Every endpoint is registered before this returns: an
/// endpoint met for the first time hears of what happens from then on, not of the whole
/// history. Fails for settings that cannot work, or when the store cannot be read.
pub async fn start(
    store: Arc<dyn Store>,
    settings: NotificationSettings,
    holder: String,
    stopped: watch::Receiver<bool>,
) -> Result<tokio::task::JoinHandle<()>, StartError> {
    let endpoints = settings.endpoints()?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_millis(settings.timeout_ms))
        .user_agent(concat!("carbonmesh/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| StartError::Client(e.to_string()))?;
    let start = store.alert_event_position().await?;
    let mut couriers = Vec::with_capacity(endpoints.len());
    for endpoint in endpoints {
        let courier = Courier {
            store: store.clone(),
            client: client.clone(),
            settings: settings.clone(),
            endpoint,
            holder: holder.clone(),
            stopped: stopped.clone(),
        };
        // Registers the endpoint at `start` (or finds where it stands); held or not.
        courier.claim(start).await?;
        couriers.push(courier);
    }
    Ok(tokio::spawn(async move {
        let tasks: Vec<_> = couriers
            .into_iter()
            .map(|c| tokio::spawn(c.run()))
            .collect();
        for task in tasks {
            let _ = task.await;
        }
    }))
}

/// Why notifications cannot start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The settings cannot work.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// The store cannot be read.
    #[error("cannot register notification endpoints: {0}")]
    Store(#[from] StoreError),
    /// No HTTP client (TLS roots missing).
    #[error("cannot build the HTTP client for notifications: {0}")]
    Client(String),
}

/// Why a delivery loop stepped back: the lease went to another server, or the server stops.
enum Interrupted {
    LeaseLost,
    Stopping,
}

/// Delivers one endpoint's notifications, in order.
struct Courier {
    store: Arc<dyn Store>,
    client: reqwest::Client,
    settings: NotificationSettings,
    endpoint: Endpoint,
    holder: String,
    stopped: watch::Receiver<bool>,
}

impl Courier {
    fn name(&self) -> &str {
        &self.endpoint.settings.name
    }

    async fn run(mut self) {
        tracing::info!(endpoint = self.name(), url = %self.endpoint.settings.url,
            min_severity = %self.endpoint.settings.min_severity, "notifying");
        let mut gap: Option<(i64, Instant)> = None;
        loop {
            // The endpoint is registered: the start position given here is not used.
            let step = match self.claim(i64::MAX).await {
                Ok(Some(position)) => self.deliver_after(position, &mut gap).await,
                // Another server delivers for it.
                Ok(None) => Ok(()),
                Err(error) => {
                    tracing::warn!(endpoint = self.name(), %error, "cannot claim the endpoint");
                    Ok(())
                }
            };
            if let Err(Interrupted::Stopping) = step {
                return;
            }
            if self.pause(self.settings.poll_interval()).await.is_err() {
                return;
            }
        }
    }

    /// Claims (or renews) the lease; the endpoint's position when held.
    async fn claim(&self, start: i64) -> Result<Option<i64>, StoreError> {
        let now = Utc::now();
        let lease = chrono::Duration::from_std(self.settings.lease())
            .unwrap_or(chrono::Duration::seconds(30));
        self.store
            .claim_endpoint(self.name(), &self.holder, start, now, now + lease)
            .await
    }

    /// Sends what the history holds after `position`, in order, until it is all sent.
    async fn deliver_after(
        &mut self,
        mut position: i64,
        gap: &mut Option<(i64, Instant)>,
    ) -> Result<(), Interrupted> {
        loop {
            let events = match self.store.alert_events_after(position, BATCH).await {
                Ok(events) => events,
                Err(error) => {
                    tracing::warn!(endpoint = self.name(), %error, "cannot read the alert history");
                    return Ok(());
                }
            };
            let full = events.len() == BATCH as usize;
            for (seq, event) in events {
                if seq > position + 1 {
                    // A hole before `seq`: wait for it to fill, up to the grace period.
                    let waited = match *gap {
                        Some((after, since)) if after == seq => since.elapsed() >= GAP_GRACE,
                        _ => {
                            *gap = Some((seq, Instant::now()));
                            false
                        }
                    };
                    if !waited {
                        return Ok(());
                    }
                }
                *gap = None;
                self.announce(seq, event).await?;
                position = seq;
            }
            if !full {
                return Ok(());
            }
        }
    }

    /// Delivers the notification of one history entry, trying again until the endpoint
    /// accepts it, or moves past an entry that announces nothing to this endpoint.
    async fn announce(&mut self, position: i64, event: AlertEvent) -> Result<(), Interrupted> {
        let settings = self.endpoint.settings.clone();
        let wants = |severity| settings.wants(severity);
        let notification = loop {
            match build_notification(self.store.as_ref(), position, event.clone(), wants).await {
                Ok(notification) => break notification,
                Err(error) => {
                    tracing::warn!(endpoint = self.name(), %error, "cannot read the alert");
                    self.pause(self.settings.poll_interval()).await?;
                }
            }
        };
        let Some(notification) = notification else {
            return match self
                .store
                .skip_notification(self.name(), &self.holder, position)
                .await
            {
                Ok(true) => Ok(()),
                Ok(false) => Err(Interrupted::LeaseLost),
                Err(error) => {
                    tracing::warn!(endpoint = self.name(), %error, "cannot move the endpoint");
                    Err(Interrupted::LeaseLost)
                }
            };
        };
        let body = match serde_json::to_vec(&notification) {
            Ok(body) => body,
            Err(error) => unreachable!("a notification always serializes: {error}"),
        };
        let id = message_id(position);
        let mut delays = backon::ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(self.settings.retry_initial_ms))
            .with_max_delay(Duration::from_millis(
                self.settings
                    .retry_max_ms
                    .max(self.settings.retry_initial_ms),
            ))
            .without_max_times()
            .with_jitter()
            .build();
        let mut attempts = 0u32;
        loop {
            attempts += 1;
            let outcome = self.post(&id, &body).await;
            let now = Utc::now();
            let delivery = NotificationDelivery {
                endpoint: self.name().to_owned(),
                position,
                alert_id: notification.data.alert.id.clone(),
                kind: notification.kind,
                message_id: id.clone(),
                state: match outcome {
                    Ok(()) => DeliveryState::Delivered,
                    Err(_) => DeliveryState::Retrying,
                },
                attempts,
                last_error: outcome.as_ref().err().cloned(),
                last_attempt_at: now,
                delivered_at: outcome.is_ok().then_some(now),
            };
            match self
                .store
                .record_notification(&self.holder, &delivery)
                .await
            {
                Ok(true) => {}
                Ok(false) => return Err(Interrupted::LeaseLost),
                Err(error) => {
                    // Not recorded: the endpoint stays where it was, and the entry is sent
                    // again (with the same id) at the next claim.
                    tracing::warn!(endpoint = self.name(), %error, "cannot log a notification");
                    return Err(Interrupted::LeaseLost);
                }
            }
            let error = match outcome {
                Ok(()) => {
                    tracing::info!(endpoint = self.name(), position, kind = %notification.kind,
                        alert = %notification.data.alert.id, attempts, "notification delivered");
                    return Ok(());
                }
                Err(error) => error,
            };
            let delay = delays
                .next()
                .unwrap_or(Duration::from_millis(self.settings.retry_max_ms));
            tracing::warn!(endpoint = self.name(), position, attempts, %error,
                retry_in_ms = delay.as_millis() as u64, "notification not accepted");
            self.wait_holding(delay).await?;
        }
    }

    /// One attempt: the body with fresh Standard Webhooks headers.
    async fn post(&self, id: &str, body: &[u8]) -> Result<(), String> {
        let timestamp = Utc::now().timestamp();
        let signature = self.endpoint.secret.sign(id, timestamp, body);
        let response = self
            .client
            .post(&self.endpoint.settings.url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(body.to_vec())
            .send()
            .await
            .map_err(|error| describe(&error))?;
        let status = response.status();
        if status.is_success() {
            Ok(())
        } else {
            Err(format!("HTTP {status}"))
        }
    }

    /// Waits `delay` before the next attempt, renewing the lease meanwhile so that no other
    /// server starts on the same endpoint.
    async fn wait_holding(&mut self, delay: Duration) -> Result<(), Interrupted> {
        let deadline = Instant::now() + delay;
        let renew_every = self.settings.lease() / 3;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(());
            }
            self.pause(left.min(renew_every)).await?;
            match self.claim(i64::MAX).await {
                Ok(Some(_)) => {}
                Ok(None) => return Err(Interrupted::LeaseLost),
                Err(error) => {
                    tracing::warn!(endpoint = self.name(), %error, "cannot renew the lease");
                }
            }
        }
    }

    /// Sleeps, unless the server stops first.
    async fn pause(&mut self, duration: Duration) -> Result<(), Interrupted> {
        if *self.stopped.borrow() {
            return Err(Interrupted::Stopping);
        }
        tokio::select! {
            _ = tokio::time::sleep(duration) => Ok(()),
            _ = self.stopped.changed() => Err(Interrupted::Stopping),
        }
    }
}

/// A transport error in a line, without the URL's credentials (reqwest leaves them out).
fn describe(error: &reqwest::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "cannot connect"
    } else {
        "request failed"
    };
    let mut text = kind.to_owned();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    text
}
