//! Running the matcher against a store: loading records, keeping the stored alerts in step
//! with the findings (new ones raised, re-found ones refreshed, vanished ones resolved, each
//! status change with a history entry), and the [`MatchSession`] the ingest hook keeps
//! between writes.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use carbonmesh_model::{
    Alert, AlertEvent, AlertStatus, CreditRecord, Project, RecordKind, RegistryId, RunStatus,
};
use carbonmesh_store::{CreditFilter, Store};
use chrono::{DateTime, Utc};

use crate::MatchError;
use crate::engine::{Changes, Finding, MatchConfig, Matcher};
use crate::groups::Grouping;

/// The actor the matcher's own history entries name.
pub const MATCHER_ACTOR: &str = "matcher";

/// Records read per page when loading.
const PAGE: u32 = 5_000;

/// What one reconciliation did to the stored alerts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Reconciled {
    /// Alerts raised for the first time.
    pub raised: u64,
    /// Alerts found again (evidence refreshed, last seen moved).
    pub refreshed: u64,
    /// Resolved alerts whose evidence came back, reopened.
    pub reopened: u64,
    /// Alerts whose evidence disappeared, resolved.
    pub resolved: u64,
}

/// A page of what a store holds, as [`each_page`] hands it over.
enum Page {
    Projects(Vec<(Project, i64)>),
    Credits(Vec<(CreditRecord, i64)>),
}

/// Walks every current project, then every current credit record of `store`, a page at a
/// time with their versions, so that no caller holds all of them at once.
async fn each_page(store: &dyn Store, mut f: impl FnMut(Page)) -> Result<(), MatchError> {
    each_project_page(store, |page| f(Page::Projects(page))).await?;
    // The store reads the next page while the caller takes in this one: reading runs on a
    // blocking thread once started, so both cores work.
    let mut page = store.credits_page(None, PAGE).await?;
    while let Some(last) = page.last() {
        let after = Some(last.position);
        let more = page.len() == PAGE as usize;
        let credits = Page::Credits(page.into_iter().map(|c| (c.record, c.version)).collect());
        if !more {
            f(credits);
            break;
        }
        let (next, ()) = tokio::join!(store.credits_page(after, PAGE), async { f(credits) });
        page = next?;
    }
    Ok(())
}

/// Walks every current project of `store` with its version, a page at a time.
async fn each_project_page(
    store: &dyn Store,
    mut f: impl FnMut(Vec<(Project, i64)>),
) -> Result<(), MatchError> {
    let mut after: Option<String> = None;
    loop {
        let page = store.projects_page(after.as_deref(), PAGE).await?;
        let Some((_, last)) = page.last() else { break };
        after = Some(last.id());
        let n = page.len();
        f(page.into_iter().map(|(v, p)| (p, v)).collect());
        if n < PAGE as usize {
            return Ok(());
        }
    }
    Ok(())
}

/// A matcher with every record and project of `store`, all checked.
async fn build(store: &dyn Store, config: MatchConfig) -> Result<Matcher, MatchError> {
    let mut matcher = Matcher::new(config);
    let stored = store.count_credits(&CreditFilter::default()).await?;
    matcher.reserve(usize::try_from(stored).unwrap_or(0));
    each_page(store, |page| match page {
        Page::Projects(projects) => matcher.load(Vec::new(), projects),
        Page::Credits(credits) => matcher.load(credits, Vec::new()),
    })
    .await?;
    matcher.check_all();
    Ok(matcher)
}

/// Registries whose serialized issuance blocks are known complete: those publishing them
/// ([`MatchConfig::ISSUANCE_BLOCK_REGISTRIES`]) with at least one complete poll run. Files
/// imported by hand are slices, never complete.
pub async fn complete_registries(store: &dyn Store) -> Result<BTreeSet<RegistryId>, MatchError> {
    let synced = synced_registries(store).await?;
    Ok(MatchConfig::ISSUANCE_BLOCK_REGISTRIES
        .into_iter()
        .filter(|r| synced.contains(r))
        .collect())
}

