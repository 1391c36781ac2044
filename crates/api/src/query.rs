//! The query root: the harmonized view for observers, the alert queue for reviewers, and the
//! operators' views (rejections, webhook deliveries, API keys).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_graphql::connection::{Connection, Edge};
use async_graphql::{Context, Enum, InputObject, Object, Result};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use carbonmesh_model::{
    AlertKind, ApiRole, ProjectStatus, RegistryId, RunStatus, TransactionType, UnitStatus,
};
use carbonmesh_serials::SerialQuery;
use carbonmesh_store::{
    AlertFilter, CreditFilter, CreditOrder, DateRange, Page, ProjectFilter, ProjectOrder,
    StatsGroup, Store,
};
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use crate::auth::Actor;
use crate::budget::expensive;
use crate::error::{bad_input, code, coded, internal};
use crate::mutation::SyncTrigger;
use crate::taxonomy::{HarmonizedCategory, UnmappedValue, harmonized_kinds, unmapped_vocabulary};
use crate::types::{
    Alert, AlertCounts, AlertStatus, Beneficiary, ConnectorRun, CreditRecord, NotificationDelivery,
    Project, RecordChange, Registry, RejectedRecord, SerialLookup, SerialMatch, SerialRange,
    Severity, StatRow, Statistics, WebhookDelivery,
};
use carbonmesh_taxonomy::Taxonomy;

/// Largest page a connection serves.
pub const MAX_PAGE: i32 = 100;
/// Page size when `first` is not given.
pub const DEFAULT_PAGE: i32 = 20;
/// Most records `serialLookup` returns.
const LOOKUP_LIMIT: u32 = 100;

/// The store, as resolvers reach it.
pub(crate) fn store<'a>(ctx: &Context<'a>) -> &'a Arc<dyn Store> {
    ctx.data_unchecked::<Arc<dyn Store>>()
}

/// Refuses the request unless the caller's role allows `needed`.
pub(crate) fn require<'a>(ctx: &Context<'a>, needed: ApiRole) -> Result<&'a Actor> {
    let actor = ctx.data_unchecked::<Actor>();
    if actor.role.is_some_and(|r| r.allows(needed)) {
        return Ok(actor);
    }
    Err(match actor.key_id {
        None => coded(code::UNAUTHENTICATED, "an API key is required"),
        Some(_) => coded(code::FORBIDDEN, format!("this needs the {needed} role")),
    })
}

/// A connection's complexity: its page size times what each node asks for.
fn page_cost(first: Option<i32>, child_complexity: usize) -> usize {
    (first.unwrap_or(DEFAULT_PAGE).clamp(1, MAX_PAGE) as usize) * child_complexity.max(1)
}

/// Validates `first` (1 to 100) and decodes `after` for connections of `kind`.
fn page_args(
    kind: &str,
    first: Option<i32>,
    after: Option<String>,
) -> Result<(u32, Option<String>)> {
    let first = first.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&first) {
        return Err(bad_input(format!(
            "first must be between 1 and {MAX_PAGE}, got {first}"
        )));
    }
    let after = match after {
        None => None,
        Some(cursor) => Some(decode_cursor(kind, &cursor)?),
    };
    Ok((first as u32, after))
}

/// Cursors are opaque to clients: the store's sort key, tagged with the connection kind.
fn encode_cursor(kind: &str, inner: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{kind}\u{1f}{inner}"))
}

fn decode_cursor(kind: &str, cursor: &str) -> Result<String> {
    URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| {
            s.strip_prefix(kind)
                .and_then(|r| r.strip_prefix('\u{1f}'))
                .map(str::to_owned)
        })
        .ok_or_else(|| bad_input(format!("after is not a {kind} cursor")))
}

/// A store page as a Relay connection with a lazily counted total.
fn connection<T, N, C>(
    kind: &str,
    page: Page<T>,
    total: C,
    node: impl Fn(T) -> N,
) -> Connection<String, N, C>
where
    N: async_graphql::OutputType,
    C: async_graphql::ObjectType,
{
    let mut c = Connection::with_additional_fields(false, page.has_next_page, total);
    c.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, item)| Edge::new(encode_cursor(kind, &cursor), node(item))),
    );
    c
}

