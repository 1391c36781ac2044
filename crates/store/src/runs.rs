//! Connector runs, the records they rejected, where their feeds stopped, and the schedule
//! claims that make instances sharing a database poll once per tick.

use async_trait::async_trait;
use carbonmesh_model::{ConnectorRun, RejectedRecord, RunCounts, RunStatus};
use chrono::{DateTime, Utc};

use crate::db::{Arg, Row};
use crate::store::SqlStore;
use crate::{RunStore, StoreError, StoreResult};

const START_RUN: &str = "INSERT INTO connector_runs (connector, trigger, status, started_at, \
     holder, lease_until, carbonmesh_version) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";

const RENEW_RUN: &str =
    "UPDATE connector_runs SET lease_until = $2 WHERE id = $1 AND status = 'running'";

const RUNNING: &str = "SELECT id, holder, lease_until, started_at FROM connector_runs \
     WHERE status = 'running'";

const ABANDON_RUN: &str = "UPDATE connector_runs SET status = 'abandoned', finished_at = $2, \
     errors = $3 WHERE id = $1 AND status = 'running'";

const FINISH_RUN: &str = "UPDATE connector_runs SET status = $2, finished_at = $3, seen = $4, \
     new = $5, changed = $6, unchanged = $7, rejected = $8, errors = $9 WHERE id = $1";

const RUNS: &str = "SELECT id, connector, trigger, status, started_at, finished_at, seen, new, \
     changed, unchanged, rejected, errors FROM connector_runs ORDER BY id DESC LIMIT $1";

/// Keeps a rejected record once: the same raw record rejected again for the same reason
/// updates where and when it was last seen and counts the sighting.
pub(crate) const INSERT_REJECTED: &str = "INSERT INTO rejected_records (connector, source, \
     line, field, reason, raw, run_id, rejected_at, fingerprint, last_seen_at, seen_count) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 1) ON CONFLICT (fingerprint) DO UPDATE SET \
     source = excluded.source, line = excluded.line, run_id = excluded.run_id, \
     last_seen_at = excluded.last_seen_at, seen_count = rejected_records.seen_count + 1";

/// The columns of a rejected record, as [`rejected_from_row`] reads them.
pub(crate) const REJECTED_COLUMNS: &str = "connector, source, line, field, reason, raw, run_id, \
     rejected_at, COALESCE(last_seen_at, rejected_at), seen_count";

const REJECTED: &str = "SELECT connector, source, line, field, reason, raw, run_id, rejected_at, \
     COALESCE(last_seen_at, rejected_at), seen_count FROM rejected_records ORDER BY id DESC LIMIT $1";

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
        Arg::Bytes(Some(rejection_fingerprint(r).to_vec())),
        Arg::time(r.last_seen_at),
    ]
}

/// What makes two rejections the same: the connector, the raw record and why it was refused
/// (not where or when it was read: a poll re-reads the same record at another position).
fn rejection_fingerprint(r: &RejectedRecord) -> [u8; 32] {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    for part in [
        r.connector.as_str(),
        r.field.as_deref().unwrap_or(""),
        r.reason.as_str(),
        r.raw.as_str(),
    ] {
        hash.update((part.len() as u64).to_le_bytes());
        hash.update(part.as_bytes());
    }
    hash.finalize().into()
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
        last_seen_at: row.time(at + 8)?,
        seen_count: row.int(at + 9)?.max(1) as u64,
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
                    crate::holder::this_process().into(),
                    Arg::time(Utc::now() + crate::holder::RUN_LEASE),
                    crate::CARBONMESH_VERSION.into(),
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

    async fn renew_run(&self, id: i64) -> StoreResult<()> {
        self.db
            .execute(
                RENEW_RUN,
                vec![id.into(), Arg::time(Utc::now() + crate::holder::RUN_LEASE)],
            )
            .await?;
        Ok(())
    }

    async fn abandon_runs(&self, now: DateTime<Utc>) -> StoreResult<Vec<i64>> {
        let mut abandoned = Vec::new();
        for row in self.db.fetch(RUNNING, Vec::new()).await? {
            let (id, holder) = (row.int(0)?, row.opt_text(1)?);
            if !crate::holder::abandoned_here(
                holder.as_deref(),
                row.opt_time(2)?,
                row.time(3)?,
                now,
            ) {
                continue;
            }
            let why = match &holder {
                Some(holder) => format!(
                    "abandoned: {holder}, which ran it, stopped before it ended (killed, or \
                     its lease ran out); found at {}",
                    now.to_rfc3339()
                ),
                None => format!(
                    "abandoned: still running at {} long after it started",
                    now.to_rfc3339()
                ),
            };
            self.db
                .execute(
                    ABANDON_RUN,
                    vec![
                        id.into(),
                        Arg::time(now),
                        serde_json::to_string(&[why])?.into(),
                    ],
                )
                .await?;
            abandoned.push(id);
        }
        Ok(abandoned)
    }

    async fn runs(&self, limit: u32) -> StoreResult<Vec<ConnectorRun>> {
        let rows = self.db.fetch(RUNS, vec![i64::from(limit).into()]).await?;
        rows.iter().map(run_from_row).collect()
    }

    async fn last_complete_runs(&self) -> StoreResult<Vec<(String, DateTime<Utc>)>> {
        let rows = self
            .db
            .fetch(
                "SELECT connector, MAX(finished_at) FROM connector_runs \
                 WHERE status = $1 AND finished_at IS NOT NULL GROUP BY connector \
                 ORDER BY connector",
                vec![RunStatus::Complete.as_str().into()],
            )
            .await?;
        rows.iter()
            .map(|row| Ok((row.text(0)?, row.time(1)?)))
            .collect()
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
