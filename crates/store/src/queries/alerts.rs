//! Alert listings and counts: most severe first, then newest evidence, then id.

use carbonmesh_model::{Alert, Severity};
use chrono::{DateTime, Utc};

use crate::alerts::{ALERT_COLUMNS, alert_from_row};
use crate::db::Arg;
use crate::queries::cursor::{Cursor, cursor, page, page_limit, time_value};
use crate::queries::{Select, where_clause};
use crate::store::SqlStore;
use crate::{AlertFacets, AlertFilter, Backend, FacetCount, Page, StoreResult};

/// The severity rank alerts are listed by, most severe first: the first expression of the
/// `alerts_order` index, written identically so the index serves the order.
pub(crate) const ALERT_RANK: &str = "(CASE severity WHEN 'critical' THEN 0 WHEN 'high' THEN 1 \
     WHEN 'medium' THEN 2 WHEN 'low' THEN 3 ELSE 4 END)";

/// The rank [`ALERT_RANK`] gives a severity.
fn alert_rank(severity: Severity) -> i64 {
    match severity {
        Severity::Critical => 0,
        Severity::High => 1,
        Severity::Medium => 2,
        Severity::Low => 3,
        Severity::Info => 4,
    }
}

fn conditions(backend: Backend, filter: &AlertFilter, q: &mut Select, out: &mut Vec<String>) {
    if !filter.statuses.is_empty() {
        let list = q.list(filter.statuses.iter().map(|s| s.as_str()));
        out.push(format!("status IN {list}"));
    }
    if !filter.kinds.is_empty() {
        let list = q.list(filter.kinds.iter().map(|k| k.as_str()));
        out.push(format!("kind IN {list}"));
    }
    if !filter.severities.is_empty() {
        let list = q.list(filter.severities.iter().map(|s| s.as_str()));
        out.push(format!("severity IN {list}"));
    }
    if let Some(assignee) = &filter.assignee {
        let a = q.arg(assignee.as_str());
        out.push(format!("assignee = {a}"));
    }
    if let Some(registry) = filter.registry {
        // The records an alert names are in its payload (JSON text on both backends).
        let r = q.arg(registry.as_str());
        out.push(match backend {
            Backend::Sqlite => format!(
                "EXISTS (SELECT 1 FROM json_each(alerts.payload, '$.records') ar \
                 WHERE json_extract(ar.value, '$.registry') = {r})"
            ),
            Backend::Postgres => format!(
                "EXISTS (SELECT 1 FROM json_array_elements(alerts.payload::json -> 'records') ar \
                 WHERE ar ->> 'registry' = {r})"
            ),
        });
    }
}

/// The cursor of an alert row.
fn alert_cursor(severity: Severity, last_seen: DateTime<Utc>, id: &str) -> String {
    cursor(&[
        alert_rank(severity).into(),
        time_value(last_seen),
        id.into(),
    ])
}

pub(crate) async fn query(
    store: &SqlStore,
    filter: &AlertFilter,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Page<Alert>> {
    let mut q = Select::default();
    let mut conds = Vec::new();
    conditions(store.db.backend(), filter, &mut q, &mut conds);
    if let Some(after) = after {
        let c = Cursor::parse(after, 3)?;
        let rank = q.arg(c.int(0)?);
        let seen = q.arg(Arg::time(c.time(1)?));
        let id = q.arg(c.text(2)?);
        conds.push(format!(
            "({ALERT_RANK} > {rank} OR ({ALERT_RANK} = {rank} AND (last_seen < {seen} \
             OR (last_seen = {seen} AND id > {id}))))"
        ));
    }
    let limit_arg = q.arg(page_limit(limit));
    q.text = format!(
        "SELECT {ALERT_COLUMNS}, last_seen FROM alerts{} \
         ORDER BY {ALERT_RANK}, last_seen DESC, id LIMIT {limit_arg}",
        where_clause(&conds)
    );
    let rows = store.db.fetch(&q.text, q.args).await?;
    let mut items = Vec::with_capacity(rows.len());
    for row in &rows {
        let alert = alert_from_row(row)?;
        // The stored last_seen, not the payload's: the cursor compares with it.
        let cursor = alert_cursor(alert.severity, row.time(4)?, &alert.id);
        items.push((cursor, alert));
    }
    Ok(page(items, limit))
}

pub(crate) async fn count(store: &SqlStore, filter: &AlertFilter) -> StoreResult<u64> {
    let mut q = Select::default();
    let mut conds = Vec::new();
    conditions(store.db.backend(), filter, &mut q, &mut conds);
    q.text = format!("SELECT COUNT(*) FROM alerts{}", where_clause(&conds));
    Ok(store.db.fetch_one(&q.text, q.args).await?.int(0)?.max(0) as u64)
}

/// Counts of the alerts matching `filter`, by each of its facets. A facet is counted under
/// the filter's other conditions, so each count says how many alerts choosing that value
/// would list.
pub(crate) async fn facets(store: &SqlStore, filter: &AlertFilter) -> StoreResult<AlertFacets> {
    let backend = store.db.backend();
    let grouped = |column: &str, without: AlertFilter| {
        let mut q = Select::default();
        let mut conds = Vec::new();
        conditions(backend, &without, &mut q, &mut conds);
        conds.push(format!("{column} IS NOT NULL"));
        q.text = format!(
            "SELECT {column}, COUNT(*) FROM alerts{} GROUP BY {column} ORDER BY {column}",
            where_clause(&conds)
        );
        q
    };
    let by_registry = {
        let mut q = Select::default();
        let mut conds = Vec::new();
        let without = AlertFilter {
            registry: None,
            ..filter.clone()
        };
        conditions(backend, &without, &mut q, &mut conds);
        let (elements, registry) = match backend {
            Backend::Sqlite => (
                "json_each(alerts.payload, '$.records') ar",
                "json_extract(ar.value, '$.registry')",
            ),
            Backend::Postgres => (
                "json_array_elements(alerts.payload::json -> 'records') ar",
                "ar ->> 'registry'",
            ),
        };
        q.text = format!(
            "SELECT {registry} AS r, COUNT(DISTINCT alerts.id) FROM alerts, {elements}{} \
             GROUP BY r ORDER BY r",
            where_clause(&conds)
        );
        q
    };
    let statuses = grouped(
        "status",
        AlertFilter {
            statuses: Vec::new(),
            ..filter.clone()
        },
    );
    let severities = grouped(
        "severity",
        AlertFilter {
            severities: Vec::new(),
            ..filter.clone()
        },
    );
    let kinds = grouped(
        "kind",
        AlertFilter {
            kinds: Vec::new(),
            ..filter.clone()
        },
    );
    let assignees = grouped(
        "assignee",
        AlertFilter {
            assignee: None,
            ..filter.clone()
        },
    );
    Ok(AlertFacets {
        total: count(store, filter).await?,
        statuses: counted(store, statuses).await?,
        severities: counted(store, severities).await?,
        kinds: counted(store, kinds).await?,
        assignees: counted(store, assignees).await?,
        registries: counted(store, by_registry).await?,
    })
}

/// The `(value, count)` rows of a grouped count.
async fn counted(store: &SqlStore, q: Select) -> StoreResult<Vec<FacetCount>> {
    let rows = store.db.fetch(&q.text, q.args).await?;
    let mut counts = Vec::with_capacity(rows.len());
    for row in &rows {
        counts.push(FacetCount {
            value: row.text(0)?,
            count: row.int(1)?.max(0) as u64,
        });
    }
    Ok(counts)
}