/// Registries with at least one complete poll run (imports are slices, never complete).
pub async fn synced_registries(store: &dyn Store) -> Result<BTreeSet<RegistryId>, MatchError> {
    let runs = store.runs(10_000).await?;
    Ok(runs
        .iter()
        .filter(|run| run.status == RunStatus::Complete && run.trigger != "import")
        .filter_map(|run| run.connector.parse::<RegistryId>().ok())
        .collect())
}

/// The configuration for a run against `store` now.
pub async fn config_for(store: &dyn Store, now: DateTime<Utc>) -> Result<MatchConfig, MatchError> {
    let mut config = MatchConfig::new(now.date_naive());
    config.synced_registries = synced_registries(store).await?;
    config.complete_registries = complete_registries(store).await?;
    Ok(config)
}

/// Every stored alert.
pub async fn stored_alerts(store: &dyn Store) -> Result<BTreeMap<String, Alert>, MatchError> {
    let mut out = BTreeMap::new();
    let mut after: Option<String> = None;
    loop {
        let page = store.alerts_page(after.as_deref(), PAGE).await?;
        let n = page.len();
        let Some(last) = page.last() else { break };
        after = Some(last.id.clone());
        out.extend(page.into_iter().map(|a| (a.id.clone(), a)));
        if n < PAGE as usize {
            break;
        }
    }
    Ok(out)
}

fn event(
    id: &str,
    at: DateTime<Utc>,
    from: Option<AlertStatus>,
    to: AlertStatus,
    reason: &str,
    note: String,
) -> AlertEvent {
    AlertEvent {
        alert_id: id.to_owned(),
        actor: MATCHER_ACTOR.to_owned(),
        at,
        from_status: from,
        to_status: Some(to),
        reason: Some(reason.to_owned()),
        note: Some(note),
        actor_key: None,
        channel: Some(carbonmesh_model::Channel::System),
        decision: None,
    }
}

/// Fills in record versions the finding was built without (records that arrived through
/// the ingest hook carry version 0 until looked up).
async fn pin_versions(store: &dyn Store, finding: &mut Finding) -> Result<(), MatchError> {
    for r in &mut finding.records {
        if r.version != 0 {
            continue;
        }
        if (r.range.is_some() || r.serial.is_some() || !r.record_key.contains(':'))
            && let Some(v) = store.credit_version(r.registry, &r.record_key).await?
        {
            r.version = v;
            continue;
        }
        let project_key = r
            .record_key
            .split_once(':')
            .map(|(_, id)| id.to_owned())
            .unwrap_or_default();
        if let Some(v) = store
            .versions(RecordKind::Project, r.registry, &project_key)
            .await?
            .last()
        {
            r.version = v.version;
        } else if let Some(v) = store.credit_version(r.registry, &r.record_key).await? {
            r.version = v;
        }
    }
    Ok(())
}

/// Saves one finding as an alert: raised when new, refreshed when known, reopened when it
/// had been resolved.
async fn save_finding(
    store: &dyn Store,
    finding: &Finding,
    existing: Option<Alert>,
    now: DateTime<Utc>,
    counts: &mut Reconciled,
) -> Result<(), MatchError> {
    let mut finding = finding.clone();
    pin_versions(store, &mut finding).await?;
    let (status, first_seen, assignee, event) = match existing {
        None => {
            counts.raised += 1;
            (
                AlertStatus::New,
                now,
                None,
                Some(event(
                    &finding.id,
                    now,
                    None,
                    AlertStatus::New,
                    "raised",
                    finding.explanation.clone(),
                )),
            )
        }
        Some(a) if a.status == AlertStatus::Resolved => {
            counts.reopened += 1;
            (
                AlertStatus::New,
                a.first_seen,
                a.assignee,
                Some(event(
                    &finding.id,
                    now,
                    Some(AlertStatus::Resolved),
                    AlertStatus::New,
                    "evidence_reappeared",
                    "the matcher found the evidence again".to_owned(),
                )),
            )
        }
        Some(a) => {
            counts.refreshed += 1;
            (a.status, a.first_seen, a.assignee, None)
        }
    };
    let alert = Alert {
        id: finding.id.clone(),
        kind: finding.kind,
        severity: finding.severity,
        status,
        explanation: finding.explanation,
        records: finding.records,
        overlap: finding.overlap,
        overlap_units: finding.overlap_units,
        assignee,
        first_seen,
        last_seen: now,
    };
    store.save_alert(&alert, event.as_ref()).await?;
    Ok(())
}

