//! The GraphQL output types: the common data model as observers read it. Normalized values
//! are served beside the registry's raw value; nested records resolve through data loaders.

use async_graphql::dataloader::DataLoader;
use async_graphql::{ComplexObject, Context, Enum, Object, Result, SimpleObject};
use carbonmesh_model as model;
use chrono::{DateTime, NaiveDate, Utc};
use rust_decimal::Decimal;

use carbonmesh_matcher::review;

use crate::auth::Actor;
use crate::error::internal;
use crate::loaders::{
    AlertHistoryLoader, CreditLoader, ProjectCreditsLoader, ProjectLoader, RollupLoader,
};
use crate::taxonomy::{HarmonizedCategory, HarmonizedType};
use carbonmesh_taxonomy::Taxonomy;

/// A normalized value with the registry's own wording.
#[derive(SimpleObject, Clone)]
pub struct Vocabulary {
    /// carbonmesh's normalized value (e.g. `retirement`).
    pub value: String,
    /// What the registry wrote.
    pub raw: String,
}

impl Vocabulary {
    fn of<T: std::fmt::Display>(n: &model::Normalized<T>) -> Self {
        Vocabulary {
            value: n.value.to_string(),
            raw: n.raw.clone(),
        }
    }
}

/// An inclusive range of days.
#[derive(SimpleObject, Clone)]
pub struct Period {
    /// First day.
    pub start: Option<NaiveDate>,
    /// Last day.
    pub end: Option<NaiveDate>,
}

impl From<&model::Period> for Period {
    fn from(p: &model::Period) -> Self {
        Period {
            start: p.start,
            end: p.end,
        }
    }
}

/// Where a project is.
#[derive(SimpleObject, Clone)]
pub struct Location {
    /// Region or state.
    pub region: Option<String>,
    /// Latitude.
    pub latitude: Option<f64>,
    /// Longitude.
    pub longitude: Option<f64>,
}

/// A label: CCP, CORSIA eligibility, Article 6 authorization, co-benefits.
#[derive(SimpleObject, Clone)]
pub struct Label {
    /// What kind of label.
    pub kind: String,
    /// Its value.
    pub value: String,
}

/// The same project, or a related one, in another registry.
#[derive(SimpleObject, Clone)]
pub struct CrossReference {
    /// The other registry, when known.
    pub registry: Option<String>,
    /// Its id there.
    pub id: String,
    /// How they relate (`cdm_reference`, `converted_from`, `origin_project`, …).
    pub relation: String,
}

/// A range of unit numbers in one namespace.
#[derive(SimpleObject, Clone)]
pub struct SerialRange {
    /// Where the unit numbers are unique (`verra`, `gold-standard:GS1-1-…`, `cdm:IN-5`).
    pub namespace: String,
    /// First unit, inclusive.
    pub start: u64,
    /// Last unit, inclusive.
    pub end: u64,
    /// Units covered.
    pub units: u64,
}

impl From<&model::SerialRange> for SerialRange {
    fn from(r: &model::SerialRange) -> Self {
        SerialRange {
            namespace: r.namespace.clone(),
            start: r.start,
            end: r.end,
            units: r.end - r.start + 1,
        }
    }
}

/// A project in one registry.
pub struct Project(pub model::Project);

