//! Checking records group by group, in bounded memory.
//!
//! The rules make records depend on each other in three ways only: two records whose serial
//! ranges overlap in one namespace (pairs, covers, foreign units); the records of a project
//! whose own rules read them (a project with a record that can be a conversion, or linked to
//! another project); and projects linked by a cross-reference or a shared similarity key
//! (conversions, duplicate listings). Records and projects joined that way form groups that
//! share no evidence, so the findings of the whole store are the findings of each group
//! checked alone. [`Grouping`] finds the groups from a lean key of every record
//! ([`MatchKey`]); a caller then reads and checks a batch of whole groups at a time, and
//! holds no more than one batch of records.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;

use carbonmesh_model::{CreditRecord, Project, RegistryId};
use carbonmesh_store::MatchKey;

use crate::engine::{Finding, MatchConfig, Matcher};
use crate::rules;

/// The namespace number of a record without a serial range.
const NO_RANGE: u32 = u32::MAX;

/// What grouping keeps of one record: 40 bytes.
#[derive(Debug, Clone, Copy)]
struct Lean {
    position: i64,
    start: u64,
    end: u64,
    project: u32,
    namespace: u32,
    /// Whether a check of this record alone can find more than [`Matcher::findings_alone`]
    /// (a retirement of a registry known complete, which no issuance may cover).
    checked_alone: bool,
}

/// The records and projects of whole groups, to be read and checked together.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Batch {
    /// Store positions of the batch's records, ascending within each group.
    pub positions: Vec<i64>,
    /// Ids of the batch's projects that rules read as projects (linked, or with records that
    /// can be conversions). The batch's other records need no project row.
    pub projects: Vec<String>,
}

/// Takes in the lean keys of every current record, then splits them into groups.
#[derive(Debug, Default)]
pub struct Grouping {
    complete_registries: BTreeSet<RegistryId>,
    records: Vec<Lean>,
    touched: Vec<bool>,
    project_numbers: HashMap<Arc<str>, u32>,
    project_ids: Vec<Arc<str>>,
    /// Per project number: has a record that can be a conversion.
    may_convert: Vec<bool>,
    namespaces: HashMap<Arc<str>, u32>,
}

impl Grouping {
    /// An empty grouping for a check with `config`.
    pub fn new(config: &MatchConfig) -> Grouping {
        Grouping {
            complete_registries: config.complete_registries.clone(),
            ..Grouping::default()
        }
    }

    /// Records taken in so far.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether no record was taken in.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    fn project_number(&mut self, id: &Arc<str>) -> u32 {
        if let Some(&n) = self.project_numbers.get(id) {
            return n;
        }
        let n = self.project_ids.len() as u32;
        self.project_numbers.insert(Arc::clone(id), n);
        self.project_ids.push(Arc::clone(id));
        self.may_convert.push(false);
        n
    }

    /// Takes in one record; `touched` when it is among what changed (its group is checked).
    pub fn add(&mut self, key: &MatchKey, touched: bool) {
        let project = self.project_number(&key.project);
        // A superset of `rules::conversion_target`'s sources, decided without the texts.
        if rules::may_convert(key.kind, key.status) {
            self.may_convert[project as usize] = true;
        }
        let (namespace, start, end) = match &key.range {
            Some((ns, start, end)) => {
                let next = self.namespaces.len() as u32;
                let n = *self.namespaces.entry(Arc::clone(ns)).or_insert(next);
                (n, *start, *end)
            }
            None => (NO_RANGE, 0, 0),
        };
        // `Matcher`'s uncovered-retirement rule, the one rule of a record alone that reads
        // the configuration.
        let checked_alone = key.range.as_ref().is_some_and(|(ns, _, _)| {
            rules::needs_cover(
                key.registry,
                rules::role_of(key.kind, key.status),
                ns,
                &self.complete_registries,
            )
        });
        self.records.push(Lean {
            position: key.position,
            start,
            end,
            project,
            namespace,
            checked_alone,
        });
        self.touched.push(touched);
    }

    /// Splits the records and `projects` (every stored project) into groups and returns the
    /// groups that hold a touched record or a project of `touched_projects` (every group
    /// when `None`), in batches of about `batch_records` records (a group is never split).
    /// A record alone in its group is left out unless its check needs the configuration:
    /// [`Matcher::findings_alone`] finds all the rest of it, from the record itself.
    pub fn batches<'a>(
        mut self,
        projects: impl IntoIterator<Item = &'a Project>,
        touched_projects: Option<&HashSet<String>>,
        batch_records: usize,
    ) -> Vec<Batch> {
        // Projects joined to others by their links, and the links themselves.
        let mut links: Vec<(u32, u32)> = Vec::new();
        let mut by_similarity: HashMap<String, u32> = HashMap::new();
        for p in projects {
            let me = self.project_number(&Arc::from(p.id()));
            for target in rules::references(p) {
                let other = self.project_number(&Arc::from(target));
                links.push((me, other));
            }
            if let Some(key) = rules::similarity_key(p) {
                match by_similarity.get(&key) {
                    Some(&first) => links.push((first, me)),
                    None => {
                        by_similarity.insert(key, me);
                    }
                }
            }
        }
        let n = self.records.len();
        let mut sets = Sets::new(n + self.project_ids.len());
        let mut reads_records = std::mem::take(&mut self.may_convert);
        reads_records.resize(self.project_ids.len(), false);
        for &(a, b) in &links {
            reads_records[a as usize] = true;
            reads_records[b as usize] = true;
            sets.union(n + a as usize, n + b as usize);
        }
        for (i, r) in self.records.iter().enumerate() {
            if reads_records[r.project as usize] {
                sets.union(i, n + r.project as usize);
            }
        }
        // Overlapping ranges, by a sweep of each namespace in serial order.
        let mut order: Vec<u32> = (0..n as u32)
            .filter(|&i| self.records[i as usize].namespace != NO_RANGE)
            .collect();
        order.sort_unstable_by_key(|&i| {
            let r = &self.records[i as usize];
            (r.namespace, r.start)
        });
        let mut run: Option<(u32, u64, usize)> = None;
        for &i in &order {
            let r = &self.records[i as usize];
            match run {
                Some((ns, max_end, first)) if ns == r.namespace && r.start <= max_end => {
                    sets.union(first, i as usize);
                    run = Some((ns, max_end.max(r.end), first));
                }
                _ => run = Some((r.namespace, r.end, i as usize)),
            }
        }
        drop(order);
        // The groups to check: those with a touched member.
        let total = sets.len();
        let mut checked = vec![touched_projects.is_none(); total];
        if touched_projects.is_some() {
            for i in 0..n {
                if self.touched[i] {
                    let root = sets.find(i);
                    checked[root] = true;
                }
            }
            for id in touched_projects.into_iter().flatten() {
                if let Some(&p) = self.project_numbers.get(id.as_str()) {
                    let root = sets.find(n + p as usize);
                    checked[root] = true;
                }
            }
        }
        // Members by group: the root is a group's smallest node, so groups come in the order
        // of their first record, and reads stay close to store order.
        let mut members: Vec<(u32, u32)> = Vec::new();
        for node in 0..total {
            let root = sets.find(node);
            if checked[root] {
                members.push((root as u32, node as u32));
            }
        }
        drop(checked);
        members.sort_unstable();
        let mut batches = Vec::new();
        let mut batch = Batch::default();
        for group in members.chunk_by(|a, b| a.0 == b.0) {
            if let [(_, only)] = group
                && (*only as usize) < n
                && !self.records[*only as usize].checked_alone
            {
                continue;
            }
            if batch.positions.len() >= batch_records {
                batches.push(std::mem::take(&mut batch));
            }
            for &(_, node) in group {
                let node = node as usize;
                if node < n {
                    batch.positions.push(self.records[node].position);
                } else if reads_records[node - n] {
                    batch
                        .projects
                        .push(self.project_ids[node - n].as_ref().to_owned());
                }
            }
        }
        if !batch.positions.is_empty() || !batch.projects.is_empty() {
            batches.push(batch);
        }
        batches
    }
}

