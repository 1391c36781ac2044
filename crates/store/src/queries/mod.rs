//! The API's read queries (see [`crate::query`]): statements built from a filter for either
//! backend, run through the backend's [`crate::db::Db`], and the cursors of their pages.
//!
//! Values are always bound (`$n` placeholders), never spliced into the text. Filters on
//! registries, transaction types and statuses are turned into term numbers first: a value never
//! stored matches nothing. Text ordering follows the database collation: SQLite compares
//! bytes, and so does PostgreSQL under the `C` collation (`initdb --no-locale`); under another
//! collation pages still never skip or repeat a row, since the order and the keyset condition
//! use the same collation. Case-insensitive matches fold ASCII letters alike on both backends.

mod alerts;
pub(crate) mod as_of;
mod changes;
mod claims;
mod credits;
pub(crate) mod cursor;
mod projects;
mod rollups;
mod stats;

use async_trait::async_trait;
use carbonmesh_model::{Alert, CreditRecord, Project, RegistryId, RejectedRecord};
use chrono::{DateTime, Utc};

use crate::db::Arg;
use crate::store::SqlStore;
use crate::{
    AlertFacets, AlertFilter, Beneficiary, Change, CreditFilter, CreditOrder, Page, ProjectFilter,
    ProjectOrder, ProjectRollup, QueryStore, RawKind, RegistryCounts, StatRow, StatsGroup,
    StoreResult, VocabularyCount,
};

/// Ids or keys bound per statement in batch lookups: far below either backend's limit on
/// bound parameters.
pub(crate) const LOOKUP_CHUNK: usize = 500;

/// A statement and its arguments, `$1` being the first. A few lines of our own rather than a
/// query builder crate: the statements are written once for both backends with the same
/// placeholders, and sqlx checks nothing at compile time for text built at run time anyway.
#[derive(Debug, Default)]
pub(crate) struct Select {
    pub text: String,
    pub args: Vec<Arg>,
}

impl Select {
    /// Adds an argument; returns its placeholder.
    pub(crate) fn arg(&mut self, arg: impl Into<Arg>) -> String {
        self.args.push(arg.into());
        format!("${}", self.args.len())
    }

    /// `($a, $b, …)` binding each value.
    pub(crate) fn list<A: Into<Arg>>(&mut self, values: impl IntoIterator<Item = A>) -> String {
        let items: Vec<String> = values.into_iter().map(|v| self.arg(v)).collect();
        format!("({})", items.join(", "))
    }

    /// `column IN (…)` for term numbers; never true when there are none.
    pub(crate) fn any_of(&mut self, column: &str, ids: &[i64]) -> String {
        if ids.is_empty() {
            return "1 = 0".to_owned();
        }
        let list = self.list(ids.iter().copied());
        format!("{column} IN {list}")
    }
}

/// `WHERE a AND b …`, or nothing.
pub(crate) fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// Lower-cases a value compared with `lower(column)`.
pub(crate) fn folded(value: &str) -> String {
    value.trim().to_lowercase()
}