#[Object]
impl Project {
    /// `<registry>:<registry project id>`.
    async fn id(&self) -> String {
        self.0.id()
    }
    /// The registry.
    async fn registry(&self) -> &str {
        self.0.registry.as_str()
    }
    /// The registry's own id.
    async fn registry_project_id(&self) -> &str {
        &self.0.registry_project_id
    }
    /// Name.
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// Developer or proponent.
    async fn developer(&self) -> Option<&str> {
        self.0.developer.as_deref()
    }
    /// ISO 3166-1 alpha-2 country code.
    async fn country(&self) -> Option<&str> {
        self.0.country.as_deref()
    }
    /// The country as the registry wrote it.
    async fn country_raw(&self) -> Option<&str> {
        self.0.country_raw.as_deref()
    }
    /// Sector.
    async fn sector(&self) -> Option<&str> {
        self.0.sector.as_deref()
    }
    /// Category.
    async fn category(&self) -> Option<&str> {
        self.0.category.as_deref()
    }
    /// Project type.
    async fn project_type(&self) -> Option<&str> {
        self.0.project_type.as_deref()
    }
    /// The harmonized category its sector, category or project type maps to; null when no
    /// mapping names one (see `unmappedVocabulary`).
    async fn harmonized_category(&self) -> Option<HarmonizedCategory> {
        let taxonomy = Taxonomy::embedded();
        let category = taxonomy.classify(&self.0).category?;
        Some(HarmonizedCategory::of(taxonomy, category))
    }
    /// The harmonized type its sector, category or project type maps to; null when no
    /// mapping names one.
    async fn harmonized_type(&self) -> Option<HarmonizedType> {
        Taxonomy::embedded()
            .classify(&self.0)
            .project_type
            .map(HarmonizedType::of)
    }
    /// Methodology or protocol.
    async fn methodology(&self) -> Option<&str> {
        self.0.methodology.as_deref()
    }
    /// Status.
    async fn status(&self) -> Option<Vocabulary> {
        self.0.status.as_ref().map(Vocabulary::of)
    }
    /// Crediting periods.
    async fn crediting_periods(&self) -> Vec<Period> {
        self.0.crediting_periods.iter().map(Period::from).collect()
    }
    /// Locations.
    async fn locations(&self) -> Vec<Location> {
        self.0
            .locations
            .iter()
            .map(|l| Location {
                region: l.region.clone(),
                latitude: l.latitude,
                longitude: l.longitude,
            })
            .collect()
    }
    /// Labels.
    async fn labels(&self) -> Vec<Label> {
        self.0
            .labels
            .iter()
            .map(|l| Label {
                kind: l.kind.clone(),
                value: l.value.clone(),
            })
            .collect()
    }
    /// Corresponding adjustment status, when declared.
    async fn corresponding_adjustment(&self) -> Option<&str> {
        self.0.corresponding_adjustment.as_deref()
    }
    /// Ids of the same or related projects in other registries.
    async fn cross_references(&self) -> Vec<CrossReference> {
        self.0
            .cross_references
            .iter()
            .map(|x| CrossReference {
                registry: x.registry.map(|r| r.as_str().to_owned()),
                id: x.id.clone(),
                relation: x.relation.clone(),
            })
            .collect()
    }
    /// The project's page at its registry.
    async fn registry_url(&self) -> Option<&str> {
        self.0.registry_url.as_deref()
    }
    /// The project's credit records summed by what happened to their units, with the first
    /// and last issuance and retirement: kept with every write, exact. Null when the project
    /// has no credit records.
    async fn rollup(&self, ctx: &Context<'_>) -> Result<Option<ProjectRollup>> {
        let loader = ctx.data_unchecked::<DataLoader<RollupLoader>>();
        Ok(loader
            .load_one(self.0.id())
            .await
            .map_err(internal)?
            .map(ProjectRollup::from))
    }
    /// The project's first credit records, by key (at most 100; `creditRecords` with a
    /// `projectId` filter pages through all of them).
    #[graphql(complexity = "(first.clamp(1, 100) as usize) * child_complexity")]
    async fn credit_records(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20, validator(minimum = 1, maximum = 100))] first: i32,
    ) -> Result<Vec<CreditRecord>> {
        let loader = ctx.data_unchecked::<DataLoader<ProjectCreditsLoader>>();
        let credits = loader
            .load_one(self.0.id())
            .await
            .map_err(internal)?
            .unwrap_or_default();
        Ok(credits
            .into_iter()
            .take(first as usize)
            .map(CreditRecord)
            .collect())
    }
}

/// One issuance, retirement, cancellation, buffer contribution, conversion or transfer block.
pub struct CreditRecord(pub model::CreditRecord);

