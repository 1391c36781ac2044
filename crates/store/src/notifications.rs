//! Notifications to configured endpoints: each endpoint's position in the alert history, the
//! lease of the server delivering for it, and the log of every notification's delivery.
//!
//! The alert history is the outbox: an entry is written in the transaction that changes the
//! alert, so nothing announced can be lost between a change and its notification. An
//! endpoint moves past an entry only once its notification was accepted (or it announced
//! nothing), in the same transaction that logs the delivery.

use async_trait::async_trait;
use carbonmesh_model::{DeliveryState, NotificationDelivery, NotificationType};
use chrono::{DateTime, Utc};

use crate::db::{Arg, Row};
use crate::store::SqlStore;
use crate::{NotificationStore, StoreError, StoreResult};

const ADD_ENDPOINT: &str = "INSERT INTO notification_endpoints (endpoint, position) \
     VALUES ($1, $2) ON CONFLICT (endpoint) DO NOTHING";

const CLAIM_ENDPOINT: &str = "UPDATE notification_endpoints SET lease_holder = $2, \
     lease_until = $3 WHERE endpoint = $1 \
     AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until <= $4) RETURNING position";

/// Moves a held endpoint to a position (or only checks, and locks, that it is held).
const MOVE_ENDPOINT: &str = "UPDATE notification_endpoints SET position = $3 \
     WHERE endpoint = $1 AND lease_holder = $2";

const HOLD_ENDPOINT: &str = "UPDATE notification_endpoints SET position = position \
     WHERE endpoint = $1 AND lease_holder = $2";

const LOG_DELIVERY: &str = "INSERT INTO notification_deliveries (endpoint, position, alert_id, \
     kind, message_id, state, attempts, last_error, last_attempt_at, delivered_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (endpoint, position) DO UPDATE \
     SET state = excluded.state, attempts = notification_deliveries.attempts + 1, \
     last_error = excluded.last_error, last_attempt_at = excluded.last_attempt_at, \
     delivered_at = excluded.delivered_at";

const DELIVERY_COLUMNS: &str = "endpoint, position, alert_id, kind, message_id, state, \
     attempts, last_error, last_attempt_at, delivered_at";

fn delivery_from_row(row: &Row) -> StoreResult<NotificationDelivery> {
    let corrupt = |column: &'static str, value: String| StoreError::Corrupt { column, value };
    let kind = row.text(3)?;
    let state = row.text(5)?;
    Ok(NotificationDelivery {
        endpoint: row.text(0)?,
        position: row.int(1)?,
        alert_id: row.text(2)?,
        kind: NotificationType::from_name(&kind)
            .ok_or_else(|| corrupt("notification_deliveries.kind", kind.clone()))?,
        message_id: row.text(4)?,
        state: DeliveryState::from_name(&state)
            .ok_or_else(|| corrupt("notification_deliveries.state", state.clone()))?,
        attempts: u32::try_from(row.int(6)?).unwrap_or(u32::MAX),
        last_error: row.opt_text(7)?,
        last_attempt_at: row.time(8)?,
        delivered_at: row.opt_time(9)?,
    })
}

#[async_trait]
impl NotificationStore for SqlStore {
    async fn claim_endpoint(
        &self,
        endpoint: &str,
        holder: &str,
        start: i64,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
    ) -> StoreResult<Option<i64>> {
        let mut tx = self.db.begin().await?;
        tx.execute(ADD_ENDPOINT, vec![endpoint.into(), start.into()])
            .await?;
        let rows = tx
            .fetch(
                CLAIM_ENDPOINT,
                vec![
                    endpoint.into(),
                    holder.into(),
                    Arg::time(lease_until),
                    Arg::time(now),
                ],
            )
            .await?;
        tx.commit().await?;
        rows.first().map(|row| row.int(0)).transpose()
    }

    async fn skip_notification(
        &self,
        endpoint: &str,
        holder: &str,
        position: i64,
    ) -> StoreResult<bool> {
        let moved = self
            .db
            .execute(
                MOVE_ENDPOINT,
                vec![endpoint.into(), holder.into(), position.into()],
            )
            .await?;
        Ok(moved == 1)
    }

    async fn record_notification(
        &self,
        holder: &str,
        delivery: &NotificationDelivery,
    ) -> StoreResult<bool> {
        let d = delivery;
        let mut tx = self.db.begin().await?;
        let held = match d.state {
            DeliveryState::Delivered => {
                tx.execute(
                    MOVE_ENDPOINT,
                    vec![d.endpoint.as_str().into(), holder.into(), d.position.into()],
                )
                .await?
            }
            DeliveryState::Retrying => {
                tx.execute(
                    HOLD_ENDPOINT,
                    vec![d.endpoint.as_str().into(), holder.into()],
                )
                .await?
            }
        };
        if held != 1 {
            // Dropped without a commit: rolled back.
            return Ok(false);
        }
        tx.execute(
            LOG_DELIVERY,
            vec![
                d.endpoint.as_str().into(),
                d.position.into(),
                d.alert_id.as_str().into(),
                d.kind.as_str().into(),
                d.message_id.as_str().into(),
                d.state.as_str().into(),
                i64::from(d.attempts).into(),
                d.last_error.as_deref().into(),
                Arg::time(d.last_attempt_at),
                Arg::Time(d.delivered_at),
            ],
        )
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn notifications_page(
        &self,
        after: Option<(i64, &str)>,
        limit: u32,
    ) -> StoreResult<Vec<NotificationDelivery>> {
        let (position, endpoint) = after.unwrap_or((i64::MIN, ""));
        let sql = format!(
            "SELECT {DELIVERY_COLUMNS} FROM notification_deliveries \
             WHERE position > $1 OR (position = $1 AND endpoint > $2) \
             ORDER BY position, endpoint LIMIT $3"
        );
        let rows = self
            .db
            .fetch(
                &sql,
                vec![position.into(), endpoint.into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter().map(delivery_from_row).collect()
    }
}