fn parse_list<T>(
    what: &str,
    values: Option<Vec<String>>,
    parse: impl Fn(&str) -> Option<T>,
) -> Result<Vec<T>> {
    values
        .unwrap_or_default()
        .iter()
        .map(|v| parse(v).ok_or_else(|| bad_input(format!("unknown {what} `{v}`"))))
        .collect()
}

fn registries(values: Option<Vec<String>>) -> Result<Vec<RegistryId>> {
    parse_list("registry", values, |v| v.parse().ok())
}

fn countries(values: Option<Vec<String>>) -> Result<Vec<String>> {
    let list = values.unwrap_or_default();
    for c in &list {
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(bad_input(format!(
                "country `{c}` is not an ISO 3166-1 alpha-2 code (e.g. BR)"
            )));
        }
    }
    Ok(list)
}

fn search(text: Option<String>) -> Result<Option<String>> {
    match text.map(|t| t.trim().to_owned()) {
        Some(t) if t.chars().count() > 200 => {
            Err(bad_input("search text longer than 200 characters"))
        }
        Some(t) if t.is_empty() => Ok(None),
        other => Ok(other),
    }
}

/// Which projects to list.
#[derive(InputObject, Default)]
pub struct ProjectFilterInput {
    /// Registry ids (`verra`, `gold-standard`, …).
    pub registries: Option<Vec<String>>,
    /// ISO 3166-1 alpha-2 country codes.
    pub countries: Option<Vec<String>>,
    /// Project statuses (`registered`, `verified`, …).
    pub statuses: Option<Vec<String>>,
    /// Methodology or protocol (exact, case-insensitive).
    pub methodology: Option<String>,
    /// Sector, category or project type (exact, case-insensitive).
    pub category: Option<String>,
    /// A crediting period overlapping the range from this day…
    pub crediting_period_from: Option<NaiveDate>,
    /// …to this day.
    pub crediting_period_to: Option<NaiveDate>,
    /// Words in the project name (case-insensitive).
    pub search: Option<String>,
    /// Projects that retired at least this many units (compared to the kilogram).
    pub retired_at_least: Option<Decimal>,
    /// A first issuance on or after this day…
    pub first_issuance_from: Option<NaiveDate>,
    /// …and on or before this day.
    pub first_issuance_to: Option<NaiveDate>,
    /// A harmonized category id (`forestry-land-use`, see `harmonizedCategories`): projects
    /// whose sector, category or project type maps to it.
    pub harmonized_category: Option<String>,
    /// A harmonized type id (`redd-plus`): projects whose raw words map to it.
    pub harmonized_type: Option<String>,
}

impl ProjectFilterInput {
    fn into_filter(self) -> Result<ProjectFilter> {
        let crediting_period = (self.crediting_period_from.is_some()
            || self.crediting_period_to.is_some())
        .then_some(DateRange {
            from: self.crediting_period_from,
            to: self.crediting_period_to,
        });
        Ok(ProjectFilter {
            registries: registries(self.registries)?,
            countries: countries(self.countries)?,
            statuses: parse_list("project status", self.statuses, ProjectStatus::from_name)?,
            methodology: self.methodology,
            category: self.category,
            crediting_period,
            search: search(self.search)?,
            retired_at_least: self.retired_at_least,
            first_issuance: (self.first_issuance_from.is_some()
                || self.first_issuance_to.is_some())
            .then_some(DateRange {
                from: self.first_issuance_from,
                to: self.first_issuance_to,
            }),
            as_of: None,
            // Filled by `into_filter_with`, which reads the store.
            kinds: None,
        })
    }

    /// The store filter, with the harmonized category and type resolved to the stored
    /// combinations of raw words that map to them.
    async fn into_filter_with(self, store: &dyn Store) -> Result<ProjectFilter> {
        let category = self.harmonized_category.clone();
        let project_type = self.harmonized_type.clone();
        let mut filter = self.into_filter()?;
        filter.kinds =
            harmonized_kinds(store, category.as_deref(), project_type.as_deref()).await?;
        Ok(filter)
    }
}