async fn resolve(store: &dyn Store, alert: &Alert, now: DateTime<Utc>) -> Result<bool, MatchError> {
    if alert.status == AlertStatus::Resolved {
        return Ok(false);
    }
    let e = event(
        &alert.id,
        now,
        Some(alert.status),
        AlertStatus::Resolved,
        "evidence_gone",
        "the records no longer show it (a registry corrected them)".to_owned(),
    );
    Ok(store
        .transition_alert(&alert.id, alert.status, AlertStatus::Resolved, None, &e)
        .await?)
}

/// Makes the stored alerts match `findings` exactly: every finding stored, every stored alert
/// without a finding resolved.
pub async fn reconcile_all(
    store: &dyn Store,
    findings: &BTreeMap<String, Finding>,
    now: DateTime<Utc>,
) -> Result<Reconciled, MatchError> {
    reconcile_within(store, findings, None, now).await
}

/// Stores what changed: the upserted findings, and the removed ones resolved.
pub async fn reconcile_changes(
    store: &dyn Store,
    matcher: &Matcher,
    changes: &Changes,
    now: DateTime<Utc>,
) -> Result<Reconciled, MatchError> {
    let mut counts = Reconciled::default();
    for id in &changes.upserted {
        if let Some(f) = matcher.findings().get(id) {
            let existing = store.alert(id).await?;
            save_finding(store, f, existing, now, &mut counts).await?;
        }
    }
    for id in &changes.removed {
        if let Some(alert) = store.alert(id).await?
            && resolve(store, &alert, now).await?
        {
            counts.resolved += 1;
        }
    }
    Ok(counts)
}

/// A record's or project's identity in a set of checked evidence: its key's hash.
fn evidence_key(registry: RegistryId, key: &str) -> i64 {
    carbonmesh_store::key_hash(registry.as_str(), key, 0)
}

/// Makes the stored alerts within `checked` (all when `None`) match `findings`: every finding
/// stored, and every stored alert with evidence in `checked` (records and projects, see
/// [`evidence_key`]) but no finding resolved. Alerts about other records are left as they are.
async fn reconcile_within(
    store: &dyn Store,
    findings: &BTreeMap<String, Finding>,
    checked: Option<&HashSet<i64>>,
    now: DateTime<Utc>,
) -> Result<Reconciled, MatchError> {
    let mut stored = stored_alerts(store).await?;
    let mut counts = Reconciled::default();
    for (id, f) in findings {
        save_finding(store, f, stored.remove(id), now, &mut counts).await?;
    }
    // Operational alerts (an overdue registry) are not the matcher's to resolve.
    for alert in stored.values().filter(|a| !a.kind.is_operational()) {
        let in_scope = checked.is_none_or(|checked| {
            alert
                .records
                .iter()
                .any(|r| checked.contains(&evidence_key(r.registry, &r.record_key)))
        });
        if in_scope && resolve(store, alert, now).await? {
            counts.resolved += 1;
        }
    }
    Ok(counts)
}

/// What [`check_in_groups`] checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Covered {
    /// Every stored record and project.
    Everything,
    /// The groups of the records and projects the run with this id wrote.
    WrittenBy(i64),
}

/// Records read and checked at a time by [`check_in_groups`] (whole groups, so a batch can be
/// larger).
const GROUP_BATCH: usize = 50_000;

/// Lean keys read per statement by [`check_in_groups`].
const KEY_PAGE: u32 = 20_000;

/// What a load saw of the credit records it wrote, for [`check_in_groups`]: the findings each
/// makes on its own ([`Matcher::findings_alone`]), and, when the check covers one run, which
/// records they were.
#[derive(Debug, Default)]
pub struct Written {
    findings: BTreeMap<String, Finding>,
    keys: Option<HashSet<i64>>,
}

impl Written {
    /// Nothing seen yet; `covered` is what the check after the load will cover.
    pub fn new(covered: Covered) -> Written {
        Written {
            findings: BTreeMap::new(),
            keys: matches!(covered, Covered::WrittenBy(_)).then(HashSet::new),
        }
    }

