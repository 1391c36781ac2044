//! The matcher's state and rules: records in per-namespace serial indexes, projects with
//! their similarity keys, and the current findings, each owned by the scopes (records,
//! projects) whose evidence it rests on.
//!
//! Every rule is a pure function of the current records and projects, evaluated per scope.
//! The incremental path ([`Matcher::apply`]) re-evaluates only the scopes a change touches;
//! the full path ([`Matcher::full`]) sorts every namespace, sweeps it for overlapping pairs and
//! evaluates every scope. Both end with the same findings.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use carbonmesh_model::{
    AlertKind, AlertRecordRef, CreditRecord, Period, Project, RegistryId, SerialRange, Severity,
    TransactionType, project_id,
};
use chrono::NaiveDate;
use foldhash::{HashMap, HashMapExt as _};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::index::{Entry, Hit, NsIndex, Role};
use crate::rules::{self, Bridge};

/// What [`Matcher::put_record`] returns: the record's index, the range it replaced
/// (namespace, start, end) and the project it belonged to before.
type PutRecord = (u32, Option<(u32, u64, u64)>, Option<String>);

/// Conversion sources and targets of one (target registry, vintage).
type ConversionGroup<'a> = (Vec<&'a Rec>, Vec<&'a Rec>);

/// What the matcher is told about the world beyond the records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchConfig {
    /// Registries whose issuance blocks (with serials) are known complete: a retirement or
    /// cancellation of theirs that no issuance covers is reported.
    pub complete_registries: BTreeSet<RegistryId>,
    /// Registries read completely at least once (a complete poll): a conversion into one of
    /// them with no matching issuance is reported only then.
    pub synced_registries: BTreeSet<RegistryId>,
    /// Days a conversion may wait for its target issuance before it is reported.
    pub conversion_grace_days: u64,
    /// Today, for the grace period.
    pub today: NaiveDate,
}

impl MatchConfig {
    /// Registries that publish serialized issuance blocks (checked for uncovered retirements
    /// once they have been synced completely).
    /// Verra's VCU export lists current-state sub-blocks, not issuance blocks, so it is not
    /// among them.
    pub const ISSUANCE_BLOCK_REGISTRIES: [RegistryId; 2] =
        [RegistryId::PURO, RegistryId::BIOCARBON];

    /// A configuration with no registry known complete, a 90-day grace period, and `today`.
    pub fn new(today: NaiveDate) -> MatchConfig {
        MatchConfig {
            complete_registries: BTreeSet::new(),
            synced_registries: BTreeSet::new(),
            conversion_grace_days: 90,
            today,
        }
    }
}

/// A possible double count as the matcher sees it now: an alert without its review state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Derived from the kind and the evidence's identities.
    pub id: String,
    /// What it reports.
    pub kind: AlertKind,
    /// How serious.
    pub severity: Severity,
    /// One sentence.
    pub explanation: String,
    /// The records (and projects) involved, pinned to their versions.
    pub records: Vec<AlertRecordRef>,
    /// The overlapping (or uncovered) sub-range.
    pub overlap: Option<SerialRange>,
    /// Units in it.
    pub overlap_units: Option<u64>,
}

