//! The [`Store`](crate::Store) implementation shared by both backends.
//!
//! The two backends run the same SQL (see `sql.rs` and `rows.rs`) through different sqlx
//! drivers. sqlx's generic executor bounds make a generic function over both drivers harder
//! to read than the code itself, so the shared body is written once here as a macro and
//! expanded in each backend module, which provides:
//! - fields `writer` and `reader` (pools) and `sql` ([`crate::sql::Statements`]);
//! - `MIGRATOR`, the backend's embedded migrations;
//! - `begin_write(&pool)`, which opens a write transaction;
//! - `self.upsert(&statements, batch)`, the batch upsert, which differs per backend;
//! - `db_time(DateTime<Utc>)`, the value to bind for a timestamp column;
//! - `BACKEND`, the [`crate::Backend`] it is.

macro_rules! impl_store {
    ($store:ident, $conn:ty) => {
        async fn insert_rejected(
            conn: &mut $conn,
            rejected: &[carbonmesh_model::RejectedRecord],
        ) -> $crate::StoreResult<()> {
            for r in rejected {
                ::sqlx::query($crate::rows::INSERT_REJECTED)
                    .bind(&r.connector)
                    .bind(&r.source)
                    .bind(r.line.map(|l| l as i64))
                    .bind(&r.field)
                    .bind(&r.reason)
                    .bind(&r.raw)
                    .bind(r.run_id)
                    .bind(db_time(r.rejected_at))
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        #[::async_trait::async_trait]
        impl $crate::Store for $store {
            fn backend(&self) -> $crate::Backend {
                BACKEND
            }

            fn instance(&self) -> u64 {
                self.instance
            }

            async fn migrate(&self) -> $crate::StoreResult<()> {
                MIGRATOR.run(&self.writer).await?;
                Ok(())
            }

            async fn upsert_projects(
                &self,
                batch: &[$crate::Stamped<carbonmesh_model::Project>],
            ) -> $crate::StoreResult<carbonmesh_model::RunCounts> {
                self.upsert(&self.sql.projects, batch).await
            }

            async fn upsert_credits(
                &self,
                batch: &[$crate::Stamped<carbonmesh_model::CreditRecord>],
            ) -> $crate::StoreResult<carbonmesh_model::RunCounts> {
                self.upsert(&self.sql.credits, batch).await
            }

            async fn project(
                &self,
                id: &str,
            ) -> $crate::StoreResult<Option<carbonmesh_model::Project>> {
                let found: Option<::sqlx::types::Json<carbonmesh_model::Project>> =
                    ::sqlx::query_scalar($crate::rows::CURRENT_PROJECT)
                        .bind(id)
                        .fetch_optional(&self.reader)
                        .await?;
                Ok(found.map(|json| json.0))
            }

            async fn credit(
                &self,
                registry: carbonmesh_model::RegistryId,
                record_key: &str,
            ) -> $crate::StoreResult<Option<carbonmesh_model::CreditRecord>> {
                let found: Option<::sqlx::types::Json<carbonmesh_model::CreditRecord>> =
                    ::sqlx::query_scalar($crate::rows::CURRENT_CREDIT)
                        .bind(registry.as_str())
                        .bind(record_key)
                        .fetch_optional(&self.reader)
                        .await?;
                Ok(found.map(|json| json.0))
            }

            async fn versions(
                &self,
                kind: carbonmesh_model::RecordKind,
                registry: carbonmesh_model::RegistryId,
                record_key: &str,
            ) -> $crate::StoreResult<Vec<carbonmesh_model::RecordVersion>> {
                let found = ::sqlx::query($crate::rows::versions(kind))
                    .bind(registry.as_str())
                    .bind(record_key)
                    .fetch_all(&self.reader)
                    .await?;
                found
                    .iter()
                    .map(|row| version_from_row(row, kind, registry, record_key))
                    .collect()
            }

            async fn counts(&self) -> $crate::StoreResult<$crate::RecordCounts> {
                let (projects, credits, versions, rejected): (i64, i64, i64, i64) =
                    ::sqlx::query_as($crate::rows::COUNTS)
                        .fetch_one(&self.reader)
                        .await?;
                Ok($crate::RecordCounts {
                    projects: projects as u64,
                    credits: credits as u64,
                    versions: versions as u64,
                    rejected: rejected as u64,
                })
            }

            async fn insert_rejected(
                &self,
                rejected: &[carbonmesh_model::RejectedRecord],
            ) -> $crate::StoreResult<()> {
                let mut tx = begin_write(&self.writer).await?;
                insert_rejected(&mut tx, rejected).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn rejected(
                &self,
                limit: u32,
            ) -> $crate::StoreResult<Vec<carbonmesh_model::RejectedRecord>> {
                let found = ::sqlx::query($crate::rows::REJECTED)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                found.iter().map(rejected_from_row).collect()
            }

            async fn start_run(&self, connector: &str, trigger: &str) -> $crate::StoreResult<i64> {
                let id = ::sqlx::query_scalar($crate::rows::START_RUN)
                    .bind(connector)
                    .bind(trigger)
                    .bind(carbonmesh_model::RunStatus::Running.as_str())
                    .bind(db_time(::chrono::Utc::now()))
                    .fetch_one(&self.writer)
                    .await?;
                Ok(id)
            }

            async fn finish_run(
                &self,
                id: i64,
                status: carbonmesh_model::RunStatus,
                counts: carbonmesh_model::RunCounts,
                errors: &[String],
            ) -> $crate::StoreResult<()> {
                ::sqlx::query($crate::rows::FINISH_RUN)
                    .bind(id)
                    .bind(status.as_str())
                    .bind(db_time(::chrono::Utc::now()))
                    .bind(counts.seen as i64)
                    .bind(counts.new as i64)
                    .bind(counts.changed as i64)
                    .bind(counts.unchanged as i64)
                    .bind(counts.rejected as i64)
                    .bind(serde_json::to_string(errors)?)
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn runs(
                &self,
                limit: u32,
            ) -> $crate::StoreResult<Vec<carbonmesh_model::ConnectorRun>> {
                use ::sqlx::Row as _;
                let found = ::sqlx::query($crate::rows::RUNS)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                found
                    .iter()
                    .map(|row| {
                        let status: String = row.try_get("status")?;
                        let count = |column: &str| -> $crate::StoreResult<u64> {
                            Ok(row.try_get::<i64, _>(column)? as u64)
                        };
                        let errors: String = row.try_get("errors")?;
                        Ok(carbonmesh_model::ConnectorRun {
                            id: row.try_get("id")?,
                            connector: row.try_get("connector")?,
                            trigger: row.try_get("trigger")?,
                            status: carbonmesh_model::RunStatus::from_name(&status).ok_or(
                                $crate::StoreError::Corrupt {
                                    column: "connector_runs.status",
                                    value: status,
                                },
                            )?,
                            started_at: row.try_get("started_at")?,
                            finished_at: row.try_get("finished_at")?,
                            counts: carbonmesh_model::RunCounts {
                                seen: count("seen")?,
                                new: count("new")?,
                                changed: count("changed")?,
                                unchanged: count("unchanged")?,
                                rejected: count("rejected")?,
                            },
                            errors: serde_json::from_str(&errors)?,
                        })
                    })
                    .collect()
            }

            async fn checkpoint(
                &self,
                connector: &str,
                feed: &str,
            ) -> $crate::StoreResult<Option<String>> {
                Ok(::sqlx::query_scalar($crate::rows::CHECKPOINT)
                    .bind(connector)
                    .bind(feed)
                    .fetch_optional(&self.reader)
                    .await?)
            }

            async fn save_checkpoint(
                &self,
                connector: &str,
                feed: &str,
                cursor: Option<&str>,
            ) -> $crate::StoreResult<()> {
                match cursor {
                    Some(cursor) => {
                        ::sqlx::query($crate::rows::SAVE_CHECKPOINT)
                            .bind(connector)
                            .bind(feed)
                            .bind(cursor)
                            .bind(db_time(::chrono::Utc::now()))
                            .execute(&self.writer)
                            .await?;
                    }
                    None => {
                        ::sqlx::query($crate::rows::CLEAR_CHECKPOINT)
                            .bind(connector)
                            .bind(feed)
                            .execute(&self.writer)
                            .await?;
                    }
                }
                Ok(())
            }

            async fn claim_tick(
                &self,
                connector: &str,
                tick: ::chrono::DateTime<::chrono::Utc>,
                holder: &str,
            ) -> $crate::StoreResult<bool> {
                let claimed = ::sqlx::query($crate::rows::CLAIM_TICK)
                    .bind(connector)
                    .bind(db_time(tick))
                    .bind(holder)
                    .bind(db_time(::chrono::Utc::now()))
                    .execute(&self.writer)
                    .await?;
                Ok(claimed.rows_affected() == 1)
            }

            async fn projects_page(
                &self,
                after: Option<&str>,
                limit: u32,
            ) -> $crate::StoreResult<Vec<carbonmesh_model::Project>> {
                let rows: Vec<(String, ::sqlx::types::Json<carbonmesh_model::Project>)> =
                    ::sqlx::query_as($crate::rows::PROJECTS_PAGE)
                        .bind(after.unwrap_or(""))
                        .bind(i64::from(limit))
                        .fetch_all(&self.reader)
                        .await?;
                Ok(rows.into_iter().map(|(_, json)| json.0).collect())
            }

            async fn credits_page(
                &self,
                after: Option<(carbonmesh_model::RegistryId, &str)>,
                limit: u32,
            ) -> $crate::StoreResult<Vec<carbonmesh_model::CreditRecord>> {
                let (registry, key) = after.map_or(("", ""), |(r, k)| (r.as_str(), k));
                let rows: Vec<(
                    String,
                    String,
                    ::sqlx::types::Json<carbonmesh_model::CreditRecord>,
                )> = ::sqlx::query_as($crate::rows::CREDITS_PAGE)
                    .bind(registry)
                    .bind(key)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                Ok(rows.into_iter().map(|(_, _, json)| json.0).collect())
            }

            async fn insert_deliveries(
                &self,
                deliveries: &[carbonmesh_model::WebhookDelivery],
            ) -> $crate::StoreResult<Vec<bool>> {
                let mut tx = begin_write(&self.writer).await?;
                let mut inserted = Vec::with_capacity(deliveries.len());
                for delivery in deliveries {
                    let done = ::sqlx::query($crate::rows::INSERT_DELIVERY)
                        .bind(&delivery.connector)
                        .bind(&delivery.id)
                        .bind(db_time(delivery.received_at))
                        .bind(&delivery.verification)
                        .bind(delivery.kind.as_str())
                        .bind(&delivery.payload)
                        .execute(&mut *tx)
                        .await?;
                    inserted.push(done.rows_affected() == 1);
                }
                tx.commit().await?;
                Ok(inserted)
            }

            async fn claim_deliveries(
                &self,
                holder: &str,
                now: ::chrono::DateTime<::chrono::Utc>,
                lease_until: ::chrono::DateTime<::chrono::Utc>,
                limit: u32,
            ) -> $crate::StoreResult<Vec<carbonmesh_model::WebhookDelivery>> {
                let sql = $crate::rows::claim_deliveries(BACKEND);
                let rows = ::sqlx::query(&sql)
                    .bind(holder)
                    .bind(db_time(lease_until))
                    .bind(db_time(now))
                    .bind(i64::from(limit))
                    .fetch_all(&self.writer)
                    .await?;
                let mut claimed = rows
                    .iter()
                    .map(delivery_from_row)
                    .collect::<$crate::StoreResult<Vec<_>>>()?;
                claimed.sort_by_key(|(seq, _)| *seq);
                Ok(claimed.into_iter().map(|(_, d)| d).collect())
            }

            async fn finish_delivery(
                &self,
                connector: &str,
                id: &str,
                holder: &str,
                outcome: &$crate::DeliveryOutcome,
                now: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::StoreResult<bool> {
                let query = match outcome {
                    $crate::DeliveryOutcome::Applied => {
                        ::sqlx::query($crate::rows::DELIVERY_APPLIED)
                            .bind(connector)
                            .bind(id)
                            .bind(holder)
                            .bind(db_time(now))
                    }
                    $crate::DeliveryOutcome::Retry { error, at } => {
                        ::sqlx::query($crate::rows::DELIVERY_RETRY)
                            .bind(connector)
                            .bind(id)
                            .bind(holder)
                            .bind(error.clone())
                            .bind(db_time(*at))
                    }
                    $crate::DeliveryOutcome::Failed { error } => {
                        ::sqlx::query($crate::rows::DELIVERY_FAILED)
                            .bind(connector)
                            .bind(id)
                            .bind(holder)
                            .bind(db_time(now))
                            .bind(error.clone())
                    }
                };
                Ok(query.execute(&self.writer).await?.rows_affected() == 1)
            }

            async fn delivery(
                &self,
                connector: &str,
                id: &str,
            ) -> $crate::StoreResult<Option<carbonmesh_model::WebhookDelivery>> {
                let sql = $crate::rows::delivery();
                let row = ::sqlx::query(&sql)
                    .bind(connector)
                    .bind(id)
                    .fetch_optional(&self.reader)
                    .await?;
                row.as_ref()
                    .map(delivery_from_row)
                    .transpose()
                    .map(|found| found.map(|(_, d)| d))
            }

            async fn deliveries_page(
                &self,
                after: Option<i64>,
                limit: u32,
            ) -> $crate::StoreResult<Vec<(i64, carbonmesh_model::WebhookDelivery)>> {
                let sql = $crate::rows::deliveries_page();
                let rows = ::sqlx::query(&sql)
                    .bind(after.unwrap_or(0))
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                rows.iter().map(delivery_from_row).collect()
            }

            async fn delivery_counts(&self) -> $crate::StoreResult<$crate::DeliveryCounts> {
                let rows: Vec<(String, i64)> = ::sqlx::query_as($crate::rows::DELIVERY_COUNTS)
                    .fetch_all(&self.reader)
                    .await?;
                let mut counts = $crate::DeliveryCounts::default();
                for (status, n) in rows {
                    let n = n as u64;
                    match carbonmesh_model::DeliveryStatus::from_name(&status) {
                        Some(carbonmesh_model::DeliveryStatus::Pending) => counts.pending = n,
                        Some(carbonmesh_model::DeliveryStatus::Applied) => counts.applied = n,
                        Some(carbonmesh_model::DeliveryStatus::Failed) => counts.failed = n,
                        None => {
                            return Err($crate::StoreError::Corrupt {
                                column: "webhook_deliveries.status",
                                value: status,
                            });
                        }
                    }
                }
                Ok(counts)
            }

            async fn prune_deliveries(
                &self,
                received_before: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::StoreResult<u64> {
                let done = ::sqlx::query($crate::rows::PRUNE_DELIVERIES)
                    .bind(db_time(received_before))
                    .execute(&self.writer)
                    .await?;
                Ok(done.rows_affected())
            }

            async fn count_rejection(
                &self,
                connector: &str,
                reason: &str,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::StoreResult<()> {
                ::sqlx::query($crate::rows::COUNT_REJECTION)
                    .bind(connector)
                    .bind(reason)
                    .bind(db_time(at))
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn rejection_counts(&self) -> $crate::StoreResult<Vec<$crate::RejectionCount>> {
                let rows: Vec<(String, String, i64, ::chrono::DateTime<::chrono::Utc>)> =
                    ::sqlx::query_as($crate::rows::REJECTION_COUNTS)
                        .fetch_all(&self.reader)
                        .await?;
                Ok(rows
                    .into_iter()
                    .map(
                        |(connector, reason, count, last_at)| $crate::RejectionCount {
                            connector,
                            reason,
                            count: count as u64,
                            last_at,
                        },
                    )
                    .collect())
            }

            async fn credits_page_versioned(
                &self,
                after: Option<(carbonmesh_model::RegistryId, &str)>,
                limit: u32,
            ) -> $crate::StoreResult<Vec<(i64, carbonmesh_model::CreditRecord)>> {
                let (registry, key) = after.map_or(("", ""), |(r, k)| (r.as_str(), k));
                let rows: Vec<(
                    String,
                    String,
                    i64,
                    ::sqlx::types::Json<carbonmesh_model::CreditRecord>,
                )> = ::sqlx::query_as($crate::rows::CREDITS_PAGE_VERSIONED)
                    .bind(registry)
                    .bind(key)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                Ok(rows
                    .into_iter()
                    .map(|(_, _, v, json)| (v, json.0))
                    .collect())
            }

            async fn projects_page_versioned(
                &self,
                after: Option<&str>,
                limit: u32,
            ) -> $crate::StoreResult<Vec<(i64, carbonmesh_model::Project)>> {
                let rows: Vec<(String, i64, ::sqlx::types::Json<carbonmesh_model::Project>)> =
                    ::sqlx::query_as($crate::rows::PROJECTS_PAGE_VERSIONED)
                        .bind(after.unwrap_or(""))
                        .bind(i64::from(limit))
                        .fetch_all(&self.reader)
                        .await?;
                Ok(rows.into_iter().map(|(_, v, json)| (v, json.0)).collect())
            }

            async fn credit_version(
                &self,
                registry: carbonmesh_model::RegistryId,
                record_key: &str,
            ) -> $crate::StoreResult<Option<i64>> {
                Ok(::sqlx::query_scalar($crate::rows::CREDIT_VERSION)
                    .bind(registry.as_str())
                    .bind(record_key)
                    .fetch_optional(&self.reader)
                    .await?)
            }

            async fn save_alert(
                &self,
                alert: &carbonmesh_model::Alert,
                event: Option<&carbonmesh_model::AlertEvent>,
            ) -> $crate::StoreResult<()> {
                let mut tx = begin_write(&self.writer).await?;
                ::sqlx::query($crate::rows::SAVE_ALERT)
                    .bind(&alert.id)
                    .bind(alert.kind.as_str())
                    .bind(alert.severity.as_str())
                    .bind(alert.status.as_str())
                    .bind(&alert.assignee)
                    .bind(db_time(alert.first_seen))
                    .bind(db_time(alert.last_seen))
                    .bind(serde_json::to_string(alert)?)
                    .execute(&mut *tx)
                    .await?;
                if let Some(event) = event {
                    insert_alert_event(&mut *tx, event).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn transition_alert(
                &self,
                id: &str,
                from: carbonmesh_model::AlertStatus,
                to: carbonmesh_model::AlertStatus,
                assignee: Option<&str>,
                event: &carbonmesh_model::AlertEvent,
            ) -> $crate::StoreResult<bool> {
                let mut tx = begin_write(&self.writer).await?;
                let moved = ::sqlx::query($crate::rows::TRANSITION_ALERT)
                    .bind(id)
                    .bind(from.as_str())
                    .bind(to.as_str())
                    .bind(assignee)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                    == 1;
                if !moved {
                    tx.rollback().await?;
                    return Ok(false);
                }
                insert_alert_event(&mut *tx, event).await?;
                tx.commit().await?;
                Ok(true)
            }

            async fn add_alert_event(
                &self,
                event: &carbonmesh_model::AlertEvent,
            ) -> $crate::StoreResult<()> {
                let mut tx = begin_write(&self.writer).await?;
                insert_alert_event(&mut *tx, event).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn alert(
                &self,
                id: &str,
            ) -> $crate::StoreResult<Option<carbonmesh_model::Alert>> {
                let row: Option<(String, String, Option<String>, String)> =
                    ::sqlx::query_as($crate::rows::ALERT)
                        .bind(id)
                        .fetch_optional(&self.reader)
                        .await?;
                row.map(alert_from_row).transpose()
            }

            async fn alerts_page(
                &self,
                after: Option<&str>,
                limit: u32,
            ) -> $crate::StoreResult<Vec<carbonmesh_model::Alert>> {
                let rows: Vec<(String, String, Option<String>, String)> =
                    ::sqlx::query_as($crate::rows::ALERTS_PAGE)
                        .bind(after.unwrap_or(""))
                        .bind(i64::from(limit))
                        .fetch_all(&self.reader)
                        .await?;
                rows.into_iter().map(alert_from_row).collect()
            }

            async fn alert_events(
                &self,
                id: &str,
            ) -> $crate::StoreResult<Vec<carbonmesh_model::AlertEvent>> {
                let rows: Vec<$crate::rows::AlertEventRow> =
                    ::sqlx::query_as($crate::rows::ALERT_EVENTS)
                        .bind(id)
                        .fetch_all(&self.reader)
                        .await?;
                rows.into_iter().map($crate::rows::alert_event).collect()
            }

            async fn alert_event_position(&self) -> $crate::StoreResult<i64> {
                let (seq,): (Option<i64>,) = ::sqlx::query_as($crate::rows::ALERT_EVENT_POSITION)
                    .fetch_one(&self.reader)
                    .await?;
                Ok(seq.unwrap_or(0))
            }

            async fn alert_events_after(
                &self,
                after: i64,
                limit: u32,
            ) -> $crate::StoreResult<Vec<(i64, carbonmesh_model::AlertEvent)>> {
                let rows: Vec<(
                    i64,
                    String,
                    String,
                    ::chrono::DateTime<::chrono::Utc>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                    Option<String>,
                )> = ::sqlx::query_as($crate::rows::ALERT_EVENTS_AFTER)
                    .bind(after)
                    .bind(i64::from(limit))
                    .fetch_all(&self.reader)
                    .await?;
                rows.into_iter()
                    .map(|(seq, a, b, c, d, e, f, g)| {
                        Ok((seq, $crate::rows::alert_event((a, b, c, d, e, f, g))?))
                    })
                    .collect()
            }

            async fn insert_api_key(
                &self,
                key: &carbonmesh_model::ApiKey,
                sha256_hex: &str,
            ) -> $crate::StoreResult<()> {
                ::sqlx::query($crate::rows::INSERT_API_KEY)
                    .bind(&key.id)
                    .bind(&key.name)
                    .bind(key.role.as_str())
                    .bind(&key.prefix)
                    .bind(sha256_hex)
                    .bind(&key.created_by)
                    .bind(db_time(key.created_at))
                    .bind(key.revoked_at.map(db_time))
                    .bind(key.last_used_at.map(db_time))
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn api_key_by_hash(
                &self,
                sha256_hex: &str,
            ) -> $crate::StoreResult<Option<carbonmesh_model::ApiKey>> {
                let row: Option<$crate::rows::ApiKeyRow> =
                    ::sqlx::query_as($crate::rows::API_KEY_BY_HASH)
                        .bind(sha256_hex)
                        .fetch_optional(&self.reader)
                        .await?;
                row.map($crate::rows::api_key).transpose()
            }

            async fn api_keys(&self) -> $crate::StoreResult<Vec<carbonmesh_model::ApiKey>> {
                let rows: Vec<$crate::rows::ApiKeyRow> = ::sqlx::query_as($crate::rows::API_KEYS)
                    .fetch_all(&self.reader)
                    .await?;
                rows.into_iter().map($crate::rows::api_key).collect()
            }

            async fn revoke_api_key(
                &self,
                id: &str,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::StoreResult<bool> {
                let revoked = ::sqlx::query($crate::rows::REVOKE_API_KEY)
                    .bind(id)
                    .bind(db_time(at))
                    .execute(&self.writer)
                    .await?
                    .rows_affected();
                Ok(revoked == 1)
            }

            async fn touch_api_key(
                &self,
                id: &str,
                at: ::chrono::DateTime<::chrono::Utc>,
            ) -> $crate::StoreResult<()> {
                ::sqlx::query($crate::rows::TOUCH_API_KEY)
                    .bind(id)
                    .bind(db_time(at))
                    .execute(&self.writer)
                    .await?;
                Ok(())
            }

            async fn pending_migrations(&self) -> $crate::StoreResult<u64> {
                let has_table = match BACKEND {
                    $crate::Backend::Sqlite => $crate::rows::SQLITE_HAS_MIGRATIONS_TABLE,
                    $crate::Backend::Postgres => $crate::rows::POSTGRES_HAS_MIGRATIONS_TABLE,
                };
                let (tables,): (i64,) = ::sqlx::query_as(has_table).fetch_one(&self.reader).await?;
                let applied: Vec<i64> = if tables == 0 {
                    Vec::new()
                } else {
                    ::sqlx::query_scalar($crate::rows::APPLIED_MIGRATIONS)
                        .fetch_all(&self.reader)
                        .await?
                };
                Ok(MIGRATOR
                    .iter()
                    .filter(|m| !m.migration_type.is_down_migration())
                    .filter(|m| !applied.contains(&m.version))
                    .count() as u64)
            }

            async fn query_projects(
                &self,
                filter: &$crate::ProjectFilter,
                order: $crate::ProjectOrder,
                after: Option<&str>,
                limit: u32,
            ) -> $crate::StoreResult<$crate::Page<carbonmesh_model::Project>> {
                let select = $crate::select::query_projects(BACKEND, filter, order, after, limit)?;
                let rows: Vec<::sqlx::types::Json<carbonmesh_model::Project>> =
                    ::sqlx::query_scalar_with(&select.text, arguments(&select.args)?)
                        .fetch_all(&self.reader)
                        .await?;
                let items = rows
                    .into_iter()
                    .map(|json| ($crate::select::project_cursor(order, &json.0), json.0))
                    .collect();
                Ok($crate::select::page(items, limit))
            }

            async fn count_projects(
                &self,
                filter: &$crate::ProjectFilter,
            ) -> $crate::StoreResult<u64> {
                let select = $crate::select::count_projects(BACKEND, filter);
                count(&self.reader, &select).await
            }

            async fn query_credits(
                &self,
                filter: &$crate::CreditFilter,
                order: $crate::CreditOrder,
                after: Option<&str>,
                limit: u32,
            ) -> $crate::StoreResult<$crate::Page<carbonmesh_model::CreditRecord>> {
                type Row = (::sqlx::types::Json<carbonmesh_model::CreditRecord>, i64);
                let mut rows: Vec<Row> = Vec::new();
                for select in $crate::select::query_credits(BACKEND, filter, order, after, limit)? {
                    if rows.len() > limit as usize {
                        break;
                    }
                    let more: Vec<Row> =
                        ::sqlx::query_as_with(&select.text, arguments(&select.args)?)
                            .fetch_all(&self.reader)
                            .await?;
                    rows.extend(more);
                }
                let items = rows
                    .into_iter()
                    .map(|(json, stored)| {
                        (
                            $crate::select::credit_cursor(order, &json.0, stored),
                            json.0,
                        )
                    })
                    .collect();
                Ok($crate::select::page(items, limit))
            }

            async fn count_credits(
                &self,
                filter: &$crate::CreditFilter,
            ) -> $crate::StoreResult<u64> {
                count(&self.reader, &$crate::select::count_credits(filter)).await
            }

            async fn credits_overlapping(
                &self,
                namespace: &str,
                start: u64,
                end: u64,
                limit: u32,
            ) -> $crate::StoreResult<Vec<carbonmesh_model::CreditRecord>> {
                let Some(select) =
                    $crate::select::credits_overlapping(BACKEND, namespace, start, end, limit)
                else {
                    return Ok(Vec::new());
                };
                payloads(&self.reader, &select).await
            }

            async fn projects_by_ids(
                &self,
                ids: &[String],
            ) -> $crate::StoreResult<Vec<carbonmesh_model::Project>> {
                let mut found = Vec::with_capacity(ids.len());
                for chunk in ids.chunks($crate::select::LOOKUP_CHUNK) {
                    let select = $crate::select::projects_by_ids(chunk);
                    found.extend(payloads(&self.reader, &select).await?);
                }
                Ok(found)
            }

            async fn credits_by_keys(
                &self,
                keys: &[(carbonmesh_model::RegistryId, String)],
            ) -> $crate::StoreResult<Vec<carbonmesh_model::CreditRecord>> {
                let mut found = Vec::with_capacity(keys.len());
                for chunk in keys.chunks($crate::select::LOOKUP_CHUNK) {
                    let select = $crate::select::credits_by_keys(chunk);
                    found.extend(payloads(&self.reader, &select).await?);
                }
                Ok(found)
            }

            async fn credits_of_projects(
                &self,
                project_ids: &[String],
                per_project: u32,
            ) -> $crate::StoreResult<Vec<carbonmesh_model::CreditRecord>> {
                if project_ids.is_empty() || per_project == 0 {
                    return Ok(Vec::new());
                }
                let select = $crate::select::credits_of_projects(project_ids, per_project);
                payloads(&self.reader, &select).await
            }

            async fn alert_events_of(
                &self,
                ids: &[String],
            ) -> $crate::StoreResult<Vec<carbonmesh_model::AlertEvent>> {
                if ids.is_empty() {
                    return Ok(Vec::new());
                }
                let select = $crate::select::alert_events_of(ids);
                let rows: Vec<$crate::rows::AlertEventRow> =
                    ::sqlx::query_as_with(&select.text, arguments(&select.args)?)
                        .fetch_all(&self.reader)
                        .await?;
                rows.into_iter().map($crate::rows::alert_event).collect()
            }

            async fn query_alerts(
                &self,
                filter: &$crate::AlertFilter,
                after: Option<&str>,
                limit: u32,
            ) -> $crate::StoreResult<$crate::Page<carbonmesh_model::Alert>> {
                let select = $crate::select::query_alerts(BACKEND, filter, after, limit)?;
                let rows: Vec<(
                    String,
                    String,
                    Option<String>,
                    String,
                    ::chrono::DateTime<::chrono::Utc>,
                )> = ::sqlx::query_as_with(&select.text, arguments(&select.args)?)
                    .fetch_all(&self.reader)
                    .await?;
                let mut items = Vec::with_capacity(rows.len());
                for (id, status, assignee, payload, last_seen) in rows {
                    let alert = alert_from_row((id, status, assignee, payload))?;
                    // The stored last_seen, not the payload's: the cursor compares with it.
                    let cursor = $crate::select::alert_cursor(alert.severity, last_seen, &alert.id);
                    items.push((cursor, alert));
                }
                Ok($crate::select::page(items, limit))
            }

            async fn count_alerts(&self, filter: &$crate::AlertFilter) -> $crate::StoreResult<u64> {
                count(&self.reader, &$crate::select::count_alerts(BACKEND, filter)).await
            }

            async fn statistics(
                &self,
                group: $crate::StatsGroup,
                filter: &$crate::CreditFilter,
            ) -> $crate::StoreResult<Vec<$crate::StatRow>> {
                let source = $crate::select::statistics_source(group, filter);
                let sums = quantity_sums(&self.reader, &source).await?;
                Ok($crate::stats::rows(group, sums))
            }

            async fn changes(
                &self,
                since: ::chrono::DateTime<::chrono::Utc>,
                registry: Option<carbonmesh_model::RegistryId>,
                after: Option<&str>,
                limit: u32,
            ) -> $crate::StoreResult<$crate::Page<$crate::Change>> {
                use ::sqlx::Row as _;
                let select = $crate::select::changes(since, registry, after, limit)?;
                let rows = ::sqlx::query_with(&select.text, arguments(&select.args)?)
                    .fetch_all(&self.reader)
                    .await?;
                let mut changes = Vec::with_capacity(rows.len());
                for row in &rows {
                    let kind: String = row.try_get("kind")?;
                    let registry: String = row.try_get("registry")?;
                    let kind = carbonmesh_model::RecordKind::from_name(&kind).ok_or(
                        $crate::StoreError::Corrupt {
                            column: "record_versions.kind",
                            value: kind.clone(),
                        },
                    )?;
                    let registry =
                        registry
                            .parse::<carbonmesh_model::RegistryId>()
                            .map_err(|_| $crate::StoreError::Corrupt {
                                column: "registry",
                                value: registry.clone(),
                            })?;
                    let record_key: String = row.try_get("record_key")?;
                    let change = version_from_row(row, kind, registry, &record_key)?;
                    changes.push(($crate::select::change_cursor(&change), change));
                }
                Ok($crate::select::page(changes, limit))
            }

            async fn registry_counts(&self) -> $crate::StoreResult<Vec<$crate::RegistryCounts>> {
                let mut tables = Vec::new();
                for sql in $crate::select::REGISTRY_COUNTS {
                    let rows: Vec<(String, i64, Option<::chrono::DateTime<::chrono::Utc>>)> =
                        ::sqlx::query_as(sql).fetch_all(&self.reader).await?;
                    tables.push(rows);
                }
                $crate::stats::registry_counts(&tables[0], &tables[1])
            }

            async fn rejected_page(
                &self,
                connector: Option<&str>,
                after: Option<&str>,
                limit: u32,
            ) -> $crate::StoreResult<$crate::Page<carbonmesh_model::RejectedRecord>> {
                use ::sqlx::Row as _;
                let select = $crate::select::rejected_page(connector, after, limit)?;
                let rows = ::sqlx::query_with(&select.text, arguments(&select.args)?)
                    .fetch_all(&self.reader)
                    .await?;
                let mut items = Vec::with_capacity(rows.len());
                for row in &rows {
                    let id: i64 = row.try_get("id")?;
                    items.push((
                        $crate::select::cursor(&[id.into()]),
                        rejected_from_row(row)?,
                    ));
                }
                Ok($crate::select::page(items, limit))
            }
        }

        async fn insert_alert_event(
            conn: &mut $conn,
            event: &carbonmesh_model::AlertEvent,
        ) -> $crate::StoreResult<()> {
            ::sqlx::query($crate::rows::INSERT_ALERT_EVENT)
                .bind(&event.alert_id)
                .bind(&event.actor)
                .bind(db_time(event.at))
                .bind(event.from_status.map(|s| s.as_str()))
                .bind(event.to_status.map(|s| s.as_str()))
                .bind(&event.reason)
                .bind(&event.note)
                .execute(&mut *conn)
                .await?;
            Ok(())
        }

        /// An `alerts` row: the payload, with the status and assignee columns, which
        /// transitions update.
        fn alert_from_row(
            (_, status, assignee, payload): (String, String, Option<String>, String),
        ) -> $crate::StoreResult<carbonmesh_model::Alert> {
            let mut alert: carbonmesh_model::Alert = serde_json::from_str(&payload)?;
            alert.status = carbonmesh_model::AlertStatus::from_name(&status).ok_or(
                $crate::StoreError::Corrupt {
                    column: "alerts.status",
                    value: status.clone(),
                },
            )?;
            alert.assignee = assignee;
            Ok(alert)
        }

        /// A `webhook_deliveries` row, with its position.
        fn delivery_from_row(
            row: &<<$conn as ::sqlx::Connection>::Database as ::sqlx::Database>::Row,
        ) -> $crate::StoreResult<(i64, carbonmesh_model::WebhookDelivery)> {
            use ::sqlx::Row as _;
            let kind: String = row.try_get("kind")?;
            let status: String = row.try_get("status")?;
            let attempts: i32 = row.try_get("attempts")?;
            Ok((
                row.try_get("seq")?,
                carbonmesh_model::WebhookDelivery {
                    id: row.try_get("id")?,
                    connector: row.try_get("connector")?,
                    received_at: row.try_get("received_at")?,
                    verification: row.try_get("verification")?,
                    kind: carbonmesh_model::WebhookKind::from_name(&kind).ok_or(
                        $crate::StoreError::Corrupt {
                            column: "webhook_deliveries.kind",
                            value: kind.clone(),
                        },
                    )?,
                    status: carbonmesh_model::DeliveryStatus::from_name(&status).ok_or(
                        $crate::StoreError::Corrupt {
                            column: "webhook_deliveries.status",
                            value: status.clone(),
                        },
                    )?,
                    attempts: attempts.max(0) as u32,
                    error: row.try_get("last_error")?,
                    processed_at: row.try_get("processed_at")?,
                    payload: row.try_get("body")?,
                },
            ))
        }

        /// The arguments of a read query, bound in order.
        fn arguments(
            args: &[$crate::select::Arg],
        ) -> $crate::StoreResult<
            <<$conn as ::sqlx::Connection>::Database as ::sqlx::Database>::Arguments<'static>,
        > {
            use ::sqlx::Arguments as _;
            let mut out = <<<$conn as ::sqlx::Connection>::Database as ::sqlx::Database>::Arguments<
                'static,
            > as Default>::default();
            for arg in args {
                match arg {
                    $crate::select::Arg::Text(text) => out.add(text.clone()),
                    $crate::select::Arg::Int(int) => out.add(*int),
                    $crate::select::Arg::Date(date) => out.add(db_date(*date)),
                    $crate::select::Arg::Time(at) => out.add(db_time(*at)),
                }
                .map_err(::sqlx::Error::Encode)?;
            }
            Ok(out)
        }

        /// Runs a `SELECT COUNT(*)`.
        async fn count(
            pool: &::sqlx::Pool<<$conn as ::sqlx::Connection>::Database>,
            select: &$crate::select::Select,
        ) -> $crate::StoreResult<u64> {
            let n: i64 = ::sqlx::query_scalar_with(&select.text, arguments(&select.args)?)
                .fetch_one(pool)
                .await?;
            Ok(n as u64)
        }

        /// Runs a statement selecting one JSON payload per row and decodes them.
        async fn payloads<T>(
            pool: &::sqlx::Pool<<$conn as ::sqlx::Connection>::Database>,
            select: &$crate::select::Select,
        ) -> $crate::StoreResult<Vec<T>>
        where
            T: ::serde::de::DeserializeOwned + Send + Unpin + 'static,
        {
            let rows: Vec<::sqlx::types::Json<T>> =
                ::sqlx::query_scalar_with(&select.text, arguments(&select.args)?)
                    .fetch_all(pool)
                    .await?;
            Ok(rows.into_iter().map(|json| json.0).collect())
        }

        /// A version of a record from a row of `versions` or `changes`.
        fn version_from_row(
            row: &<<$conn as ::sqlx::Connection>::Database as ::sqlx::Database>::Row,
            kind: carbonmesh_model::RecordKind,
            registry: carbonmesh_model::RegistryId,
            record_key: &str,
        ) -> $crate::StoreResult<carbonmesh_model::RecordVersion> {
            use ::sqlx::Row as _;
            let payload: ::sqlx::types::Json<serde_json::Value> = row.try_get("payload")?;
            Ok(carbonmesh_model::RecordVersion {
                kind,
                registry,
                record_key: record_key.to_owned(),
                version: row.try_get("version")?,
                content_hash: row.try_get("content_hash")?,
                payload: payload.0,
                provenance: carbonmesh_model::Provenance {
                    source: row.try_get("source")?,
                    raw_hash: row.try_get("raw_hash")?,
                    fetched_at: row.try_get("fetched_at")?,
                    run_id: row.try_get("run_id")?,
                },
                recorded_at: row.try_get("recorded_at")?,
            })
        }

        /// A `rejected_records` row.
        fn rejected_from_row(
            row: &<<$conn as ::sqlx::Connection>::Database as ::sqlx::Database>::Row,
        ) -> $crate::StoreResult<carbonmesh_model::RejectedRecord> {
            use ::sqlx::Row as _;
            let line: Option<i64> = row.try_get("line")?;
            Ok(carbonmesh_model::RejectedRecord {
                connector: row.try_get("connector")?,
                source: row.try_get("source")?,
                line: line.map(|l| l as u64),
                field: row.try_get("field")?,
                reason: row.try_get("reason")?,
                raw: row.try_get("raw")?,
                run_id: row.try_get("run_id")?,
                rejected_at: row.try_get("rejected_at")?,
            })
        }
    };
}

pub(crate) use impl_store;