#[Object]
impl CreditRecord {
    /// `<registry>:<record key>`.
    async fn id(&self) -> String {
        format!("{}:{}", self.0.registry, self.0.record_key)
    }
    /// The registry.
    async fn registry(&self) -> &str {
        self.0.registry.as_str()
    }
    /// The registry-native key.
    async fn record_key(&self) -> &str {
        &self.0.record_key
    }
    /// The project's id (`<registry>:<registry project id>`).
    async fn project_id(&self) -> String {
        self.0.project_id()
    }
    /// The page of the record's project at its registry, where the registry publishes one:
    /// to check the record at the source.
    async fn registry_url(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let loader = ctx.data_unchecked::<DataLoader<ProjectLoader>>();
        Ok(loader
            .load_one(self.0.project_id())
            .await
            .map_err(internal)?
            .and_then(|p| p.registry_url))
    }
    /// The project.
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        let loader = ctx.data_unchecked::<DataLoader<ProjectLoader>>();
        Ok(loader
            .load_one(self.0.project_id())
            .await
            .map_err(internal)?
            .map(Project))
    }
    /// Issuance, retirement, cancellation, …
    async fn transaction_type(&self) -> Vocabulary {
        Vocabulary::of(&self.0.transaction_type)
    }
    /// Units (tonnes of CO2e), exact.
    async fn quantity(&self) -> Decimal {
        self.0.quantity
    }
    /// The serial as the registry wrote it.
    async fn serial(&self) -> Option<&str> {
        self.0.serial.as_deref()
    }
    /// The serial's unit range.
    async fn serial_range(&self) -> Option<SerialRange> {
        self.0.serial_range.as_ref().map(SerialRange::from)
    }
    /// Vintage year.
    async fn vintage(&self) -> Option<i32> {
        self.0.vintage
    }
    /// Monitoring period.
    async fn monitoring_period(&self) -> Option<Period> {
        self.0.monitoring_period.as_ref().map(Period::from)
    }
    /// When it happened.
    async fn event_date(&self) -> Option<NaiveDate> {
        self.0.event_date
    }
    /// Unit status.
    async fn status(&self) -> Vocabulary {
        Vocabulary::of(&self.0.status)
    }
    /// Account.
    async fn account(&self) -> Option<&str> {
        self.0.account.as_deref()
    }
    /// Retirement beneficiary.
    async fn beneficiary(&self) -> Option<&str> {
        self.0.beneficiary.as_deref()
    }
    /// Retirement or cancellation reason.
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    /// Note.
    async fn note(&self) -> Option<&str> {
        self.0.note.as_deref()
    }
}

/// Where an alert stands in review.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::AlertStatus")]
pub enum AlertStatus {
    /// Raised, nobody looked yet.
    New,
    /// A reviewer took it.
    Acknowledged,
    /// Evidence is being gathered.
    InReview,
    /// Sent to the registry's integrity team, compliance or legal.
    Escalated,
    /// A reviewer confirmed or dismissed a critical alert; a second reviewer (another key)
    /// must decide the same for it to stand.
    AwaitingSecondReview,
    /// Double counting confirmed.
    Confirmed,
    /// A false positive.
    Dismissed,
    /// The evidence disappeared (a registry corrected a record).
    Resolved,
}

/// How serious an alert is.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "model::Severity")]
pub enum Severity {
    /// Units counted twice with certainty.
    Critical,
    /// Very likely double counting.
    High,
    /// Needs a look.
    Medium,
    /// Probably benign.
    Low,
    /// A recorded link, no problem.
    Info,
}

/// A record an alert names, with the version the evidence was taken from.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct AlertRecord {
    /// The registry.
    pub registry: String,
    /// The record key (a credit record's key, or a project id).
    pub record_key: String,
    /// The version the evidence was taken from.
    pub version: i64,
    /// The serial, for credit records.
    pub serial: Option<String>,
    /// The serial range, for credit records.
    pub range: Option<SerialRange>,
    #[graphql(skip)]
    registry_id: model::RegistryId,
    /// The version the evidence names, read once for all the fields that show it.
    #[graphql(skip)]
    named: std::sync::Arc<tokio::sync::OnceCell<Option<model::RecordVersion>>>,
}

impl AlertRecord {
    /// The reference as the model holds it.
    fn reference(&self) -> model::AlertRecordRef {
        model::AlertRecordRef {
            registry: self.registry_id,
            record_key: self.record_key.clone(),
            version: self.version,
            serial: self.serial.clone(),
            range: None,
        }
    }

    /// Whether the evidence names a project (`<registry>:<registry project id>`) rather than a
    /// credit record (a registry-native key, serialized or not).
    fn names_project(&self) -> bool {
        self.reference().target().0 == model::RecordKind::Project
    }

    /// The version the evidence names, else the oldest kept.
    async fn named_version(&self, ctx: &Context<'_>) -> Result<Option<model::RecordVersion>> {
        let version = self
            .named
            .get_or_try_init(|| async {
                let reference = self.reference();
                let (kind, key) = reference.target();
                let versions = ctx
                    .data_unchecked::<std::sync::Arc<dyn carbonmesh_store::Store>>()
                    .versions(kind, self.registry_id, key)
                    .await
                    .map_err(internal)?;
                let named = versions.iter().position(|v| v.version == self.version);
                Ok::<_, async_graphql::Error>(versions.into_iter().nth(named.unwrap_or(0)))
            })
            .await?;
        Ok(version.clone())
    }
}