/// Which credit records to list.
#[derive(InputObject, Default)]
pub struct CreditFilterInput {
    /// Registry ids.
    pub registries: Option<Vec<String>>,
    /// One project (`verra:VCS1507`).
    pub project_id: Option<String>,
    /// The project's country (ISO alpha-2).
    pub countries: Option<Vec<String>>,
    /// Vintage at least.
    pub vintage_from: Option<i32>,
    /// Vintage at most.
    pub vintage_to: Option<i32>,
    /// Transaction types (`issuance`, `retirement`, `cancellation`, …).
    pub transaction_types: Option<Vec<String>>,
    /// Unit statuses (`active`, `retired`, …).
    pub statuses: Option<Vec<String>>,
    /// The project's methodology.
    pub methodology: Option<String>,
    /// The project's sector, category or type.
    pub category: Option<String>,
    /// Event date from this day…
    pub event_date_from: Option<NaiveDate>,
    /// …to this day.
    pub event_date_to: Option<NaiveDate>,
    /// Words in the project name.
    pub search: Option<String>,
    /// Who claimed what: words of the retirement's beneficiary, harmonized across spellings
    /// (`Microsoft Corp.` finds `MICROSOFT CORPORATION`), or text of its account, reason or
    /// note (case-insensitive).
    pub claim: Option<String>,
}

impl CreditFilterInput {
    fn into_filter(self) -> Result<CreditFilter> {
        if let (Some(a), Some(b)) = (self.vintage_from, self.vintage_to)
            && a > b
        {
            return Err(bad_input("vintageFrom is after vintageTo"));
        }
        let event_date = (self.event_date_from.is_some() || self.event_date_to.is_some())
            .then_some(DateRange {
                from: self.event_date_from,
                to: self.event_date_to,
            });
        Ok(CreditFilter {
            registries: registries(self.registries)?,
            project_id: self.project_id,
            countries: countries(self.countries)?,
            vintage_from: self.vintage_from,
            vintage_to: self.vintage_to,
            transaction_types: parse_list(
                "transaction type",
                self.transaction_types,
                TransactionType::from_name,
            )?,
            statuses: parse_list("unit status", self.statuses, UnitStatus::from_name)?,
            methodology: self.methodology,
            category: self.category,
            event_date,
            search: search(self.search)?,
            as_of: None,
            claim: search(self.claim)?,
        })
    }
}

/// Which alerts to list.
#[derive(InputObject, Default)]
pub struct AlertFilterInput {
    /// Review statuses.
    pub statuses: Option<Vec<AlertStatus>>,
    /// Kinds (`serial_overlap_issuance`, …).
    pub kinds: Option<Vec<String>>,
    /// Severities.
    pub severities: Option<Vec<Severity>>,
    /// Alerts naming a record of this registry.
    pub registry: Option<String>,
    /// Assigned to this reviewer.
    pub assignee: Option<String>,
}

impl AlertFilterInput {
    fn into_filter(self) -> Result<AlertFilter> {
        Ok(AlertFilter {
            statuses: self
                .statuses
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            kinds: parse_list("alert kind", self.kinds, AlertKind::from_name)?,
            severities: self
                .severities
                .unwrap_or_default()
                .into_iter()
                .map(Into::into)
                .collect(),
            registry: registries(self.registry.map(|r| vec![r]))?.pop(),
            assignee: self.assignee,
        })
    }
}

/// Project listing order.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum ProjectOrderBy {
    /// By id.
    #[default]
    Id,
    /// By name.
    Name,
    /// By country.
    Country,
    /// Most units retired first (see `Project.rollup`).
    RetiredDesc,
    /// Earliest first issuance first; projects without an issuance last.
    FirstIssuance,
}

/// Credit record listing order.
#[derive(Enum, Copy, Clone, Eq, PartialEq, Default)]
pub enum CreditOrderBy {
    /// In the order records were first stored (the default): new records come last, and a
    /// record keeps its place when it changes.
    #[default]
    Key,
    /// Newest event first (records without a date last); records of one date in the order
    /// they were first stored.
    EventDateDesc,
}

/// The total of a project connection, counted only when asked for.
pub struct ProjectTotal(ProjectFilter);

