//! Applying inbox deliveries: claimed under a lease, applied through the store's upserts,
//! retried with back-off, pruned after the retention period.

use std::sync::Arc;
use std::time::Duration;

use carbonmesh_connector::{Connector, Page, RawBody, RawRecord};
use carbonmesh_matcher::MatchSession;
use carbonmesh_model::{
    CreditRecord, Project, Provenance, RunCounts, RunStatus, WebhookDelivery, sha256_hex,
};
use carbonmesh_store::{DeliveryOutcome, Stamped, Store};
use chrono::Utc;
use tokio::sync::watch;

use crate::Inbox;
use crate::payload::Payload;

/// Deliveries claimed at once.
const CLAIM_BATCH: u32 = 64;

/// How often the inbox is looked at when nothing wakes the worker (deliveries received by
/// other instances, retries coming due).
const POLL: Duration = Duration::from_secs(1);

/// How often old deliveries are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(600);

/// Why a delivery could not be applied.
#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Trying again cannot help (the payload does not fit the connector): given up on.
    #[error("{0}")]
    Permanent(String),
    /// Worth another attempt (the database or the registry failed).
    #[error("{0}")]
    Transient(String),
}

impl From<carbonmesh_store::StoreError> for ApplyError {
    fn from(error: carbonmesh_store::StoreError) -> Self {
        ApplyError::Transient(error.to_string())
    }
}

/// Applies one delivery for `connector`. Idempotent: the store upserts by natural key, so
/// applying a delivery again (after a crash between applying and recording it) changes
/// nothing.
pub async fn apply(
    store: &dyn Store,
    matcher: &MatchSession,
    connector: &dyn Connector,
    delivery: &WebhookDelivery,
) -> Result<RunCounts, ApplyError> {
    let payload = Payload::parse(
        delivery.payload.as_bytes(),
        connector.registry(),
        connector.feeds(),
    )
    .map_err(|e| ApplyError::Permanent(e.to_string()))?;
    let source = format!("webhook {}/{}", delivery.connector, delivery.id);
    match payload {
        Payload::CommonFormat(common) => {
            let (projects, credits) = stamped(delivery, common);
            let applied =
                carbonmesh_ingest::apply_common(store, matcher, projects, credits).await?;
            Ok(applied.counts)
        }
        Payload::RegistryFormat(records) => {
            let feed = records
                .data
                .feed()
                .map_err(|e| ApplyError::Permanent(e.to_string()))?;
            let page = match (records.data.records, records.data.file) {
                (Some(objects), _) => Page {
                    records: objects
                        .into_iter()
                        .enumerate()
                        .map(|(i, object)| RawRecord {
                            feed,
                            source: source.clone(),
                            line: i as u64 + 1,
                            body: RawBody::Json(serde_json::Value::Object(object)),
                        })
                        .collect(),
                    ..Page::default()
                },
                (None, Some(file)) => connector
                    .read_file(feed, &source, file.as_bytes())
                    .map_err(|e| ApplyError::Permanent(e.to_string()))?,
                (None, None) => return Err(ApplyError::Permanent("no records".into())),
            };
            let applied = carbonmesh_ingest::apply_records(
                store,
                matcher,
                connector,
                &page,
                delivery.received_at,
            )
            .await?;
            Ok(applied.counts)
        }
        Payload::ChangeHint(hint) => {
            match connector.fetch_changed(&hint.data.changed()).await {
                Some(Ok(page)) => {
                    let applied = carbonmesh_ingest::apply_records(
                        store,
                        matcher,
                        connector,
                        &page,
                        Utc::now(),
                    )
                    .await?;
                    Ok(applied.counts)
                }
                Some(Err(error)) => Err(ApplyError::Transient(error.to_string())),
                None => {
                    // The connector cannot fetch single records: read its feeds, which
                    // contain them.
                    let outcome =
                        carbonmesh_ingest::sync(store, matcher, connector, "webhook", |_| {})
                            .await?;
                    if outcome.status == RunStatus::Complete {
                        Ok(outcome.counts)
                    } else {
                        Err(ApplyError::Transient(format!(
                            "sync run {} was {}: {}",
                            outcome.run_id,
                            outcome.status,
                            outcome.errors.join("; ")
                        )))
                    }
                }
            }
        }
    }
}