#[ComplexObject]
impl AlertRecord {
    /// The credit record as it is now, when the evidence names one that still exists.
    async fn credit_record(&self, ctx: &Context<'_>) -> Result<Option<CreditRecord>> {
        if self.names_project() {
            return Ok(None);
        }
        let loader = ctx.data_unchecked::<DataLoader<CreditLoader>>();
        Ok(loader
            .load_one((self.registry_id, self.record_key.clone()))
            .await
            .map_err(internal)?
            .map(CreditRecord))
    }
    /// The version the evidence was taken from (the oldest kept when that one is gone),
    /// with where it was read.
    async fn evidence_version(&self, ctx: &Context<'_>) -> Result<Option<RecordChange>> {
        Ok(self
            .named_version(ctx)
            .await?
            .as_ref()
            .map(RecordChange::from))
    }
    /// The credit record as it was in that version: the facts the matcher saw, even after
    /// the registry changed or withdrew the record.
    async fn evidenced_credit(&self, ctx: &Context<'_>) -> Result<Option<CreditRecord>> {
        if self.names_project() {
            return Ok(None);
        }
        let Some(version) = self.named_version(ctx).await? else {
            return Ok(None);
        };
        let credit: model::CreditRecord =
            serde_json::from_value(version.payload).map_err(internal)?;
        Ok(Some(CreditRecord(credit)))
    }
    /// The project as it is now, when the evidence names one.
    async fn project(&self, ctx: &Context<'_>) -> Result<Option<Project>> {
        if !self.names_project() {
            return Ok(None);
        }
        let loader = ctx.data_unchecked::<DataLoader<ProjectLoader>>();
        Ok(loader
            .load_one(self.record_key.clone())
            .await
            .map_err(internal)?
            .map(Project))
    }
}

/// One step in an alert's history.
#[derive(SimpleObject, Clone)]
pub struct AlertEvent {
    /// Who acted: the API key's name, or `matcher`.
    pub actor: String,
    /// The id of the API key that acted (null for carbonmesh itself).
    pub actor_key: Option<String>,
    /// How: `api`, `cli` or `system` (null for entries from before channels were kept).
    pub channel: Option<String>,
    /// For a decision that waits for a second reviewer: `CONFIRMED` or `DISMISSED`.
    pub decision: Option<AlertStatus>,
    /// When.
    pub at: DateTime<Utc>,
    /// Status before, when the status changed.
    pub from_status: Option<AlertStatus>,
    /// Status after, when the status changed.
    pub to_status: Option<AlertStatus>,
    /// Reason code (`raised`, `comment`, `assigned`, a dismissal reason, …).
    pub reason: Option<String>,
    /// Note or comment.
    pub note: Option<String>,
}

impl From<&model::AlertEvent> for AlertEvent {
    fn from(e: &model::AlertEvent) -> Self {
        AlertEvent {
            actor: e.actor.clone(),
            actor_key: e.actor_key.clone(),
            channel: e.channel.map(|c| c.as_str().to_owned()),
            decision: e.decision.map(AlertStatus::from),
            at: e.at,
            from_status: e.from_status.map(AlertStatus::from),
            to_status: e.to_status.map(AlertStatus::from),
            reason: e.reason.clone(),
            note: e.note.clone(),
        }
    }
}

/// A possible double counting, with its evidence and review history.
#[derive(Clone)]
pub struct Alert(pub model::Alert);

