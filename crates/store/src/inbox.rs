//! The webhook inbox: every verified delivery is kept here before its sender is answered, then
//! claimed by one worker at a time under a lease and applied; refused requests are counted.

use async_trait::async_trait;
use carbonmesh_model::{DeliveryStatus, WebhookDelivery, WebhookKind};
use chrono::{DateTime, Utc};

use crate::db::{Arg, Row};
use crate::store::SqlStore;
use crate::{
    Backend, DeliveryCounts, DeliveryOutcome, InboxStore, RejectionCount, StoreError, StoreResult,
};

const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (connector, id, received_at, \
     verification, kind, body) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (connector, id) DO NOTHING";

const DELIVERY_COLUMNS: &str = "seq, connector, id, received_at, verification, kind, body, \
     status, attempts, last_error, processed_at";

/// Claims pending deliveries whose lease is free or ran out. The outer condition repeats the
/// inner one: under PostgreSQL's READ COMMITTED a row another instance claimed meanwhile is
/// re-checked after its lock is released and skipped; SQLite has one writer at a time.
fn claim_deliveries(backend: Backend) -> String {
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
    };
    format!(
        "UPDATE webhook_deliveries SET lease_holder = $1, lease_until = $2, \
         attempts = attempts + 1 \
         WHERE seq IN (SELECT seq FROM webhook_deliveries WHERE status = 'pending' \
         AND (lease_until IS NULL OR lease_until <= $3) ORDER BY seq LIMIT $4{lock}) \
         AND status = 'pending' AND (lease_until IS NULL OR lease_until <= $3) \
         RETURNING {DELIVERY_COLUMNS}"
    )
}

const DELIVERY_APPLIED: &str = "UPDATE webhook_deliveries SET status = 'applied', \
     processed_at = $4, last_error = NULL, lease_holder = NULL, lease_until = NULL \
     WHERE connector = $1 AND id = $2 AND lease_holder = $3 AND status = 'pending'";

const DELIVERY_RETRY: &str = "UPDATE webhook_deliveries SET last_error = $4, \
     lease_holder = NULL, lease_until = $5 \
     WHERE connector = $1 AND id = $2 AND lease_holder = $3 AND status = 'pending'";

const DELIVERY_FAILED: &str = "UPDATE webhook_deliveries SET status = 'failed', \
     processed_at = $4, last_error = $5, lease_holder = NULL, lease_until = NULL \
     WHERE connector = $1 AND id = $2 AND lease_holder = $3 AND status = 'pending'";

const DELIVERY_COUNTS: &str = "SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status";

const PRUNE_DELIVERIES: &str =
    "DELETE FROM webhook_deliveries WHERE received_at < $1 AND status <> 'pending'";

const COUNT_REJECTION: &str = "INSERT INTO webhook_rejections (connector, reason, count, \
     last_at) VALUES ($1, $2, 1, $3) ON CONFLICT (connector, reason) DO UPDATE SET \
     count = webhook_rejections.count + 1, last_at = excluded.last_at";

const REJECTION_COUNTS: &str = "SELECT connector, reason, count, last_at \
     FROM webhook_rejections ORDER BY connector, reason";

/// A delivery row, with its position.
fn delivery_from_row(row: &Row) -> StoreResult<(i64, WebhookDelivery)> {
    let kind = row.text(5)?;
    let status = row.text(7)?;
    Ok((
        row.int(0)?,
        WebhookDelivery {
            connector: row.text(1)?,
            id: row.text(2)?,
            received_at: row.time(3)?,
            verification: row.text(4)?,
            kind: WebhookKind::from_name(&kind).ok_or_else(|| StoreError::Corrupt {
                column: "webhook_deliveries.kind",
                value: kind.clone(),
            })?,
            payload: row.text(6)?,
            status: DeliveryStatus::from_name(&status).ok_or_else(|| StoreError::Corrupt {
                column: "webhook_deliveries.status",
                value: status.clone(),
            })?,
            attempts: row.int(8)?.max(0) as u32,
            error: row.opt_text(9)?,
            processed_at: row.opt_time(10)?,
        },
    ))
}

