//! Project listings, counts and batch lookups.

use carbonmesh_model::Project;

use crate::db::Arg;
use crate::queries::cursor::{Cursor, cursor, page, page_limit};
use crate::queries::{LOOKUP_CHUNK, Select, project_text_conditions, where_clause};
use crate::records::read::project_select;
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
    if let Some(kinds) = &filter.kinds {
        out.push(kinds_condition(store, kinds, q).await?);
    }
    Ok(())
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

/// The sort key of a project listing, as SQL and as a row value.
fn order_sql(order: ProjectOrder) -> (&'static str, &'static str) {
    match order {
        ProjectOrder::Id => ("p.key", "p.key"),
        ProjectOrder::Name => ("p.name, p.key", "(p.name, p.key)"),
        ProjectOrder::Country => (
            "COALESCE(p.country, ''), p.key",
            "(COALESCE(p.country, ''), p.key)",
        ),
    }
}

/// The cursor of a project in `order`.
fn project_cursor(order: ProjectOrder, project: &Project) -> String {
    let id = project.id();
    match order {
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
    let mut conds = Vec::new();
    conditions(store, filter, &mut q, &mut conds).await?;
    let (order_by, key) = order_sql(order);
    if let Some(after) = after {
        let condition = match order {
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
    q.text = format!(
        "SELECT {} FROM projects p{} ORDER BY {order_by} LIMIT {limit_arg}",
        project_select("p", false),
        where_clause(&conds)
    );
    let (_, projects) = store.project_rows(&q.text, q.args).await?;
    let items = projects
        .into_iter()
        .map(|p| (project_cursor(order, &p), p))
        .collect();
    Ok(page(items, limit))
}

pub(crate) async fn count(store: &SqlStore, filter: &ProjectFilter) -> StoreResult<u64> {
    let mut q = Select::default();
    let mut conds = Vec::new();
    conditions(store, filter, &mut q, &mut conds).await?;
    q.text = format!("SELECT COUNT(*) FROM projects p{}", where_clause(&conds));
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