#[Object]
impl Alert {
    /// Derived from the kind and the evidence: stable across runs.
    async fn id(&self) -> &str {
        &self.0.id
    }
    /// What the alert reports (`serial_overlap_issuance`, `cross_registry_serial_overlap`, …).
    async fn kind(&self) -> &str {
        self.0.kind.as_str()
    }
    /// Severity.
    async fn severity(&self) -> Severity {
        self.0.severity.into()
    }
    /// Review status.
    async fn status(&self) -> AlertStatus {
        self.0.status.into()
    }
    /// One sentence a reviewer can read.
    async fn explanation(&self) -> &str {
        &self.0.explanation
    }
    /// The records involved, with their versions.
    async fn records(&self) -> Vec<AlertRecord> {
        self.0
            .records
            .iter()
            .map(|r| AlertRecord {
                registry: r.registry.as_str().to_owned(),
                record_key: r.record_key.clone(),
                version: r.version,
                serial: r.serial.clone(),
                range: r.range.as_ref().map(SerialRange::from),
                registry_id: r.registry,
                named: Default::default(),
            })
            .collect()
    }
    /// The overlapping sub-range, for serial alerts.
    async fn overlap(&self) -> Option<SerialRange> {
        self.0.overlap.as_ref().map(SerialRange::from)
    }
    /// Units in the overlap.
    async fn overlap_units(&self) -> Option<u64> {
        self.0.overlap_units
    }
    /// The reviewer it is assigned to.
    async fn assignee(&self) -> Option<&str> {
        self.0.assignee.as_deref()
    }
    /// When the matcher first saw the evidence.
    async fn first_seen(&self) -> DateTime<Utc> {
        self.0.first_seen
    }
    /// When the matcher last saw the evidence.
    async fn last_seen(&self) -> DateTime<Utc> {
        self.0.last_seen
    }
    /// Every step, oldest first.
    async fn history(&self, ctx: &Context<'_>) -> Result<Vec<AlertEvent>> {
        Ok(self
            .events(ctx)
            .await?
            .iter()
            .map(AlertEvent::from)
            .collect())
    }
    /// While the alert awaits a second reviewer: the first reviewer's decision, which
    /// another reviewer's key must repeat for it to stand.
    async fn pending_decision(&self, ctx: &Context<'_>) -> Result<Option<AlertEvent>> {
        if self.0.status != model::AlertStatus::AwaitingSecondReview {
            return Ok(None);
        }
        let events = self.events(ctx).await?;
        Ok(review::pending_decision(&events).map(AlertEvent::from))
    }
    /// The review steps the caller's key may take now: none for observers; the status's
    /// steps for reviewers, without a second decision by the first decider.
    async fn available_actions(&self, ctx: &Context<'_>) -> Result<Vec<ReviewAction>> {
        let actor = ctx.data_unchecked::<Actor>();
        if !actor
            .role
            .is_some_and(|r| r.allows(model::ApiRole::Reviewer))
        {
            return Ok(Vec::new());
        }
        let first_decider = if self.0.status == model::AlertStatus::AwaitingSecondReview {
            let events = self.events(ctx).await?;
            review::pending_decision(&events)
                .is_some_and(|e| e.actor_key.is_some() && e.actor_key == actor.key_id)
        } else {
            false
        };
        Ok(review::allowed_actions(self.0.status, first_decider)
            .into_iter()
            .map(ReviewAction::from)
            .collect())
    }
}

impl Alert {
    /// The alert's history, oldest first, through the request's loader.
    async fn events(&self, ctx: &Context<'_>) -> Result<Vec<model::AlertEvent>> {
        let loader = ctx.data_unchecked::<DataLoader<AlertHistoryLoader>>();
        Ok(loader
            .load_one(self.0.id.clone())
            .await
            .map_err(internal)?
            .unwrap_or_default())
    }
}

/// A review step (the mutation of the same name takes it).
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
#[graphql(remote = "review::ActionKind")]
pub enum ReviewAction {
    /// `acknowledgeAlert`
    Acknowledge,
    /// `startAlertReview`
    StartReview,
    /// `escalateAlert`
    Escalate,
    /// `confirmAlert`
    Confirm,
    /// `dismissAlert`
    Dismiss,
    /// `reopenAlert`
    Reopen,
    /// `assignAlert`
    Assign,
    /// `commentOnAlert`
    Comment,
}

/// Alert counts by facet.
#[derive(SimpleObject)]
pub struct AlertCounts {
    /// Alerts matching the whole filter.
    pub total: u64,
    /// By status (`new`, `acknowledged`, …, as stored).
    pub by_status: Vec<FacetCount>,
    /// By severity (`critical`, …).
    pub by_severity: Vec<FacetCount>,
    /// By kind.
    pub by_kind: Vec<FacetCount>,
    /// By assignee (unassigned alerts are not counted here).
    pub by_assignee: Vec<FacetCount>,
    /// By the registries of the records an alert names (an alert naming two counts for
    /// both).
    pub by_registry: Vec<FacetCount>,
}

/// How many alerts have one value of a facet.
#[derive(SimpleObject)]
pub struct FacetCount {
    /// The value.
    pub value: String,
    /// Alerts.
    pub count: u64,
}