/// A common-format delivery's records, stamped with the delivery as their source.
fn stamped(
    delivery: &WebhookDelivery,
    common: crate::payload::CommonFormat,
) -> (Vec<Stamped<Project>>, Vec<Stamped<CreditRecord>>) {
    let source = format!("webhook {}/{}", delivery.connector, delivery.id);
    let stamp = |json: String| Provenance {
        source: source.clone(),
        raw_hash: sha256_hex(json.as_bytes()),
        fetched_at: delivery.received_at,
        run_id: None,
    };
    // Each record's raw hash is that of its own JSON, as the sender wrote it.
    fn stamped<T: serde::Serialize>(
        records: Vec<T>,
        stamp: &impl Fn(String) -> Provenance,
    ) -> Vec<Stamped<T>> {
        records
            .into_iter()
            .map(|record| {
                let json = serde_json::to_string(&record).unwrap_or_default();
                Stamped {
                    record,
                    provenance: stamp(json),
                }
            })
            .collect()
    }
    let projects = stamped(common.data.projects, &stamp);
    let credits = stamped(common.data.credits, &stamp);
    (projects, credits)
}

/// Applies the common-format deliveries among `claimed` together, one upsert for all their
/// records in delivery order (the same result as one by one, a record's later delivery
/// after its earlier one), records each as applied, and returns the others. If the joint
/// write fails, every delivery is returned to be applied on its own.
async fn apply_common_together(
    inbox: &Inbox,
    holder: &str,
    claimed: Vec<WebhookDelivery>,
) -> Vec<WebhookDelivery> {
    let mut rest = Vec::new();
    let mut together = Vec::new();
    let (mut projects, mut credits) = (Vec::new(), Vec::new());
    for delivery in claimed {
        let parsed = inbox
            .endpoints
            .get(&delivery.connector)
            .and_then(|endpoint| {
                let connector = endpoint.connector.as_ref();
                Payload::parse(
                    delivery.payload.as_bytes(),
                    connector.registry(),
                    connector.feeds(),
                )
                .ok()
            });
        match parsed {
            Some(Payload::CommonFormat(common)) => {
                let (p, c) = stamped(&delivery, common);
                projects.extend(p);
                credits.extend(c);
                together.push(delivery);
            }
            _ => rest.push(delivery),
        }
    }
    if together.len() < 2 {
        rest.extend(together);
        return rest;
    }
    let written =
        carbonmesh_ingest::apply_common(inbox.store.as_ref(), &inbox.matcher, projects, credits)
            .await;
    if let Err(error) = written {
        tracing::warn!(%error, "applying webhook deliveries together failed; one by one instead");
        rest.extend(together);
        return rest;
    }
    for delivery in &together {
        record(inbox, holder, delivery, &DeliveryOutcome::Applied).await;
    }
    rest
}

/// Back-off before attempt `attempts + 1`: 5 s, 10 s, 20 s, … at most an hour.
fn backoff(attempts: u32) -> chrono::Duration {
    let seconds = 5u64.saturating_mul(1u64 << attempts.saturating_sub(1).min(10));
    chrono::Duration::seconds(seconds.min(3600) as i64)
}

