//! Project listings, counts and batch lookups.

use carbonmesh_model::{Project, TransactionType};
use rust_decimal::Decimal;

use crate::db::Arg;
use crate::queries::as_of::Sources;
use crate::queries::cursor::{Cursor, cursor, page, page_limit};
use crate::queries::{LOOKUP_CHUNK, Select, project_text_conditions, where_clause};
use crate::records::read::{PROJECT_VERSION, project_select};
use crate::store::SqlStore;
use crate::{Backend, DateRange, Page, ProjectFilter, ProjectOrder, RawKind, StoreResult};

/// Conditions of a project filter on `projects p`.
async fn conditions(
    store: &SqlStore,
    filter: &ProjectFilter,
    q: &mut Select,
    out: &mut Vec<String>,
) -> StoreResult<()> {
    let db = store.db.as_ref();
    if !filter.registries.is_empty() {
        let ids = store
            .terms
            .lookup(db, filter.registries.iter().map(|r| r.as_str().to_owned()))
            .await?;
        out.push(q.any_of("p.registry", &ids));
    }
    if !filter.countries.is_empty() {
        let list = q.list(filter.countries.iter().map(|c| c.trim().to_uppercase()));
        out.push(format!("p.country IN {list}"));
    }
    if !filter.statuses.is_empty() {
        let ids = store
            .terms
            .lookup(db, filter.statuses.iter().map(|s| s.as_str().to_owned()))
            .await?;
        out.push(q.any_of("p.status", &ids));
    }
    project_text_conditions(
        filter.methodology.as_deref(),
        filter.category.as_deref(),
        filter.search.as_deref(),
        q,
        out,
    );
    if let Some(range) = &filter.crediting_period {
        out.push(crediting_period_overlaps(db.backend(), range, q));
    }
    if let Some(units) = filter.retired_at_least {
        let kind = kind_term(store, TransactionType::Retirement, q).await?;
        let kg = q.arg(kilograms(units));
        out.push(format!(
            "p.id IN (SELECT project FROM credit_totals WHERE kind = {kind} GROUP BY project \
             HAVING SUM(quantity) >= {kg})"
        ));
    }
    if let Some(range) = &filter.first_issuance {
        let kind = kind_term(store, TransactionType::Issuance, q).await?;
        let mut having = vec!["MIN(first_day) IS NOT NULL".to_owned()];
        if let Some(from) = range.from {
            having.push(format!("MIN(first_day) >= {}", q.arg(Arg::Day(Some(from)))));
        }
        if let Some(to) = range.to {
            having.push(format!("MIN(first_day) <= {}", q.arg(Arg::Day(Some(to)))));
        }
        out.push(format!(
            "p.id IN (SELECT project FROM credit_totals WHERE kind = {kind} GROUP BY project \
             HAVING {})",
            having.join(" AND ")
        ));
    }
    if let Some(kinds) = &filter.kinds {
        out.push(kinds_condition(store, kinds, q).await?);
    }
    Ok(())
}

/// The placeholder of a transaction type's term (a number no term has when none is stored).
async fn kind_term(store: &SqlStore, kind: TransactionType, q: &mut Select) -> StoreResult<String> {
    let id = store
        .terms
        .lookup_one(store.db.as_ref(), kind.as_str())
        .await?
        .unwrap_or(-1);
    Ok(q.arg(id))
}

/// Whole kilograms of `units`, rounded down; saturating.
fn kilograms(units: Decimal) -> i64 {
    (units * Decimal::from(1000))
        .floor()
        .try_into()
        .unwrap_or(if units.is_sign_negative() {
            i64::MIN
        } else {
            i64::MAX
        })
}

/// The roll-up a listing is sorted by: `(project, v)` per project, joined as `r`, and the
/// sort key read from it (ascending; ties broken by project id).
async fn rollup_sort(
    store: &SqlStore,
    order: ProjectOrder,
    q: &mut Select,
) -> StoreResult<Option<(String, &'static str)>> {
    let (kind, value, key) = match order {
        ProjectOrder::Id | ProjectOrder::Name | ProjectOrder::Country => return Ok(None),
        // Kilograms; text quantities (finer than a kilogram) rounded to one.
        ProjectOrder::RetiredDesc => (
            TransactionType::Retirement,
            "SUM(quantity) + COALESCE(SUM(CAST(CAST(quantity_text AS DOUBLE PRECISION) * 1000 \
             AS BIGINT)), 0)",
            "-COALESCE(r.v, 0)",
        ),
        ProjectOrder::FirstIssuance => (
            TransactionType::Issuance,
            match store.db.backend() {
                Backend::Sqlite => "MIN(first_day)",
                Backend::Postgres => "MIN(first_day) - DATE '1970-01-01'",
            },
            "COALESCE(r.v, 2147483647)",
        ),
    };
    let kind = kind_term(store, kind, q).await?;
    Ok(Some((
        format!(
            " LEFT JOIN (SELECT project, {value} AS v FROM credit_totals WHERE kind = {kind} \
             GROUP BY project) r ON r.project = p.id"
        ),
        key,
    )))
}