impl From<carbonmesh_store::AlertFacets> for AlertCounts {
    fn from(f: carbonmesh_store::AlertFacets) -> Self {
        let counts = |v: Vec<carbonmesh_store::FacetCount>| {
            v.into_iter()
                .map(|c| FacetCount {
                    value: c.value,
                    count: c.count,
                })
                .collect()
        };
        AlertCounts {
            total: f.total,
            by_status: counts(f.statuses),
            by_severity: counts(f.severities),
            by_kind: counts(f.kinds),
            by_assignee: counts(f.assignees),
            by_registry: counts(f.registries),
        }
    }
}

/// A connector run.
#[derive(SimpleObject, Clone)]
pub struct ConnectorRun {
    /// Run id.
    pub id: i64,
    /// Connector.
    pub connector: String,
    /// What started it (`schedule`, `poll`, `import`, `api:<actor>`).
    pub trigger: String,
    /// `running`, `complete`, `incomplete` or `failed`.
    pub status: String,
    /// Start.
    pub started_at: DateTime<Utc>,
    /// End.
    pub finished_at: Option<DateTime<Utc>>,
    /// Records seen.
    pub seen: u64,
    /// New records.
    pub new: u64,
    /// Changed records.
    pub changed: u64,
    /// Unchanged records.
    pub unchanged: u64,
    /// Rejected records.
    pub rejected: u64,
    /// Errors (pages that could not be fetched, …).
    pub errors: Vec<String>,
}

impl From<&model::ConnectorRun> for ConnectorRun {
    fn from(r: &model::ConnectorRun) -> Self {
        ConnectorRun {
            id: r.id,
            connector: r.connector.clone(),
            trigger: r.trigger.clone(),
            status: r.status.as_str().to_owned(),
            started_at: r.started_at,
            finished_at: r.finished_at,
            seen: r.counts.seen,
            new: r.counts.new,
            changed: r.counts.changed,
            unchanged: r.counts.unchanged,
            rejected: r.counts.rejected,
            errors: r.errors.clone(),
        }
    }
}

/// A registry and how fresh carbonmesh's copy of it is.
#[derive(SimpleObject, Clone)]
pub struct Registry {
    /// Registry id (`verra`, `gold-standard`, …).
    pub id: String,
    /// Current projects.
    pub projects: u64,
    /// Current credit records.
    pub credit_records: u64,
    /// When a record of this registry was last written.
    pub last_write: Option<DateTime<Utc>>,
    /// When its last complete run finished.
    pub last_successful_run: Option<DateTime<Utc>>,
    /// Seconds since then.
    pub lag_seconds: Option<i64>,
    /// Its most recent runs, newest first (at most 10).
    pub recent_runs: Vec<ConnectorRun>,
    /// The open `registry_overdue` alert when its schedule's runs stopped completing: its
    /// records may be stale.
    pub overdue_alert: Option<Alert>,
    /// Its connector's cron schedule on this server (null when none runs here).
    pub schedule: Option<String>,
    /// When that schedule runs it next.
    pub next_run: Option<DateTime<Utc>>,
}

impl Registry {
    /// A registry known by id alone, before its counts and runs are added.
    pub(crate) fn named(id: &str) -> Registry {
        Registry {
            id: id.to_owned(),
            projects: 0,
            credit_records: 0,
            last_write: None,
            last_successful_run: None,
            lag_seconds: None,
            recent_runs: Vec::new(),
            overdue_alert: None,
            schedule: None,
            next_run: None,
        }
    }
}

/// A project's credit records summed by what happened to their units. Registries that list
/// blocks in their current state (Verra's VCU export, CAD Trust units) count every block as
/// issued and their active blocks as remaining; the others keep a ledger, where remaining is
/// issued less retired, cancelled, converted and buffer.
#[derive(SimpleObject, Clone)]
pub struct ProjectRollup {
    /// Credit records.
    pub records: u64,
    /// Units issued.
    pub issued: Decimal,
    /// Units retired.
    pub retired: Decimal,
    /// Units cancelled.
    pub cancelled: Decimal,
    /// Units converted to another registry's or program's units.
    pub converted: Decimal,
    /// Units set aside in a buffer pool.
    pub buffer: Decimal,
    /// Units still available.
    pub remaining: Decimal,
    /// Event date of the first issuance record.
    pub first_issuance: Option<NaiveDate>,
    /// Event date of the last issuance record.
    pub last_issuance: Option<NaiveDate>,
    /// Event date of the first retirement record.
    pub first_retirement: Option<NaiveDate>,
    /// Event date of the last retirement record.
    pub last_retirement: Option<NaiveDate>,
}