/// Applies inbox deliveries until `shutdown` turns true: woken by each delivery this
/// process accepts, and every second for those other instances accepted and retries that
/// came due.
pub async fn run_worker(inbox: Arc<Inbox>, holder: String, mut shutdown: watch::Receiver<bool>) {
    let settings = inbox.settings.clone();
    let lease = chrono::Duration::seconds(settings.lease_seconds.max(1) as i64);
    let retention = chrono::Duration::hours(settings.retention_hours as i64);
    let mut last_prune: Option<tokio::time::Instant> = None;
    loop {
        if *shutdown.borrow() {
            return;
        }
        if last_prune.is_none_or(|at| at.elapsed() >= PRUNE_EVERY) {
            last_prune = Some(tokio::time::Instant::now());
            match inbox.store.prune_deliveries(Utc::now() - retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(pruned = n, "old webhook deliveries pruned"),
                Err(error) => tracing::warn!(%error, "cannot prune webhook deliveries"),
            }
        }
        let now = Utc::now();
        let claimed = match inbox
            .store
            .claim_deliveries(&holder, now, now + lease, CLAIM_BATCH)
            .await
        {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "cannot claim webhook deliveries");
                Vec::new()
            }
        };
        if claimed.is_empty() {
            tokio::select! {
                _ = inbox.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
                _ = shutdown.changed() => return,
            }
            continue;
        }
        let claimed = if settings.processing_delay_ms > 0 {
            claimed
        } else {
            apply_common_together(&inbox, &holder, claimed).await
        };
        for delivery in claimed {
            if settings.processing_delay_ms > 0 {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(settings.processing_delay_ms)) => {}
                    // The lease runs out and the delivery is claimed again later.
                    _ = shutdown.changed() => return,
                }
            }
            process(&inbox, &holder, &delivery, settings.max_attempts).await;
        }
    }
}

async fn process(inbox: &Inbox, holder: &str, delivery: &WebhookDelivery, max_attempts: u32) {
    let outcome = match inbox.endpoints.get(&delivery.connector) {
        None => DeliveryOutcome::Retry {
            error: "this instance has no webhook connector of that name".into(),
            at: Utc::now() + backoff(delivery.attempts),
        },
        Some(endpoint) => {
            match apply(
                inbox.store.as_ref(),
                &inbox.matcher,
                endpoint.connector.as_ref(),
                delivery,
            )
            .await
            {
                Ok(counts) => {
                    tracing::debug!(
                        connector = delivery.connector,
                        id = delivery.id,
                        new = counts.new,
                        changed = counts.changed,
                        "webhook delivery applied"
                    );
                    DeliveryOutcome::Applied
                }
                Err(ApplyError::Permanent(error)) => DeliveryOutcome::Failed { error },
                Err(ApplyError::Transient(error)) if delivery.attempts >= max_attempts => {
                    DeliveryOutcome::Failed {
                        error: format!("gave up after {} attempts: {error}", delivery.attempts),
                    }
                }
                Err(ApplyError::Transient(error)) => DeliveryOutcome::Retry {
                    error,
                    at: Utc::now() + backoff(delivery.attempts),
                },
            }
        }
    };
    if let DeliveryOutcome::Retry { error, .. } | DeliveryOutcome::Failed { error } = &outcome {
        tracing::warn!(
            connector = delivery.connector,
            id = delivery.id,
            attempts = delivery.attempts,
            %error,
            "webhook delivery not applied"
        );
    }
    record(inbox, holder, delivery, &outcome).await;
}

/// Records how processing `delivery` ended.
async fn record(
    inbox: &Inbox,
    holder: &str,
    delivery: &WebhookDelivery,
    outcome: &DeliveryOutcome,
) {
    match inbox
        .store
        .finish_delivery(
            &delivery.connector,
            &delivery.id,
            holder,
            outcome,
            Utc::now(),
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => tracing::warn!(
            connector = delivery.connector,
            id = delivery.id,
            "lease on a webhook delivery ran out before it was recorded"
        ),
        // The lease runs out and the delivery is applied again: the upserts make that safe.
        Err(error) => tracing::warn!(%error, "cannot record a webhook delivery's outcome"),
    }
}

#[cfg(test)]
mod tests {
    use super::backoff;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        assert_eq!(backoff(1).num_seconds(), 5);
        assert_eq!(backoff(2).num_seconds(), 10);
        assert_eq!(backoff(4).num_seconds(), 40);
        assert_eq!(backoff(30).num_seconds(), 3600);
    }
}