#[Object]
impl ProjectTotal {
    /// Projects matching the filter (an expensive operation: counted in a shared slot).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        expensive(ctx, "totalCount", async {
            store(ctx).count_projects(&self.0).await.map_err(internal)
        })
        .await
    }
}

/// The total of a credit record connection, counted only when asked for.
pub struct CreditTotal(CreditFilter);

#[Object]
impl CreditTotal {
    /// Credit records matching the filter (an expensive operation: counted in a shared
    /// slot).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        expensive(ctx, "totalCount", async {
            store(ctx).count_credits(&self.0).await.map_err(internal)
        })
        .await
    }
}

/// The total of an alert connection, counted only when asked for.
pub struct AlertTotal(AlertFilter);

#[Object]
impl AlertTotal {
    /// Alerts matching the filter (an expensive operation: counted in a shared slot).
    async fn total_count(&self, ctx: &Context<'_>) -> Result<u64> {
        expensive(ctx, "totalCount", async {
            store(ctx).count_alerts(&self.0).await.map_err(internal)
        })
        .await
    }
}

/// The statistics of `filter` by `group`, as the API serves them.
async fn stat_rows(
    store: &Arc<dyn Store>,
    group: StatsGroup,
    filter: &CreditFilter,
) -> Result<Vec<StatRow>> {
    let rows = store.statistics(group, filter).await.map_err(internal)?;
    Ok(rows
        .into_iter()
        .map(|r| StatRow {
            key: r.key,
            issued: r.issued,
            retired: r.retired,
            cancelled: r.cancelled,
            buffer: r.buffer,
            converted: r.converted,
            records: r.records,
        })
        .collect())
}

#[async_graphql::ComplexObject]
impl Statistics {
    /// By the month of the records' event dates (`2024-03`), oldest first: the time series
    /// of issuances and retirements. Read from the records, so only computed when asked for
    /// (an expensive operation, in the same slots as the others).
    async fn by_event_month(&self, ctx: &Context<'_>) -> Result<Vec<StatRow>> {
        expensive(ctx, "statistics", async {
            stat_rows(store(ctx), StatsGroup::EventMonth, &self.filter).await
        })
        .await
    }
}

/// The query root.
pub struct Query;