    /// Takes in a record the load writes.
    pub fn add(&mut self, credit: &CreditRecord) {
        for f in Matcher::findings_alone(credit, 0) {
            self.findings.insert(f.id.clone(), f);
        }
        if let Some(keys) = &mut self.keys {
            keys.insert(evidence_key(credit.registry, &credit.record_key));
        }
    }
}

/// Checks the stored records group by group (see [`crate::groups`]) and brings the stored
/// alerts of the checked groups in step. Memory holds the lean keys of the records and one
/// batch of whole records, never the whole store. With what the load saw (`written`, every
/// record the run wrote), the findings are those of a full run: records alone in their groups
/// are not read back, their findings come from `written`.
pub async fn check_in_groups(
    store: &dyn Store,
    covered: Covered,
    written: Written,
    now: DateTime<Utc>,
) -> Result<Reconciled, MatchError> {
    let started = std::time::Instant::now();
    let config = config_for(store, now).await?;
    let mut projects: Vec<(Project, i64)> = Vec::new();
    each_project_page(store, |page| projects.extend(page)).await?;
    let touched_projects: Option<HashSet<String>> = match covered {
        Covered::Everything => None,
        Covered::WrittenBy(run) => {
            Some(store.projects_written_by(run).await?.into_iter().collect())
        }
    };
    let mut grouping = Grouping::new(&config);
    // Two halves of the positions are read at once, one page of each at a time: reading is
    // most of the work, and both cores are free once the load has committed.
    let stored = store.count_credits(&CreditFilter::default()).await?;
    let middle = i64::try_from(stored / 2).unwrap_or(i64::MAX).max(1);
    let mut halves = [(None, Some(middle + 1)), (Some(middle), None)].map(Some);
    while halves.iter().any(Option::is_some) {
        let read = |half: Option<(Option<i64>, Option<i64>)>| async move {
            match half {
                Some((after, before)) => store.match_keys(after, before, KEY_PAGE).await.map(Some),
                None => Ok(None),
            }
        };
        let (first, second) = tokio::join!(read(halves[0]), read(halves[1]));
        for (half, page) in halves.iter_mut().zip([first?, second?]) {
            let Some(page) = page else { continue };
            for key in &page {
                let touched = match covered {
                    Covered::Everything => true,
                    Covered::WrittenBy(run) => key.run == Some(run),
                };
                grouping.add(key, touched);
            }
            *half = match (page.last(), *half) {
                (Some(last), Some((_, before))) if page.len() == KEY_PAGE as usize => {
                    Some((Some(last.position), before))
                }
                _ => None,
            };
        }
    }
    let keys = grouping.len();
    let keys_read = started.elapsed();
    let batches = grouping.batches(
        projects.iter().map(|(p, _)| p),
        touched_projects.as_ref(),
        GROUP_BATCH,
    );
    let grouped = started.elapsed();
    let by_id: HashMap<String, usize> = projects
        .iter()
        .enumerate()
        .map(|(i, (p, _))| (p.id(), i))
        .collect();
    // What was checked, for the alerts in scope (not needed when everything was).
    let Written {
        mut findings,
        keys: checked,
    } = written;
    let mut checked = checked.unwrap_or_default();
    if let Some(touched) = &touched_projects {
        for id in touched {
            if let Some(&i) = by_id.get(id) {
                checked.insert(evidence_key(projects[i].0.registry, id));
            }
        }
    }
    let mut records = 0;
    // Each batch is checked on a blocking thread while the next one is read.
    let mut checking: Option<tokio::task::JoinHandle<BTreeMap<String, Finding>>> = None;
    for batch in &batches {
        let credits = store.credits_at(&batch.positions).await?;
        records += credits.len();
        let batch_projects: Vec<(Project, i64)> = batch
            .projects
            .iter()
            .filter_map(|id| by_id.get(id).map(|&i| projects[i].clone()))
            .collect();
        if covered != Covered::Everything {
            checked.extend(
                credits
                    .iter()
                    .map(|c| evidence_key(c.record.registry, &c.record.record_key)),
            );
            checked.extend(
                batch_projects
                    .iter()
                    .map(|(p, _)| evidence_key(p.registry, &p.id())),
            );
        }
        if let Some(previous) = checking.take() {
            findings.extend(previous.await.map_err(|_| MatchError::Poisoned)?);
        }
        let config = config.clone();
        checking = Some(tokio::task::spawn_blocking(move || {
            Matcher::full(
                config,
                credits.into_iter().map(|c| (c.record, c.version)),
                batch_projects,
            )
            .into_findings()
        }));
    }
    if let Some(last) = checking {
        findings.extend(last.await.map_err(|_| MatchError::Poisoned)?);
    }
    let matched = started.elapsed();
    let reconciled = match covered {
        Covered::Everything => reconcile_all(store, &findings, now).await?,
        Covered::WrittenBy(_) => reconcile_within(store, &findings, Some(&checked), now).await?,
    };
    tracing::debug!(
        keys,
        batches = batches.len(),
        records,
        findings = findings.len(),
        keys_s = keys_read.as_secs_f64(),
        group_s = (grouped - keys_read).as_secs_f64(),
        check_s = (matched - grouped).as_secs_f64(),
        reconcile_s = (started.elapsed() - matched).as_secs_f64(),
        "checked in groups"
    );
    Ok(reconciled)
}

