//! Double-counting alerts and their append-only review history.
//!
//! An alert's id derives from its kind and evidence, so the matcher re-finding it updates the
//! row instead of adding one. The row keeps the whole alert (evidence included) as JSON, with
//! status and assignee as columns too, so a review transition is one compare-and-set.

use async_trait::async_trait;
use carbonmesh_model::{Alert, AlertEvent, AlertStatus, Channel};

use crate::db::{Arg, Row, Tx};
use crate::store::SqlStore;
use crate::{AlertStore, StoreError, StoreResult};

const SAVE_ALERT: &str = "INSERT INTO alerts (id, kind, severity, status, assignee, \
     first_seen, last_seen, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, severity = excluded.severity, \
     status = excluded.status, assignee = excluded.assignee, first_seen = excluded.first_seen, \
     last_seen = excluded.last_seen, payload = excluded.payload";

const TRANSITION_ALERT: &str = "UPDATE alerts SET status = $3, \
     assignee = COALESCE($4, assignee) WHERE id = $1 AND status = $2";

/// The columns [`alert_from_row`] reads.
pub(crate) const ALERT_COLUMNS: &str = "id, status, assignee, payload";

const INSERT_ALERT_EVENT: &str = "INSERT INTO alert_events (alert_id, actor, at, from_status, \
     to_status, reason, note, actor_key, channel, decision) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// The columns [`event_from_row`] reads.
pub(crate) const EVENT_COLUMNS: &str =
    "alert_id, actor, at, from_status, to_status, reason, note, actor_key, channel, decision";

/// An alert: its payload, with the status and assignee columns, which transitions update.
pub(crate) fn alert_from_row(row: &Row) -> StoreResult<Alert> {
    let mut alert: Alert = serde_json::from_str(&row.text(3)?)?;
    let status = row.text(1)?;
    alert.status = AlertStatus::from_name(&status).ok_or_else(|| StoreError::Corrupt {
        column: "alerts.status",
        value: status.clone(),
    })?;
    alert.assignee = row.opt_text(2)?;
    Ok(alert)
}

/// A history entry from [`EVENT_COLUMNS`] starting at `at`.
pub(crate) fn event_from_row(row: &Row, at: usize) -> StoreResult<AlertEvent> {
    let status = |i: usize| -> StoreResult<Option<AlertStatus>> {
        row.opt_text(i)?
            .map(|s| {
                AlertStatus::from_name(&s).ok_or_else(|| StoreError::Corrupt {
                    column: "alert_events.status",
                    value: s.clone(),
                })
            })
            .transpose()
    };
    Ok(AlertEvent {
        alert_id: row.text(at)?,
        actor: row.text(at + 1)?,
        at: row.time(at + 2)?,
        from_status: status(at + 3)?,
        to_status: status(at + 4)?,
        reason: row.opt_text(at + 5)?,
        note: row.opt_text(at + 6)?,
        actor_key: row.opt_text(at + 7)?,
        channel: row
            .opt_text(at + 8)?
            .map(|c| {
                Channel::from_name(&c).ok_or_else(|| StoreError::Corrupt {
                    column: "alert_events.channel",
                    value: c.clone(),
                })
            })
            .transpose()?,
        decision: status(at + 9)?,
    })
}

async fn insert_event(tx: &mut dyn Tx, event: &AlertEvent) -> StoreResult<()> {
    tx.execute(
        INSERT_ALERT_EVENT,
        vec![
            event.alert_id.as_str().into(),
            event.actor.as_str().into(),
            Arg::time(event.at),
            event.from_status.map(|s| s.as_str()).into(),
            event.to_status.map(|s| s.as_str()).into(),
            event.reason.as_deref().into(),
            event.note.as_deref().into(),
            event.actor_key.as_deref().into(),
            event.channel.map(|c| c.as_str()).into(),
            event.decision.map(|s| s.as_str()).into(),
        ],
    )
    .await?;
    Ok(())
}