#[Object]
impl Query {
    /// One project by id (`verra:VCS1507`); with `asOf`, as carbonmesh held it at that
    /// moment (null when it was first stored later).
    async fn project(
        &self,
        ctx: &Context<'_>,
        id: String,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Option<Project>> {
        require(ctx, ApiRole::Observer)?;
        let project = match as_of {
            Some(at) => store(ctx).project_as_of(&id, at).await,
            None => store(ctx).project(&id).await,
        };
        Ok(project.map_err(internal)?.map(Project))
    }

    /// Projects of every registry; with `asOf`, each as carbonmesh held it at that moment
    /// (projects first stored later left out). Roll-ups are current: `asOf` does not combine
    /// with the roll-up orders and filters, and a project's nested fields are current
    /// (`creditRecords(asOf:, filter: {projectId:})` lists its records as they were).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn projects(
        &self,
        ctx: &Context<'_>,
        filter: Option<ProjectFilterInput>,
        order_by: Option<ProjectOrderBy>,
        first: Option<i32>,
        after: Option<String>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Connection<String, Project, ProjectTotal>> {
        require(ctx, ApiRole::Observer)?;
        let (first, after) = page_args("projects", first, after)?;
        let mut filter = filter
            .unwrap_or_default()
            .into_filter_with(store(ctx).as_ref())
            .await?;
        if as_of.is_some()
            && (filter.retired_at_least.is_some()
                || filter.first_issuance.is_some()
                || matches!(
                    order_by,
                    Some(ProjectOrderBy::RetiredDesc | ProjectOrderBy::FirstIssuance)
                ))
        {
            return Err(bad_input(
                "asOf does not combine with roll-up orders and filters: roll-ups are current",
            ));
        }
        filter.as_of = as_of;
        let order = match order_by.unwrap_or_default() {
            ProjectOrderBy::Id => ProjectOrder::Id,
            ProjectOrderBy::Name => ProjectOrder::Name,
            ProjectOrderBy::Country => ProjectOrder::Country,
            ProjectOrderBy::RetiredDesc => ProjectOrder::RetiredDesc,
            ProjectOrderBy::FirstIssuance => ProjectOrder::FirstIssuance,
        };
        let page = store(ctx)
            .query_projects(&filter, order, after.as_deref(), first)
            .await
            .map_err(internal)?;
        Ok(connection("projects", page, ProjectTotal(filter), Project))
    }

    /// Credit records of every registry; with `asOf`, each as carbonmesh held it at that
    /// moment (records changed since appear as they were, records stored later do not), and
    /// the project filters read the projects as they were then.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn credit_records(
        &self,
        ctx: &Context<'_>,
        filter: Option<CreditFilterInput>,
        order_by: Option<CreditOrderBy>,
        first: Option<i32>,
        after: Option<String>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Connection<String, CreditRecord, CreditTotal>> {
        require(ctx, ApiRole::Observer)?;
        let (first, after) = page_args("credits", first, after)?;
        let mut filter = filter.unwrap_or_default().into_filter()?;
        filter.as_of = as_of;
        let order = match order_by.unwrap_or_default() {
            CreditOrderBy::Key => CreditOrder::Key,
            CreditOrderBy::EventDateDesc => CreditOrder::EventDateDesc,
        };
        let page = store(ctx)
            .query_credits(&filter, order, after.as_deref(), first)
            .await
            .map_err(internal)?;
        Ok(connection(
            "credits",
            page,
            CreditTotal(filter),
            CreditRecord,
        ))
    }

    /// Parses any registry's serial number and returns every record, in every registry,
    /// whose unit range overlaps it, with the overlap.
    async fn serial_lookup(
        &self,
        ctx: &Context<'_>,
        serial: String,
        #[graphql(desc = "The registry that published the serial, when known")] registry: Option<
            String,
        >,
    ) -> Result<SerialLookup> {
        require(ctx, ApiRole::Observer)?;
        if serial.len() > 500 {
            return Err(bad_input("serial longer than 500 characters"));
        }
        let registry = registries(registry.map(|r| vec![r]))?.pop();
        let query = carbonmesh_serials::parse_query(&serial, registry)
            .map_err(|e| bad_input(format!("cannot read `{serial}`: {e}")))?;
        let store = store(ctx);
        // A batch serial's records published without positions have no range to overlap.
        let mut unranged = Vec::new();
        let (unit_registry, namespaces, range) = match query {
            SerialQuery::Parsed(parsed) if parsed.range.is_none() => {
                unranged = store
                    .credits_with_unranged_serial(serial.trim(), LOOKUP_LIMIT + 1)
                    .await
                    .map_err(internal)?;
                let range = carbonmesh_serials::UnitRange {
                    start: 0,
                    end: carbonmesh_model::MAX_UNIT_NUMBER,
                };
                (parsed.registry, vec![parsed.namespace], range)
            }
            SerialQuery::Parsed(parsed) => {
                // A batch serial (Cercarbono) names every unit of its batch.
                let range = parsed.range.unwrap_or(carbonmesh_serials::UnitRange {
                    start: 0,
                    end: carbonmesh_model::MAX_UNIT_NUMBER,
                });
                (parsed.registry, vec![parsed.namespace], range)
            }
            SerialQuery::CadtBlock { prefix, start, end } => {
                // The block's organisation is not in the text: every organisation's
                // namespace with that prefix, and Verra's counter for blocks that mirror
                // Verra units.
                let mut namespaces: Vec<String> = store
                    .namespaces_with_prefix("cadt:")
                    .await
                    .map_err(internal)?
                    .into_iter()
                    .filter(|ns| {
                        ns.strip_prefix("cadt:")
                            .and_then(|rest| rest.split_once(':'))
                            .is_some_and(|(_, p)| p == prefix)
                    })
                    .collect();
                if prefix.is_empty() {
                    namespaces.push("verra".into());
                }
                let range = carbonmesh_serials::UnitRange { start, end };
                (RegistryId::CADT, namespaces, range)
            }
        };
        let mut found = Vec::new();
        for namespace in &namespaces {
            let room = LOOKUP_LIMIT + 1 - found.len() as u32;
            found.extend(
                store
                    .credits_overlapping(namespace, range.start, range.end, room)
                    .await
                    .map_err(internal)?,
            );
            if found.len() > LOOKUP_LIMIT as usize {
                break;
            }
        }
        found.extend(unranged);
        let truncated = found.len() > LOOKUP_LIMIT as usize;
        found.truncate(LOOKUP_LIMIT as usize);
        let matches = found
            .into_iter()
            .map(|c| {
                let overlap = c.serial_range.as_ref().map(|r| {
                    SerialRange::from(&carbonmesh_model::SerialRange {
                        namespace: r.namespace.clone(),
                        start: r.start.max(range.start),
                        end: r.end.min(range.end),
                    })
                });
                SerialMatch {
                    overlap,
                    record: CreditRecord(c),
                }
            })
            .collect();
        let namespace = match namespaces.as_slice() {
            [one] => one.clone(),
            _ => "cadt:*".to_owned(),
        };
        Ok(SerialLookup {
            registry: unit_registry.as_str().to_owned(),
            range: SerialRange::from(&carbonmesh_model::SerialRange {
                namespace,
                start: range.start,
                end: range.end,
            }),
            matches,
            truncated,
        })
    }

    /// Alerts, most severe first, then newest evidence.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn alerts(
        &self,
        ctx: &Context<'_>,
        filter: Option<AlertFilterInput>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, Alert, AlertTotal>> {
        require(ctx, ApiRole::Observer)?;
        let (first, after) = page_args("alerts", first, after)?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let page = store(ctx)
            .query_alerts(&filter, after.as_deref(), first)
            .await
            .map_err(internal)?;
        Ok(connection("alerts", page, AlertTotal(filter), Alert))
    }

    /// Alerts matching `filter` counted by status, severity, kind, assignee and registry;
    /// each facet is counted under the filter's other conditions, so a count says how many
    /// alerts choosing that value would list (an expensive operation, run in a shared slot).
    async fn alert_counts(
        &self,
        ctx: &Context<'_>,
        filter: Option<AlertFilterInput>,
    ) -> Result<AlertCounts> {
        require(ctx, ApiRole::Observer)?;
        let filter = filter.unwrap_or_default().into_filter()?;
        let facets = expensive(ctx, "alertCounts", async {
            store(ctx).alert_facets(&filter).await.map_err(internal)
        })
        .await?;
        Ok(AlertCounts::from(facets))
    }

    /// The reason codes `dismissAlert` takes.
    async fn dismissal_reasons(&self) -> Vec<&'static str> {
        carbonmesh_matcher::review::DISMISSAL_REASONS.to_vec()
    }