impl From<carbonmesh_store::ProjectRollup> for ProjectRollup {
    fn from(r: carbonmesh_store::ProjectRollup) -> Self {
        Self {
            records: r.records,
            issued: r.issued,
            retired: r.retired,
            cancelled: r.cancelled,
            converted: r.converted,
            buffer: r.buffer,
            remaining: r.remaining,
            first_issuance: r.first_issuance,
            last_issuance: r.last_issuance,
            first_retirement: r.first_retirement,
            last_retirement: r.last_retirement,
        }
    }
}

/// A retirement beneficiary, harmonized across spellings and registries.
#[derive(SimpleObject, Clone)]
pub struct Beneficiary {
    /// The harmonized name: lower case, no punctuation or legal form (`microsoft`).
    pub name: String,
    /// Every spelling the records use, as published.
    pub spellings: Vec<String>,
    /// Registries whose records name it.
    pub registries: Vec<String>,
    /// Credit records naming it.
    pub records: u64,
    /// Units of those records.
    pub units: Decimal,
}

impl From<carbonmesh_store::Beneficiary> for Beneficiary {
    fn from(b: carbonmesh_store::Beneficiary) -> Self {
        Self {
            name: b.name,
            spellings: b.spellings,
            registries: b.registries.iter().map(|r| r.as_str().to_owned()).collect(),
            records: b.records,
            units: b.units,
        }
    }
}

/// Credit totals of one group.
#[derive(SimpleObject, Clone)]
pub struct StatRow {
    /// The group (registry id, vintage year, country code or category); null for records
    /// without one.
    pub key: Option<String>,
    /// Units issued.
    pub issued: Decimal,
    /// Units retired.
    pub retired: Decimal,
    /// Units cancelled.
    pub cancelled: Decimal,
    /// Units contributed to a buffer pool (non-permanence reserves), reported beside the
    /// others so that what a project still holds can be derived.
    pub buffer: Decimal,
    /// Units converted to another registry's or program's units.
    pub converted: Decimal,
    /// Credit records.
    pub records: u64,
}

/// Statistics grouped five ways.
#[derive(SimpleObject, Clone)]
#[graphql(complex)]
pub struct Statistics {
    /// By registry.
    pub by_registry: Vec<StatRow>,
    /// By vintage.
    pub by_vintage: Vec<StatRow>,
    /// By the project's country.
    pub by_country: Vec<StatRow>,
    /// By the project's category.
    pub by_category: Vec<StatRow>,
    /// The filter, for the groups computed only when asked for.
    #[graphql(skip)]
    pub filter: carbonmesh_store::CreditFilter,
}

/// One version of a record, as the change feed serves it.
#[derive(SimpleObject, Clone)]
pub struct RecordChange {
    /// `project` or `credit`.
    pub kind: String,
    /// The registry.
    pub registry: String,
    /// The registry-native key (the registry project id for projects).
    pub record_key: String,
    /// 1 for the first version, then +1 per change.
    pub version: i64,
    /// sha256 of the normalized record.
    pub content_hash: String,
    /// When carbonmesh wrote it.
    pub recorded_at: DateTime<Utc>,
    /// Where this version came from (file:line or URL#page).
    pub source: String,
    /// The normalized record.
    pub record: async_graphql::Json<serde_json::Value>,
}

impl From<&model::RecordVersion> for RecordChange {
    fn from(v: &model::RecordVersion) -> Self {
        RecordChange {
            kind: v.kind.as_str().to_owned(),
            registry: v.registry.as_str().to_owned(),
            record_key: v.record_key.clone(),
            version: v.version,
            content_hash: v.content_hash.clone(),
            recorded_at: v.recorded_at,
            source: v.provenance.source.clone(),
            record: async_graphql::Json(v.payload.clone()),
        }
    }
}

/// A record a connector could not accept, kept with the reason.
#[derive(SimpleObject, Clone)]
pub struct RejectedRecord {
    /// Connector.
    pub connector: String,
    /// File or URL.
    pub source: String,
    /// Line, for files.
    pub line: Option<u64>,
    /// The offending field.
    pub field: Option<String>,
    /// Why.
    pub reason: String,
    /// The raw record.
    pub raw: String,
    /// The run.
    pub run_id: Option<i64>,
    /// When it was first rejected.
    pub rejected_at: DateTime<Utc>,
    /// When it was last rejected (a poll reads the same record again; it is kept once).
    pub last_seen_at: DateTime<Utc>,
    /// How many times it was rejected.
    pub seen_count: u64,
}