#[async_trait]
impl AlertStore for SqlStore {
    async fn save_alert(&self, alert: &Alert, event: Option<&AlertEvent>) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            SAVE_ALERT,
            vec![
                alert.id.as_str().into(),
                alert.kind.as_str().into(),
                alert.severity.as_str().into(),
                alert.status.as_str().into(),
                alert.assignee.as_deref().into(),
                Arg::time(alert.first_seen),
                Arg::time(alert.last_seen),
                serde_json::to_string(alert)?.into(),
            ],
        )
        .await?;
        if let Some(event) = event {
            insert_event(tx.as_mut(), event).await?;
        }
        tx.commit().await
    }

    async fn transition_alert(
        &self,
        id: &str,
        from: AlertStatus,
        to: AlertStatus,
        assignee: Option<&str>,
        event: &AlertEvent,
    ) -> StoreResult<bool> {
        let mut tx = self.db.begin().await?;
        let moved = tx
            .execute(
                TRANSITION_ALERT,
                vec![
                    id.into(),
                    from.as_str().into(),
                    to.as_str().into(),
                    assignee.into(),
                ],
            )
            .await?
            == 1;
        if !moved {
            // Dropped without a commit: rolled back.
            return Ok(false);
        }
        insert_event(tx.as_mut(), event).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn add_alert_event(&self, event: &AlertEvent) -> StoreResult<()> {
        let mut tx = self.db.begin().await?;
        insert_event(tx.as_mut(), event).await?;
        tx.commit().await
    }

    async fn alert(&self, id: &str) -> StoreResult<Option<Alert>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1");
        let row = self.db.fetch_optional(&sql, vec![id.into()]).await?;
        row.as_ref().map(alert_from_row).transpose()
    }

    async fn alerts_page(&self, after: Option<&str>, limit: u32) -> StoreResult<Vec<Alert>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id > $1 ORDER BY id LIMIT $2");
        let rows = self
            .db
            .fetch(
                &sql,
                vec![after.unwrap_or("").into(), i64::from(limit).into()],
            )
            .await?;
        rows.iter().map(alert_from_row).collect()
    }

    async fn alert_events(&self, id: &str) -> StoreResult<Vec<AlertEvent>> {
        let sql =
            format!("SELECT {EVENT_COLUMNS} FROM alert_events WHERE alert_id = $1 ORDER BY seq");
        let rows = self.db.fetch(&sql, vec![id.into()]).await?;
        rows.iter().map(|r| event_from_row(r, 0)).collect()
    }

    async fn alert_events_of(&self, ids: &[String]) -> StoreResult<Vec<AlertEvent>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(crate::queries::LOOKUP_CHUNK) {
            let sql = format!(
                "SELECT {EVENT_COLUMNS} FROM alert_events WHERE alert_id IN ({}) ORDER BY seq",
                crate::db::placeholders(0, chunk.len())
            );
            let rows = self
                .db
                .fetch(&sql, chunk.iter().map(Arg::from).collect())
                .await?;
            for row in &rows {
                out.push(event_from_row(row, 0)?);
            }
        }
        Ok(out)
    }

    async fn alert_event_position(&self) -> StoreResult<i64> {
        let row = self
            .db
            .fetch_one("SELECT MAX(seq) FROM alert_events", Vec::new())
            .await?;
        Ok(row.opt_int(0)?.unwrap_or(0))
    }

    async fn alert_events_after(
        &self,
        after: i64,
        limit: u32,
    ) -> StoreResult<Vec<(i64, AlertEvent)>> {
        let sql = format!(
            "SELECT seq, {EVENT_COLUMNS} FROM alert_events WHERE seq > $1 ORDER BY seq LIMIT $2"
        );
        let rows = self
            .db
            .fetch(&sql, vec![after.into(), i64::from(limit).into()])
            .await?;
        rows.iter()
            .map(|r| Ok((r.int(0)?, event_from_row(r, 1)?)))
            .collect()
    }
}