/// Disjoint sets over `0..n`; each set's root is its smallest member.
struct Sets {
    parent: Vec<u32>,
}

impl Sets {
    fn new(n: usize) -> Sets {
        Sets {
            parent: (0..n as u32).collect(),
        }
    }

    fn len(&self) -> usize {
        self.parent.len()
    }

    fn find(&mut self, mut x: usize) -> usize {
        while self.parent[x] as usize != x {
            let grand = self.parent[self.parent[x] as usize];
            self.parent[x] = grand;
            x = grand as usize;
        }
        x
    }

    fn union(&mut self, a: usize, b: usize) {
        let (ra, rb) = (self.find(a), self.find(b));
        if ra != rb {
            let (low, high) = (ra.min(rb), ra.max(rb));
            self.parent[high] = low as u32;
        }
    }
}

/// The lean key of an in-memory record at `position`.
pub fn key_of(position: i64, credit: &CreditRecord) -> MatchKey {
    MatchKey {
        position,
        project: Arc::from(credit.project_id()),
        range: credit
            .serial_range
            .as_ref()
            .map(|r| (Arc::from(r.namespace.as_str()), r.start, r.end)),
        kind: credit.transaction_type.value,
        status: credit.status.value,
        registry: credit.registry,
        run: None,
    }
}

/// The findings of `credits` and `projects` (one statement per key): each record's
/// [`Matcher::findings_alone`], then a batch of groups of about `batch_records` records at a
/// time checked whole; the findings of [`Matcher::full`] over all of them.
pub fn findings_in_groups(
    config: &MatchConfig,
    credits: &[(CreditRecord, i64)],
    projects: &[(Project, i64)],
    batch_records: usize,
) -> BTreeMap<String, Finding> {
    let mut grouping = Grouping::new(config);
    let mut findings = BTreeMap::new();
    for (i, (c, version)) in credits.iter().enumerate() {
        grouping.add(&key_of(i as i64, c), true);
        findings.extend(
            Matcher::findings_alone(c, *version)
                .into_iter()
                .map(|f| (f.id.clone(), f)),
        );
    }
    let by_id: HashMap<String, &(Project, i64)> = projects.iter().map(|p| (p.0.id(), p)).collect();
    for batch in grouping.batches(projects.iter().map(|(p, _)| p), None, batch_records) {
        let matcher = Matcher::full(
            config.clone(),
            batch.positions.iter().map(|&i| credits[i as usize].clone()),
            batch
                .projects
                .iter()
                .filter_map(|id| by_id.get(id).map(|p| (*p).clone())),
        );
        findings.extend(matcher.into_findings());
    }
    findings
}