impl From<&model::RejectedRecord> for RejectedRecord {
    fn from(r: &model::RejectedRecord) -> Self {
        RejectedRecord {
            connector: r.connector.clone(),
            source: r.source.clone(),
            line: r.line,
            field: r.field.clone(),
            reason: r.reason.clone(),
            raw: r.raw.clone(),
            run_id: r.run_id,
            rejected_at: r.rejected_at,
            last_seen_at: r.last_seen_at,
            seen_count: r.seen_count,
        }
    }
}

/// A registry change webhook in the inbox.
#[derive(SimpleObject, Clone)]
pub struct WebhookDelivery {
    /// The delivery id the registry gave.
    pub id: String,
    /// Connector.
    pub connector: String,
    /// When it arrived.
    pub received_at: DateTime<Utc>,
    /// How its signature was verified.
    pub verification: String,
    /// What it carries.
    pub kind: String,
    /// `pending`, `applied` or `failed`.
    pub status: String,
    /// Processing attempts.
    pub attempts: u32,
    /// The last error.
    pub error: Option<String>,
    /// When it was applied or given up on.
    pub processed_at: Option<DateTime<Utc>>,
}

impl From<&model::WebhookDelivery> for WebhookDelivery {
    fn from(d: &model::WebhookDelivery) -> Self {
        WebhookDelivery {
            id: d.id.clone(),
            connector: d.connector.clone(),
            received_at: d.received_at,
            verification: d.verification.clone(),
            kind: d.kind.as_str().to_owned(),
            status: d.status.as_str().to_owned(),
            attempts: d.attempts,
            error: d.error.clone(),
            processed_at: d.processed_at,
        }
    }
}

/// A notification to a configured endpoint, and how its delivery went.
#[derive(SimpleObject, Clone)]
pub struct NotificationDelivery {
    /// The endpoint's name in the configuration.
    pub endpoint: String,
    /// The position of the alert history entry announced.
    pub position: i64,
    /// What was announced: `alert.raised`, `alert.escalated`, `alert.confirmed`,
    /// `alert.dismissed` or `alert.reopened`.
    #[graphql(name = "type")]
    pub kind: String,
    /// The alert.
    pub alert_id: String,
    /// The `webhook-id` header of every attempt.
    pub message_id: String,
    /// `delivered`, or `retrying` while the endpoint has not accepted it.
    pub state: String,
    /// Attempts made.
    pub attempts: u32,
    /// What the last failed attempt met.
    pub last_error: Option<String>,
    /// When the last attempt was made.
    pub last_attempt_at: DateTime<Utc>,
    /// When the endpoint accepted it.
    pub delivered_at: Option<DateTime<Utc>>,
}

impl From<&model::NotificationDelivery> for NotificationDelivery {
    fn from(n: &model::NotificationDelivery) -> Self {
        NotificationDelivery {
            endpoint: n.endpoint.clone(),
            position: n.position,
            kind: n.kind.as_str().to_owned(),
            alert_id: n.alert_id.clone(),
            message_id: n.message_id.clone(),
            state: n.state.as_str().to_owned(),
            attempts: n.attempts,
            last_error: n.last_error.clone(),
            last_attempt_at: n.last_attempt_at,
            delivered_at: n.delivered_at,
        }
    }
}

/// A credit record whose serial range overlaps the one looked up, or that carries the
/// looked-up batch serial without a range.
#[derive(SimpleObject)]
pub struct SerialMatch {
    /// The record.
    pub record: CreditRecord,
    /// The part of its range inside the looked-up range; null for a record whose serial
    /// names its batch without unit positions.
    pub overlap: Option<SerialRange>,
}

/// What `serialLookup` found.
#[derive(SimpleObject)]
pub struct SerialLookup {
    /// The registry whose units the serial numbers.
    pub registry: String,
    /// The parsed range.
    pub range: SerialRange,
    /// Every current record in any registry overlapping it, by range start.
    pub matches: Vec<SerialMatch>,
    /// Whether more matches exist than were returned (at most 100).
    pub truncated: bool,
}