/// A project is one of `kinds`: its registry and its three raw values equal one
/// combination's (a missing value matches only a missing one).
async fn kinds_condition(
    store: &SqlStore,
    kinds: &[RawKind],
    q: &mut Select,
) -> StoreResult<String> {
    let mut alternatives = Vec::with_capacity(kinds.len());
    for kind in kinds {
        // A registry never stored has no projects to match.
        let Some(id) = store
            .terms
            .lookup_one(store.db.as_ref(), kind.registry.as_str())
            .await?
        else {
            continue;
        };
        let mut parts = vec![format!("p.registry = {}", q.arg(id))];
        for (column, value) in [
            ("p.sector", &kind.sector),
            ("p.category", &kind.category),
            ("p.project_type", &kind.project_type),
        ] {
            parts.push(match value {
                Some(v) => format!("{column} = {}", q.arg(v.clone())),
                None => format!("{column} IS NULL"),
            });
        }
        alternatives.push(format!("({})", parts.join(" AND ")));
    }
    Ok(if alternatives.is_empty() {
        "1 = 0".to_owned()
    } else {
        format!("({})", alternatives.join(" OR "))
    })
}

/// A project has a crediting period sharing a day with `range`; an open end of either
/// reaches everything on its side. Periods live in the project's `extra` JSON, as ISO dates.
fn crediting_period_overlaps(backend: Backend, range: &DateRange, q: &mut Select) -> String {
    let (periods, start, end) = match backend {
        Backend::Sqlite => (
            "json_each(p.extra, '$.crediting_periods') cp",
            "json_extract(cp.value, '$.start')",
            "json_extract(cp.value, '$.end')",
        ),
        Backend::Postgres => (
            "json_array_elements(p.extra::json -> 'crediting_periods') cp",
            "(cp ->> 'start')",
            "(cp ->> 'end')",
        ),
    };
    // ISO dates compare as text.
    let mut conditions = vec!["true".to_owned()];
    if let Some(to) = range.to {
        let to = q.arg(to.to_string());
        conditions.push(format!("({start} IS NULL OR {start} <= {to})"));
    }
    if let Some(from) = range.from {
        let from = q.arg(from.to_string());
        conditions.push(format!("({end} IS NULL OR {end} >= {from})"));
    }
    format!(
        "EXISTS (SELECT 1 FROM {periods} WHERE {})",
        conditions.join(" AND ")
    )
}

/// The sort key of a project listing, as SQL and as a row value; `rollup` is the roll-up's
/// expression when sorted by one (see `rollup_sort`).
fn order_sql(order: ProjectOrder, rollup: Option<&str>) -> (&'static str, String) {
    match (order, rollup) {
        (ProjectOrder::RetiredDesc | ProjectOrder::FirstIssuance, Some(expr)) => {
            ("sort, p.key", format!("({expr}, p.key)"))
        }
        (ProjectOrder::Name, _) => ("p.name, p.key", "(p.name, p.key)".to_owned()),
        (ProjectOrder::Country, _) => (
            "COALESCE(p.country, ''), p.key",
            "(COALESCE(p.country, ''), p.key)".to_owned(),
        ),
        _ => ("p.key", "p.key".to_owned()),
    }
}

/// The cursor of a project in `order`; `sort` is the roll-up sort key, when sorted by one.
fn project_cursor(order: ProjectOrder, project: &Project, sort: Option<i64>) -> String {
    let id = project.id();
    match order {
        ProjectOrder::RetiredDesc | ProjectOrder::FirstIssuance => {
            cursor(&[sort.unwrap_or_default().into(), id.into()])
        }
        ProjectOrder::Id => cursor(&[id.into()]),
        ProjectOrder::Name => cursor(&[project.name.clone().into(), id.into()]),
        ProjectOrder::Country => cursor(&[
            project.country.clone().unwrap_or_default().into(),
            id.into(),
        ]),
    }
}

