//! Statements written once for both backends (`$n` placeholders work in SQLite too).

use carbonmesh_model::RecordKind;

pub(crate) const CURRENT_PROJECT: &str = "SELECT payload FROM projects WHERE id = $1";

pub(crate) const CURRENT_CREDIT: &str =
    "SELECT payload FROM credit_records WHERE registry = $1 AND record_key = $2";

/// Every version of a record, oldest first: the superseded ones, then the current row. One
/// statement, so it reads one snapshot.
pub(crate) fn versions(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Project => {
            "SELECT version, content_hash, payload, source, raw_hash, fetched_at, run_id, \
             recorded_at FROM record_versions \
             WHERE kind = 'project' AND registry = $1 AND record_key = $2 \
             UNION ALL SELECT version, content_hash, payload, source, raw_hash, fetched_at, \
             run_id, updated_at FROM projects WHERE registry = $1 AND registry_project_id = $2 \
             ORDER BY version"
        }
        RecordKind::Credit => {
            "SELECT version, content_hash, payload, source, raw_hash, fetched_at, run_id, \
             recorded_at FROM record_versions \
             WHERE kind = 'credit' AND registry = $1 AND record_key = $2 \
             UNION ALL SELECT version, content_hash, payload, source, raw_hash, fetched_at, \
             run_id, updated_at FROM credit_records WHERE registry = $1 AND record_key = $2 \
             ORDER BY version"
        }
    }
}

/// Versions are the superseded ones plus one current version per record.
pub(crate) const COUNTS: &str = "SELECT (SELECT COUNT(*) FROM projects), \
     (SELECT COUNT(*) FROM credit_records), \
     (SELECT COUNT(*) FROM record_versions) + (SELECT COUNT(*) FROM projects) \
     + (SELECT COUNT(*) FROM credit_records), \
     (SELECT COUNT(*) FROM rejected_records)";

pub(crate) const REJECTED: &str = "SELECT connector, source, line, field, reason, raw, run_id, \
     rejected_at FROM rejected_records ORDER BY id DESC LIMIT $1";

pub(crate) const START_RUN: &str = "INSERT INTO connector_runs (connector, trigger, status, \
     started_at) VALUES ($1, $2, $3, $4) RETURNING id";

pub(crate) const FINISH_RUN: &str = "UPDATE connector_runs SET status = $2, finished_at = $3, \
     seen = $4, new = $5, changed = $6, unchanged = $7, rejected = $8, errors = $9 WHERE id = $1";

pub(crate) const RUNS: &str = "SELECT id, connector, trigger, status, started_at, finished_at, \
     seen, new, changed, unchanged, rejected, errors FROM connector_runs ORDER BY id DESC LIMIT $1";

pub(crate) const INSERT_REJECTED: &str = "INSERT INTO rejected_records (connector, source, line, \
     field, reason, raw, run_id, rejected_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";

pub(crate) const CHECKPOINT: &str =
    "SELECT cursor FROM checkpoints WHERE connector = $1 AND feed = $2";

pub(crate) const SAVE_CHECKPOINT: &str = "INSERT INTO checkpoints (connector, feed, cursor, \
     updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (connector, feed) DO UPDATE SET \
     cursor = excluded.cursor, updated_at = excluded.updated_at";

pub(crate) const CLEAR_CHECKPOINT: &str =
    "DELETE FROM checkpoints WHERE connector = $1 AND feed = $2";

pub(crate) const CLAIM_TICK: &str = "INSERT INTO schedule_claims (connector, tick, holder, \
     claimed_at) VALUES ($1, $2, $3, $4) ON CONFLICT (connector, tick) DO NOTHING";

pub(crate) const PROJECTS_PAGE: &str =
    "SELECT id, payload FROM projects WHERE id > $1 ORDER BY id LIMIT $2";

pub(crate) const CREDITS_PAGE: &str = "SELECT registry, record_key, payload FROM credit_records \
     WHERE (registry > $1 OR (registry = $1 AND record_key > $2)) \
     ORDER BY registry, record_key LIMIT $3";