#[async_trait]
impl InboxStore for SqlStore {
    async fn insert_deliveries(&self, deliveries: &[WebhookDelivery]) -> StoreResult<Vec<bool>> {
        let mut tx = self.db.begin().await?;
        let mut inserted = Vec::with_capacity(deliveries.len());
        for d in deliveries {
            let done = tx
                .execute(
                    INSERT_DELIVERY,
                    vec![
                        d.connector.as_str().into(),
                        d.id.as_str().into(),
                        Arg::time(d.received_at),
                        d.verification.as_str().into(),
                        d.kind.as_str().into(),
                        d.payload.as_str().into(),
                    ],
                )
                .await?;
            inserted.push(done == 1);
        }
        tx.commit().await?;
        Ok(inserted)
    }

    async fn claim_deliveries(
        &self,
        holder: &str,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<WebhookDelivery>> {
        let rows = self
            .db
            .write_fetch(
                &claim_deliveries(self.db.backend()),
                vec![
                    holder.into(),
                    Arg::time(lease_until),
                    Arg::time(now),
                    i64::from(limit).into(),
                ],
            )
            .await?;
        let mut claimed = rows
            .iter()
            .map(delivery_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        claimed.sort_by_key(|(seq, _)| *seq);
        Ok(claimed.into_iter().map(|(_, d)| d).collect())
    }

    async fn finish_delivery(
        &self,
        connector: &str,
        id: &str,
        holder: &str,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let mut args: Vec<Arg> = vec![connector.into(), id.into(), holder.into()];
        let sql = match outcome {
            DeliveryOutcome::Applied => {
                args.push(Arg::time(now));
                DELIVERY_APPLIED
            }
            DeliveryOutcome::Retry { error, at } => {
                args.push(error.as_str().into());
                args.push(Arg::time(*at));
                DELIVERY_RETRY
            }
            DeliveryOutcome::Failed { error } => {
                args.push(Arg::time(now));
                args.push(error.as_str().into());
                DELIVERY_FAILED
            }
        };
        Ok(self.db.execute(sql, args).await? == 1)
    }

    async fn delivery(&self, connector: &str, id: &str) -> StoreResult<Option<WebhookDelivery>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE connector = $1 AND id = $2"
        );
        let row = self
            .db
            .fetch_optional(&sql, vec![connector.into(), id.into()])
            .await?;
        Ok(row
            .as_ref()
            .map(delivery_from_row)
            .transpose()?
            .map(|(_, d)| d))
    }

    async fn deliveries_page(
        &self,
        after: Option<i64>,
        limit: u32,
    ) -> StoreResult<Vec<(i64, WebhookDelivery)>> {
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE seq > $1 ORDER BY seq \
             LIMIT $2"
        );
        let rows = self
            .db
            .fetch(
                &sql,
                vec![after.unwrap_or(0).into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }

    async fn delivery_counts(&self) -> StoreResult<DeliveryCounts> {
        let mut counts = DeliveryCounts::default();
        for row in self.db.fetch(DELIVERY_COUNTS, Vec::new()).await? {
            let status = row.text(0)?;
            let n = row.int(1)?.max(0) as u64;
            match DeliveryStatus::from_name(&status) {
                Some(DeliveryStatus::Pending) => counts.pending = n,
                Some(DeliveryStatus::Applied) => counts.applied = n,
                Some(DeliveryStatus::Failed) => counts.failed = n,
                None => {
                    return Err(StoreError::Corrupt {
                        column: "webhook_deliveries.status",
                        value: status,
                    });
                }
            }
        }
        Ok(counts)
    }

    async fn prune_deliveries(&self, received_before: DateTime<Utc>) -> StoreResult<u64> {
        self.db
            .execute(PRUNE_DELIVERIES, vec![Arg::time(received_before)])
            .await
    }

    async fn count_rejection(
        &self,
        connector: &str,
        reason: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        self.db
            .execute(
                COUNT_REJECTION,
                vec![connector.into(), reason.into(), Arg::time(at)],
            )
            .await?;
        Ok(())
    }

    async fn rejection_counts(&self) -> StoreResult<Vec<RejectionCount>> {
        let rows = self.db.fetch(REJECTION_COUNTS, Vec::new()).await?;
        rows.iter()
            .map(|row| {
                Ok(RejectionCount {
                    connector: row.text(0)?,
                    reason: row.text(1)?,
                    count: row.int(2)?.max(0) as u64,
                    last_at: row.time(3)?,
                })
            })
            .collect()
    }
}