    /// One alert with its evidence and history.
    async fn alert(&self, ctx: &Context<'_>, id: String) -> Result<Option<Alert>> {
        require(ctx, ApiRole::Observer)?;
        Ok(store(ctx).alert(&id).await.map_err(internal)?.map(Alert))
    }

    /// The harmonized project categories, each with its types: the one list projects'
    /// `harmonizedCategory` and `harmonizedType` come from.
    async fn harmonized_categories(&self, ctx: &Context<'_>) -> Result<Vec<HarmonizedCategory>> {
        require(ctx, ApiRole::Observer)?;
        let taxonomy = Taxonomy::embedded();
        Ok(taxonomy
            .categories()
            .iter()
            .map(|c| HarmonizedCategory::of(taxonomy, c))
            .collect())
    }

    /// The raw sectors, categories and project types stored projects carry that no mapping
    /// covers, with how many projects carry each, by registry, field and value: the gaps of
    /// the mappings, to be fixed.
    async fn unmapped_vocabulary(&self, ctx: &Context<'_>) -> Result<Vec<UnmappedValue>> {
        require(ctx, ApiRole::Observer)?;
        let unmapped = unmapped_vocabulary(store(ctx).as_ref())
            .await
            .map_err(internal)?;
        Ok(unmapped
            .into_iter()
            .map(|v| UnmappedValue {
                registry: v.registry,
                field: v.field.as_str().to_owned(),
                raw_value: v.raw_value,
                projects: v.projects,
            })
            .collect())
    }