/// A `LIKE` pattern matching `value` anywhere, with `\` escaping the wildcards.
pub(crate) fn contains_pattern(value: &str) -> String {
    let mut pattern = String::from("%");
    for ch in folded(value).chars() {
        if matches!(ch, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(ch);
    }
    pattern.push('%');
    pattern
}

/// The conditions on a project's methodology, category and name (`projects p`).
pub(crate) fn project_text_conditions(
    methodology: Option<&str>,
    category: Option<&str>,
    search: Option<&str>,
    q: &mut Select,
    out: &mut Vec<String>,
) {
    if let Some(methodology) = methodology {
        let m = q.arg(folded(methodology));
        out.push(format!("lower(p.methodology) = {m}"));
    }
    if let Some(category) = category {
        let c = q.arg(folded(category));
        out.push(format!(
            "(lower(p.sector) = {c} OR lower(p.category) = {c} OR lower(p.project_type) = {c})"
        ));
    }
    if let Some(search) = search {
        let s = q.arg(contains_pattern(search));
        out.push(format!("lower(p.name) LIKE {s} ESCAPE '\\'"));
    }
}

/// A credit filter with its strings turned into term numbers.
pub(crate) struct CreditTerms {
    pub registries: Option<Vec<i64>>,
    /// `Some(None)`: the project was never stored, nothing matches.
    pub project: Option<Option<i64>>,
    pub kinds: Option<Vec<i64>>,
    pub statuses: Option<Vec<i64>>,
    pub claim: Option<claims::ClaimTerms>,
}

impl SqlStore {
    pub(crate) async fn credit_terms(&self, filter: &CreditFilter) -> StoreResult<CreditTerms> {
        let db = self.db.as_ref();
        let lookup = |names: Vec<String>| async move {
            if names.is_empty() {
                Ok::<_, crate::StoreError>(None)
            } else {
                Ok(Some(self.terms.lookup(db, names).await?))
            }
        };
        Ok(CreditTerms {
            registries: lookup(
                filter
                    .registries
                    .iter()
                    .map(|r| r.as_str().to_owned())
                    .collect(),
            )
            .await?,
            project: match &filter.project_id {
                Some(id) => Some(self.terms.lookup_one(db, id.trim()).await?),
                None => None,
            },
            kinds: lookup(
                filter
                    .transaction_types
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect(),
            )
            .await?,
            statuses: lookup(
                filter
                    .statuses
                    .iter()
                    .map(|s| s.as_str().to_owned())
                    .collect(),
            )
            .await?,
            claim: match &filter.claim {
                Some(search) => Some(claims::claim_terms(self, search).await?),
                None => None,
            },
        })
    }
}

/// Whether a credit filter has conditions on the record's project.
pub(crate) fn needs_project(filter: &CreditFilter) -> bool {
    !filter.countries.is_empty()
        || filter.methodology.is_some()
        || filter.category.is_some()
        || filter.search.is_some()
}

/// Conditions of a credit filter on table `t` (`credits` or `credit_totals`, which share the
/// columns registry, project, vintage, kind and status), and `projects p` when
/// [`needs_project`]. The event-date range applies to `credits` only.
pub(crate) fn credit_conditions(
    t: &str,
    filter: &CreditFilter,
    terms: &CreditTerms,
    q: &mut Select,
    out: &mut Vec<String>,
) {
    // Retracted records are not current (the totals leave them out already).
    if t == "c" {
        out.push("c.retracted_at IS NULL".to_owned());
    }
    if let Some(ids) = &terms.registries {
        out.push(q.any_of(&format!("{t}.registry"), ids));
    }
    match terms.project {
        Some(Some(id)) => {
            let p = q.arg(id);
            out.push(format!("{t}.project = {p}"));
        }
        Some(None) => out.push("1 = 0".to_owned()),
        None => {}
    }
    if !filter.countries.is_empty() {
        let list = q.list(filter.countries.iter().map(|c| c.trim().to_uppercase()));
        out.push(format!("p.country IN {list}"));
    }
    // The totals keep "no vintage" as 0, which a range must not take for a year.
    if let Some(from) = filter.vintage_from {
        let v = q.arg(i64::from(from));
        out.push(format!("{t}.vintage >= {v}"));
    }
    if let Some(to) = filter.vintage_to {
        let v = q.arg(i64::from(to));
        out.push(format!("{t}.vintage <= {v}"));
        if t != "c" {
            out.push(format!("{t}.vintage <> 0"));
        }
    }
    if let Some(ids) = &terms.kinds {
        out.push(q.any_of(&format!("{t}.kind"), ids));
    }
    if let Some(ids) = &terms.statuses {
        out.push(q.any_of(&format!("{t}.status"), ids));
    }
    if let Some(range) = &filter.event_date {
        if let Some(from) = range.from {
            let d = q.arg(Arg::Day(Some(from)));
            out.push(format!("{t}.event_day >= {d}"));
        }
        if let Some(to) = range.to {
            let d = q.arg(Arg::Day(Some(to)));
            out.push(format!("{t}.event_day <= {d}"));
        }
    }
    project_text_conditions(
        filter.methodology.as_deref(),
        filter.category.as_deref(),
        filter.search.as_deref(),
        q,
        out,
    );
    if let Some(claim) = &terms.claim {
        out.push(claims::claim_condition(claim, q));
    }
}

/// Whether a credit filter reads what only the records hold (event dates, claims, a past
/// moment), so that counts and statistics cannot come from the totals.
pub(crate) fn reads_records(filter: &CreditFilter) -> bool {
    filter.event_date.is_some() || filter.as_of.is_some() || filter.claim.is_some()
}

#[async_trait]
impl QueryStore for SqlStore {
    async fn query_projects(
        &self,
        filter: &ProjectFilter,
        order: ProjectOrder,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<Project>> {
        projects::query(self, filter, order, after, limit).await
    }

    async fn count_projects(&self, filter: &ProjectFilter) -> StoreResult<u64> {
        projects::count(self, filter).await
    }

    async fn query_credits(
        &self,
        filter: &CreditFilter,
        order: CreditOrder,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<CreditRecord>> {
        credits::query(self, filter, order, after, limit).await
    }

    async fn count_credits(&self, filter: &CreditFilter) -> StoreResult<u64> {
        credits::count(self, filter).await
    }

    async fn credits_overlapping(
        &self,
        namespace: &str,
        start: u64,
        end: u64,
        limit: u32,
    ) -> StoreResult<Vec<CreditRecord>> {
        credits::overlapping(self, namespace, start, end, limit).await
    }

    async fn credits_with_unranged_serial(
        &self,
        serial: &str,
        limit: u32,
    ) -> StoreResult<Vec<CreditRecord>> {
        credits::with_unranged_serial(self, serial, limit).await
    }

    async fn namespaces_with_prefix(&self, prefix: &str) -> StoreResult<Vec<String>> {
        credits::namespaces_with_prefix(self, prefix).await
    }

    async fn projects_by_ids(&self, ids: &[String]) -> StoreResult<Vec<Project>> {
        projects::by_ids(self, ids).await
    }

    async fn beneficiaries(&self, search: &str, limit: u32) -> StoreResult<Vec<Beneficiary>> {
        claims::beneficiaries(self, search, limit).await
    }

    async fn project_as_of(&self, id: &str, at: DateTime<Utc>) -> StoreResult<Option<Project>> {
        projects::as_of(self, id, at).await
    }

    async fn project_rollups(&self, ids: &[String]) -> StoreResult<Vec<ProjectRollup>> {
        rollups::rollups(self, ids).await
    }

    async fn credits_by_keys(
        &self,
        keys: &[(RegistryId, String)],
    ) -> StoreResult<Vec<CreditRecord>> {
        credits::by_keys(self, keys).await
    }

    async fn credits_of_projects(
        &self,
        project_ids: &[String],
        per_project: u32,
    ) -> StoreResult<Vec<CreditRecord>> {
        credits::of_projects(self, project_ids, per_project).await
    }

    async fn query_alerts(
        &self,
        filter: &AlertFilter,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<Alert>> {
        alerts::query(self, filter, after, limit).await
    }

    async fn count_alerts(&self, filter: &AlertFilter) -> StoreResult<u64> {
        alerts::count(self, filter).await
    }

    async fn alert_facets(&self, filter: &AlertFilter) -> StoreResult<AlertFacets> {
        alerts::facets(self, filter).await
    }

    async fn statistics(
        &self,
        group: StatsGroup,
        filter: &CreditFilter,
    ) -> StoreResult<Vec<StatRow>> {
        stats::statistics(self, group, filter).await
    }

    async fn changes(
        &self,
        since: DateTime<Utc>,
        registry: Option<RegistryId>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<Change>> {
        changes::changes(self, since, registry, after, limit).await
    }

    async fn registry_counts(&self) -> StoreResult<Vec<RegistryCounts>> {
        stats::registry_counts(self).await
    }

    async fn project_vocabulary(&self) -> StoreResult<Vec<VocabularyCount>> {
        stats::project_vocabulary(self).await
    }

    async fn project_kinds(&self) -> StoreResult<Vec<(RawKind, u64)>> {
        stats::project_kinds(self).await
    }

    async fn rejected_page(
        &self,
        connector: Option<&str>,
        after: Option<&str>,
        limit: u32,
    ) -> StoreResult<Page<RejectedRecord>> {
        let mut q = Select::default();
        let mut conditions = Vec::new();
        if let Some(connector) = connector {
            let c = q.arg(connector);
            conditions.push(format!("connector = {c}"));
        }
        if let Some(after) = after {
            let c = cursor::Cursor::parse(after, 1)?;
            let id = q.arg(c.int(0)?);
            conditions.push(format!("id < {id}"));
        }
        let limit_arg = q.arg(cursor::page_limit(limit));
        q.text = format!(
            "SELECT id, {} FROM rejected_records{} ORDER BY id DESC LIMIT {limit_arg}",
            crate::runs::REJECTED_COLUMNS,
            where_clause(&conditions)
        );
        let rows = self.db.fetch(&q.text, q.args).await?;
        let mut items = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = row.int(0)?;
            items.push((
                cursor::cursor(&[id.into()]),
                crate::runs::rejected_from_row(row, 1)?,
            ));
        }
        Ok(cursor::page(items, limit))
    }
}