pub(crate) const INSERT_DELIVERY: &str = "INSERT INTO webhook_deliveries (connector, id, \
     received_at, verification, kind, body) VALUES ($1, $2, $3, $4, $5, $6) \
     ON CONFLICT (connector, id) DO NOTHING";

const DELIVERY_COLUMNS: &str = "seq, connector, id, received_at, verification, kind, body, \
     status, attempts, last_error, processed_at";

/// Claims pending deliveries whose lease is free or ran out. The outer condition repeats the
/// inner one: under PostgreSQL's READ COMMITTED a row another instance claimed meanwhile is
/// re-checked after its lock is released and skipped; SQLite has one writer at a time.
pub(crate) fn claim_deliveries(backend: crate::Backend) -> String {
    let lock = match backend {
        crate::Backend::Sqlite => "",
        crate::Backend::Postgres => " FOR UPDATE SKIP LOCKED",
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

pub(crate) const DELIVERY_APPLIED: &str = "UPDATE webhook_deliveries SET status = 'applied', \
     processed_at = $4, last_error = NULL, lease_holder = NULL, lease_until = NULL \
     WHERE connector = $1 AND id = $2 AND lease_holder = $3 AND status = 'pending'";

pub(crate) const DELIVERY_RETRY: &str = "UPDATE webhook_deliveries SET last_error = $4, \
     lease_holder = NULL, lease_until = $5 \
     WHERE connector = $1 AND id = $2 AND lease_holder = $3 AND status = 'pending'";

pub(crate) const DELIVERY_FAILED: &str = "UPDATE webhook_deliveries SET status = 'failed', \
     processed_at = $4, last_error = $5, lease_holder = NULL, lease_until = NULL \
     WHERE connector = $1 AND id = $2 AND lease_holder = $3 AND status = 'pending'";

pub(crate) fn deliveries_page() -> String {
    format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE seq > $1 ORDER BY seq LIMIT $2"
    )
}

pub(crate) fn delivery() -> String {
    format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries WHERE connector = $1 AND id = $2")
}

pub(crate) const DELIVERY_COUNTS: &str =
    "SELECT status, COUNT(*) FROM webhook_deliveries GROUP BY status";

pub(crate) const PRUNE_DELIVERIES: &str =
    "DELETE FROM webhook_deliveries WHERE received_at < $1 AND status <> 'pending'";

pub(crate) const COUNT_REJECTION: &str = "INSERT INTO webhook_rejections (connector, reason, \
     count, last_at) VALUES ($1, $2, 1, $3) ON CONFLICT (connector, reason) DO UPDATE SET \
     count = webhook_rejections.count + 1, last_at = excluded.last_at";

pub(crate) const REJECTION_COUNTS: &str = "SELECT connector, reason, count, last_at \
     FROM webhook_rejections ORDER BY connector, reason";

pub(crate) const CREDITS_PAGE_VERSIONED: &str = "SELECT registry, record_key, version, payload \
     FROM credit_records WHERE (registry > $1 OR (registry = $1 AND record_key > $2)) \
     ORDER BY registry, record_key LIMIT $3";

pub(crate) const PROJECTS_PAGE_VERSIONED: &str =
    "SELECT id, version, payload FROM projects WHERE id > $1 ORDER BY id LIMIT $2";

pub(crate) const CREDIT_VERSION: &str =
    "SELECT version FROM credit_records WHERE registry = $1 AND record_key = $2";

pub(crate) const SAVE_ALERT: &str = "INSERT INTO alerts (id, kind, severity, status, assignee, \
     first_seen, last_seen, payload) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
     ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, severity = excluded.severity, \
     status = excluded.status, assignee = excluded.assignee, first_seen = excluded.first_seen, \
     last_seen = excluded.last_seen, payload = excluded.payload";

pub(crate) const TRANSITION_ALERT: &str = "UPDATE alerts SET status = $3, \
     assignee = COALESCE($4, assignee) WHERE id = $1 AND status = $2";

pub(crate) const ALERT: &str = "SELECT id, status, assignee, payload FROM alerts WHERE id = $1";

pub(crate) const ALERTS_PAGE: &str = "SELECT id, status, assignee, payload FROM alerts \
     WHERE id > $1 ORDER BY id LIMIT $2";

pub(crate) const INSERT_ALERT_EVENT: &str = "INSERT INTO alert_events (alert_id, actor, at, \
     from_status, to_status, reason, note) VALUES ($1, $2, $3, $4, $5, $6, $7)";

pub(crate) const ALERT_EVENTS: &str = "SELECT alert_id, actor, at, from_status, to_status, \
     reason, note FROM alert_events WHERE alert_id = $1 ORDER BY seq";

pub(crate) const ALERT_EVENT_POSITION: &str = "SELECT MAX(seq) FROM alert_events";

pub(crate) const ALERT_EVENTS_AFTER: &str = "SELECT seq, alert_id, actor, at, from_status, \
     to_status, reason, note FROM alert_events WHERE seq > $1 ORDER BY seq LIMIT $2";

/// An alert history row: alert id, actor, time, from, to, reason, note.
pub(crate) type AlertEventRow = (
    String,
    String,
    chrono::DateTime<chrono::Utc>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Decodes an alert history row.
pub(crate) fn alert_event(row: AlertEventRow) -> crate::StoreResult<carbonmesh_model::AlertEvent> {
    let (alert_id, actor, at, from, to, reason, note) = row;
    let status = |s: Option<String>| {
        s.map(|s| {
            carbonmesh_model::AlertStatus::from_name(&s).ok_or(crate::StoreError::Corrupt {
                column: "alert_events.status",
                value: s.clone(),
            })
        })
        .transpose()
    };
    Ok(carbonmesh_model::AlertEvent {
        alert_id,
        actor,
        at,
        from_status: status(from)?,
        to_status: status(to)?,
        reason,
        note,
    })
}

pub(crate) const INSERT_API_KEY: &str = "INSERT INTO api_keys (id, name, role, prefix, \
     token_sha256, created_by, created_at, revoked_at, last_used_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)";

pub(crate) const API_KEY_BY_HASH: &str = "SELECT id, name, role, prefix, created_by, \
     created_at, revoked_at, last_used_at FROM api_keys WHERE token_sha256 = $1";

pub(crate) const API_KEYS: &str = "SELECT id, name, role, prefix, created_by, created_at, \
     revoked_at, last_used_at FROM api_keys ORDER BY created_at, id";

pub(crate) const REVOKE_API_KEY: &str =
    "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL";

pub(crate) const TOUCH_API_KEY: &str = "UPDATE api_keys SET last_used_at = $2 WHERE id = $1";

/// Whether sqlx's migrations table exists, per backend.
pub(crate) const SQLITE_HAS_MIGRATIONS_TABLE: &str =
    "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'";
pub(crate) const POSTGRES_HAS_MIGRATIONS_TABLE: &str = "SELECT COUNT(*) FROM pg_catalog.pg_tables \
     WHERE schemaname = current_schema() AND tablename = '_sqlx_migrations'";

pub(crate) const APPLIED_MIGRATIONS: &str = "SELECT version FROM _sqlx_migrations WHERE success";

/// An `api_keys` row: id, name, role, prefix, created by, created, revoked, last used.
pub(crate) type ApiKeyRow = (
    String,
    String,
    String,
    String,
    String,
    chrono::DateTime<chrono::Utc>,
    Option<chrono::DateTime<chrono::Utc>>,
    Option<chrono::DateTime<chrono::Utc>>,
);

/// Decodes an `api_keys` row.
pub(crate) fn api_key(row: ApiKeyRow) -> crate::StoreResult<carbonmesh_model::ApiKey> {
    let (id, name, role, prefix, created_by, created_at, revoked_at, last_used_at) = row;
    let role = carbonmesh_model::ApiRole::from_name(&role).ok_or(crate::StoreError::Corrupt {
        column: "api_keys.role",
        value: role.clone(),
    })?;
    Ok(carbonmesh_model::ApiKey {
        id,
        name,
        role,
        prefix,
        created_by,
        created_at,
        revoked_at,
        last_used_at,
    })
}