/// How a run was made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every block checked on arrival against the index, in store order.
    Incremental,
    /// Every namespace sorted and swept at once.
    Full,
}

/// What `carbonmesh match` did.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// Credit records loaded.
    pub records: usize,
    /// Projects loaded.
    pub projects: usize,
    /// Findings by kind.
    pub findings: BTreeMap<String, usize>,
    /// What happened to the stored alerts.
    pub reconciled: Reconciled,
}

/// Matches every record of `store` and reconciles the stored alerts. Both modes find the same
/// alerts.
pub async fn run(
    store: &dyn Store,
    session: &MatchSession,
    mode: Mode,
    now: DateTime<Utc>,
) -> Result<RunReport, MatchError> {
    let config = config_for(store, now).await?;
    let matcher = match mode {
        Mode::Full => build(store, config).await?,
        Mode::Incremental => {
            let mut m = Matcher::new(config);
            each_page(store, |page| match page {
                Page::Projects(projects) => {
                    m.apply(Vec::new(), projects);
                }
                Page::Credits(credits) => {
                    for chunk in credits.chunks(1_000) {
                        m.apply(chunk.to_vec(), Vec::new());
                    }
                }
            })
            .await?;
            m
        }
    };
    let (records, project_count) = (matcher.records(), matcher.projects());
    let reconciled = reconcile_all(store, matcher.findings(), now).await?;
    let mut findings = BTreeMap::new();
    for f in matcher.findings().values() {
        *findings.entry(f.kind.as_str().to_owned()).or_default() += 1;
    }
    // A later write through the ingest hook continues from this state.
    *session.state.lock().await = Some(matcher);
    Ok(RunReport {
        records,
        projects: project_count,
        findings,
        reconciled,
    })
}

/// The matcher state the ingest hook keeps between writes to one store: built from the
/// store's records on first use, then kept in step with every write. Whoever opens a store
/// (the server, a command) makes one and hands it to every path that writes records; clones
/// share the state.
#[derive(Clone, Default)]
pub struct MatchSession {
    state: Arc<tokio::sync::Mutex<Option<Matcher>>>,
    /// What [`MatchSession::apply_unsaved`] changed and [`MatchSession::save`] stores next.
    unsaved: Arc<tokio::sync::Mutex<Changes>>,
}

impl MatchSession {
    /// A session that builds its state on first use.
    pub fn new() -> Self {
        Self::default()
    }

    /// The matcher of `store`, built from its records when this session has none yet.
    async fn matcher(
        &self,
        store: &dyn Store,
        now: DateTime<Utc>,
    ) -> Result<tokio::sync::MutexGuard<'_, Option<Matcher>>, MatchError> {
        let mut state = self.state.lock().await;
        if state.is_none() {
            let started = std::time::Instant::now();
            let config = config_for(store, now).await?;
            let matcher = build(store, config).await?;
            let built = started.elapsed();
            // The stored alerts may predate records written without the matcher: bring them
            // in step.
            reconcile_all(store, matcher.findings(), now).await?;
            tracing::debug!(
                records = matcher.records(),
                build_s = built.as_secs_f64(),
                reconcile_s = (started.elapsed() - built).as_secs_f64(),
                "matcher state built"
            );
            *state = Some(matcher);
        }
        Ok(state)
    }
}