    /// Every registry carbonmesh holds records of or runs a connector for, with freshness.
    async fn registries(&self, ctx: &Context<'_>) -> Result<Vec<Registry>> {
        require(ctx, ApiRole::Observer)?;
        let store = store(ctx);
        let counts = store.registry_counts().await.map_err(internal)?;
        let runs = store.runs(1_000).await.map_err(internal)?;
        let now = Utc::now();
        let mut out: BTreeMap<String, Registry> = BTreeMap::new();
        for c in counts {
            let r = out
                .entry(c.registry.as_str().to_owned())
                .or_insert_with(|| Registry::named(c.registry.as_str()));
            r.projects = c.projects;
            r.credit_records = c.credits;
            r.last_write = c.last_write;
        }
        if let Some(trigger) = ctx.data_opt::<std::sync::Arc<dyn SyncTrigger>>() {
            for s in trigger.schedules(now) {
                let r = out
                    .entry(s.connector.clone())
                    .or_insert_with(|| Registry::named(&s.connector));
                r.schedule = Some(s.expression);
                r.next_run = s.next_run;
            }
        }
        // Runs come newest first.
        for run in &runs {
            let r = out
                .entry(run.connector.clone())
                .or_insert_with(|| Registry::named(&run.connector));
            if r.recent_runs.len() < 10 {
                r.recent_runs.push(ConnectorRun::from(run));
            }
            if r.last_successful_run.is_none() && run.status == RunStatus::Complete {
                r.last_successful_run = run.finished_at;
                r.lag_seconds = run.finished_at.map(|f| (now - f).num_seconds());
            }
        }
        for r in out.values_mut() {
            r.overdue_alert = store
                .alert(&carbonmesh_model::registry_overdue_id(&r.id))
                .await
                .map_err(internal)?
                .filter(|a| !a.status.is_closed())
                .map(Alert);
        }
        Ok(out.into_values().collect())
    }

    /// Issued, retired and cancelled units by registry, vintage, country and category, of
    /// the credit records matching `filter`; with `asOf`, of the records as carbonmesh held
    /// them at that moment (summed from the records). An expensive operation: it runs in one
    /// of the instance's few slots for them, within their time limit.
    #[graphql(complexity = "2000 + child_complexity")]
    async fn statistics(
        &self,
        ctx: &Context<'_>,
        filter: Option<CreditFilterInput>,
        as_of: Option<DateTime<Utc>>,
    ) -> Result<Statistics> {
        require(ctx, ApiRole::Observer)?;
        let mut filter = filter.unwrap_or_default().into_filter()?;
        filter.as_of = as_of;
        let store = store(ctx);
        let rows = |group| stat_rows(store, group, &filter);
        let (by_registry, by_vintage, by_country, by_category) =
            expensive(ctx, "statistics", async {
                tokio::try_join!(
                    rows(StatsGroup::Registry),
                    rows(StatsGroup::Vintage),
                    rows(StatsGroup::Country),
                    rows(StatsGroup::Category)
                )
            })
            .await?;
        Ok(Statistics {
            by_registry,
            by_vintage,
            by_country,
            by_category,
            filter,
        })
    }

    /// Retirement beneficiaries whose harmonized name holds the words of `search`, one per
    /// name across registries with every spelling the records use, most units first. An
    /// expensive operation (it reads the records naming them).
    #[graphql(complexity = "2000 + child_complexity")]
    async fn beneficiaries(
        &self,
        ctx: &Context<'_>,
        search: String,
        #[graphql(default = 20, validator(minimum = 1, maximum = 100))] first: i32,
    ) -> Result<Vec<Beneficiary>> {
        require(ctx, ApiRole::Observer)?;
        let Some(search) = self::search(Some(search))? else {
            return Err(bad_input("search names no words"));
        };
        let found = expensive(ctx, "beneficiaries", async {
            store(ctx)
                .beneficiaries(&search, first as u32)
                .await
                .map_err(internal)
        })
        .await?;
        Ok(found.into_iter().map(Beneficiary::from).collect())
    }

