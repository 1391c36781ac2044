//! Connector runs, the records they rejected, where their feeds stopped, and the schedule
//! claims that make instances sharing a database poll once per tick.

use async_trait::async_trait;
use carbonmesh_model::{ConnectorRun, RejectedRecord, RunCounts, RunStatus};
use chrono::{DateTime, Utc};

use crate::db::{Arg, Row};
use crate::store::SqlStore;
use crate::{RunStore, StoreError, StoreResult};

const START_RUN: &str = "INSERT INTO connector_runs (connector, trigger, status, started_at) \
     VALUES ($1, $2, $3, $4) RETURNING id";

const FINISH_RUN: &str = "UPDATE connector_runs SET status = $2, finished_at = $3, seen = $4, \
     new = $5, changed = $6, unchanged = $7, rejected = $8, errors = $9 WHERE id = $1";

const RUNS: &str = "SELECT id, connector, trigger, status, started_at, finished_at, seen, new, \
     changed, unchanged, rejected, errors FROM connector_runs ORDER BY id DESC LIMIT $1";

pub(crate) const INSERT_REJECTED: &str = "INSERT INTO rejected_records (connector, source, \
     line, field, reason, raw, run_id, rejected_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

/// The columns of a rejected record, as [`rejected_from_row`] reads them.
pub(crate) const REJECTED_COLUMNS: &str =
    "connector, source, line, field, reason, raw, run_id, rejected_at";

const REJECTED: &str = "SELECT connector, source, line, field, reason, raw, run_id, rejected_at \
     FROM rejected_records ORDER BY id DESC LIMIT $1";

const CHECKPOINT: &str = "SELECT cursor FROM checkpoints WHERE connector = $1 AND feed = $2";

const SAVE_CHECKPOINT: &str = "INSERT INTO checkpoints (connector, feed, cursor, updated_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (connector, feed) DO UPDATE SET \
     cursor = excluded.cursor, updated_at = excluded.updated_at";

const CLEAR_CHECKPOINT: &str = "DELETE FROM checkpoints WHERE connector = $1 AND feed = $2";

const CLAIM_TICK: &str = "INSERT INTO schedule_claims (connector, tick, holder, claimed_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (connector, tick) DO NOTHING";

/// The arguments of [`INSERT_REJECTED`] for one record.
pub(crate) fn rejected_args(r: &RejectedRecord) -> Vec<Arg> {
    vec![
        r.connector.as_str().into(),
        r.source.as_str().into(),
        Arg::Int(r.line.map(|l| l as i64)),
        r.field.as_deref().into(),
        r.reason.as_str().into(),
        r.raw.as_str().into(),
        r.run_id.into(),
        Arg::time(r.rejected_at),
    ]
}

/// A rejected record from the columns of [`REJECTED_COLUMNS`], starting at `at`.
pub(crate) fn rejected_from_row(row: &Row, at: usize) -> StoreResult<RejectedRecord> {
    Ok(RejectedRecord {
        connector: row.text(at)?,
        source: row.text(at + 1)?,
        line: row.opt_int(at + 2)?.map(|l| l as u64),
        field: row.opt_text(at + 3)?,
        reason: row.text(at + 4)?,
        raw: row.text(at + 5)?,
        run_id: row.opt_int(at + 6)?,
        rejected_at: row.time(at + 7)?,
    })
}

fn run_from_row(row: &Row) -> StoreResult<ConnectorRun> {
    let status = row.text(3)?;
    let count = |i: usize| -> StoreResult<u64> { Ok(row.int(i)?.max(0) as u64) };
    Ok(ConnectorRun {
        id: row.int(0)?,
        connector: row.text(1)?,
        trigger: row.text(2)?,
        status: RunStatus::from_name(&status).ok_or_else(|| StoreError::Corrupt {
            column: "connector_runs.status",
            value: status.clone(),
        })?,
        started_at: row.time(4)?,
        finished_at: row.opt_time(5)?,
        counts: RunCounts {
            seen: count(6)?,
            new: count(7)?,
            changed: count(8)?,
            unchanged: count(9)?,
            rejected: count(10)?,
        },
        errors: serde_json::from_str(&row.text(11)?)?,
    })
}

#[async_trait]
impl RunStore for SqlStore {
    async fn start_run(&self, connector: &str, trigger: &str) -> StoreResult<i64> {
        let row = self
            .db
            .write_fetch(
                START_RUN,
                vec![
                    connector.into(),
                    trigger.into(),
                    RunStatus::Running.as_str().into(),
                    Arg::time(Utc::now()),
                ],
            )
            .await?;
        row.first()
            .ok_or_else(|| StoreError::Corrupt {
                column: "connector_runs.id",
                value: "no id returned".into(),
            })?
            .int(0)
    }

    async fn finish_run(
        &self,
        id: i64,
        status: RunStatus,
        counts: RunCounts,
        errors: &[String],
    ) -> StoreResult<()> {
        self.db
            .execute(
                FINISH_RUN,
                vec![
                    id.into(),
                    status.as_str().into(),
                    Arg::time(Utc::now()),
                    (counts.seen as i64).into(),
                    (counts.new as i64).into(),
                    (counts.changed as i64).into(),
                    (counts.unchanged as i64).into(),
                    (counts.rejected as i64).into(),
                    serde_json::to_string(errors)?.into(),
                ],
            )
            .await?;
        Ok(())
    }

    async fn runs(&self, limit: u32) -> StoreResult<Vec<ConnectorRun>> {
        let rows = self.db.fetch(RUNS, vec![i64::from(limit).into()]).await?;
        rows.iter().map(run_from_row).collect()
    }

    async fn insert_rejected(&self, rejected: &[RejectedRecord]) -> StoreResult<()> {
        if rejected.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        for r in rejected {
            tx.execute(INSERT_REJECTED, rejected_args(r)).await?;
        }
        tx.commit().await
    }

    async fn rejected(&self, limit: u32) -> StoreResult<Vec<RejectedRecord>> {
        let rows = self
            .db
            .fetch(REJECTED, vec![i64::from(limit).into()])
            .await?;
        rows.iter().map(|r| rejected_from_row(r, 0)).collect()
    }

    async fn checkpoint(&self, connector: &str, feed: &str) -> StoreResult<Option<String>> {
        let row = self
            .db
            .fetch_optional(CHECKPOINT, vec![connector.into(), feed.into()])
            .await?;
        row.map(|r| r.text(0)).transpose()
    }

    async fn save_checkpoint(
        &self,
        connector: &str,
        feed: &str,
        cursor: Option<&str>,
    ) -> StoreResult<()> {
        match cursor {
            Some(cursor) => {
                self.db
                    .execute(
                        SAVE_CHECKPOINT,
                        vec![
                            connector.into(),
                            feed.into(),
                            cursor.into(),
                            Arg::time(Utc::now()),
                        ],
                    )
                    .await?
            }
            None => {
                self.db
                    .execute(CLEAR_CHECKPOINT, vec![connector.into(), feed.into()])
                    .await?
            }
        };
        Ok(())
    }

    async fn claim_tick(
        &self,
        connector: &str,
        tick: DateTime<Utc>,
        holder: &str,
    ) -> StoreResult<bool> {
        let claimed = self
            .db
            .execute(
                CLAIM_TICK,
                vec![
                    connector.into(),
                    Arg::time(tick),
                    holder.into(),
                    Arg::time(Utc::now()),
                ],
            )
            .await?;
        Ok(claimed == 1)
    }
}