impl MatchSession {
    /// Whether the state is built (by an earlier write).
    pub async fn has_state(&self) -> bool {
        self.state.lock().await.is_some()
    }

    /// Checks records a load is writing, without storing anything: what changed is kept for
    /// [`MatchSession::save`], once the load has committed (or [`MatchSession::forget`] when
    /// it did not). Does nothing before the state is built.
    pub async fn apply_unsaved(&self, projects: Vec<Project>, credits: Vec<CreditRecord>) {
        let mut state = self.state.lock().await;
        let Some(matcher) = state.as_mut() else {
            return;
        };
        let changes = matcher.apply(
            credits.into_iter().map(|c| (c, 0)).collect(),
            projects.into_iter().map(|p| (p, 0)).collect(),
        );
        let mut unsaved = self.unsaved.lock().await;
        unsaved.upserted.extend(changes.upserted);
        unsaved.removed.extend(changes.removed);
    }

    /// Stores what [`MatchSession::apply_unsaved`] changed.
    pub async fn save(&self, store: &dyn Store) -> Result<Reconciled, MatchError> {
        let now = Utc::now();
        let changes = std::mem::take(&mut *self.unsaved.lock().await);
        let mut state = self.state.lock().await;
        let Some(matcher) = state.as_mut() else {
            return Ok(Reconciled::default());
        };
        let mut changes = changes;
        // A finding removed by one page and found again by a later one stays.
        let again: Vec<String> = changes
            .removed
            .iter()
            .filter(|id| matcher.findings().contains_key(*id))
            .cloned()
            .collect();
        for id in again {
            changes.removed.remove(&id);
        }
        reconcile_changes(store, matcher, &changes, now).await
    }

    /// Drops the state (the records it was given were not stored): the next use rebuilds it
    /// from the store.
    pub async fn forget(&self) {
        *self.state.lock().await = None;
        *self.unsaved.lock().await = Changes::default();
    }
}

/// The ingest hook: checks records just written (and already stored) against the store's
/// index, and stores what changed. Versions are looked up only for records in new evidence.
pub async fn after_write(
    store: &dyn Store,
    session: &MatchSession,
    projects: &[Project],
    credits: &[CreditRecord],
) -> Result<Reconciled, MatchError> {
    if projects.is_empty() && credits.is_empty() {
        return Ok(Reconciled::default());
    }
    let now = Utc::now();
    let mut state = session.matcher(store, now).await?;
    let Some(matcher) = state.as_mut() else {
        return Ok(Reconciled::default());
    };
    let changes = matcher.apply(
        credits.iter().cloned().map(|c| (c, 0)).collect(),
        projects.iter().cloned().map(|p| (p, 0)).collect(),
    );
    reconcile_changes(store, matcher, &changes, now).await
}

/// The ingest hook at the end of a sync run: a registry that just completed a poll may now
/// be known complete, and the grace period of conversions moves with the date.
pub async fn after_run(
    store: &dyn Store,
    session: &MatchSession,
) -> Result<Reconciled, MatchError> {
    let now = Utc::now();
    let complete = complete_registries(store).await?;
    let synced = synced_registries(store).await?;
    let mut state = session.matcher(store, now).await?;
    let Some(matcher) = state.as_mut() else {
        return Ok(Reconciled::default());
    };
    let mut changes = matcher.set_complete_registries(complete);
    let synced = matcher.set_synced_registries(synced);
    changes.upserted.extend(synced.upserted);
    changes.removed.extend(synced.removed);
    let more = matcher.set_today(now.date_naive());
    changes.upserted.extend(more.upserted);
    changes.removed.extend(more.removed);
    let removed_again: Vec<String> = changes
        .removed
        .iter()
        .filter(|id| matcher.findings().contains_key(*id))
        .cloned()
        .collect();
    for id in removed_again {
        changes.removed.remove(&id);
    }
    reconcile_changes(store, matcher, &changes, now).await
}