pub(crate) async fn query(
    store: &SqlStore,
    filter: &ProjectFilter,
    order: ProjectOrder,
    after: Option<&str>,
    limit: u32,
) -> StoreResult<Page<Project>> {
    let mut q = Select::default();
    let Sources { projects, .. } = Sources::new(&mut q, filter.as_of);
    let sort = rollup_sort(store, order, &mut q).await?;
    let mut conds = Vec::new();
    conditions(store, filter, &mut q, &mut conds).await?;
    let (order_by, key) = order_sql(order, sort.as_ref().map(|(_, expr)| *expr));
    if let Some(after) = after {
        let condition = match order {
            ProjectOrder::RetiredDesc | ProjectOrder::FirstIssuance => {
                let c = Cursor::parse(after, 2)?;
                let first = q.arg(c.int(0)?);
                let id = q.arg(c.text(1)?);
                format!("{key} > ({first}, {id})")
            }
            ProjectOrder::Id => {
                let c = Cursor::parse(after, 1)?;
                format!("p.key > {}", q.arg(c.text(0)?))
            }
            ProjectOrder::Name | ProjectOrder::Country => {
                let c = Cursor::parse(after, 2)?;
                let first = q.arg(c.text(0)?);
                let id = q.arg(c.text(1)?);
                format!("{key} > ({first}, {id})")
            }
        };
        conds.push(condition);
    }
    let limit_arg = q.arg(page_limit(limit));
    let (join, sort_column) = match &sort {
        Some((join, key)) => (join.as_str(), format!(", {key} AS sort")),
        None => ("", String::new()),
    };
    q.text = format!(
        "SELECT {}{sort_column} FROM {projects} p{join}{} ORDER BY {order_by} LIMIT {limit_arg}",
        project_select("p", false),
        where_clause(&conds)
    );
    let (rows, projects) = store.project_rows(&q.text, q.args).await?;
    let mut items = Vec::with_capacity(projects.len());
    for (row, p) in rows.iter().zip(projects) {
        let sort = match sort {
            Some(_) => Some(sort_value(row)?),
            None => None,
        };
        items.push((project_cursor(order, &p, sort), p));
    }
    Ok(page(items, limit))
}

/// The roll-up sort key, after the project columns: an integer (a `numeric` sum in
/// PostgreSQL).
fn sort_value(row: &crate::db::Row) -> StoreResult<i64> {
    let at = PROJECT_VERSION + 1;
    row.decimal(at)?
        .try_into()
        .map_err(|_| crate::StoreError::Corrupt {
            column: "sort",
            value: "a sort key beyond 64 bits".into(),
        })
}

pub(crate) async fn count(store: &SqlStore, filter: &ProjectFilter) -> StoreResult<u64> {
    let mut q = Select::default();
    let Sources { projects, .. } = Sources::new(&mut q, filter.as_of);
    let mut conds = Vec::new();
    conditions(store, filter, &mut q, &mut conds).await?;
    q.text = format!("SELECT COUNT(*) FROM {projects} p{}", where_clause(&conds));
    Ok(store.db.fetch_one(&q.text, q.args).await?.int(0)?.max(0) as u64)
}

pub(crate) async fn by_ids(store: &SqlStore, ids: &[String]) -> StoreResult<Vec<Project>> {
    let mut found = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(LOOKUP_CHUNK) {
        let sql = format!(
            "SELECT {} FROM projects p WHERE p.key IN ({})",
            project_select("p", false),
            crate::db::placeholders(0, chunk.len())
        );
        let args = chunk.iter().map(Arg::from).collect();
        found.extend(store.project_rows(&sql, args).await?.1);
    }
    Ok(found)
}

pub(crate) async fn as_of(
    store: &SqlStore,
    id: &str,
    at: chrono::DateTime<chrono::Utc>,
) -> StoreResult<Option<Project>> {
    let mut q = Select::default();
    let Sources { projects, .. } = Sources::new(&mut q, Some(at));
    let key = q.arg(id.trim());
    q.text = format!(
        "SELECT {} FROM {projects} p WHERE p.key = {key}",
        project_select("p", false)
    );
    Ok(store.project_rows(&q.text, q.args).await?.1.pop())
}