impl Finding {
    fn new(
        kind: AlertKind,
        severity: Severity,
        explanation: String,
        records: Vec<AlertRecordRef>,
        overlap: Option<SerialRange>,
        overlap_units: Option<u64>,
    ) -> Finding {
        Finding {
            id: rules::alert_id(kind, &records, overlap.as_ref()),
            kind,
            severity,
            explanation,
            records,
            overlap,
            overlap_units,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Scope {
    Record(u32),
    Project(String),
}

/// The namespace number of a record without a serial range.
const NO_RANGE: u32 = u32::MAX;

/// What the rules need of one credit record. The matcher holds one for every stored record,
/// so it keeps what the rules derive from the record's texts (role, conversion target,
/// bridge) instead of the texts, numbers instead of repeated strings (namespace, project),
/// and the key once, shared with the key map.
#[derive(Debug, Clone)]
struct Rec {
    registry: RegistryId,
    key: Arc<str>,
    /// The serial as published, unless it is the key itself (Verra's blocks, for one).
    serial: Option<Box<str>>,
    serial_is_key: bool,
    /// Index into the matcher's project ids.
    project: u32,
    kind: TransactionType,
    quantity: Decimal,
    /// The serial range: namespace number ([`NO_RANGE`] when none), first and last unit.
    ns: u32,
    start: u64,
    end: u64,
    vintage: Option<i32>,
    period: Option<Period>,
    event_date: Option<NaiveDate>,
    role: Role,
    /// The registry a cancellation converts into ([`rules::conversion_target`]).
    conversion: Option<RegistryId>,
    /// The tokenization bridge a retirement points to ([`rules::bridge_marker`]).
    bridge: Option<Bridge>,
    version: i64,
}

// The matcher holds one `Rec` for every stored record: keep it within 160 bytes (the
// registry ids, 24 bytes each, take the most).
const _: () = assert!(std::mem::size_of::<Rec>() <= 160);

impl Rec {
    /// Whether both hold the same facts (versions aside).
    fn same_facts(&self, other: &Rec) -> bool {
        let Rec {
            registry,
            key,
            serial,
            serial_is_key,
            project,
            kind,
            quantity,
            ns,
            start,
            end,
            vintage,
            period,
            event_date,
            role,
            conversion,
            bridge,
            version: _,
        } = self;
        (
            registry,
            key,
            serial,
            serial_is_key,
            project,
            kind,
            quantity,
            ns,
            start,
            end,
        ) == (
            &other.registry,
            &other.key,
            &other.serial,
            &other.serial_is_key,
            &other.project,
            &other.kind,
            &other.quantity,
            &other.ns,
            &other.start,
            &other.end,
        ) && (vintage, period, event_date, role, conversion, bridge)
            == (
                &other.vintage,
                &other.period,
                &other.event_date,
                &other.role,
                &other.conversion,
                &other.bridge,
            )
    }

    fn serial(&self) -> Option<&str> {
        if self.serial_is_key {
            Some(&self.key)
        } else {
            self.serial.as_deref()
        }
    }

    fn range(&self) -> Option<(u32, u64, u64)> {
        (self.ns != NO_RANGE).then_some((self.ns, self.start, self.end))
    }
}

/// The matcher.
#[derive(Debug, Clone)]
pub struct Matcher {
    config: MatchConfig,
    recs: Vec<Rec>,
    by_key: HashMap<RegistryId, HashMap<Arc<str>, u32>>,
    ns_ids: HashMap<String, u32>,
    ns_names: Vec<String>,
    pids: Vec<Arc<str>>,
    pid_ids: HashMap<Arc<str>, u32>,
    ns: Vec<NsIndex>,
    projects: BTreeMap<String, (Project, i64)>,
    /// The credit records of each project, by project number.
    credits_of: Vec<BTreeSet<u32>>,
    similar: HashMap<String, BTreeSet<String>>,
    referenced_by: HashMap<String, BTreeSet<String>>,
    findings: BTreeMap<String, Finding>,
    owners: HashMap<String, BTreeSet<Scope>>,
    scoped: HashMap<Scope, BTreeSet<String>>,
    /// While a change is applied: every finding it touches, as it was before (`None`:
    /// absent), so that what changed is found without copying every finding.
    journal: Option<HashMap<String, Option<Finding>>>,
}

/// What one call changed in the findings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Changes {
    /// Findings that are new or whose evidence changed.
    pub upserted: BTreeSet<String>,
    /// Findings whose evidence disappeared.
    pub removed: BTreeSet<String>,
}

impl Matcher {
    /// An empty matcher.
    pub fn new(config: MatchConfig) -> Matcher {
        Matcher {
            config,
            recs: Vec::new(),
            by_key: HashMap::new(),
            ns_ids: HashMap::new(),
            ns_names: Vec::new(),
            pids: Vec::new(),
            pid_ids: HashMap::new(),
            ns: Vec::new(),
            projects: BTreeMap::new(),
            credits_of: Vec::new(),
            similar: HashMap::new(),
            referenced_by: HashMap::new(),
            findings: BTreeMap::new(),
            owners: HashMap::new(),
            scoped: HashMap::new(),
            journal: None,
        }
    }

    /// Makes room for `credits` more credit records, so that loading a store does not grow
    /// (and copy) its arrays step by step.
    pub fn reserve(&mut self, credits: usize) {
        self.recs.reserve_exact(credits);
    }

    /// The configuration.
    pub fn config(&self) -> &MatchConfig {
        &self.config
    }

    /// The current findings, by id.
    pub fn findings(&self) -> &BTreeMap<String, Finding> {
        &self.findings
    }

    /// The findings `credit` makes on its own, whatever else is stored (a serial count that
    /// differs from its quantity, a retirement bridged to a token): all a check of its group
    /// finds when it shares its group with no other record and needs no issuance to cover it.
    pub fn findings_alone(credit: &CreditRecord, version: i64) -> Vec<Finding> {
        let role = rules::role(credit);
        alone_findings(
            &Alone {
                registry: credit.registry,
                key: &credit.record_key,
                serial: credit.serial.as_deref(),
                quantity: credit.quantity,
                range: credit.serial_range.as_ref(),
                role,
                bridge: rules::retirement_bridge(credit, role),
                event_date: credit.event_date,
            },
            || rules::record_ref(credit, version),
        )
    }

    /// The current findings, by id, without the rest of the state.
    pub fn into_findings(self) -> BTreeMap<String, Finding> {
        self.findings
    }

    /// Number of current credit records.
    pub fn records(&self) -> usize {
        self.by_key.values().map(HashMap::len).sum()
    }

    /// Number of current projects.
    pub fn projects(&self) -> usize {
        self.projects.len()
    }

    /// Bytes held by the serial indexes, and the number of blocks in them.
    pub fn index_bytes(&self) -> (usize, usize) {
        self.ns
            .iter()
            .fold((0, 0), |(b, n), i| (b + i.heap_bytes(), n + i.len()))
    }

    // ---------------------------------------------------------------------------------------
    // Loading

    fn namespace_id(&mut self, ns: &str) -> u32 {
        if let Some(&id) = self.ns_ids.get(ns) {
            return id;
        }
        let id = self.ns_names.len() as u32;
        self.ns_ids.insert(ns.to_owned(), id);
        self.ns_names.push(ns.to_owned());
        self.ns.push(NsIndex::default());
        id
    }

    fn project_number(&mut self, pid: String) -> u32 {
        if let Some(&n) = self.pid_ids.get(pid.as_str()) {
            return n;
        }
        let n = self.pids.len() as u32;
        let pid: Arc<str> = pid.into();
        self.pids.push(pid.clone());
        self.pid_ids.insert(pid, n);
        self.credits_of.push(BTreeSet::new());
        n
    }

    /// The compact form of a record (see [`Rec`]).
    fn rec(&mut self, credit: CreditRecord, version: i64, key: Arc<str>) -> Rec {
        let role = rules::role(&credit);
        let conversion = rules::conversion_target(&credit);
        let bridge = rules::retirement_bridge(&credit, role);
        let project = self.project_number(credit.project_id());
        let serial_is_key = credit.serial.as_deref() == Some(&*key);
        let serial = if serial_is_key {
            None
        } else {
            credit.serial.map(String::into_boxed_str)
        };
        let (ns, start, end) = match credit.serial_range {
            Some(r) => (self.namespace_id(&r.namespace), r.start, r.end),
            None => (NO_RANGE, 0, 0),
        };
        Rec {
            registry: credit.registry,
            key,
            serial,
            serial_is_key,
            project,
            kind: credit.transaction_type.value,
            quantity: credit.quantity,
            ns,
            start,
            end,
            vintage: credit.vintage,
            period: credit.monitoring_period,
            event_date: credit.event_date,
            role,
            conversion,
            bridge,
            version,
        }
    }

    /// Stores a record (new or changed); returns its index, the range it replaced and the
    /// project it belonged to before.
    fn put_record(&mut self, credit: CreditRecord, version: i64) -> Option<PutRecord> {
        let registry = credit.registry;
        let found = self
            .by_key
            .get(&registry)
            .and_then(|keys| keys.get_key_value(credit.record_key.as_str()))
            .map(|(key, &i)| (key.clone(), i));
        match found {
            Some((key, i)) => {
                let rec = self.rec(credit, version, key);
                let old = &self.recs[i as usize];
                // Version 0 means "not looked up yet" (records from the ingest hook).
                if old.same_facts(&rec) && (rec.version == 0 || old.version == rec.version) {
                    return None;
                }
                let old_range = old.range();
                let old_project = old.project;
                if let Some((ns, start, _)) = old_range {
                    self.ns[ns as usize].remove(start, i);
                }
                self.credits_of[old_project as usize].remove(&i);
                self.credits_of[rec.project as usize].insert(i);
                self.recs[i as usize] = rec;
                let old_pid = self.pids[old_project as usize].to_string();
                Some((i, old_range, Some(old_pid)))
            }
            None => {
                let key: Arc<str> = credit.record_key.as_str().into();
                let rec = self.rec(credit, version, key.clone());
                let i = self.recs.len() as u32;
                self.credits_of[rec.project as usize].insert(i);
                self.recs.push(rec);
                self.by_key.entry(registry).or_default().insert(key, i);
                Some((i, None, None))
            }
        }
    }

    fn index_record(&mut self, i: u32) {
        let rec = &self.recs[i as usize];
        if let Some((ns, start, end)) = rec.range() {
            let role = rec.role;
            self.ns[ns as usize].insert(start, end, i, role);
        }
    }

    /// Evidence for a record.
    fn record_ref(&self, rec: &Rec) -> AlertRecordRef {
        AlertRecordRef {
            registry: rec.registry,
            record_key: rec.key.to_string(),
            version: rec.version,
            serial: rec.serial().map(str::to_owned),
            range: self.serial_range(rec),
        }
    }

    fn serial_range(&self, rec: &Rec) -> Option<SerialRange> {
        rec.range().map(|(ns, start, end)| SerialRange {
            namespace: self.ns_names[ns as usize].clone(),
            start,
            end,
        })
    }

    fn project_of(&self, rec: &Rec) -> &str {
        &self.pids[rec.project as usize]
    }

    /// Stores a project (new or changed); false when unchanged.
    fn put_project(&mut self, project: Project, version: i64) -> bool {
        let id = project.id();
        if let Some((old, v)) = self.projects.get(&id) {
            if *old == project && (version == 0 || *v == version) {
                return false;
            }
            if let Some(key) = rules::similarity_key(old)
                && let Some(set) = self.similar.get_mut(&key)
            {
                set.remove(&id);
            }
            for target in rules::references(old) {
                if let Some(set) = self.referenced_by.get_mut(&target) {
                    set.remove(&id);
                }
            }
        }
        if let Some(key) = rules::similarity_key(&project) {
            self.similar.entry(key).or_default().insert(id.clone());
        }
        for target in rules::references(&project) {
            self.referenced_by
                .entry(target)
                .or_default()
                .insert(id.clone());
        }
        self.projects.insert(id, (project, version));
        true
    }

    // ---------------------------------------------------------------------------------------
    // Entry points

    /// Builds a matcher from every record at once: each namespace is sorted and swept for
    /// overlapping pairs, then every record and project is checked.
    pub fn full(
        config: MatchConfig,
        credits: impl IntoIterator<Item = (CreditRecord, i64)>,
        projects: impl IntoIterator<Item = (Project, i64)>,
    ) -> Matcher {
        let mut m = Matcher::new(config);
        m.load(credits, projects);
        m.check_all();
        m
    }

    /// Takes in records and projects without checking them: a matcher built from a store
    /// loads page by page (never holding the whole records), then calls
    /// [`Matcher::check_all`].
    pub fn load(
        &mut self,
        credits: impl IntoIterator<Item = (CreditRecord, i64)>,
        projects: impl IntoIterator<Item = (Project, i64)>,
    ) {
        for (p, v) in projects {
            self.put_project(p, v);
        }
        for (c, v) in credits {
            self.put_record(c, v);
        }
    }

    /// Checks everything loaded: each namespace is sorted and swept for overlapping pairs,
    /// then every record and project is checked. The findings are replaced.
    pub fn check_all(&mut self) {
        let m = self;
        m.findings.clear();
        m.owners.clear();
        m.scoped.clear();
        let mut blocks: Vec<Vec<Entry>> = vec![Vec::new(); m.ns.len()];
        for (i, rec) in m.recs.iter().enumerate() {
            if let Some((ns, start, end)) = rec.range() {
                blocks[ns as usize].push(Entry {
                    start,
                    end,
                    max_end: 0,
                    rec: i as u32,
                    role: rec.role,
                });
            }
        }
        m.ns = blocks.into_iter().map(NsIndex::build).collect();
        // Pairs, by sweep.
        let mut pairs = Vec::new();
        for index in &m.ns {
            index.sweep(|a, b| pairs.push((a.rec, b.rec)));
        }
        for (a, b) in pairs {
            if let Some(f) = m.pair_finding(a, b) {
                m.add(f, &[Scope::Record(a), Scope::Record(b)]);
            }
        }
        // Single records.
        for i in 0..m.recs.len() as u32 {
            for (f, scopes) in m.record_findings(i) {
                m.add(f, &scopes);
            }
        }
        // Projects.
        let ids: Vec<String> = m.all_project_scopes();
        for id in ids {
            for (f, scopes) in m.project_findings(&id) {
                m.add(f, &scopes);
            }
        }
    }

    /// Applies new or changed records and projects, checking each block against the index on
    /// arrival, and re-evaluating only the records and projects the change touches.
    pub fn apply(
        &mut self,
        credits: Vec<(CreditRecord, i64)>,
        projects: Vec<(Project, i64)>,
    ) -> Changes {
        self.begin_change();
        let mut dirty_records: BTreeSet<u32> = BTreeSet::new();
        let mut dirty_projects: BTreeSet<String> = BTreeSet::new();
        for (p, v) in projects {
            let id = p.id();
            let old_refs = self
                .projects
                .get(&id)
                .map(|(old, _)| (rules::references(old), rules::similarity_key(old)));
            if !self.put_project(p, v) {
                continue;
            }
            dirty_projects.insert(id.clone());
            if let Some((refs, key)) = old_refs {
                dirty_projects.extend(refs);
                if let Some(key) = key {
                    dirty_projects.extend(self.similar.get(&key).into_iter().flatten().cloned());
                }
            }
            self.dirty_around_project(&id, &mut dirty_projects);
        }
        let mut hits = Vec::new();
        for (c, v) in credits {
            let Some((i, old_range, old_pid)) = self.put_record(c, v) else {
                continue;
            };
            if let Some(old_pid) = old_pid {
                self.dirty_around_project(&old_pid, &mut dirty_projects);
                dirty_projects.insert(old_pid);
            }
            if let Some((ns, start, end)) = old_range {
                hits.clear();
                self.ns[ns as usize].query(start, end, &mut hits);
                dirty_records.extend(hits.iter().map(|h| h.rec));
            }
            self.index_record(i);
            dirty_records.insert(i);
            let rec = &self.recs[i as usize];
            if let Some((ns, start, end)) = rec.range() {
                hits.clear();
                self.ns[ns as usize].query(start, end, &mut hits);
                dirty_records.extend(hits.iter().map(|h| h.rec));
            }
            let pid = self.project_of(&self.recs[i as usize]).to_owned();
            dirty_projects.insert(pid.clone());
            self.dirty_around_project(&pid, &mut dirty_projects);
        }
        for i in dirty_records {
            self.reevaluate(&Scope::Record(i));
        }
        for id in dirty_projects {
            self.reevaluate(&Scope::Project(id));
        }
        self.end_change()
    }

    /// Changes which registries have been read completely, re-checking conversions.
    pub fn set_synced_registries(&mut self, synced: BTreeSet<RegistryId>) -> Changes {
        self.begin_change();
        if synced != self.config.synced_registries {
            self.config.synced_registries = synced;
            for id in self.all_project_scopes() {
                self.reevaluate(&Scope::Project(id));
            }
        }
        self.end_change()
    }

    /// Changes which registries are known complete, re-checking their retirements.
    pub fn set_complete_registries(&mut self, complete: BTreeSet<RegistryId>) -> Changes {
        self.begin_change();
        let changed: BTreeSet<RegistryId> = complete
            .symmetric_difference(&self.config.complete_registries)
            .copied()
            .collect();
        self.config.complete_registries = complete;
        if !changed.is_empty() {
            let dirty: Vec<u32> = (0..self.recs.len() as u32)
                .filter(|&i| {
                    let r = &self.recs[i as usize];
                    r.role == Role::Use && changed.contains(&r.registry)
                })
                .collect();
            for i in dirty {
                self.reevaluate(&Scope::Record(i));
            }
        }
        self.end_change()
    }

    /// Moves `today` (the grace period of conversions), re-checking conversions.
    pub fn set_today(&mut self, today: NaiveDate) -> Changes {
        self.begin_change();
        if today != self.config.today {
            self.config.today = today;
            for id in self.all_project_scopes() {
                self.reevaluate(&Scope::Project(id));
            }
        }
        self.end_change()
    }

    /// Starts recording the findings a change touches.
    fn begin_change(&mut self) {
        self.journal = Some(HashMap::new());
    }

    /// What the change since [`Matcher::begin_change`] did to the findings.
    fn end_change(&mut self) -> Changes {
        let mut changes = Changes::default();
        for (id, before) in self.journal.take().unwrap_or_default() {
            match self.findings.get(&id) {
                Some(now) if before.as_ref() != Some(now) => {
                    changes.upserted.insert(id);
                }
                None if before.is_some() => {
                    changes.removed.insert(id);
                }
                _ => {}
            }
        }
        changes
    }

    /// Notes the finding `id` as it is, the first time a change touches it.
    fn touch(&mut self, id: &str) {
        if let Some(journal) = &mut self.journal
            && !journal.contains_key(id)
        {
            journal.insert(id.to_owned(), self.findings.get(id).cloned());
        }
    }

    /// Every project id that is a scope: known projects and projects with credits.
    fn all_project_scopes(&self) -> Vec<String> {
        let mut ids: BTreeSet<String> = self.projects.keys().cloned().collect();
        ids.extend(
            self.pids
                .iter()
                .zip(&self.credits_of)
                .filter(|(_, credits)| !credits.is_empty())
                .map(|(pid, _)| pid.to_string()),
        );
        ids.into_iter().collect()
    }

    /// Projects whose findings depend on `id`: those it references, those referencing it,
    /// and those with its similarity key.
    fn dirty_around_project(&self, id: &str, dirty: &mut BTreeSet<String>) {
        if let Some((p, _)) = self.projects.get(id) {
            dirty.extend(rules::references(p));
            if let Some(key) = rules::similarity_key(p) {
                dirty.extend(self.similar.get(&key).into_iter().flatten().cloned());
            }
        }
        dirty.extend(self.referenced_by.get(id).into_iter().flatten().cloned());
    }

    // ---------------------------------------------------------------------------------------
    // Findings bookkeeping

    fn add(&mut self, finding: Finding, scopes: &[Scope]) {
        let id = finding.id.clone();
        self.touch(&id);
        self.findings.insert(id.clone(), finding);
        let owners = self.owners.entry(id.clone()).or_default();
        for s in scopes {
            owners.insert(s.clone());
            self.scoped.entry(s.clone()).or_default().insert(id.clone());
        }
    }

    fn reevaluate(&mut self, scope: &Scope) {
        // Other records whose own findings rested on this scope's evidence.
        let mut co_owners: BTreeSet<Scope> = BTreeSet::new();
        if let Some(ids) = self.scoped.remove(scope) {
            for id in ids {
                self.touch(&id);
                self.findings.remove(&id);
                if let Some(owners) = self.owners.remove(&id) {
                    for o in owners {
                        if &o != scope {
                            if let Some(set) = self.scoped.get_mut(&o) {
                                set.remove(&id);
                            }
                            co_owners.insert(o);
                        }
                    }
                }
            }
        }
        let mut found = match scope {
            Scope::Record(i) => {
                let i = *i;
                let mut found = Vec::new();
                let rec = &self.recs[i as usize];
                if let Some((ns, start, end)) = rec.range() {
                    let mut hits = Vec::new();
                    self.ns[ns as usize].query(start, end, &mut hits);
                    for h in hits {
                        if h.rec != i
                            && let Some(f) = self.pair_finding(i, h.rec)
                        {
                            found.push((f, vec![Scope::Record(i), Scope::Record(h.rec)]));
                        }
                    }
                }
                found.extend(self.record_findings(i));
                found
            }
            Scope::Project(id) => self.project_findings(id),
        };
        for o in co_owners {
            match o {
                Scope::Record(j) => found.extend(self.record_findings(j)),
                Scope::Project(id) => found.extend(self.project_findings(&id)),
            }
        }
        for (f, scopes) in found {
            // A pair finding re-found from the other side keeps both owners.
            let mut all = scopes;
            if let Some(existing) = self.owners.get(&f.id) {
                all.extend(existing.iter().cloned());
            }
            self.add(f, &all);
        }
    }

    // ---------------------------------------------------------------------------------------
    // Rules

    fn live_hits(&self, ns: u32, start: u64, end: u64) -> Vec<Hit> {
        let mut hits = Vec::new();
        self.ns[ns as usize].query(start, end, &mut hits);
        hits.retain(|h| {
            let r = &self.recs[h.rec as usize];
            r.range() == Some((ns, h.start, h.end))
        });
        hits.sort_by_key(|h| (h.start, h.rec));
        hits.dedup_by_key(|h| h.rec);
        hits
    }

    /// The finding two overlapping records of one registry make, if any.
    fn pair_finding(&self, a: u32, b: u32) -> Option<Finding> {
        let (ra, rb) = (&self.recs[a as usize], &self.recs[b as usize]);
        if a == b || ra.registry != rb.registry {
            return None;
        }
        let (x, y) = (self.serial_range(ra)?, self.serial_range(rb)?);
        let (start, end) = x.overlap(&y)?;
        // Order the pair canonically so both sides build the same finding.
        let (ra, rb) = if ra.key <= rb.key { (ra, rb) } else { (rb, ra) };
        let overlap = SerialRange {
            namespace: x.namespace,
            start,
            end,
        };
        let units = end - start + 1;
        let refs = vec![self.record_ref(ra), self.record_ref(rb)];
        let registry = ra.registry;
        let (kind, severity, explanation) = match (ra.role, rb.role) {
            (Role::Issuance, Role::Issuance) => (
                AlertKind::SerialOverlapIssuance,
                Severity::Critical,
                format!(
                    "{registry} issued units {start}-{end} of namespace {} twice, in {} and {} ({units} units).",
                    overlap.namespace, ra.key, rb.key
                ),
            ),
            (Role::Use, Role::Use) => (
                AlertKind::SerialStateConflict,
                Severity::Critical,
                format!(
                    "{registry} retired or cancelled units {start}-{end} of namespace {} twice, in {} and {} ({units} units).",
                    overlap.namespace, ra.key, rb.key
                ),
            ),
            (Role::Use, Role::Held) | (Role::Held, Role::Use) => {
                let (used, held) = if ra.role == Role::Use {
                    (ra, rb)
                } else {
                    (rb, ra)
                };
                used.conversion?;
                (
                    AlertKind::ConversionUnmatched,
                    Severity::High,
                    format!(
                        "{registry} converted units {start}-{end} in {} that are still held in {} ({units} units).",
                        used.key, held.key
                    ),
                )
            }
            _ => return None,
        };
        Some(Finding::new(
            kind,
            severity,
            explanation,
            refs,
            Some(overlap),
            Some(units),
        ))
    }

    fn alone_findings(&self, rec: &Rec) -> Vec<Finding> {
        alone_findings(
            &Alone {
                registry: rec.registry,
                key: &rec.key,
                serial: rec.serial(),
                quantity: rec.quantity,
                range: self.serial_range(rec).as_ref(),
                role: rec.role,
                bridge: rec.bridge,
                event_date: rec.event_date,
            },
            || self.record_ref(rec),
        )
    }

    /// Findings about one record alone (or one record against what covers it).
    fn record_findings(&self, i: u32) -> Vec<(Finding, Vec<Scope>)> {
        let rec = &self.recs[i as usize];
        let me = Scope::Record(i);
        let mut out: Vec<(Finding, Vec<Scope>)> = self
            .alone_findings(rec)
            .into_iter()
            .map(|f| (f, vec![me.clone()]))
            .collect();
        let c = rec;
        let range = self.serial_range(rec);
        let (Some((ns, _, _)), Some(r)) = (rec.range(), range.as_ref()) else {
            return out;
        };
        let foreign = rules::namespace_owner(&r.namespace).is_some_and(|owner| owner != c.registry);
        // A retirement or cancellation no issuance covers.
        if rules::needs_cover(
            c.registry,
            rec.role,
            &r.namespace,
            &self.config.complete_registries,
        ) {
            let hits = self.live_hits(ns, r.start, r.end);
            let cover: Vec<(u64, u64, u32)> = hits
                .iter()
                .filter(|h| {
                    h.role == Role::Issuance && self.recs[h.rec as usize].registry == c.registry
                })
                .map(|h| (h.start, h.end, h.rec))
                .collect();
            let gaps = gaps(r.start, r.end, cover.iter().map(|&(s, e, _)| (s, e)));
            if let Some(&(gs, ge)) = gaps.first() {
                let units: u64 = gaps.iter().map(|(s, e)| e - s + 1).sum();
                let mut refs = vec![self.record_ref(c)];
                let mut scopes = vec![me.clone()];
                for &(_, _, j) in &cover {
                    let o = &self.recs[j as usize];
                    refs.push(self.record_ref(o));
                    scopes.push(Scope::Record(j));
                }
                let gap = SerialRange {
                    namespace: r.namespace.clone(),
                    start: gs,
                    end: ge,
                };
                // Identity: the record and the gaps, not the partial cover.
                let id_refs = vec![self.record_ref(c)];
                let mut f = Finding::new(
                    AlertKind::UncoveredRetirement,
                    Severity::High,
                    format!(
                        "{} {} {} uses {units} units of namespace {} (first {gs}-{ge}) that no {} issuance covers.",
                        c.registry, c.kind, c.key, r.namespace, c.registry
                    ),
                    id_refs,
                    Some(gap),
                    Some(units),
                );
                f.records = refs;
                out.push((f, scopes));
            }
        }
        // A serial naming another registry's units that are still active there.
        if foreign && let Some(owner) = rules::namespace_owner(&r.namespace) {
            let hits = self.live_hits(ns, r.start, r.end);
            let own: Vec<&Hit> = hits
                .iter()
                .filter(|h| self.recs[h.rec as usize].registry == owner)
                .collect();
            let used: Vec<(u64, u64)> = own
                .iter()
                .filter(|h| h.role == Role::Use)
                .map(|h| (h.start, h.end))
                .collect();
            for h in own.iter().filter(|h| h.role != Role::Use) {
                let (s, e) = (h.start.max(r.start), h.end.min(r.end));
                let active = gaps(s, e, used.iter().copied());
                let Some(&(gs, ge)) = active.first() else {
                    continue;
                };
                let units: u64 = active.iter().map(|(s, e)| e - s + 1).sum();
                let o = &self.recs[h.rec as usize];
                let severity = if rec.role == Role::Use {
                    Severity::Critical
                } else {
                    Severity::High
                };
                out.push((
                        Finding::new(
                            AlertKind::CrossRegistrySerialOverlap,
                            severity,
                            format!(
                                "{} record {} names {owner} units {gs}-{ge} ({units} units) that {owner} still shows active in {}.",
                                c.registry, c.key, o.key
                            ),
                            vec![
                                self.record_ref(c),
                                self.record_ref(o),
                            ],
                            Some(SerialRange {
                                namespace: r.namespace.clone(),
                                start: gs,
                                end: ge,
                            }),
                            Some(units),
                        ),
                        vec![me.clone(), Scope::Record(h.rec)],
                    ));
            }
        }
        out
    }

    fn project_credits(&self, pid: &str) -> Vec<&Rec> {
        self.pid_ids
            .get(pid)
            .into_iter()
            .flat_map(|&n| &self.credits_of[n as usize])
            .map(|&i| &self.recs[i as usize])
            .collect()
    }

    /// Findings of one project: conversions out of it, and the same project listed in
    /// another registry.
    fn project_findings(&self, pid: &str) -> Vec<(Finding, Vec<Scope>)> {
        let mut out = Vec::new();
        self.conversion_findings(pid, &mut out);
        self.duplicate_findings(pid, &mut out);
        out
    }

    fn conversion_findings(&self, pid: &str, out: &mut Vec<(Finding, Vec<Scope>)>) {
        let me = Scope::Project(pid.to_owned());
        let sources: Vec<&Rec> = self
            .project_credits(pid)
            .into_iter()
            .filter(|r| r.conversion.is_some())
            .collect();
        if sources.is_empty() {
            return;
        }
        // Groups: (target registry, vintage) → sources, targets.
        let mut groups: BTreeMap<(RegistryId, Option<i32>), ConversionGroup<'_>> = BTreeMap::new();
        for s in &sources {
            if let Some(t) = s.conversion {
                groups.entry((t, s.vintage)).or_default().0.push(s);
            }
        }
        // Targets: issuances of projects in the target registry referencing this project.
        for target_pid in self.referenced_by.get(pid).into_iter().flatten() {
            let Some((tp, _)) = self.projects.get(target_pid) else {
                continue;
            };
            let linked = tp.cross_references.iter().any(|x| {
                rules::is_conversion_relation(&x.relation)
                    && x.registry.map(|r| project_id(r, &x.id)).as_deref() == Some(pid)
            });
            if !linked {
                continue;
            }
            for t in self.project_credits(target_pid) {
                if t.kind != TransactionType::Issuance {
                    continue;
                }
                if let Some(g) = groups.get_mut(&(t.registry, t.vintage)) {
                    g.1.push(t);
                }
            }
        }
        for ((target, vintage), (mut srcs, mut tgts)) in groups {
            srcs.sort_by(|a, b| (a.quantity, &a.key).cmp(&(b.quantity, &b.key)));
            tgts.sort_by(|a, b| (a.quantity, &a.key).cmp(&(b.quantity, &b.key)));
            let mut left_src = Vec::new();
            let mut used = vec![false; tgts.len()];
            for s in srcs {
                match (0..tgts.len()).find(|&j| !used[j] && tgts[j].quantity == s.quantity) {
                    Some(j) => {
                        used[j] = true;
                        let t = tgts[j];
                        out.push((
                            Finding::new(
                                AlertKind::LinkedConversion,
                                Severity::Info,
                                format!(
                                    "{} {} converted {} units of vintage {} into {} issuance {}.",
                                    s.registry,
                                    s.key,
                                    s.quantity.normalize(),
                                    vintage.map_or("unknown".into(), |v| v.to_string()),
                                    target,
                                    t.key
                                ),
                                vec![self.record_ref(s), self.record_ref(t)],
                                None,
                                None,
                            ),
                            vec![me.clone()],
                        ));
                    }
                    None => left_src.push(s),
                }
            }
            let mut left_tgt = tgts
                .iter()
                .enumerate()
                .filter(|(j, _)| !used[*j])
                .map(|(_, t)| *t);
            for s in left_src {
                let v = vintage.map_or("unknown".into(), |v| v.to_string());
                if let Some(t) = left_tgt.next() {
                    out.push((
                        Finding::new(
                            AlertKind::ConversionUnmatched,
                            Severity::High,
                            format!(
                                "{} {} converted {} units of vintage {v} but the {target} issuance {} for them states {} units.",
                                s.registry,
                                s.key,
                                s.quantity.normalize(),
                                t.key,
                                t.quantity.normalize()
                            ),
                            vec![self.record_ref(s), self.record_ref(t)],
                            None,
                            None,
                        ),
                        vec![me.clone()],
                    ));
                    continue;
                }
                let due = s.event_date.and_then(|d| {
                    d.checked_add_days(chrono::Days::new(self.config.conversion_grace_days))
                });
                let target_read = self.config.synced_registries.contains(&target);
                if target_read && due.is_none_or(|due| due < self.config.today) {
                    out.push((
                        Finding::new(
                            AlertKind::ConversionUnmatched,
                            Severity::High,
                            format!(
                                "{} {} converted {} units of vintage {v} to {target}, and no matching {target} issuance appeared within {} days.",
                                s.registry,
                                s.key,
                                s.quantity.normalize(),
                                self.config.conversion_grace_days
                            ),
                            vec![self.record_ref(s)],
                            None,
                            None,
                        ),
                        vec![me.clone()],
                    ));
                }
            }
        }
    }

    fn duplicate_findings(&self, pid: &str, out: &mut Vec<(Finding, Vec<Scope>)>) {
        let Some((p, pv)) = self.projects.get(pid) else {
            return;
        };
        // Candidates: deterministic cross-references first, then similarity.
        let mut candidates: BTreeMap<String, bool> = BTreeMap::new();
        let conversion_linked = |a: &Project, b: &Project| {
            let link = |x: &Project, y: &Project| {
                x.cross_references.iter().any(|r| {
                    rules::is_conversion_relation(&r.relation)
                        && r.registry.map(|reg| project_id(reg, &r.id)) == Some(y.id())
                })
            };
            link(a, b) || link(b, a)
        };
        for x in &p.cross_references {
            if rules::is_conversion_relation(&x.relation) {
                continue;
            }
            if let Some(r) = x.registry {
                candidates.insert(project_id(r, &x.id), true);
            }
        }
        for other in self.referenced_by.get(pid).into_iter().flatten() {
            if let Some((o, _)) = self.projects.get(other) {
                let by_id = o.cross_references.iter().any(|x| {
                    !rules::is_conversion_relation(&x.relation)
                        && x.registry.map(|r| project_id(r, &x.id)).as_deref() == Some(pid)
                });
                if by_id {
                    candidates.insert(other.clone(), true);
                }
            }
        }
        if let Some(key) = rules::similarity_key(p) {
            for other in self.similar.get(&key).into_iter().flatten() {
                candidates.entry(other.clone()).or_insert(false);
            }
        }
        for (other, by_id) in candidates {
            let Some((q, qv)) = self.projects.get(&other) else {
                continue;
            };
            if q.registry == p.registry
                || conversion_linked(p, q)
                || (!by_id && !rules::compatible(p, q))
            {
                continue;
            }
            let (a, av, b, bv) = if p.id() <= q.id() {
                (p, *pv, q, *qv)
            } else {
                (q, *qv, p, *pv)
            };
            let mine = self.project_credits(&a.id());
            let theirs = self.project_credits(&b.id());
            let mut best: Option<(&Rec, &Rec)> = None;
            for x in &mine {
                for y in &theirs {
                    let overlap = match (&x.period, &y.period, x.vintage, y.vintage) {
                        (_, _, Some(vx), Some(vy)) => vx == vy,
                        (Some(px), Some(py), _, _) => px.overlaps(py),
                        _ => false,
                    };
                    if overlap {
                        let key = |r: &Rec| (r.key.clone(), r.registry);
                        if best.is_none_or(|(bx, by)| (key(x), key(y)) < (key(bx), key(by))) {
                            best = Some((x, y));
                        }
                    }
                }
            }
            let how = if by_id {
                "a cross-reference id"
            } else {
                "name, country and developer"
            };
            let scopes = vec![Scope::Project(a.id()), Scope::Project(b.id())];
            let mut refs = vec![rules::project_ref(a, av), rules::project_ref(b, bv)];
            let f = match best {
                Some((x, y)) => {
                    let id = rules::alert_id(AlertKind::CrossRegistryPeriodOverlap, &refs, None);
                    refs.push(self.record_ref(x));
                    refs.push(self.record_ref(y));
                    Finding {
                        id,
                        kind: AlertKind::CrossRegistryPeriodOverlap,
                        severity: if by_id {
                            Severity::Critical
                        } else {
                            Severity::High
                        },
                        explanation: format!(
                            "{} and {} look like one project (matched by {how}) and both issued credits for vintage {}.",
                            a.id(),
                            b.id(),
                            x.vintage.map_or("unknown".into(), |v| v.to_string())
                        ),
                        records: refs,
                        overlap: None,
                        overlap_units: None,
                    }
                }
                None => Finding::new(
                    AlertKind::ProjectDuplicateCandidate,
                    Severity::Info,
                    format!(
                        "{} and {} look like one project (matched by {how}); no overlapping issuance yet, so the link is recorded.",
                        a.id(),
                        b.id()
                    ),
                    refs,
                    None,
                    None,
                ),
            };
            out.push((f, scopes));
        }
    }
}

/// What the rules of a record alone read of it.
struct Alone<'a> {
    registry: RegistryId,
    key: &'a str,
    serial: Option<&'a str>,
    quantity: Decimal,
    range: Option<&'a SerialRange>,
    role: Role,
    bridge: Option<Bridge>,
    event_date: Option<NaiveDate>,
}

/// Findings a record makes on its own, whatever else is stored: a serial count that differs
/// from its quantity, a retirement bridged to a token. `evidence` makes the record's reference,
/// only when there is a finding.
fn alone_findings(c: &Alone<'_>, evidence: impl Fn() -> AlertRecordRef) -> Vec<Finding> {
    let mut out = Vec::new();
    let range = c.range;
    // A block whose serial count differs from its quantity.
    if let (Some(serial), Some(r)) = (c.serial, range) {
        let count = r.quantity();
        if c.quantity != Decimal::from(count) {
            let refs = vec![evidence()];
            out.push(Finding::new(
                AlertKind::QuantityMismatch,
                Severity::Low,
                format!(
                    "{} record {} states {} units but its serial {} counts {count}.",
                    c.registry,
                    c.key,
                    c.quantity.normalize(),
                    serial
                ),
                refs,
                Some(r.clone()),
                Some(count),
            ));
        }
    }
    // A retirement bridged to a token.
    if c.role == Role::Use
        && let Some(bridge) = c.bridge
    {
        let banned = c.registry == RegistryId::VERRA && rules::after_token_ban(c.event_date);
        let severity = if banned {
            Severity::Critical
        } else {
            Severity::High
        };
        let when = match c.event_date {
            Some(d) if banned => {
                format!(" on {d}, after Verra's 2022-05-25 ban on tokens of retired credits")
            }
            Some(d) => format!(" on {d}"),
            None => String::new(),
        };
        out.push(
                Finding::new(
                    AlertKind::TokenOnRetired,
                    severity,
                    format!(
                        "{} retirement {} of {} units points to {bridge}{when}: the units may be claimed again as tokens.",
                        c.registry,
                        c.key,
                        c.quantity.normalize()
                    ),
                    vec![evidence()],
                    range.cloned(),
                    range.map(SerialRange::quantity),
                ),
            );
    }
    out
}

/// The parts of `start..=end` that `cover` leaves out, in order.
fn gaps(start: u64, end: u64, cover: impl Iterator<Item = (u64, u64)>) -> Vec<(u64, u64)> {
    let mut cover: Vec<(u64, u64)> = cover.collect();
    cover.sort_unstable();
    let mut out = Vec::new();
    let mut next = start;
    for (s, e) in cover {
        if e < next {
            continue;
        }
        if s > end {
            break;
        }
        if s > next {
            out.push((next, s - 1));
        }
        if e >= end {
            return out;
        }
        next = next.max(e + 1);
    }
    if next <= end {
        out.push((next, end));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::gaps;

    #[test]
    fn gaps_are_what_the_cover_leaves() {
        assert_eq!(gaps(1, 10, [(1, 10)].into_iter()), vec![]);
        assert_eq!(
            gaps(1, 10, [(3, 4), (6, 20)].into_iter()),
            vec![(1, 2), (5, 5)]
        );
        assert_eq!(gaps(5, 10, std::iter::empty()), vec![(5, 10)]);
        assert_eq!(gaps(5, 10, [(1, 5), (5, 7)].into_iter()), vec![(8, 10)]);
    }
}