    /// Every version of every record written since `since`, oldest first: the feed to
    /// mirror carbonmesh from.
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn changes(
        &self,
        ctx: &Context<'_>,
        since: DateTime<Utc>,
        registry: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, RecordChange>> {
        require(ctx, ApiRole::Observer)?;
        let (first, after) = page_args("changes", first, after)?;
        let registry = registries(registry.map(|r| vec![r]))?.pop();
        let page = store(ctx)
            .changes(since, registry, after.as_deref(), first)
            .await
            .map_err(internal)?;
        let mut c = Connection::new(false, page.has_next_page);
        c.edges.extend(page.items.into_iter().map(|(cursor, v)| {
            Edge::new(encode_cursor("changes", &cursor), RecordChange::from(&v))
        }));
        Ok(c)
    }

    /// Records connectors rejected, newest first, with the reason (reviewers, who weigh
    /// evidence by what a registry's feed lost, and operators).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn rejected_records(
        &self,
        ctx: &Context<'_>,
        connector: Option<String>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, RejectedRecord>> {
        require(ctx, ApiRole::Reviewer)?;
        let (first, after) = page_args("rejected", first, after)?;
        let page = store(ctx)
            .rejected_page(connector.as_deref(), after.as_deref(), first)
            .await
            .map_err(internal)?;
        let mut c = Connection::new(false, page.has_next_page);
        c.edges.extend(page.items.into_iter().map(|(cursor, r)| {
            Edge::new(encode_cursor("rejected", &cursor), RejectedRecord::from(&r))
        }));
        Ok(c)
    }

    /// Registry change webhooks in the order they arrived (operators).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn webhook_deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, WebhookDelivery>> {
        require(ctx, ApiRole::Admin)?;
        let (first, after) = page_args("deliveries", first, after)?;
        let after = after
            .map(|a| {
                a.parse::<i64>()
                    .map_err(|_| bad_input("after is not a deliveries cursor"))
            })
            .transpose()?;
        let mut rows = store(ctx)
            .deliveries_page(after, first + 1)
            .await
            .map_err(internal)?;
        let has_next = rows.len() > first as usize;
        rows.truncate(first as usize);
        let mut c = Connection::new(false, has_next);
        c.edges.extend(rows.into_iter().map(|(position, d)| {
            Edge::new(
                encode_cursor("deliveries", &position.to_string()),
                WebhookDelivery::from(&d),
            )
        }));
        Ok(c)
    }

    /// Notifications sent to the configured endpoints, in the order of the alert history:
    /// each one delivered, or still being tried with its last error (reviewers).
    #[graphql(complexity = "page_cost(first, child_complexity)")]
    async fn notification_deliveries(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
    ) -> Result<Connection<String, NotificationDelivery>> {
        require(ctx, ApiRole::Reviewer)?;
        let (first, after) = page_args("notifications", first, after)?;
        let after = after
            .map(|a| {
                a.split_once(':')
                    .and_then(|(p, e)| Some((p.parse::<i64>().ok()?, e.to_owned())))
                    .ok_or_else(|| bad_input("after is not a notifications cursor"))
            })
            .transpose()?;
        let mut rows = store(ctx)
            .notifications_page(after.as_ref().map(|(p, e)| (*p, e.as_str())), first + 1)
            .await
            .map_err(internal)?;
        let has_next = rows.len() > first as usize;
        rows.truncate(first as usize);
        let mut c = Connection::new(false, has_next);
        c.edges.extend(rows.iter().map(|n| {
            let cursor = format!("{}:{}", n.position, n.endpoint);
            Edge::new(
                encode_cursor("notifications", &cursor),
                NotificationDelivery::from(n),
            )
        }));
        Ok(c)
    }

    /// API keys (admins).
    async fn api_keys(&self, ctx: &Context<'_>) -> Result<Vec<crate::mutation::ApiKey>> {
        require(ctx, ApiRole::Admin)?;
        let keys = store(ctx).api_keys().await.map_err(internal)?;
        Ok(keys.iter().map(crate::mutation::ApiKey::from).collect())
    }

    /// Who the caller is.
    async fn viewer(&self, ctx: &Context<'_>) -> crate::mutation::Viewer {
        let actor = ctx.data_unchecked::<Actor>();
        crate::mutation::Viewer {
            name: actor.name.clone(),
            role: actor.role.map(|r| r.as_str().to_owned()),
        }
    }
}
